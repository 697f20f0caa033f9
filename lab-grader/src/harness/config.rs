//! Go's `config.go` (spec 3.1-3.6, 3.10): a cluster of `n` peers on a simulated network, with
//! crash, restart, connect and disconnect, and the begin/end/cleanup bookkeeping. The checkers
//! are in `checkers.rs`, the appliers in `appliers.rs`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use lab_api::{LabRaft, PeerArgs, PeerRng, RaftChange, Started, apply_channel};
use labrpc_sim::{CallEvent, CallStage, NetError, Network, Observer, Stream};
use rand::{Rng, RngCore};
use tokio::time::Instant;

use super::appliers::{Applied, run_applier};
use super::cluster::{Cluster, server_name};
use super::context::{Cleanup, Figures, HotLock, TestContext, lock};
use super::looks::{LookAt, LookGate, ViewSeen, look_at};
use crate::cmd::Cmd;
use crate::fail::Fail;
use crate::invariants::Monitor;
use crate::panics::{self, as_peer};
use crate::seed;
use crate::trace::{Action, Event, Rpc, StateKey};

/// Go's `RaftElectionTimeout`: solutions get a generous second to finish an election.
pub const ELECTION_TIMEOUT: Duration = Duration::from_millis(1000);
/// Go's `MAXLOGSIZE` in what it means: the persisted Raft state snapcommon allows, in bytes,
/// holding as many log entries as Go's 2000 bytes do. Go's 2000 bytes of gob hold about 95 of
/// the 2D tests' entries (a term and an `interface{}` int: ~20 bytes each, after ~100 bytes of
/// type descriptors); bincode needs ~12 bytes an entry, so 2000 bytes would hold ~165, a
/// limit 1.7 times looser. With the reference encoding (term, vote, snapshot index and term,
/// then entries of a varint term and the command bytes), 95 such entries after a snapshot at
/// index 300 take 1149 bytes and 96 take 1161 (tested in raft-rpc's `byte_limits`), so the
/// limit is 1160. A peer that encodes its state with bincode (as the skeleton suggests) is held
/// to Go's standard; a more verbose encoding is held to a stricter one.
pub const MAX_LOG_SIZE: usize = 1160;

/// Go's `MAXLOGSIZE` as written (2000 bytes of gob), for reference: see [`MAX_LOG_SIZE`].
pub const GO_MAX_LOG_SIZE: usize = 2000;

/// What gob costs per RPC that bincode does not (type descriptors with every message, since
/// labrpc uses a fresh encoder per call), in bytes: TestRPCBytes2B's 48 RPCs took 114 536
/// bytes in Go's handout sample and 100 686 here for the same payload, so
/// (114 536 - 100 686) / 48 = 288. TestRPCBytes2B charges every RPC this much on top of its
/// bincode bytes, so that its 200 000-byte budget allows as many extra RPCs as Go's does.
pub const GOB_RPC_OVERHEAD: u64 = 288;
/// Go's per-test limit, measured from make_config.
pub const TIME_LIMIT: Duration = Duration::from_secs(120);

/// What begin() noted, for end()'s figures.
struct Begun {
    t0: Instant,
    rpcs0: u64,
    bytes0: u64,
    max_index0: u64,
}

/// A test cluster (Go's `config`): the peers' wiring ([`Cluster`]), the appliers' record,
/// the test's RNG and its figures. Generic over the peer type, so a student's peer is graded
/// exactly like the reference one.
pub struct Config<R: LabRaft> {
    pub(crate) t: TestContext,
    pub(crate) n: usize,
    pub(crate) cluster: Cluster<R>,
    pub(crate) applied: Arc<Mutex<Applied>>,
    snapshot: bool,
    start: Instant,
    /// End names made so far (each name is made unique with this count).
    names: std::sync::atomic::AtomicU64,
    begun: Mutex<Begun>,
    /// Raft's safety properties, checked on every look at a peer (`None`: checks off). It
    /// also holds each peer's log as last seen, so that a look costs what changed.
    /// Taken twice per look, never while a peer is called.
    monitor: Option<HotLock<Monitor>>,
    /// Per peer: one look at a time, observed in the order read (see `looks.rs`).
    looks: Vec<LookGate>,
    /// What the extra suite's scenarios need to see of the traffic.
    traffic: Mutex<Traffic>,
}

