//! The student skeleton (`kv-student`) is safe to grade: on the reference Raft it fails 4A
//! and 4B quickly, with the course's messages and its own hints, never hanging the grader.

use grader::Options;
use grader::report::Outcome;
use grader::runner::run_cases;

fn fail_message(name: &str) -> String {
    let tests = kv_grader::suites::catalogue::<raft_rpc::RaftPeer, kv_student::Student>();
    let case = *tests.iter().find(|c| c.name == name).expect("a test");
    let opts = Options {
        seed: 1,
        ..Options::default()
    };
    let summary = run_cases(&[case], &opts, &mut std::io::sink()).expect("run");
    match &summary.runs[0].outcome {
        Outcome::Failed { message, .. } => message.clone(),
        Outcome::Passed(_) => panic!("the skeleton passed {name}"),
    }
}

#[test]
fn the_skeleton_fails_with_the_course_messages_and_its_hints() {
    let m = fail_message("basic_4a");
    assert!(m.starts_with("expected 0 instead of 0\n"), "{m}");
    assert!(m.contains("  - 4A: the rsm is not written yet"), "{m}");
    let m = fail_message("basic_4b");
    assert!(m.starts_with("Fatal: Wrong error ErrWrongLeader\n"), "{m}");
    assert!(
        m.contains("  - 4B: the key/value service is not written yet"),
        "{m}"
    );
    // Go's Leader Failure passes a layer that never commits (the zero reply); ours does not.
    let m = fail_message("leader_failure_4a");
    assert!(m.contains("oneInc gave up"), "{m}");
    // A 4A failure does not list the later parts' hints.
    assert!(!fail_message("concurrent_4a").contains("4B:"));
}
