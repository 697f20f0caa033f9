//! Leader Completeness (§5.4): "if a log entry is committed in a given term, then that entry
//! will be present in the logs of the leaders for all higher-numbered terms." The election
//! restriction (§5.4.1) is what guarantees it: a voter refuses a candidate whose log is less
//! up-to-date than its own.
//!
//! A peer seen leading term `T` must hold, with the same term, every entry some peer showed
//! committed while in a term below `T` (see `committed.rs`), as far as its view shows them:
//! entries inside its snapshot are not shown, the snapshot's last entry is compared by its
//! term. A stale leader of an older term need not hold what later terms committed.
//!
//! Incremental: a leader's log only grows during its term (Leader Append-Only, checked
//! separately), so per (peer, incarnation, term) the monitor remembers up to which index it
//! has verified the leader, and each look checks only the newly required entries.

use lab_api::Role;

use super::committed::Committed;
use super::{Breach, Property, Step};

/// Per peer, how far its current leadership has been verified.
#[derive(Debug)]
pub(super) struct Completeness {
    verified: Vec<Option<Verified>>,
}

/// Peer's incarnation `incarnation`, leading `term`, holds every required entry up to `upto`.
#[derive(Clone, Copy, Debug)]
struct Verified {
    incarnation: u64,
    term: u64,
    upto: u64,
}

impl Completeness {
    pub(super) fn new(peers: usize) -> Self {
        Completeness {
            verified: vec![None; peers],
        }
    }

    /// §5.4 Leader Completeness: a leader holds every entry committed in an earlier term.
    pub(super) fn check(&mut self, step: &Step<'_>, committed: &Committed) -> Result<(), Breach> {
        let view = step.view;
        if view.role != Role::Leader {
            return Ok(());
        }
        let (peer, term) = (step.peer, view.term);
        let done = match self.verified[peer] {
            Some(v) if v.incarnation == step.incarnation && v.term == term => v.upto,
            _ => 0,
        };
        let required = committed.required_before(term);
        for index in (done + 1).max(view.snapshot_index).max(1)..=required {
            let Some((committed_term, _)) = committed.term(index) else {
                continue;
            };
            let held = view.term_at(index);
            if held != Some(committed_term) {
                return Err(missing(step, index, committed_term, held, committed));
            }
        }
        self.verified[peer] = Some(Verified {
            incarnation: step.incarnation,
            term,
            upto: done.max(required),
        });
        Ok(())
    }
}

fn missing(
    step: &Step<'_>,
    index: u64,
    committed_term: u64,
    held: Option<u64>,
    committed: &Committed,
) -> Breach {
    let holds = match held {
        Some(held) => format!("holds term {held} at index {index}"),
        None => format!(
            "lacks index {index} (its log ends at {})",
            step.view.last_index()
        ),
    };
    let shown = committed.stair(index).map_or(String::new(), |stair| {
        format!(
            ", which peer {} showed committed while in term {}",
            stair.peer, stair.term
        )
    });
    Breach::new(
        Property::LeaderCompleteness,
        format!(
            "leader {} of term {} {holds}, but index {index} was committed with term \
             {committed_term}{shown}",
            step.peer, step.view.term
        ),
    )
}

#[cfg(test)]
mod tests {
    use lab_api::{RaftView, Role};

    use crate::invariants::Property;
    use crate::invariants::script::Script;

    fn peer(term: u64, role: Role, commit_index: u64, log_terms: &[u64]) -> RaftView {
        RaftView {
            term,
            role,
            commit_index,
            log_terms: log_terms.to_vec(),
            ..RaftView::default()
        }
    }

    #[test]
    fn silent_for_complete_leaders_snapshots_and_stale_leaders() {
        use Role::{Follower, Leader};
        let mut script = Script::new(5);
        // Term 2: peer 0 leads and commits 1..=4 on peers 0, 1, 2.
        script.see(3, peer(1, Leader, 0, &[1])).unwrap();
        script.see(0, peer(2, Leader, 4, &[1, 2, 2, 2])).unwrap();
        script.see(1, peer(2, Follower, 4, &[1, 2, 2, 2])).unwrap();
        // Peer 3, the partitioned leader of term 1, lacks them: it is of an older term.
        script.see(3, peer(1, Leader, 0, &[1, 1, 1])).unwrap();
        // Term 3: peer 1 leads, holding 1..=4, and commits 5..=6.
        script.see(1, peer(3, Leader, 4, &[1, 2, 2, 2, 3])).unwrap();
        script
            .see(1, peer(3, Leader, 6, &[1, 2, 2, 2, 3, 3]))
            .unwrap();
        // Peer 0, partitioned since term 2, still leads it without 5..=6.
        script.see(0, peer(2, Leader, 4, &[1, 2, 2, 2, 2])).unwrap();
        // Term 4: peer 2 leads with the committed prefix in its snapshot.
        let snapshot = RaftView {
            snapshot_index: 5,
            snapshot_term: 3,
            ..peer(4, Leader, 5, &[3, 4])
        };
        script.see(2, snapshot).unwrap();
    }

    #[test]
    fn fires_on_a_leader_without_an_entry_committed_in_an_earlier_term() {
        let mut script = Script::new(3);
        script.see(0, peer(2, Role::Leader, 3, &[1, 2, 2])).unwrap();
        script.see(1, peer(3, Role::Candidate, 0, &[1, 2])).unwrap();
        let violation = script
            .see(1, peer(3, Role::Leader, 0, &[1, 2]))
            .unwrap_err();
        assert_eq!(violation.property, Property::LeaderCompleteness);
        assert_eq!(
            violation.detail,
            "leader 1 of term 3 lacks index 3 (its log ends at 2), but index 3 was committed \
             with term 2, which peer 0 showed committed while in term 2"
        );
    }

    #[test]
    fn fires_on_a_leader_whose_entry_differs_from_the_committed_one() {
        let mut script = Script::new(3);
        script.see(0, peer(2, Role::Leader, 2, &[1, 2, 2])).unwrap();
        let violation = script
            .see(2, peer(3, Role::Leader, 0, &[1, 1, 3]))
            .unwrap_err();
        assert_eq!(violation.property, Property::LeaderCompleteness);
        assert_eq!(
            violation.detail,
            "leader 2 of term 3 holds term 1 at index 2, but index 2 was committed with term 2, \
             which peer 0 showed committed while in term 2"
        );
    }

    #[test]
    fn fires_when_the_commit_is_learnt_after_the_leader_was_first_checked() {
        let mut script = Script::new(3);
        script.see(0, peer(2, Role::Leader, 0, &[1, 2])).unwrap();
        script.see(1, peer(4, Role::Leader, 0, &[1, 4])).unwrap();
        // Peer 2, still in term 2, shows index 2 committed: leader 1 of term 4 lacks it.
        script.see(2, peer(2, Role::Follower, 2, &[1, 2])).unwrap();
        let violation = script
            .see(1, peer(4, Role::Leader, 0, &[1, 4]))
            .unwrap_err();
        assert_eq!(violation.property, Property::LeaderCompleteness);
    }
}
