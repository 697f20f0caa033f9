//! A small lab-style harness for the reference peer: a labrpc-sim network of `n` peers, an
//! apply reader per peer incarnation, and the Go config's verbs (`start1`, `crash1`,
//! `connect`, `disconnect`, `check_one_leader`, `one`, `n_committed`).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use labrpc_sim::{Bytes, Network, Server, codec};
use raft_persist::Persister;
use raft_rpc::{ApplyMsg, ApplyReceiver, LabRaft, PeerArgs, RaftPeer, apply_channel};
use tokio::time::{Instant, sleep};

/// The apply readers apply a snapshot every this many entries (like the lab's applierSnap).
pub const SNAPSHOT_INTERVAL: u64 = 10;

/// What the apply readers saw.
#[derive(Default)]
pub struct Applied {
    /// Per peer: index -> command, across incarnations (Go's `logs[i]`); replaced by the
    /// contents of an installed snapshot.
    pub logs: Vec<BTreeMap<u64, Bytes>>,
    /// Per peer: every message of its current incarnation, in arrival order.
    pub seqs: Vec<Vec<ApplyMsg>>,
    /// Per peer: every message of every incarnation, in arrival order.
    pub all: Vec<Vec<ApplyMsg>>,
    /// Per peer: last applied index of the current incarnation.
    pub last: Vec<u64>,
    /// Violations (out of order, conflicting commits, undecodable snapshots).
    pub errors: Vec<String>,
}

/// A cluster on a simulated network.
pub struct Cluster {
    pub n: usize,
    pub net: Network,
    pub seed: u64,
    pub snapshots: bool,
    pub peers: Vec<Option<Arc<RaftPeer>>>,
    pub saved: Vec<Persister>,
    pub connected: Vec<bool>,
    pub applied: Arc<Mutex<Applied>>,
    end_names: Vec<Vec<String>>,
    generation: Vec<u64>,
}

impl Cluster {
    /// `n` peers, all started and connected. Must run inside a tokio runtime.
    pub fn new(n: usize, seed: u64, snapshots: bool) -> Cluster {
        let applied = Applied {
            logs: vec![BTreeMap::new(); n],
            seqs: vec![Vec::new(); n],
            all: vec![Vec::new(); n],
            last: vec![0; n],
            errors: Vec::new(),
        };
        let mut cluster = Cluster {
            n,
            net: Network::new(seed),
            seed,
            snapshots,
            peers: (0..n).map(|_| None).collect(),
            saved: (0..n).map(|_| Persister::new()).collect(),
            connected: vec![false; n],
            applied: Arc::new(Mutex::new(applied)),
            end_names: vec![Vec::new(); n],
            generation: vec![0; n],
        };
        for i in 0..n {
            cluster.start1(i);
        }
        for i in 0..n {
            cluster.connect(i);
        }
        cluster
    }

    /// Shuts peer `i` down, keeping (a copy of) its persistent state.
    pub fn crash1(&mut self, i: usize) {
        self.disconnect(i);
        self.net.delete_server(&i.to_string());
        self.saved[i] = self.saved[i].copy();
        if let Some(peer) = self.peers[i].take() {
            peer.kill();
        }
        let fresh = Persister::new();
        fresh.save(
            self.saved[i].read_raft_state(),
            self.saved[i].read_snapshot(),
        );
        self.saved[i] = fresh;
    }

