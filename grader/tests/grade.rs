//! `grader grade` (issue 14): the reference scores full marks, the student skeleton zero with
//! its hints, a deliberately broken peer (the reference with `snapshot()` dropped) a partial
//! score; the JUnit XML parses back with the structure CI readers use; the Gradescope file
//! has the documented fields. Submissions graded from outside (`--submission`), hostile ones
//! among them, are in `submissions.rs`.

// The helpers outside #[test] functions check as the tests do: a panic is the report.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use bytes::Bytes;
use grader::grade::record::{GradeRecord, Status};
use lab_api::{LabRaft, PeerArgs};
use raft_rpc::RaftPeer;
use support::forward_to;

/// The reference peer, except that it ignores every `snapshot()` call: its log grows without
/// bound, so 2D fails while 2A-2C pass.
struct NoSnapshots(Arc<RaftPeer>);

impl LabRaft for NoSnapshots {
    fn make(args: PeerArgs) -> Arc<Self> {
        Arc::new(NoSnapshots(RaftPeer::make(args)))
    }
    fn snapshot(self: &Arc<Self>, _index: u64, _snapshot: Bytes) {}
    forward_to!(0: service, start, get_state, kill, inspect);
}

/// Runs `grade <args> --format json` in this process for peer `R`; the exit status and record.
fn grade<R: LabRaft>(args: &[&str]) -> (i32, GradeRecord) {
    let mut argv: Vec<String> = ["grade", "--format", "json", "--jobs", "2"]
        .iter()
        .chain(args)
        .map(|s| s.to_string())
        .collect();
    argv.shrink_to_fit();
    let mut out = Vec::new();
    let code = grader::grade::main_with_args::<R>(&argv, &mut out);
    let text = String::from_utf8(out).expect("utf-8");
    let record = GradeRecord::from_json(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (code, record)
}

#[test]
fn the_reference_scores_full_marks_with_every_run_recorded() {
    let (code, r) =
        grade::<RaftPeer>(&["2A", "--runs", "3", "--real-time-runs", "0", "--seed", "4"]);
    assert_eq!(code, 0);
    assert_eq!(r.status, Status::Graded);
    assert!(
        (r.score - 25.0).abs() < 1e-9 && (r.max_score - 25.0).abs() < 1e-9,
        "{r:?}"
    );
    assert_eq!(r.tests.len(), 3);
    for t in &r.tests {
        assert!(t.passed && t.message.is_none());
        let seeds: Vec<u64> = t.runs.iter().map(|run| run.run_seed).collect();
        assert_eq!(seeds, [4, 5, 6], "distinct seeds, seed + k");
        assert!(
            t.runs
                .iter()
                .all(|run| run.rpcs.is_some_and(|n| n > 0) && run.secs > 0.0)
        );
    }
    assert!(r.cpu_secs > 0.0);
}

#[test]
fn the_extra_suite_is_graded_as_a_part_of_its_own_only_when_named() {
    let (code, r) = grade::<RaftPeer>(&[
        "extra",
        "--runs",
        "1",
        "--real-time-runs",
        "0",
        "--seed",
        "2",
    ]);
    assert_eq!(code, 0);
    assert_eq!(r.tests.len(), 5, "{r:?}");
    assert!(
        r.tests.iter().all(|t| t.part == "extra" && t.passed),
        "{r:?}"
    );
    assert_eq!(r.parts.len(), 1);
    assert_eq!(r.parts[0].part, "extra");
    assert!(
        (r.score - 25.0).abs() < 1e-9 && (r.max_score - 25.0).abs() < 1e-9,
        "{r:?}"
    );
    // A points file gives it points of its own.
    let dir = tempfile::tempdir().unwrap();
    let points = dir.path().join("points.toml");
    std::fs::write(&points, "[parts]\nextra = 10\n").unwrap();
    let (code, r) = grade::<RaftPeer>(&[
        "extra",
        "--test",
        "vote_survives_restart_x",
        "--runs",
        "1",
        "--real-time-runs",
        "0",
        "--points",
        points.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert!((r.max_score - 2.0).abs() < 1e-9, "{r:?}");
    assert!((r.score - 2.0).abs() < 1e-9, "{r:?}");
}

#[test]
fn a_real_time_run_counts_too() {
    let (code, r) = grade::<RaftPeer>(&[
        "--test",
        "initial_election_2a",
        "--runs",
        "2",
        "--real-time-runs",
        "1",
        "--seed",
        "8",
    ]);
    assert_eq!(code, 0);
    let t = &r.tests[0];
    assert_eq!(t.runs.len(), 3);
    let real = &t.runs[2];
    assert_eq!(real.clock, grader::grade::record::Clock::Real);
    assert_eq!(real.run_seed, 10);
    assert!(
        real.passed && real.replay.ends_with("--real-time"),
        "{real:?}"
    );
}

/// The real-time runs of different tests run side by side (`--real-time-jobs`), after every
/// virtual-time run, each with its own seed (S + N + k), each recorded with its test.
#[test]
fn real_time_runs_of_different_tests_run_side_by_side() {
    let (code, r) = grade::<RaftPeer>(&[
        "2A",
        "--runs",
        "2",
        "--real-time-runs",
        "1",
        "--real-time-jobs",
        "3",
        "--seed",
        "30",
    ]);
    assert_eq!(code, 0);
    assert!((r.score - 25.0).abs() < 1e-9, "{r:?}");
    assert_eq!(r.tests.len(), 3);
    for t in &r.tests {
        let clocks: Vec<(grader::grade::record::Clock, u64, bool)> = t
            .runs
            .iter()
            .map(|run| (run.clock, run.run_seed, run.passed))
            .collect();
        use grader::grade::record::Clock::{Real, Virtual};
        assert_eq!(
            clocks,
            [(Virtual, 30, true), (Virtual, 31, true), (Real, 32, true)],
            "{}",
            t.name
        );
    }
    // The three ran at once: the pass took about as long as the longest of them.
    let real: f64 = r.tests.iter().map(|t| t.runs[2].secs).sum();
    assert!(
        r.wall_secs < real,
        "wall {} s, real runs {real} s",
        r.wall_secs
    );
}

#[test]
fn the_skeleton_scores_zero_with_its_hints() {
    let (code, r) = grade::<raft_student::Raft>(&[
        "2A",
        "--runs",
        "2",
        "--real-time-runs",
        "1",
        "--impl",
        "student",
        "--seed",
        "1",
    ]);
    assert_eq!(code, 0, "graded, whatever the score");
    assert_eq!(r.score, 0.0);
    let t = &r.tests[0];
    assert!(
        !t.passed && t.runs.len() == 2,
        "a failed test skips its real-time runs"
    );
    let m = t.message.as_deref().unwrap();
    assert!(m.contains("expected one leader, got none"), "{m}");
    assert!(m.contains("2A: leader election is not written yet"), "{m}");
    assert!(
        t.replay
            .as_deref()
            .unwrap()
            .ends_with("--seed 1 --strict --impl student"),
        "{t:?}"
    );
}

#[test]
fn a_peer_that_drops_snapshots_gets_a_partial_score_and_valid_files() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let gradescope = dir.path().join("results.json");
    let points = dir.path().join("points.toml");
    std::fs::write(&points, "[parts]\n2A = 10\n2D = 30\n").unwrap();
    let (code, r) = grade::<NoSnapshots>(&[
        "2A",
        "2D",
        "--runs",
        "2",
        "--real-time-runs",
        "0",
        "--seed",
        "3",
        "--points",
        points.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--gradescope",
        gradescope.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert!((r.max_score - 40.0).abs() < 1e-9, "{}", r.max_score);
    let part = |p: &str| r.parts.iter().find(|s| s.part == p).unwrap();
    assert!((part("2A").score - 10.0).abs() < 1e-9, "{:?}", r.parts);
    assert!(part("2D").score < 30.0 && r.score > 0.0 && r.score < r.max_score);
    let failed = r.tests.iter().filter(|t| !t.passed).count();
    assert!(failed > 0);

    check_junit(&std::fs::read_to_string(&junit).unwrap(), &r, failed);
    check_gradescope(&std::fs::read_to_string(&gradescope).unwrap(), &r);
}

/// The JUnit structure CI readers use: testsuites > testsuite > testcase, with name,
/// classname, tests, failures and time, and a failure element with a message and the replay.
fn check_junit(xml: &str, r: &GradeRecord, failed: usize) {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let attr = |n: roxmltree::Node, a: &str| {
        n.attribute(a)
            .unwrap_or_else(|| panic!("no {a}"))
            .to_string()
    };
    assert_eq!(attr(root, "tests"), r.tests.len().to_string());
    assert_eq!(attr(root, "failures"), failed.to_string());
    attr(root, "time").parse::<f64>().unwrap();
    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    assert_eq!(suites.len(), 2);
    let mut cases = 0;
    let mut failures = 0;
    for suite in suites {
        assert_eq!(suite.tag_name().name(), "testsuite");
        let (tests, fails) = (attr(suite, "tests"), attr(suite, "failures"));
        let mine: Vec<_> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(tests, mine.len().to_string());
        let mut suite_fails = 0;
        for case in mine {
            cases += 1;
            assert!(attr(case, "name").starts_with("Test"));
            assert!(attr(case, "classname").starts_with("raft.2"));
            attr(case, "time").parse::<f64>().unwrap();
            if let Some(f) = case.children().find(|n| n.has_tag_name("failure")) {
                suite_fails += 1;
                assert!(!attr(f, "message").is_empty());
                assert!(
                    f.text()
                        .unwrap()
                        .contains("replay: cargo run -p grader -- --test")
                );
            }
        }
        assert_eq!(fails, suite_fails.to_string());
        failures += suite_fails;
    }
    assert_eq!((cases, failures), (r.tests.len(), failed));
}

/// Gradescope's documented fields, with the right types, and scores that add up.
fn check_gradescope(text: &str, r: &GradeRecord) {
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    let known = [
        "score",
        "execution_time",
        "output",
        "output_format",
        "test_output_format",
        "test_name_format",
        "visibility",
        "stdout_visibility",
        "extra_data",
        "tests",
        "leaderboard",
    ];
    for k in v.as_object().unwrap().keys() {
        assert!(
            known.contains(&k.as_str()),
            "undocumented top-level field {k}"
        );
    }
    assert!((v["score"].as_f64().unwrap() - r.score).abs() < 1e-9);
    assert!(v["execution_time"].is_u64());
    assert!(
        ["visible", "hidden", "after_due_date", "after_published"]
            .contains(&v["visibility"].as_str().unwrap())
    );
    let tests = v["tests"].as_array().unwrap();
    assert_eq!(tests.len(), r.tests.len());
    let test_fields = [
        "score",
        "max_score",
        "status",
        "name",
        "name_format",
        "number",
        "output",
        "output_format",
        "tags",
        "visibility",
        "extra_data",
    ];
    let mut sum = 0.0;
    for t in tests {
        for k in t.as_object().unwrap().keys() {
            assert!(
                test_fields.contains(&k.as_str()),
                "undocumented test field {k}"
            );
        }
        let (score, max) = (
            t["score"].as_f64().unwrap(),
            t["max_score"].as_f64().unwrap(),
        );
        assert!(score == 0.0 || (score - max).abs() < 1e-9, "all or nothing");
        assert!(["passed", "failed"].contains(&t["status"].as_str().unwrap()));
        assert!(t["name"].as_str().unwrap().starts_with("Test"));
        assert!(t["output"].is_string() && t["visibility"] == "visible");
        if t["status"] == "failed" {
            assert!(t["output"].as_str().unwrap().contains("replay: "));
        }
        sum += score;
    }
    assert!((sum - r.score).abs() < 1e-9);
}

#[test]
fn a_bad_points_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let points = dir.path().join("points.toml");
    std::fs::write(&points, "[tests]\nno_such_test = 3\n").unwrap();
    let argv: Vec<String> = ["grade", "--points", points.to_str().unwrap()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        grader::grade::main_with_args::<RaftPeer>(&argv, &mut Vec::new()),
        2
    );
}
