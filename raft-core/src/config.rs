//! Static configuration of one peer. Time is counted in ticks: the core never reads a clock,
//! the runtime calls [`crate::Raft::tick`] at a fixed rate.

use crate::types::PeerId;

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
    /// A deliberate bug to inject, or `None` (always, except in the grader's own tests that
    /// measure which classic student bugs its checks catch).
    pub bug: Option<Bug>,
    /// New entries (from proposals, or released by a reply) wait for the runtime to call
    /// [`crate::Raft::replicate`] for a follower named in [`crate::Ready::replicate`],
    /// instead of leaving at once: a runtime that calls it when it is about to send gets
    /// everything proposed until then in one AppendEntries. Off (send at once) in
    /// [`Config::lab`].
    pub coalesce_appends: bool,
}

/// Classic student bugs, each a one-line departure from the paper, injected into this Raft
/// by the grader's tests to measure what the grader catches. Never set in real use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bug {
    /// `votedFor` is not part of the persisted state (Figure 2): a restarted peer can vote
    /// twice in one term.
    VoteNotPersisted,
    /// A reply with a higher term is ignored (5.1): a stale leader stays leader.
    IgnoreTermInReplies,
    /// The leader commits an entry of an earlier term by counting replicas (the Figure 8
    /// bug, 5.4.2).
    CommitOldTermByCounting,
    /// A follower installs an InstallSnapshot that does not go past what it applied (7).
    InstallStaleSnapshot,
    /// The leader backs up one entry per rejected AppendEntries, ignoring the hints.
    BackupOneEntry,
    /// A candidate becomes leader one vote short of a majority (5.2): two leaders in a term.
    CountVotesWrong,
    /// A follower truncates its log after `prev_log_index` on every AppendEntries, even when
    /// the entries match (Figure 2 receiver step 3 applies only to conflicts): an old or
    /// reordered AppendEntries shortens the log.
    TruncateOnEveryAppend,
}

impl Bug {
    /// Every bug, for tests that try them all.
    pub const ALL: [Bug; 7] = [
        Bug::VoteNotPersisted,
        Bug::IgnoreTermInReplies,
        Bug::CommitOldTermByCounting,
        Bug::InstallStaleSnapshot,
        Bug::BackupOneEntry,
        Bug::CountVotesWrong,
        Bug::TruncateOnEveryAppend,
    ];
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
            bug: None,
            coalesce_appends: false,
        }
    }

    /// Votes or replicas needed for a decision: a strict majority of `peers` (5.2, 5.4.2).
    pub fn quorum(&self) -> usize {
        self.peers / 2 + 1
    }

    /// Every peer but this one, in id order.
    pub(crate) fn others(&self) -> impl Iterator<Item = PeerId> + use<> {
        let me = self.id;
        (0..self.peers).map(PeerId).filter(move |p| *p != me)
    }
}
