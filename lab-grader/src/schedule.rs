//! The coordinator: hands jobs to `jobs` test threads, collects their output through one
//! channel, prints it in job order (streaming the running test when it is the next to
//! print), and abandons a test whose thread gives no result within the wall-clock budget
//! (and starts another thread in its place).

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::ProgressBar;

use crate::fail::Fail;
use crate::harness::{TestContext, lock};
use crate::options::Options;
use crate::report::{self, Outcome, TestRun};
use crate::stuck;
use crate::suites::TestCase;
use crate::test_run::run_test;
use crate::trace::{Header, bundle};

/// One scheduled test run.
#[derive(Clone, Copy)]
pub(crate) struct Job {
    pub(crate) case: TestCase,
    pub(crate) run: u32,
    pub(crate) run_seed: u64,
    pub(crate) test_seed: u64,
}

/// A message from a test thread to the coordinator.
enum Event {
    Started(usize, TestContext),
    Output(usize, String),
    Done(usize, Box<TestRun>),
}

/// Whether every run's capture must be exact because its record is read as it is made: the
/// live views (`--log`, `--nocapture`), the bundles of passing runs (`--trace`), and real
/// time (which cannot be replayed). Otherwise a run's capture is cheap (see
/// [`TestContext::set_exact_capture`]) and a failing run that printed is run again with an
/// exact one before anything of its record is shown.
fn exact_capture(opts: &Options) -> bool {
    opts.real_time || opts.log || opts.trace || opts.nocapture
}

/// The test thread of job `id`: runs it, forwarding its output, writes its bundle (when it
/// failed, or with `--trace`), then sends its result. `exact`: the run's capture is exact
/// (a replay alone); otherwise see [`exact_capture`]: with `--jobs 1`, a failing run that
/// printed is replayed here, with more jobs by [`replay_failures_alone`].
fn test_thread(id: usize, job: Job, opts: &Options, exact: bool, tx: mpsc::Sender<Event>) {
    let out = tx.clone();
    let printed = Arc::new(Mutex::new(String::new()));
    let copy = Arc::clone(&printed);
    let sink = Box::new(move |s: &str| {
        lock(&copy).push_str(s);
        let _ = out.send(Event::Output(id, s.to_string()));
    });
    let started = tx.clone();
    let on_start = move |t: &TestContext| {
        let _ = started.send(Event::Started(id, t.clone()));
    };
    let exact = exact || exact_capture(opts);
    let finished = run_test(job.case, job.test_seed, opts, exact, sink, on_start);
    let mut run = test_run(job, opts, finished.secs, finished.outcome);
    run.cpu_secs = finished.cpu_secs;
    run.check_cpu_secs = finished.t.grader_cpu_secs().min(run.cpu_secs);
    run.printed = finished.printed;
    run.unchecked = finished.t.unchecked();
    // The context the run prints through, and the one whose record is shown.
    let shown = finished.t;
    let mut record = shown.clone();
    if !exact && run.printed && opts.jobs <= 1 && replayable(&run) {
        if let Some(t) = replay_exact(id, job, opts, &tx, &run) {
            record = t;
        }
    }
    let recent = record.trace().recent_lines();
    run.peer_lines = recent.iter().map(|p| p.count).sum();
    if !run.passed() {
        // The peers' last lines before the failure, in the report (all of them are in the
        // bundle); a passing run shows none.
        shown.print(&report::recent_lines(&recent, opts.real_time));
    }
    if opts.keeps_bundle(job.case.name, !run.passed()) {
        let printed = lock(&printed).clone();
        run.bundle = write_bundle(&run, opts, &record, &printed);
    } else {
        run.bundle_not_kept = !run.passed();
    }
    // Nothing reads the records from here on: their memory goes back on this thread.
    shown.trace().release();
    record.trace().release();
    let _ = tx.send(Event::Done(id, Box::new(run)));
}

