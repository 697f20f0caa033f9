//! The Raft protocol as a pure, deterministic state machine. SKELETON: the public surface
//! below is the contract other crates build against; the bodies are being written.
//!
//! Drive it with inputs ([`Raft::tick`], [`Raft::step_request`], [`Raft::step_response`],
//! [`Raft::step_failure`], [`Raft::propose`], [`Raft::snapshot`]) and after each input drain
//! [`Raft::ready`]: persist first, then send the messages (and the reply that `step_request`
//! returned), then apply.

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

/// A peer's position in the cluster's peer list (0..n).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct PeerId(pub usize);

/// One log entry: the term it was created in and the service's opaque command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Term in which the leader received the command.
    pub term: Term,
    /// The command bytes.
    pub command: Bytes,
}

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

/// A request to send, and to whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outbound {
    /// Destination.
    pub to: PeerId,
    /// The request.
    pub request: Request,
}

/// Term and vote: the small part of Figure 2's persistent state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HardState {
    /// Latest term this peer has seen.
    pub current_term: Term,
    /// Candidate that received this peer's vote in `current_term`, if any.
    pub voted_for: Option<PeerId>,
}

/// What changed in the persistent state since the last [`Ready`]; an incremental store can
/// apply these in order (snapshot, truncate, append, hard state) instead of rewriting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersistDelta {
    /// New term/vote, if either changed.
    pub hard_state: Option<HardState>,
    /// A new snapshot (index, term) replaced the log prefix; its bytes are
    /// [`Raft::snapshot_data`].
    pub snapshot: Option<(LogIndex, Term)>,
    /// Entries at or after this index were removed.
    pub truncated_from: Option<LogIndex>,
    /// Entries from this index to the last log index are new.
    pub appended_from: Option<LogIndex>,
}

impl PersistDelta {
    /// Nothing to persist.
    pub fn is_empty(&self) -> bool {
        self.hard_state.is_none()
            && self.snapshot.is_none()
            && self.truncated_from.is_none()
            && self.appended_from.is_none()
    }
}

/// Something for the service, in order, exactly once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Apply {
    /// A committed command.
    Command {
        /// Its index.
        index: LogIndex,
        /// Its term.
        term: Term,
        /// The command bytes.
        command: Bytes,
    },
    /// A snapshot installed from the leader (section 7).
    Snapshot {
        /// Last index it covers.
        index: LogIndex,
        /// Term of that index.
        term: Term,
        /// The bytes.
        data: Bytes,
    },
}

/// Everything an input produced, drained by [`Raft::ready`]. Handle in this order: persist
/// (before sending anything, including the reply `step_request` returned), send, apply.
#[derive(Clone, Debug, Default)]
pub struct Ready {
    /// What to persist first.
    pub persist: PersistDelta,
    /// Requests to send.
    pub messages: Vec<Outbound>,
    /// What to hand to the service.
    pub apply: Vec<Apply>,
}

/// A peer's role (5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Follows a leader.
    Follower,
    /// Seeks votes.
    Candidate,
    /// Leads.
    Leader,
}

/// Static configuration; times are in ticks.
#[derive(Clone, Debug)]
pub struct Config {
    /// This peer.
    pub id: PeerId,
    /// Cluster size; peers are 0..peers.
    pub peers: usize,
    /// Election timeout drawn uniformly from [min, max) ticks at each reset.
    pub election_ticks: (u32, u32),
    /// Ticks between heartbeats.
    pub heartbeat_ticks: u32,
    /// Most entries in one AppendEntries.
    pub max_entries_per_append: usize,
    /// Most AppendEntries with entries outstanding per follower (pipelining window).
    pub max_inflight_appends: usize,
}

