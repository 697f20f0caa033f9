//! Shrinking a failing run of a test: the candidates' runs (each a replay of its choices in
//! virtual time), the shrunk run's bundle beside the original, the summary, and the
//! `grader shrink BUNDLE` command.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Parser;
use labrpc_sim::{Recorded, Stream};

use super::{Attempt, ChoicesFile, Search, file::SCHEMA};
use crate::harness::TestContext;
use crate::options::Options;
use crate::report::{self, Outcome, TestRun};
use crate::schedule::Job;
use crate::suites::TestCase;
use crate::test_run::run_test;
use crate::trace::{Header, bundle};

/// At most this many failing runs of one grader run are shrunk (the first ones).
const MAX_SHRINKS: usize = 3;

/// Runs `case` from `choices` (no output, a cheap capture); the attempt and the run's context.
fn attempt(
    case: TestCase,
    test_seed: u64,
    opts: &Options,
    choices: &Recorded,
    exact: bool,
    sink: crate::harness::Sink,
    on_start: impl FnOnce(&TestContext),
) -> (Attempt, f64, TestContext) {
    let opts = Options {
        choices: Some(Arc::new(choices.clone())),
        ..opts.clone()
    };
    let finished = run_test(case, test_seed, &opts, exact, sink, on_start);
    let t = finished.t;
    let message = match &finished.outcome {
        Outcome::Failed { message, .. } => Some(message.clone()),
        Outcome::Passed(_) => None,
    };
    let faults = [Stream::Test, Stream::Explore, Stream::Network]
        .iter()
        .map(|s| (*s, t.choices().faults(*s)))
        .collect();
    let drawn = t.choices().recorded();
    let kinds = drawn
        .streams()
        .into_iter()
        .map(|s| (s, t.choices().bounds(s)))
        .collect();
    let a = Attempt {
        drawn,
        faults,
        kinds,
        message,
        micros: (finished.secs * 1e6) as u64,
        events: t.trace().count(),
    };
    (a, finished.secs, t)
}

/// A candidate's run that the watchdog gave up: its runtime hung, one poll blocked its thread,
/// or it ran past the test's wall-clock budget. Its thread is abandoned.
#[derive(Debug)]
struct GaveUp;

/// What a watched candidate's thread sends.
enum Watched {
    Started(TestContext),
    Done(Box<(Attempt, f64, TestContext)>),
}

#[allow(clippy::disallowed_methods)] // the watchdog needs the wall clock, by design
fn wall_now() -> std::time::Instant {
    std::time::Instant::now()
}

/// [`attempt`] on a thread of its own, watched as the scheduler watches a test (the
/// hung-runtime watchdog, a poll blocked for [`crate::schedule::STUCK_POLL`], the budget of
/// [`crate::schedule::VIRTUAL_BUDGET`]): a candidate can hang where the original run did not
/// (a peer that deadlocks under another schedule), and shrinking must not hang with it.
fn watched_attempt(
    case: TestCase,
    test_seed: u64,
    opts: &Options,
    choices: &Recorded,
    exact: bool,
    sink: crate::harness::Sink,
) -> Result<(Attempt, f64, TestContext), GaveUp> {
    let (tx, rx) = std::sync::mpsc::channel();
    let started = tx.clone();
    let (opts, choices) = (opts.clone(), choices.clone());
    std::thread::Builder::new()
        .name(format!("shrink {}", case.name))
        .spawn(move || {
            let on_start = move |t: &TestContext| {
                let _ = started.send(Watched::Started(t.clone()));
            };
            let done = attempt(case, test_seed, &opts, &choices, exact, sink, on_start);
            let _ = tx.send(Watched::Done(Box::new(done)));
        })
        .map_err(|_| GaveUp)?;
    let deadline = wall_now() + crate::schedule::VIRTUAL_BUDGET;
    let mut context: Option<TestContext> = None;
    let mut watch = crate::stuck::Watch::default();
    loop {
        match rx.recv_timeout(std::time::Duration::from_secs(1)) {
            Ok(Watched::Started(t)) => context = Some(t),
            Ok(Watched::Done(done)) => return Ok(*done),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let past = wall_now() >= deadline;
                let stuck = context.as_ref().is_some_and(|t| {
                    let blocked = t
                        .panics()
                        .doing_now()
                        .0
                        .iter()
                        .any(|(_, d)| *d >= crate::schedule::STUCK_POLL);
                    watch.look(t) || blocked
                });
                if past || stuck {
                    if let Some(t) = &context {
                        // Its thread is abandoned: what it prints from now on is no test's.
                        crate::panics::register_test(t, false);
                    }
                    return Err(GaveUp);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Err(GaveUp),
        }
    }
}

/// What a run's events show of its faults and its size.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    /// Requests and replies dropped.
    pub drops: usize,
    /// Replies held back by long reordering.
    pub reorders: usize,
    /// Peers crashed.
    pub crashes: usize,
    /// Peers disconnected.
    pub disconnects: usize,
    /// Events in the record.
    pub events: usize,
    /// Virtual seconds to the last event.
    pub secs: f64,
}

