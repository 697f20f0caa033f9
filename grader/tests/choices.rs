//! A run replays from its recorded choices (`choices.json`, `--choices`) exactly as from its
//! seed: the same events, the same verdict (issue 22, item 1).

mod bugged;
mod support;

use std::path::{Path, PathBuf};

use bugged::{Bugged, CommitOldTermByCounting};
use grader::Options;
use grader::runner::run_cases;
use grader::shrink::ChoicesFile;
use grader::suites::{TestCase, suite};

fn case(suite: fn() -> Vec<TestCase>, name: &str) -> TestCase {
    suite()
        .into_iter()
        .find(|c| c.name == name)
        .expect("the test exists")
}

fn out_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("raft-lab-choices-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs `case` once (from `seed`, or from `choices`) with its bundle in `out`; the verdict.
fn run_once(case: TestCase, seed: u64, choices: Option<ChoicesFile>, out: &Path) -> bool {
    let opts = Options {
        seed,
        trace: true,
        out: Some(out.to_path_buf()),
        choices: choices.map(|c| std::sync::Arc::new(c.choices)),
        ..Options::default()
    };
    let summary = run_cases(&[case], &opts, &mut Vec::new()).expect("report written");
    summary.failed == 0
}

fn replays_exactly(case: TestCase, seed: u64, tag: &str) -> bool {
    let (first, second) = (out_dir(&format!("{tag}-a")), out_dir(&format!("{tag}-b")));
    let passed = run_once(case, seed, None, &first);
    let bundle = first.join(format!("{}-seed{seed}", case.name));
    let file = ChoicesFile::read(&bundle).expect("the bundle has its choices");
    assert_eq!(file.test, case.name);
    assert_eq!(file.seed, seed);
    assert!(!file.choices.network.is_empty() && !file.choices.peer_seed.is_empty());
    // Another seed: nothing may come from it.
    let passed_again = run_once(case, seed, Some(file.clone()), &second);
    let again = second.join(format!("{}-seed{seed}", case.name));
    let events = |dir: &Path| std::fs::read_to_string(dir.join("events.jsonl")).expect("events");
    assert_eq!(passed, passed_again, "the same verdict");
    assert!(events(&bundle) == events(&again), "the same events");
    let replayed = ChoicesFile::read(&again).expect("choices");
    assert_eq!(replayed, file, "the same choices drawn");
    let _ = std::fs::remove_dir_all(&first);
    let _ = std::fs::remove_dir_all(&second);
    passed
}

#[test]
fn a_passing_run_replays_from_its_choices() {
    let c = case(suite::<raft_rpc::RaftPeer>, "figure8_unreliable_2c");
    assert!(replays_exactly(c, 3, "pass"));
}

#[test]
fn a_failing_run_replays_from_its_choices() {
    let c = case(
        suite::<Bugged<CommitOldTermByCounting>>,
        "figure8_unreliable_2c",
    );
    assert!(!replays_exactly(c, 1000, "fail"));
}

#[test]
fn an_unknown_choices_file_is_a_clear_error() {
    let dir = out_dir("bad");
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("choices.json");
    std::fs::write(&file, "{\"schema\":9}").expect("write");
    let e = ChoicesFile::read(&file).expect_err("not a choices file");
    assert!(e.to_string().contains("is not a choices file"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A Lab 4 run (the key/value layer, its clerks and the harness's draws, on Raft) replays from
/// its choices exactly: a passing run of the reference, and a failing one of a classic mistake.
#[test]
fn a_lab4_run_replays_from_its_choices() {
    use kv_ref::mistake::{self, WithMistake};
    let pass = case(
        kv_grader::suites::kv_tests::<raft_rpc::RaftPeer, kv_ref::Reference>,
        "persist_partition_unreliable_4b",
    );
    assert!(replays_exactly(pass, 3, "lab4-pass"));
    let fail = case(
        kv_grader::suites::kv_tests::<raft_rpc::RaftPeer, WithMistake<{ mistake::GET_OFF_THE_LOG }>>,
        "one_partition_4b",
    );
    assert!(!replays_exactly(fail, 1, "lab4-fail"));
}
