//! The grader's byte limits are Go's limits in what they mean, measured on this Raft's own
//! bincode encoding (see `grader::harness::MAX_LOG_SIZE` for the derivation).

use bytes::Bytes;
use grader::cmd::Cmd;
use grader::harness::MAX_LOG_SIZE;
use raft_core::{Config, LogIndex, PeerId, Raft};

/// The persisted state of a lone leader after a snapshot at index 300 and then `entries`
/// commands like the 2D tests' (random 63-bit ints), in term >= 1.
fn state_size(entries: usize) -> usize {
    let mut raft = Raft::new(Config::lab(PeerId(0), 1), 7);
    while !raft.is_leader() {
        raft.tick();
    }
    let command = |k: usize| Cmd::Int(i64::MAX - i64::try_from(k).unwrap_or(0)).to_bytes();
    for k in 0..300 {
        raft.propose(command(k)).expect("leader");
    }
    let _ = raft.ready();
    raft.snapshot(LogIndex(300), Bytes::from_static(b"snapshot"));
    for k in 0..entries {
        raft.propose(command(k)).expect("leader");
    }
    let _ = raft.ready();
    raft.encode_state().len()
}

/// Go's MAXLOGSIZE of 2000 bytes holds about 95 gob-encoded entries; the bincode limit holds
/// 95 of ours and not 96 (snapcommon fails at `LogSize() >= MAXLOGSIZE`).
#[test]
fn max_log_size_holds_as_many_entries_as_gos() {
    let (fits, too_many) = (state_size(95), state_size(96));
    println!("95 entries: {fits} bytes; 96 entries: {too_many} bytes; limit {MAX_LOG_SIZE}");
    assert!(fits < MAX_LOG_SIZE, "{fits}");
    assert!(too_many >= MAX_LOG_SIZE, "{too_many}");
}
