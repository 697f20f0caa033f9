//! The event record end to end, on the reference peer: the same seed writes the same
//! events file byte for byte (the determinism check of the whole stack: harness, network,
//! peer), a failing run leaves a bundle the failure message names, and `grader view` shows it.

mod support;

use std::path::Path;

use grader::{Options, Selection, run};
use lab_api::LabRaft;
use raft_rpc::RaftPeer;
use support::grader;

/// Runs `test` with `seed` and `--trace` into `out`; its events file.
fn events(test: &str, seed: u64, out: &Path) -> String {
    let opts = Options {
        seed,
        trace: true,
        out: Some(out.to_path_buf()),
        ..Options::default()
    };
    let sel = Selection {
        parts: Vec::new(),
        pattern: Some(test.to_string()),
    };
    let mut report = Vec::new();
    let summary = run::<RaftPeer>(&sel, &opts, &mut report)
        .expect("report written")
        .expect("test selected");
    assert_eq!(summary.failed, 0, "{}", String::from_utf8_lossy(&report));
    let dir = summary.runs[0]
        .bundle
        .clone()
        .expect("--trace writes a bundle");
    std::fs::read_to_string(dir.join("events.jsonl")).expect("events.jsonl")
}

#[test]
fn same_seed_same_events_file_byte_for_byte() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = events("backup_2b", 3, a.path());
    let second = events("backup_2b", 3, b.path());
    if first != second {
        let line = first
            .lines()
            .zip(second.lines())
            .position(|(x, y)| x != y)
            .unwrap_or(0);
        panic!("the events files differ from line {}", line + 1);
    }
    for kind in ["test", "harness", "start", "check", "rpc", "apply", "state"] {
        let needle = format!("\"kind\":\"{kind}\"");
        assert!(first.contains(&needle), "no {kind} event");
    }
    assert!(first.contains("\"text\":\"AE term="), "RPCs are described");
    assert_ne!(
        first,
        events("backup_2b", 4, a.path()),
        "the seed must matter"
    );
}

#[test]
fn the_reference_describes_its_messages() {
    let args = <RaftPeer as LabRaft>::describe("Raft.RequestVote", &[1, 0, 0, 0], false);
    assert_eq!(args.as_deref(), Some("RV term=1 cand=0 last=(0,0)"));
}

#[test]
fn a_failure_leaves_a_bundle_that_view_shows() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let o = grader(&[
        "--test",
        "initial_election_2a",
        "--impl",
        "student",
        "--seed",
        "1",
        "--out",
        dir,
    ]);
    assert_eq!(o.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let bundle = out.path().join("initial_election_2a-seed1");
    let line = format!("    bundle: {}/", bundle.display());
    assert!(stdout.lines().any(|l| l == line), "{stdout}");
    for file in ["report.txt", "replay.txt", "events.jsonl"] {
        assert!(bundle.join(file).is_file(), "{file} missing");
    }
    let replay = std::fs::read_to_string(bundle.join("replay.txt")).unwrap();
    // The seed's command, then the same run from the choices it recorded (issue 22).
    let choices = bundle.join("choices.json");
    assert!(choices.is_file(), "choices.json missing");
    assert_eq!(
        replay,
        format!(
            "cargo run -p grader -- --test initial_election_2a --seed 1 --impl student\n\
             from its recorded choices: cargo run -p grader -- --choices {} --impl student\n",
            choices.display()
        )
    );
    let events = std::fs::read_to_string(bundle.join("events.jsonl")).unwrap();
    assert!(
        events
            .lines()
            .last()
            .unwrap()
            .contains("\"kind\":\"failure\"")
    );
    let v = grader(&["view", bundle.to_str().unwrap(), "--width", "100"]);
    assert_eq!(v.status.code(), Some(0));
    let view = String::from_utf8_lossy(&v.stdout);
    assert!(view.contains("peer 0") && view.contains("peer 2"), "{view}");
    assert!(
        view.contains("✗ check_one_leader: expected one leader, got none"),
        "{view}"
    );
    let only = grader(&["view", bundle.to_str().unwrap(), "--kind", "failure"]);
    let only = String::from_utf8_lossy(&only.stdout);
    assert!(
        !only.contains("check_one_leader") && only.contains("FAIL:"),
        "{only}"
    );
}
