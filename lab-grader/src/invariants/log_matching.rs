//! Log Matching (§5.3): "if two logs contain an entry with the same index and term, then the
//! logs are identical in all entries up through the given index."
//!
//! Checked through an equivalent statement about runs of equal terms. The entries of term `t`
//! are all created by the one leader of `t` (Election Safety), at consecutive indices from
//! some `s_t`, right after the entry of some term `p_t` that leader held at `s_t - 1`. So in
//! every correct log the run of term `t`, whenever its beginning is visible, starts exactly at
//! `s_t` after an entry of term `p_t`. The monitor records `(s_t, p_t)` from the first run of
//! `t` it sees begin, and any other beginning is a violation. By induction over the runs
//! before it, two logs holding the same (index, term) then agree on every term up to it.
//!
//! A run's beginning is visible when the entry before it is shown: an entry of the log, or
//! the snapshot's last entry with a different term. A log whose first run has the snapshot's
//! term began that run inside the snapshot; it only tells that `s_t` is at most the snapshot
//! index.
//!
//! A run beginning checked at one look stays checked: its record never changes. So each look
//! compares only the beginnings it is the first of its incarnation to show (from the first
//! entry that changed, see `mirror.rs`, and right after a moved snapshot): a look costs the
//! entries that changed, not the log.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use super::{Breach, Property, Step};

/// Where each term's entries begin, as first seen.
#[derive(Debug, Default)]
pub(super) struct RunStarts {
    starts: BTreeMap<u64, Start>,
}

/// The first entry of a term, the term of the entry before it, and the peer that showed it.
#[derive(Clone, Copy, Debug)]
struct Start {
    index: u64,
    after: u64,
    peer: usize,
}

impl RunStarts {
    /// §5.3 Log Matching: every visible beginning of a term's run is that term's beginning.
    /// Only beginnings new to this incarnation are compared (the others were, at an earlier
    /// look, against a record that never changes since), in index order.
    pub(super) fn check(&mut self, step: &Step<'_>) -> Result<(), Breach> {
        let view = step.view;
        let (snapshot, snapshot_term) = (view.snapshot_index, view.snapshot_term);
        if snapshot > 0 {
            if let Some(start) = self.starts.get(&snapshot_term) {
                if start.index > snapshot {
                    return Err(Breach::new(
                        Property::LogMatching,
                        format!(
                            "peer {}'s snapshot ends at index {snapshot} with term \
                             {snapshot_term}, but peer {} holds the entries of term \
                             {snapshot_term} from index {} on",
                            step.peer, start.peer, start.index
                        ),
                    ));
                }
            }
        }
        let first = snapshot + 1;
        let from = step.diff.fresh_from.max(first);
        if step.diff.snapshot_moved && from > first {
            // The entry after a moved snapshot may begin a run the last look did not see
            // begin there.
            if let Some(term) = view.term_at(first) {
                self.begins(step, first, term, snapshot_term)?;
            }
        }
        let Some(mut before) = view.term_at(from - 1) else {
            return Ok(());
        };
        for (index, &term) in (from..).zip(view.log.terms_from(from)) {
            self.begins(step, index, term, before)?;
            before = term;
        }
        Ok(())
    }

    /// The entry at `index` has term `term` after an entry of term `after`: if that begins a
    /// run, it must be where the term's run began wherever seen.
    fn begins(&mut self, step: &Step<'_>, index: u64, term: u64, after: u64) -> Result<(), Breach> {
        if term == after {
            return Ok(()); // not a beginning, or one inside the snapshot
        }
        let seen = Start {
            index,
            after,
            peer: step.peer,
        };
        match self.starts.entry(term) {
            Entry::Vacant(slot) => {
                slot.insert(seen);
            }
            Entry::Occupied(slot) => {
                let first = *slot.get();
                if first.index != seen.index || first.after != seen.after {
                    return Err(different_histories(term, first, seen));
                }
            }
        }
        Ok(())
    }
}

