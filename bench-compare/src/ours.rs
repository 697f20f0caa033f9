//! Our side: the reference peer (`raft_rpc::RaftPeer`) through the lab API, wired by the
//! grader's harness (`grader::harness::Cluster`, the same start1/connect as every lab test),
//! as in `raft-rpc/benches/cluster.rs`: reliable labrpc-sim network, every message
//! bincode-encoded, in-memory lab persisters, lab timings. Each peer's apply channel has a
//! reader task that snapshots every `snapshot_every` applied entries; the leader's reader
//! acknowledges proposers.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use grader::harness::Cluster;
use lab_api::{ApplyMsg, ApplyReceiver, LabRaft, PeerArgs, apply_channel};
use labrpc_sim::{NetError, Network};
use raft_rpc::{ApplyBatches, NativeArgs, PeerOptions, RaftPeer};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

use crate::closed_loop::{self, Load, Sample, Target};

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

/// The leader of a running cluster of lab peers.
pub struct Leader {
    peer: Arc<RaftPeer>,
    waiters: Arc<Waiters>,
    term: u64,
}

impl Target for Leader {
    async fn submit(&self, batch: usize, payload: Bytes) {
        let placed = if batch == 1 {
            self.peer.start(payload)
        } else {
            self.peer.start_batch(std::iter::repeat_n(payload, batch))
        };
        let started = placed.expect("the leader stays leader");
        assert_eq!(started.term, self.term, "leadership changed: figures void");
        if let Some(rx) = self.waiters.wait(started.index) {
            rx.await.expect("the leader's reader is alive");
        }
    }
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

/// Reads a native peer's apply batches: one wake per batch, not per command.
async fn native_reader(
    me: usize,
    peer: Arc<RaftPeer>,
    mut rx: ApplyBatches,
    waiters: Arc<Waiters>,
    leader: Arc<AtomicUsize>,
    snapshot_every: u64,
) {
    while let Some(batch) = rx.recv().await {
        let mut last = None;
        let mut snapshot_at = None;
        for msg in &batch {
            if let ApplyMsg::Command { index, .. } = msg {
                last = Some(*index);
                if index % snapshot_every == 0 {
                    snapshot_at = Some(*index);
                }
            }
        }
        if let Some(index) = last {
            if leader.load(Ordering::Relaxed) == me {
                waiters.applied(index);
            }
        }
        if let Some(index) = snapshot_at {
            peer.snapshot(index, Bytes::from_static(b"snapshot"));
        }
    }
}

/// Which apply path the peers use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// The lab API: one `ApplyMsg` per command on a rendezvous channel.
    Lab,
    /// `RaftPeer::make_native`: apply batches on an unbounded queue.
    Native,
}

/// One of our clusters.
#[derive(Clone, Debug)]
pub struct Setup {
    /// Cluster size.
    pub peers: usize,
    /// Tokio worker threads.
    pub workers: usize,
    /// Applied entries between the service's snapshots, per peer.
    pub snapshot_every: u64,
    /// The apply path.
    pub path: Path,
    /// Every peer's options.
    pub options: PeerOptions,
}

/// Builds a cluster on a fresh runtime, runs `load` on its leader and tears it down.
pub fn measure(setup: Setup, load: Load) -> Sample {
    let Setup {
        peers,
        workers,
        snapshot_every,
        path,
        options,
    } = setup;
    let runtime = closed_loop::runtime(workers);
    let waiters = Arc::new(Waiters::default());
    let leader_slot = Arc::new(AtomicUsize::new(usize::MAX));
    let (net, rafts) = runtime.block_on(start_peers(
        peers,
        snapshot_every,
        path,
        &options,
        &waiters,
        &leader_slot,
    ));
    let (leader, term) = runtime.block_on(find_leader(&rafts));
    leader_slot.store(leader, Ordering::Relaxed);
    let target = Arc::new(Leader {
        peer: Arc::clone(&rafts[leader]),
        waiters,
        term,
    });
    let rpcs_before = net.total_count();
    let mut sample = closed_loop::run(&runtime, &target, load);
    let rpcs = (net.total_count() - rpcs_before) as f64;
    // Over the whole run (warm-up included): heartbeats (~20/s) count too, negligibly.
    let commands = sample.ops_per_sec * (load.warmup + load.window).as_secs_f64();
    sample.note = format!(
        "~{:.1} entries per AppendEntries",
        commands * (peers - 1) as f64 / rpcs.max(1.0)
    );
    assert_eq!(
        rafts[leader].get_state(),
        (term, true),
        "leadership changed during the run; figures void"
    );
    stop(runtime, net, rafts);
    sample
}

fn stop(runtime: Runtime, net: Network, peers: Vec<Arc<RaftPeer>>) {
    for peer in &peers {
        peer.kill();
    }
    net.cleanup();
    drop(peers);
    runtime.shutdown_timeout(Duration::from_secs(1));
}

/// Makes `n` peers on a fresh reliable network, each with an apply reader.
async fn start_peers(
    n: usize,
    snapshot_every: u64,
    path: Path,
    options: &PeerOptions,
    waiters: &Arc<Waiters>,
    leader: &Arc<AtomicUsize>,
) -> (Network, Vec<Arc<RaftPeer>>) {
    let cluster = Cluster::<RaftPeer>::new(Network::new(7), n);
    let mut peers = Vec::with_capacity(n);
    for i in 0..n {
        let names = (0..n).map(|j| format!("{i}->{j}")).collect();
        let peer = cluster
            .start1(i, names, |ends, persister, _| {
                let (waiters, leader) = (Arc::clone(waiters), Arc::clone(leader));
                let seed = 100 + i as u64;
                if path == Path::Native {
                    let args = NativeArgs {
                        peers: ends,
                        me: i,
                        persister,
                        seed,
                    };
                    let (peer, rx) = RaftPeer::make_native(args, options.clone());
                    let job =
                        native_reader(i, Arc::clone(&peer), rx, waiters, leader, snapshot_every);
                    tokio::spawn(job);
                    return Ok::<_, NetError>(peer);
                }
                let (apply_ch, rx) = apply_channel();
                let args = PeerArgs {
                    peers: ends,
                    me: i,
                    persister,
                    apply_ch,
                    seed,
                    rng: lab_api::PeerRng::seeded(seed),
                };
                let peer = RaftPeer::make_with(args, options.clone());
                let job = reader(i, Arc::clone(&peer), rx, waiters, leader, snapshot_every);
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