/// Whether a run is replayed for its record: a failure, but not one the watchdog called (a
/// replay would take its wall-clock budget again).
fn replayable(run: &TestRun) -> bool {
    failure_message(run).is_some_and(|m| !m.starts_with("no result after"))
}

/// Runs `job` again with an exact capture, for the record of `run`, a failing run whose
/// capture was cheap and that printed: the replay's context, if it failed the same way
/// (virtual time is deterministic); `None`, and a warning, if it did not.
fn replay_exact(
    id: usize,
    job: Job,
    opts: &Options,
    tx: &mpsc::Sender<Event>,
    run: &TestRun,
) -> Option<TestContext> {
    let started = tx.clone();
    let again = run_test(
        job.case,
        job.test_seed,
        opts,
        true,
        Box::new(|_: &str| {}),
        move |t: &TestContext| {
            let _ = started.send(Event::Started(id, t.clone()));
        },
    );
    let message = match &again.outcome {
        Outcome::Failed { message, .. } => Some(message.as_str()),
        Outcome::Passed(_) => None,
    };
    if message == failure_message(run) {
        Some(again.t)
    } else {
        warn_not_deterministic(run);
        None
    }
}

/// Says that `run` did not fail the same way when replayed.
fn warn_not_deterministic(run: &TestRun) {
    crate::capture::eprint_line(&format!(
        "warning: {} with seed {} did not fail the same way when replayed alone: the peer is \
         not deterministic (see docs/LAB.md, \"Staying deterministic\"); its record is the \
         first run's, and which peer printed each of its lines is a guess",
        run.name, run.run_seed
    ));
}

/// The record of job `job`'s run (no CPU time or bundle yet).
fn test_run(job: Job, opts: &Options, secs: f64, outcome: Outcome) -> TestRun {
    TestRun {
        name: job.case.name,
        go_name: job.case.go_name,
        run: job.run,
        run_seed: job.run_seed,
        test_seed: job.test_seed,
        secs,
        cpu_secs: 0.0,
        check_cpu_secs: 0.0,
        outcome,
        real_time: opts.real_time,
        bundle: None,
        peer_lines: 0,
        printed: false,
        unchecked: 0,
        bundle_not_kept: false,
    }
}

/// Writes `run`'s bundle; its path, or `None` (with a warning) if it cannot be written.
fn write_bundle(run: &TestRun, opts: &Options, t: &TestContext, printed: &str) -> Option<PathBuf> {
    let root = opts.out.clone().unwrap_or_else(bundle::default_root);
    let k = (opts.runs > 1).then_some(run.run);
    let dir = root.join(bundle::dir_name(run.name, run.run_seed, k));
    let header = Header {
        name: run.name.to_string(),
        go_name: run.go_name.to_string(),
        title: t.title().to_string(),
        seed: run.run_seed,
        test_seed: run.test_seed,
        peers: 0,
        real_time: opts.real_time,
        truncated: 0,
    };
    let events = t.trace().jsonl(&header);
    let run = TestRun {
        bundle: Some(dir.clone()),
        ..run.clone()
    };
    let flags = opts.replay_flags();
    let mut report = printed.to_string();
    report.push_str(&report::failure_block_from(
        &run,
        &flags,
        opts.choices_file.as_deref(),
    ));
    let replay = if opts.real_time {
        "not available: real-time runs are not reproducible (the clock, not the seed, decided \
         the schedule); the events file and the report show what happened\n"
            .to_string()
    } else if let Some(file) = &opts.choices_file {
        format!(
            "{}\nfrom its recorded choices: {}\n",
            report::choices_command(file, &flags),
            report::choices_command(&dir.join("choices.json"), &flags)
        )
    } else {
        format!(
            "{}\nfrom its recorded choices: {}\n",
            report::replay_command(run.name, run.run_seed, &flags),
            report::choices_command(&dir.join("choices.json"), &flags)
        )
    };
    let choices = (!opts.real_time).then(|| {
        crate::shrink::ChoicesFile {
            schema: crate::shrink::file::SCHEMA,
            test: run.name.to_string(),
            seed: run.run_seed,
            test_seed: run.test_seed,
            choices: t.choices().recorded(),
        }
        .to_text()
    });
    let backtrace = match &run.outcome {
        Outcome::Failed { backtrace, .. } => backtrace.as_deref(),
        Outcome::Passed(_) => None,
    };
    let files = bundle::Files {
        report: &report,
        replay: &replay,
        events: &events,
        backtrace,
        choices: choices.as_deref(),
    };
    match bundle::write(&dir, &files) {
        Ok(()) => Some(dir),
        Err(e) => {
            crate::capture::eprint_line(&format!(
                "warning: cannot write the bundle {}: {e}",
                dir.display()
            ));
            None
        }
    }
}

