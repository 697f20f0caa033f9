//! What the core asks its runtime to do, drained by [`crate::Raft::ready`].
//!
//! Figure 2 says persistent state is "updated on stable storage before responding to RPCs";
//! hence the one documented order: persist, then send (including the reply `step_request`
//! returned), then apply.

use bytes::Bytes;

use crate::message::Outbound;
use crate::types::{HardState, LogIndex, PeerId, Term};

/// What changed in the persistent state since the last [`Ready`]; an incremental store can
/// apply these in order (snapshot, truncate, append, hard state) instead of rewriting.
///
/// Who reads it: the reference peer's state encoder (`raft-rpc`) follows `snapshot` and
/// `truncated_from` to keep the encodings of the entries it has already written, and encodes
/// whatever lies past them; the `sim` module replays every field into a mirror store after
/// each step, which proves the deltas alone rebuild the persistent state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersistDelta {
    /// New term/vote, if either changed.
    pub hard_state: Option<HardState>,
    /// A new snapshot (index, term) replaced the log prefix; its bytes are
    /// [`crate::Raft::snapshot_data`].
    pub snapshot: Option<(LogIndex, Term)>,
    /// Entries at or after this index were removed.
    pub truncated_from: Option<LogIndex>,
    /// Entries from this index to the last log index are new.
    pub appended_from: Option<LogIndex>,
}

impl PersistDelta {
    /// Nothing to persist.
    pub fn is_empty(&self) -> bool {
        self.hard_state.is_none()
            && self.snapshot.is_none()
            && self.truncated_from.is_none()
            && self.appended_from.is_none()
    }

    /// Entries from `from` on were removed: new entries at or after it are gone too.
    pub(crate) fn note_truncate(&mut self, from: LogIndex) {
        self.truncated_from = Some(self.truncated_from.map_or(from, |t| t.min(from)));
        if self.appended_from.is_some_and(|a| a >= from) {
            self.appended_from = None;
        }
    }

    /// An entry was appended at `index`.
    pub(crate) fn note_append(&mut self, index: LogIndex) {
        self.appended_from = Some(self.appended_from.map_or(index, |a| a.min(index)));
    }

    /// A snapshot now covers everything through `index`; `last` is the new last log index.
    pub(crate) fn note_snapshot(&mut self, index: LogIndex, term: Term, last: LogIndex) {
        self.snapshot = Some((index, term));
        if let Some(t) = self.truncated_from {
            self.truncated_from = Some(t.max(index.next()));
        }
        if let Some(a) = self.appended_from {
            let a = a.max(index.next());
            self.appended_from = (a <= last).then_some(a);
        }
    }
}

/// Something for the service, in order, exactly once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Apply {
    /// A committed command.
    Command {
        /// Its index.
        index: LogIndex,
        /// Its term.
        term: Term,
        /// The command bytes.
        command: Bytes,
    },
    /// A snapshot installed from the leader (section 7).
    Snapshot {
        /// Last index it covers.
        index: LogIndex,
        /// Term of that index.
        term: Term,
        /// The bytes.
        data: Bytes,
    },
}

impl Apply {
    /// The last index this apply covers.
    pub fn index(&self) -> LogIndex {
        match self {
            Apply::Command { index, .. } | Apply::Snapshot { index, .. } => *index,
        }
    }
}

/// When the state changed by a [`Ready`] must be on stable storage. The core decides (the
/// rule and its reasoning are in persist.rs); the runtime obeys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// Save before anything of this [`Ready`] leaves, and before the reply `step_request`
    /// returned. This includes any save an earlier [`Durability::MayWait`] let wait, even
    /// when this `Ready`'s own delta is empty.
    #[default]
    Now,
    /// The save may wait for the next [`Ready`] that is [`Durability::Now`]: the inputs since
    /// the last `Ready` were proposals only, they changed nothing but appending entries to the
    /// leader's log, and nothing leaves. A runtime that waits owes the save.
    MayWait,
}

/// Everything an input produced, drained by [`crate::Raft::ready`]. Handle in this order:
/// persist (before sending anything, including the reply `step_request` returned), send, apply.
#[derive(Clone, Debug, Default)]
pub struct Ready {
    /// What to persist first.
    pub persist: PersistDelta,
    /// Whether `persist` may wait (a runtime may always save at once instead).
    pub durability: Durability,
    /// Requests to send.
    pub messages: Vec<Outbound>,
    /// With [`crate::Config::coalesce_appends`]: followers that can take new entries now.
    /// Call [`crate::Raft::replicate`] for each when ready to send (each at most once here).
    pub replicate: Vec<PeerId>,
    /// What to hand to the service.
    pub apply: Vec<Apply>,
}
