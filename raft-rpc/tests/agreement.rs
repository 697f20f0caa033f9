//! A healthy cluster elects one leader and replicates commands to every peer, in order,
//! each exactly once (the 2D applier fails a test on a gap or a repeat), on both runtime
//! flavours.

mod common;

use std::time::Duration;

use common::{Cluster, applied, cmd, wait_applied, with_cluster};
use grader::fail::Fail;
use lab_api::LabRaft;

/// Elects one leader, has it take `count` commands in a burst, and checks every peer applied
/// exactly 1..=count.
async fn elect_and_replicate(cluster: Cluster, count: u64) -> Result<(), Fail> {
    let leader = cluster.check_one_leader().await?;
    let rf = cluster.raft(leader).expect("the leader runs");
    let (term, _) = rf.get_state();
    let leaders: Vec<usize> = (0..3)
        .filter(|&i| cluster.raft(i).is_some_and(|p| p.get_state().1))
        .collect();
    assert_eq!(leaders, vec![leader], "exactly one peer believes it leads");

    for k in 1..=count {
        let started = rf
            .start(cmd(k).to_bytes())
            .expect("the leader takes commands");
        assert_eq!((started.index, started.term), (k, term));
    }
    for i in 0..3 {
        wait_applied(&cluster, i, count, Duration::from_secs(10)).await;
    }
    // Give a duplicate apply time to show up (the applier would fail the test).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let expected: Vec<_> = (1..=count).map(|k| Some(cmd(k))).collect();
    for i in 0..3 {
        assert_eq!(applied(&cluster, i, count), expected, "peer {i}'s applies");
    }
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn three_peers_replicate_100_commands_in_virtual_time() {
    with_cluster(3, 1, true, |c| elect_and_replicate(c, 100)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_peers_replicate_on_multi_thread_real_clock() {
    with_cluster(3, 2, true, |c| elect_and_replicate(c, 20)).await;
}

/// Commands submitted one at a time through `one` land at consecutive indices.
#[tokio::test(start_paused = true)]
async fn one_at_a_time_agreement() {
    with_cluster(3, 3, false, |cluster| async move {
        cluster.check_one_leader().await?;
        for k in 1..=10 {
            assert_eq!(cluster.one(cmd(k), 3, false).await?, k);
        }
        Ok(())
    })
    .await;
}
