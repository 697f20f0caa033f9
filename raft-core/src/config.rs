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
