//! The three RPCs of Figure 2 (RequestVote, AppendEntries) and section 7 (InstallSnapshot).
//!
//! AppendEntries replies carry the accelerated-backup hints of section 5.3 ("the follower can
//! include the term of the conflicting entry and the first index it stores for that term"),
//! in the lab's XTerm / XIndex / XLen shape, so a leader backs up one term per round trip
//! instead of one entry.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::types::{Entry, LogIndex, PeerId, Term};

/// RequestVote arguments (Figure 2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestVoteArgs {
    /// Candidate's term.
    pub term: Term,
    /// Candidate requesting the vote.
    pub candidate_id: PeerId,
    /// Index of the candidate's last log entry (5.4.1).
    pub last_log_index: LogIndex,
    /// Term of the candidate's last log entry (5.4.1).
    pub last_log_term: Term,
}

/// RequestVote reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestVoteReply {
    /// The voter's current term.
    pub term: Term,
    /// Whether the vote was granted.
    pub vote_granted: bool,
}

/// AppendEntries arguments (Figure 2); also the heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendEntriesArgs {
    /// Leader's term.
    pub term: Term,
    /// The leader, so followers can redirect.
    pub leader_id: PeerId,
    /// Index of the entry just before the new ones.
    pub prev_log_index: LogIndex,
    /// Term of that entry.
    pub prev_log_term: Term,
    /// Entries to store (empty for a heartbeat).
    pub entries: Vec<Entry>,
    /// Leader's commit index.
    pub leader_commit: LogIndex,
}

/// AppendEntries reply, with the fields of the accelerated backup (the lab's XTerm, XIndex,
/// XLen).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendEntriesReply {
    /// The follower's current term.
    pub term: Term,
    /// True if the follower's log matched at prev_log_index.
    pub success: bool,
    /// XTerm: the term of the follower's conflicting entry at prev_log_index, if any.
    pub conflict_term: Option<Term>,
    /// XIndex: the first index the follower holds with `conflict_term`.
    pub conflict_index: LogIndex,
    /// XLen: the follower's last log index plus one (the index it would append next).
    pub log_len: LogIndex,
}

/// InstallSnapshot arguments (section 7), sent in one piece.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallSnapshotArgs {
    /// Leader's term.
    pub term: Term,
    /// The leader.
    pub leader_id: PeerId,
    /// The snapshot replaces all entries through this index.
    pub last_included_index: LogIndex,
    /// Term of that entry.
    pub last_included_term: Term,
    /// The service's snapshot bytes.
    pub data: Bytes,
}

/// InstallSnapshot reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallSnapshotReply {
    /// The follower's current term.
    pub term: Term,
}

/// A request one peer sends another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// RequestVote.
    Vote(RequestVoteArgs),
    /// AppendEntries.
    Append(AppendEntriesArgs),
    /// InstallSnapshot.
    Snapshot(InstallSnapshotArgs),
}

impl Request {
    /// The sender's term, which every request carries (5.1).
    pub fn term(&self) -> Term {
        match self {
            Request::Vote(a) => a.term,
            Request::Append(a) => a.term,
            Request::Snapshot(a) => a.term,
        }
    }
}

/// The reply to a [`Request`], of the matching variant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    /// Reply to RequestVote.
    Vote(RequestVoteReply),
    /// Reply to AppendEntries.
    Append(AppendEntriesReply),
    /// Reply to InstallSnapshot.
    Snapshot(InstallSnapshotReply),
}

impl Response {
    /// The replier's term, which every reply carries (5.1).
    pub fn term(&self) -> Term {
        match self {
            Response::Vote(r) => r.term,
            Response::Append(r) => r.term,
            Response::Snapshot(r) => r.term,
        }
    }
}

/// A request to send, and to whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outbound {
    /// Destination.
    pub to: PeerId,
    /// The request.
    pub request: Request,
}
