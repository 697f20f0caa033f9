//! A leader cut off from the majority cannot commit; after healing, the majority's log wins.

mod common;

use std::time::Duration;

use common::{Cluster, applied, cmd, wait_applied, with_cluster};
use grader::cmd::Cmd;
use lab_api::LabRaft;

fn applied_anywhere(cluster: &Cluster, command: &Cmd) -> bool {
    (0..cluster.n()).any(|i| {
        cluster
            .applied_log(i)
            .values()
            .any(|c| c.as_ref() == Some(command))
    })
}

#[tokio::test(start_paused = true)]
async fn isolated_leader_cannot_commit_and_majority_log_wins() {
    with_cluster(3, 11, false, |cluster| async move {
        let old_leader = cluster.check_one_leader().await?;
        assert_eq!(cluster.one(cmd(1), 3, false).await?, 1);
        cluster.disconnect(old_leader);
        let lost = Cmd::Str("never committed".into());
        let started = cluster
            .start_on(old_leader, &lost)
            .expect("the isolated leader still believes it leads");
        assert_eq!(started.index, 2);

        let new_leader = cluster.check_one_leader().await?;
        assert_ne!(new_leader, old_leader);
        assert_eq!(cluster.one(cmd(2), 2, false).await?, 2);
        assert_eq!(cluster.one(cmd(3), 2, false).await?, 3);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(
            !applied_anywhere(&cluster, &lost),
            "a minority leader committed"
        );

        cluster.connect(old_leader);
        assert_eq!(cluster.one(cmd(4), 3, true).await?, 4);
        wait_applied(&cluster, old_leader, 4, Duration::from_secs(5)).await;
        assert!(
            !applied_anywhere(&cluster, &lost),
            "the minority's entry survived healing"
        );
        let expected: Vec<_> = (1..=4).map(|k| Some(cmd(k))).collect();
        assert_eq!(applied(&cluster, old_leader, 4), expected);
        Ok(())
    })
    .await;
}

/// The same with the two followers cut off instead: the leader and both followers are then all
/// minorities of one, and nothing commits until the followers come back.
#[tokio::test(start_paused = true)]
async fn two_of_three_disconnected_commit_nothing() {
    with_cluster(3, 12, false, |cluster| async move {
        let leader = cluster.check_one_leader().await?;
        assert_eq!(cluster.one(cmd(1), 3, false).await?, 1);
        let others: Vec<usize> = (0..3).filter(|&i| i != leader).collect();
        for &i in &others {
            cluster.disconnect(i);
        }
        let started = cluster
            .raft(leader)
            .and_then(|rf| rf.start(Cmd::Str("stuck".into()).to_bytes()))
            .expect("still leader");
        assert_eq!(started.index, 2);
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(
            cluster.n_committed(2)?.0,
            0,
            "index 2 committed without a majority"
        );
        for &i in &others {
            cluster.connect(i);
        }
        let index = cluster.one(cmd(2), 3, true).await?;
        assert!(index >= 2);
        Ok(())
    })
    .await;
}
