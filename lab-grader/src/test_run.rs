//! One test run on its own tokio runtime (virtual time by default, the real clock with
//! `real_time`): the body races the failure signal, the cleanups run, a panic is a failure,
//! and the peer's hints are added to a failure's message.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::cpu::{self, Workers};
use crate::fail::Fail;
use crate::harness::{Sink, TestContext};
use crate::options::Options;
use crate::panics;
use crate::report::Outcome;
use crate::suites::{Part, TestCase};
use crate::trace::{Event, logs, view};

/// The body of one test run, inside its runtime: the body races the failure signal
/// (biased, so a recorded failure wins), then the cleanups run.
async fn drive(case: TestCase, t: TestContext) -> (f64, Outcome) {
    let t0 = tokio::time::Instant::now();
    t.trace().begin();
    let result = t.run((case.body)(t.clone())).await;
    let secs = t0.elapsed().as_secs_f64();
    let outcome = match result {
        Err(f) => failed_with(&t, &f, case.part),
        Ok(()) => Outcome::Passed(t.passed()),
    };
    note_failure(&t, &outcome);
    (secs, outcome)
}

/// Ends a failing run's record with its failure message.
fn note_failure(t: &TestContext, outcome: &Outcome) {
    if let Outcome::Failed { message, .. } = outcome {
        t.note(Event::Failure {
            message: message.clone(),
        });
    }
}

/// The outcome of a failure `f` of test `t`: the message with the peer's hints, and the
/// backtrace of the panic it was, if any.
fn failed_with(t: &TestContext, f: &Fail, part: Part) -> Outcome {
    Outcome::Failed {
        message: with_hints(f.to_string(), &t.hints(), part),
        apply_error: matches!(f, Fail::Apply(_)),
        backtrace: match f {
            Fail::PeerPanicked(handle) => Some(handle.record().backtrace),
            _ => None,
        },
    }
}

/// The test's runtime; every thread of it reports its panics to `t`, its log lines (those
/// `level` lets through) to `t`'s record, and (a real-time runtime's workers) its CPU time to
/// `workers`. Its tasks are followed (see [`task_hooks`]).
fn runtime(
    real_time: bool,
    t: &TestContext,
    level: &logs::Level,
    workers: &Workers,
) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = if real_time {
        let worker = t.clone();
        let level = level.clone();
        let (parked, stopped) = (workers.clone(), workers.clone());
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2)
            .on_thread_start(move || {
                panics::enter(&worker);
                // The worker lives as long as the runtime: its capture does too.
                std::mem::forget(logs::capture(&level));
            })
            .on_thread_park(move || parked.record())
            .on_thread_stop(move || {
                stopped.record();
                panics::leave();
            });
        b
    } else {
        let mut b = tokio::runtime::Builder::new_current_thread();
        // The paused clock moves only while the runtime parks (see `crate::vclock`).
        b.start_paused(true).on_thread_unpark(crate::vclock::forget);
        b
    };
    builder.enable_time();
    task_hooks(&mut builder, t);
    builder.build()
}

/// Follows the runtime's tasks (tokio's task hooks, in a build with `--cfg tokio_unstable`):
/// a task belongs to the peer whose code spawned it; what a poll of it printed is its peer's;
/// what runs now is known when a test is stuck. None of this awaits or yields: the schedule,
/// and so a virtual-time run, is the same with or without it.
#[cfg(tokio_unstable)]
fn task_hooks(builder: &mut tokio::runtime::Builder, t: &TestContext) {
    let (spawned, started, ended, terminated) = (t.clone(), t.clone(), t.clone(), t.clone());
    builder
        .on_task_spawn(move |meta| {
            spawned
                .panics()
                .task_spawned(meta.id(), Some(meta.spawned_at()));
        })
        .on_before_task_poll(move |meta| started.panics().poll_started(meta.id()))
        .on_after_task_poll(move |_| ended.panics().poll_ended(&ended))
        .on_task_terminate(move |meta| terminated.panics().task_ended(meta.id()));
}

