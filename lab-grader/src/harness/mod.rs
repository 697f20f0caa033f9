//! The harness: Go's `config.go` in Rust (spec section 3).
//!
//! - `context`: [`TestContext`], the per-test `t` (seed, output, failure, cleanup).
//! - `config`: [`Config`] and [`make_config`]: peers, crash1/start1, connect/disconnect,
//!   begin/end/cleanup, counters.
//! - `checkers`: check_one_leader, check_terms, check_no_leader, n_committed, wait, one.
//! - `appliers`: the apply-channel readers, checkLogs, ingestSnap, the 2D snapshot bytes.

mod appliers;
mod checkers;
mod config;
mod context;

pub use appliers::{decode_snapshot, encode_snapshot};
pub use checkers::Waited;
pub use config::{
    Config, ELECTION_TIMEOUT, MAX_LOG_SIZE, SNAPSHOT_INTERVAL, TIME_LIMIT, make_config,
};
pub use context::{Cleanup, Figures, Sink, TestContext};
