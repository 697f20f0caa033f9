//! A peer's log as the monitor holds it, and what one look changed in it.
//!
//! The monitor keeps, per peer incarnation, the terms of the log its last look showed. A new
//! look comes either whole (a [`RaftView`](lab_api::RaftView): every term after the snapshot)
//! or as a change (a [`RaftChange`](lab_api::RaftChange): the entries up to `kept` are the
//! ones held here, then the terms after them). Either way the monitor compares only what the
//! look gives after `kept` with what it holds, finds the first index that really differs, and
//! rewrites its copy from there: a look costs what changed plus what the peer sent, never a
//! copy of the whole log. A whole view is compared at the speed of `memcmp`.
//!
//! What the checks need of the previous look is computed here, before the copy is rewritten
//! ([`Diff`]): the first entry it held that is now different or gone, the term it held at the
//! new snapshot index, and from which index on the run beginnings are new.

use lab_api::LogMark;

/// A look's log, as given: the snapshot's last entry, and the terms after `kept` (entries
/// `snapshot_index + 1 ..= kept` are the ones the monitor holds).
#[derive(Clone, Copy, Debug)]
pub(super) struct Update<'a> {
    pub(super) snapshot_index: u64,
    pub(super) snapshot_term: u64,
    pub(super) kept: u64,
    pub(super) new_terms: &'a [u64],
}

impl Update<'_> {
    /// Index of the last entry the look shows.
    pub(super) fn last_index(&self) -> u64 {
        self.kept + self.new_terms.len() as u64
    }
}

/// What a look changed in the log, relative to the look before it at the same incarnation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Diff {
    /// The first index after both snapshots that the previous look held and this one no
    /// longer holds with the same term, and the term it had.
    pub(super) changed: Option<(u64, u64)>,
    /// The term the previous look held at this look's snapshot index, when the snapshot moved
    /// forward onto an entry the previous look held.
    pub(super) had_at_snapshot: Option<u64>,
    /// Every run of equal terms beginning at this index or later (and after the snapshot) is
    /// new to this incarnation: earlier beginnings were visible, unchanged, in the previous
    /// look.
    pub(super) fresh_from: u64,
    /// The snapshot's index or term changed (the beginning right after it may be new).
    pub(super) snapshot_moved: bool,
    /// The log is exactly the previous one.
    pub(super) same: bool,
}

impl Diff {
    /// The first look at an incarnation: everything is new.
    pub(super) fn first(snapshot_index: u64) -> Self {
        Diff {
            changed: None,
            had_at_snapshot: None,
            fresh_from: snapshot_index + 1,
            snapshot_moved: true,
            same: false,
        }
    }
}

/// One incarnation's log as the monitor holds it.
#[derive(Clone, Debug)]
pub(super) struct LogMirror {
    snapshot_index: u64,
    snapshot_term: u64,
    /// The index of `terms[0]`; at most `snapshot_index + 1` (entries at or below the snapshot
    /// stay until enough of them are worth dropping), and `base + terms.len()` is at least
    /// `snapshot_index + 1`.
    base: u64,
    /// The term of every entry from `base` to the last.
    terms: Vec<u64>,
    /// The peer's version of this log ([`lab_api::RaftChange::version`]).
    version: u64,
}

/// Dead entries (at or below the snapshot) are dropped from the front once there are more of
/// them than this and than live ones, so that dropping costs O(1) per entry.
const COMPACT_AFTER: usize = 256;

impl Default for LogMirror {
    fn default() -> Self {
        LogMirror {
            snapshot_index: 0,
            snapshot_term: 0,
            base: 1,
            terms: Vec::new(),
            version: 0,
        }
    }
}

impl LogMirror {
    /// Index of the last entry (the snapshot's when the log after it is empty).
    pub(super) fn last_index(&self) -> u64 {
        self.base + self.terms.len() as u64 - 1
    }

    pub(super) fn snapshot_index(&self) -> u64 {
        self.snapshot_index
    }

    pub(super) fn snapshot_term(&self) -> u64 {
        self.snapshot_term
    }

    /// The term at `index`, if shown (the snapshot's last entry counts).
    pub(super) fn term_at(&self, index: u64) -> Option<u64> {
        if index == self.snapshot_index {
            return Some(self.snapshot_term);
        }
        if index <= self.snapshot_index {
            return None;
        }
        let offset = usize::try_from(index - self.base).ok()?;
        self.terms.get(offset).copied()
    }

    /// The terms of the entries from `index` (after the snapshot) to the last.
    pub(super) fn terms_from(&self, index: u64) -> &[u64] {
        let from = index.max(self.snapshot_index + 1).saturating_sub(self.base);
        usize::try_from(from)
            .ok()
            .and_then(|from| self.terms.get(from..))
            .unwrap_or(&[])
    }

