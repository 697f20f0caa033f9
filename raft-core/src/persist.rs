//! Figure 2's persistent state ("updated on stable storage before responding to RPCs"):
//! current_term, voted_for and the log, plus section 7's snapshot index and term.
//!
//! Encoding: bincode's standard configuration via serde; a format version `u32` comes first
//! so a later build can refuse (or migrate) old bytes instead of misreading them. The
//! encoder serializes a borrowed view of the log, never a copy.

use std::collections::VecDeque;

use bincode::config;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::error::StateDecodeError;
use crate::types::{Entry, LogIndex, PeerId, Term};

/// The format this build writes.
pub const STATE_FORMAT_VERSION: u32 = 1;

/// The persistent fields, borrowed from a live peer.
#[derive(Serialize)]
struct StateRef<'a> {
    current_term: Term,
    voted_for: Option<PeerId>,
    snapshot_index: LogIndex,
    snapshot_term: Term,
    entries: &'a VecDeque<Entry>,
}

/// The persistent fields, decoded.
#[derive(Deserialize, Debug)]
pub(crate) struct PersistedState {
    pub(crate) current_term: Term,
    pub(crate) voted_for: Option<PeerId>,
    pub(crate) snapshot_index: LogIndex,
    pub(crate) snapshot_term: Term,
    pub(crate) entries: VecDeque<Entry>,
}

/// Encodes version + state.
pub(crate) fn encode(
    current_term: Term,
    voted_for: Option<PeerId>,
    snapshot_index: LogIndex,
    snapshot_term: Term,
    entries: &VecDeque<Entry>,
) -> Bytes {
    let state = StateRef {
        current_term,
        voted_for,
        snapshot_index,
        snapshot_term,
        entries,
    };
    let mut out = Vec::with_capacity(16 + entries.len() * 16);
    // Writing into a Vec cannot fail, and every field type is serializable.
    let encoded = bincode::serde::encode_into_std_write(STATE_FORMAT_VERSION, &mut out, cfg())
        .and_then(|_| bincode::serde::encode_into_std_write(&state, &mut out, cfg()));
    if let Err(e) = encoded {
        panic!("encoding raft state into memory failed: {e}");
    }
    Bytes::from(out)
}

fn cfg() -> config::Configuration {
    config::standard()
}

/// Decodes version + state and checks the Figure 2 shape (terms never decrease along the
/// log, never exceed current_term).
pub(crate) fn decode(bytes: &[u8]) -> Result<PersistedState, StateDecodeError> {
    let (found, used): (u32, usize) = bincode::serde::decode_from_slice(bytes, cfg())?;
    if found != STATE_FORMAT_VERSION {
        return Err(StateDecodeError::Version {
            found,
            expected: STATE_FORMAT_VERSION,
        });
    }
    let rest = &bytes[used..];
    let (state, n): (PersistedState, usize) = bincode::serde::decode_from_slice(rest, cfg())?;
    if n != rest.len() {
        return Err(StateDecodeError::TrailingBytes {
            extra: rest.len() - n,
            total: bytes.len(),
        });
    }
    validate(&state)?;
    Ok(state)
}

fn validate(s: &PersistedState) -> Result<(), StateDecodeError> {
    let bad = |what, index: LogIndex| {
        Err(StateDecodeError::Inconsistent {
            what,
            index: index.0,
        })
    };
    if s.snapshot_term > s.current_term {
        return bad("snapshot term above current term", s.snapshot_index);
    }
    let mut prev = s.snapshot_term;
    for (i, e) in s.entries.iter().enumerate() {
        let index = s.snapshot_index.plus(i + 1);
        if e.term < prev {
            return bad("entry term below the previous entry's", index);
        }
        if e.term > s.current_term {
            return bad("entry term above current term", index);
        }
        prev = e.term;
    }
    Ok(())
}
