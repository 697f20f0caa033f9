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
