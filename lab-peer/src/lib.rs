//! The peer side of the grader's process mode: a Raft peer (any [`lab_api::LabRaft`]) run in a
//! process of its own, talking to the grader over a Unix-domain socket. The grader keeps the
//! network, the persister, the checks and the verdict in its own process; the peer's RPCs,
//! apply channel, persister saves and the grader's calls of the lab API travel as frames.
//!
//! - [`wire`]: the frames ([`wire::ToPeer`], [`wire::FromPeer`]) and their length-prefixed
//!   bincode framing.
//! - [`serve`]: the peer's side of a connection; [`main`]: a peer binary's whole `main`;
//!   [`main_lab`] and [`serve_lab`] serve Lab 4's roles too ([`wire::Role`]): the rsm tests'
//!   server, a key/value server, a test's clerks.
//! - [`counter`]: the rsm tests' counter machine, which runs in the rsm server's process.
//!
//! A crate makes a peer binary of its Raft with one line (`src/bin/peer.rs`):
//!
//! ```no_run
//! fn main() {
//!     lab_peer::main::<MyRaft>()
//! }
//! # type MyRaft = NoRaft;
//! # struct NoRaft;
//! # impl lab_api::LabRaft for NoRaft {
//! #     fn make(_: lab_api::PeerArgs) -> std::sync::Arc<Self> { std::sync::Arc::new(NoRaft) }
//! #     fn service(self: std::sync::Arc<Self>) -> labrpc_sim::Service { labrpc_sim::Service::new("Raft") }
//! #     fn start(self: &std::sync::Arc<Self>, _: bytes::Bytes) -> Option<lab_api::Started> { None }
//! #     fn get_state(&self) -> (u64, bool) { (0, false) }
//! #     fn snapshot(self: &std::sync::Arc<Self>, _: u64, _: bytes::Bytes) {}
//! #     fn kill(&self) {}
//! # }
//! ```
//!
//! and the grader runs it with `--peer-bin target/debug/peer`: as `PROGRAM peer SOCKET`, one
//! process per peer and per restart, killed with SIGKILL at a crash.

pub mod counter;
mod serve;
pub mod wire;

pub use serve::{
    PeerError, main, main_lab, main_lab_with_args, main_with_args, serve, serve_lab, socket_arg,
    transport_over,
};