/// The test threads: each takes the next job handed out, runs it, and takes another, until
/// the coordinator has no more (issue 28: a thread per run cost a thread's start and exit per
/// run, and in a stress run left a core idle while the coordinator woke to start the next;
/// `--jobs 2` kept 1.67 of the 2 cores busy, `--jobs 3` 1.93).
struct Workers {
    queue: flume::Sender<(usize, Job)>,
    jobs: flume::Receiver<(usize, Job)>,
    /// Per job: the coordinator gave it up (a thread in its place runs the next jobs; should
    /// the stuck one ever finish, it stops there).
    abandoned: Arc<Vec<AtomicBool>>,
    opts: Options,
    exact: bool,
    events: mpsc::Sender<Event>,
}

impl Workers {
    /// Starts one more test thread.
    fn spawn(&self) -> io::Result<()> {
        let (jobs, opts, exact, events) = (
            self.jobs.clone(),
            self.opts.clone(),
            self.exact,
            self.events.clone(),
        );
        let abandoned = Arc::clone(&self.abandoned);
        std::thread::Builder::new()
            .name("test".to_string())
            .spawn(move || {
                while let Ok((id, job)) = jobs.recv() {
                    test_thread(id, job, &opts, exact, events.clone());
                    if abandoned.get(id).is_some_and(|a| a.load(Ordering::Acquire)) {
                        return;
                    }
                }
            })?;
        Ok(())
    }

    /// Gives up the jobs `ids` (their threads are stuck) and starts a thread for each.
    fn replace(&self, ids: &[usize]) -> io::Result<()> {
        for &id in ids {
            if let Some(a) = self.abandoned.get(id) {
                a.store(true, Ordering::Release);
            }
            self.spawn()?;
        }
        Ok(())
    }
}

/// Default wall-clock budgets per test.
pub(crate) const VIRTUAL_BUDGET: Duration = Duration::from_secs(120);
const REAL_BUDGET: Duration = Duration::from_secs(180);
/// In virtual time, one poll of a task (or one call into a peer) that has not returned after
/// this long blocks the test's only thread for good: the test is stuck, and is given up
/// before its budget. (A poll of correct code takes microseconds, a call milliseconds; in
/// real time nothing is given up early, since a slow peer may still be correct.)
pub(crate) const STUCK_POLL: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Slot {
    buf: String,
    deadline: Option<Instant>,
    result: Option<TestRun>,
    t: Option<TestContext>,
    /// The hung-runtime watchdog of a virtual-time test, and whether it found it hung.
    watch: stuck::Watch,
    hung: bool,
    /// What the running test printed so far, for the bundle of a run the watchdog abandons.
    printed: String,
}

#[allow(clippy::disallowed_methods)] // the watchdog needs the wall clock, by design
fn wall_now() -> Instant {
    Instant::now()
}

fn progress_bar(opts: &Options, total: usize) -> ProgressBar {
    let target = crate::capture::progress_target();
    if !opts.progress || opts.runs <= 1 || target.is_hidden() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(u64::try_from(total).unwrap_or(u64::MAX)), target);
    bar.set_message("tests");
    bar
}