    /// Starts (or restarts) peer `i` from a copy of its persister; it is left disconnected.
    pub fn start1(&mut self, i: usize) {
        self.crash1(i);
        self.generation[i] += 1;
        let generation = self.generation[i];
        self.end_names[i] = (0..self.n)
            .map(|j| format!("{i}-{j}-g{generation}"))
            .collect();
        let mut ends = Vec::new();
        for (j, name) in self.end_names[i].iter().enumerate() {
            ends.push(self.net.make_end(name).expect("fresh end name"));
            self.net
                .connect(name, &j.to_string())
                .expect("new end connects");
        }
        self.saved[i] = self.saved[i].copy();
        {
            let mut applied = self.applied.lock().expect("apply record");
            applied.seqs[i].clear();
            applied.last[i] = 0;
            let snapshot = self.saved[i].read_snapshot();
            if !snapshot.is_empty() {
                ingest_snapshot(&mut applied, i, &snapshot, None);
            }
        }
        let (apply_ch, reader) = apply_channel();
        let seed = self.seed.wrapping_mul(1_000_003) ^ ((i as u64) << 32) ^ generation;
        let args = PeerArgs {
            peers: ends,
            me: i,
            persister: self.saved[i].clone(),
            apply_ch,
            seed,
        };
        let peer = RaftPeer::make(args);
        tokio::spawn(apply_reader(
            i,
            reader,
            Arc::clone(&peer),
            Arc::clone(&self.applied),
            self.snapshots,
        ));
        let mut server = Server::new();
        server.add_service(Arc::clone(&peer).service());
        self.net.add_server(&i.to_string(), server);
        self.peers[i] = Some(peer);
    }

    /// Reconnects peer `i` to every connected peer.
    pub fn connect(&mut self, i: usize) {
        self.connected[i] = true;
        for j in 0..self.n {
            if self.connected[j] {
                self.enable(i, j, true);
                self.enable(j, i, true);
            }
        }
    }

    /// Cuts peer `i` off from everyone.
    pub fn disconnect(&mut self, i: usize) {
        self.connected[i] = false;
        for j in 0..self.n {
            self.enable(i, j, false);
            self.enable(j, i, false);
        }
    }

    fn enable(&self, from: usize, to: usize, on: bool) {
        if let Some(name) = self.end_names[from].get(to) {
            self.net.enable(name, on).expect("known end");
        }
    }

    /// The peer `i` (panics if crashed).
    pub fn peer(&self, i: usize) -> &Arc<RaftPeer> {
        self.peers[i].as_ref().expect("peer is running")
    }

    /// The connected leaders by term.
    pub fn leaders(&self) -> BTreeMap<u64, Vec<usize>> {
        let mut by_term: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
        for i in 0..self.n {
            if let (true, Some(peer)) = (self.connected[i], &self.peers[i]) {
                let (term, leader) = peer.get_state();
                if leader {
                    by_term.entry(term).or_default().push(i);
                }
            }
        }
        by_term
    }

    /// Go's checkOneLeader: waits for a single leader in the newest term, or panics.
    pub async fn check_one_leader(&self) -> usize {
        for _ in 0..10 {
            sleep(Duration::from_millis(500)).await;
            let by_term = self.leaders();
            for (term, leaders) in &by_term {
                assert!(
                    leaders.len() <= 1,
                    "term {term} has {} leaders",
                    leaders.len()
                );
            }
            if let Some((_, leaders)) = by_term.last_key_value() {
                return leaders[0];
            }
        }
        panic!("expected one leader, got none");
    }

    /// How many peers applied `index`, and the command they agree on.
    pub fn n_committed(&self, index: u64) -> (usize, Option<Bytes>) {
        let applied = self.applied.lock().expect("apply record");
        let mut count = 0;
        let mut command: Option<Bytes> = None;
        for log in &applied.logs {
            if let Some(c) = log.get(&index) {
                if let Some(previous) = &command {
                    assert_eq!(previous, c, "peers applied different commands at {index}");
                }
                count += 1;
                command = Some(c.clone());
            }
        }
        (count, command)
    }

