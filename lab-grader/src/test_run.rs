//! One test run on its own tokio runtime (virtual time by default, the real clock with
//! `real_time`): the body races the failure signal, the cleanups run, a panic is a failure,
//! and the peer's hints are added to a failure's message.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::fail::Fail;
use crate::harness::{Sink, TestContext};
use crate::report::Outcome;
use crate::suites::{Part, TestCase};

/// The body of one test run, inside its runtime: the body races the failure signal
/// (biased, so a recorded failure wins), then the cleanups run.
async fn drive(case: TestCase, t: TestContext) -> (f64, Outcome) {
    let t0 = tokio::time::Instant::now();
    let result = t.run((case.body)(t.clone())).await;
    let secs = t0.elapsed().as_secs_f64();
    let outcome = match result {
        Err(f) => Outcome::Failed {
            message: with_hints(f.to_string(), &t.hints(), case.part),
            apply_error: matches!(f, Fail::Apply(_)),
        },
        Ok(()) => Outcome::Passed(t.passed()),
    };
    (secs, outcome)
}

fn runtime(real_time: bool) -> std::io::Result<tokio::runtime::Runtime> {
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

/// Runs `case` with `test_seed` on a new runtime of the current thread, printing through
/// `sink`; returns the test's duration (virtual seconds in virtual time) and outcome.
pub(crate) fn run_test(
    case: TestCase,
    test_seed: u64,
    real_time: bool,
    sink: Sink,
) -> (f64, Outcome) {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let rt = runtime(real_time)?;
        let t = TestContext::titled(test_seed, case.title, sink);
        let r = rt.block_on(drive(case, t));
        rt.shutdown_background();
        Ok::<_, std::io::Error>(r)
    }));
    match result {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => (
            0.0,
            Outcome::failed(&format!("cannot build a tokio runtime: {e}")),
        ),
        Err(p) => (
            0.0,
            Outcome::failed(
                &Fail::Panicked {
                    message: panic_message(&*p),
                }
                .to_string(),
            ),
        ),
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