fn different_histories(term: u64, first: Start, seen: Start) -> Breach {
    let from = |start: Start| {
        format!(
            "from index {} after an entry of term {}",
            start.index, start.after
        )
    };
    let detail = if first.peer == seen.peer {
        format!(
            "peer {} has held entries of term {term} {}, and {}",
            seen.peer,
            from(first),
            from(seen)
        )
    } else {
        format!(
            "peers {} and {} both hold entries of term {term}, after different histories: {} \
             and {}",
            first.peer,
            seen.peer,
            from(first),
            from(seen)
        )
    };
    Breach::new(Property::LogMatching, detail)
}

#[cfg(test)]
mod tests {
    use lab_api::RaftView;

    use crate::invariants::Property;
    use crate::invariants::script::Script;

    fn log(log_terms: &[u64]) -> RaftView {
        RaftView {
            term: 9,
            log_terms: log_terms.to_vec(),
            ..RaftView::default()
        }
    }

    #[test]
    fn silent_on_lagging_divergent_and_compacted_logs() {
        let mut script = Script::new(5);
        script.see(0, log(&[1, 1, 2, 2, 4, 4, 4])).unwrap();
        script.see(1, log(&[1, 1, 2])).unwrap();
        // Uncommitted entries of deposed leaders, on other peers.
        script.see(2, log(&[1, 1, 2, 3, 3])).unwrap();
        script.see(3, log(&[1, 1, 2, 2, 5])).unwrap();
        // Compacted: the run of term 2 began inside the snapshot, the run of 4 after it.
        let compacted = |snapshot_index, snapshot_term, log_terms: &[u64]| RaftView {
            snapshot_index,
            snapshot_term,
            ..log(log_terms)
        };
        script.see(4, compacted(3, 2, &[2, 4, 4])).unwrap();
        script.see(4, compacted(4, 2, &[4, 4, 4, 6])).unwrap();
        script.see(4, compacted(9, 6, &[])).unwrap();
        script.see(1, compacted(8, 6, &[6, 6])).unwrap();
    }

    #[test]
    fn fires_on_logs_that_share_an_entry_but_differ_before_it() {
        // Both hold term 3 at index 3; before it, term 1 and term 2.
        let mut script = Script::new(3);
        script.see(0, log(&[1, 1, 3])).unwrap();
        let violation = script.see(1, log(&[1, 2, 3])).unwrap_err();
        assert_eq!(violation.property, Property::LogMatching);
        assert_eq!(
            violation.detail,
            "peers 0 and 1 both hold entries of term 3, after different histories: from index 3 \
             after an entry of term 1 and from index 3 after an entry of term 2"
        );
        // Both hold term 3 at index 4; the runs of term 2 begin at different indices.
        let mut script = Script::new(3);
        script.see(2, log(&[1, 1, 2, 3])).unwrap();
        let violation = script.see(0, log(&[1, 2, 2, 3])).unwrap_err();
        assert_eq!(violation.property, Property::LogMatching);
        assert!(violation.detail.contains("term 2"), "{}", violation.detail);
        assert!(
            violation.detail.contains("from index 3 "),
            "{}",
            violation.detail
        );
        assert!(
            violation.detail.contains("from index 2 "),
            "{}",
            violation.detail
        );
    }

    #[test]
    fn fires_on_a_term_that_comes_back_in_one_log() {
        let mut script = Script::new(3);
        let violation = script.see(1, log(&[1, 2, 1])).unwrap_err();
        assert_eq!(violation.property, Property::LogMatching);
        assert_eq!(
            violation.detail,
            "peer 1 has held entries of term 1 from index 1 after an entry of term 0, and from \
             index 3 after an entry of term 2"
        );
    }

    #[test]
    fn fires_on_a_snapshot_that_ends_before_its_term_began() {
        let mut script = Script::new(3);
        script.see(0, log(&[1, 1, 1, 2, 2])).unwrap();
        let snapshot = RaftView {
            snapshot_index: 2,
            snapshot_term: 2,
            ..log(&[2])
        };
        let violation = script.see(1, snapshot).unwrap_err();
        assert_eq!(violation.property, Property::LogMatching);
        assert_eq!(
            violation.detail,
            "peer 1's snapshot ends at index 2 with term 2, but peer 0 holds the entries of term \
             2 from index 4 on"
        );
    }
}
