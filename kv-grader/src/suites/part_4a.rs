//! Part 4A: the rsm (Go's `kvraft1/rsm/rsm_test.go`, spec 3.2-3.8), plus the rsm's snapshot
//! test, which Go names `TestSnapshot4C` and runs in 4C (spec 3.9). Each test drives a
//! counter replicated by the rsm under test on 3 servers, reliable network.

use std::sync::Arc;
use std::time::Duration;

use grader::fail::Fail;
use grader::harness::TestContext;
use kv_api::KvLab;
use lab_api::LabRaft;
use tokio::time::sleep;

use crate::fail::KvFail;
use crate::join;
use crate::rsm_test::{Counter, NSRV, Rep, Req, RsmTest};

/// The rsm test of the layer `K` on Raft `R`.
type Test<R, K> = RsmTest<R, <K as KvLab>::Rsm<R, Counter>>;

fn make<R: LabRaft, K: KvLab>(
    t: &TestContext,
    max_raft_state: Option<usize>,
) -> Result<Arc<Test<R, K>>, Fail> {
    Test::<R, K>::make(t, max_raft_state, K::missing)
}

/// `expected i instead of n` unless Submit's count is `i + 1`.
fn expect_count(i: u64, got: i64) -> Result<(), Fail> {
    if i64::try_from(i + 1).ok() == Some(got) {
        Ok(())
    } else {
        Err(KvFail::ExpectedInstead { i, got }.into())
    }
}

/// TestBasic4A: ten Incs, one at a time, each seen by all three servers.
///
/// 1. For i in 0..10: `r = oneInc()`; r must be i+1 (`expected i instead of r`);
///    `checkCounter(r, 3)`.
pub async fn basic_4a<R: LabRaft, K: KvLab>(t: TestContext) -> Result<(), Fail> {
    let ts = make::<R, K>(&t, None)?;
    ts.cfg.begin("Test RSM basic");
    for i in 0..10 {
        let r = ts.one_inc().await?;
        expect_count(i, r)?;
        ts.check_counter(r, NSRV).await?;
    }
    ts.cfg.end()
}

/// TestConcurrent4A: 50 concurrent Incs; each must be applied exactly once.
///
/// 1. 50 tasks each run `oneInc()`; wait for all.
/// 2. `checkCounter(50, 3)` (an op applied twice makes it 51).
pub async fn concurrent_4a<R: LabRaft, K: KvLab>(t: TestContext) -> Result<(), Fail> {
    let ts = make::<R, K>(&t, None)?;
    ts.cfg.begin("Test concurrent submit");
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let ts = Arc::clone(&ts);
            tokio::spawn(async move { ts.one_inc().await })
        })
        .collect();
    for task in tasks {
        join(task).await?;
    }
    ts.check_counter(50, NSRV).await?;
    ts.cfg.end()
}

/// TestLeaderFailure4A: a new leader takes over from a disconnected one, which catches up.
///
/// 1. `r = oneInc()`; `checkCounter(r, 3)`.
/// 2. Disconnect the leader; `r = oneInc()` (the others elect a leader);
///    `checkCounter(r, 2)`.
/// 3. Reconnect it; `checkCounter(r, 3)`.
///
/// A deviation: an `oneInc` that gives up fails the test (Go goes on with the zero reply,
/// which passes vacuously when nothing was ever committed).
pub async fn leader_failure_4a<R: LabRaft, K: KvLab>(t: TestContext) -> Result<(), Fail> {
    let ts = make::<R, K>(&t, None)?;
    ts.cfg.begin("Test Leader Failure");
    let r = ts.one_inc_answered().await?;
    ts.check_counter(r, NSRV).await?;
    let l = ts.disconnect_leader()?;
    let r = ts.one_inc_answered().await?;
    ts.check_counter(r, NSRV - 1).await?;
    ts.connect(l)?;
    ts.check_counter(r, NSRV).await?;
    ts.cfg.end()
}

