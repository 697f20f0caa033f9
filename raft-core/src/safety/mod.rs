//! A reusable checker of Raft's cross-peer safety properties (the paper's Figure 3), one
//! property per file, for scenario tests, fuzzing and runtimes under test.
//!
//! Call [`SafetyChecker::check`] after every step with every live peer, and
//! [`SafetyChecker::record_apply`] for everything a peer hands its service. History is kept:
//! a second leader in a term that already had one is caught even if the first has since
//! stepped down.

mod election;
mod leader_completeness;
mod log_matching;
mod state_machine;

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::output::Apply;
use crate::raft::Raft;
use crate::types::{LogIndex, PeerId, Term};

/// A broken safety property, with where it broke.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SafetyViolation {
    /// Election Safety (5.2): at most one leader per term.
    #[error("election safety (5.2): peers {first:?} and {second:?} both led term {term:?}")]
    TwoLeaders {
        /// The term.
        term: Term,
        /// The leader seen first.
        first: PeerId,
        /// The other one.
        second: PeerId,
    },
    /// Log Matching (5.3): same index and term implies identical logs up to there.
    #[error(
        "log matching (5.3): peers {a:?} and {b:?} agree on term at index {agree_at:?} but differ at {differ_at:?}"
    )]
    LogMismatch {
        /// One peer.
        a: PeerId,
        /// The other.
        b: PeerId,
        /// Highest index where their terms agree.
        agree_at: LogIndex,
        /// An index below it where the entries differ.
        differ_at: LogIndex,
    },
    /// Leader Completeness (5.4): a leader holds every entry committed in earlier terms.
    #[error(
        "leader completeness (5.4): leader {leader:?} of term {term:?} lacks index {index:?} committed in term {committed_in:?}"
    )]
    LeaderIncomplete {
        /// The leader.
        leader: PeerId,
        /// Its term.
        term: Term,
        /// The committed index it lacks.
        index: LogIndex,
        /// The term in which that index was first seen committed.
        committed_in: Term,
    },
    /// State Machine Safety (5.4.3): a peer's log disagrees with what is committed there.
    #[error(
        "state machine safety (5.4.3): peer {peer:?} holds term {found:?} at committed index {index:?} (committed: term {expected:?})"
    )]
    CommittedMismatch {
        /// The peer.
        peer: PeerId,
        /// The index.
        index: LogIndex,
        /// The committed entry's term.
        expected: Term,
        /// The term the peer holds there.
        found: Term,
    },
    /// State Machine Safety (5.4.3): two services applied different commands at one index.
    #[error("state machine safety (5.4.3): peer {peer:?} applied a different command at {index:?}")]
    ApplyMismatch {
        /// The peer.
        peer: PeerId,
        /// The index.
        index: LogIndex,
    },
    /// Applies must come in index order, each exactly once.
    #[error("apply order: peer {peer:?} applied {index:?} after {after:?}")]
    ApplyOrder {
        /// The peer.
        peer: PeerId,
        /// What it applied.
        index: LogIndex,
        /// What it had applied before.
        after: LogIndex,
    },
}

/// An entry known committed: what it is and the term in which it was first seen committed.
#[derive(Clone, Debug)]
struct Committed {
    term: Term,
    command: Bytes,
    committed_in: Term,
}

/// Tracks history across steps and checks the properties.
#[derive(Debug, Default)]
pub struct SafetyChecker {
    /// Who led each term (history, for Election Safety).
    leaders: BTreeMap<Term, PeerId>,
    /// `committed[i - 1]`: the entry committed at index i, once seen.
    committed: Vec<Option<Committed>>,
    /// `applied[i - 1]`: the command some service applied at index i.
    applied: Vec<Option<Bytes>>,
    /// Per peer: the last index its service applied.
    applied_through: BTreeMap<PeerId, LogIndex>,
}

impl SafetyChecker {
    /// A checker with no history.
    pub fn new() -> Self {
        SafetyChecker::default()
    }

    /// Checks every property over the live peers and records what is newly committed.
    pub fn check(&mut self, peers: &[&Raft]) -> Result<(), SafetyViolation> {
        self.check_election_safety(peers)?;
        log_matching::check(peers)?;
        self.record_committed(peers);
        self.check_committed_prefixes(peers)?;
        self.check_leader_completeness(peers)
    }

    /// Records one thing `peer` handed its service; checks order and agreement.
    pub fn record_apply(&mut self, peer: PeerId, apply: &Apply) -> Result<(), SafetyViolation> {
        self.check_apply(peer, apply)
    }

    /// `peer` restarted: its service resumes from a snapshot through `index`.
    pub fn restarted(&mut self, peer: PeerId, index: LogIndex) {
        self.applied_through.insert(peer, index);
    }

    /// Highest index seen committed so far.
    pub fn committed_through(&self) -> LogIndex {
        LogIndex(self.committed.iter().take_while(|c| c.is_some()).count() as u64)
    }

    /// The leader recorded for `term`, if any.
    pub fn leader_of(&self, term: Term) -> Option<PeerId> {
        self.leaders.get(&term).copied()
    }

    /// Records entries that some peer now counts as committed, with the term in which this
    /// was first seen (the committing leader's, when checked after every step).
    fn record_committed(&mut self, peers: &[&Raft]) {
        for raft in peers {
            let commit = raft.commit_index().0 as usize;
            if self.committed.len() < commit {
                self.committed.resize(commit, None);
            }
            for i in (raft.snapshot_index().0 as usize + 1)..=commit {
                let slot = &mut self.committed[i - 1];
                if slot.is_none() {
                    if let Some(e) = raft.entry(LogIndex(i as u64)) {
                        *slot = Some(Committed {
                            term: e.term,
                            command: e.command.clone(),
                            committed_in: raft.current_term(),
                        });
                    }
                }
            }
        }
    }
}
