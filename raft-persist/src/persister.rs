//! The lab's Persister (spec section 2, 2023+ single `save`), and [`StateStore`], the one
//! interface a peer needs from wherever its state survives.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;

use crate::StoreError;

/// Where a peer's persistent state (Figure 2) and snapshot survive a crash. Implemented by the
/// in-memory [`Persister`] (never fails) and the durable [`crate::FileStore`].
pub trait StateStore {
    /// Replaces the raft state and the snapshot together, atomically.
    fn save(&self, raft_state: Bytes, snapshot: Bytes) -> Result<(), StoreError>;
    /// The last saved raft state (empty if none).
    fn read_raft_state(&self) -> Result<Bytes, StoreError>;
    /// The last saved snapshot (empty if none).
    fn read_snapshot(&self) -> Result<Bytes, StoreError>;
}

/// The two byte strings, always replaced together.
#[derive(Clone, Default)]
struct Saved {
    raft_state: Bytes,
    snapshot: Bytes,
}

/// The lab's Persister (spec section 2, 2023+ single `save`). A `Persister` value is a handle:
/// `clone()` shares the same object (the harness and the peer both hold it), while [`copy`]
/// makes a new object, which is how the harness isolates a crashed peer's zombie writes.
///
/// The lab clones byte slices on every save and read so that no caller can change saved state.
/// [`Bytes`] is immutable, so storing and returning it gives the same guarantee without
/// copying the bytes: a save swaps in new `Bytes`, and readers keep whatever they were given.
///
/// [`copy`]: Persister::copy
#[derive(Clone, Default)]
pub struct Persister {
    saved: Arc<Mutex<Saved>>,
}

impl Persister {
    /// An empty persister.
    pub fn new() -> Self {
        Self::default()
    }

    /// The saved pair, even after a panic elsewhere: a save is one assignment, never half done.
    fn lock(&self) -> MutexGuard<'_, Saved> {
        self.saved.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new, independent persister holding the same state and snapshot.
    pub fn copy(&self) -> Persister {
        let saved = self.lock().clone();
        Persister {
            saved: Arc::new(Mutex::new(saved)),
        }
    }
    /// Replaces the raft state and the snapshot in one atomic step.
    pub fn save(&self, raft_state: Bytes, snapshot: Bytes) {
        *self.lock() = Saved {
            raft_state,
            snapshot,
        };
    }
    /// The last saved raft state (empty if none).
    pub fn read_raft_state(&self) -> Bytes {
        self.lock().raft_state.clone()
    }
    /// The last saved snapshot (empty if none).
    pub fn read_snapshot(&self) -> Bytes {
        self.lock().snapshot.clone()
    }
    /// The raft state and snapshot of one save, read together (two separate reads may straddle
    /// a save). What the harness needs to rebuild a crashed peer's persister.
    pub fn read_state_and_snapshot(&self) -> (Bytes, Bytes) {
        let saved = self.lock();
        (saved.raft_state.clone(), saved.snapshot.clone())
    }
    /// Length of the raft state in bytes.
    pub fn raft_state_size(&self) -> usize {
        self.lock().raft_state.len()
    }
    /// Length of the snapshot in bytes.
    pub fn snapshot_size(&self) -> usize {
        self.lock().snapshot.len()
    }
}

impl std::fmt::Debug for Persister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let saved = self.lock();
        f.debug_struct("Persister")
            .field("raft_state_size", &saved.raft_state.len())
            .field("snapshot_size", &saved.snapshot.len())
            .finish()
    }
}

impl StateStore for Persister {
    fn save(&self, raft_state: Bytes, snapshot: Bytes) -> Result<(), StoreError> {
        Persister::save(self, raft_state, snapshot);
        Ok(())
    }
    fn read_raft_state(&self) -> Result<Bytes, StoreError> {
        Ok(Persister::read_raft_state(self))
    }
    fn read_snapshot(&self) -> Result<Bytes, StoreError> {
        Ok(Persister::read_snapshot(self))
    }
}
