//! Runs tests: each on its own OS thread with its own tokio runtime (virtual time by default,
//! the real clock with `real_time`), `jobs` at a time, under a wall-clock watchdog, and writes
//! the report.

use std::io::{self, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::Sender;
use std::time::Duration;

use lab_api::LabRaft;

use crate::fail::Fail;
use crate::harness::TestContext;
use crate::report::{self, Outcome, TestRun};
use crate::schedule;
use crate::seed;
use crate::suites::{Part, TestCase, all_tests};

/// Which tests to run.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// The parts; empty means all.
    pub parts: Vec<Part>,
    /// A substring of the function name or the Go name (`--test`); a pattern equal to a
    /// test's name selects only that test.
    pub pattern: Option<String>,
}

/// The selection matched no test.
#[derive(Debug, thiserror::Error)]
#[error("no test matches --test {pattern:?} in parts {parts}; try --list")]
pub struct NoMatch {
    /// The pattern given.
    pub pattern: String,
    /// The parts searched.
    pub parts: String,
}

impl Selection {
    /// The selected tests, in run order.
    pub fn resolve(&self, tests: &[TestCase]) -> Result<Vec<TestCase>, NoMatch> {
        let in_parts = |c: &&TestCase| self.parts.is_empty() || self.parts.contains(&c.part);
        let pattern = self.pattern.as_deref();
        let exact = |c: &TestCase| pattern.is_some_and(|p| c.name == p || c.go_name == p);
        // An exact name wins, so a replay of `reliable_churn_2c` does not also run
        // `unreliable_churn_2c`.
        let any_exact = tests.iter().filter(in_parts).any(exact);
        let chosen: Vec<TestCase> = tests
            .iter()
            .filter(in_parts)
            .filter(|c| {
                if any_exact {
                    exact(c)
                } else {
                    pattern.is_none_or(|p| c.name.contains(p) || c.go_name.contains(p))
                }
            })
            .copied()
            .collect();
        if chosen.is_empty() {
            let parts = if self.parts.is_empty() {
                Part::ALL.to_vec()
            } else {
                self.parts.clone()
            };
            let parts: Vec<String> = parts.iter().map(Part::to_string).collect();
            return Err(NoMatch {
                pattern: self.pattern.clone().unwrap_or_default(),
                parts: parts.join(" "),
            });
        }
        Ok(chosen)
    }
}

/// How to run them.
#[derive(Clone, Debug)]
pub struct Options {
    /// The run seed; test seeds derive from it and the test names.
    pub seed: u64,
    /// Real clock and a 2-worker runtime instead of virtual time.
    pub real_time: bool,
    /// Repetitions of each test (run k uses seed + k).
    pub runs: u32,
    /// Tests running at once.
    pub jobs: usize,
    /// Show a progress bar on stderr (only drawn on a terminal) for multi-run stress runs.
    pub progress: bool,
    /// Wall-clock budget per test before the watchdog abandons it; `None` for the default
    /// (120 s in virtual time, 180 s in real time).
    pub watchdog: Option<Duration>,
    /// The `--impl` value to repeat in replay commands, when not the default peer.
    pub implementation: Option<String>,
}

impl Options {
    /// The flags a replay command needs besides `--test` and `--seed`.
    pub fn replay_flags(&self) -> String {
        let mut flags = String::new();
        if self.real_time {
            flags.push_str(" --real-time");
        }
        if let Some(i) = &self.implementation {
            flags.push_str(" --impl ");
            flags.push_str(i);
        }
        flags
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: 0,
            real_time: false,
            runs: 1,
            jobs: 1,
            progress: false,
            watchdog: None,
            implementation: None,
        }
    }
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Every test run, in job order.
    pub runs: Vec<TestRun>,
    /// How many passed.
    pub passed: usize,
    /// How many failed.
    pub failed: usize,
    /// Wall-clock seconds for the whole run.
    pub wall_secs: f64,
}

/// A message from a test thread to the coordinator.
pub(crate) enum Event {
    Output(usize, String),
    Done(usize, f64, Outcome),
}

/// One scheduled test run.
#[derive(Clone, Copy)]
pub(crate) struct Job {
    pub(crate) case: TestCase,
    pub(crate) run: u32,
    pub(crate) run_seed: u64,
    pub(crate) test_seed: u64,
}

/// Runs the selected tests of peer type `R` and writes the report to `out`.
pub fn run<R: LabRaft>(
    selection: &Selection,
    opts: &Options,
    out: &mut dyn Write,
) -> io::Result<Result<Summary, NoMatch>> {
    match selection.resolve(&all_tests::<R>()) {
        Ok(cases) => run_cases(&cases, opts, out).map(Ok),
        Err(e) => Ok(Err(e)),
    }
}

