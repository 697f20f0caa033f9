//! The log after the snapshot: every index computation of the crate goes through here.

use crate::wire::Entry;

/// The entries after the snapshot, and the index and term of the snapshot's last entry
/// (`base`; index 0 and term 0 before any snapshot). Entry `base_index + 1 + k` is
/// `entries[k]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Log {
    pub(crate) base_index: u64,
    pub(crate) base_term: u64,
    pub(crate) entries: Vec<Entry>,
}

impl Log {
    /// An empty log after a snapshot through `base_index`.
    pub(crate) fn after(base_index: u64, base_term: u64) -> Log {
        Log {
            base_index,
            base_term,
            entries: Vec::new(),
        }
    }

    pub(crate) fn last_index(&self) -> u64 {
        self.base_index + self.entries.len() as u64
    }

    pub(crate) fn last_term(&self) -> u64 {
        self.entries.last().map_or(self.base_term, |e| e.term)
    }

    /// Position of `index` in `entries`, if it is there.
    fn slot(&self, index: u64) -> Option<usize> {
        let k = index.checked_sub(self.base_index + 1)?;
        let k = usize::try_from(k).ok()?;
        (k < self.entries.len()).then_some(k)
    }

    /// The term at `index`: the base's, an entry's, or `None` outside the log.
    pub(crate) fn term_at(&self, index: u64) -> Option<u64> {
        if index == self.base_index {
            return Some(self.base_term);
        }
        self.slot(index).map(|k| self.entries[k].term)
    }

    pub(crate) fn get(&self, index: u64) -> Option<&Entry> {
        self.slot(index).map(|k| &self.entries[k])
    }

    /// Copies of at most `max` entries from `index` on (`index > base_index`).
    pub(crate) fn from(&self, index: u64, max: usize) -> Vec<Entry> {
        match self.slot(index) {
            Some(k) => self.entries[k..].iter().take(max).cloned().collect(),
            None => Vec::new(),
        }
    }

    /// Drops `index` and everything after it.
    pub(crate) fn truncate(&mut self, index: u64) {
        if let Some(k) = self.slot(index) {
            self.entries.truncate(k);
        }
    }

    /// Makes `index` (of term `term`) the new base, dropping the entries through it and
    /// keeping those after it.
    pub(crate) fn compact(&mut self, index: u64, term: u64) {
        let drop = self.slot(index).map_or(self.entries.len(), |k| k + 1);
        self.entries.drain(..drop);
        self.base_index = index;
        self.base_term = term;
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn log(base: u64, terms: &[u64]) -> Log {
        Log {
            base_index: base,
            base_term: 1,
            entries: terms
                .iter()
                .map(|&term| Entry {
                    term,
                    command: Bytes::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn indices_go_through_the_base() {
        let mut l = log(10, &[1, 2, 2]);
        assert_eq!((l.last_index(), l.last_term()), (13, 2));
        assert_eq!(l.term_at(10), Some(1));
        assert_eq!(l.term_at(12), Some(2));
        assert_eq!((l.term_at(9), l.term_at(14)), (None, None));
        assert_eq!(l.from(12, 5).len(), 2);
        assert_eq!(l.from(11, 2).len(), 2);
        assert!(l.from(14, 5).is_empty());
        l.compact(11, 1);
        assert_eq!((l.base_index, l.entries.len()), (11, 2));
        l.truncate(13);
        assert_eq!(l.last_index(), 12);
        l.compact(20, 4);
        assert_eq!((l.last_index(), l.last_term()), (20, 4));
    }
}