    /// What the monitor hands the peer: this log's version and last index.
    pub(super) fn mark(&self) -> LogMark {
        LogMark {
            version: self.version,
            last_index: self.last_index(),
        }
    }

    /// Whether `update` relies only on entries held here: a whole log, or entries kept from
    /// after a snapshot that has not gone back, up to at most the last one held.
    pub(super) fn accepts(&self, update: &Update<'_>) -> bool {
        update.kept == update.snapshot_index
            || (update.kept > update.snapshot_index
                && update.snapshot_index >= self.snapshot_index
                && update.kept <= self.last_index())
    }

    /// A mirror of a look's whole log (`update.kept == update.snapshot_index`).
    pub(super) fn whole(update: &Update<'_>, version: u64) -> Self {
        let mut mirror = LogMirror::default();
        mirror.reset(update, version);
        mirror
    }

    fn reset(&mut self, update: &Update<'_>, version: u64) {
        self.snapshot_index = update.snapshot_index;
        self.snapshot_term = update.snapshot_term;
        self.base = update.snapshot_index + 1;
        self.terms.clear();
        self.terms.extend_from_slice(update.new_terms);
        self.version = version;
    }

    /// Takes in `update` (which [`LogMirror::accepts`]), whose peer version is `version`, and
    /// returns what it changed. Costs what the update gives plus what it changed.
    pub(super) fn apply(&mut self, update: &Update<'_>, version: u64) -> Diff {
        let (s, st) = (update.snapshot_index, update.snapshot_term);
        let (ps, pst, plast) = (self.snapshot_index, self.snapshot_term, self.last_index());
        let last = update.last_index();
        let snapshot_moved = (s, st) != (ps, pst);
        let had_at_snapshot = if s > ps && s <= plast {
            self.term_at(s)
        } else {
            None
        };
        if s < ps {
            // The snapshot went back (only a whole log can say so): the previous look held
            // entries from ps + 1, this one from s + 1.
            let held = self.terms_from(ps + 1);
            let skip = usize::try_from(ps - s).unwrap_or(usize::MAX);
            let now = update.new_terms.get(skip..).unwrap_or(&[]);
            let same = common_prefix(held, now);
            let changed = held.get(same).map(|&had| (ps + 1 + same as u64, had));
            self.reset(update, version);
            return Diff {
                changed,
                had_at_snapshot,
                fresh_from: s + 1,
                snapshot_moved,
                same: false,
            };
        }
        // Entries up to `kept` are unchanged; compare the rest with what is held.
        let start = update.kept + 1;
        let held = if start <= plast {
            self.terms_from(start)
        } else {
            &[]
        };
        let same = common_prefix(held, update.new_terms);
        let differs_at = start + same as u64;
        let changed = held.get(same).map(|&had| (differs_at, had));
        // Rewrite from the first difference (the snapshot first: it may pass the end).
        self.snapshot_index = s;
        self.snapshot_term = st;
        if s + 1 > self.base + self.terms.len() as u64 {
            self.terms.clear();
            self.base = s + 1;
        }
        if let Ok(keep) = usize::try_from(differs_at - self.base) {
            self.terms.truncate(keep);
        }
        self.terms.extend_from_slice(&update.new_terms[same..]);
        self.version = version;
        self.compact();
        Diff {
            changed,
            had_at_snapshot,
            fresh_from: differs_at,
            snapshot_moved,
            same: !snapshot_moved && changed.is_none() && last == plast,
        }
    }

    /// Drops the entries at or below the snapshot once they are many.
    fn compact(&mut self) {
        let dead = usize::try_from(self.snapshot_index + 1 - self.base).unwrap_or(0);
        if dead > COMPACT_AFTER && dead > self.terms.len() - dead {
            self.terms.drain(..dead);
            self.base = self.snapshot_index + 1;
        }
    }
}

/// How many leading terms `a` and `b` share, at the speed of `memcmp` (a whole view is
/// compared with the held log at every look).
pub(super) fn common_prefix(a: &[u64], b: &[u64]) -> usize {
    const CHUNK: usize = 64;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    // Most looks give nothing or a few entries past what is held (a change): a loop, not a
    // call of `memcmp` (whose entry cost the reference's looks 5-10 % of a run's samples).
    if n < CHUNK {
        return a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(n);
    }
    if a == b {
        return n;
    }
    let mut i = 0;
    while i + CHUNK <= n && a[i..i + CHUNK] == b[i..i + CHUNK] {
        i += CHUNK;
    }
    i + a[i..]
        .iter()
        .zip(&b[i..])
        .position(|(x, y)| x != y)
        .unwrap_or(n - i)
}

#[cfg(test)]
mod tests {
    use super::{Diff, LogMirror, Update, common_prefix};

