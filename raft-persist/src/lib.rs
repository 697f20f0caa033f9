//! Where Raft state survives a crash in the lab: the in-memory [`Persister`] with the lab's
//! exact semantics (spec section 2): one atomic `save` of raft state and snapshot, reads that
//! return what was saved, sizes, and `copy()`, which gives a restarted peer its own persister
//! so that the crashed incarnation's late writes land where nobody reads.
//!
//! Modules: `persister`, holding [`Persister`].
//!
//! ```
//! use raft_persist::{Bytes, Persister};
//!
//! // The harness and the peer share one persister; a crash hands the restart a copy.
//! let persister = Persister::new();
//! persister.save(Bytes::from_static(b"term=3"), Bytes::new());
//! let after_crash = persister.copy();
//! persister.save(Bytes::from_static(b"zombie write"), Bytes::new());
//! assert_eq!(&after_crash.read_raft_state()[..], b"term=3");
//! ```

mod persister;

pub use bytes::Bytes;
pub use persister::{Persister, SaveHook};