struct Coordinator<'a> {
    jobs: &'a [Job],
    opts: &'a Options,
    slots: Vec<Slot>,
    /// The jobs started and not finished (at most `jobs` of them): what the coordinator
    /// looks at between messages, so that its cost per message does not grow with the
    /// number of jobs (a stress run has tens of thousands).
    running: Vec<usize>,
    next_print: usize,
    bar: ProgressBar,
    /// An apply error ended the run: Go's appliers exit the whole test binary, so no further
    /// test starts (spec 9.6). Only in a single run; a `--runs` stress run goes on, as each of
    /// its runs stands for a separate `go test` invocation.
    stopped: bool,
}

impl Coordinator<'_> {
    fn finish(&mut self, id: usize, run: TestRun) {
        if self.opts.runs <= 1
            && !self.opts.keep_going
            && matches!(
                run.outcome,
                Outcome::Failed {
                    apply_error: true,
                    ..
                }
            )
        {
            self.stopped = true;
        }
        let slot = &mut self.slots[id];
        slot.buf.push_str(&report::failure_block_from(
            &run,
            &self.opts.replay_flags(),
            self.opts.choices_file.as_deref(),
        ));
        if let (true, Some(b)) = (run.passed(), &run.bundle) {
            slot.buf
                .push_str(&format!("    bundle: {}\n", report::bundle_path(b)));
        }
        slot.result = Some(run);
        self.running.retain(|&i| i != id);
        self.bar.inc(1);
    }

    /// Gives up the tests past their budget, and in virtual time those whose runtime is hung
    /// (see [`stuck::Watch`]) or whose only thread is blocked in one poll for [`STUCK_POLL`]
    /// (where the watchdog cannot read the thread's state).
    /// Returns the jobs given up (each had begun: its thread is lost to the pool).
    fn expire(&mut self, budget: Duration) -> Vec<usize> {
        let now = wall_now();
        let blocked = |slot: &Slot| {
            !self.opts.real_time
                && slot.t.as_ref().is_some_and(|t| {
                    t.panics()
                        .doing_now()
                        .0
                        .iter()
                        .any(|(_, d)| *d >= STUCK_POLL)
                })
        };
        let expired: Vec<usize> = (0..self.slots.len())
            .filter(|&i| self.slots[i].result.is_none())
            .filter(|&i| {
                let slot = &self.slots[i];
                slot.deadline.is_some_and(|d| d <= now) || slot.hung || blocked(slot)
            })
            .collect();
        for &id in &expired {
            let slot = &self.slots[id];
            let waited = slot.deadline.map_or(budget, |d| {
                budget.saturating_sub(d.saturating_duration_since(now))
            });
            let known = slot
                .t
                .as_ref()
                .map(|t| {
                    // Its thread is abandoned: what it prints from now on is no test's.
                    crate::panics::register_test(t, false);
                    // A poll blocked for STUCK_POLL in a thread the watchdog saw asleep: the
                    // same report as a hung runtime's, with what the thread waits on.
                    if slot.hung || slot.watch.saw_asleep() {
                        stuck::what_hangs(t, &slot.watch)
                    } else {
                        stuck::what_is_known(t, self.opts.real_time)
                    }
                })
                .unwrap_or_default();
            let fail = Fail::Stuck {
                secs: waited.as_secs(),
                known,
            };
            // An abandoned thread's CPU time cannot be read from here: recorded as zero.
            let outcome = Outcome::failed(&fail.to_string());
            let mut run = test_run(self.jobs[id], self.opts, waited.as_secs_f64(), outcome);
            self.abandoned_bundle(id, &mut run);
            self.finish(id, run);
        }
        expired
    }

    /// The bundle of a run the watchdog abandons (`run`, failed with the watchdog's report):
    /// what its record holds up to now (the events up to the hang, then the failure) and what
    /// it printed, written here since its own thread will not; counted under
    /// `--keep-bundles` like any failing run's.
    fn abandoned_bundle(&mut self, id: usize, run: &mut TestRun) {
        let printed = std::mem::take(&mut self.slots[id].printed);
        let Some(t) = self.slots[id].t.clone() else {
            return;
        };
        if !self.opts.keeps_bundle(run.name, true) {
            run.bundle_not_kept = true;
            return;
        }
        if let Outcome::Failed { message, .. } = &run.outcome {
            // Unless the record is busy (its thread may hang holding it).
            t.try_note(crate::trace::Event::Failure {
                message: message.clone(),
            });
        }
        run.bundle = write_bundle(run, self.opts, &t, &printed);
    }

    /// Writes everything printable in job order (only in single-run mode).
    fn flush(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.opts.runs > 1 {
            return Ok(());
        }
        while let Some(slot) = self.slots.get_mut(self.next_print) {
            out.write_all(slot.buf.as_bytes())?;
            slot.buf.clear();
            if slot.result.is_none() {
                break;
            }
            self.next_print += 1;
        }
        out.flush()
    }
}