    /// Go's `one`: submits `command` until some leader takes it and `expected` peers apply it.
    pub async fn one(&self, command: Bytes, expected: usize, retry: bool) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut next = 0;
        while Instant::now() < deadline {
            let mut index = None;
            for _ in 0..self.n {
                next = (next + 1) % self.n;
                if let (true, Some(peer)) = (self.connected[next], &self.peers[next]) {
                    if let Some(started) = peer.start(command.clone()) {
                        index = Some(started.index);
                        break;
                    }
                }
            }
            let Some(index) = index else {
                sleep(Duration::from_millis(50)).await;
                continue;
            };
            let t1 = Instant::now();
            while Instant::now() - t1 < Duration::from_secs(2) {
                let (count, got) = self.n_committed(index);
                if count >= expected && got.as_ref() == Some(&command) {
                    return index;
                }
                sleep(Duration::from_millis(20)).await;
            }
            assert!(retry, "one({command:?}) failed to reach agreement");
        }
        panic!("one({command:?}) failed to reach agreement");
    }

    /// Waits until peer `i` applied `index`, or panics after `limit`.
    pub async fn wait_applied(&self, i: usize, index: u64, limit: Duration) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.applied.lock().expect("apply record").last[i] >= index {
                return;
            }
            sleep(Duration::from_millis(10)).await;
        }
        panic!("peer {i} did not apply {index} within {limit:?}");
    }

    /// The apply readers' recorded violations; none expected.
    pub fn assert_no_apply_errors(&self) {
        let applied = self.applied.lock().expect("apply record");
        assert!(
            applied.errors.is_empty(),
            "apply errors: {:?}",
            applied.errors
        );
    }

    /// Kills every peer and shuts the network.
    pub fn cleanup(&mut self) {
        for peer in self.peers.iter_mut().filter_map(Option::take) {
            peer.kill();
        }
        self.net.cleanup();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// A distinct command.
pub fn cmd(k: u64) -> Bytes {
    Bytes::from(format!("cmd-{k}"))
}

/// Reads one incarnation's apply channel: checks order, records, and in snapshot mode calls
/// `snapshot` every [`SNAPSHOT_INTERVAL`] entries from this task, like the lab.
async fn apply_reader(
    i: usize,
    reader: ApplyReceiver,
    peer: Arc<RaftPeer>,
    applied: Arc<Mutex<Applied>>,
    snapshots: bool,
) {
    while let Some(msg) = reader.recv().await {
        let snapshot = {
            let mut applied = applied.lock().expect("apply record");
            applied.seqs[i].push(msg.clone());
            applied.all[i].push(msg.clone());
            match msg {
                ApplyMsg::Command { index, command } => {
                    record_command(&mut applied, i, index, command);
                    (snapshots && index % SNAPSHOT_INTERVAL == 0)
                        .then(|| (index, encode_snapshot(&applied.logs[i], index)))
                }
                ApplyMsg::Snapshot { index, data, .. } => {
                    ingest_snapshot(&mut applied, i, &data, Some(index));
                    None
                }
            }
        };
        if let Some((index, data)) = snapshot {
            peer.snapshot(index, data);
        }
    }
}

fn record_command(applied: &mut Applied, i: usize, index: u64, command: Bytes) {
    if index != applied.last[i] + 1 {
        let expected = applied.last[i] + 1;
        applied.errors.push(format!(
            "server {i} apply out of order, expected index {expected}, got {index}"
        ));
    }
    for (j, log) in applied.logs.iter().enumerate() {
        if let Some(other) = log.get(&index) {
            if *other != command {
                applied.errors.push(format!(
                    "commit index={index} server={i} {command:?} != server={j} {other:?}"
                ));
            }
        }
    }
    applied.logs[i].insert(index, command);
    applied.last[i] = index;
}

/// The snapshot is the list of commands 1..=index.
fn encode_snapshot(log: &BTreeMap<u64, Bytes>, index: u64) -> Bytes {
    let commands: Vec<Bytes> = (1..=index)
        .map(|k| log.get(&k).cloned().unwrap_or_default())
        .collect();
    codec::encode(&(index, commands)).expect("encodes")
}

fn ingest_snapshot(applied: &mut Applied, i: usize, data: &[u8], index: Option<u64>) {
    let Ok((last, commands)) = codec::decode::<(u64, Vec<Bytes>)>(data) else {
        applied
            .errors
            .push(format!("server {i} snapshot decode error"));
        return;
    };
    if index.is_some_and(|index| index != last) {
        applied
            .errors
            .push(format!("server {i} snapshot doesn't match m.SnapshotIndex"));
        return;
    }
    applied.logs[i] = (1..).zip(commands).collect();
    applied.last[i] = last;
}