/// Per-peer traffic facts the extra suite asserts on. None of them depends on what a peer
/// names its RPC methods or how it encodes its messages: the lab leaves both to the peer.
#[derive(Default)]
struct Traffic {
    /// `requests[to][from]`: requests from peer `from` dispatched to server `to`.
    requests: Vec<Vec<u64>>,
    /// Per server, while a scenario records: every request sent to it (method, arguments),
    /// at most [`RECORDED_REQUESTS`].
    recording: Vec<Option<Vec<(String, Bytes)>>>,
}

/// The most requests [`Config::record_requests_to`] keeps per server.
const RECORDED_REQUESTS: usize = 1000;

/// Go's `make_config(t, n, unreliable, snapshot)` (spec 3.2): a network with long delays,
/// `n` started and connected peers, the snapshot applier if `snapshot`. The cleanup is
/// registered with `t` (Go's `defer cfg.cleanup()`).
pub fn make_config<R: LabRaft>(
    t: &TestContext,
    n: usize,
    unreliable: bool,
    snapshot: bool,
) -> Result<Arc<Config<R>>, Fail> {
    let header = t.trace().set_peers(n, R::describe);
    t.live(header);
    let net = Network::with_choices(t.choices().clone());
    let now = Instant::now();
    let cfg = Arc::new(Config {
        t: t.clone(),
        n,
        cluster: Cluster::new(net, n),
        applied: Arc::new(Applied::new(n)),
        snapshot,
        start: now,
        names: std::sync::atomic::AtomicU64::new(0),
        begun: Mutex::new(Begun {
            t0: now,
            rpcs0: 0,
            bytes0: 0,
            max_index0: 0,
        }),
        monitor: t.invariants().then(|| HotLock::new(Monitor::new(n))),
        looks: (0..n).map(|_| LookGate::default()).collect(),
        traffic: Mutex::new(Traffic {
            requests: vec![vec![0; n]; n],
            recording: vec![None; n],
        }),
    });
    t.defer_cleanup(cfg.clone());
    let watcher = Arc::downgrade(&cfg);
    let observer: Observer = Arc::new(move |event| {
        if let Some(cfg) = watcher.upgrade() {
            cfg.on_call(event);
        }
    });
    cfg.cluster.net().set_observer(Some(observer));
    cfg.set_unreliable(unreliable);
    cfg.cluster.net().set_long_delays(true);
    for i in 0..n {
        cfg.start1(i)?;
    }
    for i in 0..n {
        cfg.connect(i);
    }
    if cfg.monitor.is_some() {
        tokio::spawn(inspector(Arc::downgrade(&cfg)));
    }
    Ok(cfg)
}

/// How often the harness looks at every peer, besides after every RPC and apply.
pub const INSPECT_EVERY: Duration = Duration::from_millis(10);

/// Looks at every running peer every [`INSPECT_EVERY`] until the test finishes.
async fn inspector<R: LabRaft>(cfg: std::sync::Weak<Config<R>>) {
    // One timer, reset each time: a new one per wait cost the runtime's handle and the timer
    // wheel's lock once more at its drop.
    let sleep = tokio::time::sleep_until(crate::vclock::now() + INSPECT_EVERY);
    tokio::pin!(sleep);
    let mut peers: Vec<Option<(Arc<R>, u64)>> = Vec::new();
    loop {
        // `sleep(INSPECT_EVERY)`, with the clock read as the grader reads it (`vclock`).
        sleep.as_mut().await;
        let Some(cfg) = cfg.upgrade() else { return };
        if cfg.t.finished() || cfg.t.failed() {
            return;
        }
        peers.resize_with(cfg.n, || None);
        for (i, peer) in peers.iter_mut().enumerate() {
            // The running peers, read again only when one was restarted or crashed.
            let running = cfg.cluster.running_incarnation(i);
            if peer.as_ref().map(|(_, incarnation)| *incarnation) != running {
                *peer = running.and(cfg.cluster.raft_and_incarnation(i));
            }
            if let Some((rf, incarnation)) = peer {
                cfg.look_peer(i, rf, *incarnation, false);
            }
        }
        sleep.as_mut().reset(crate::vclock::now() + INSPECT_EVERY);
    }
}

impl<R: LabRaft> Cleanup for Config<R> {
    fn cleanup(&self) {
        let rafts = self.cluster.shutdown();
        if let Some(rf) = rafts.first() {
            self.t.set_hints(rf.missing());
        }
        self.check_timeout();
    }
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

