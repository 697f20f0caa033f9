//! A healthy cluster elects one leader and replicates commands to every peer, in order,
//! each exactly once, on both runtime flavours.

mod common;

use std::time::Duration;

use common::{Cluster, cmd};
use raft_rpc::{ApplyMsg, LabRaft};

/// Elects one leader, has it take `count` commands in a burst, and checks every peer's apply
/// sequence is exactly 1..=count in order.
async fn elect_and_replicate(seed: u64, count: u64) {
    let cluster = Cluster::new(3, seed, false);
    let leader = cluster.check_one_leader().await;
    let (term, _) = cluster.peer(leader).get_state();
    let leaders: Vec<usize> = (0..3).filter(|&i| cluster.peer(i).get_state().1).collect();
    assert_eq!(leaders, vec![leader], "exactly one peer believes it leads");

    for k in 1..=count {
        let started = cluster
            .peer(leader)
            .start(cmd(k))
            .expect("the leader takes commands");
        assert_eq!((started.index, started.term), (k, term));
    }
    for i in 0..3 {
        cluster
            .wait_applied(i, count, Duration::from_secs(10))
            .await;
    }
    // Give a duplicate apply time to show up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.assert_no_apply_errors();
    let expected: Vec<ApplyMsg> = (1..=count)
        .map(|k| ApplyMsg::Command {
            index: k,
            command: cmd(k),
        })
        .collect();
    let applied = cluster.applied.lock().expect("apply record");
    for i in 0..3 {
        assert_eq!(applied.seqs[i], expected, "peer {i}'s applies");
    }
}

#[tokio::test(start_paused = true)]
async fn three_peers_replicate_100_commands_in_virtual_time() {
    elect_and_replicate(1, 100).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_peers_replicate_on_multi_thread_real_clock() {
    elect_and_replicate(2, 20).await;
}

/// Commands submitted one at a time through `one` land at consecutive indices.
#[tokio::test(start_paused = true)]
async fn one_at_a_time_agreement() {
    let cluster = Cluster::new(3, 3, false);
    cluster.check_one_leader().await;
    for k in 1..=10 {
        assert_eq!(cluster.one(cmd(k), 3, false).await, k);
    }
    cluster.assert_no_apply_errors();
}
