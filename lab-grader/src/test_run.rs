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

/// The body of one test run, inside its runtime: the body races the failure signal
/// (biased, so a recorded failure wins), then the cleanups run.
async fn drive(case: TestCase, t: TestContext) -> (f64, Outcome) {
    let t0 = tokio::time::Instant::now();
    let result = t.run((case.body)(t.clone())).await;
    let secs = t0.elapsed().as_secs_f64();
    let outcome = match result {
        Err(f) => failed_with(&t, &f, case.part),
        Ok(()) => Outcome::Passed(t.passed()),
    };
    (secs, outcome)
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

/// The test's runtime; every thread of it reports its panics to `t`, and the CPU time of a
/// real-time runtime's threads to `workers`.
fn runtime(
    real_time: bool,
    t: &TestContext,
    workers: &Workers,
) -> std::io::Result<tokio::runtime::Runtime> {
    if real_time {
        let worker = t.clone();
        let (parked, stopped) = (workers.clone(), workers.clone());
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .on_thread_start(move || panics::enter(&worker))
            .on_thread_park(move || parked.record())
            .on_thread_stop(move || {
                stopped.record();
                panics::leave();
            })
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
    }
}

/// Runs `case` with `test_seed` on a new runtime of the current thread, printing through
/// `sink`; returns the test's duration (virtual seconds in virtual time), its CPU seconds
/// (see [`crate::cpu`]) and its outcome.
pub(crate) fn run_test(
    case: TestCase,
    test_seed: u64,
    opts: &Options,
    sink: Sink,
) -> (f64, f64, Outcome) {
    let cpu0 = cpu::thread_now();
    let workers = Workers::default();
    let (secs, outcome) = run_test_on(case, test_seed, opts, sink, &workers);
    let cpu = cpu::thread_now().saturating_sub(cpu0) + workers.total();
    (secs, cpu.as_secs_f64(), outcome)
}

fn run_test_on(
    case: TestCase,
    test_seed: u64,
    opts: &Options,
    sink: Sink,
    workers: &Workers,
) -> (f64, Outcome) {
    let real_time = opts.real_time;
    let t = TestContext::titled(test_seed, case.title, sink);
    t.set_invariants(opts.invariants);
    panics::enter(&t);
    let result = catch_unwind(AssertUnwindSafe(|| {
        let rt = runtime(real_time, &t, workers)?;
        let r = rt.block_on(drive(case, t.clone()));
        rt.shutdown_background();
        Ok::<_, std::io::Error>(r)
    }));
    panics::leave();
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
            (0.0, failed_with(&t, &f, case.part))
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
