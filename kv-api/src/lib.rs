//! The Lab 4 API (the 2026 course's fault-tolerant key/value service, parts 4A rsm, 4B
//! kvraft, 4C snapshots): what a student implements on top of any Raft peer
//! ([`lab_api::LabRaft`]), and all the grader knows about it. A student's crate depends on
//! this crate (and `lab-api`) alone.
//!
//! - `rsm`: [`StateMachine`] (execute, snapshot, restore), [`Rsm`] (Go's `MakeRSM` and
//!   `Submit`) and [`ServerArgs`], what a server is started from. **4A starts here.**
//! - `server`: [`KvServer`] (Go's `StartKVServer`): the key/value store as a state machine
//!   behind an rsm, and its `KVServer` RPC service. 4B and 4C.
//! - `clerk`: [`Clerk`] (Go's `Clerk`: versioned `get` and `put` that retry) and [`Clnt`],
//!   the client handle the grader gives a clerk to send its RPCs.
//! - `rpc`: the course's RPC messages ([`GetArgs`], [`PutArgs`] and their replies).
//! - `error`: [`KvError`] (Go's `ErrNoKey`, `ErrVersion`, `ErrMaybe`, `ErrWrongLeader`)
//!   and [`Version`].
//! - `lab`: [`KvLab`], one implementation of the whole layer (rsm, server, clerk), which the
//!   grader is generic over.
//!
//! Semantics (spec 1.2): a Get returns the value and version of a key, or `ErrNoKey`; a Put
//! installs its value and increments the version if its version is the key's (0 creates the
//! key), and else fails with `ErrVersion` (or `ErrNoKey` for a missing key). A clerk turns
//! `ErrVersion` on a resent Put into `ErrMaybe`, since the first attempt may have taken
//! effect.
//!
//! A state machine and a clerk's RPC, on a simulated network in virtual time:
//!
//! ```
//! use kv_api::{Clnt, GetArgs, GetReply, KvError, StateMachine};
//! use labrpc_sim::{Network, Server, Service};
//!
//! /// A counter, replicated: every server adds the same increments in the same order.
//! #[derive(Default)]
//! struct Counter(u64);
//!
//! impl StateMachine for Counter {
//!     type Req = u64;
//!     type Rep = u64;
//!     fn do_op(&mut self, add: u64) -> u64 {
//!         self.0 += add;
//!         self.0
//!     }
//!     fn snapshot(&self) -> Vec<u8> {
//!         self.0.to_le_bytes().to_vec()
//!     }
//!     fn restore(&mut self, snapshot: &[u8]) {
//!         let bytes: [u8; 8] = snapshot.try_into().expect("a snapshot of ours");
//!         self.0 = u64::from_le_bytes(bytes);
//!     }
//! }
//!
//! let mut c = Counter::default();
//! assert_eq!(c.do_op(2), 2);
//! let mut restored = Counter::default();
//! restored.restore(&c.snapshot());
//! assert_eq!(restored.0, 2);
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build()
//! #     .unwrap().block_on(async {
//! // A server that knows no key, and a client that asks it for one.
//! let net = Network::new(1);
//! let mut server = Server::new();
//! server.add_service(Service::new("KVServer").typed_method("Get", |_: GetArgs| async {
//!     GetReply { result: Err(KvError::NoKey) }
//! }));
//! net.add_server("server-0-0", server);
//! let clnt = Clnt::new(net, 0, None);
//! let reply: GetReply = clnt
//!     .call("server-0-0", "KVServer.Get", &GetArgs { key: "k".into() })
//!     .await?;
//! assert_eq!(reply.result, Err(KvError::NoKey));
//! assert_eq!(KvError::go_name(&reply.result), "ErrNoKey");
//! # Ok::<(), labrpc_sim::RpcError>(())
//! # }).unwrap();
//! ```

mod clerk;
mod error;
mod lab;
mod rpc;
mod rsm;
mod server;

pub use clerk::{Clerk, Clnt};
pub use error::{KvError, Version};
pub use lab::KvLab;
pub use rpc::{GetArgs, GetReply, PutArgs, PutReply};
pub use rsm::{Rsm, ServerArgs, StateMachine};
pub use server::{KV_SERVICE, KvServer};