/// The body of one test run, inside its runtime: the body races the failure signal
/// (biased, so a recorded failure wins), then the cleanups run.
async fn drive(case: TestCase, t: TestContext) -> (f64, Outcome) {
    let t0 = tokio::time::Instant::now();
    let part = case.part;
    let body = (case.body)(t.clone());
    let result = tokio::select! {
        biased;
        () = t.failure_signal() => Ok(()),
        r = body => r,
    };
    if let Err(e) = result {
        t.fail(e);
    }
    t.run_cleanups();
    let secs = t0.elapsed().as_secs_f64();
    let outcome = match t.take_failure() {
        Some(f) => Outcome::Failed {
            message: with_hints(f.to_string(), &t.hints(), part),
            apply_error: matches!(f, Fail::Apply(_)),
        },
        None => Outcome::Passed(t.passed()),
    };
    (secs, outcome)
}

fn runtime(real_time: bool) -> io::Result<tokio::runtime::Runtime> {
    if real_time {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// The test thread: build a runtime, drive the test, report; a panic is a failure.
pub(crate) fn test_thread(id: usize, job: Job, real_time: bool, tx: Sender<Event>) {
    let out = tx.clone();
    let sink = Box::new(move |s: &str| {
        let _ = out.send(Event::Output(id, s.to_string()));
    });
    let result = catch_unwind(AssertUnwindSafe(|| {
        let rt = runtime(real_time)?;
        let r = rt.block_on(drive(job.case, TestContext::new(job.test_seed, sink)));
        rt.shutdown_background();
        Ok::<_, io::Error>(r)
    }));
    let (secs, outcome) = match result {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => (0.0, failed(&format!("cannot build a tokio runtime: {e}"))),
        Err(p) => (
            0.0,
            failed(
                &Fail::Panicked {
                    message: panic_message(&*p),
                }
                .to_string(),
            ),
        ),
    };
    let _ = tx.send(Event::Done(id, secs, outcome));
}

/// Adds the peer's own list of unwritten parts to a failure message: those a test of `part`
/// depends on (hints that start with a later part's name, like "2D: ...", are left out of a
/// 2A failure).
fn with_hints(message: String, hints: &[&str], part: Part) -> String {
    let later = |h: &str| {
        Part::ALL
            .iter()
            .any(|p| *p > part && h.starts_with(&p.to_string()))
    };
    let relevant: Vec<&str> = hints.iter().copied().filter(|h| !later(h)).collect();
    if relevant.is_empty() {
        return message;
    }
    let mut s = message;
    s.push_str("\nthe peer under test says these parts are not written yet:");
    for h in relevant {
        s.push_str("\n  - ");
        s.push_str(h);
    }
    s
}

pub(crate) fn failed(message: &str) -> Outcome {
    Outcome::Failed {
        message: message.to_string(),
        apply_error: false,
    }
}

/// Runs `cases` (`opts.runs` times each) and writes the report to `out`.
pub fn run_cases(cases: &[TestCase], opts: &Options, out: &mut dyn Write) -> io::Result<Summary> {
    #[allow(clippy::disallowed_methods)] // wall-clock figure for the report only
    let wall0 = std::time::Instant::now();
    let clock = if opts.real_time {
        "real time"
    } else {
        "virtual time"
    };
    writeln!(
        out,
        "seed {} ({clock}; replay with --seed {})",
        opts.seed, opts.seed
    )?;
    if opts.real_time && std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        writeln!(out, "warning: only one CPU, which may conceal locking bugs")?;
    }
    let mut jobs = Vec::new();
    for run in 0..opts.runs.max(1) {
        let run_seed = opts.seed.wrapping_add(u64::from(run));
        for &case in cases {
            let test_seed = seed::test_seed(run_seed, case.name);
            jobs.push(Job {
                case,
                run,
                run_seed,
                test_seed,
            });
        }
    }
    let runs = schedule::execute(&jobs, opts, out)?;
    let wall_secs = wall0.elapsed().as_secs_f64();
    if opts.runs > 1 {
        let order: Vec<&'static str> = cases.iter().map(|c| c.name).collect();
        write!(
            out,
            "{}",
            report::stress_table(&order, &runs, opts.real_time, &opts.replay_flags())
        )?;
    }
    write!(
        out,
        "{}",
        report::summary_lines(&runs, opts.seed, opts.real_time, wall_secs)
    )?;
    let passed = runs.iter().filter(|r| r.passed()).count();
    let failed = runs.len() - passed;
    Ok(Summary {
        runs,
        passed,
        failed,
        wall_secs,
    })
}
