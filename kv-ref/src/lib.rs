//! The reference Lab 4 layer: an rsm, a key/value server and a clerk (the 2026 course's
//! parts 4A-4C), each generic over the Raft peer, so the grader runs it on the reference
//! Raft (`raft-rpc`) by default and on any [`lab_api::LabRaft`] (a student's Raft under the
//! reference service is where 4C finds snapshot bugs). [`Reference`] names the whole layer
//! for the grader ([`kv_api::KvLab`]).
//!
//! - `rsm`: [`Rsm`], submit and the reader (apply, snapshot, restore). Start here.
//! - `server`: [`KvStore`], the versioned store as a state machine, and [`KvServer`], its
//!   RPC service.
//! - `clerk`: [`Clerk`], retries, leader memory, `ErrMaybe`.
//! - [`mistake`]: classic student mistakes the grader's own tests inject (never the
//!   reference's behaviour).
//!
//! The store's semantics, as every server applies them:
//!
//! ```
//! use kv_api::{KvError, PutArgs, StateMachine};
//! use kv_ref::{KvRep, KvReq, KvStore};
//!
//! let mut store: KvStore = KvStore::default();
//! let put = |value: &str, version| KvReq::Put(PutArgs { key: "k".into(), value: value.into(), version });
//! store.do_op(put("a", 0)); // creates "k" at version 1
//! let KvRep::Put(reply) = store.do_op(put("b", 0)) else { unreachable!() };
//! assert_eq!(reply.result, Err(KvError::Version)); // stale version: nothing changes
//! assert_eq!(store.get("k"), Ok(("a".to_string(), 1)));
//! ```

mod clerk;
pub mod mistake;
mod rsm;
mod server;

pub use clerk::{Clerk, ROUND_PAUSE};
pub use rsm::{Rsm, TERM_POLL};
pub use server::{KvRep, KvReq, KvServer, KvStore};

/// The reference layer, for the grader: [`Rsm`], [`KvServer`] and [`Clerk`], without a
/// mistake.
pub type Reference = mistake::WithMistake<{ mistake::NONE }>;
