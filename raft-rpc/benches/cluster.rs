//! Cluster benchmarks: the reference peer (`raft_rpc::RaftPeer`) over labrpc-sim, driven
//! through the lab API exactly as a service would drive it.
//!
//! Setup (the "default path"): peers on one reliable labrpc-sim network (no artificial delay,
//! long delays off), every message bincode-encoded, in-memory lab persisters, lab timings
//! (10 ms ticks), a multi-thread tokio runtime with 2 workers unless the name says
//! `current_thread`. Each peer's apply channel has a reader task; every reader calls
//! `snapshot(index, 8 bytes)` on its peer every `SNAPSHOT_EVERY` applied entries, like a real
//! service, so that the lab persister (which rewrites the whole state on every save) does not
//! make the run quadratic.
//!
//! A proposer is a closed loop: `start` one command on the leader, wait until the leader's
//! reader has seen it applied (a `BTreeMap<index, oneshot>` of waiters), then start the next.
//! Criterion's `iter_custom` times N commands spread over the proposers; the cluster is built
//! once per benchmark. After each benchmark a summary line gives latency percentiles (sorted
//! Vec of every command's propose-to-ack time, warm-up included), the average number of
//! entries per AppendEntries and the RPCs per command, both from `Network::total_count`
//! (heartbeats, about 20 per second, are counted as RPCs too). The leader's term is checked
//! after every run: if leadership changed, the figures are void and the bench panics.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_main};
use grader::harness::Cluster;
use lab_api::{ApplyMsg, ApplyReceiver, LabRaft, PeerArgs, apply_channel};
use labrpc_sim::{NetError, Network};
use raft_rpc::{PeerOptions, RaftPeer};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// Applied entries between two service snapshots, per peer, for 16-byte commands (4 KiB
/// commands snapshot every 16 entries: the same ~64 KiB of applied entries between snapshots).
const SNAPSHOT_EVERY: u64 = 1000;

/// What one benchmark runs.
#[derive(Clone, Copy)]
struct Setup {
    peers: usize,
    proposers: usize,
    /// Bytes per command.
    payload: usize,
    /// Commands per `start_batch` call (1: plain `start`).
    batch: usize,
    multi_thread: bool,
    /// Applied entries between two service snapshots, per peer.
    snapshot_every: u64,
    /// Overrides the pipelining window (`PeerOptions::max_inflight_appends`; lab default 8).
    window: Option<usize>,
}

/// Proposers waiting for their index to be applied on the leader.
#[derive(Default)]
struct Waiters {
    state: Mutex<WaitState>,
}

#[derive(Default)]
struct WaitState {
    applied: u64,
    pending: BTreeMap<u64, oneshot::Sender<()>>,
}

impl Waiters {
    /// A receiver that fires once `index` is applied; `None` if it already is.
    fn wait(&self, index: u64) -> Option<oneshot::Receiver<()>> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.applied >= index {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        state.pending.insert(index, tx);
        Some(rx)
    }

    /// Everything through `index` is applied: wake its waiters.
    fn applied(&self, index: u64) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.applied = index;
        while let Some(entry) = state.pending.first_entry() {
            if *entry.key() > index {
                break;
            }
            let _ = entry.remove().send(());
        }
    }
}

/// A running cluster and the figures gathered while benchmarking it.
struct Bench {
    runtime: Runtime,
    net: Network,
    peers: Vec<Arc<RaftPeer>>,
    leader: usize,
    term: u64,
    waiters: Arc<Waiters>,
    setup: Setup,
    /// Propose-to-ack time of every command, in ns.
    latencies: Vec<u64>,
    commands: u64,
    rpcs: u64,
    busy: Duration,
}

/// Reads peer `me`'s apply channel; the leader's reader wakes proposers.
async fn reader(
    me: usize,
    peer: Arc<RaftPeer>,
    rx: ApplyReceiver,
    waiters: Arc<Waiters>,
    leader: Arc<AtomicUsize>,
    snapshot_every: u64,
) {
    while let Some(msg) = rx.recv().await {
        if let ApplyMsg::Command { index, .. } = msg {
            if leader.load(Ordering::Relaxed) == me {
                waiters.applied(index);
            }
            if index % snapshot_every == 0 {
                peer.snapshot(index, Bytes::from_static(b"snapshot"));
            }
        }
    }
}

