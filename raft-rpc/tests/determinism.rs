//! Same seeds in virtual time give the same run; and two figures worth watching: time to
//! first leader and RPCs per idle second.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{cmd, with_cluster};
use grader::cmd::Cmd;
use lab_api::LabRaft;
use tokio::time::{Instant, sleep};

fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime")
}

/// Applied log per peer, RPC count, RPC bytes.
type Trace = (Vec<BTreeMap<u64, Option<Cmd>>>, u64, u64);

/// A run with elections, replication, a partition, a crash and snapshots.
fn run(seed: u64) -> Trace {
    let mut trace = Trace::default();
    let out = &mut trace;
    paused_runtime().block_on(with_cluster(3, seed, true, |cluster| async move {
        let leader = cluster.check_one_leader().await?;
        for k in 1..=15 {
            cluster.one(cmd(k), 3, true).await?;
        }
        let follower = (leader + 1) % 3;
        cluster.disconnect(follower);
        for k in 16..=40 {
            cluster.one(cmd(k), 2, true).await?;
        }
        cluster.crash1(leader);
        cluster.connect(follower);
        for k in 41..=45 {
            cluster.one(cmd(k), 2, true).await?;
        }
        cluster.start1(leader)?;
        cluster.connect(leader);
        cluster.one(cmd(46), 3, true).await?;
        sleep(Duration::from_secs(1)).await;
        let logs = (0..3).map(|i| cluster.applied_log(i)).collect();
        *out = (logs, cluster.rpc_total(), cluster.bytes_total());
        Ok(())
    }));
    trace
}

#[test]
fn same_seed_same_run() {
    let first = run(41);
    let second = run(41);
    assert!(first.1 > 0 && first.2 > 0);
    assert_eq!(first.1, second.1, "RPC counts differ");
    assert_eq!(first.2, second.2, "RPC bytes differ");
    assert_eq!(first.0, second.0, "applied logs differ");
}

/// Virtual time from cluster start until some peer says it leads (polled every 10 ms), and
/// RPCs over one idle second after that. Asserts the lab's limits: a leader within the 5 s
/// that checkOneLeader waits, and at most 3 x 20 = 60 RPCs per idle second (TestCount2B).
#[test]
fn measure_first_leader_and_idle_rpcs() {
    let mut lines = Vec::new();
    for seed in 1..=10 {
        let mut figures = (Duration::ZERO, 0);
        let out = &mut figures;
        paused_runtime().block_on(with_cluster(3, seed, false, |cluster| async move {
            let start = Instant::now();
            let elected = loop {
                if (0..3).any(|i| cluster.raft(i).is_some_and(|p| p.get_state().1)) {
                    break start.elapsed();
                }
                sleep(Duration::from_millis(10)).await;
            };
            // Let the new leader's first round settle, then count one idle second.
            sleep(Duration::from_millis(200)).await;
            let before = cluster.rpc_total();
            sleep(Duration::from_secs(1)).await;
            *out = (elected, cluster.rpc_total() - before);
            Ok(())
        }));
        let (elected, idle) = figures;
        assert!(
            elected <= Duration::from_secs(5),
            "seed {seed}: no leader after {elected:?}"
        );
        assert!(idle <= 60, "seed {seed}: {idle} RPCs in one idle second");
        lines.push(format!(
            "seed {seed}: first leader after {} ms, {idle} RPCs in the idle second",
            elected.as_millis()
        ));
    }
    for line in &lines {
        println!("{line}");
    }
}
