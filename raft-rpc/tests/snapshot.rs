//! Snapshots: the 2D applier snapshots every 10 entries from its own task; a follower that
//! missed the compacted entries catches up through InstallSnapshot.

mod common;

use std::time::Duration;

use common::{cmd, wait_applied, with_cluster};

#[tokio::test(start_paused = true)]
async fn lagging_follower_catches_up_by_install_snapshot() {
    with_cluster(3, 31, true, |cluster| async move {
        let leader = cluster.check_one_leader().await?;
        assert_eq!(cluster.one(cmd(1), 3, false).await?, 1);
        let follower = (leader + 1) % 3;
        cluster.disconnect(follower);
        for k in 2..=55 {
            assert_eq!(cluster.one(cmd(k), 2, false).await?, k);
        }
        let leader_saved = cluster.saved(leader).expect("started");
        assert!(leader_saved.snapshot_size() > 0, "the leader snapshotted");
        assert_eq!(cluster.snapshots_applied(follower), 0);
        cluster.connect(follower);
        // The returning follower's higher term deposes the leader; the new leader can commit
        // the old term's entries only with one of its own (Figure 8), so `one` may retry.
        let index = cluster.one(cmd(56), 3, true).await?;
        wait_applied(&cluster, follower, index, Duration::from_secs(5)).await;
        assert!(
            cluster.snapshots_applied(follower) > 0,
            "the follower received no ApplyMsg::Snapshot"
        );

        // A restart now starts from the follower's own snapshot: the 2D applier would fail
        // the test if it re-applied from index 1 (it expects lastApplied + 1).
        cluster.crash1(follower);
        cluster.start1(follower)?;
        cluster.connect(follower);
        let index = cluster.one(cmd(57), 3, true).await?;
        wait_applied(&cluster, follower, index, Duration::from_secs(5)).await;
        Ok(())
    })
    .await;
}