    /// Go's `rand.Int()`: one choice of the test's stream (the value itself).
    pub fn rand_int(&self) -> i64 {
        let v = self
            .t
            .choices()
            .draw(Stream::Test, |r| r.next_u64() >> 1, u64::MAX >> 1);
        i64::try_from(v).unwrap_or(i64::MAX)
    }

    /// `rand.Int() % m`, for picking servers and values: one choice of the test's stream (the
    /// remainder: 0 is the first server, the smallest value).
    pub fn rand_below(&self, m: u64) -> u64 {
        let m = m.max(1);
        self.t
            .choices()
            .draw(Stream::Test, |r| (r.next_u64() >> 1) % m, m - 1)
    }

    /// `rand.Int() % d < n`, for a test's decision to do something to the cluster (crash,
    /// disconnect, a long sleep): a fault choice of the test's stream, 0 meaning no (see
    /// [`labrpc_sim::Choices::chance_with`]).
    pub fn chance(&self, n: u64, d: u64) -> bool {
        let d = d.max(1);
        self.t
            .choices()
            .chance_with(Stream::Test, n, d, |r| (r.next_u64() >> 1) % d)
    }

    /// A random server id.
    pub fn rand_server(&self) -> usize {
        let n = u64::try_from(self.n).unwrap_or(u64::MAX);
        usize::try_from(self.rand_below(n)).unwrap_or(0)
    }

    /// Go's `randstring(n)`: one choice of the test's stream per character.
    pub fn rand_string(&self, len: usize) -> String {
        rand_string(self.t.choices(), len)
    }

    /// A fresh end name (Go's `randstring(20)`, made unique: replayed choices may repeat).
    fn end_name(&self) -> String {
        let k = self
            .names
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{}-{k}", self.rand_string(20))
    }

    /// What the harness does as a call goes through the network: records the stage, learns
    /// which task belongs to which peer (for panic reports), and names the peer whose handler
    /// panicked.
    fn on_call(&self, event: &CallEvent<'_>) {
        if event.stage == CallStage::Sent {
            // What the sender printed before it sent goes before the send in the record.
            crate::capture::sync_here();
        }
        let link = self.cluster.link_of_end(event.end);
        self.record_call(event, link);
        let server = || event.server.and_then(|s| self.cluster.peer_of_server(s));
        match event.stage {
            CallStage::Sent => {
                if let Some((peer, _)) = link {
                    self.t.panics().note_task(peer);
                }
                if let (Some(to), Some(args)) = (server(), event.payload) {
                    if let Some(recorded) = lock(&self.traffic).recording[to].as_mut() {
                        if recorded.len() < RECORDED_REQUESTS {
                            recorded.push((event.method.to_string(), args.clone()));
                        }
                    }
                }
            }
            CallStage::Dispatched => {
                let server = server();
                let from = link.map(|(from, _)| from);
                if let (Some(to), Some(from)) = (server, from) {
                    lock(&self.traffic).requests[to][from] += 1;
                }
                panics::set_handler_peer(server);
            }
            CallStage::Panicked => {
                panics::set_handler_peer(None);
                if let Some(peer) = event.server.and_then(|s| self.cluster.peer_of_server(s)) {
                    self.t.panics().note_handler_panic(peer);
                }
            }
            CallStage::Handled => {
                panics::set_handler_peer(None);
                if let Some(peer) = event.server.and_then(|s| self.cluster.peer_of_server(s)) {
                    self.look(peer, true);
                }
            }
            // The handler goes on as a task of its own, spawned next: its peer's.
            CallStage::Detached => panics::handler_detached(),
            CallStage::ServerDead => panics::set_handler_peer(None),
            _ => {}
        }
    }

    /// Requests dispatched to server i so far, per sending peer (`[from]`), whatever their
    /// method.
    pub fn requests_to(&self, i: usize) -> Vec<u64> {
        lock(&self.traffic).requests[i].clone()
    }

    /// Starts recording every request sent to server i (method and arguments, as the
    /// sender encoded them), until [`Config::recorded_requests_to`].
    pub fn record_requests_to(&self, i: usize) {
        lock(&self.traffic).recording[i] = Some(Vec::new());
    }

