//! Lab 4 graded from outside (`grade --peer-bin`, `grade --submission`; issue 27): every
//! server of the submission (its Raft peer and its key/value layer on it) is a sandboxed
//! process of its own, the clerks are one more, and the grader's process keeps the network,
//! the persister, the history and its check, and the verdict. What is graded is the
//! submission's own layer, never the grader's:
//!
//! - the reference layer (this repository's grader binary serving kv-ref on raft-rpc) as a
//!   submission's peer binary passes;
//! - a hostile layer (servers that answer without the log, rsm submits executed at once,
//!   forged records and fake `Passed` lines) gets, test by test, the verdict it gets in
//!   process, where nothing it writes or prints can count either;
//! - ignored for their cost: the reference on all of 4A-4C, and the untouched handout (the
//!   kv-student skeleton) built in the sandbox, each against its in-process verdicts.
//!
//! Where the sandbox cannot be made these tests say so and pass without grading, except in CI
//! (`CI=true`), where that is a failure.

// The helpers outside #[test] functions check as the tests do: a panic is the report.
#![allow(clippy::unwrap_used)]

#[path = "support/hostile_kv.rs"]
#[allow(dead_code)]
mod hostile_kv;
mod support;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use grader::grade::FromOutside;
use grader::grade::record::{GradeRecord, Status};
use grader::harness::ProcessRaft;
use kv_grader::process::ProcessKv;
use kv_grader::suites::catalogue;
use raft_rpc::RaftPeer;

/// One grade at a time: a grade sets the process's peer launcher.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Whether the sandbox can be made here (else the test is skipped, with a note; in CI a
/// failure).
fn sandbox_here() -> bool {
    support::sandbox_here(202_000)
}

/// Runs `grade ARGS` in this process, with `suite` as the grader's own tests and `outside` as
/// how it grades from outside; the exit status and what it printed.
fn run_grade(
    suite: fn() -> Vec<grader::suites::TestCase>,
    outside: FromOutside,
    args: &[&str],
) -> (i32, String) {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let argv: Vec<String> = std::iter::once("grade")
        .chain(args.iter().copied())
        .map(str::to_string)
        .collect();
    let mut out = Vec::new();
    let code = grader::grade::main_with_suites(suite, Some(outside), &argv, &mut out);
    (code, String::from_utf8(out).unwrap())
}

