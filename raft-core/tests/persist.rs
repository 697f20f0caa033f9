//! Figure 2 persistent state: encoding round trips, and bad bytes are a clear error.

use bytes::Bytes;
use raft_core::sim::Sim;
use raft_core::{Config, LogIndex, PeerId, Raft, StateDecodeError, Term};

fn restore(bytes: &[u8]) -> Result<Raft, StateDecodeError> {
    Raft::restore(Config::lab(PeerId(0), 3), 1, bytes, Bytes::new())
}

fn some_state() -> Bytes {
    let mut sim = Sim::new(3, 31);
    let leader = sim.elect(200);
    for i in 0..5u8 {
        sim.propose(leader, &[i]).expect("leader");
    }
    sim.deliver_all();
    sim.raft(leader).encode_state()
}

#[test]
fn encoded_state_round_trips() {
    let bytes = some_state();
    let r = restore(&bytes).expect("decodes");
    assert_eq!(r.current_term(), Term(1));
    assert_eq!(r.last_log_index(), LogIndex(5));
    assert_eq!(
        r.commit_index(),
        LogIndex(0),
        "commit is relearned, not persisted"
    );
    assert_eq!(r.encode_state(), bytes);
}

#[test]
fn empty_state_is_a_fresh_peer() {
    let r = restore(&[]).expect("fresh");
    assert_eq!(
        (r.current_term(), r.last_log_index()),
        (Term(0), LogIndex(0))
    );
}

#[test]
fn garbage_truncation_and_trailing_bytes_are_decode_errors() {
    let bytes = some_state();
    assert!(matches!(
        restore(&bytes[..bytes.len() - 1]),
        Err(StateDecodeError::Decode(_))
    ));
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert!(matches!(
        restore(&longer),
        Err(StateDecodeError::TrailingBytes { extra: 1, .. })
    ));
    assert!(matches!(
        restore(&[0xff; 3]),
        Err(StateDecodeError::Decode(_))
    ));
}

#[test]
fn unknown_version_is_refused() {
    let mut bytes = some_state().to_vec();
    bytes[0] = 7; // version is a small varint first
    assert!(matches!(
        restore(&bytes),
        Err(StateDecodeError::Version {
            found: 7,
            expected: 1
        })
    ));
}
