//! Roles (5.1) and the state that only a role has.
//!
//! A peer is a follower, a candidate (collecting votes, 5.2) or the leader. The leader's
//! volatile state of Figure 2 (`next_index[]`, `match_index[]`) lives inside the leader
//! variant, so follower code cannot reach it. Per follower the leader also tracks how many
//! AppendEntries with entries are outstanding and whether it is probing (after a rejection,
//! a failure, or at election: one message at a time until the follower's log position is
//! known) or replicating (pipelining up to `max_inflight_appends` messages, advancing
//! `next_index` optimistically as it sends).

use std::collections::BTreeSet;

use crate::types::{LogIndex, PeerId};

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

/// The role with the state only that role holds.
#[derive(Debug)]
pub(crate) enum RoleState {
    /// Follower: nothing beyond the shared state.
    Follower,
    /// Candidate: who has granted a vote in this term (including itself).
    Candidate { votes: BTreeSet<PeerId> },
    /// Leader: replication progress per peer.
    Leader(LeaderState),
}

impl RoleState {
    pub(crate) fn role(&self) -> Role {
        match self {
            RoleState::Follower => Role::Follower,
            RoleState::Candidate { .. } => Role::Candidate,
            RoleState::Leader(_) => Role::Leader,
        }
    }
}

/// Whether the leader knows where a follower's log ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProgressMode {
    /// Position unknown: at most one AppendEntries with entries outstanding.
    Probe,
    /// Position known: pipeline up to the window, advancing `next_index` as we send.
    Replicate,
}

/// The leader's view of one follower (Figure 2 "volatile state on leaders").
#[derive(Clone, Debug)]
pub(crate) struct Progress {
    /// Index of the next entry to send to this follower.
    pub(crate) next_index: LogIndex,
    /// Highest index known to be replicated on this follower.
    pub(crate) match_index: LogIndex,
    /// AppendEntries with entries sent and not yet answered.
    pub(crate) inflight: usize,
    /// Probe or replicate.
    pub(crate) mode: ProgressMode,
    /// An InstallSnapshot is outstanding.
    pub(crate) snapshot_inflight: bool,
}

impl Progress {
    /// Figure 2, "reinitialized after election": next_index = leader last log index + 1,
    /// match_index = 0; probing until the first reply tells us more.
    pub(crate) fn new(last_index: LogIndex) -> Self {
        Progress {
            next_index: last_index.next(),
            match_index: LogIndex(0),
            inflight: 0,
            mode: ProgressMode::Probe,
            snapshot_inflight: false,
        }
    }

    /// Whether another AppendEntries carrying entries may be sent now.
    pub(crate) fn has_room(&self, window: usize) -> bool {
        match self.mode {
            ProgressMode::Probe => self.inflight == 0,
            ProgressMode::Replicate => self.inflight < window,
        }
    }

    /// Back to probing from `next_index`: forget the outstanding pipeline (late replies are
    /// still handled, they just no longer count against the window).
    pub(crate) fn probe_from(&mut self, next_index: LogIndex) {
        self.mode = ProgressMode::Probe;
        self.next_index = next_index;
        self.inflight = 0;
    }
}

/// Everything only the leader keeps.
#[derive(Debug)]
pub(crate) struct LeaderState {
    /// Indexed by peer id; the leader's own slot tracks its last log index.
    pub(crate) progress: Vec<Progress>,
    /// Ticks since the last heartbeat round.
    pub(crate) heartbeat_elapsed: u32,
    /// Scratch space for the commit computation (no allocation per reply).
    pub(crate) scratch: Vec<LogIndex>,
}

impl LeaderState {
    pub(crate) fn new(peers: usize, last_index: LogIndex) -> Self {
        LeaderState {
            progress: vec![Progress::new(last_index); peers],
            heartbeat_elapsed: 0,
            scratch: Vec::with_capacity(peers),
        }
    }
}
