//! The binary's command line: usage errors exit 2 with a clear message; a run prints its
//! seed and the `N passed, M failed` line.

mod support;

use support::{grader, text};

#[test]
fn bad_part_is_a_usage_error() {
    let o = grader(&["2E"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("unknown part \"2E\""),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn bad_flag_is_a_usage_error() {
    let o = grader(&["--frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--frobnicate"));
}

#[test]
fn unmatched_test_pattern_is_a_usage_error() {
    let o = grader(&["2A", "--test", "backup"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("no test matches --test \"backup\" in parts 2A"));
}

#[test]
fn list_shows_the_selected_tests() {
    let o = grader(&["--list", "3D"]);
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o.stdout);
    assert_eq!(out.lines().count(), 7, "{out}");
    assert!(out.contains("snapshot_init_2d"));
    assert!(out.contains("TestSnapshotInit2D"));
    assert!(out.contains("Test (2D): snapshot initialization after crash"));
    // `all` (no part): the Raft lab's 28 tests and Lab 4's 30 (7 + 13 + 10), then where the
    // extra suite and explore are.
    let all = text(&grader(&["--list"]).stdout);
    assert_eq!(all.lines().count(), 60, "{all}");
    assert!(
        all.contains("extra --list") && all.contains("explore --seeds"),
        "{all}"
    );
    let extra = text(&grader(&["--list", "extra"]).stdout);
    assert!(
        extra
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("explore ")),
        "{extra}"
    );
    let one = text(&grader(&["--list", "--test", "explore"]).stdout);
    assert!(one.starts_with("explore  explore "), "{one}");
    for (part, n) in [("4A", 7), ("4B", 13), ("4C", 10)] {
        let out = text(&grader(&["--list", part]).stdout);
        assert_eq!(out.lines().count(), n, "{part}: {out}");
        assert!(out.lines().all(|l| l.starts_with(part)), "{out}");
    }
    let out = text(&grader(&["--list", "4C"]).stdout);
    assert!(
        out.contains("snapshot_4c") && out.contains("TestSnapshot4C"),
        "{out}"
    );
}

#[test]
fn lab4_runs_on_every_raft_and_layer_the_binary_has() {
    let o = grader(&[
        "--test",
        "basic_4a",
        "--seed",
        "3",
        "--impl",
        "reference",
        "--kv",
        "reference",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("Test RSM basic (reliable network)...\n  ... Passed --  time"),
        "{out}"
    );
    let o = grader(&["--test", "basic_4a", "--kv", "nonesuch"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("cannot grade --impl \"\" --kv \"nonesuch\""),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn one_test_by_go_name_with_a_seed() {
    let o = grader(&["--test", "TestInitialElection2A", "--seed", "5"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.starts_with("seed 5 "), "{out}");
    assert!(out.lines().any(|l| l == "1 passed, 0 failed"), "{out}");
    assert!(out.contains("Test (2A): initial election ...\n  ... Passed --"));
}

#[test]
fn runs_print_a_table() {
    let o = grader(&[
        "--test",
        "basic_agree_2b",
        "--runs",
        "3",
        "--jobs",
        "2",
        "--seed",
        "9",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let row = out
        .lines()
        .find(|l| l.starts_with("basic_agree_2b"))
        .expect(&out);
    assert!(row.split_whitespace().nth(1) == Some("3"), "{row}");
    assert!(out.lines().any(|l| l == "3 passed, 0 failed"), "{out}");
}

#[test]
fn an_exact_name_selects_only_that_test() {
    let o = grader(&["--list", "--test", "reliable_churn_2c"]);
    assert_eq!(text(&o.stdout).lines().count(), 1, "{}", text(&o.stdout));
    let o = grader(&["--list", "--test", "churn"]);
    assert_eq!(text(&o.stdout).lines().count(), 2);
}

#[test]
fn grade_has_its_own_help_and_usage_errors() {
    let o = grader(&["grade", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = text(&o.stdout);
    for needle in [
        "--runs",
        "--real-time-runs",
        "--points",
        "--gradescope",
        "1 - 0.9^30",
    ] {
        assert!(help.contains(needle), "{needle} missing from grade --help");
    }
    let o = grader(&["grade", "2E"]);
    assert_eq!(o.status.code(), Some(2));
    let o = grader(&["grade", "--impl", "nobody"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("cannot grade --impl \"nobody\""));
}

#[test]
fn grade_prints_a_score() {
    let o = grader(&[
        "grade",
        "--test",
        "basic_agree_2b",
        "--runs",
        "2",
        "--real-time-runs",
        "0",
        "--seed",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.lines().any(|l| l == "score 2.50/2.50"), "{out}");
    assert!(out.lines().any(|l| l == "1 passed, 0 failed"), "{out}");
}
