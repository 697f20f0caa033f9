//! Where Raft state survives a crash. Two stores behind one trait, [`StateStore`]: the lab's
//! in-memory [`Persister`] with its exact semantics, and [`FileStore`], a durable file for
//! real use that is atomic, checksummed and fsynced.
//!
//! Modules:
//! - `persister`: [`Persister`] (spec section 2; clone shares, `copy()` isolates) and the
//!   [`StateStore`] trait. Start here.
//! - `file_store`: [`FileStore`], its file format and its crash-safe save.
//! - `error`: [`StoreError`], one variant per kind of damage, each naming the file.
//!
//! ```
//! use raft_persist::{Bytes, FileStore, Persister};
//!
//! // The harness and the peer share one persister; a crash hands the restart a copy.
//! let persister = Persister::new();
//! persister.save(Bytes::from_static(b"term=3"), Bytes::new());
//! let after_crash = persister.copy();
//! persister.save(Bytes::from_static(b"zombie write"), Bytes::new());
//! assert_eq!(&after_crash.read_raft_state()[..], b"term=3");
//!
//! // The durable store keeps the same pair on disk.
//! let dir = tempfile::tempdir()?;
//! let store = FileStore::open(dir.path())?;
//! store.save(b"term=3", b"snapshot")?;
//! let reopened = FileStore::open(dir.path())?;
//! assert_eq!(&reopened.read_snapshot()?[..], b"snapshot");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod file_store;
mod persister;

pub use bytes::Bytes;
pub use error::StoreError;
pub use file_store::{FORMAT_VERSION, FileStore, HEADER_LEN, MAGIC, STATE_FILE, TEMP_FILE};
pub use persister::{Persister, StateStore};
