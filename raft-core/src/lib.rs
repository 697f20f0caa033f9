//! The Raft protocol (extended Raft paper, Figure 2, sections 5 and 7) as a pure,
//! deterministic state machine: no I/O, no clocks, no threads. A runtime feeds it inputs and
//! carries out the outputs it asks for.
//!
//! # Map
//!
//! - [`Raft`] (`raft.rs`): the state of Figure 2 and the inputs — [`Raft::tick`],
//!   [`Raft::step_request`], [`Raft::step_response`], [`Raft::step_failure`],
//!   [`Raft::propose`], [`Raft::snapshot`] — and [`Raft::ready`], which drains the outputs.
//!   Start here.
//! - One file per rule: `election.rs` (5.2, 5.4.1), `replication.rs` (5.3, accelerated
//!   backup), `commit.rs` (5.4.2, Figure 8), `snapshot.rs` (7), `log.rs` (index arithmetic
//!   around the snapshot offset), `persist.rs` (Figure 2 persistent state: its one
//!   encoding, and when a save may wait), `role.rs` (roles; leader-only progress),
//!   `invariants.rs` (checked after every step).
//! - Types: `types.rs` (Term, LogIndex, PeerId, Entry), `message.rs` (the RPCs),
//!   `output.rs` ([`Ready`]: persist, send, apply), `config.rs`, `error.rs`, `random.rs`
//!   ([`Draw`]: where election timeouts come from).
//! - [`safety`]: a reusable checker of the cross-peer properties of Figure 3.
//! - `sim` (feature `testkit`): a small synchronous router for scenario tests.
//!
//! After every input drain [`Raft::ready`] and handle it in this order: persist first, then
//! send the messages (and the reply that `step_request` returned), then apply. The core also
//! says when the persist may wait ([`Durability`]: only for proposals nobody has seen yet).
//!
//! # Example
//!
//! A one-peer cluster elects itself when its election timer fires, then commits alone:
//!
//! ```
//! use bytes::Bytes;
//! use raft_core::{Apply, Config, LogIndex, PeerId, Raft, Term};
//!
//! let mut raft = Raft::new(Config::lab(PeerId(0), 1), 42);
//! while !raft.is_leader() {
//!     raft.tick();
//! }
//! let ready = raft.ready();
//! assert_eq!(ready.persist.hard_state.map(|h| h.current_term), Some(Term(1)));
//!
//! let (index, term) = raft.propose(Bytes::from_static(b"x = 1")).unwrap();
//! assert_eq!((index, term), (LogIndex(1), Term(1)));
//! let ready = raft.ready();
//! assert_eq!(ready.persist.appended_from, Some(LogIndex(1))); // persist first
//! assert!(matches!(&ready.apply[..], [Apply::Command { index: LogIndex(1), .. }]));
//!
//! // What a persister stores comes back as the same peer.
//! let again = Raft::restore(Config::lab(PeerId(0), 1), 42, &raft.encode_state(), Bytes::new())?;
//! assert_eq!(again.last_log_index(), LogIndex(1));
//! # Ok::<(), raft_core::StateDecodeError>(())
//! ```

mod borrowed;
mod commit;
mod config;
mod election;
mod error;
mod invariants;
mod log;
mod message;
mod output;
mod persist;
mod raft;
mod random;
mod replication;
mod role;
pub mod safety;
#[cfg(any(test, feature = "testkit"))]
pub mod sim;
mod snapshot;
mod types;

pub use borrowed::{AppendEntriesArgsRef, EntryRef, InstallSnapshotArgsRef};
pub use config::{Bug, Config};
pub use error::{NotLeader, StateDecodeError};
pub use message::{
    AppendEntriesArgs, AppendEntriesReply, InstallSnapshotArgs, InstallSnapshotReply, Outbound,
    Request, RequestVoteArgs, RequestVoteReply, Response,
};
pub use output::{Apply, Durability, PersistDelta, Ready};
pub use persist::{STATE_FORMAT_VERSION, StateHeader, encode_entry};
pub use raft::Raft;
pub use random::Draw;
pub use role::Role;
pub use types::{Entry, HardState, LogIndex, PeerId, Term};
