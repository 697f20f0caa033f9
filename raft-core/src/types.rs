//! The integers of Figure 2 as newtypes, and the log entry.
//!
//! Terms (5.1) act as a logical clock: every message carries its sender's term and the larger
//! term always wins. Log indexes start at 1; index 0 is the sentinel before the first entry,
//! whose term is 0, so "the entry before the first one" always exists and always matches.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// A term number (Figure 2).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Term(pub u64);

/// A log index; the log is 1-indexed and index 0 is the empty log's sentinel.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct LogIndex(pub u64);

impl LogIndex {
    /// The index after this one.
    pub fn next(self) -> LogIndex {
        LogIndex(self.0 + 1)
    }

    /// The index before this one (0 stays 0).
    pub fn prev(self) -> LogIndex {
        LogIndex(self.0.saturating_sub(1))
    }

    /// `self + n`, for counting entries forward.
    pub fn plus(self, n: usize) -> LogIndex {
        LogIndex(self.0 + n as u64)
    }
}

/// A peer's position in the cluster's peer list (0..n).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct PeerId(pub usize);

/// One log entry: the term it was created in and the service's opaque command.
///
/// The command is [`Bytes`], so cloning an entry into an AppendEntries is a reference-count
/// bump, not a copy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Term in which the leader received the command.
    pub term: Term,
    /// The command bytes.
    pub command: Bytes,
}

/// Term and vote: the small part of Figure 2's persistent state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HardState {
    /// Latest term this peer has seen.
    pub current_term: Term,
    /// Candidate that received this peer's vote in `current_term`, if any.
    pub voted_for: Option<PeerId>,
}
