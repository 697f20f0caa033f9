//! Our reference peer beside openraft on one closed-loop workload, so that one command
//! prints both and their ratio: `cargo bench -p bench-compare` (see `benches/compare.rs` and
//! BENCHMARKS.md).
//!
//! - `closed_loop`: the workload both sides run (proposers, warm-up, a fixed window in which
//!   completions are counted) and the [`closed_loop::Target`] each side implements.
//! - `ours`: `raft_rpc::RaftPeer` through the lab API over labrpc-sim, wired by the grader's
//!   harness, as in `raft-rpc/benches/cluster.rs`.
//! - `baseline`: openraft with an in-memory store and an in-process network.
//! - `stats`: medians and spreads of repeated samples.
//!
//! ```no_run
//! use std::time::Duration;
//! use bench_compare::{closed_loop::Load, ours, baseline};
//!
//! let load = Load {
//!     proposers: 256,
//!     batch: 1,
//!     payload: 16,
//!     warmup: Duration::from_secs(1),
//!     window: Duration::from_secs(2),
//! };
//! let setup = ours::Setup {
//!     peers: 3,
//!     workers: 2,
//!     snapshot_every: 1000,
//!     path: ours::Path::Lab,
//!     options: raft_rpc::PeerOptions::default(),
//! };
//! let ours = ours::measure(setup, load);
//! let theirs = baseline::measure(3, 2, 1000, load);
//! println!("{:.0} vs {:.0} commands/s", ours.ops_per_sec, theirs.ops_per_sec);
//! ```

pub mod baseline;
pub mod closed_loop;
pub mod ours;
pub mod stats;