    fn whole(snapshot_index: u64, snapshot_term: u64, terms: &[u64]) -> Update<'_> {
        Update {
            snapshot_index,
            snapshot_term,
            kept: snapshot_index,
            new_terms: terms,
        }
    }

    fn shown(mirror: &LogMirror) -> Vec<u64> {
        mirror.terms_from(0).to_vec()
    }

    #[test]
    fn common_prefix_finds_the_first_difference_across_chunks() {
        let a: Vec<u64> = (0..300).collect();
        let mut b = a.clone();
        assert_eq!(common_prefix(&a, &b), 300);
        assert_eq!(common_prefix(&a, &b[..100]), 100);
        b[130] = 7;
        assert_eq!(common_prefix(&a, &b), 130);
        b[3] = 9;
        assert_eq!(common_prefix(&a, &b), 3);
        assert_eq!(common_prefix(&[], &b), 0);
    }

    #[test]
    fn a_whole_view_is_compared_and_only_the_difference_rewritten() {
        let mut mirror = LogMirror::whole(&whole(0, 0, &[1, 1, 2, 2]), 0);
        let diff = mirror.apply(&whole(0, 0, &[1, 1, 3]), 0);
        assert_eq!(diff.changed, Some((3, 2)));
        assert_eq!(diff.fresh_from, 3);
        assert!(!diff.snapshot_moved && !diff.same);
        assert_eq!(shown(&mirror), [1, 1, 3]);
        let diff = mirror.apply(&whole(0, 0, &[1, 1, 3]), 0);
        assert!(diff.same);
        assert_eq!(diff.fresh_from, 4);
        // Appended only: nothing the previous look held changed.
        let diff = mirror.apply(&whole(0, 0, &[1, 1, 3, 3, 4]), 0);
        assert_eq!(diff.changed, None);
        assert_eq!(diff.fresh_from, 4);
        // Cut short: the first entry gone is the change.
        let diff = mirror.apply(&whole(0, 0, &[1, 1, 3]), 0);
        assert_eq!(diff.changed, Some((4, 3)));
    }

    #[test]
    fn a_change_keeps_the_held_entries_and_snapshots_move_both_ways() {
        let mut mirror = LogMirror::whole(&whole(0, 0, &[1, 1, 2, 2, 2]), 0);
        let change = Update {
            snapshot_index: 3,
            snapshot_term: 2,
            kept: 4,
            new_terms: &[3, 3],
        };
        assert!(mirror.accepts(&change));
        let diff = mirror.apply(&change, 1);
        assert_eq!(
            diff,
            Diff {
                changed: Some((5, 2)),
                had_at_snapshot: Some(2),
                fresh_from: 5,
                snapshot_moved: true,
                same: false,
            }
        );
        assert_eq!(mirror.last_index(), 6);
        assert_eq!(mirror.term_at(3), Some(2));
        assert_eq!(mirror.term_at(2), None);
        assert_eq!(shown(&mirror), [2, 3, 3]);
        assert_eq!(mirror.mark().version, 1);
        // A change relying on entries below the held snapshot, or past the held end, is
        // refused.
        let below = Update {
            snapshot_index: 1,
            snapshot_term: 1,
            kept: 4,
            new_terms: &[],
        };
        assert!(!mirror.accepts(&below));
        let past = Update {
            snapshot_index: 3,
            snapshot_term: 2,
            kept: 7,
            new_terms: &[],
        };
        assert!(!mirror.accepts(&past));
        // The snapshot goes back (a stale InstallSnapshot): a whole log.
        let back = whole(1, 1, &[1, 2, 2, 9]);
        assert!(mirror.accepts(&back));
        let diff = mirror.apply(&back, 2);
        assert_eq!(diff.changed, Some((5, 3)));
        assert_eq!(diff.fresh_from, 2);
        assert_eq!(shown(&mirror), [1, 2, 2, 9]);
        // A snapshot past the end of the held log empties it.
        let diff = mirror.apply(&whole(9, 4, &[5]), 2);
        assert_eq!(diff.changed, None);
        assert_eq!(diff.had_at_snapshot, None);
        assert_eq!(mirror.last_index(), 10);
        assert_eq!(shown(&mirror), [5]);
    }

    #[test]
    fn dead_entries_are_dropped_once_many() {
        let terms: Vec<u64> = vec![1; 2000];
        let mut mirror = LogMirror::whole(&whole(0, 0, &terms), 0);
        for snapshot in (10..1990).step_by(10) {
            let change = Update {
                snapshot_index: snapshot,
                snapshot_term: 1,
                kept: 2000,
                new_terms: &[],
            };
            assert!(mirror.accepts(&change));
            let diff = mirror.apply(&change, 0);
            assert_eq!(diff.changed, None);
            assert_eq!(mirror.terms_from(0).len() as u64, 2000 - snapshot);
            assert_eq!(mirror.term_at(snapshot + 1), Some(1));
            assert_eq!(mirror.last_index(), 2000);
        }
        assert!(mirror.terms.len() < 1000);
    }
}