impl Stats {
    /// The stats of an events file's text.
    pub fn of(events: &str) -> Stats {
        let count = |needle: &str| events.lines().filter(|l| l.contains(needle)).count();
        let last_t = events
            .lines()
            .last()
            .and_then(|l| l.strip_prefix("{\"t\":"))
            .and_then(|l| l.split(',').next())
            .and_then(|t| t.parse::<u64>().ok())
            .unwrap_or(0);
        Stats {
            drops: count("\"stage\":\"request_dropped\"") + count("\"stage\":\"reply_dropped\""),
            reorders: count("\"stage\":\"reordered\""),
            crashes: count("\"action\":\"crash\""),
            disconnects: count("\"action\":\"disconnect\""),
            events: events.lines().count().saturating_sub(1),
            secs: last_t as f64 / 1e6,
        }
    }

    /// "412 drops and 6 crashes" (the faults it has), or "no faults".
    pub fn faults(&self) -> String {
        let parts: Vec<String> = [
            (self.drops, "drop"),
            (self.reorders, "reordering"),
            (self.crashes, "crash"),
            (self.disconnects, "disconnection"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| {
            let plural = match (*n, *what) {
                (1, _) => String::new(),
                (_, "crash") => "es".to_string(),
                _ => "s".to_string(),
            };
            format!("{} {what}{plural}", thousands(*n))
        })
        .collect();
        match parts.len() {
            0 => "no faults".to_string(),
            1 => parts[0].clone(),
            _ => format!(
                "{} and {}",
                parts[..parts.len() - 1].join(", "),
                parts[parts.len() - 1]
            ),
        }
    }
}

/// 5210 as "5,210".
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What a shrink did.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The original run's stats.
    pub before: Stats,
    /// The shrunk run's stats.
    pub after: Stats,
    /// Choices drawn: original, shrunk.
    pub choices: (usize, usize),
    /// Attempts made, and how many were kept.
    pub attempts: (u32, u32),
    /// Wall seconds the shrink took.
    pub wall_secs: f64,
    /// The shrunk run's bundle (`<bundle>/shrunk`).
    pub dir: PathBuf,
    /// The shrunk run's failure message.
    pub message: String,
    /// Whether a replay of the shrunk choices failed the same way (it must: virtual time is
    /// deterministic).
    pub replayed_same: bool,
}

impl Shrunk {
    /// "412 drops and 6 crashes -> 3 drops and 1 crash; 31.8 s -> 2.1 s virtual; 5,210 -> 214
    /// events".
    pub fn summary(&self) -> String {
        format!(
            "{} -> {}; {:.1} s -> {:.1} s virtual; {} -> {} events",
            self.before.faults(),
            self.after.faults(),
            self.before.secs,
            self.after.secs,
            thousands(self.before.events),
            thousands(self.after.events)
        )
    }
}

/// The bundle's events header of a run.
fn header(case: &TestCase, t: &TestContext, file: &ChoicesFile) -> Header {
    Header {
        name: case.name.to_string(),
        go_name: case.go_name.to_string(),
        title: t.title().to_string(),
        seed: file.seed,
        test_seed: file.test_seed,
        peers: 0,
        real_time: false,
        truncated: 0,
    }
}

