//! The commit rule (§5.4.2, Figure 8; Figure 2 "Rules for Servers", leaders: "If there
//! exists an N such that N > commitIndex, a majority of matchIndex[i] >= N, and log[N].term
//! == currentTerm: set commitIndex = N"). A leader never commits an entry of an earlier term
//! by counting replicas: Figure 8 shows such an entry overwritten after it was stored on a
//! majority. Earlier entries are committed only together with one of its own term, so
//! whenever a leader's commit index advances within its term, the new commit index holds an
//! entry of that term.
//!
//! Checked between consecutive looks at one incarnation leading the same term. A commit index
//! inside the snapshot is not checked (the entry is no longer shown); at the snapshot's last
//! entry its term is used.

use lab_api::Role;

use super::{Breach, Property, Step};

/// §5.4.2, Figure 8: a leader's commit index advances only to an entry of its own term.
pub(super) fn check(step: &Step<'_>) -> Result<(), Breach> {
    let Some(prev) = step.prev else { return Ok(()) };
    let view = step.view;
    let (term, from, to) = (view.term, prev.commit_index, view.commit_index);
    if view.role != Role::Leader || prev.leading() != Some(term) || to <= from {
        return Ok(());
    }
    if to < view.snapshot_index {
        return Ok(());
    }
    let found = match view.term_at(to) {
        Some(held) if held == term => return Ok(()),
        Some(held) => format!("an entry of term {held}"),
        None => format!("beyond its last entry {}", view.last_index()),
    };
    Err(Breach::new(
        Property::CommitRule,
        format!(
            "leader {} of term {term} advanced its commit index from {from} to {to}, {found}",
            step.peer
        ),
    ))
}

#[cfg(test)]
mod tests {
    use lab_api::{RaftView, Role};

    use crate::invariants::Property;
    use crate::invariants::script::Script;

    fn leader(term: u64, commit_index: u64, log_terms: &[u64]) -> RaftView {
        RaftView {
            term,
            role: Role::Leader,
            commit_index,
            log_terms: log_terms.to_vec(),
            ..RaftView::default()
        }
    }

    #[test]
    fn silent_when_older_entries_are_committed_with_one_of_the_leaders_term() {
        let mut script = Script::new(3);
        script.see(0, leader(3, 1, &[1, 2, 2])).unwrap();
        script.see(0, leader(3, 1, &[1, 2, 2, 3])).unwrap();
        script.see(0, leader(3, 4, &[1, 2, 2, 3])).unwrap();
        script.see(0, leader(3, 5, &[1, 2, 2, 3, 3])).unwrap();
        // The commit index reaches the snapshot's last entry, of the leader's term.
        let snapshot = RaftView {
            snapshot_index: 5,
            snapshot_term: 3,
            ..leader(3, 5, &[3])
        };
        script.see(0, snapshot).unwrap();
        script
            .see(
                0,
                RaftView {
                    snapshot_index: 5,
                    snapshot_term: 3,
                    ..leader(3, 6, &[3])
                },
            )
            .unwrap();
        // A new leader arrives with a commit index learnt as a follower.
        script.see(1, leader(4, 3, &[1, 2, 2, 3, 3, 3])).unwrap();
    }

    #[test]
    fn fires_on_a_leader_committing_an_older_term_entry_by_counting_replicas() {
        // Figure 8 (c): S1 leads term 4 and commits index 2, of term 2.
        let mut script = Script::new(5);
        script.see(0, leader(4, 1, &[1, 2, 4])).unwrap();
        let violation = script.see(0, leader(4, 2, &[1, 2, 4])).unwrap_err();
        assert_eq!(violation.property, Property::CommitRule);
        assert_eq!(
            violation.detail,
            "leader 0 of term 4 advanced its commit index from 1 to 2, an entry of term 2"
        );
    }

    #[test]
    fn fires_on_a_commit_index_beyond_the_log() {
        let mut script = Script::new(3);
        script.see(2, leader(2, 0, &[1, 2])).unwrap();
        let violation = script.see(2, leader(2, 3, &[1, 2])).unwrap_err();
        assert_eq!(violation.property, Property::CommitRule);
        assert_eq!(
            violation.detail,
            "leader 2 of term 2 advanced its commit index from 0 to 3, beyond its last entry 2"
        );
    }
}