/// TestLeaderPartition4A: Submits on a leader cut off from the majority must neither
/// succeed nor give up while the partition lasts, and must return once it heals.
///
/// 1. `r = oneInc()`; `checkCounter(r, 3)`.
/// 2. Partition the leader l alone from the other two.
/// 3. 100 concurrent `Submit(Dec)` on l: any OK fails (`Submit i in minority completed`).
/// 4. Sleep 10 ms; `rep = onePartition(majority, Inc)`.
/// 5. If all 100 have returned within 1 s: `Dec's in minority completed`.
/// 6. Reconnect l; all 100 must return within 1 s (`Submit after healing didn't return`).
/// 7. `checkCounter(rep.N, 3)`.
pub async fn leader_partition_4a<R: LabRaft, K: KvLab>(t: TestContext) -> Result<(), Fail> {
    let ts = make::<R, K>(&t, None)?;
    ts.cfg.begin("Test Leader Partition");
    let r = ts.one_inc().await?;
    ts.check_counter(r, NSRV).await?;
    let l = ts.leader();
    let (p1, p2) = ts.cfg.group().make_partition(l);
    ts.cfg.partition(&p1, &p2)?;
    tracing::info!(target: "kv_grader::tester", "partition leader {l}");
    let (done_tx, mut done) = tokio::sync::oneshot::channel::<()>();
    {
        let ts = Arc::clone(&ts);
        tokio::spawn(async move {
            let submits: Vec<_> = (0..100)
                .map(|i| {
                    let ts = Arc::clone(&ts);
                    tokio::spawn(async move {
                        if let Some(Ok(rep)) = ts.submit(l, Req::Dec).await {
                            ts.cfg.t().fail(
                                KvFail::MinoritySubmitCompleted {
                                    i,
                                    rep: format!("{rep:?}"),
                                }
                                .into(),
                            );
                        }
                    })
                })
                .collect();
            for s in submits {
                let _ = s.await;
            }
            let _ = done_tx.send(());
        });
    }
    sleep(Duration::from_millis(10)).await;
    let rep = ts.one_partition(Some(&p1), Req::Inc).await?;
    tokio::select! {
        biased;
        _ = &mut done => return Err(KvFail::MinorityDecsCompleted.into()),
        () = sleep(Duration::from_secs(1)) => {}
    }
    ts.connect(l)?;
    tokio::select! {
        biased;
        _ = &mut done => {}
        () = sleep(Duration::from_secs(1)) => return Err(KvFail::NotReturnedAfterHeal.into()),
    }
    match rep {
        Some(Rep::Inc(n)) => ts.check_counter(n, NSRV).await?,
        None => return Err(KvFail::MajorityNoReply { p: p1 }.into()),
        Some(other) => {
            return Err(KvFail::WrongReply {
                req: "Inc".into(),
                rep: format!("{other:?}"),
            }
            .into());
        }
    }
    ts.cfg.end()
}

/// TestRestartReplay4A: after all servers restart, the rsm replays the log (no snapshots).
///
/// 1. 100 × { `r = oneInc()` (must be i+1); `checkCounter(r, 3)` }.
/// 2. Crash all; sleep 1 s; restart all.
/// 3. `r = oneInc()` must be 101 (`expected 101 got r`).
/// 4. Sleep 1 s; `checkCounter(r, 3)`.
pub async fn restart_replay_4a<R: LabRaft, K: KvLab>(t: TestContext) -> Result<(), Fail> {
    let ts = make::<R, K>(&t, None)?;
    ts.cfg.begin("Test Restart");
    for i in 0..100 {
        let r = ts.one_inc().await?;
        expect_count(i, r)?;
        ts.check_counter(r, NSRV).await?;
    }
    let all = ts.cfg.group().all();
    ts.kill(&all)?;
    sleep(Duration::from_secs(1)).await;
    ts.restart(&all)?;
    let r = ts.one_inc().await?;
    if r != 101 {
        return Err(KvFail::ExpectedGot {
            expected: 101,
            got: r,
        }
        .into());
    }
    sleep(Duration::from_secs(1)).await;
    ts.check_counter(r, NSRV).await?;
    ts.cfg.end()
}

