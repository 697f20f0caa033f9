//! Single-peer invariants of Figure 2 and section 7, checked after every input in debug and
//! test builds (each check is O(peers), so the dev-profile runtime stays fast):
//!
//! - `snapshot_index <= last_applied <= commit_index <= last_log_index` (Figure 2, 7);
//! - the last log term never exceeds `current_term` (a leader only creates entries of its
//!   term, 5.3);
//! - a candidate or leader has voted for itself in its term (5.2);
//! - for a leader: `match_index < next_index <= last_log_index + 1` for every follower, and
//!   its own match index is its last log index.

use crate::raft::Raft;
use crate::role::RoleState;

impl Raft {
    /// Panics (debug builds only) if an invariant is broken: that is a bug, not an input
    /// error.
    pub(crate) fn check_invariants(&self) {
        if cfg!(debug_assertions) {
            self.check_invariants_now();
        }
    }

    fn check_invariants_now(&self) {
        let last = self.log.last_index();
        assert!(
            self.log.snapshot_index() <= self.last_applied
                && self.last_applied <= self.commit_index
                && self.commit_index <= last,
            "index order broken: {self:?}"
        );
        assert!(
            self.log.last_term() <= self.current_term,
            "log ahead of term: {self:?}"
        );
        match &self.role {
            RoleState::Follower => {}
            RoleState::Candidate { .. } => {
                assert_eq!(
                    self.voted_for,
                    Some(self.config.id),
                    "candidate vote: {self:?}"
                );
            }
            RoleState::Leader(leader) => {
                assert_eq!(
                    self.voted_for,
                    Some(self.config.id),
                    "leader vote: {self:?}"
                );
                for (peer, pr) in leader.progress.iter().enumerate() {
                    if peer == self.config.id.0 {
                        continue;
                    }
                    assert!(
                        pr.match_index < pr.next_index && pr.next_index <= last.next(),
                        "progress of peer {peer} broken: {pr:?} in {self:?}"
                    );
                }
            }
        }
    }
}
