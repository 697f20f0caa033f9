//! The committed prefix as the monitor has seen it, for Leader Completeness (§5.4) and
//! State Machine Safety.
//!
//! For each index, the term of the entry some peer showed committed (its commit index at or
//! past it), and, as a staircase, the lowest term a peer was in while showing it committed:
//! an entry shown committed by a peer in term `m` was committed by a leader of a term at most
//! `m` (a peer learns its commit index from a leader of its term or an earlier one), so every
//! leader of a later term must hold it. The lowest such `m` only grows with the index, so it
//! is kept as steps.
//!
//! Two peers that show different terms at an index both have committed is a Log Matching
//! breach (§5.3) that the run check cannot see (both runs may begin correctly), and the
//! State Machine Safety violation the lab's appliers would find later. Each (peer,
//! incarnation) is compared once per entry: entries up to a peer's commit index never change.

use super::{Breach, Property, Step};

/// Indices past this are not tracked: a peer showing a snapshot index or commit index this
/// large is broken in a way the lab's own checks report, and the monitor must not allocate
/// for it.
const MAX_TRACKED: u64 = 1 << 24;

/// The committed prefix, as observed.
#[derive(Debug)]
pub(super) struct Committed {
    /// `terms[i]`: the term of committed index `i`, or 0 while unknown (index 0 unused).
    terms: Vec<u64>,
    /// `shown_by[i]`: the peer that first showed it.
    shown_by: Vec<usize>,
    /// Indices `prev.upto + 1 ..= upto` were shown committed by a peer in term `term`, and
    /// by none in an earlier term; `upto` and `term` both increase along the steps.
    steps: Vec<Stair>,
    /// Per peer, (incarnation, index up to which its log was compared with `terms`).
    compared: Vec<(u64, u64)>,
}

/// One step of the staircase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Stair {
    /// The last index of the step.
    pub(super) upto: u64,
    /// The lowest term of a peer that showed these indices committed.
    pub(super) term: u64,
    /// That peer.
    pub(super) peer: usize,
}

impl Committed {
    pub(super) fn new(peers: usize) -> Self {
        Committed {
            terms: vec![0],
            shown_by: vec![0],
            steps: Vec::new(),
            compared: vec![(0, 0); peers],
        }
    }

    /// Records what this look shows committed; two peers disagreeing on a committed index
    /// break Log Matching (§5.3).
    pub(super) fn record(&mut self, step: &Step<'_>) -> Result<(), Breach> {
        let view = step.view;
        self.lower(Stair {
            upto: view.commit_index,
            term: view.term,
            peer: step.peer,
        });
        let (incarnation, done) = self.compared[step.peer];
        let done = if incarnation == step.incarnation {
            done
        } else {
            0
        };
        let to = view.commit_index.min(view.last_index()).min(MAX_TRACKED);
        let from = (done + 1).max(view.snapshot_index).max(1);
        for index in from..=to {
            let Some(term) = view.term_at(index) else {
                continue;
            };
            let slot = index as usize;
            if self.terms.len() <= slot {
                self.terms.resize(slot + 1, 0);
                self.shown_by.resize(slot + 1, 0);
            }
            let known = self.terms[slot];
            if known == 0 {
                self.terms[slot] = term;
                self.shown_by[slot] = step.peer;
            } else if known != term {
                return Err(Breach::new(
                    Property::LogMatching,
                    format!(
                        "peers {} and {} hold different terms ({known} and {term}) at committed \
                         index {index}",
                        self.shown_by[slot], step.peer
                    ),
                ));
            }
        }
        self.compared[step.peer] = (step.incarnation, done.max(to));
        Ok(())
    }

    /// The term and first holder of committed index `index`, if known.
    pub(super) fn term(&self, index: u64) -> Option<(u64, usize)> {
        let slot = usize::try_from(index).ok()?;
        let term = *self.terms.get(slot)?;
        (term != 0).then(|| (term, self.shown_by[slot]))
    }

    /// The highest index some peer showed committed while in a term below `term`: a leader
    /// of `term` must hold every committed entry up to it (§5.4).
    pub(super) fn required_before(&self, term: u64) -> u64 {
        let below = self.steps.partition_point(|stair| stair.term < term);
        below.checked_sub(1).map_or(0, |k| self.steps[k].upto)
    }

