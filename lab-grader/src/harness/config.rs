//! Go's `config.go` (spec 3.1-3.6, 3.10): a cluster of `n` peers on a simulated network, with
//! crash, restart, connect and disconnect, and the begin/end/cleanup bookkeeping. The checkers
//! are in `checkers.rs`, the appliers in `appliers.rs`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use labrpc_sim::{ClientEnd, Network, Server};
use raft_persist::Persister;
use lab_api::{LabRaft, PeerArgs, Started, apply_channel};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::time::Instant;

use super::context::{Cleanup, Figures, TestContext, lock};
use crate::cmd::{self, Cmd};
use crate::fail::{ApplyError, Fail};
use crate::seed;

/// Go's `RaftElectionTimeout`: solutions get a generous second to finish an election.
pub const ELECTION_TIMEOUT: Duration = Duration::from_millis(1000);
/// Go's `SnapShotInterval`: the snapshot applier snapshots at indices 9, 19, 29, ...
pub const SNAPSHOT_INTERVAL: u64 = 10;
/// Go's `MAXLOGSIZE`: the largest persisted Raft state snapcommon allows, in bytes.
pub const MAX_LOG_SIZE: usize = 2000;
/// Go's per-test limit, measured from make_config.
pub const TIME_LIMIT: Duration = Duration::from_secs(120);

/// State under the config mutex (Go's `cfg.mu`).
pub(crate) struct State<R> {
    pub(crate) rafts: Vec<Option<Arc<R>>>,
    pub(crate) connected: Vec<bool>,
    pub(crate) saved: Vec<Option<Persister>>,
    /// `endnames[i][j]`: the end server i uses to reach server j; empty before i's first start.
    pub(crate) endnames: Vec<Vec<String>>,
    /// `logs[i]`: every command server i has applied, by index (`None` is Go's nil).
    pub(crate) logs: Vec<BTreeMap<u64, Option<Cmd>>>,
    pub(crate) apply_err: Vec<Option<ApplyError>>,
    pub(crate) last_applied: Vec<u64>,
    pub(crate) incarnations: Vec<u64>,
    pub(crate) max_index: u64,
    max_index0: u64,
    t0: Instant,
    rpcs0: u64,
    bytes0: u64,
}

/// A test cluster (Go's `config`). Generic over the peer type, so a student's peer is graded
/// exactly like the reference one.
pub struct Config<R: LabRaft> {
    pub(crate) t: TestContext,
    pub(crate) n: usize,
    pub(crate) net: Network,
    pub(crate) snapshot: bool,
    start: Instant,
    rng: Mutex<ChaCha8Rng>,
    pub(crate) st: Mutex<State<R>>,
}

/// Go's `make_config(t, n, unreliable, snapshot)` (spec 3.2): a network with long delays,
/// `n` started and connected peers, the snapshot applier if `snapshot`. The cleanup is
/// registered with `t` (Go's `defer cfg.cleanup()`).
pub fn make_config<R: LabRaft>(
    t: &TestContext,
    n: usize,
    unreliable: bool,
    snapshot: bool,
) -> Result<Arc<Config<R>>, Fail> {
    let net = Network::new(seed::network_seed(t.seed()));
    let now = Instant::now();
    let st = State {
        rafts: (0..n).map(|_| None).collect(),
        connected: vec![false; n],
        saved: vec![None; n],
        endnames: vec![Vec::new(); n],
        logs: vec![BTreeMap::new(); n],
        apply_err: vec![None; n],
        last_applied: vec![0; n],
        incarnations: vec![0; n],
        max_index: 0,
        max_index0: 0,
        t0: now,
        rpcs0: 0,
        bytes0: 0,
    };
    let cfg = Arc::new(Config {
        t: t.clone(),
        n,
        net,
        snapshot,
        start: now,
        rng: Mutex::new(ChaCha8Rng::seed_from_u64(t.seed())),
        st: Mutex::new(st),
    });
    t.defer_cleanup(cfg.clone());
    cfg.set_unreliable(unreliable);
    cfg.net.set_long_delays(true);
    for i in 0..n {
        cfg.start1(i)?;
    }
    for i in 0..n {
        cfg.connect(i);
    }
    Ok(cfg)
}

