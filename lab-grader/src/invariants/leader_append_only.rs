//! Leader Append-Only (§5.3): "a leader never overwrites or deletes entries in its log; it
//! only appends new entries." Checked between consecutive looks at one incarnation that both
//! show it leading the same term: every entry of the earlier look after the later look's
//! snapshot must still be there with the same term, and the entry the later snapshot ends
//! with must have the term the earlier look showed there. Compacting a prefix into a
//! snapshot is allowed; followers may truncate conflicting entries (§5.3), so they are not
//! checked here. The monitor's log mirror finds the first entry that changed as it takes the
//! look in (`mirror.rs`), so the check costs nothing per entry.

use super::{Breach, Property, Step};

/// §5.3 Leader Append-Only, between the previous look and this one.
pub(super) fn check(step: &Step<'_>) -> Result<(), Breach> {
    let Some(prev) = step.prev else { return Ok(()) };
    let view = step.view;
    let term = view.term;
    if prev.leading() != Some(term) || view.role != lab_api::Role::Leader {
        return Ok(());
    }
    let changed = |index: u64, had: u64| {
        let now = match view.term_at(index) {
            Some(now) => format!("now {now}"),
            None => format!("now gone (the log ends at {})", view.last_index()),
        };
        Err(Breach::new(
            Property::LeaderAppendOnly,
            format!(
                "leader {} of term {term} changed its log: index {index} had term {had}, {now}",
                step.peer
            ),
        ))
    };
    // The snapshot now ends on an entry the previous look held: with the same term.
    if let Some(had) = step.diff.had_at_snapshot {
        if had != view.snapshot_term {
            return changed(view.snapshot_index, had);
        }
    }
    // Every entry the previous look held after the snapshot is still there.
    match step.diff.changed {
        Some((index, had)) => changed(index, had),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use lab_api::{RaftView, Role};

    use crate::invariants::Property;
    use crate::invariants::script::Script;

    fn leader(term: u64, log_terms: &[u64]) -> RaftView {
        RaftView {
            term,
            role: Role::Leader,
            log_terms: log_terms.to_vec(),
            ..RaftView::default()
        }
    }

    #[test]
    fn silent_when_a_leader_appends_and_compacts_and_followers_truncate() {
        let mut script = Script::new(3);
        script.see(0, leader(3, &[1, 1, 2])).unwrap();
        script.see(0, leader(3, &[1, 1, 2, 3, 3])).unwrap();
        // A snapshot through index 4 compacts the prefix.
        let compacted = RaftView {
            snapshot_index: 4,
            snapshot_term: 3,
            ..leader(3, &[3, 3])
        };
        script.see(0, compacted).unwrap();
        script
            .see(
                0,
                RaftView {
                    snapshot_index: 4,
                    snapshot_term: 3,
                    ..leader(3, &[3, 3, 3])
                },
            )
            .unwrap();
        // A follower drops the uncommitted entries of a deposed leader (§5.3).
        let follower = |log_terms: &[u64]| RaftView {
            term: 4,
            log_terms: log_terms.to_vec(),
            ..RaftView::default()
        };
        script.see(1, follower(&[1, 1, 2, 2, 2])).unwrap();
        script.see(1, follower(&[1, 1, 4])).unwrap();
        // So does a leader once deposed, and as the leader of a later term it may hold less.
        script.see(2, leader(2, &[1, 1, 2, 2])).unwrap();
        script
            .see(
                2,
                RaftView {
                    role: Role::Follower,
                    ..leader(5, &[1, 1, 4])
                },
            )
            .unwrap();
        script.see(2, leader(6, &[1, 1, 4])).unwrap();
    }

    #[test]
    fn fires_when_a_leader_drops_its_last_entries() {
        let mut script = Script::new(3);
        script.see(1, leader(3, &[1, 3, 3, 3])).unwrap();
        let violation = script.see(1, leader(3, &[1, 3])).unwrap_err();
        assert_eq!(violation.property, Property::LeaderAppendOnly);
        assert_eq!(
            violation.detail,
            "leader 1 of term 3 changed its log: index 3 had term 3, now gone (the log ends at 2)"
        );
    }

    #[test]
    fn fires_when_a_leader_overwrites_an_entry() {
        let mut script = Script::new(3);
        script.see(2, leader(4, &[1, 1, 2, 2, 4])).unwrap();
        let violation = script.see(2, leader(4, &[1, 1, 2, 4, 4])).unwrap_err();
        assert_eq!(violation.property, Property::LeaderAppendOnly);
        assert_eq!(
            violation.detail,
            "leader 2 of term 4 changed its log: index 4 had term 2, now 4"
        );
    }

    #[test]
    fn fires_when_a_leader_snapshot_disagrees_with_its_log() {
        let mut script = Script::new(3);
        script.see(0, leader(4, &[1, 2, 2, 4])).unwrap();
        let snapshot = RaftView {
            snapshot_index: 3,
            snapshot_term: 1,
            ..leader(4, &[4])
        };
        let violation = script.see(0, snapshot).unwrap_err();
        assert_eq!(violation.property, Property::LeaderAppendOnly);
        assert_eq!(
            violation.detail,
            "leader 0 of term 4 changed its log: index 3 had term 2, now 1"
        );
    }
}
