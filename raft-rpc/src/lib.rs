//! The running Raft peer on tokio, and the lab API the grader drives.
//!
//! The lab API is what a student's peer implements and the grader tests; the reference peer
//! (feature `reference`, on by default) implements it with raft-core's state machine.
//!
//! - [`api`]: the lab API ([`LabRaft`], [`ApplyMsg`], the rendezvous apply channel). This is
//!   all a student handout needs.
//! - `peer` (reference): [`RaftPeer`] and its [`PeerOptions`]; start here.
//! - `driver` (reference, private): the lock, the persist-send-apply rule after every input,
//!   and the ticker, applier and sender tasks.
//! - `service` (reference): the "Raft" labrpc service, whose handlers step the core.
//! - `state_encoder` (reference, private): the lab persister's bytes, encoded incrementally.
//! - `transport` (reference): the [`Transport`] trait and [`LabrpcTransport`], over labrpc-sim.
//!
//! A three-peer cluster on a simulated network, in virtual time:
//!
//! ```
//! # #[cfg(feature = "reference")]
//! # fn main() {
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use labrpc_sim::{Bytes, Network, Server};
//! use raft_persist::Persister;
//! use raft_rpc::{ApplyMsg, LabRaft, PeerArgs, RaftPeer, apply_channel};
//!
//! let runtime = tokio::runtime::Builder::new_current_thread()
//!     .enable_time()
//!     .start_paused(true)
//!     .build()
//!     .unwrap();
//! runtime.block_on(async {
//!     let n = 3;
//!     let net = Network::new(1);
//!     let mut peers = Vec::new();
//!     let mut readers = Vec::new();
//!     for i in 0..n {
//!         let mut ends = Vec::new();
//!         for j in 0..n {
//!             let name = format!("{i}-{j}");
//!             ends.push(net.make_end(&name).unwrap());
//!             net.connect(&name, &j.to_string()).unwrap();
//!             net.enable(&name, true).unwrap();
//!         }
//!         let (apply_ch, reader) = apply_channel();
//!         let args = PeerArgs { peers: ends, me: i, persister: Persister::new(), apply_ch, seed: i as u64 };
//!         let peer: Arc<RaftPeer> = RaftPeer::make(args);
//!         let mut server = Server::new();
//!         server.add_service(Arc::clone(&peer).service());
//!         net.add_server(&i.to_string(), server);
//!         peers.push(peer);
//!         readers.push(reader);
//!     }
//!     // Wait for a leader, then commit one command.
//!     let leader = loop {
//!         tokio::time::sleep(Duration::from_millis(50)).await;
//!         if let Some(leader) = peers.iter().position(|p| p.get_state().1) {
//!             break leader;
//!         }
//!     };
//!     let started = peers[leader].start(Bytes::from_static(b"x")).unwrap();
//!     assert_eq!(started.index, 1);
//!     for reader in &readers {
//!         let msg = reader.recv().await.unwrap();
//!         assert_eq!(msg, ApplyMsg::Command { index: 1, command: Bytes::from_static(b"x") });
//!     }
//!     peers.iter().for_each(|p| p.kill());
//! });
//! # }
//! # #[cfg(not(feature = "reference"))]
//! # fn main() {}
//! ```

pub mod api;

#[cfg(feature = "reference")]
mod driver;
#[cfg(feature = "reference")]
mod peer;
#[cfg(feature = "reference")]
mod service;
#[cfg(feature = "reference")]
mod state_encoder;
#[cfg(feature = "reference")]
pub mod transport;

pub use api::{
    ApplyClosed, ApplyMsg, ApplyReceiver, ApplySender, LabRaft, PeerArgs, Started, apply_channel,
};

#[cfg(feature = "reference")]
pub use peer::{PeerError, PeerOptions, PeerParts, RaftPeer};
/// The protocol core the reference peer runs, re-exported so that users of this crate
/// (the benchmarks) can drive it directly without depending on it themselves.
#[cfg(feature = "reference")]
pub use raft_core;
#[cfg(feature = "reference")]
pub use service::ServiceError;
#[cfg(feature = "reference")]
pub use transport::{LabrpcTransport, Transport};