impl Config {
    /// The lab defaults for a tick of 10 ms: elections after 300-600 ms, heartbeats every
    /// 100 ms (the lab allows at most ten per second).
    pub fn lab(id: PeerId, peers: usize) -> Self {
        Config {
            id,
            peers,
            election_ticks: (30, 60),
            heartbeat_ticks: 10,
            max_entries_per_append: 512,
            max_inflight_appends: 8,
        }
    }
}

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
}

/// One Raft peer's protocol state.
pub struct Raft {}

impl Raft {
    /// A fresh peer (term 0, empty log).
    pub fn new(config: Config, seed: u64) -> Self {
        let _ = (config, seed);
        todo!()
    }
    /// A peer rebuilt from [`Raft::encode_state`] bytes and the snapshot saved with them.
    /// Empty `state` means a fresh peer.
    pub fn restore(
        config: Config,
        seed: u64,
        state: &[u8],
        snapshot: Bytes,
    ) -> Result<Self, StateDecodeError> {
        let _ = (config, seed, state, snapshot);
        todo!()
    }
    /// One unit of logical time.
    pub fn tick(&mut self) {
        todo!()
    }
    /// Appends a command if leader; starts replicating it at once.
    pub fn propose(&mut self, command: Bytes) -> Result<(LogIndex, Term), NotLeader> {
        let _ = command;
        todo!()
    }
    /// Handles a request from `from` and returns the reply. Drain [`Raft::ready`] and persist
    /// before sending the reply.
    pub fn step_request(&mut self, from: PeerId, request: Request) -> Response {
        let _ = (from, request);
        todo!()
    }
    /// Handles the reply to `request`, which this peer sent to `from`.
    pub fn step_response(&mut self, from: PeerId, request: &Request, response: Response) {
        let _ = (from, request, response);
        todo!()
    }
    /// `request` to `to` got no reply (lost, or the peer is unreachable).
    pub fn step_failure(&mut self, to: PeerId, request: &Request) {
        let _ = (to, request);
        todo!()
    }
    /// The service snapshotted everything through `index` (section 7); the log before it can go.
    /// Ignored when `index` is not above the current snapshot or not yet applied.
    pub fn snapshot(&mut self, index: LogIndex, data: Bytes) {
        let _ = (index, data);
        todo!()
    }
    /// Drains what the inputs so far produced.
    pub fn ready(&mut self) -> Ready {
        todo!()
    }
    /// The full persistent state (term, vote, snapshot index/term, log after it), bincode with a
    /// format version; what the lab persister stores.
    pub fn encode_state(&self) -> Bytes {
        todo!()
    }
    /// The current snapshot's bytes (empty if none).
    pub fn snapshot_data(&self) -> &Bytes {
        todo!()
    }
    /// currentTerm.
    pub fn current_term(&self) -> Term {
        todo!()
    }
    /// votedFor.
    pub fn voted_for(&self) -> Option<PeerId> {
        todo!()
    }
    /// The role.
    pub fn role(&self) -> Role {
        todo!()
    }
    /// Whether this peer is the leader.
    pub fn is_leader(&self) -> bool {
        self.role() == Role::Leader
    }
    /// The peer believed to lead the current term.
    pub fn leader_hint(&self) -> Option<PeerId> {
        todo!()
    }
    /// commitIndex.
    pub fn commit_index(&self) -> LogIndex {
        todo!()
    }
    /// lastApplied: everything through it has been emitted in `Ready::apply`.
    pub fn last_applied(&self) -> LogIndex {
        todo!()
    }
    /// Index of the last log entry (the snapshot index if the log after it is empty).
    pub fn last_log_index(&self) -> LogIndex {
        todo!()
    }
    /// Term of the last log entry.
    pub fn last_log_term(&self) -> Term {
        todo!()
    }
    /// Last index covered by the snapshot (0 if none).
    pub fn snapshot_index(&self) -> LogIndex {
        todo!()
    }
    /// The entry at `index`, if it is in the log (not compacted, not past the end).
    pub fn entry(&self, index: LogIndex) -> Option<&Entry> {
        let _ = index;
        todo!()
    }
}
