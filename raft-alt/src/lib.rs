//! A second Raft, written apart from the reference peer, so that the grader is tested against
//! a correct Raft that is not ours. A check that fails this peer while it keeps Raft's rules
//! fails a student's correct but different Raft too: the project's tests run it through all
//! 28 tests with the continuous safety checks, on many seeds, and through the extra suite.
//! It is in effect a finished `raft-student`, written the way many lab solutions are, and it
//! depends on nothing of the reference (`raft-core`, `raft-rpc`), only on the lab API.
//!
//! How it differs from the reference, on purpose (each is a way the grader could wrongly
//! depend on the reference's habits):
//! - **Names and shapes on the wire.** The service is `Consensus` with methods `Vote`,
//!   `Replicate` and `Snap`, not `Raft.RequestVote` and so on; the messages are its own
//!   structs, encoded by bincode with fixed-width integers.
//! - **Backup without the lab's hints.** A refused `Replicate` says only "no", with the
//!   follower's commit index (as every reply does); the leader sends the follower back to just
//!   after it, where their logs surely match, instead of skipping back by conflicting term.
//!   [`EntryByEntry`] is the same peer backing up one entry per refusal: safe but slow, it
//!   checks that the grader fails slowness as slowness (the lab's handout expects the
//!   unreliable tests to need a faster backup; measured, it fails Figure 8 (unreliable)
//!   every time, and the extra suite's `backup_by_term_x`).
//! - **Batches.** Each `Replicate` carries everything from the follower's next index (up to
//!   128 entries); there is no optimistic advance, no window of messages in flight.
//! - **Timers.** Heartbeats every 120 ms, elections after 350-700 ms, drawn from
//!   `PeerArgs::rng` (each draw a recorded choice of a grader run).
//! - **Structure.** One `std::sync::Mutex` around the whole state, Go style: a ticker task, a
//!   replicator task per other peer woken by a `Notify` (or a heartbeat), a short task per RPC
//!   (nothing waits for a reply before sending the next), an applier woken by a `Notify`.
//!   There is no pipeline window, no batching policy, no separate protocol core.
//!
//! Map:
//! - `peer`: [`Raft`], its state, the lab API, persistence and the handlers. **Start here.**
//! - `variant`: [`EntryByEntry`], the slow-backup variant.
//! - `tasks`: the ticker, the replicators, the applier, and the leader's and candidate's
//!   handling of replies.
//! - `log`: the log after the snapshot, and all index arithmetic.
//! - [`wire`]: the messages, their encoding, and their one-line renderings.
//!
//! Graded like any peer: `cargo run -p grader -- all --impl alt`. One peer alone elects itself
//! and commits what it is given:
//!
//! ```
//! use std::time::Duration;
//!
//! use bytes::Bytes;
//! use lab_api::{ApplyMsg, LabRaft, PeerArgs, apply_channel};
//! use labrpc_sim::Network;
//! use raft_persist::Persister;
//!
//! let runtime = tokio::runtime::Builder::new_current_thread()
//!     .enable_time()
//!     .start_paused(true)
//!     .build()?;
//! runtime.block_on(async {
//!     let net = Network::new(1);
//!     let (apply_ch, applied) = apply_channel();
//!     let peers = vec![net.make_end("0-0")?];
//!     let rng = lab_api::PeerRng::seeded(7);
//!     let args = PeerArgs { peers, me: 0, persister: Persister::new(), apply_ch, seed: 7, rng };
//!     let raft = raft_alt::Raft::make(args);
//!     tokio::time::sleep(Duration::from_secs(1)).await;
//!     assert_eq!(raft.get_state(), (1, true));
//!     let started = raft.start(Bytes::from_static(b"x")).expect("the leader accepts");
//!     assert_eq!((started.index, started.term), (1, 1));
//!     let msg = applied.recv().await;
//!     assert_eq!(msg, Some(ApplyMsg::Command { index: 1, command: Bytes::from_static(b"x") }));
//!     raft.kill();
//!     assert_eq!(applied.recv().await, None, "kill closes the apply channel");
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod log;
mod peer;
mod tasks;
mod variant;
pub mod wire;

pub use peer::Raft;
pub use variant::EntryByEntry;