/// `grade ARGS --format json` with `suite` as the grader's own tests and Lab 4 from outside
/// in processes; the record.
fn grade_with(suite: fn() -> Vec<grader::suites::TestCase>, args: &[&str]) -> GradeRecord {
    let outside = FromOutside {
        suite: catalogue::<ProcessRaft, ProcessKv>,
        lab4: true,
    };
    let args: Vec<&str> = ["--format", "json"].iter().chain(args).copied().collect();
    let (code, text) = run_grade(suite, outside, &args);
    assert_eq!(code, 0, "graded, not a grader error: {text}");
    GradeRecord::from_json(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Each test's verdict, by name.
fn verdicts(r: &GradeRecord) -> Vec<(String, bool)> {
    r.tests.iter().map(|t| (t.name.clone(), t.passed)).collect()
}

/// The grader binary of this package: it serves its first implementation, the reference
/// Raft under the reference layer, in every role.
fn reference_bin() -> &'static str {
    env!("CARGO_BIN_EXE_grader")
}

#[test]
fn the_reference_layer_as_a_peer_binary_passes_with_every_server_a_process() {
    if !sandbox_here() {
        return;
    }
    let r = grade_with(
        catalogue::<RaftPeer, kv_ref::Reference>,
        &[
            "4A",
            "4B",
            "--test",
            "basic_4",
            "--seed",
            "5",
            "--peer-bin",
            reference_bin(),
        ],
    );
    assert_eq!(r.status, Status::Graded, "{:?}", r.message);
    assert_eq!(
        verdicts(&r),
        [("basic_4a".into(), true), ("basic_4b".into(), true)],
        "{r:#?}"
    );
    // 3 rsm servers, then 5 key/value servers and the clerks' process.
    let message = r.message.unwrap();
    assert!(message.contains("9 started"), "{message}");
    assert!(message.contains("0 ended by themselves"), "{message}");
}

/// The hostile layer's peer binary, built by `cargo test` with the package's examples.
fn hostile_bin() -> Option<PathBuf> {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent()?.parent()?.join("examples/hostile_kv");
    if bin.is_file() {
        return Some(bin);
    }
    assert!(
        !support::ci(),
        "{} is built by cargo test with the examples",
        bin.display()
    );
    eprintln!(
        "{} not built (cargo build -p grader --example hostile_kv), test skipped",
        bin.display()
    );
    None
}

/// The hostile layer in process (virtual time), on the reference Raft.
fn hostile_catalogue() -> Vec<grader::suites::TestCase> {
    catalogue::<RaftPeer, hostile_kv::FakeKv>()
}

#[test]
fn a_hostile_layer_gets_the_verdicts_it_gets_in_process_and_forges_nothing() {
    if !sandbox_here() {
        return;
    }
    let Some(bin) = hostile_bin() else { return };
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("grade.json");
    let tests = ["4A", "4B", "--test", "basic_4", "--seed", "9"];
    let mut args = tests.to_vec();
    args.extend(["--peer-bin", bin.to_str().unwrap()]);
    args.extend(["--json", json.to_str().unwrap()]);
    let forged = Path::new(hostile_kv::FORGED_PATH);
    let _ = std::fs::remove_file(forged);
    let outside = grade_with(hostile_catalogue, &args);
    assert!(!forged.exists(), "the sandbox's /tmp is its own");
    let written = std::fs::read_to_string(&json).unwrap();
    assert_eq!(GradeRecord::from_json(&written).unwrap(), outside);
    // In process nothing stops it writing (nothing it writes counts either).
    let mut args = tests.to_vec();
    args.extend(["--runs", "2", "--real-time-runs", "0"]);
    let inside = grade_with(hostile_catalogue, &args);
    let _ = std::fs::remove_file(forged);
    assert_eq!(outside.status, Status::Graded, "{:?}", outside.message);
    assert_eq!(
        verdicts(&outside),
        verdicts(&inside),
        "{outside:#?}\n{inside:#?}"
    );
    // The rsm without the log fails (one server counts); the store without the log passes
    // the one-client, fault-free test, as it does in process: the tests cannot tell.
    assert_eq!(
        verdicts(&outside),
        [("basic_4a".into(), false), ("basic_4b".into(), true)]
    );
}

/// A grader whose processes serve Raft peers only (a handout's, say) would run its own
/// key/value layer on the submission's Raft: Lab 4 from outside is refused with a reason,
/// nothing run, exit 2 (also when no part is named: `all` includes Lab 4).
#[test]
fn lab4_is_refused_where_the_layer_would_not_be_the_submissions() {
    for parts in [&["4A"][..], &["2A", "4C"], &[]] {
        let args: Vec<&str> = parts
            .iter()
            .chain(&["--peer-bin", "/nonexistent/peer"])
            .copied()
            .collect();
        let outside = FromOutside {
            suite: catalogue::<ProcessRaft, kv_ref::Reference>,
            lab4: false,
        };
        let (code, _) = run_grade(catalogue::<RaftPeer, kv_ref::Reference>, outside, &args);
        assert_eq!(code, 2, "{parts:?}");
    }
}

#[test]
#[ignore = "all 30 Lab 4 tests on the wall clock, every server a sandboxed process (~4-5 min): cargo test -p grader --test lab4_submissions -- --ignored"]
fn the_reference_layer_passes_all_of_lab4_from_outside() {
    if !sandbox_here() {
        return;
    }
    let r = grade_with(
        catalogue::<RaftPeer, kv_ref::Reference>,
        &[
            "4A",
            "4B",
            "4C",
            "--seed",
            "11",
            "--peer-bin",
            reference_bin(),
        ],
    );
    assert_eq!(r.status, Status::Graded, "{:?}", r.message);
    let failed: Vec<_> = r.tests.iter().filter(|t| !t.passed).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert_eq!(r.tests.len(), 30);
}

#[test]
#[ignore = "builds the handout in the sandbox (the template first, minutes), then Lab 4 on the wall clock: cargo test -p grader --test lab4_submissions -- --ignored"]
fn the_untouched_handout_gets_its_in_process_verdicts_from_outside() {
    if !sandbox_here() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let handout = dir.path().join("handout");
    let o = std::process::Command::new(reference_bin())
        .arg("handout")
        .arg(&handout)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("grade-submissions");
    let tests = ["4A", "4B", "4C", "--seed", "11"];
    let mut args = tests.to_vec();
    args.extend(["--submission", handout.to_str().unwrap()]);
    args.extend(["--target-dir", target.to_str().unwrap()]);
    let skeleton = catalogue::<raft_student::Raft, kv_student::Student>;
    let outside = grade_with(skeleton, &args);
    let mut args = tests.to_vec();
    args.extend(["--runs", "1", "--real-time-runs", "0"]);
    let inside = grade_with(skeleton, &args);
    assert_eq!(outside.status, Status::Graded, "{:?}", outside.message);
    assert_eq!(verdicts(&outside), verdicts(&inside), "{outside:#?}");
    // TestShutdown4A cannot fail (spec 3.7); nothing else passes on the skeletons.
    assert_eq!(outside.tests.iter().filter(|t| t.passed).count(), 1);
}
