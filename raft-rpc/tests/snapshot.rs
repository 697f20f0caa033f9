//! Snapshots: the apply readers snapshot every 10 entries from their own task; a follower that
//! missed the compacted entries catches up through InstallSnapshot.

mod common;

use std::time::Duration;

use common::{Cluster, cmd};
use raft_rpc::ApplyMsg;

#[tokio::test(start_paused = true)]
async fn lagging_follower_catches_up_by_install_snapshot() {
    let mut cluster = Cluster::new(3, 31, true);
    let leader = cluster.check_one_leader().await;
    assert_eq!(cluster.one(cmd(1), 3, false).await, 1);
    let follower = (leader + 1) % 3;
    cluster.disconnect(follower);
    for k in 2..=55 {
        assert_eq!(cluster.one(cmd(k), 2, false).await, k);
    }
    assert!(
        cluster.saved[leader].snapshot_size() > 0,
        "the leader snapshotted"
    );

    cluster.connect(follower);
    // The returning follower's higher term deposes the leader; the new leader can commit the
    // old term's entries only with one of its own (Figure 8), so `one` may retry at 57.
    let index = cluster.one(cmd(56), 3, true).await;
    cluster
        .wait_applied(follower, index, Duration::from_secs(5))
        .await;
    cluster.assert_no_apply_errors();
    let snapshot_index = {
        let applied = cluster.applied.lock().expect("apply record");
        let snapshot = applied.seqs[follower].iter().find_map(|msg| match msg {
            ApplyMsg::Snapshot { index, .. } => Some(*index),
            ApplyMsg::Command { .. } => None,
        });
        snapshot.expect("the follower received an ApplyMsg::Snapshot")
    };
    assert!(
        (10..=index).contains(&snapshot_index),
        "snapshot at {snapshot_index}"
    );

    // A restart now starts from the follower's own snapshot; the next command follows it.
    cluster.crash1(follower);
    cluster.start1(follower);
    cluster.connect(follower);
    let index = cluster.one(cmd(57), 3, true).await;
    cluster
        .wait_applied(follower, index, Duration::from_secs(5))
        .await;
    cluster.assert_no_apply_errors();
    let first = cluster.applied.lock().expect("apply record").seqs[follower]
        .first()
        .cloned();
    match first {
        Some(ApplyMsg::Command { index, .. }) => {
            assert!(index > 1, "re-applied from 1 despite a snapshot")
        }
        other => panic!("unexpected first apply after restart: {other:?}"),
    }
}
