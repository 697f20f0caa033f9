//! Errors for callers (STYLE 9); broken invariants panic instead.

use crate::types::PeerId;

/// Not the leader; `propose` refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not the leader (leader hint: {leader_hint:?})")]
pub struct NotLeader {
    /// The peer believed to lead, if known.
    pub leader_hint: Option<PeerId>,
}

/// The persisted bytes do not decode.
#[derive(Debug, thiserror::Error)]
pub enum StateDecodeError {
    /// Unknown format version.
    #[error("persisted raft state has format version {found}, expected {expected}")]
    Version {
        /// What the bytes say.
        found: u32,
        /// What this build writes.
        expected: u32,
    },
    /// bincode could not decode the bytes.
    #[error("persisted raft state does not decode: {0}")]
    Decode(#[from] bincode::error::DecodeError),
    /// The state decoded but bytes were left over: the input is not one encoded state.
    #[error("persisted raft state has {extra} bytes after its end (of {total})")]
    TrailingBytes {
        /// Bytes left after the state.
        extra: usize,
        /// Total input length.
        total: usize,
    },
    /// The state decoded but contradicts itself (Figure 2 invariants).
    #[error("persisted raft state is inconsistent at log index {index}: {what}")]
    Inconsistent {
        /// Which rule the state breaks.
        what: &'static str,
        /// The log index where it breaks.
        index: u64,
    },
}
