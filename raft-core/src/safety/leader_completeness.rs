//! Leader Completeness (5.4): an entry committed in a term is present in the logs of the
//! leaders of all higher terms. "Committed in" is the term in which the checker first saw it
//! committed, which (checked after every step) is the committing leader's term.

use super::{SafetyChecker, SafetyViolation};
use crate::raft::Raft;
use crate::types::LogIndex;

impl SafetyChecker {
    pub(super) fn check_leader_completeness(&self, peers: &[&Raft]) -> Result<(), SafetyViolation> {
        for leader in peers.iter().filter(|r| r.is_leader()) {
            let term = leader.current_term();
            for (i, c) in self.committed.iter().enumerate() {
                let Some(c) = c else { continue };
                let index = LogIndex(i as u64 + 1);
                if c.committed_in >= term || index <= leader.snapshot_index() {
                    continue;
                }
                if leader.term_at(index) != Some(c.term) {
                    return Err(SafetyViolation::LeaderIncomplete {
                        leader: leader.config().id,
                        term,
                        index,
                        committed_in: c.committed_in,
                    });
                }
            }
        }
        Ok(())
    }
}
