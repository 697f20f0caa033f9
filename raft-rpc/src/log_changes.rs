//! Which entries of the log changed since an earlier look, so that the peer can answer the
//! grader's [`LabRaft::inspect_since`](lab_api::LabRaft::inspect_since) with only those.
//!
//! raft-core changes a log in three ways only: it appends at the end, it removes every entry
//! from some index on (a conflict, §5.3, or an InstallSnapshot that does not match the log,
//! §7), and it drops a prefix into a snapshot (§7), which changes no entry after it. Every
//! removal is reported in the step's [`PersistDelta::truncated_from`], which the driver drains
//! under the core lock after every input. So between two versions of the log, the entries
//! below the lowest removal in between, and below the end of the earlier log, are the same
//! entries with the same terms. A version here is the number of removals so far; the last
//! [`RECENT`] removals are kept, and a mark older than those is answered with the whole log.

use std::collections::VecDeque;

use lab_api::LogMark;
use raft_core::PersistDelta;

/// How many removals are remembered. A look comes at least every 10 ms, and a log is
/// truncated at most a few times in that while, so the grader's mark is nearly always among
/// them; an older mark only costs one whole answer.
const RECENT: usize = 16;

/// The removals of one peer's log (see the module doc).
#[derive(Debug, Default)]
pub(crate) struct LogChanges {
    /// Removals so far: the version of the log now.
    version: u64,
    /// The last removals, oldest first: (the version it made, the first index removed).
    recent: VecDeque<(u64, u64)>,
}

impl LogChanges {
    /// Takes note of what one step changed.
    pub(crate) fn note(&mut self, delta: &PersistDelta) {
        if let Some(from) = delta.truncated_from {
            self.version += 1;
            self.recent.push_back((self.version, from.0));
            if self.recent.len() > RECENT {
                self.recent.pop_front();
            }
        }
    }

    /// The version of the log now.
    pub(crate) fn version(&self) -> u64 {
        self.version
    }

    /// The first index whose entry may differ from the log the grader holds at `mark` (every
    /// entry below it is the same, if the log still has it), or `None` when this peer cannot
    /// tell (a mark it did not give, or older than the removals it remembers).
    pub(crate) fn changed_since(&self, mark: &LogMark) -> Option<u64> {
        let remembered_from = self.version - self.recent.len() as u64;
        if mark.version > self.version || mark.version < remembered_from {
            return None;
        }
        let removed = self
            .recent
            .iter()
            .filter(|(version, _)| *version > mark.version)
            .map(|(_, from)| *from)
            .min();
        let end = mark.last_index.saturating_add(1);
        Some(removed.map_or(end, |from| from.min(end)))
    }
}

#[cfg(test)]
mod tests {
    use lab_api::LogMark;
    use raft_core::{LogIndex, PersistDelta};

    use super::{LogChanges, RECENT};

    fn truncated(from: u64) -> PersistDelta {
        PersistDelta {
            truncated_from: Some(LogIndex(from)),
            ..PersistDelta::default()
        }
    }

    #[test]
    fn appends_change_nothing_below_the_marked_end() {
        let mut changes = LogChanges::default();
        changes.note(&PersistDelta {
            appended_from: Some(LogIndex(5)),
            ..PersistDelta::default()
        });
        let mark = LogMark {
            version: 0,
            last_index: 9,
        };
        assert_eq!(changes.changed_since(&mark), Some(10));
    }

    #[test]
    fn the_lowest_removal_since_the_mark_counts() {
        let mut changes = LogChanges::default();
        changes.note(&truncated(4));
        let at_one = LogMark {
            version: changes.version(),
            last_index: 9,
        };
        changes.note(&truncated(8));
        changes.note(&truncated(6));
        assert_eq!(changes.changed_since(&at_one), Some(6));
        let before = LogMark {
            version: 0,
            last_index: 9,
        };
        assert_eq!(changes.changed_since(&before), Some(4));
        // A mark from the future is not this peer's.
        let foreign = LogMark {
            version: 7,
            last_index: 9,
        };
        assert_eq!(changes.changed_since(&foreign), None);
    }

    #[test]
    fn a_mark_older_than_the_remembered_removals_gets_the_whole_log() {
        let mut changes = LogChanges::default();
        for from in 0..RECENT as u64 + 1 {
            changes.note(&truncated(100 + from));
        }
        let old = LogMark {
            version: 0,
            last_index: 50,
        };
        assert_eq!(changes.changed_since(&old), None);
        let recent = LogMark {
            version: 1,
            last_index: 50,
        };
        assert_eq!(changes.changed_since(&recent), Some(51));
    }
}
