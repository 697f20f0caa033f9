//! A killed peer restarts from (a copy of) its persister and catches up.

mod common;

use std::time::Duration;

use common::{Cluster, cmd};
use raft_rpc::{ApplyMsg, LabRaft};

#[tokio::test(start_paused = true)]
async fn restarted_follower_reapplies_everything_in_order() {
    let mut cluster = Cluster::new(3, 21, false);
    let leader = cluster.check_one_leader().await;
    for k in 1..=10 {
        assert_eq!(cluster.one(cmd(k), 3, false).await, k);
    }
    let follower = (leader + 1) % 3;
    cluster.crash1(follower);
    for k in 11..=20 {
        assert_eq!(cluster.one(cmd(k), 2, false).await, k);
    }
    cluster.start1(follower);
    cluster.connect(follower);
    assert_eq!(cluster.one(cmd(21), 3, true).await, 21);
    cluster
        .wait_applied(follower, 21, Duration::from_secs(5))
        .await;

    let expected: Vec<ApplyMsg> = (1..=21)
        .map(|k| ApplyMsg::Command {
            index: k,
            command: cmd(k),
        })
        .collect();
    assert_eq!(
        cluster.applied.lock().expect("apply record").seqs[follower],
        expected
    );
    cluster.assert_no_apply_errors();
}

/// Every peer crashes and restarts: term, vote and log come back from the persisters, and the
/// next command lands after the old ones.
#[tokio::test(start_paused = true)]
async fn whole_cluster_restart_keeps_the_log() {
    let mut cluster = Cluster::new(3, 22, false);
    cluster.check_one_leader().await;
    for k in 1..=5 {
        assert_eq!(cluster.one(cmd(k), 3, false).await, k);
    }
    let terms: Vec<u64> = (0..3).map(|i| cluster.peer(i).get_state().0).collect();
    for i in 0..3 {
        cluster.crash1(i);
    }
    for (i, term) in terms.into_iter().enumerate() {
        cluster.start1(i);
        // The term survives the restart.
        assert!(cluster.peer(i).get_state().0 >= term);
    }
    for i in 0..3 {
        cluster.connect(i);
    }
    assert_eq!(cluster.one(cmd(6), 3, true).await, 6);
    cluster.assert_no_apply_errors();
}

/// A killed peer refuses commands and, although still connected and registered, never
/// persists or applies again; a peer whose persisted state is garbage stays dead instead of
/// panicking or starting from scratch.
#[tokio::test(start_paused = true)]
async fn killed_and_corrupt_peers_stay_quiet() {
    let mut cluster = Cluster::new(3, 23, false);
    let leader = cluster.check_one_leader().await;
    assert_eq!(cluster.one(cmd(1), 3, false).await, 1);
    let peer = std::sync::Arc::clone(cluster.peer(leader));
    peer.kill();
    assert!(peer.start(cmd(2)).is_none());
    let state = cluster.saved[leader].read_raft_state();
    let applies = cluster.applied.lock().expect("apply record").seqs[leader].len();

    // The others elect a leader of a newer term and commit; a live peer would adopt that term.
    let mut committed = 0;
    for k in 2..=4 {
        for i in (0..3).filter(|&i| i != leader) {
            if cluster.peer(i).start(cmd(k)).is_some() {
                committed += 1;
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(committed > 0, "the two live peers never elected a leader");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        cluster.saved[leader].read_raft_state(),
        state,
        "a killed peer persisted"
    );
    let after = cluster.applied.lock().expect("apply record").seqs[leader].len();
    assert_eq!(after, applies, "a killed peer applied");

    let victim = (leader + 1) % 3;
    cluster.crash1(victim);
    cluster.saved[victim].save(
        labrpc_sim::Bytes::from_static(b"\xff\xff garbage"),
        labrpc_sim::Bytes::new(),
    );
    cluster.start1(victim);
    assert!(cluster.peer(victim).is_dead_on_arrival());
    assert!(cluster.peer(victim).start(cmd(9)).is_none());
    assert_eq!(cluster.peer(victim).get_state(), (0, false));
}
