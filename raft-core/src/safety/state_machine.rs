//! State Machine Safety (5.4.3): if a server has applied a log entry at a given index, no
//! other server ever applies a different entry for that index. Checked twice: every peer's
//! log agrees with what is known committed up to its own commit index, and every apply agrees with earlier applies at
//! that index and comes in order, exactly once.

use super::{SafetyChecker, SafetyViolation};
use crate::output::Apply;
use crate::raft::Raft;
use crate::types::{LogIndex, PeerId};

impl SafetyChecker {
    pub(super) fn check_committed_prefixes(&self, peers: &[&Raft]) -> Result<(), SafetyViolation> {
        for raft in peers {
            let from = raft.snapshot_index().0 + 1;
            // Entries past a peer's own commit index may still be overwritten.
            let to = raft.commit_index().min(self.committed_through());
            for i in from..=to.0 {
                let index = LogIndex(i);
                let (Some(c), Some(e)) = (&self.committed[i as usize - 1], raft.entry(index))
                else {
                    continue;
                };
                if c.term != e.term || c.command != e.command {
                    return Err(SafetyViolation::CommittedMismatch {
                        peer: raft.config().id,
                        index,
                        expected: c.term,
                        found: e.term,
                    });
                }
            }
        }
        Ok(())
    }

    pub(super) fn check_apply(
        &mut self,
        peer: PeerId,
        apply: &Apply,
    ) -> Result<(), SafetyViolation> {
        let after = self.applied_through.get(&peer).copied().unwrap_or_default();
        match apply {
            Apply::Command { index, command, .. } => {
                if *index != after.next() {
                    return Err(SafetyViolation::ApplyOrder {
                        peer,
                        index: *index,
                        after,
                    });
                }
                let i = index.0 as usize;
                if self.applied.len() < i {
                    self.applied.resize(i, None);
                }
                match &self.applied[i - 1] {
                    Some(seen) if seen != command => {
                        return Err(SafetyViolation::ApplyMismatch {
                            peer,
                            index: *index,
                        });
                    }
                    Some(_) => {}
                    None => self.applied[i - 1] = Some(command.clone()),
                }
            }
            Apply::Snapshot { index, .. } => {
                if *index <= after {
                    return Err(SafetyViolation::ApplyOrder {
                        peer,
                        index: *index,
                        after,
                    });
                }
            }
        }
        self.applied_through.insert(peer, apply.index());
        Ok(())
    }
}
