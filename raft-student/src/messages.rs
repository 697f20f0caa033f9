//! What peers send each other: the arguments and replies of the three RPCs, and a log entry.
//!
//! These travel over the simulated network encoded with bincode, so every field you add costs
//! bytes on the wire (the 2B test "RPC byte count" puts a ceiling on the total). Add fields if
//! your design needs them; keep the `Serialize`/`Deserialize` derives. The fields below are
//! the ones the Raft paper's Figure 2 lists, plus the optional fast backup hints.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// One entry of the log: a command and the term in which a leader received it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The leader's term when it appended this entry.
    pub term: u64,
    /// The command bytes exactly as given to `start` (never look inside them).
    pub command: Bytes,
}

/// A candidate asks for a vote (2A).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestVoteArgs {
    /// The candidate's term.
    pub term: u64,
    /// The candidate (its index in `peers`).
    pub candidate_id: usize,
    /// Index of the candidate's last log entry (used from 2B on: the "up to date" check).
    pub last_log_index: u64,
    /// Term of the candidate's last log entry.
    pub last_log_term: u64,
}

/// The answer to [`RequestVoteArgs`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestVoteReply {
    /// The voter's term after handling the request, so a stale candidate learns it is behind.
    pub term: u64,
    /// Whether the voter gave the candidate its vote.
    pub vote_granted: bool,
}

/// A leader replicates entries, or just asserts its leadership with no entries (heartbeat).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendEntriesArgs {
    /// The leader's term.
    pub term: u64,
    /// The leader (its index in `peers`), so followers know who leads.
    pub leader_id: usize,
    /// Index of the entry just before `entries`.
    pub prev_log_index: u64,
    /// Term of that entry; the follower must hold the same one for the append to succeed.
    pub prev_log_term: u64,
    /// Entries to store, starting at `prev_log_index + 1`; empty for a heartbeat.
    pub entries: Vec<LogEntry>,
    /// The leader's commit index.
    pub leader_commit: u64,
}

/// The answer to [`AppendEntriesArgs`].
///
/// `x_term`, `x_index` and `x_len` are an **optional** speed-up: they let the leader skip back
/// over a whole term of mismatching entries per round trip instead of one entry. Fill them only
/// when `success` is false. The 2B test "leader backs up quickly" is much easier to pass within
/// its time with them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendEntriesReply {
    /// The follower's term, so a stale leader learns it is behind.
    pub term: u64,
    /// The follower held an entry matching `prev_log_index`/`prev_log_term` and stored the
    /// entries.
    pub success: bool,
    /// Optional: the term of the follower's entry at `prev_log_index`, if it has one there.
    /// `None` when its log is too short to reach `prev_log_index`.
    pub x_term: Option<u64>,
    /// Optional: the first index the follower holds with term `x_term`.
    pub x_index: u64,
    /// Optional: the follower's log length (last index + 1), useful when `x_term` is `None`.
    pub x_len: u64,
}

/// A leader sends its snapshot to a follower that lags behind the leader's log start (2D).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallSnapshotArgs {
    /// The leader's term.
    pub term: u64,
    /// The leader (its index in `peers`).
    pub leader_id: usize,
    /// The last log index the snapshot covers.
    pub last_included_index: u64,
    /// The term of that entry.
    pub last_included_term: u64,
    /// The service's snapshot bytes, whole (the lab sends them in one piece).
    pub data: Bytes,
}

/// The answer to [`InstallSnapshotArgs`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallSnapshotReply {
    /// The follower's term, so a stale leader learns it is behind.
    pub term: u64,
}
