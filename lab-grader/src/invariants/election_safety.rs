//! Election Safety (§5.2): at most one leader can be elected in a given term. A candidate
//! needs votes from a majority and each peer votes once per term, so two leaders of one term
//! mean a vote was given twice or counted wrongly. Checked over the whole test, across
//! restarts: the first peer seen leading a term owns it.

use std::collections::BTreeMap;

use lab_api::Role;

use super::{Breach, Property, Step};

/// The first peer seen as leader of each term.
#[derive(Debug, Default)]
pub(super) struct Leaders {
    first: BTreeMap<u64, usize>,
}

impl Leaders {
    /// §5.2: another peer seen leading a term that already has a leader is a violation.
    pub(super) fn check(&mut self, step: &Step<'_>) -> Result<(), Breach> {
        if step.view.role != Role::Leader {
            return Ok(());
        }
        let term = step.view.term;
        let first = *self.first.entry(term).or_insert(step.peer);
        if first == step.peer {
            return Ok(());
        }
        Err(Breach::new(
            Property::ElectionSafety,
            format!(
                "peers {first} and {} were both leader in term {term}",
                step.peer
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use lab_api::{RaftView, Role};

    use crate::invariants::Property;
    use crate::invariants::script::Script;

    fn leader(term: u64) -> RaftView {
        RaftView {
            term,
            role: Role::Leader,
            ..RaftView::default()
        }
    }

    fn candidate(term: u64) -> RaftView {
        RaftView {
            term,
            role: Role::Candidate,
            ..RaftView::default()
        }
    }

    #[test]
    fn silent_over_many_terms_and_restarts() {
        let mut script = Script::new(5);
        for term in 1..=60 {
            let winner = usize::try_from(term * 7 % 5).unwrap();
            script.see((winner + 1) % 5, candidate(term)).unwrap();
            script.see(winner, leader(term)).unwrap();
            script.see(winner, leader(term)).unwrap();
            if term % 10 == 0 {
                // The leader crashes and comes back still in its term, as a follower.
                script.restart(winner);
                script
                    .see(
                        winner,
                        RaftView {
                            term,
                            ..RaftView::default()
                        },
                    )
                    .unwrap();
            }
        }
    }

    #[test]
    fn fires_on_two_leaders_in_one_term() {
        let mut script = Script::new(5);
        script.see(1, leader(5)).unwrap();
        script.see(2, candidate(5)).unwrap();
        let violation = script.see(3, leader(5)).unwrap_err();
        assert_eq!(violation.property, Property::ElectionSafety);
        assert_eq!(violation.detail, "peers 1 and 3 were both leader in term 5");
    }

    #[test]
    fn fires_when_the_first_leader_has_crashed_since() {
        let mut script = Script::new(3);
        script.see(0, leader(2)).unwrap();
        script.restart(0);
        script
            .see(
                0,
                RaftView {
                    term: 2,
                    ..RaftView::default()
                },
            )
            .unwrap();
        let violation = script.see(2, leader(2)).unwrap_err();
        assert_eq!(violation.property, Property::ElectionSafety);
        assert_eq!(violation.detail, "peers 0 and 2 were both leader in term 2");
    }
}