    /// Stops recording requests to server i and returns them, in the order they were sent.
    pub fn recorded_requests_to(&self, i: usize) -> Vec<(String, Bytes)> {
        lock(&self.traffic).recording[i].take().unwrap_or_default()
    }

    /// Delivers `args` to server `to`'s `method` once more, through an end of the harness's
    /// own: a delayed duplicate, as a real network may deliver. The reply, if any. (The
    /// request counts of [`Config::requests_to`] do not count it: the end is no peer's.)
    pub async fn redeliver(&self, to: usize, method: &str, args: Bytes) -> Option<Bytes> {
        let name = self.rand_string(20);
        let net = self.cluster.net();
        let end = net.make_end(&name).ok()?;
        net.connect(&name, &server_name(to)).ok()?;
        net.enable(&name, true).ok()?;
        end.call(method, args).await.ok()
    }

    /// Enables or disables the one-way link from `from` to `to` (see [`Cluster::set_link`]).
    pub fn set_link(&self, from: usize, to: usize, on: bool) {
        self.net_ok(self.cluster.set_link(from, to, on));
    }

    /// What peer i shows of its Raft state, when it runs and offers `inspect`.
    pub fn inspect(&self, i: usize) -> Option<lab_api::RaftView> {
        let rf = self.raft(i)?;
        as_peer(i, || rf.inspect())
    }

    /// Records one stage of a call in the test's record; `link` is the caller's end's (from,
    /// to).
    fn record_call(&self, event: &CallEvent<'_>, link: Option<(usize, usize)>) {
        let (from, to) = link.unzip();
        let to = event
            .server
            .and_then(|s| self.cluster.peer_of_server(s))
            .or(to);
        let payload = match event.stage {
            CallStage::Sent | CallStage::Handled => event.payload.map(|b| &b[..]),
            _ => None,
        };
        let rpc = Rpc {
            call: event.call,
            from,
            to,
            method: 0,
            stage: event.stage,
            payload: None,
            delay_us: event
                .delay
                .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
        };
        let row = self.t.trace().push_rpc(rpc, event.method, payload);
        self.t.live(row);
    }

    /// Records a harness action.
    fn note_action(&self, action: Action, peer: Option<usize>, value: Option<bool>) {
        self.t.note(Event::Harness {
            action,
            peer,
            value,
        });
    }

    /// A network error is a harness bug: it fails the test.
    fn net_ok(&self, result: Result<(), NetError>) {
        if let Err(e) = result {
            self.t.fail(Fail::Net(e));
        }
    }

    /// Go's `crash1(i)` (spec 3.3): see [`Cluster::crash1`]. The peer is looked at one last
    /// time first.
    pub fn crash1(&self, i: usize) {
        self.look(i, false);
        self.note_action(Action::Crash, Some(i), None);
        self.net_ok(self.cluster.crash1(i));
    }

    /// Looks at peer i (when it runs and offers [`LabRaft::inspect`]) and checks Raft's safety
    /// properties on what it shows; a violation fails the test at once. `revealed`: i just
    /// answered an RPC, so its term and vote must be on stable storage (Figure 2).
    ///
    /// Looks at one peer never overlap and reach the monitor in the order they were read,
    /// whatever the threads (real time): see `looks.rs`.
    fn look(&self, i: usize, revealed: bool) {
        if self.monitor.is_none() {
            return;
        }
        let Some((rf, incarnation)) = self.cluster.raft_and_incarnation(i) else {
            return;
        };
        self.look_peer(i, &rf, incarnation, revealed);
    }

    /// [`Config::look`] at peer i when the caller holds it (`rf`, of `incarnation`): no
    /// lock is taken unless the look is more than a repeat of the last (see
    /// [`LookGate::repeats`]). A peer that is no longer the running one is looked at as an
    /// old incarnation, which the monitor ignores.
    fn look_peer(&self, i: usize, rf: &Arc<R>, incarnation: u64, revealed: bool) {
        if self.monitor.is_none() {
            return;
        }
        self.looks[i].run_for(
            (rf, incarnation),
            revealed,
            || self.cluster.raft_and_incarnation(i),
            |peer, seq, revealed, last| self.look_once(i, peer, seq, revealed, last),
        );
    }

