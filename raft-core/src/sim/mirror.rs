//! An incremental store fed only by [`PersistDelta`]s, compared with the peer after every
//! ready: proves the deltas alone are enough to rebuild the persistent state.

use crate::output::PersistDelta;
use crate::raft::Raft;
use crate::types::{Entry, HardState, LogIndex, Term};

/// What an incremental store would hold.
#[derive(Debug, Default, Clone)]
pub(crate) struct DeltaMirror {
    hard: Option<HardState>,
    snapshot: (LogIndex, Term),
    entries: Vec<Entry>,
}

impl DeltaMirror {
    /// The mirror of a peer just restored from its full state.
    pub(crate) fn of(raft: &Raft) -> Self {
        let entries = (raft.snapshot_index().0 + 1..=raft.last_log_index().0)
            .filter_map(|i| raft.entry(LogIndex(i)).cloned())
            .collect();
        DeltaMirror {
            hard: Some(HardState {
                current_term: raft.current_term(),
                voted_for: raft.voted_for(),
            }),
            snapshot: (raft.snapshot_index(), raft.snapshot_term()),
            entries,
        }
    }

    /// Applies a delta in the documented order: snapshot, truncate, append, hard state.
    pub(crate) fn apply(&mut self, delta: &PersistDelta, raft: &Raft) {
        if let Some((index, term)) = delta.snapshot {
            let drop = (index.0 - self.snapshot.0.0) as usize;
            self.entries.drain(..drop.min(self.entries.len()));
            self.snapshot = (index, term);
        }
        let base = self.snapshot.0.0;
        if let Some(from) = delta.truncated_from {
            self.entries
                .truncate(from.0.saturating_sub(base + 1) as usize);
        }
        if let Some(from) = delta.appended_from {
            let keep = (from.0 - base - 1) as usize;
            assert!(
                keep <= self.entries.len(),
                "appended_from {from:?} leaves a gap"
            );
            self.entries.truncate(keep);
            for i in from.0..=raft.last_log_index().0 {
                let e = raft
                    .entry(LogIndex(i))
                    .expect("appended entry is in the log");
                self.entries.push(e.clone());
            }
        }
        if let Some(h) = delta.hard_state {
            self.hard = Some(h);
        }
    }

    /// Panics unless the mirror equals the peer's persistent state.
    pub(crate) fn assert_matches(&self, raft: &Raft) {
        let hard = HardState {
            current_term: raft.current_term(),
            voted_for: raft.voted_for(),
        };
        assert_eq!(
            self.hard.unwrap_or(HardState {
                current_term: Term(0),
                voted_for: None
            }),
            hard
        );
        assert_eq!(self.snapshot, (raft.snapshot_index(), raft.snapshot_term()));
        assert_eq!(
            self.entries.len() as u64,
            raft.last_log_index().0 - raft.snapshot_index().0,
            "delta-built log length differs from the peer's"
        );
        for (i, e) in self.entries.iter().enumerate() {
            let index = raft.snapshot_index().plus(i + 1);
            assert_eq!(
                Some(e),
                raft.entry(index),
                "delta-built log differs at {index:?}"
            );
        }
    }
}
