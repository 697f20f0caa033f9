//! Lab 4's grader (the 2026 course's fault-tolerant key/value service: 4A rsm, 4B kvraft,
//! 4C snapshots): the tester's harness, every test of spec sections 3-4, the client history
//! and its linearizability check, run by the Raft lab's runner (`grader`), deterministic in
//! virtual time, generic over the Raft peer and the Lab 4 layer ([`kv_api::KvLab`]).
//!
//! - [`harness`]: [`harness::Group`] (servers: start, crash, restart, partition) and
//!   [`harness::Config`] (network, clients, begin/end, the record, Raft's safety checks).
//! - [`rsm_test`]: the rsm tests' counter machine and helpers (`one_inc`, `check_counter`).
//! - [`suites`]: the tests as data ([`suites::kv_tests`]) and the whole catalogue a
//!   `grader` binary runs ([`suites::catalogue`]), one file per part.
//! - [`fail`]: [`fail::KvFail`], the tester's messages.
//! - [`format`]: Go's `%v` of durations and `%q`.
//!
//! The catalogue of the reference layer on the reference Raft, as the `grader` binary builds
//! it:
//!
//! ```
//! use grader::suites::Part;
//!
//! let tests = kv_grader::suites::catalogue::<raft_rpc::RaftPeer, kv_ref::Reference>();
//! let rsm: Vec<&str> = tests.iter().filter(|c| c.part == Part::KvA).map(|c| c.name).collect();
//! assert_eq!(rsm.len(), 7);
//! assert_eq!(rsm[0], "basic_4a");
//! ```

pub mod check;
pub mod fail;
pub mod format;
pub mod harness;
pub mod history;
pub mod kvtest;
pub mod rsm_test;
pub mod suites;

use grader::fail::Fail;
use grader::harness::TestContext;

/// A spawned helper's result; a helper that panicked has already failed the test.
pub(crate) async fn join<T>(task: tokio::task::JoinHandle<Result<T, Fail>>) -> Result<T, Fail> {
    match task.await {
        Ok(r) => r,
        Err(e) => Err(Fail::Panicked {
            message: e.to_string(),
        }),
    }
}

/// A helper task's result: a failure fails the test at once (Go's helper goroutine would
/// stop and leave the test hanging, spec 8.3); the task then reports only that the test is
/// finishing.
pub(crate) fn fail_now<T>(t: &TestContext, r: Result<T, Fail>) -> Result<T, Fail> {
    r.map_err(|f| {
        t.fail(f);
        Fail::Finishing
    })
}
