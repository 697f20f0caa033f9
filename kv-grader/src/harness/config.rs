//! Go's `tester1/config.go` for Lab 4 (spec 2.2, 2.5-2.7): the network, the server group,
//! the clients, begin/end with the 2026 `Passed` line, the op counter, the time limit, and
//! the grader's own watch: every RPC and every Raft peer's state go to the run's record, and
//! Raft's safety properties are checked continuously, as in the Raft lab.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use grader::fail::Fail;
use grader::harness::{
    Cleanup, Figures, INSPECT_EVERY, LookAt, LookGate, TIME_LIMIT, TestContext, ViewSeen, look_at,
};
use grader::invariants::Monitor;
use grader::panics::as_peer;
use grader::trace::{Action, Event, Rpc, StateKey};
use kv_api::Clnt;
use lab_api::{LabRaft, RaftChange};
use labrpc_sim::{CallEvent, CallStage, NetError, Network, Observer};
use tokio::time::Instant;

use super::group::{Boot, Group, Instance, server_index, server_name};
use super::lock;

/// Every RPC's latency on its way to the server: the course's tester forwards every RPC
/// through a socket to the server's process; here an RPC is never instant either, so in
/// virtual time a client or server that retries without pausing cannot spin at one instant
/// (spec 8.10).
pub const HOP_LATENCY: Duration = Duration::from_millis(1);

/// What begin() noted, for end()'s figures.
struct Begun {
    t0: Instant,
    rpcs0: u64,
    bytes0: u64,
    begun: bool,
}

/// A Lab 4 test's configuration (Go's `tester.Config` with its group 0).
pub struct Config<I: Instance> {
    t: TestContext,
    net: Network,
    group: Group<I>,
    start: Instant,
    begun: Mutex<Begun>,
    ops: AtomicU64,
    next_client: AtomicU64,
    clients: Mutex<Vec<Clnt>>,
    monitor: Option<Mutex<Monitor>>,
    /// One look at a time per server, observed in the order read (see `LookGate`).
    looks: Vec<LookGate>,
    hints: fn() -> Vec<&'static str>,
}

/// The figures of the 2026 `Passed` line.
pub fn passed_line(secs: f64, peers: usize, rpcs: u64, ops: u64) -> String {
    format!("  ... Passed --  time {secs:4.1}s #peers {peers} #RPCs {rpcs:5} #Ops {ops:4}")
}

/// Go's `MakeConfig(t, n, reliable, ...)`: a reliable network, `n` servers made by `boot`,
/// started and connected, and only then the network made unreliable if asked. Long delays
/// stay off (a dead end fails within 100 ms). `hints` lists what the layer under test says
/// is unwritten.
pub fn make_config<I: Instance>(
    t: &TestContext,
    n: usize,
    reliable: bool,
    max_raft_state: Option<usize>,
    boot: Boot<I>,
    hints: fn() -> Vec<&'static str>,
) -> Result<Arc<Config<I>>, Fail> {
    t.record_peers(n, <I::Raft as LabRaft>::describe);
    let net = Network::with_choices(t.choices().clone());
    net.set_latency(HOP_LATENCY);
    let cfg = Arc::new(Config {
        t: t.clone(),
        net: net.clone(),
        group: Group::new(
            net,
            n,
            max_raft_state,
            (t.seed(), t.choices().clone()),
            boot,
        ),
        start: Instant::now(),
        begun: Mutex::new(Begun {
            t0: Instant::now(),
            rpcs0: 0,
            bytes0: 0,
            begun: false,
        }),
        ops: AtomicU64::new(0),
        next_client: AtomicU64::new(0),
        clients: Mutex::new(Vec::new()),
        monitor: t.invariants().then(|| Mutex::new(Monitor::new(n))),
        looks: (0..n).map(|_| LookGate::default()).collect(),
        hints,
    });
    t.defer_cleanup(cfg.clone());
    let watcher = Arc::downgrade(&cfg);
    let observer: Observer = Arc::new(move |event| {
        if let Some(cfg) = watcher.upgrade() {
            cfg.on_call(event);
        }
    });
    cfg.net.set_observer(Some(observer));
    for i in 0..n {
        cfg.note(Action::Start, Some(i), None);
    }
    cfg.net_ok(cfg.group.start_servers())?;
    cfg.set_reliable(reliable);
    if cfg.monitor.is_some() {
        tokio::spawn(inspector(Arc::downgrade(&cfg)));
    }
    tokio::spawn(time_limit(Arc::downgrade(&cfg)));
    for i in 0..n {
        cfg.look(i, false);
    }
    Ok(cfg)
}

