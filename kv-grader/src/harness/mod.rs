//! The Lab 4 harness (Go's `tester1`, spec section 2): server groups of Raft peers with the
//! service on top, clients with their own ends, begin/end and the op counter.
//!
//! - `group`: [`Group`] and [`Instance`]: start, crash (checkpoint, kill) and restart a
//!   server, connect, disconnect and partition servers, the Raft and snapshot sizes.
//! - `config`: [`Config`] and [`make_config`]: the network, the group, clients, begin/end,
//!   the time limit, and the grader's record and continuous Raft safety checks.

mod config;
mod group;

use std::sync::{Mutex, MutexGuard, PoisonError};

pub use config::{Config, HOP_LATENCY, make_config, passed_line};
pub use group::{Boot, Group, Handle, Instance, server_index, server_name};

/// Locks a mutex, ignoring poisoning (a panic is already the test's failure).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