/// Shrinks the failing run of `case` that `file` records, whose bundle is `bundle` (where the
/// shrunk run goes, in `shrunk/`): `attempts` at most, with a progress bar; writes the summary
/// to `out`. `None` if the recorded run does not fail.
pub fn shrink_bundle(
    case: TestCase,
    file: &ChoicesFile,
    bundle: &Path,
    opts: &Options,
    attempts: u32,
    out: &mut dyn Write,
) -> io::Result<Option<Shrunk>> {
    #[allow(clippy::disallowed_methods)] // wall-clock figure for the report only
    let wall0 = std::time::Instant::now();
    let opts = Options {
        trace: false,
        log: false,
        nocapture: false,
        real_time: false,
        runs: 1,
        ..opts.clone()
    };
    let quiet = || -> crate::harness::Sink { Box::new(|_: &str| {}) };
    let Ok((first, _, t0)) =
        watched_attempt(case, file.test_seed, &opts, &file.choices, false, quiet())
    else {
        writeln!(
            out,
            "  {}: the recorded run did not finish (the watchdog gave it up): not shrunk",
            case.name
        )?;
        return Ok(None);
    };
    let before_events = t0.trace().jsonl(&header(&case, &t0, file));
    t0.trace().release();
    let Some(message0) = first.message.clone() else {
        writeln!(
            out,
            "  {}: the recorded run passes: nothing to shrink",
            case.name
        )?;
        return Ok(None);
    };
    let faults0 = first.fault_count();
    let bar = progress(&opts, attempts, case.name);
    // After a candidate hangs, no more are run (its thread may still burn CPU): the search
    // ends with the smallest failing run found so far.
    let mut hung = false;
    let mut run = |c: &Recorded| {
        let gave_up = || Attempt {
            drawn: c.clone(),
            faults: Vec::new(),
            kinds: Vec::new(),
            message: Some("a candidate run hung: the watchdog gave it up".to_string()),
            micros: u64::MAX,
            events: u64::MAX,
        };
        if hung {
            return gave_up();
        }
        match watched_attempt(case, file.test_seed, &opts, c, false, quiet()) {
            Ok((a, _, _)) => a,
            Err(GaveUp) => {
                hung = true;
                gave_up()
            }
        }
    };
    let show = |s: &Search<'_>| {
        bar.set_position(u64::from(s.made));
        bar.set_message(format!(
            "{}: faults {faults0} -> {}",
            case.name,
            s.best.fault_count()
        ));
    };
    let Some(mut search) = Search::new(first.clone(), attempts, &mut run, &show) else {
        return Ok(None);
    };
    search.shrink();
    bar.finish_and_clear();
    let (best, made, kept) = (search.best.clone(), search.made, search.accepted);
    drop(search);
    if kept == 0 {
        // Nothing smaller fails the same way: the bundle stays as it was, one line says so.
        let why = if hung {
            "the search stopped: a candidate run hung (the watchdog gave it up)".to_string()
        } else if made == 0 {
            "its run has no faults to remove".to_string()
        } else {
            format!("no smaller run fails the same way ({made} attempts)")
        };
        writeln!(out, "  {}: not shrunk: {why}", case.name)?;
        return Ok(None);
    }
    // The shrunk run again, with an exact capture, for its record.
    let printed = Arc::new(std::sync::Mutex::new(String::new()));
    let copy = Arc::clone(&printed);
    let sink: crate::harness::Sink = Box::new(move |s: &str| {
        crate::harness::lock(&copy).push_str(s);
    });
    let Ok((last, secs, t)) = watched_attempt(case, file.test_seed, &opts, &best.drawn, true, sink)
    else {
        writeln!(
            out,
            "  {}: the shrunk run did not finish when run again (the watchdog gave it up): \
             the peer is not deterministic; nothing written",
            case.name
        )?;
        return Ok(None);
    };
    let same =
        last.message.as_deref().map(super::Signature::of) == Some(super::Signature::of(&message0));
    let shrunk_file = ChoicesFile {
        schema: SCHEMA,
        test: file.test.clone(),
        seed: file.seed,
        test_seed: file.test_seed,
        choices: last.drawn.clone(),
    };
    let events = t.trace().jsonl(&header(&case, &t, file));
    t.trace().release();
    let dir = bundle.join("shrunk");
    let flags = opts.replay_flags();
    let replay = format!(
        "{}\n",
        report::choices_command(&dir.join("choices.json"), &flags)
    );
    let run = TestRun {
        name: case.name,
        go_name: case.go_name,
        run: 0,
        run_seed: file.seed,
        test_seed: file.test_seed,
        secs,
        cpu_secs: 0.0,
        check_cpu_secs: 0.0,
        outcome: Outcome::failed(last.message.as_deref().unwrap_or("(passed)")),
        real_time: false,
        bundle: Some(dir.clone()),
        peer_lines: 0,
        printed: false,
        unchecked: 0,
        bundle_not_kept: false,
    };
    let mut report_text = crate::harness::lock(&printed).clone();
    report_text.push_str(&report::failure_block(&run, &flags));
    let _ = writeln!(
        report_text,
        "    replay the shrunk run: {}",
        replay.trim_end()
    );
    let choices_text = shrunk_file.to_text();
    let files = bundle::Files {
        report: &report_text,
        replay: &replay,
        events: &events,
        backtrace: None,
        choices: Some(&choices_text),
    };
    bundle::write(&dir, &files)?;
    let shrunk = Shrunk {
        before: Stats::of(&before_events),
        after: Stats::of(&events),
        choices: (first.drawn.len(), last.drawn.len()),
        attempts: (made, kept),
        wall_secs: wall0.elapsed().as_secs_f64(),
        dir: dir.clone(),
        message: last.message.unwrap_or_default(),
        replayed_same: same,
    };
    // The timeline opens on the shrunk run; the original's stays beside it.
    let original = bundle.join("timeline-original.html");
    if !original.exists() {
        let _ = std::fs::rename(bundle.join("timeline.html"), &original);
    }
    let _ = std::fs::copy(dir.join("timeline.html"), bundle.join("timeline.html"));
    // Each page links to the other run's.
    link_timeline(
        &bundle.join("timeline.html"),
        "the shrunk run",
        "timeline-original.html",
        "the original run",
    );
    link_timeline(
        &dir.join("timeline.html"),
        "the shrunk run",
        "../timeline-original.html",
        "the original run",
    );
    link_timeline(
        &original,
        "the original run",
        "timeline.html",
        "the shrunk run",
    );
    let summary = format!(
        "shrunk {} (seed {}) in {:.1} s of wall time, {made} attempts ({kept} kept):\n  {}\n  \
         the shrunk run: {} (timeline.html of the bundle shows it; the original's is \
         timeline-original.html)\n  replay it: {}\n{}",
        case.name,
        file.seed,
        shrunk.wall_secs,
        shrunk.summary(),
        report::bundle_path(&dir),
        replay.trim_end(),
        if same {
            String::new()
        } else {
            "  warning: the shrunk run's replay did not fail the same way: the peer is not \
             deterministic\n"
                .to_string()
        }
    );
    let summary = if hung {
        format!(
            "{summary}  note: the search stopped early: a candidate run hung (the watchdog gave \
             it up), so the peer can also hang under some schedule; the run above is the smallest \
             failing one found before\n"
        )
    } else {
        summary
    };
    std::fs::write(bundle.join("shrink.txt"), &summary)?;
    for line in summary.lines() {
        writeln!(out, "  {line}")?;
    }
    Ok(Some(shrunk))
}

