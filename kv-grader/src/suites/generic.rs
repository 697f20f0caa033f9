//! Go's `GenericTest` and `GenericTestSpeed` (spec 4.2, 4.3): the body of most 4B and 4C
//! tests, parameterized by [`Params`].

use std::sync::Arc;
use std::time::Duration;

use grader::fail::Fail;
use grader::harness::TestContext;
use kv_api::KvLab;
use lab_api::LabRaft;
use tokio::time::{Instant, sleep};

use crate::fail::KvFail;
use crate::format::go_duration;
use crate::kvtest::{ClntRes, ELECTION_TIMEOUT, KvTest, Params, make_keys};
use crate::{fail_now, join};

/// Go's `NITER`: iterations of GenericTest.
pub const NITER: usize = 3;
/// Go's `NSEC`: seconds the clients run in each iteration.
pub const NSEC: Duration = Duration::from_secs(1);
/// Go's `NKEYS`: keys with random keys.
pub const NKEYS: usize = 100;

/// Go's `GenericTest`: three iterations of clients putting for 1 s (with random partitions,
/// crashes of every server, snapshots, as `p` says), each followed by the put count check,
/// the linearizability check of the whole history so far and the size checks.
///
/// Each iteration:
/// 1. `nclients` clients, each with a fresh clerk, run `OneClientPut` for 1 s; then, with a
///    single key, `CheckPutConcurrent` (exact OK count on a reliable network without crashes
///    or partitions, at most OK + Maybe otherwise).
/// 2. With partitions: 1 s in, the partitioner starts (random splits every 1.0-1.2 s).
/// 3. The linearizability check over the whole history.
/// 4. With partitions: the partitioner stops, every server is reconnected, 1 s of sleep.
/// 5. With crashes: every server crashes, 1 s of sleep, every server restarts.
/// 6. With maxraftstate: the largest Raft state is at most 8 x maxraftstate; without: no
///    snapshot at all.
pub async fn generic_test<R: LabRaft, K: KvLab>(t: TestContext, p: Params) -> Result<(), Fail> {
    let ts = KvTest::<R, K>::make(&t, p)?;
    let mut ck = ts.make_clerk();
    let mut res = ClntRes::default();
    let keys = Arc::new(if p.randomkeys {
        make_keys(NKEYS)
    } else {
        vec!["k".to_string()]
    });
    let all = ts.cfg.group().all();
    for _ in 0..NITER {
        let spawn = {
            let ts = Arc::clone(&ts);
            let keys = Arc::clone(&keys);
            tokio::spawn(async move {
                let r = async {
                    let rs = ts.spawn_clients_and_wait(p.nclients, NSEC, &keys).await?;
                    if !p.randomkeys {
                        let reliable = ts.cfg.is_reliable() && !p.crash && !p.partitions;
                        ts.check_put_concurrent(&mut ck, "k", &rs, &mut res, reliable)
                            .await?;
                    }
                    Ok((ck, res))
                }
                .await;
                fail_now(ts.cfg.t(), r)
            })
        };
        let partitioner = if p.partitions {
            sleep(Duration::from_secs(1)).await;
            let (stop, stopped) = flume::bounded::<()>(0);
            let handle = tokio::spawn(Arc::clone(&ts).partitioner(stopped));
            Some((stop, handle))
        } else {
            None
        };
        (ck, res) = join(spawn).await?;
        ts.check_porcupine()?;
        if let Some((stop, handle)) = partitioner {
            let _ = stop.send_async(()).await;
            let _ = handle.await;
            ts.cfg.connect_all()?;
            sleep(ELECTION_TIMEOUT).await;
        }
        if p.crash {
            ts.cfg.kill(&all)?;
            sleep(Duration::from_secs(1)).await;
            ts.cfg.start(&all)?;
            ts.cfg.connect_all()?;
        }
        check_sizes(&ts, p)?;
    }
    ts.cfg.end()
}

/// GenericTest's size checks (spec 4.7).
fn check_sizes<R: LabRaft, K: KvLab>(ts: &KvTest<R, K>, p: Params) -> Result<(), Fail> {
    match p.maxraftstate {
        Some(max) => {
            let size = ts.cfg.group().raft_size();
            if size > 8 * max {
                return Err(KvFail::LogsNotTrimmed { size, max }.into());
            }
        }
        None => {
            let size = ts.cfg.group().snapshot_size();
            if size > 0 {
                return Err(KvFail::SnapshotWithoutMax { size }.into());
            }
        }
    }
    Ok(())
}

/// Go's `timePerOp`: 100 ms / 3, by integer division (33.333333 ms).
pub const TIME_PER_OP: Duration = Duration::from_nanos(100_000_000 / 3);

/// Go's `GenericTestSpeed`: 1000 Puts in a row, one client, each at most 33.333333 ms on
/// average.
///
/// 1. An unlogged Get of "x" (waits for a leader).
/// 2. 1000 unlogged Puts of "k" at versions 0..1000; any error fails (`Put err`).
/// 3. A Get of "k" must succeed (`Get err`) at version 1000 (`Get too few ops`).
/// 4. The whole must take at most 1000 x 33.333333 ms (`Operations completed too slowly`).
///    The per-op time and the latency histogram (5 ms bins; a Put of 500 ms or more goes in
///    the last bin instead of crashing the test as in Go) are logged to the run's record.
pub async fn generic_test_speed<R: LabRaft, K: KvLab>(
    t: TestContext,
    p: Params,
) -> Result<(), Fail> {
    const NOPS: u64 = 1000;
    let ts = KvTest::<R, K>::make(&t, p)?;
    let mut ck = ts.make_clerk();
    let _ = ts.clerk_get(&mut ck, "x").await?;
    let start = Instant::now();
    let mut hist = [0u64; 100];
    for i in 0..NOPS {
        let t1 = Instant::now();
        let r = ts.clerk_put(&mut ck, "k", &i.to_string(), i).await?;
        if r.is_err() {
            return Err(KvFail::SpeedPut(r).into());
        }
        let bin = (t1.elapsed().as_millis() / 5).min(99);
        hist[usize::try_from(bin).unwrap_or(99)] += 1;
    }
    let dur = start.elapsed();
    match ts.clerk_get(&mut ck, "k").await? {
        Err(err) => return Err(KvFail::SpeedGet { err }.into()),
        Ok((_, ver)) if ver != NOPS => return Err(KvFail::TooFewOps { ver }.into()),
        Ok(_) => {}
    }
    let per_op = dur / u32::try_from(NOPS).unwrap_or(1);
    tracing::info!(target: "kv_grader::tester", "dur {} {}", go_duration(per_op), go_duration(TIME_PER_OP));
    for (bin, n) in hist.iter().enumerate().filter(|(_, n)| **n > 0) {
        tracing::info!(target: "kv_grader::tester", "{bin}: {n}");
    }
    if dur > TIME_PER_OP * u32::try_from(NOPS).unwrap_or(1) {
        return Err(KvFail::TooSlow {
            per_op,
            bound: TIME_PER_OP,
        }
        .into());
    }
    ts.cfg.end()
}
