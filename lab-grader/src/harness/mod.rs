//! The harness: Go's `config.go` in Rust (spec section 3).
//!
//! - `context`: [`TestContext`], the per-test `t` (seed, output, failure, cleanup).
//! - `cluster`: [`Cluster`], the wiring: peer slots on a network with their persisters,
//!   ends and servers; crash1/start1/connect/disconnect. Shared with the reference peer's
//!   tests and the cluster benchmarks.
//! - `config`: [`Config`] and [`make_config`]: the cluster plus the test's appliers, RNG,
//!   begin/end/cleanup and counters.
//! - `checkers`: check_one_leader, check_terms, check_no_leader, n_committed, wait, one.
//! - `appliers`: the apply-channel readers, checkLogs, ingestSnap, the 2D snapshot bytes.
//! - `looks`: one look at a peer at a time, observed in the order read (real time).
//! - `process`: [`ProcessRaft`], process mode: every peer in a process of its own.

mod appliers;
mod checkers;
mod cluster;
mod config;
mod context;
mod looks;
pub mod process;

pub use appliers::{SNAPSHOT_INTERVAL, decode_snapshot, encode_snapshot};
pub use checkers::Waited;
pub use cluster::{Cluster, server_name};
pub use config::{
    Config, ELECTION_TIMEOUT, GO_MAX_LOG_SIZE, GOB_RPC_OVERHEAD, INSPECT_EVERY, MAX_LOG_SIZE,
    TIME_LIMIT, make_config,
};
pub use context::{Cleanup, Figures, Sink, TestContext};
pub(crate) use context::{HotLock, lock};
pub use looks::{LookAt, LookGate, ViewSeen, look_at};
pub use process::{PeerLauncher, ProcessRaft};