/// Puts at the top of the timeline page `page` a line saying it shows `this`, with a link to
/// the page of `other` at `href` (relative to it). A page that cannot be read or written is
/// left as it was (the timeline is a view; the run's files are what count).
fn link_timeline(page: &Path, this: &str, href: &str, other: &str) {
    let Ok(html) = std::fs::read_to_string(page) else {
        return;
    };
    if html.contains("id=\"shrink-link\"") {
        return;
    }
    let line = format!(
        "<body>\n<p id=\"shrink-link\" style=\"margin:4px 8px;font:13px sans-serif\">This is \
         {this} of a shrunk failure; see <a href=\"{href}\">{other}</a>.</p>"
    );
    let _ = std::fs::write(page, html.replacen("<body>", &line, 1));
}

/// The shrink's progress bar (drawn on a terminal only).
fn progress(opts: &Options, attempts: u32, name: &str) -> indicatif::ProgressBar {
    let target = crate::capture::progress_target();
    if !opts.progress || target.is_hidden() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(Some(u64::from(attempts)), target);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("shrinking [{bar:30}] {pos}/{len} attempts  {msg}")
    {
        bar.set_style(style);
    }
    bar.set_message(name.to_string());
    bar
}

/// Shrinks the failing virtual-time runs of `runs` (at most [`MAX_SHRINKS`]) whose bundles
/// hold their choices, `attempts` each, writing each summary to `out`.
pub(crate) fn shrink_failures(
    jobs: &[Job],
    runs: &[TestRun],
    opts: &Options,
    attempts: u32,
    out: &mut dyn Write,
) -> io::Result<()> {
    if opts.real_time {
        return Ok(());
    }
    let failed = runs
        .iter()
        .filter(|r| !r.passed())
        .filter(|r| match &r.outcome {
            Outcome::Failed { message, .. } => !message.starts_with("no result after"),
            Outcome::Passed(_) => false,
        })
        .filter_map(|r| Some((r, r.bundle.clone()?)))
        .take(MAX_SHRINKS);
    for (run, bundle) in failed {
        let Some(job) = jobs
            .iter()
            .find(|j| j.run == run.run && j.case.name == run.name)
        else {
            continue;
        };
        let Ok(file) = ChoicesFile::read(&bundle) else {
            continue;
        };
        let case = job.case;
        let mut text = Vec::new();
        let opts = opts.clone();
        std::thread::scope(|scope| {
            scope
                .spawn(|| shrink_bundle(case, &file, &bundle, &opts, attempts, &mut text))
                .join()
                .unwrap_or(Ok(None))
        })?;
        out.write_all(&text)?;
    }
    Ok(())
}

