//! Election Safety (5.2): at most one leader can be elected in a given term. Checked over
//! history: every (term, leader) ever observed is remembered.

use super::{SafetyChecker, SafetyViolation};
use crate::raft::Raft;

impl SafetyChecker {
    pub(super) fn check_election_safety(&mut self, peers: &[&Raft]) -> Result<(), SafetyViolation> {
        for raft in peers.iter().filter(|r| r.is_leader()) {
            let term = raft.current_term();
            let me = raft.config().id;
            let first = *self.leaders.entry(term).or_insert(me);
            if first != me {
                return Err(SafetyViolation::TwoLeaders {
                    term,
                    first,
                    second: me,
                });
            }
        }
        Ok(())
    }
}