impl<R: LabRaft> Cleanup for Config<R> {
    fn cleanup(&self) {
        let rafts: Vec<Arc<R>> = lock(&self.st).rafts.iter().flatten().cloned().collect();
        if let Some(rf) = rafts.first() {
            self.t.set_hints(rf.missing());
        }
        for rf in rafts {
            rf.kill();
        }
        self.net.cleanup();
        self.check_timeout();
    }
}

fn server_name(i: usize) -> String {
    i.to_string()
}

impl<R: LabRaft> Config<R> {
    /// Number of peers.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The test context.
    pub fn t(&self) -> &TestContext {
        &self.t
    }

    /// Go's `rand.Int()` from the test's RNG.
    pub fn rand_int(&self) -> i64 {
        cmd::rand_int(&mut *lock(&self.rng))
    }

    /// `rand.Int() % m`, for picking servers and probabilities.
    pub fn rand_below(&self, m: u64) -> u64 {
        self.rand_int().unsigned_abs() % m
    }

    /// A random server id.
    pub fn rand_server(&self) -> usize {
        let n = u64::try_from(self.n).unwrap_or(u64::MAX);
        usize::try_from(self.rand_below(n)).unwrap_or(0)
    }

    /// Go's `randstring(n)`.
    pub fn rand_string(&self, len: usize) -> String {
        cmd::rand_string(&mut *lock(&self.rng), len)
    }

    /// Go's `crash1(i)` (spec 3.3): disconnect, delete the server, kill the peer, and give
    /// the slot a fresh persister holding a copy of the state, so the zombie's later writes
    /// land in an object nobody reads.
    pub fn crash1(&self, i: usize) {
        self.disconnect(i);
        self.net.delete_server(&server_name(i));
        let rf = {
            let mut st = lock(&self.st);
            st.saved[i] = st.saved[i].as_ref().map(Persister::copy);
            st.rafts[i].clone()
        };
        if let Some(rf) = rf {
            rf.kill();
            lock(&self.st).rafts[i] = None;
        }
        let mut st = lock(&self.st);
        if let Some(p) = &st.saved[i] {
            let fresh = Persister::new();
            fresh.save(p.read_raft_state(), p.read_snapshot());
            st.saved[i] = Some(fresh);
        }
    }

    /// Go's `start1(i, applier)` (spec 3.4): crash1, new disabled ends, a copy of the
    /// persister (ingesting its snapshot, as the KV server would), `make`, THEN the applier
    /// task, then the server. Does not connect.
    pub fn start1(self: &Arc<Self>, i: usize) -> Result<(), Fail> {
        self.crash1(i);
        let mut names = Vec::with_capacity(self.n);
        let mut ends: Vec<ClientEnd> = Vec::with_capacity(self.n);
        for j in 0..self.n {
            let name = self.rand_string(20);
            ends.push(self.net.make_end(&name)?);
            self.net.connect(&name, &server_name(j))?;
            names.push(name);
        }
        let (persister, incarnation) = {
            let mut st = lock(&self.st);
            st.endnames[i] = names;
            st.last_applied[i] = 0;
            let p = match &st.saved[i] {
                Some(p) => p.copy(),
                None => Persister::new(),
            };
            st.saved[i] = Some(p.clone());
            let snap = p.read_snapshot();
            if !snap.is_empty() {
                super::appliers::ingest_snap(&mut st, i, &snap, None).map_err(Fail::Ingest)?;
            }
            st.incarnations[i] += 1;
            (p, st.incarnations[i] - 1)
        };
        let (tx, rx) = apply_channel();
        let seed = seed::peer_seed(self.t.seed(), i, incarnation);
        let peer = R::make(PeerArgs {
            peers: ends,
            me: i,
            persister,
            apply_ch: tx,
            seed,
        });
        lock(&self.st).rafts[i] = Some(peer.clone());
        tokio::spawn(super::appliers::run_applier(
            self.clone(),
            i,
            rx,
            peer.clone(),
        ));
        let mut server = Server::new();
        server.add_service(peer.service());
        self.net.add_server(&server_name(i), server);
        Ok(())
    }

    fn enable(&self, end: &str, on: bool) {
        if let Err(e) = self.net.enable(end, on) {
            self.t.fail(Fail::Net(e));
        }
    }