/// Fails a test still running a second past the time limit. Go checks the limit only at
/// End, so a test stuck in a loop (a clerk that never succeeds, under PutAtLeastOnce) runs
/// until Go's 10-minute timeout; here it fails with Go's message as soon as it is over.
async fn time_limit<I: Instance>(cfg: Weak<Config<I>>) {
    tokio::time::sleep(TIME_LIMIT + Duration::from_secs(1)).await;
    if let Some(cfg) = cfg.upgrade() {
        if !cfg.t.finished() {
            cfg.t.fail(Fail::TimeLimit);
        }
    }
}

/// Looks at every running server's Raft peer every [`INSPECT_EVERY`] until the test ends.
async fn inspector<I: Instance>(cfg: Weak<Config<I>>) {
    // One timer, reset each time (a new one per wait cost a handle and a lock more).
    let sleep = tokio::time::sleep(INSPECT_EVERY);
    tokio::pin!(sleep);
    loop {
        sleep.as_mut().await;
        let Some(cfg) = cfg.upgrade() else { return };
        if cfg.t.finished() || cfg.t.failed() {
            return;
        }
        for i in 0..cfg.group.n() {
            cfg.look(i, false);
        }
        sleep.as_mut().reset(Instant::now() + INSPECT_EVERY);
    }
}

impl<I: Instance> Cleanup for Config<I> {
    fn cleanup(&self) {
        let mut hints = Vec::new();
        if let Some((_, s)) = self.group.running().first() {
            hints = as_peer(0, || s.raft().missing());
        }
        hints.extend((self.hints)());
        self.t.set_hints(hints);
        for c in lock(&self.clients).drain(..) {
            c.delete();
        }
        if let Err(e) = self.group.shutdown() {
            self.t.fail(Fail::Net(e));
        }
        self.net.cleanup();
        self.check_timeout();
    }
}

impl<I: Instance> Config<I> {
    /// The test context.
    pub fn t(&self) -> &TestContext {
        &self.t
    }

    /// The server group (Go's `Group(0)`).
    pub fn group(&self) -> &Group<I> {
        &self.group
    }

    /// The network.
    pub fn net(&self) -> &Network {
        &self.net
    }

    /// Go's `rand.Int()`: one choice of the test's stream (the value itself; see
    /// `grader::seed::choices`).
    pub fn rand_int(&self) -> i64 {
        let v = self.t.choices().draw(
            labrpc_sim::Stream::Test,
            |r| rand::RngCore::next_u64(r) >> 1,
            u64::MAX >> 1,
        );
        i64::try_from(v).unwrap_or(i64::MAX)
    }

    /// Records a harness action.
    pub(crate) fn note(&self, action: Action, peer: Option<usize>, value: Option<bool>) {
        self.t.note(Event::Harness {
            action,
            peer,
            value,
        });
    }

    /// A network configuration error is a harness bug: it fails the test.
    pub(crate) fn net_ok<T>(&self, r: Result<T, NetError>) -> Result<T, Fail> {
        r.map_err(Fail::Net)
    }

    /// Go's `net.Reliable(b)`.
    pub fn set_reliable(&self, reliable: bool) {
        self.note(Action::Reliable, None, Some(reliable));
        self.net.set_reliable(reliable);
    }

    /// Go's `IsReliable()`.
    pub fn is_reliable(&self) -> bool {
        self.net.is_reliable()
    }

