//! Where Raft state survives a crash. SKELETON: the public surface is fixed; bodies are being
//! written.

use bytes::Bytes;
use std::path::{Path, PathBuf};

/// The lab's Persister (spec section 2, 2023+ single `save`). A `Persister` value is a handle:
/// `clone()` shares the same object (the harness and the peer both hold it), while [`copy`]
/// makes a new object, which is how the harness isolates a crashed peer's zombie writes.
///
/// [`copy`]: Persister::copy
#[derive(Clone, Default)]
pub struct Persister {}

impl Persister {
    /// An empty persister.
    pub fn new() -> Self {
        todo!()
    }
    /// A new, independent persister holding the same state and snapshot.
    pub fn copy(&self) -> Persister {
        todo!()
    }
    /// Replaces the raft state and the snapshot in one atomic step.
    pub fn save(&self, raft_state: Bytes, snapshot: Bytes) {
        let _ = (raft_state, snapshot);
        todo!()
    }
    /// The last saved raft state (empty if none).
    pub fn read_raft_state(&self) -> Bytes {
        todo!()
    }
    /// The last saved snapshot (empty if none).
    pub fn read_snapshot(&self) -> Bytes {
        todo!()
    }
    /// Length of the raft state in bytes.
    pub fn raft_state_size(&self) -> usize {
        todo!()
    }
    /// Length of the snapshot in bytes.
    pub fn snapshot_size(&self) -> usize {
        todo!()
    }
}

/// Errors of the durable store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An I/O error on a named file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Durable on-disk store of (raft state, snapshot): atomic replace, versioned header, checksum.
pub struct FileStore {}

impl FileStore {
    /// Opens (creating if needed) a store in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let _ = dir;
        todo!()
    }
    /// Atomically replaces both.
    pub fn save(&self, raft_state: &[u8], snapshot: &[u8]) -> Result<(), StoreError> {
        let _ = (raft_state, snapshot);
        todo!()
    }
    /// The last saved raft state (empty if none).
    pub fn read_raft_state(&self) -> Result<Bytes, StoreError> {
        todo!()
    }
    /// The last saved snapshot (empty if none).
    pub fn read_snapshot(&self) -> Result<Bytes, StoreError> {
        todo!()
    }
}
