//! A killed peer restarts from (a copy of) its persister and catches up.

mod common;

use std::time::Duration;

use common::{applied, cmd, wait_applied, with_cluster};
use lab_api::LabRaft;

#[tokio::test(start_paused = true)]
async fn restarted_follower_reapplies_everything_in_order() {
    with_cluster(3, 21, false, |cluster| async move {
        let leader = cluster.check_one_leader().await?;
        for k in 1..=10 {
            assert_eq!(cluster.one(cmd(k), 3, false).await?, k);
        }
        let follower = (leader + 1) % 3;
        cluster.crash1(follower);
        for k in 11..=20 {
            assert_eq!(cluster.one(cmd(k), 2, false).await?, k);
        }
        cluster.start1(follower)?;
        cluster.connect(follower);
        assert_eq!(cluster.one(cmd(21), 3, true).await?, 21);
        wait_applied(&cluster, follower, 21, Duration::from_secs(5)).await;
        let expected: Vec<_> = (1..=21).map(|k| Some(cmd(k))).collect();
        assert_eq!(applied(&cluster, follower, 21), expected);
        Ok(())
    })
    .await;
}

/// Every peer crashes and restarts: term, vote and log come back from the persisters, and the
/// next command lands after the old ones.
#[tokio::test(start_paused = true)]
async fn whole_cluster_restart_keeps_the_log() {
    with_cluster(3, 22, false, |cluster| async move {
        cluster.check_one_leader().await?;
        for k in 1..=5 {
            assert_eq!(cluster.one(cmd(k), 3, false).await?, k);
        }
        let terms: Vec<u64> = (0..3)
            .map(|i| cluster.raft(i).map_or(0, |p| p.get_state().0))
            .collect();
        for i in 0..3 {
            cluster.crash1(i);
        }
        for (i, term) in terms.into_iter().enumerate() {
            cluster.start1(i)?;
            // The term survives the restart.
            let now = cluster.raft(i).map_or(0, |p| p.get_state().0);
            assert!(now >= term, "peer {i}: term {term} before, {now} after");
        }
        for i in 0..3 {
            cluster.connect(i);
        }
        assert_eq!(cluster.one(cmd(6), 3, true).await?, 6);
        Ok(())
    })
    .await;
}

/// A killed peer refuses commands and, although still connected and registered, never
/// persists or applies again; a peer whose persisted state is garbage stays dead instead of
/// panicking or starting from scratch.
#[tokio::test(start_paused = true)]
async fn killed_and_corrupt_peers_stay_quiet() {
    with_cluster(3, 23, false, |cluster| async move {
        let leader = cluster.check_one_leader().await?;
        assert_eq!(cluster.one(cmd(1), 3, false).await?, 1);
        let peer = cluster.raft(leader).expect("the leader runs");
        peer.kill();
        assert!(peer.start(cmd(2).to_bytes()).is_none());
        let persister = cluster.saved(leader).expect("started");
        let state = persister.read_raft_state();
        let applies = cluster.applied_log(leader).len();

        // The others elect a leader of a newer term and commit; a live peer would adopt it.
        let mut committed = 0;
        for k in 2..=4 {
            for i in (0..3).filter(|&i| i != leader) {
                if cluster.start_on(i, &cmd(k)).is_some() {
                    committed += 1;
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        assert!(committed > 0, "the two live peers never elected a leader");
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            persister.read_raft_state(),
            state,
            "a killed peer persisted"
        );
        assert_eq!(
            cluster.applied_log(leader).len(),
            applies,
            "a killed peer applied"
        );

        let victim = (leader + 1) % 3;
        cluster.crash1(victim);
        let saved = cluster.saved(victim).expect("started");
        saved.save(
            labrpc_sim::Bytes::from_static(b"\xff\xff garbage"),
            labrpc_sim::Bytes::new(),
        );
        cluster.start1(victim)?;
        let dead = cluster.raft(victim).expect("restarted");
        assert!(dead.is_dead_on_arrival());
        assert!(dead.start(cmd(9).to_bytes()).is_none());
        assert_eq!(dead.get_state(), (0, false));
        Ok(())
    })
    .await;
}
