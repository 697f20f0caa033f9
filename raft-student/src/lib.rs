//! Your Raft. This crate is the starting point of the lab: a peer that compiles, can be graded
//! safely (nothing panics, hangs or spins) and does nothing yet. You fill it in part by part,
//! 2A leader election, 2B log replication, 2C persistence, 2D snapshots, and grade each part
//! with `cargo run -p grader -- 2A --impl student`. The guide is `docs/LAB.md`.
//!
//! Map (every `TODO(2X)` marks a spot to fill in; search for `TODO(2A)` to begin):
//! - `raft`: [`Raft`] itself, like the Go lab's `raft.go`: its `State` (Figure 2's fields),
//!   the lab API the grader calls (`make`, `get_state`, `start`, `snapshot`, `kill`), the
//!   ticker (elections, heartbeats, replication), the applier (delivers committed entries on
//!   the apply channel) and `persist`/`read_persist`, in the order you fill them in, with
//!   each part's notes where it begins. **Start here.**
//! - `rpc`: the three RPCs, both sides: their arguments and replies ([`RequestVoteArgs`] ...),
//!   the handlers `request_vote`, `append_entries`, `install_snapshot`, and the `send_*`
//!   helpers.
//! - `progress`: one flag per part ([`progress::DONE_2A`] ...). Flip it when a part is done;
//!   the grader shows the hints of unfinished parts when a test fails.
//!
//! Rules that hold in every part:
//! - Never hold the state lock across an `.await` (an RPC, an apply-channel send, a sleep).
//! - A killed peer stops: every loop checks [`Raft::killed`].
//! - Determinism: time only through `tokio::time`, randomness only from `PeerArgs::rng` (a
//!   [`lab_api::PeerRng`], kept as `State::rng`), `biased;` in every `tokio::select!`, no
//!   `HashMap` iteration, no `std::thread` or blocking sleeps. The grader then replays any
//!   failure from its seed, and shrinks it (each draw of `rng` is a recorded choice).
//!
//! A one-peer cluster on a virtual clock, as the grader runs it:
//!
//! ```
//! use labrpc_sim::Network;
//! use raft_persist::Persister;
//! use lab_api::{LabRaft, PeerArgs, PeerRng, apply_channel};
//! use raft_student::Raft;
//!
//! let runtime = tokio::runtime::Builder::new_current_thread()
//!     .enable_time()
//!     .start_paused(true)
//!     .build()?;
//! runtime.block_on(async {
//!     let net = Network::new(1);
//!     let end = net.make_end("0-0")?;
//!     let (apply_ch, _reader) = apply_channel();
//!     let persister = Persister::new();
//!     let rng = PeerRng::seeded(1);
//!     let raft = Raft::make(PeerArgs { peers: vec![end], me: 0, persister, apply_ch, seed: 1, rng });
//!
//!     tokio::time::sleep(std::time::Duration::from_secs(5)).await;
//!     // As shipped: term 0, not leader (elections are part 2A).
//!     let (term, is_leader) = raft.get_state();
//!     println!("term {term}, leader: {is_leader}");
//!     // The parts whose flag in `progress` is still false.
//!     assert_eq!(raft.missing(), raft_student::progress::missing());
//!     raft.kill();
//!     assert!(raft.killed());
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod progress;
mod raft;
mod rpc;

pub use raft::{LogEntry, Raft};
pub use rpc::{
    AppendEntriesArgs, AppendEntriesReply, InstallSnapshotArgs, InstallSnapshotReply,
    RequestVoteArgs, RequestVoteReply,
};
