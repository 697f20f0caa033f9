//! The reference Raft peer: raft-core's state machine on tokio, talking over the simulated
//! labrpc network, persisting through the lab persister, implementing the lab API
//! ([`lab_api::LabRaft`]). It makes no protocol decisions: the core does.
//!
//! - `peer`: [`RaftPeer`] and its [`PeerOptions`]; start here. [`RaftPeer::make_native`] is
//!   the same peer for an embedding service, applying in batches ([`ApplyBatches`]).
//! - `driver` (private): the lock, the persist-send-apply rule after every input, and the
//!   ticker, applier and sender tasks.
//! - `service`: the "Raft" labrpc service, whose handlers step the core.
//! - `state_encoder` (private): the lab persister's bytes, encoded incrementally.
//! - `log_changes` (private): which entries changed since the grader's last look, so that
//!   a look costs what changed ([`lab_api::LabRaft::inspect_since`]).
//! - `transport`: [`LabrpcTransport`], requests over labrpc client ends.
//!
//! A three-peer cluster on a simulated network, in virtual time:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use labrpc_sim::{Bytes, Network, Server};
//! use raft_persist::Persister;
//! use lab_api::{ApplyMsg, LabRaft, PeerArgs, PeerRng, apply_channel};
//! use raft_rpc::RaftPeer;
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
//!         let seed = i as u64;
//!         let rng = PeerRng::seeded(seed);
//!         let args = PeerArgs { peers: ends, me: i, persister: Persister::new(), apply_ch, seed, rng };
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
//! ```

mod describe;
mod driver;
mod log_changes;
mod peer;
mod service;
mod state_encoder;
pub mod transport;

pub use peer::{ApplyBatches, NativeArgs, PeerError, PeerOptions, RaftPeer};
pub use service::ServiceError;
pub use transport::LabrpcTransport;