impl Bench {
    fn build(setup: Setup) -> Bench {
        let runtime = if setup.multi_thread {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
        } else {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        }
        .expect("tokio runtime");
        let waiters = Arc::new(Waiters::default());
        let leader_slot = Arc::new(AtomicUsize::new(usize::MAX));
        let (net, peers) = runtime.block_on(start_peers(
            setup.peers,
            setup.snapshot_every,
            setup.window,
            &waiters,
            &leader_slot,
        ));
        let (leader, term) = runtime.block_on(find_leader(&peers));
        leader_slot.store(leader, Ordering::Relaxed);
        let mut cluster = Bench {
            runtime,
            net,
            peers,
            leader,
            term,
            waiters,
            setup,
            latencies: Vec::new(),
            commands: 0,
            rpcs: 0,
            busy: Duration::ZERO,
        };
        // One round through the whole path before anything is timed.
        cluster.run(setup.proposers as u64 * setup.batch as u64);
        cluster.latencies.clear();
        cluster.commands = 0;
        cluster.rpcs = 0;
        cluster.busy = Duration::ZERO;
        cluster
    }

    /// Runs `commands` commands (rounded up to whole batches) over the proposers; returns
    /// the wall time.
    fn run(&mut self, commands: u64) -> Duration {
        let setup = self.setup;
        let batch = setup.batch as u64;
        let calls = commands.div_ceil(batch);
        let peer = Arc::clone(&self.peers[self.leader]);
        let waiters = Arc::clone(&self.waiters);
        let payload = Bytes::from(vec![0x5a; setup.payload]);
        let rpcs_before = self.net.total_count();
        let (elapsed, latencies) = self.runtime.block_on(async move {
            let started = Instant::now();
            let mut tasks = Vec::with_capacity(setup.proposers);
            for p in 0..setup.proposers as u64 {
                let share =
                    calls / setup.proposers as u64 + u64::from(p < calls % setup.proposers as u64);
                let job = proposer(
                    Arc::clone(&peer),
                    Arc::clone(&waiters),
                    share,
                    setup.batch,
                    payload.clone(),
                );
                tasks.push(tokio::spawn(job));
            }
            let mut latencies = Vec::new();
            for task in tasks {
                latencies.extend(task.await.expect("proposer panicked"));
            }
            (started.elapsed(), latencies)
        });
        let (term, is_leader) = self.peers[self.leader].get_state();
        assert!(
            is_leader && term == self.term,
            "leadership changed during the run (term {} -> {term}); figures void",
            self.term
        );
        self.latencies.extend(latencies);
        self.commands += calls * batch;
        self.rpcs += self.net.total_count() - rpcs_before;
        self.busy += elapsed;
        elapsed
    }

    /// The summary line printed after the benchmark.
    fn report(&mut self, name: &str) {
        self.latencies.sort_unstable();
        let pct = |p: f64| {
            let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
            self.latencies.get(i).copied().unwrap_or(0) as f64 / 1000.0
        };
        let commands = self.commands as f64;
        let followers = (self.setup.peers - 1) as f64;
        println!(
            "{name}: {:.0} commands/s over {} commands ({:.1} MB/s payload); latency p50 {:.1} us, \
             p99 {:.1} us, max {:.1} us (per {}); ~{:.1} entries per AppendEntries; {:.3} RPCs per command",
            commands / self.busy.as_secs_f64(),
            self.commands,
            commands * self.setup.payload as f64 / self.busy.as_secs_f64() / 1e6,
            pct(0.5),
            pct(0.99),
            pct(1.0),
            if self.setup.batch == 1 {
                "command".to_owned()
            } else {
                format!("batch of {}", self.setup.batch)
            },
            commands * followers / self.rpcs.max(1) as f64,
            self.rpcs as f64 / commands.max(1.0),
        );
    }

    fn stop(self) {
        for peer in &self.peers {
            peer.kill();
        }
        self.net.cleanup();
        self.runtime.shutdown_timeout(Duration::from_secs(1));
    }
}

/// Makes `n` peers on a fresh reliable network (the grader's [`Cluster`] wiring, the same
/// start1/connect as every lab test), each with an apply reader.
async fn start_peers(
    n: usize,
    snapshot_every: u64,
    window: Option<usize>,
    waiters: &Arc<Waiters>,
    leader: &Arc<AtomicUsize>,
) -> (Network, Vec<Arc<RaftPeer>>) {
    let cluster = Cluster::<RaftPeer>::new(Network::new(7), n);
    let mut peers = Vec::with_capacity(n);
    for i in 0..n {
        let names = (0..n).map(|j| format!("{i}->{j}")).collect();
        let peer = cluster
            .start1(i, names, |ends, persister, _| {
                let (apply_ch, rx) = apply_channel();
                let args = PeerArgs {
                    peers: ends,
                    me: i,
                    persister,
                    apply_ch,
                    seed: 100 + i as u64,
                    rng: lab_api::PeerRng::seeded(100 + i as u64),
                };
                let options = PeerOptions {
                    max_inflight_appends: window,
                    ..PeerOptions::default()
                };
                let peer = RaftPeer::make_with(args, options);
                let job = reader(
                    i,
                    Arc::clone(&peer),
                    rx,
                    Arc::clone(waiters),
                    Arc::clone(leader),
                    snapshot_every,
                );
                tokio::spawn(job);
                Ok::<_, NetError>(peer)
            })
            .expect("fresh end names");
        peers.push(peer);
    }
    for i in 0..n {
        cluster.connect(i).expect("known ends");
    }
    (cluster.net().clone(), peers)
}