    /// One look at peer i (`peer`: it and its incarnation, if it runs), the `seq`-th, under
    /// its [`LookGate`]: the peer's state with its log as what changed since what the monitor
    /// holds ([`LabRaft::inspect_since`]; a peer without it gives its whole view, which the
    /// monitor compares with what it holds). No lock of ours is held while the peer answers.
    fn look_once(
        &self,
        i: usize,
        peer: Option<(Arc<R>, u64)>,
        seq: u64,
        revealed: bool,
        last: &mut Option<ViewSeen>,
    ) {
        let Some(monitor) = &self.monitor else { return };
        let Some((rf, incarnation)) = peer else {
            return;
        };
        let look = LookAt {
            peer: i,
            incarnation,
            seq,
            revealed,
        };
        look_at(
            &self.t,
            || monitor.lock(),
            &*rf,
            look,
            last,
            || crate::vclock::now().saturating_duration_since(self.start),
            |change| self.note_state(i, change),
        );
    }

    /// Records what a look showed of peer i in the test's record (a `state` event when it
    /// changed).
    fn note_state(&self, i: usize, change: &RaftChange) {
        let state = StateKey {
            role: change.role,
            term: change.term,
            voted_for: change.voted_for,
            commit: change.commit_index,
            last_index: change.last_index(),
            snapshot_index: change.snapshot_index,
        };
        let row = self.t.trace().push_state(i, state);
        self.t.live(row);
    }

    /// Go's `start1(i, applier)` (spec 3.4): crash1, new disabled ends, a copy of the
    /// persister (ingesting its snapshot, as the KV server would), `make`, THEN the applier
    /// task, then the server. Does not connect.
    pub fn start1(self: &Arc<Self>, i: usize) -> Result<(), Fail> {
        let names: Vec<String> = (0..self.n).map(|_| self.end_name()).collect();
        self.note_action(Action::Start, Some(i), None);
        self.cluster
            .start1(i, names, |ends, persister, incarnation| {
                lock(&self.applied)
                    .restart(i, &persister.read_snapshot())
                    .map_err(Fail::Ingest)?;
                let (tx, rx) = apply_channel();
                let seed = self.t.choices().draw(
                    Stream::PeerSeed,
                    |_| seed::peer_seed(self.t.seed(), i, incarnation),
                    u64::MAX,
                );
                let peer = R::make(PeerArgs {
                    peers: ends,
                    me: i,
                    persister,
                    apply_ch: tx,
                    seed,
                    rng: PeerRng::from_choices(self.t.choices(), seed),
                });
                let looker = Arc::downgrade(self);
                let after_each = move |rf: &Arc<R>| {
                    if let Some(cfg) = looker.upgrade() {
                        // The applier's peer, if it still runs (else the one that does).
                        if cfg.cluster.running_incarnation(i) == Some(incarnation) {
                            cfg.look_peer(i, rf, incarnation, false);
                        } else {
                            cfg.look(i, false);
                        }
                    }
                };
                tokio::spawn(run_applier(
                    Arc::clone(&self.applied),
                    self.t.clone(),
                    self.snapshot,
                    (i, rx, Arc::clone(&peer)),
                    after_each,
                ));
                Ok::<_, Fail>(peer)
            })?;
        self.look(i, false);
        Ok(())
    }

    /// Go's `connect(i)` (spec 3.5): enables i's links to and from every connected server.
    pub fn connect(&self, i: usize) {
        self.note_action(Action::Connect, Some(i), None);
        self.net_ok(self.cluster.connect(i));
    }

    /// Go's `disconnect(i)` (spec 3.5): disables every link to and from i.
    pub fn disconnect(&self, i: usize) {
        self.note_action(Action::Disconnect, Some(i), None);
        self.net_ok(self.cluster.disconnect(i));
    }

    /// Whether server i is connected.
    pub fn is_connected(&self, i: usize) -> bool {
        self.cluster.is_connected(i)
    }

    /// The running peer i, or `None` while it is crashed (Go's `cfg.rafts[i]`).
    pub fn raft(&self, i: usize) -> Option<Arc<R>> {
        self.cluster.raft(i)
    }

    /// The persister peer i restarts from (Go's `cfg.saved[i]`).
    pub fn saved(&self, i: usize) -> Option<raft_persist::Persister> {
        self.cluster.saved(i)
    }

    /// What server i has applied, by index (Go's `cfg.logs[i]`; `None` is Go's nil). A
    /// snapshot replaces it with the snapshot's contents.
    pub fn applied_log(&self, i: usize) -> std::collections::BTreeMap<u64, Option<Cmd>> {
        lock(&self.applied).log(i)
    }

