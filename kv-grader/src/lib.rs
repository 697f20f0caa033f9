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
//! - [`kvtest`]: the key/value tests' machinery (Go's `kvtest1`): logged Get and Put, the
//!   helpers, the partitioner; [`history`]: the client history; [`check`]: its
//!   linearizability check and the explanation of a failure.
//! - [`process`]: [`process::ProcessKv`], the layer as the tests see it when every server
//!   and the clerks are processes of a submission's (grading from outside).
//! - [`fail`]: [`fail::KvFail`], the tester's messages.
//! - [`format`](mod@format): Go's `%v` of durations and `%q`.
//!
//! A `grader` binary names its Raft and Lab 4 layer once; the catalogue gives the tests of
//! both labs, Lab 4's made with the same makeTitle as Go:
//!
//! ```
//! use grader::cli::Implementation;
//! use kv_grader::kvtest::Params;
//!
//! /// The grader of a Raft `R` and a layer `K` (the `grader` package builds four such).
//! fn implementation<R: lab_api::LabRaft, K: kv_api::KvLab>() -> Implementation {
//!     Implementation::with_suite("mine", "mine", "my Raft and layer", kv_grader::suites::catalogue::<R, K>)
//! }
//!
//! let p = Params {
//!     part: "4B basic",
//!     nclients: 1,
//!     nservers: 5,
//!     reliable: true,
//!     crash: false,
//!     partitions: false,
//!     maxraftstate: None,
//!     randomkeys: false,
//! };
//! assert_eq!(p.title(), "Test: one client (4B basic)");
//! ```

pub mod check;
pub mod fail;
pub mod format;
pub mod harness;
pub mod history;
pub mod kvtest;
pub mod process;
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
