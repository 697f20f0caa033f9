//! Commitment (5.4.2, Figure 8) and applying committed entries (Figure 2 "all servers").
//!
//! The leader commits index N once a majority holds it AND the entry at N has the leader's
//! current term. An entry from an earlier term is never committed by counting replicas: the
//! Figure 8 scenario shows such an entry can still be overwritten by a later leader. It
//! becomes committed only indirectly, when an entry of the current term after it commits
//! (Log Matching then covers everything before). Every peer applies committed entries in
//! index order, each exactly once.

use crate::output::Apply;
use crate::raft::Raft;
use crate::role::RoleState;

impl Raft {
    /// Figure 2 rules for leaders: "if there exists an N > commitIndex such that a majority
    /// of matchIndex[i] >= N, and log[N].term == currentTerm: set commitIndex = N" (5.3, 5.4).
    pub(crate) fn leader_advance_commit(&mut self) {
        let quorum = self.config.quorum();
        let me = self.config.id.0;
        let last = self.log.last_index();
        let RoleState::Leader(leader) = &mut self.role else {
            return;
        };
        leader.progress[me].match_index = last;
        leader.scratch.clear();
        leader
            .scratch
            .extend(leader.progress.iter().map(|p| p.match_index));
        // The quorum-th largest match index is held by a majority.
        leader.scratch.sort_unstable_by(|a, b| b.cmp(a));
        let n = leader.scratch[quorum - 1];
        // 5.4.2: only an entry of the current term commits by counting; terms never decrease
        // along the log, so no smaller N could qualify either.
        let counted = self.config.bug == Some(crate::Bug::CommitOldTermByCounting);
        if n > self.commit_index && (counted || self.log.term_at(n) == Some(self.current_term)) {
            self.commit_index = n;
        }
    }

    /// Figure 2 all servers: "if commitIndex > lastApplied: increment lastApplied, apply
    /// log[lastApplied] to the state machine". Emits each command once, in order.
    pub(crate) fn apply_committed(&mut self) {
        while self.last_applied < self.commit_index {
            let index = self.last_applied.next();
            let entry = self
                .log
                .get(index)
                .expect("invariant: entries after last_applied are not compacted");
            self.pending.apply.push(Apply::Command {
                index,
                term: entry.term,
                command: entry.command.clone(),
            });
            self.last_applied = index;
        }
    }
}