/// At most this many failing runs of one run are replayed alone (see
/// [`replay_failures_alone`]).
const MAX_REPLAYS: usize = 10;

/// Makes again, from a replay of its seed alone, the bundle of each failing virtual-time run
/// of a run that ran several tests at once (`--jobs`, at most [`MAX_REPLAYS`]): tests running
/// side by side share the process's output, so which peer printed a line is only exact when a
/// test runs alone. The replay must fail with the same message (virtual time is
/// deterministic); if it does not, the peer is not deterministic, the bundle stays the first
/// run's, and a warning says so.
pub(crate) fn replay_failures_alone(jobs: &[Job], runs: &mut [TestRun], opts: &Options) {
    if opts.real_time || opts.jobs <= 1 {
        return;
    }
    // A run whose peers printed nothing has nothing to put in a lane; a stuck run is not
    // replayed: it would take its wall-clock budget again.
    let failed = runs
        .iter_mut()
        .filter(|r| r.bundle.is_some() && (r.peer_lines > 0 || r.printed))
        .filter(|r| replayable(r))
        .take(MAX_REPLAYS);
    for run in failed {
        let (Some(bundle), Some(job)) = (
            run.bundle.clone(),
            jobs.iter()
                .find(|j| j.run == run.run && j.case.name == run.name),
        ) else {
            continue;
        };
        let scratch = bundle.with_extension("replay");
        let alone = Options {
            jobs: 1,
            progress: false,
            log: false,
            nocapture: false,
            out: Some(scratch.clone()),
            // It replaces a bundle kept already.
            keep_bundles: Some(usize::MAX),
            bundles: crate::options::BundleTally::default(),
            ..opts.clone()
        };
        let replayed = execute(std::slice::from_ref(job), &alone, true, &mut io::sink());
        let same = replayed
            .ok()
            .and_then(|r| r.into_iter().next())
            .is_some_and(|r| failure_message(&r) == failure_message(run));
        let made = bundle.file_name().map(|name| scratch.join(name));
        match made {
            Some(made) if same && made.is_dir() => {
                let _ = std::fs::remove_dir_all(&bundle);
                if std::fs::rename(&made, &bundle).is_err() {
                    crate::capture::eprint_line(&format!(
                        "warning: cannot move the bundle of the replay of {} to {}",
                        run.name,
                        bundle.display()
                    ));
                }
            }
            _ => warn_not_deterministic(run),
        }
        let _ = std::fs::remove_dir_all(&scratch);
    }
}

fn failure_message(run: &TestRun) -> Option<&str> {
    match &run.outcome {
        Outcome::Failed { message, .. } => Some(message),
        Outcome::Passed(_) => None,
    }
}

