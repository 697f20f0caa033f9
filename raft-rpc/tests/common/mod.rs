//! The reference peer's integration tests run on the grader's own harness (Go's config.go:
//! `make_config`, `one`, `crash1`, `start1`, `check_one_leader` ...), so the lab's semantics
//! are written once. This module holds the little they add.
#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use grader::cmd::Cmd;
use grader::fail::Fail;
use grader::harness::{Config, TestContext, make_config};
use raft_rpc::RaftPeer;
use tokio::time::{Instant, sleep};

/// A test's cluster of reference peers.
pub type Cluster = Arc<Config<RaftPeer>>;

/// Runs `body` on a cluster of `n` reliable reference peers (with the 2D snapshot applier
/// when `snapshots`), as the grader runs a test: a failure recorded by the appliers (out of
/// order, duplicate, disagreeing applies) fails it too.
pub async fn with_cluster<F, Fut>(n: usize, seed: u64, snapshots: bool, body: F)
where
    F: FnOnce(Cluster) -> Fut,
    Fut: Future<Output = Result<(), Fail>>,
{
    let t = TestContext::new(seed, Box::new(|_| {}));
    let result = t
        .run(async {
            let cluster = make_config::<RaftPeer>(&t, n, false, snapshots)?;
            body(cluster).await
        })
        .await;
    if let Err(fail) = result {
        panic!("seed {seed}: {fail}");
    }
}

/// Command `k` as the grader submits it.
pub fn cmd(k: u64) -> Cmd {
    Cmd::Int(i64::try_from(k).unwrap_or(i64::MAX))
}

/// Waits (up to `limit`) until peer `i` has applied `index`.
pub async fn wait_applied(cluster: &Cluster, i: usize, index: u64, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !cluster.applied_log(i).contains_key(&index) {
        assert!(
            Instant::now() < deadline,
            "peer {i} did not apply {index} within {limit:?}"
        );
        sleep(Duration::from_millis(10)).await;
    }
}

/// Peer `i`'s applied commands `1..=last`, in index order.
pub fn applied(cluster: &Cluster, i: usize, last: u64) -> Vec<Option<Cmd>> {
    let log = cluster.applied_log(i);
    (1..=last).map(|k| log.get(&k).cloned().flatten()).collect()
}
