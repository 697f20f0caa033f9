//! The reference Lab 4 layer on the reference Raft passes a sample of the 4A-4C tests in
//! virtual time, and a run is a function of its seed. (The full 1000-seed stress runs are
//! measured with the grader binary and reported, not run here.)

use grader::Options;
use grader::report::Outcome;
use grader::runner::run_cases;
use grader::suites::Part;

fn sample(names: &[&str], seed: u64) -> String {
    let tests = kv_grader::suites::catalogue::<raft_rpc::RaftPeer, kv_ref::Reference>();
    let cases: Vec<_> = tests
        .into_iter()
        .filter(|c| names.contains(&c.name))
        .collect();
    assert_eq!(cases.len(), names.len());
    let opts = Options {
        seed,
        jobs: 2,
        ..Options::default()
    };
    let mut out = Vec::new();
    let summary = run_cases(&cases, &opts, &mut out).expect("write the report");
    let out = String::from_utf8(out).expect("utf-8");
    for r in &summary.runs {
        if let Outcome::Failed { message, .. } = &r.outcome {
            panic!("{} failed: {message}\n{out}", r.name);
        }
    }
    out
}

#[test]
fn a_sample_of_4a_4b_4c_passes_and_replays_exactly() {
    let names = [
        "basic_4a",
        "leader_partition_4a",
        "one_partition_4b",
        "persist_partition_unreliable_4b",
        "snapshot_4c",
        "snapshot_rpc_4c",
        "snapshot_unreliable_recover_4c",
    ];
    let first = sample(&names, 11);
    assert!(first.contains("Test: no progress in minority (4B) (unreliable network)...\n"));
    assert!(first.contains("Test: snapshots, one client (4C SnapshotsRPC) (reliable network)...\nTest: InstallSnapshot RPC (4C) (reliable network)...\n  ... Passed --"));
    let passed = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| l.contains("Passed"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        passed(&first),
        passed(&sample(&names, 11)),
        "same seed, same run"
    );
}

#[test]
fn lab4_parts_hold_the_course_tests() {
    let tests = kv_grader::suites::kv_tests::<raft_rpc::RaftPeer, kv_ref::Reference>();
    let count = |p: Part| tests.iter().filter(|c| c.part == p).count();
    assert_eq!(
        [count(Part::KvA), count(Part::KvB), count(Part::KvC)],
        [7, 13, 10]
    );
    for c in &tests {
        let suffix = c.part.to_string();
        assert!(c.name.ends_with(&suffix.to_lowercase()), "{}", c.name);
        assert!(
            c.go_name.starts_with("Test") && c.go_name.ends_with(&suffix),
            "{}",
            c.go_name
        );
    }
}

/// The linearizability checker's CPU, spent on the test's thread, is the grader's: it is
/// counted apart, and the CPU warning of a stress run holds only the rest against the peers,
/// so the reference (whose many-clients 4C test gave the checker most of its CPU) is not
/// warned.
#[test]
fn the_checkers_cpu_is_not_held_against_the_peers() {
    let cases: Vec<_> = kv_grader::suites::catalogue::<raft_rpc::RaftPeer, kv_ref::Reference>()
        .into_iter()
        .filter(|c| c.name == "snapshot_recover_many_clients_4c")
        .collect();
    let opts = Options {
        seed: 5,
        runs: 3,
        jobs: 2,
        ..Options::default()
    };
    let mut out = Vec::new();
    let summary = run_cases(&cases, &opts, &mut out).expect("write the report");
    let out = String::from_utf8(out).expect("utf-8");
    assert_eq!(summary.failed, 0, "{out}");
    for r in &summary.runs {
        assert!(
            r.check_cpu_secs > 0.0 && r.check_cpu_secs <= r.cpu_secs,
            "{} of {} s",
            r.check_cpu_secs,
            r.cpu_secs
        );
    }
    assert!(!out.contains("warning: CPU time"), "{out}");
}