    /// How many snapshots server i delivered on its apply channel, over all incarnations.
    pub fn snapshots_applied(&self, i: usize) -> u64 {
        lock(&self.applied).snapshots(i)
    }

    /// The network (for its counters).
    pub fn net(&self) -> &labrpc_sim::Network {
        self.cluster.net()
    }

    /// `cfg.rafts[i].Start(cmd)`; `None` if i is crashed or refuses.
    pub fn start_on(&self, i: usize, cmd: &Cmd) -> Option<Started> {
        let rf = self.raft(i)?;
        let bytes = cmd.to_bytes();
        let started = as_peer(i, || rf.start(bytes.clone()));
        self.note_start(i, bytes, started);
        started
    }

    /// Records a call of Start on peer i with the command's bytes, and its outcome.
    pub(crate) fn note_start(&self, i: usize, cmd: Bytes, started: Option<Started>) {
        self.t.note(Event::Start {
            peer: i,
            cmd,
            started: started.map(|s| (s.index, s.term)),
        });
    }

    /// `cfg.rafts[i].GetState()`; `None` while i is crashed.
    pub fn get_state(&self, i: usize) -> Option<(u64, bool)> {
        let rf = self.raft(i)?;
        Some(as_peer(i, || rf.get_state()))
    }

    /// Go's `rpcCount(i)`: RPCs dispatched to server i's current incarnation.
    pub fn rpc_count(&self, i: usize) -> u64 {
        self.cluster
            .net()
            .server_count(&server_name(i))
            .unwrap_or(0)
    }

    /// Go's `rpcTotal()`.
    pub fn rpc_total(&self) -> u64 {
        self.cluster.net().total_count()
    }

    /// Go's `bytesTotal()`.
    pub fn bytes_total(&self) -> u64 {
        self.cluster.net().total_bytes()
    }

    /// Go's `setunreliable(u)`.
    pub fn set_unreliable(&self, unreliable: bool) {
        self.note_action(Action::Reliable, None, Some(!unreliable));
        self.cluster.net().set_reliable(!unreliable);
    }

    /// Go's `setlongreordering(b)`.
    pub fn set_long_reordering(&self, on: bool) {
        self.note_action(Action::LongReordering, None, Some(on));
        self.cluster.net().set_long_reordering(on);
    }

    /// Go's `LogSize()`: the largest persisted Raft state (snapshots excluded).
    pub fn log_size(&self) -> usize {
        self.cluster.log_size()
    }

    /// Go's `begin(desc)` (spec 3.10): prints the test's title and starts the figures.
    pub fn begin(&self) {
        self.note_action(Action::Begin, None, None);
        self.t.print(&format!("{} ...\n", self.t.title()));
        let max_index0 = lock(&self.applied).max_index();
        *lock(&self.begun) = Begun {
            t0: Instant::now(),
            rpcs0: self.rpc_total(),
            bytes0: self.bytes_total(),
            max_index0,
        };
    }

    /// Go's `end()` (spec 3.10): checks the time limit and, if the test has not failed,
    /// prints `  ... Passed --` with the five figures.
    pub fn end(&self) -> Result<(), Fail> {
        self.note_action(Action::End, None, None);
        self.check_timeout();
        if let Some(f) = self.t.take_failure() {
            return Err(f);
        }
        let (rpcs, bytes) = (self.rpc_total(), self.bytes_total());
        let max_index = lock(&self.applied).max_index();
        let figures = {
            let b = lock(&self.begun);
            Figures {
                secs: b.t0.elapsed().as_secs_f64(),
                peers: self.n,
                rpcs: rpcs.saturating_sub(b.rpcs0),
                bytes: bytes.saturating_sub(b.bytes0),
                cmds: max_index.saturating_sub(b.max_index0),
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

/// Go's `randstring(n)` from the test stream of `choices`: one choice per character.
pub(crate) fn rand_string(choices: &labrpc_sim::Choices, len: usize) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..len)
        .map(|_| {
            let i = choices.draw(
                Stream::Test,
                |r| u64::try_from(r.random_range(0..64usize)).unwrap_or(0),
                63,
            );
            char::from(ALPHABET[usize::try_from(i).unwrap_or(0) % 64])
        })
        .collect()
}
