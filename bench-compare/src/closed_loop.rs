//! The workload both sides run: closed-loop proposers on the leader, each submitting a command
//! (or a batch of them) and waiting until it is acknowledged before submitting the next; a
//! warm-up, then a fixed measurement window in which completions are counted.
//!
//! Counting completions inside the window (whenever the command started) measures the steady
//! state without the ramp-up and drain of a fixed number of commands, which is what made the
//! criterion figures of `raft-rpc/benches/cluster.rs` vary from run to run.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::runtime::Runtime;
use tokio::time::Instant;

/// A cluster's leader as the proposers see it.
pub trait Target: Send + Sync + 'static {
    /// Submits `batch` commands of `payload` and completes once all are acknowledged (applied
    /// on the leader). Panics if the leader lost its leadership: the figures would be void.
    fn submit(&self, batch: usize, payload: Bytes) -> impl Future<Output = ()> + Send;
}

/// How many proposers, how large, how long.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    /// Closed-loop proposers.
    pub proposers: usize,
    /// Commands per submission (1: one at a time).
    pub batch: usize,
    /// Bytes per command.
    pub payload: usize,
    /// Time before the window opens.
    pub warmup: Duration,
    /// The measurement window.
    pub window: Duration,
}

/// What one window measured.
#[derive(Clone, Debug)]
pub struct Sample {
    /// Commands acknowledged per second in the window.
    pub ops_per_sec: f64,
    /// Median submission latency (submit to acknowledgement) of the window, in microseconds.
    pub p50_us: f64,
    /// 99th percentile of the same.
    pub p99_us: f64,
    /// What else the side measured, for the log (entries per AppendEntries, ...).
    pub note: String,
}

const WARMING: u8 = 0;
const MEASURING: u8 = 1;
const STOPPED: u8 = 2;

/// Runs `load` against `target` on `runtime`: every proposer runs from the start, the window
/// opens after the warm-up, and proposers stop after it closes.
pub fn run<T: Target>(runtime: &Runtime, target: &Arc<T>, load: Load) -> Sample {
    let payload = Bytes::from(vec![0x5a; load.payload]);
    let phase = Arc::new(AtomicU8::new(WARMING));
    runtime.block_on(async {
        let tasks: Vec<_> = (0..load.proposers)
            .map(|_| {
                let job = proposer(
                    Arc::clone(target),
                    Arc::clone(&phase),
                    load.batch,
                    payload.clone(),
                );
                tokio::spawn(job)
            })
            .collect();
        tokio::time::sleep(load.warmup).await;
        phase.store(MEASURING, Ordering::SeqCst);
        let opened = Instant::now();
        tokio::time::sleep(load.window).await;
        phase.store(STOPPED, Ordering::SeqCst);
        let elapsed = opened.elapsed();
        let mut ops = 0;
        let mut latencies = Vec::new();
        for task in tasks {
            let (done, times) = task.await.expect("proposer panicked");
            ops += done;
            latencies.extend(times);
        }
        latencies.sort_unstable();
        let pct = |p: f64| {
            let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
            latencies.get(i).copied().unwrap_or(0) as f64 / 1000.0
        };
        Sample {
            ops_per_sec: ops as f64 / elapsed.as_secs_f64(),
            p50_us: pct(0.5),
            p99_us: pct(0.99),
            note: String::new(),
        }
    })
}

/// One closed-loop proposer; returns the commands it completed inside the window and their
/// submissions' latencies in ns.
async fn proposer<T: Target>(
    target: Arc<T>,
    phase: Arc<AtomicU8>,
    batch: usize,
    payload: Bytes,
) -> (u64, Vec<u32>) {
    let mut done = 0;
    let mut latencies = Vec::new();
    loop {
        if phase.load(Ordering::Relaxed) == STOPPED {
            return (done, latencies);
        }
        let started = Instant::now();
        target.submit(batch, payload.clone()).await;
        if phase.load(Ordering::Relaxed) == MEASURING {
            done += batch as u64;
            latencies.push(started.elapsed().as_nanos().min(u32::MAX as u128) as u32);
        }
    }
}

/// A multi-thread runtime with `workers` worker threads (the same for both sides).
pub fn runtime(workers: usize) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("tokio runtime")
}