/// `grader shrink BUNDLE`: shrinks the failing run a bundle holds.
#[derive(Parser, Debug)]
#[command(
    name = "grader shrink",
    // The run flags, worded for the run being shrunk.
    mut_arg("implementation", |a| a.help(
        "The Raft the run was of (as for a plain run: `reference`, `student`, `alt`)"
    )),
    mut_arg("kv", |a| a.help("The Lab 4 layer the run was of")),
    mut_arg("no_invariants", |a| a.help("The run was without the continuous safety checks")),
    mut_arg("strict", |a| a.help("The run was in strict mode")),
)]
pub struct ShrinkCli {
    /// The bundle of a failing virtual-time run (`target/grader/<test>-seed<S>`), or its
    /// `choices.json`.
    #[arg(value_name = "BUNDLE")]
    pub bundle: PathBuf,
    /// How many candidate runs the search may make.
    #[arg(long, value_name = "N", default_value_t = super::DEFAULT_ATTEMPTS)]
    pub shrink_attempts: u32,
    /// The flags of the run: `--impl`, `--kv`, `--no-invariants`, `--strict`.
    #[command(flatten)]
    pub run: crate::run_flags::RunFlags,
}

/// Runs `shrink` (args from `shrink` on) on the suite's tests; the exit status: 0 when the run
/// was shrunk, 1 when it does not fail or nothing smaller fails the same way, 2 on a usage
/// error.
pub fn main_with_suite(suite: fn() -> Vec<TestCase>, args: &[String], out: &mut dyn Write) -> i32 {
    let cli = match ShrinkCli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            crate::capture::print_clap_error(&e, out);
            return e.exit_code();
        }
    };
    let file = match ChoicesFile::read(&cli.bundle) {
        Ok(f) => f,
        Err(e) => {
            crate::capture::eprint_line(&format!("error: {e}"));
            return 2;
        }
    };
    let Some(case) = suite().into_iter().find(|c| c.name == file.test) else {
        crate::capture::eprint_line(&format!("error: this grader has no test {}", file.test));
        return 2;
    };
    let bundle = if cli.bundle.is_dir() {
        cli.bundle.clone()
    } else {
        cli.bundle
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    let opts = Options {
        seed: file.seed,
        progress: true,
        ..cli.run.options()
    };
    match shrink_bundle(case, &file, &bundle, &opts, cli.shrink_attempts, out) {
        Ok(Some(_)) => 0,
        Ok(None) => 1,
        Err(e) => {
            crate::capture::eprint_line(&format!("error: cannot write the shrunk run: {e}"));
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fail::Fail;
    use crate::suites::{Part, TestFuture};

    /// Fails when its one test choice is a fault, and otherwise blocks its runtime's only
    /// thread for good: the first candidate of a search (that choice zeroed) hangs.
    fn fails_or_hangs(t: TestContext) -> TestFuture {
        Box::pin(async move {
            if t.choices().chance_with(Stream::Test, 1, 2, |_| 0) {
                return Err(Fail::NoLeader);
            }
            std::thread::sleep(std::time::Duration::from_secs(3600));
            Ok(())
        })
    }

    #[test]
    fn a_candidate_that_hangs_is_given_up_and_the_search_stops() {
        let case = TestCase {
            part: Part::Extra,
            name: "fails_or_hangs_x",
            go_name: "TestFailsOrHangs",
            title: "Test: fails or hangs",
            body: fails_or_hangs,
        };
        let opts = Options {
            progress: false,
            ..Options::default()
        };
        // The recorded run: its one test choice a fault (1 of 0..=1).
        let file = ChoicesFile {
            schema: SCHEMA,
            test: case.name.into(),
            seed: 1,
            test_seed: 1,
            choices: Recorded {
                test: vec![1],
                ..Recorded::default()
            },
        };
        let dir = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        let shrunk = shrink_bundle(case, &file, dir.path(), &opts, 20, &mut out).unwrap();
        let text = String::from_utf8_lossy(&out);
        assert!(shrunk.is_none(), "{text}");
        assert!(
            text.contains("not shrunk: the search stopped: a candidate run hung"),
            "{text}"
        );
        assert!(!dir.path().join("shrunk").exists());
    }
}
