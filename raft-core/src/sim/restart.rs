//! Crashes and restarts from what a peer persisted, and planted persistent states (how a
//! test sets up the logs of the paper's figures).

use bytes::Bytes;

use super::Sim;
use super::mirror::DeltaMirror;
use super::service::{Service, peer_seed};
use crate::raft::Raft;
use crate::types::{LogIndex, PeerId, Term};

impl Sim {
    /// Stops `p`; its requests in flight vanish, what it persisted stays.
    pub fn crash(&mut self, p: usize) {
        self.nodes[p].raft = None;
        self.queue.retain(|e| e.from.0 != p);
        self.note(format!("p{p} crashes"));
    }

    /// Restarts `p` from what it persisted.
    pub fn restart(&mut self, p: usize) {
        assert!(
            self.checked,
            "an unchecked sim keeps no state to restart from"
        );
        let seed = self.seed;
        let node = &mut self.nodes[p];
        node.incarnation += 1;
        let raft = Raft::restore(
            node.config.clone(),
            peer_seed(seed, p, node.incarnation),
            &node.state,
            node.snapshot.clone(),
        )
        .expect("persisted state decodes");
        node.service = Service::restore(raft.snapshot_index(), &node.snapshot);
        node.mirror = DeltaMirror::of(&raft);
        node.seen = (raft.role(), raft.current_term());
        self.checker.restarted(PeerId(p), raft.snapshot_index());
        node.raft = Some(raft);
        self.plan_snapshot(p);
        self.note(format!("p{p} restarts"));
        self.check();
    }

    /// Crashes `p`, replaces what it persisted with `current_term`, `voted_for` and a log of
    /// entries with the given terms (commands "t<term>i<index>"), and restarts it: how a test
    /// sets up the logs of the paper's figures.
    pub fn install_state(
        &mut self,
        p: usize,
        current_term: u64,
        voted_for: Option<usize>,
        log_terms: &[u64],
    ) {
        self.crash(p);
        let entries: Vec<_> = log_terms
            .iter()
            .enumerate()
            .map(|(i, t)| crate::Entry {
                term: Term(*t),
                command: Bytes::from(format!("t{t}i{}", i + 1)),
            })
            .collect();
        let header = crate::StateHeader {
            current_term: Term(current_term),
            voted_for: voted_for.map(PeerId),
            snapshot_index: LogIndex(0),
            snapshot_term: Term(0),
            entries: entries.len() as u64,
        };
        let node = &mut self.nodes[p];
        node.state = crate::persist::encode(&header, entries.iter());
        node.snapshot = Bytes::new();
        self.restart(p);
    }

    /// The terms of `p`'s log after its snapshot, for comparing logs in tests.
    pub fn log_terms(&self, p: usize) -> Vec<u64> {
        let raft = self.raft(p);
        (raft.snapshot_index().0 + 1..=raft.last_log_index().0)
            .filter_map(|i| raft.term_at(LogIndex(i)).map(|t| t.0))
            .collect()
    }
}
