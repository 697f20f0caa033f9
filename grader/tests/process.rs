//! Process mode (issue 27): every Raft peer in a process of its own, the grader's network,
//! persister, checks and verdict in the grader's process.
//!
//! - a few of the 28 tests pass on the reference in process mode (`--process --real-time`),
//!   crashes (SIGKILL and a restart from what the persister holds) and snapshots included;
//! - `--peer-bin PATH` runs any peer executable (here the grader binary itself, whose first
//!   `--impl`, the reference, it then serves);
//! - without `--real-time` it is a usage error that says why, and a `--peer-bin` that does not
//!   exist too.

mod support;

use support::{grader, text};

/// Runs `test` in process mode (plus `extra` flags) and checks that it passed.
fn passes(test: &str, extra: &[&str]) {
    let mut args = vec!["--real-time", "--seed", "7", "--test", test];
    args.extend_from_slice(extra);
    let o = grader(&args);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(out.contains("1 passed, 0 failed"), "{out}\n{err}");
}

#[test]
fn election_passes_with_every_peer_in_its_own_process() {
    passes("initial_election_2a", &["--process"]);
}

#[test]
fn crash_and_restart_keep_what_was_saved() {
    passes("persist1_2c", &["--process"]);
}

#[test]
fn snapshots_cross_the_socket() {
    passes("snapshot_basic_2d", &["--process"]);
}

#[test]
fn any_peer_binary_serves_with_peer_bin() {
    passes(
        "basic_agree_2b",
        &["--peer-bin", env!("CARGO_BIN_EXE_grader")],
    );
}

#[test]
fn process_mode_needs_the_real_clock() {
    let o = grader(&["2A", "--process"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("--real-time"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn a_missing_peer_binary_is_a_usage_error() {
    let o = grader(&["2A", "--real-time", "--peer-bin", "/no/such/peer"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("/no/such/peer"),
        "{}",
        text(&o.stderr)
    );
}