    /// Go's `RpcTotal()`.
    pub fn rpc_total(&self) -> u64 {
        self.net.total_count()
    }

    /// Go's `OpInc()`.
    pub fn op_inc(&self) {
        self.ops.fetch_add(1, Ordering::Relaxed);
    }

    /// Go's `Begin(desc)`: prints `<desc> (<reliable|unreliable> network)...` and starts the
    /// figures.
    pub fn begin(&self, desc: &str) {
        self.note(Action::Begin, None, None);
        let net = if self.is_reliable() {
            "reliable"
        } else {
            "unreliable"
        };
        self.t.print(&format!("{desc} ({net} network)...\n"));
        *lock(&self.begun) = Begun {
            t0: Instant::now(),
            rpcs0: self.rpc_total(),
            bytes0: self.net.total_bytes(),
            begun: true,
        };
        self.ops.store(0, Ordering::Relaxed);
    }

    /// Go's `End()`: checks the time limit and, if the test has not failed, prints the
    /// `Passed` line. An `End` without a `Begin` (Go would print `9223372036.9` seconds)
    /// measures from the start of the test.
    pub fn end(&self) -> Result<(), Fail> {
        self.note(Action::End, None, None);
        self.check_timeout();
        if let Some(f) = self.t.take_failure() {
            return Err(f);
        }
        let figures = {
            let b = lock(&self.begun);
            let t0 = if b.begun { b.t0 } else { self.start };
            Figures {
                secs: t0.elapsed().as_secs_f64(),
                peers: self.group.n(),
                rpcs: self.rpc_total().saturating_sub(b.rpcs0),
                bytes: self.net.total_bytes().saturating_sub(b.bytes0),
                cmds: self.ops.load(Ordering::Relaxed),
            }
        };
        self.t.print(&format!(
            "{}\n",
            passed_line(figures.secs, figures.peers, figures.rpcs, figures.cmds)
        ));
        self.t.record_passed(figures);
        Ok(())
    }

    /// Go's `CheckTimeout()`: a test that ran more than 120 s fails.
    pub fn check_timeout(&self) {
        if !self.t.failed() && self.start.elapsed() > TIME_LIMIT {
            self.t.fail(Fail::TimeLimit);
        }
    }

    /// Time since the test's configuration was made.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Go's `MakeClient()` (`allowed: None`) or `MakeClientTo(names)`: a new client handle.
    pub fn make_client(&self, allowed: Option<&[usize]>) -> Clnt {
        let id = self.next_client.fetch_add(1, Ordering::Relaxed);
        let allowed = allowed.map(|a| a.iter().map(|&i| server_name(i)).collect());
        let clnt = Clnt::new(
            self.net.clone(),
            usize::try_from(id).unwrap_or(usize::MAX),
            allowed,
        );
        lock(&self.clients).push(clnt.clone());
        clnt
    }

    /// Go's `DeleteClient(clnt)`.
    pub fn delete_client(&self, clnt: &Clnt) {
        clnt.delete();
        lock(&self.clients).retain(|c| c.id() != clnt.id());
    }

    /// Crashes the servers in `list` (Go's `Group.Kill` / `Shutdown`).
    pub fn kill(&self, list: &[usize]) -> Result<(), Fail> {
        for &i in list {
            self.look(i, false);
            self.note(Action::Crash, Some(i), None);
            self.net_ok(self.group.shutdown_server(i))?;
        }
        Ok(())
    }

    /// Starts the servers in `list` (Go's `StartSrvs`), without connecting them.
    pub fn start(&self, list: &[usize]) -> Result<(), Fail> {
        for &i in list {
            self.note(Action::Start, Some(i), None);
            self.net_ok(self.group.start_server(i))?;
            self.look(i, false);
        }
        Ok(())
    }

    /// Go's `ConnectAll()`.
    pub fn connect_all(&self) -> Result<(), Fail> {
        for i in 0..self.group.n() {
            self.note(Action::Connect, Some(i), None);
        }
        self.net_ok(self.group.connect_all())
    }

