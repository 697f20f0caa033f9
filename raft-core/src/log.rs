//! The log with its snapshot offset (Figure 2 `log[]`, section 7 "log compaction").
//!
//! After a snapshot the log no longer starts at index 1: it holds the entries after
//! `snapshot_index`, and `snapshot_term` stands in for the compacted entry at
//! `snapshot_index`, so the consistency check at prev_log_index == snapshot_index still
//! works (5.3). Entries live in a `VecDeque` with that offset: access is O(1), appending and
//! truncating the tail touch only the entries concerned, compaction drops a prefix. Terms in a
//! log never decrease (a leader only appends entries of its own term, 5.3), so finding the
//! first or last index of a term is a binary search.

use std::collections::VecDeque;

use crate::types::{Entry, LogIndex, Term};

/// The log after the snapshot, plus the snapshot's last index and term.
#[derive(Debug, Default)]
pub(crate) struct RaftLog {
    /// Last index covered by the snapshot (0 without one).
    snapshot_index: LogIndex,
    /// Term of the entry at `snapshot_index` (0 without a snapshot).
    snapshot_term: Term,
    /// `entries[i]` is the entry at index `snapshot_index + 1 + i`.
    entries: VecDeque<Entry>,
}

impl RaftLog {
    /// A log rebuilt from persisted parts.
    pub(crate) fn from_parts(
        snapshot_index: LogIndex,
        snapshot_term: Term,
        entries: VecDeque<Entry>,
    ) -> Self {
        RaftLog {
            snapshot_index,
            snapshot_term,
            entries,
        }
    }

    pub(crate) fn snapshot_index(&self) -> LogIndex {
        self.snapshot_index
    }

    pub(crate) fn snapshot_term(&self) -> Term {
        self.snapshot_term
    }

    /// The entries after the snapshot, borrowed (for encoding without a copy).
    pub(crate) fn entries(&self) -> &VecDeque<Entry> {
        &self.entries
    }

    pub(crate) fn last_index(&self) -> LogIndex {
        self.snapshot_index.plus(self.entries.len())
    }

    pub(crate) fn last_term(&self) -> Term {
        self.entries.back().map_or(self.snapshot_term, |e| e.term)
    }

    /// Position in `entries` of `index`, if it is stored there.
    fn offset(&self, index: LogIndex) -> Option<usize> {
        if index <= self.snapshot_index {
            return None;
        }
        let off = (index.0 - self.snapshot_index.0 - 1) as usize;
        (off < self.entries.len()).then_some(off)
    }

    /// The entry at `index`, if stored (not compacted, not past the end).
    pub(crate) fn get(&self, index: LogIndex) -> Option<&Entry> {
        self.offset(index).map(|o| &self.entries[o])
    }

    /// Term at `index`: known for stored entries and for the snapshot's last index (and
    /// for index 0, the sentinel, through the empty snapshot).
    pub(crate) fn term_at(&self, index: LogIndex) -> Option<Term> {
        if index == self.snapshot_index {
            return Some(self.snapshot_term);
        }
        self.get(index).map(|e| e.term)
    }

    /// Appends one entry at `last_index + 1`.
    pub(crate) fn push(&mut self, entry: Entry) {
        self.entries.push_back(entry);
    }

    /// Removes every entry at or after `from` (which must be after the snapshot).
    pub(crate) fn truncate_from(&mut self, from: LogIndex) {
        debug_assert!(from > self.snapshot_index, "truncating into the snapshot");
        let keep = (from.0 - self.snapshot_index.0 - 1) as usize;
        self.entries.truncate(keep);
    }

    /// Up to `max` entries starting at `from`, cloned (each clone is a refcount bump).
    pub(crate) fn slice(&self, from: LogIndex, max: usize) -> Vec<Entry> {
        let Some(start) = self.offset(from) else {
            return Vec::new();
        };
        let end = (start + max).min(self.entries.len());
        self.entries.range(start..end).cloned().collect()
    }