    /// The step holding `index`, if any peer showed it committed.
    pub(super) fn stair(&self, index: u64) -> Option<Stair> {
        let k = self.steps.partition_point(|stair| stair.upto < index);
        self.steps.get(k).copied()
    }

    /// Indices `1..=new.upto` were shown committed in term `new.term`: lowers the staircase
    /// there to that term.
    fn lower(&mut self, new: Stair) {
        if new.upto == 0 {
            return;
        }
        // Steps before `k` have terms at most `new.term`; from `k` on, higher.
        let k = self.steps.partition_point(|stair| stair.term <= new.term);
        let covered = k.checked_sub(1).map_or(0, |j| self.steps[j].upto);
        if covered >= new.upto {
            return;
        }
        // Steps from `k` ending at or before `new.upto` are now all `new.term`.
        let end = k + self.steps[k..].partition_point(|stair| stair.upto <= new.upto);
        self.steps.drain(k..end);
        match k.checked_sub(1).map(|j| &mut self.steps[j]) {
            Some(last) if last.term == new.term => last.upto = new.upto,
            _ => self.steps.insert(k, new),
        }
    }
}

#[cfg(test)]
mod tests {
    use lab_api::RaftView;

    use super::{Committed, Stair};
    use crate::invariants::Property;
    use crate::invariants::script::Script;

    fn stairs(steps: &[(u64, u64)]) -> Vec<Stair> {
        steps
            .iter()
            .map(|&(upto, term)| Stair {
                upto,
                term,
                peer: 0,
            })
            .collect()
    }

    #[test]
    fn staircase_keeps_the_lowest_term_per_index() {
        let mut committed = Committed::new(1);
        let lower = |committed: &mut Committed, upto, term| {
            committed.lower(Stair {
                upto,
                term,
                peer: 0,
            });
        };
        lower(&mut committed, 3, 2);
        lower(&mut committed, 5, 4);
        lower(&mut committed, 9, 6);
        assert_eq!(committed.steps, stairs(&[(3, 2), (5, 4), (9, 6)]));
        // A peer still in term 3 shows index 7 committed: 4..=7 drop to term 3.
        lower(&mut committed, 7, 3);
        assert_eq!(committed.steps, stairs(&[(3, 2), (7, 3), (9, 6)]));
        lower(&mut committed, 8, 2);
        assert_eq!(committed.steps, stairs(&[(8, 2), (9, 6)]));
        lower(&mut committed, 4, 7);
        assert_eq!(committed.steps, stairs(&[(8, 2), (9, 6)]));
        lower(&mut committed, 12, 6);
        assert_eq!(committed.steps, stairs(&[(8, 2), (12, 6)]));
        assert_eq!(committed.required_before(2), 0);
        assert_eq!(committed.required_before(3), 8);
        assert_eq!(committed.required_before(7), 12);
        assert_eq!(committed.stair(10).map(|stair| stair.term), Some(6));
        assert_eq!(committed.stair(13), None);
    }

    #[test]
    fn silent_when_followers_truncate_only_uncommitted_entries() {
        let mut script = Script::new(3);
        let peer = |term, commit_index, log_terms: &[u64]| RaftView {
            term,
            commit_index,
            log_terms: log_terms.to_vec(),
            ..RaftView::default()
        };
        script.see(0, peer(2, 2, &[1, 1, 2, 2])).unwrap();
        script.see(1, peer(3, 2, &[1, 1, 3])).unwrap();
        script.see(0, peer(3, 3, &[1, 1, 3])).unwrap();
        script.see(2, peer(3, 3, &[1, 1, 3, 3])).unwrap();
    }

    #[test]
    fn fires_on_peers_that_disagree_on_a_committed_index() {
        let mut script = Script::new(3);
        let peer = |commit_index, log_terms: &[u64]| RaftView {
            term: 3,
            commit_index,
            log_terms: log_terms.to_vec(),
            ..RaftView::default()
        };
        script.see(0, peer(3, &[1, 1, 2])).unwrap();
        script.see(1, peer(2, &[1, 1, 3])).unwrap();
        let violation = script.see(1, peer(3, &[1, 1, 3])).unwrap_err();
        assert_eq!(violation.property, Property::LogMatching);
        assert_eq!(
            violation.detail,
            "peers 0 and 1 hold different terms (2 and 3) at committed index 3"
        );
    }
}
