//! Committed entries are kept (Figure 2, AppendEntries receiver steps 3 and 5): a peer
//! deletes entries only where they conflict with the leader's, which committed entries never
//! do, and it moves its commit index no further than "the index of the last new entry". So a
//! peer's log always reaches its commit index, and an entry it held that some peer has shown
//! committed (same index, same term) is still there at each later look at that incarnation,
//! unless a snapshot now covers it. A follower that truncates after `prev_log_index` on every
//! AppendEntries breaks this as soon as an old or reordered one arrives, often before any
//! apply goes wrong.
//!
//! Only the first index where a look differs from the previous one (found by the monitor's
//! log mirror as it takes the look in) is compared with the committed prefix: if the entry
//! there was not the committed one, no later one was either (Log Matching, checked on its
//! own).

use super::committed::Committed;
use super::{Breach, Property, Step};

/// Figure 2: the log reaches the commit index, and committed entries stay.
pub(super) fn check(step: &Step<'_>, committed: &Committed) -> Result<(), Breach> {
    let view = step.view;
    let peer = step.peer;
    if view.commit_index > view.last_index() {
        return Err(Breach::new(
            Property::CommittedKept,
            format!(
                "peer {peer} has commit index {} but its log ends at {}",
                view.commit_index,
                view.last_index()
            ),
        ));
    }
    if step.prev.is_none() {
        return Ok(());
    }
    let Some((index, had)) = step.diff.changed else {
        return Ok(());
    };
    match committed.term(index) {
        Some((term, shown_by)) if term == had => {
            let now = match view.term_at(index) {
                Some(now) => format!("now has term {now}"),
                None => format!("is gone (the log ends at {})", view.last_index()),
            };
            let by = if shown_by == peer {
                "it".to_string()
            } else {
                format!("peer {shown_by}")
            };
            Err(Breach::new(
                Property::CommittedKept,
                format!(
                    "peer {peer} removed a committed entry: index {index} (term {had}, shown \
                     committed by {by}) {now}"
                ),
            ))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use lab_api::{RaftView, Role};

    use crate::invariants::Property;
    use crate::invariants::script::Script;

    fn follower(term: u64, commit_index: u64, log_terms: &[u64]) -> RaftView {
        RaftView {
            term,
            role: Role::Follower,
            commit_index,
            log_terms: log_terms.to_vec(),
            ..RaftView::default()
        }
    }

    #[test]
    fn silent_when_uncommitted_entries_go_and_a_snapshot_covers_committed_ones() {
        let mut script = Script::new(3);
        script.see(1, follower(2, 2, &[1, 1, 2, 2])).unwrap();
        // The uncommitted entries 3 and 4 conflict with a new leader's and go (§5.3).
        script.see(1, follower(3, 2, &[1, 1, 3])).unwrap();
        script.see(1, follower(3, 3, &[1, 1, 3, 3])).unwrap();
        // A snapshot through index 3 compacts committed entries away.
        let compacted = RaftView {
            snapshot_index: 3,
            snapshot_term: 3,
            ..follower(3, 3, &[3])
        };
        script.see(1, compacted).unwrap();
        // After a restart the commit index starts over; nothing is compared across it.
        script.restart(1);
        script.see(1, follower(3, 0, &[1])).unwrap();
    }

    #[test]
    fn fires_when_the_commit_index_passes_the_log() {
        let mut script = Script::new(3);
        let violation = script.see(2, follower(2, 5, &[1, 1, 2])).unwrap_err();
        assert_eq!(violation.property, Property::CommittedKept);
        assert_eq!(
            violation.detail,
            "peer 2 has commit index 5 but its log ends at 3"
        );
    }

    #[test]
    fn fires_when_a_committed_entry_is_cut_off() {
        let mut script = Script::new(3);
        script.see(0, follower(2, 3, &[1, 1, 2, 2])).unwrap();
        // An old AppendEntries (prev_log_index 1) truncated after index 1, then appended one
        // entry; the commit index stayed 1.
        let violation = script.see(0, follower(2, 1, &[1, 1])).unwrap_err();
        assert_eq!(violation.property, Property::CommittedKept);
        assert_eq!(
            violation.detail,
            "peer 0 removed a committed entry: index 3 (term 2, shown committed by it) is gone \
             (the log ends at 2)"
        );
    }

    #[test]
    fn fires_when_a_committed_entry_changes_term() {
        let mut script = Script::new(3);
        script.see(0, follower(3, 2, &[1, 2, 2])).unwrap();
        let violation = script.see(0, follower(3, 2, &[1, 3, 3])).unwrap_err();
        assert_eq!(violation.property, Property::CommittedKept);
        assert_eq!(
            violation.detail,
            "peer 0 removed a committed entry: index 2 (term 2, shown committed by it) now has \
             term 3"
        );
    }

    #[test]
    fn fires_when_a_follower_cuts_off_what_the_leader_committed() {
        let mut script = Script::new(3);
        let leader = RaftView {
            role: Role::Leader,
            ..follower(2, 3, &[1, 1, 2])
        };
        script.see(1, follower(2, 1, &[1, 1, 2])).unwrap();
        script.see(0, leader).unwrap();
        let violation = script.see(1, follower(2, 1, &[1, 1])).unwrap_err();
        assert_eq!(violation.property, Property::CommittedKept);
        assert_eq!(
            violation.detail,
            "peer 1 removed a committed entry: index 3 (term 2, shown committed by peer 0) is \
             gone (the log ends at 2)"
        );
    }

    #[test]
    fn silent_when_a_follower_replaces_entries_that_lost() {
        let mut script = Script::new(3);
        // Peer 1 holds entries of term 2 that never committed; the leader of term 3
        // committed index 3 with its own entry, and peer 1 takes it.
        script.see(1, follower(2, 2, &[1, 1, 2, 2])).unwrap();
        let leader = RaftView {
            role: Role::Leader,
            ..follower(3, 3, &[1, 1, 3])
        };
        script.see(0, leader).unwrap();
        script.see(1, follower(3, 3, &[1, 1, 3])).unwrap();
    }
}
