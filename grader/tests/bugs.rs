//! The grader against classic student bugs: each is injected into the reference Raft
//! (`raft_core::Bug`, one line each), and the grader must fail it. The quick test checks that
//! every bug is caught on a few seeds; the `--ignored` measurement prints, for 20 runs of the
//! 28 tests plus the extra suite, how often each bug was caught and by what, with the
//! continuous safety checks and with the Go tester's checks alone:
//!
//! ```sh
//! cargo test -p grader --test bugs -- --ignored --nocapture
//! ```

mod bugged;
mod support;

use std::collections::BTreeMap;

use bugged::{Bugged, CommitOldTermByCounting, each_bug};
use grader::report::Outcome;
use grader::runner::run_cases;
use grader::suites::{Part, TestCase, suite};
use grader::{Options, Summary};

/// Of a suite, the 28 tests and the extra suite (`extra` true), or the 28 alone.
fn cases(suite: fn() -> Vec<TestCase>, extra: bool) -> Vec<TestCase> {
    suite()
        .into_iter()
        .filter(|c| c.name != grader::explore::NAME)
        .filter(|c| extra || c.part != Part::Extra)
        .collect()
}

fn run(suite: fn() -> Vec<TestCase>, opts: &Options, extra: bool) -> Summary {
    let mut out = Vec::new();
    run_cases(&cases(suite, extra), opts, &mut out).expect("report written")
}

/// How a failure was caught: the safety property, a panic, or the Go check's message.
fn caught_by(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("Raft safety: ") {
        let property = rest
            .rsplit_once(" (")
            .map(|(_, p)| p.split(',').next().unwrap_or(p))
            .unwrap_or("?");
        return format!("invariant {property}");
    }
    if message.contains(" panicked at ") {
        return "panic".to_string();
    }
    let first = message.lines().next().unwrap_or("");
    let words: Vec<&str> = first.split_whitespace().take(4).collect();
    format!("Go check \"{}...\"", words.join(" "))
}

/// Per run of the whole selection: whether something failed, and the first failure's test and
/// mechanism; then the catch counts per (test, mechanism) over all failing tests.
fn tally(summary: &Summary, runs: u32) -> (u32, BTreeMap<String, u32>) {
    let mut caught_runs = 0;
    let mut by = BTreeMap::new();
    for k in 0..runs {
        let failures: Vec<(&str, &str)> = summary
            .runs
            .iter()
            .filter(|r| r.run == k)
            .filter_map(|r| match &r.outcome {
                Outcome::Failed { message, .. } => Some((r.name, message.as_str())),
                Outcome::Passed(_) => None,
            })
            .collect();
        if !failures.is_empty() {
            caught_runs += 1;
        }
        for (name, message) in failures {
            *by.entry(format!("{name}: {}", caught_by(message)))
                .or_insert(0) += 1;
        }
    }
    (caught_runs, by)
}

fn options(seed: u64, runs: u32, invariants: bool) -> Options {
    Options {
        seed,
        runs,
        jobs: 2,
        invariants,
        // The bundles of these deliberate failures are not worth keeping.
        out: Some(std::env::temp_dir().join("raft-lab-bug-bundles")),
        ..Options::default()
    }
}

/// Writes the bundle of one real failure (the Figure 8 bug caught in Figure 8 (unreliable))
/// to `$BUNDLE_OUT` (default: a temporary directory) and prints where: the timeline shown in
/// docs/LAB.md comes from it.
#[test]
#[ignore = "writes an example bundle; run with --ignored --nocapture"]
fn bundle_of_a_real_failure() {
    let out = std::env::var_os("BUNDLE_OUT")
        .map_or_else(|| std::env::temp_dir().join("raft-lab-example"), Into::into);
    let cases: Vec<TestCase> = suite::<Bugged<CommitOldTermByCounting>>()
        .into_iter()
        .filter(|c| c.name == "figure8_unreliable_2c")
        .collect();
    let opts = Options {
        seed: 1000,
        out: Some(out),
        ..Options::default()
    };
    let mut report = Vec::new();
    let summary = run_cases(&cases, &opts, &mut report).expect("report written");
    println!("{}", String::from_utf8_lossy(&report));
    assert_eq!(summary.failed, 1);
}

/// Every injected bug fails some test within three runs of the 28 plus the extra suite.
#[test]
fn every_classic_bug_is_caught() {
    each_bug(|bug, suite| {
        let runs = 3;
        let summary = run(suite, &options(1, runs, true), true);
        let (caught, by) = tally(&summary, runs);
        assert!(
            caught == runs,
            "{bug:?} slipped through {} of {runs} runs: {by:?}",
            runs - caught
        );
    });
}

/// Every injected bug still fails a test of the 28 or the extra suite in real time with
/// eight tests at a time, as the grade's real-time pass runs tests side by side (`grade
/// --real-time-jobs`): running beside others hides no bug.
#[test]
#[ignore = "a measurement in real time (about 7 minutes); run with --ignored --nocapture"]
fn every_classic_bug_is_caught_in_real_time_side_by_side() {
    each_bug(|bug, suite| {
        let opts = Options {
            real_time: true,
            jobs: 8,
            keep_going: true,
            ..options(1, 1, true)
        };
        #[allow(clippy::disallowed_methods)] // wall time of a real-time measurement
        let t0 = std::time::Instant::now();
        let summary = run(suite, &opts, true);
        let (_, by) = tally(&summary, 1);
        println!(
            "{bug:?}: {} of {} tests failed in real time, 8 at a time ({:.1} s): {by:?}",
            summary.failed,
            summary.runs.len(),
            t0.elapsed().as_secs_f64()
        );
        assert!(summary.failed > 0, "{bug:?} passed every test in real time");
    });
}

/// The measurement for the report: 20 runs of everything per bug, with and without the
/// continuous checks (and without the extra suite, i.e. what Go's tester alone sees).
#[test]
#[ignore = "a measurement (about 10 minutes), run with --ignored --nocapture"]
fn measure_catch_rates_over_20_runs() {
    let runs = 20;
    each_bug(|bug, suite| {
        let go_only = run(suite, &options(1000, runs, false), false);
        let (go_caught, go_by) = tally(&go_only, runs);
        let full = run(suite, &options(1000, runs, true), true);
        let (caught, by) = tally(&full, runs);
        println!(
            "{bug:?}: caught in {caught}/{runs} runs (Go's 28 checks alone: {go_caught}/{runs})"
        );
        for (what, n) in &by {
            println!("    {n:>3} x {what}");
        }
        if !go_by.is_empty() {
            println!("  Go alone:");
            for (what, n) in &go_by {
                println!("    {n:>3} x {what}");
            }
        }
    });
}
