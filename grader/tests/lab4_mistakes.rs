//! The Lab 4 tests against classic student mistakes: each is built into the reference layer
//! (`kv_ref::mistake`, a few lines each) and the tests must fail it. The quick test checks
//! that each mistake is caught by the test expected to catch it, on one seed; the
//! `--ignored` measurement runs all 30 Lab 4 tests 20 times per mistake and prints, for each,
//! in how many of the 20 runs some test failed, which tests did, and what the student sees:
//!
//! ```sh
//! cargo test --release -p grader --test lab4_mistakes -- --ignored --nocapture
//! ```

use std::collections::BTreeMap;

use grader::report::Outcome;
use grader::runner::run_cases;
use grader::suites::TestCase;
use grader::{Options, Summary};
use kv_ref::mistake::{self, WithMistake};
use raft_rpc::RaftPeer;

fn lab4<const M: u8>() -> Vec<TestCase> {
    kv_grader::suites::kv_tests::<RaftPeer, WithMistake<M>>()
}

/// The Lab 4 tests of the reference layer with mistake `m`.
fn tests_with(m: u8) -> Vec<TestCase> {
    match m {
        mistake::PUT_IGNORES_VERSION => lab4::<{ mistake::PUT_IGNORES_VERSION }>(),
        mistake::GET_OFF_THE_LOG => lab4::<{ mistake::GET_OFF_THE_LOG }>(),
        mistake::REPLY_BEFORE_APPLY => lab4::<{ mistake::REPLY_BEFORE_APPLY }>(),
        mistake::SUBMIT_MISSES_LEADER_CHANGE => lab4::<{ mistake::SUBMIT_MISSES_LEADER_CHANGE }>(),
        mistake::SNAPSHOT_WITHOUT_VERSIONS => lab4::<{ mistake::SNAPSHOT_WITHOUT_VERSIONS }>(),
        mistake::NO_ERR_MAYBE => lab4::<{ mistake::NO_ERR_MAYBE }>(),
        mistake::RESTART_WITHOUT_SNAPSHOT => lab4::<{ mistake::RESTART_WITHOUT_SNAPSHOT }>(),
        _ => lab4::<{ mistake::NONE }>(),
    }
}

fn run(cases: &[TestCase], seed: u64, runs: u32) -> Summary {
    let opts = Options {
        seed,
        runs,
        jobs: 2,
        strict: true,
        ..Options::default()
    };
    run_cases(cases, &opts, &mut std::io::sink()).expect("run")
}

fn first_line(outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::Failed { message, .. } => message.lines().next().map(str::to_string),
        Outcome::Passed(_) => None,
    }
}

/// Each mistake, the test expected to catch it, and the start of the message.
const CATCHERS: [(u8, &str, &str); 7] = [
    (
        mistake::PUT_IGNORES_VERSION,
        "concurrent_4b",
        "history is not linearizable",
    ),
    (
        mistake::GET_OFF_THE_LOG,
        "one_partition_4b",
        "Get in minority completed",
    ),
    (
        mistake::REPLY_BEFORE_APPLY,
        "concurrent_4b",
        "Fatal: Reliable: Wrong number of puts",
    ),
    (
        mistake::SUBMIT_MISSES_LEADER_CHANGE,
        "leader_partition_4a",
        "Fatal: Submit after healing didn't return",
    ),
    (
        mistake::SNAPSHOT_WITHOUT_VERSIONS,
        "snapshot_recover_4c",
        "",
    ),
    (mistake::NO_ERR_MAYBE, "unreliable_4b", ""),
    (
        mistake::RESTART_WITHOUT_SNAPSHOT,
        "snapshot_4c",
        "Fatal: checkCounter: only",
    ),
];

#[test]
fn every_mistake_is_caught_by_its_test() {
    for (m, test, message) in CATCHERS {
        let cases: Vec<TestCase> = tests_with(m)
            .into_iter()
            .filter(|c| c.name == test)
            .collect();
        assert_eq!(cases.len(), 1, "{test}");
        let summary = run(&cases, 1, 1);
        let line = first_line(&summary.runs[0].outcome);
        let name = mistake::ALL
            .iter()
            .find(|(k, _)| *k == m)
            .map_or("?", |(_, n)| n);
        let line = line.unwrap_or_else(|| panic!("{test} did not catch: {name}"));
        assert!(line.starts_with(message), "{name}: {test} says {line:?}");
    }
}