/// Waits until exactly one peer believes it leads; returns it and its term.
async fn find_leader(peers: &[Arc<RaftPeer>]) -> (usize, u64) {
    for _ in 0..500 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let leaders: Vec<(usize, u64)> = (0..peers.len())
            .filter_map(|i| {
                let (term, leader) = peers[i].get_state();
                leader.then_some((i, term))
            })
            .collect();
        if let [one] = leaders[..] {
            return one;
        }
    }
    panic!("no leader elected within 5 s");
}

/// One closed-loop proposer: `calls` times, start a command (or a batch) and wait for the
/// leader to apply it. Returns each call's latency in ns.
async fn proposer(
    peer: Arc<RaftPeer>,
    waiters: Arc<Waiters>,
    calls: u64,
    batch: usize,
    payload: Bytes,
) -> Vec<u64> {
    let mut latencies = Vec::with_capacity(calls as usize);
    for _ in 0..calls {
        let started = Instant::now();
        let placed = if batch == 1 {
            peer.start(payload.clone())
        } else {
            peer.start_batch(std::iter::repeat_n(payload.clone(), batch))
        };
        let index = placed.expect("the leader stays leader").index;
        if let Some(rx) = waiters.wait(index) {
            rx.await.expect("the leader's reader is alive");
        }
        latencies.push(started.elapsed().as_nanos() as u64);
    }
    latencies
}

/// Benchmarks `setup` under `name` in `group`; prints the summary line after.
fn bench_cluster(c: &mut Criterion, group: &str, name: &str, setup: Setup, bytes: bool) {
    // Built on first use, so that a benchmark filtered out by name costs nothing.
    let mut cluster: Option<Bench> = None;
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    g.throughput(if bytes {
        Throughput::Bytes(setup.payload as u64)
    } else {
        Throughput::Elements(1)
    });
    g.bench_function(name, |b| {
        let cluster = cluster.get_or_insert_with(|| Bench::build(setup));
        b.iter_custom(|iters| cluster.run(iters))
    });
    g.finish();
    if let Some(mut cluster) = cluster {
        cluster.report(&format!("{group}/{name}"));
        cluster.stop();
    }
}

fn default_setup() -> Setup {
    Setup {
        peers: 3,
        proposers: 1,
        payload: 16,
        batch: 1,
        multi_thread: true,
        snapshot_every: SNAPSHOT_EVERY,
        window: None,
    }
}

fn latency(c: &mut Criterion) {
    let setup = default_setup();
    bench_cluster(c, "cluster3", "latency_c1", setup, false);
    let current = Setup {
        multi_thread: false,
        ..setup
    };
    bench_cluster(c, "cluster3", "latency_c1_current_thread", current, false);
}

fn throughput(c: &mut Criterion) {
    for proposers in [64, 256, 1024] {
        let setup = Setup {
            proposers,
            ..default_setup()
        };
        bench_cluster(
            c,
            "cluster3",
            &format!("throughput_c{proposers}"),
            setup,
            false,
        );
    }
    // Not a target: what batching would give. A window of one AppendEntries in flight per
    // follower makes new entries wait for the previous reply and leave together.
    let window1 = Setup {
        proposers: 256,
        window: Some(1),
        ..default_setup()
    };
    bench_cluster(c, "cluster3", "throughput_c256_window1", window1, false);
    let five = Setup {
        peers: 5,
        proposers: 256,
        ..default_setup()
    };
    bench_cluster(c, "cluster5", "throughput_c256", five, false);
}

fn payload(c: &mut Criterion) {
    let setup = Setup {
        proposers: 256,
        payload: 4096,
        snapshot_every: 16,
        ..default_setup()
    };
    bench_cluster(c, "cluster3", "payload4k_c256", setup, true);
}

fn batch(c: &mut Criterion) {
    let setup = Setup {
        proposers: 16,
        batch: 64,
        ..default_setup()
    };
    bench_cluster(c, "cluster3", "batch64", setup, false);
}

/// `criterion_group!` makes a public function without docs; it lives here.
mod group {
    #![allow(missing_docs)]
    use super::*;
    criterion::criterion_group!(benches, latency, throughput, payload, batch);
}
criterion_main!(group::benches);