/// Runs every job and returns the runs in job order.
/// `exact`: every run's capture is exact (see [`exact_capture`]).
pub(crate) fn execute(
    jobs: &[Job],
    opts: &Options,
    exact: bool,
    out: &mut dyn Write,
) -> io::Result<Vec<TestRun>> {
    let budget = opts.watchdog.unwrap_or(if opts.real_time {
        REAL_BUDGET
    } else {
        VIRTUAL_BUDGET
    });
    let (tx, rx) = mpsc::channel();
    let (queue, queued) = flume::unbounded();
    let workers = Workers {
        queue,
        jobs: queued,
        abandoned: Arc::new(jobs.iter().map(|_| AtomicBool::new(false)).collect()),
        opts: opts.clone(),
        exact,
        events: tx,
    };
    let threads = opts.jobs.max(1).min(jobs.len());
    for _ in 0..threads {
        workers.spawn()?;
    }
    // In a stress run one job more than the threads waits in the queue, so that a thread
    // that finishes takes the next at once; a single run hands out a job only when a thread
    // is free (an apply error there stops what has not started).
    let in_flight = threads + usize::from(opts.runs > 1);
    let mut c = Coordinator {
        jobs,
        opts,
        slots: jobs.iter().map(|_| Slot::default()).collect(),
        running: Vec::new(),
        next_print: 0,
        bar: progress_bar(opts, jobs.len()),
        stopped: false,
    };
    let mut next_start = 0;
    let mut last_look = wall_now();
    loop {
        while !c.stopped && c.running.len() < in_flight && next_start < jobs.len() {
            let id = next_start;
            // Its budget starts when its thread takes it (`Started`).
            if workers.queue.send((id, jobs[id])).is_err() {
                break;
            }
            c.running.push(id);
            next_start += 1;
        }
        if c.running.is_empty() {
            break;
        }
        let nearest = c
            .running
            .iter()
            .filter_map(|&i| c.slots[i].deadline)
            .min()
            .unwrap_or_else(|| wall_now() + budget);
        // Look every second at what each test is inside of: how long a poll has run is
        // measured so (and in virtual time, a poll blocked for STUCK_POLL ends its test),
        // even while other tests keep sending output.
        if wall_now().saturating_duration_since(last_look) >= Duration::from_secs(1) {
            last_look = wall_now();
            for slot in c.slots.iter_mut().filter(|s| s.result.is_none()) {
                if let Some(t) = &slot.t {
                    t.panics().doing_now();
                    slot.hung = slot.watch.look(t);
                }
            }
            workers.replace(&c.expire(budget))?;
        }
        let wait = nearest
            .saturating_duration_since(wall_now())
            .min(Duration::from_secs(1));
        match rx.recv_timeout(wait) {
            Ok(Event::Started(id, t)) => {
                let slot = &mut c.slots[id];
                slot.t = Some(t);
                slot.watch = stuck::Watch::default();
                // A replay of a failing run (`--jobs 1`) starts again within the budget.
                slot.deadline.get_or_insert_with(|| wall_now() + budget);
            }
            Ok(Event::Output(id, text)) => {
                if c.slots[id].result.is_none() {
                    c.slots[id].buf.push_str(&text);
                    c.slots[id].printed.push_str(&text);
                }
            }
            Ok(Event::Done(id, run)) => {
                c.slots[id].t = None;
                c.slots[id].printed = String::new();
                if c.slots[id].result.is_none() {
                    c.finish(id, *run);
                }
            }
            Err(RecvTimeoutError::Timeout) => workers.replace(&c.expire(budget))?,
            Err(RecvTimeoutError::Disconnected) => break,
        }
        c.flush(out)?;
    }
    c.bar.finish_and_clear();
    c.flush(out)?;
    if c.stopped && next_start < jobs.len() {
        writeln!(
            out,
            "apply error: {} test(s) not run (Go's harness exits the test binary on an apply error)",
            jobs.len() - next_start
        )?;
    }
    Ok(c.slots.into_iter().filter_map(|s| s.result).collect())
}