    /// Section 7: the snapshot now covers everything through `index` (term `term`). Entries
    /// after it are kept if the log holds `index` with that term; otherwise the whole log is
    /// discarded. Returns whether entries after `index` were kept.
    pub(crate) fn compact_to(&mut self, index: LogIndex, term: Term) -> bool {
        let keeps_suffix = self.term_at(index) == Some(term) && index >= self.snapshot_index;
        if keeps_suffix {
            let drop = (index.0 - self.snapshot_index.0) as usize;
            self.entries.drain(..drop);
        } else {
            self.entries.clear();
        }
        self.snapshot_index = index;
        self.snapshot_term = term;
        keeps_suffix
    }

    /// First stored index holding `term`, searching the stored entries (the snapshot's
    /// entries are not known individually, so the answer is at least `snapshot_index + 1`).
    pub(crate) fn first_index_of_term(&self, term: Term) -> Option<LogIndex> {
        let pos = self.entries.partition_point(|e| e.term < term);
        let e = self.entries.get(pos)?;
        (e.term == term).then(|| self.snapshot_index.plus(pos + 1))
    }

    /// Last index holding `term`, counting the snapshot's last entry.
    pub(crate) fn last_index_of_term(&self, term: Term) -> Option<LogIndex> {
        let pos = self.entries.partition_point(|e| e.term <= term);
        if pos > 0 && self.entries[pos - 1].term == term {
            return Some(self.snapshot_index.plus(pos));
        }
        (pos == 0 && self.snapshot_term == term && self.snapshot_index.0 > 0)
            .then_some(self.snapshot_index)
    }

    /// Section 5.4.1: a candidate's log is "at least as up-to-date" as this one if its last
    /// term is higher, or equal with a last index at least as large.
    pub(crate) fn is_up_to_date(&self, last_index: LogIndex, last_term: Term) -> bool {
        (last_term, last_index) >= (self.last_term(), self.last_index())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn log_of(snapshot: (u64, u64), terms: &[u64]) -> RaftLog {
        let entries = terms
            .iter()
            .map(|t| Entry {
                term: Term(*t),
                command: Bytes::new(),
            })
            .collect();
        RaftLog::from_parts(LogIndex(snapshot.0), Term(snapshot.1), entries)
    }

    #[test]
    fn index_arithmetic_around_the_snapshot_offset() {
        let log = log_of((5, 2), &[2, 3, 3]);
        assert_eq!(log.last_index(), LogIndex(8));
        assert_eq!(log.term_at(LogIndex(5)), Some(Term(2)));
        assert_eq!(log.term_at(LogIndex(4)), None);
        assert_eq!(log.term_at(LogIndex(7)), Some(Term(3)));
        assert_eq!(log.term_at(LogIndex(9)), None);
        assert_eq!(log.first_index_of_term(Term(3)), Some(LogIndex(7)));
        assert_eq!(log.first_index_of_term(Term(2)), Some(LogIndex(6)));
        assert_eq!(log.last_index_of_term(Term(2)), Some(LogIndex(6)));
        assert_eq!(log.last_index_of_term(Term(4)), None);
        assert_eq!(
            log_of((5, 2), &[]).last_index_of_term(Term(2)),
            Some(LogIndex(5))
        );
        assert_eq!(log.slice(LogIndex(7), 10).len(), 2);
        assert_eq!(log.slice(LogIndex(5), 10).len(), 0);
    }

    #[test]
    fn compaction_keeps_matching_suffix_and_discards_otherwise() {
        let mut log = log_of((0, 0), &[1, 1, 2, 2]);
        assert!(log.compact_to(LogIndex(3), Term(2)));
        assert_eq!(log.last_index(), LogIndex(4));
        assert_eq!(log.get(LogIndex(4)).map(|e| e.term), Some(Term(2)));
        assert!(!log.compact_to(LogIndex(6), Term(3)));
        assert_eq!(log.last_index(), LogIndex(6));
        assert_eq!(log.last_term(), Term(3));
        let mut log = log_of((0, 0), &[1, 1, 2]);
        log.truncate_from(LogIndex(2));
        assert_eq!(log.last_index(), LogIndex(1));
    }
}