#[test]
#[ignore = "a measurement: 20 runs of the 30 Lab 4 tests per mistake (minutes)"]
fn measure_what_catches_each_mistake() {
    const RUNS: u32 = 20;
    for (m, name) in mistake::ALL {
        let cases = tests_with(m);
        let summary = run(&cases, 100, RUNS);
        let mut caught_runs = std::collections::BTreeSet::new();
        let mut by_test: BTreeMap<&str, (u32, String)> = BTreeMap::new();
        for r in &summary.runs {
            if let Some(line) = first_line(&r.outcome) {
                caught_runs.insert(r.run);
                let e = by_test.entry(r.name).or_insert((0, line));
                e.0 += 1;
            }
        }
        let first = caught_runs
            .iter()
            .next()
            .map_or("never".to_string(), |k| (k + 1).to_string());
        println!(
            "{name}: caught in {}/{RUNS} runs (first in run {first}), {:.0} s wall",
            caught_runs.len(),
            summary.wall_secs
        );
        for (test, (n, line)) in &by_test {
            println!("    {test}: {n}/{RUNS}: {line}");
        }
        assert_eq!(caught_runs.len(), RUNS as usize, "{name} slipped through");
    }
}

/// Writes the bundle of a real linearizability failure to `target/grader-docs/`, for the
/// guide's picture of the timeline: the first mistake and test of the list below that fails
/// the check.
#[test]
#[ignore = "writes a failure bundle for the docs"]
fn bundle_of_a_linearizability_failure() {
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/grader-docs");
    for (m, test) in [
        (mistake::PUT_IGNORES_VERSION, "concurrent_4b"),
        (mistake::SNAPSHOT_WITHOUT_VERSIONS, "snapshot_recover_4c"),
    ] {
        let cases: Vec<TestCase> = tests_with(m)
            .into_iter()
            .filter(|c| c.name == test)
            .collect();
        for seed in 1..=10 {
            let opts = Options {
                seed,
                strict: true,
                out: Some(out.clone()),
                ..Options::default()
            };
            let summary = run_cases(&cases, &opts, &mut std::io::sink()).expect("run");
            let r = &summary.runs[0];
            if let Some(line) = first_line(&r.outcome) {
                println!(
                    "mistake {m} {test} seed {seed}: {line}\n  bundle {:?}",
                    r.bundle
                );
                if line.starts_with("history is not linearizable") {
                    return;
                }
            }
        }
    }
    panic!("no linearizability failure found");
}

/// A linearizability check that runs out of its budget never passes silently: outside strict
/// mode the run passes (as in Go) but counts as not fully checked and the summary says so;
/// in strict mode (the grade command's) the same run fails. The 20-client test on one key
/// with a snapshot that drops the versions gives such histories.
#[test]
fn an_unchecked_pass_is_counted_and_strict_fails_it() {
    let cases: Vec<TestCase> = tests_with(mistake::SNAPSHOT_WITHOUT_VERSIONS)
        .into_iter()
        .filter(|c| c.name == "snapshot_recover_many_clients_4c")
        .collect();
    assert_eq!(cases.len(), 1);
    for seed in 1..=20 {
        let lenient = Options {
            seed,
            ..Options::default()
        };
        let mut out = Vec::new();
        let summary = run_cases(&cases, &lenient, &mut out).expect("run");
        let r = &summary.runs[0];
        if !(r.passed() && r.unchecked > 0) {
            continue;
        }
        let out = String::from_utf8_lossy(&out);
        assert!(
            out.lines().any(
                |l| l.starts_with("note: 1 passing run(s) were not fully checked")
                    && l.contains("snapshot_recover_many_clients_4c")
            ),
            "{out}"
        );
        println!(
            "seed {seed}: a pass with {} unchecked check(s)",
            r.unchecked
        );
        let strict = run(&cases, seed, 1);
        let line = first_line(&strict.runs[0].outcome).expect("strict mode passed it");
        assert!(
            line.starts_with("linearizability check gave no verdict"),
            "{line}"
        );
        return;
    }
    panic!("no seed in 1..=20 gave a pass with an unchecked history");
}