/// Runs 100 concurrent `oneNull()`, crashes every server 20 ms in, and waits (at most 11
/// s) for all 100 to return.
async fn null_then_shutdown<R: LabRaft, M: kv_api::Rsm<R, Counter>>(
    ts: &Arc<RsmTest<R, M>>,
) -> Result<(), Fail> {
    let (done_tx, done) = tokio::sync::oneshot::channel::<Result<(), Fail>>();
    {
        let ts = Arc::clone(ts);
        tokio::spawn(async move {
            let nulls: Vec<_> = (0..100)
                .map(|_| {
                    let ts = Arc::clone(&ts);
                    tokio::spawn(async move { ts.one_null().await })
                })
                .collect();
            let mut result = Ok(());
            for n in nulls {
                if let Err(e) = join(n).await {
                    result = Err(e);
                }
            }
            let _ = done_tx.send(result);
        });
    }
    sleep(Duration::from_millis(20)).await;
    let all = ts.cfg.group().all();
    ts.kill(&all)?;
    tokio::select! {
        biased;
        r = done => r.unwrap_or(Ok(())),
        () = sleep(Duration::from_secs(11)) => Err(KvFail::SubmitDidNotStop.into()),
    }
}

/// TestShutdown4A: Submits in flight when every server crashes must return.
///
/// 1. 100 concurrent `oneNull()`.
/// 2. Sleep 20 ms; crash all.
/// 3. All must return within 11 s (`Submit didn't stop after shutdown`). They return after
///    about 10 s, when `onePartition` gives up: the test always takes that long.
pub async fn shutdown_4a<R: LabRaft, K: KvLab>(t: TestContext) -> Result<(), Fail> {
    let ts = make::<R, K>(&t, None)?;
    ts.cfg.begin("Test Shutdown");
    null_then_shutdown(&ts).await?;
    ts.cfg.end()
}

/// TestRestartSubmit4A: restarts, Submits in flight during a crash, and a restart right
/// after.
///
/// 1. 100 × { `oneInc()` (must be i+1); `checkCounter` }.
/// 2. Crash all; sleep 1 s; restart all; `oneInc()` must be 101 (`Expected 101 got r`).
/// 3. Sleep 1 s; 100 concurrent `oneNull()`; 20 ms in, crash all; they must return within
///    11 s.
/// 4. Restart all at once; `r = oneInc()`; `checkCounter(r, 3)`.
pub async fn restart_submit_4a<R: LabRaft, K: KvLab>(t: TestContext) -> Result<(), Fail> {
    let ts = make::<R, K>(&t, None)?;
    ts.cfg.begin("Test Restart and submit");
    for i in 0..100 {
        let r = ts.one_inc().await?;
        expect_count(i, r)?;
        ts.check_counter(r, NSRV).await?;
    }
    let all = ts.cfg.group().all();
    ts.kill(&all)?;
    sleep(Duration::from_secs(1)).await;
    ts.restart(&all)?;
    let r = ts.one_inc().await?;
    if r != 101 {
        return Err(KvFail::CapitalExpectedGot {
            expected: 101,
            got: r,
        }
        .into());
    }
    sleep(Duration::from_secs(1)).await;
    null_then_shutdown(&ts).await?;
    ts.restart(&all)?;
    let r = ts.one_inc().await?;
    ts.check_counter(r, NSRV).await?;
    ts.cfg.end()
}

/// TestSnapshot4C (rsm): the rsm snapshots, and restores its snapshot after a restart.
///
/// 1. maxraftstate 1000. 100 × `oneInc()`; `checkCounter(100, 3)`.
/// 2. The largest Raft state must be at most 2 × 1000 bytes (`logs were not trimmed`).
/// 3. Crash all; restart all; `oneInc()`; `checkCounter(101, 3)`.
pub async fn snapshot_4c<R: LabRaft, K: KvLab>(t: TestContext) -> Result<(), Fail> {
    const MAX: usize = 1000;
    let ts = make::<R, K>(&t, Some(MAX))?;
    ts.cfg.begin("Test creating and restoring snapshot");
    for _ in 0..100 {
        ts.one_inc().await?;
    }
    ts.check_counter(100, NSRV).await?;
    let size = ts.cfg.group().raft_size();
    if size > 2 * MAX {
        return Err(KvFail::RsmLogsNotTrimmed { size, max: MAX }.into());
    }
    let all = ts.cfg.group().all();
    ts.kill(&all)?;
    ts.restart(&all)?;
    ts.one_inc().await?;
    ts.check_counter(101, NSRV).await?;
    ts.cfg.end()
}