    /// Go's `connect(i)` (spec 3.5): enables i's links to and from every connected server.
    pub fn connect(&self, i: usize) {
        let mut st = lock(&self.st);
        st.connected[i] = true;
        let on: Vec<usize> = (0..self.n).filter(|&j| st.connected[j]).collect();
        for &j in &on {
            if let Some(name) = st.endnames[i].get(j) {
                self.enable(name, true);
            }
        }
        for &j in &on {
            if let Some(name) = st.endnames[j].get(i) {
                self.enable(name, true);
            }
        }
    }

    /// Go's `disconnect(i)` (spec 3.5): disables every link to and from i.
    pub fn disconnect(&self, i: usize) {
        let mut st = lock(&self.st);
        st.connected[i] = false;
        for j in 0..self.n {
            if let Some(name) = st.endnames[i].get(j) {
                self.enable(name, false);
            }
        }
        for j in 0..self.n {
            if let Some(name) = st.endnames[j].get(i) {
                self.enable(name, false);
            }
        }
    }

    /// Whether server i is connected.
    pub fn is_connected(&self, i: usize) -> bool {
        lock(&self.st).connected[i]
    }

    /// The running peer i, or `None` while it is crashed (Go's `cfg.rafts[i]`).
    pub fn raft(&self, i: usize) -> Option<Arc<R>> {
        lock(&self.st).rafts[i].clone()
    }

    /// `cfg.rafts[i].Start(cmd)`; `None` if i is crashed or refuses.
    pub fn start_on(&self, i: usize, cmd: &Cmd) -> Option<Started> {
        self.raft(i)?.start(cmd.to_bytes())
    }

    /// Go's `rpcCount(i)`: RPCs dispatched to server i's current incarnation.
    pub fn rpc_count(&self, i: usize) -> u64 {
        self.net.server_count(&server_name(i)).unwrap_or(0)
    }

    /// Go's `rpcTotal()`.
    pub fn rpc_total(&self) -> u64 {
        self.net.total_count()
    }

    /// Go's `bytesTotal()`.
    pub fn bytes_total(&self) -> u64 {
        self.net.total_bytes()
    }

    /// Go's `setunreliable(u)`.
    pub fn set_unreliable(&self, unreliable: bool) {
        self.net.set_reliable(!unreliable);
    }

    /// Go's `setlongreordering(b)`.
    pub fn set_long_reordering(&self, on: bool) {
        self.net.set_long_reordering(on);
    }

    /// Go's `LogSize()`: the largest persisted Raft state (snapshots excluded).
    pub fn log_size(&self) -> usize {
        let st = lock(&self.st);
        st.saved
            .iter()
            .flatten()
            .map(Persister::raft_state_size)
            .max()
            .unwrap_or(0)
    }

    /// Go's `begin(desc)` (spec 3.10): prints the title and starts the figures.
    pub fn begin(&self, description: &str) {
        self.t.print(&format!("{description} ...\n"));
        let (rpcs, bytes) = (self.rpc_total(), self.bytes_total());
        let mut st = lock(&self.st);
        st.t0 = Instant::now();
        st.rpcs0 = rpcs;
        st.bytes0 = bytes;
        st.max_index0 = st.max_index;
    }

    /// Go's `end()` (spec 3.10): checks the time limit and, if the test has not failed,
    /// prints `  ... Passed --` with the five figures.
    pub fn end(&self) -> Result<(), Fail> {
        self.check_timeout();
        if let Some(f) = self.t.take_failure() {
            return Err(f);
        }
        let (rpcs, bytes) = (self.rpc_total(), self.bytes_total());
        let figures = {
            let st = lock(&self.st);
            Figures {
                secs: st.t0.elapsed().as_secs_f64(),
                peers: self.n,
                rpcs: rpcs.saturating_sub(st.rpcs0),
                bytes: bytes.saturating_sub(st.bytes0),
                cmds: st.max_index.saturating_sub(st.max_index0),
            }
        };
        self.t.print(&format!("{}\n", figures.passed_line()));
        self.t.record_passed(figures);
        Ok(())
    }

    /// Go's `checkTimeout()`: fails a test that ran more than 120 s since make_config.
    pub fn check_timeout(&self) {
        if !self.t.failed() && self.start.elapsed() > TIME_LIMIT {
            self.t.fail(Fail::TimeLimit);
        }
    }
}