    /// Go's `ConnectOne(i)`.
    pub fn connect_one(&self, i: usize) -> Result<(), Fail> {
        self.note(Action::Connect, Some(i), None);
        self.net_ok(self.group.connect_one(i))
    }

    /// Go's `DisconnectAll(i)`.
    pub fn disconnect_all(&self, i: usize) -> Result<(), Fail> {
        self.note(Action::Disconnect, Some(i), None);
        self.net_ok(self.group.disconnect_all(i))
    }

    /// Go's `Partition(p1, p2)`; the record shows which side each server is on.
    pub fn partition(&self, p1: &[usize], p2: &[usize]) -> Result<(), Fail> {
        self.t.note(Event::Check {
            check: "partition",
            ok: true,
            detail: format!("partition = {p1:?} {p2:?}"),
        });
        self.net_ok(self.group.partition(p1, p2))
    }

    /// What the harness does as a call goes through the network: records the stage, and
    /// looks at a server that just answered a Raft RPC.
    fn on_call(&self, event: &CallEvent<'_>) {
        let link = self.group.link_of_end(event.end);
        let to = event
            .server
            .and_then(server_index)
            .or(link.map(|(_, to)| to));
        let payload = match event.stage {
            CallStage::Sent | CallStage::Handled => event.payload.cloned(),
            _ => None,
        };
        let rpc = Rpc {
            call: event.call,
            from: link.map(|(from, _)| from),
            to,
            method: 0,
            stage: event.stage,
            payload,
            delay_us: event
                .delay
                .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
        };
        self.t.record_rpc(rpc, event.method);
        if event.stage == CallStage::Handled && event.method.starts_with("Raft.") {
            if let Some(i) = to {
                self.look(i, true);
            }
        }
    }

    /// Looks at server i's Raft peer (when it runs and offers `inspect`) and checks Raft's
    /// safety properties on what it shows; a violation fails the test at once. Looks at one
    /// server never overlap and reach the monitor in the order they were read.
    pub(crate) fn look(&self, i: usize, revealed: bool) {
        if self.monitor.is_none() {
            return;
        }
        let Some((raft, incarnation)) = self.raft_of(i) else {
            return;
        };
        self.looks[i].run_for(
            (&raft, incarnation),
            revealed,
            || self.raft_of(i),
            |peer, seq, revealed, last| self.look_once(i, peer, seq, revealed, last),
        );
    }

    /// Server i's Raft and its incarnation, if it runs.
    fn raft_of(&self, i: usize) -> Option<(Arc<I::Raft>, u64)> {
        let (instance, incarnation) = self.group.instance_and_incarnation(i)?;
        Some((as_peer(i, || instance.raft()), incarnation))
    }

    /// One look at server i (`peer`: its Raft and incarnation, if it runs), the `seq`-th,
    /// under its gate: its Raft's state with the log as what changed since what the monitor
    /// holds (`LabRaft::inspect_since`), so that a look costs what changed, not the log's
    /// length (issue 28; a peer without it gives its whole view). No lock of ours is held
    /// while the peer answers.
    fn look_once(
        &self,
        i: usize,
        peer: Option<(Arc<I::Raft>, u64)>,
        seq: u64,
        revealed: bool,
        last: &mut Option<ViewSeen>,
    ) {
        let Some(monitor) = &self.monitor else { return };
        let Some((raft, incarnation)) = peer else {
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
            || lock(monitor),
            &*raft,
            look,
            last,
            || self.start.elapsed(),
            |change| self.record_change(i, change),
        );
    }

    /// Records what a look showed of server i's Raft (a `state` event when it changed).
    fn record_change(&self, i: usize, change: &RaftChange) {
        self.t.record_state(
            i,
            StateKey {
                role: change.role,
                term: change.term,
                voted_for: change.voted_for,
                commit: change.commit_index,
                last_index: change.last_index(),
                snapshot_index: change.snapshot_index,
            },
        );
    }
}