/// Without tokio's task hooks (a build without `--cfg tokio_unstable`), tasks are not
/// followed: a task's peer is learned when it sends an RPC, and what tasks print is only
/// attributed to the test.
#[cfg(not(tokio_unstable))]
fn task_hooks(_builder: &mut tokio::runtime::Builder, _t: &TestContext) {}

/// What one test run produced.
pub(crate) struct Finished {
    /// The test's duration (virtual seconds in virtual time).
    pub(crate) secs: f64,
    /// Its CPU seconds (see [`crate::cpu`]).
    pub(crate) cpu_secs: f64,
    /// How it ended.
    pub(crate) outcome: Outcome,
    /// Its context, which holds the run's record.
    pub(crate) t: TestContext,
    /// Whether the capture took printed bytes while it ran (its peers', or those of a test
    /// beside it).
    pub(crate) printed: bool,
}

/// Runs `case` with `test_seed` on a new runtime of the current thread, printing through
/// `sink`; `on_start` sees the test's context before it runs (the scheduler keeps it, to say
/// what a stuck test was doing).
/// `exact_capture`: see [`TestContext::set_exact_capture`].
pub(crate) fn run_test(
    case: TestCase,
    test_seed: u64,
    opts: &Options,
    exact_capture: bool,
    sink: Sink,
    on_start: impl FnOnce(&TestContext),
) -> Finished {
    let cpu0 = cpu::thread_now();
    let workers = Workers::default();
    let t = TestContext::with_choices(test_seed, case.title, sink, opts.choices.as_deref());
    t.set_invariants(opts.invariants);
    t.set_strict(opts.strict);
    t.set_exact_capture(exact_capture);
    let taken0 = crate::capture::bytes_taken();
    let filter = view::Filter {
        topics: opts.topics.clone(),
        ..view::Filter::default()
    };
    if opts.log {
        t.trace().set_live(view::Live::new(
            view::terminal_width(),
            view::use_color(),
            filter,
        ));
    } else if opts.nocapture {
        t.trace()
            .set_live(view::Live::lines(view::use_color(), filter));
    }
    let given = opts
        .log_level
        .as_deref()
        .and_then(|l| logs::parse_level(l).ok());
    let level = logs::level(given.as_ref(), opts.trace || opts.log);
    on_start(&t);
    panics::enter(&t);
    panics::register_test(&t, true);
    let capture = logs::capture(&level);
    let (secs, outcome) = run_on_runtime(case, opts.real_time, &t, &level, &workers);
    drop(capture);
    crate::capture::end_test(&t);
    panics::register_test(&t, false);
    panics::leave();
    let cpu = cpu::thread_now().saturating_sub(cpu0) + workers.total();
    Finished {
        secs,
        cpu_secs: cpu.as_secs_f64(),
        outcome,
        t,
        printed: crate::capture::bytes_taken() != taken0,
    }
}

fn run_on_runtime(
    case: TestCase,
    real_time: bool,
    t: &TestContext,
    level: &logs::Level,
    workers: &Workers,
) -> (f64, Outcome) {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let rt = runtime(real_time, t, level, workers)?;
        // A virtual-time runtime runs on this thread alone: the watchdog follows it.
        t.panics().drive_runtime(!real_time);
        crate::vclock::driving(!real_time);
        let r = rt.block_on(drive(case, t.clone()));
        crate::vclock::driving(false);
        t.panics().drive_runtime(false);
        rt.shutdown_background();
        Ok::<_, std::io::Error>(r)
    }));
    crate::vclock::driving(false);
    t.panics().drive_runtime(false);
    match result {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => (
            0.0,
            Outcome::failed(&format!("cannot build a tokio runtime: {e}")),
        ),
        // The panic unwound through the test body: the hook has recorded it.
        Err(p) => {
            let f = match t.panics().first() {
                Some(handle) => Fail::PeerPanicked(handle),
                None => Fail::Panicked {
                    message: panics::payload_message(&*p),
                },
            };
            let outcome = failed_with(t, &f, case.part);
            note_failure(t, &outcome);
            (0.0, outcome)
        }
    }
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
