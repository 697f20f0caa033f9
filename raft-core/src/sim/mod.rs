//! A small synchronous router for scenario tests (feature `testkit`): n peers, a queue of
//! requests in flight, delivery in order or at random, drops, partitions, crashes and
//! restarts from the persisted state, all deterministic by seed.
//!
//! Each delivery is a round trip: the receiver handles the request, drains its
//! [`crate::Ready`] (persist, queue messages, apply), then the sender handles the reply (or a
//! failure if the link is down or a drop hits). After every step the [`SafetyChecker`] runs
//! over every live peer and each peer's persisted deltas are replayed into an incremental
//! mirror that must equal the peer's state; either failing panics with the seed.
//!
//! [`Sim::unchecked`] turns all of that off (and keeps no persisted state, and services that
//! only count), for benchmarks of the core alone: `benches/core.rs` drives the same router.

mod mirror;
mod restart;
mod service;
mod trace;

use std::collections::VecDeque;

use bytes::Bytes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::Config;
use crate::error::NotLeader;
use crate::message::{Request, Response};
use crate::output::Apply;
use crate::raft::Raft;
use crate::role::Role;
use crate::safety::SafetyChecker;
use crate::types::{LogIndex, PeerId, Term};
use mirror::DeltaMirror;
use service::{Service, peer_seed};

/// A request in flight.
#[derive(Clone, Debug)]
pub struct Envelope {
    /// Sender.
    pub from: PeerId,
    /// Receiver.
    pub to: PeerId,
    /// The request.
    pub request: Request,
}

/// Counters a test can assert on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Round trips completed.
    pub delivered: u64,
    /// Requests that ended in a failure (down, partitioned, dropped).
    pub failed: u64,
    /// RequestVote sent.
    pub votes_sent: u64,
    /// AppendEntries sent.
    pub appends_sent: u64,
    /// InstallSnapshot sent.
    pub snapshots_sent: u64,
    /// AppendEntries replies with `success == false` delivered to the leader.
    pub append_rejections: u64,
}

struct Node {
    config: Config,
    raft: Option<Raft>,
    /// What the persister holds: encode_state and the snapshot bytes.
    state: Bytes,
    snapshot: Bytes,
    mirror: DeltaMirror,
    service: Service,
    /// The service snapshots once it has applied this index (see [`Sim::snapshot_every`]).
    next_snapshot: u64,
    incarnation: u64,
    seen: (Role, Term),
}

/// The simulated cluster.
pub struct Sim {
    seed: u64,
    nodes: Vec<Node>,
    queue: VecDeque<Envelope>,
    rng: ChaCha8Rng,
    checker: SafetyChecker,
    /// Partition group per peer; peers talk only within a group.
    group: Vec<u32>,
    drop_percent: u32,
    trace: Option<Vec<String>>,
    stats: SimStats,
    /// Checker, mirror and persisted state after every step (all but benchmarks).
    checked: bool,
    /// Each peer's service snapshots when it reaches an index that is a multiple of this.
    snapshot_every: Option<u64>,
}

impl Sim {
    /// `peers` peers with the lab configuration.
    pub fn new(peers: usize, seed: u64) -> Self {
        Sim::with_config(peers, seed, |id| Config::lab(id, peers))
    }

    /// `peers` peers, each configured by `config`.
    pub fn with_config(peers: usize, seed: u64, config: impl Fn(PeerId) -> Config) -> Self {
        let nodes = (0..peers)
            .map(|p| {
                let config = config(PeerId(p));
                let raft = Raft::new(config.clone(), peer_seed(seed, p, 0));
                Node {
                    mirror: DeltaMirror::of(&raft),
                    config,
                    raft: Some(raft),
                    state: Bytes::new(),
                    snapshot: Bytes::new(),
                    service: Service::default(),
                    next_snapshot: u64::MAX,
                    incarnation: 0,
                    seen: (Role::Follower, Term(0)),
                }
            })
            .collect();
        Sim {
            seed,
            nodes,
            queue: VecDeque::new(),
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5EED),
            checker: SafetyChecker::new(),
            group: vec![0; peers],
            drop_percent: 0,
            trace: None,
            stats: SimStats::default(),
            checked: true,
            snapshot_every: None,
        }
    }

    /// For benchmarks of the core: no safety checker, no delta mirror, no persisted state
    /// (so no [`Sim::restart`]), and services that only count what they apply
    /// ([`Sim::service`] stays empty). Call it on a new sim.
    pub fn unchecked(mut self) -> Self {
        self.checked = false;
        for node in &mut self.nodes {
            node.service = Service::new(true);
        }
        self
    }

    /// From now on each peer's service snapshots everything it applied whenever it reaches an
    /// index that is a multiple of `applied`, as a service compacting its log would.
    pub fn snapshot_every(&mut self, applied: u64) {
        assert!(applied > 0, "snapshot_every(0)");
        self.snapshot_every = Some(applied);
        for p in 0..self.peers() {
            self.plan_snapshot(p);
        }
    }

    /// The next multiple of `snapshot_every` after what `p` applied.
    fn plan_snapshot(&mut self, p: usize) {
        let node = &mut self.nodes[p];
        node.next_snapshot = self.snapshot_every.map_or(u64::MAX, |every| {
            (node.service.applied().0 / every + 1) * every
        });
    }

    /// Records a readable transcript from now on (see [`Sim::take_trace`]).
    pub fn enable_trace(&mut self) {
        self.trace = Some(Vec::new());
    }

    /// The transcript so far, one action per line, and starts a new one.
    pub fn take_trace(&mut self) -> String {
        self.trace
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
            .join("\n")
    }

    /// Counters.
    pub fn stats(&self) -> &SimStats {
        &self.stats
    }

    /// Clears the counters.
    pub fn reset_stats(&mut self) {
        self.stats = SimStats::default();
    }

    /// The seed this run was built from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Number of peers.
    pub fn peers(&self) -> usize {
        self.nodes.len()
    }

    /// Peer `p`; panics if it is crashed.
    pub fn raft(&self, p: usize) -> &Raft {
        self.nodes[p].raft.as_ref().expect("peer is crashed")
    }

    /// Whether `p` is running.
    pub fn is_up(&self, p: usize) -> bool {
        self.nodes[p].raft.is_some()
    }

    /// The commands `p`'s service has applied, by index - 1.
    pub fn service(&self, p: usize) -> &[Bytes] {
        self.nodes[p].service.commands()
    }

    /// The checker, for its history.
    pub fn checker(&self) -> &SafetyChecker {
        &self.checker
    }

    /// Requests in flight, oldest first.
    pub fn in_flight(&self) -> &VecDeque<Envelope> {
        &self.queue
    }

    /// Drops `percent`% of requests and, separately, of replies.
    pub fn set_drop_percent(&mut self, percent: u32) {
        self.drop_percent = percent;
    }

    /// The running leader with the highest term, if any.
    pub fn leader(&self) -> Option<usize> {
        (0..self.peers())
            .filter(|p| self.is_up(*p) && self.raft(*p).is_leader())
            .max_by_key(|p| self.raft(*p).current_term())
    }

    /// Advances `p`'s clock one tick.
    pub fn tick(&mut self, p: usize) {
        if let Some(raft) = self.nodes[p].raft.as_mut() {
            raft.tick();
            self.after_step(p);
        }
    }

    /// Ticks every running peer once.
    pub fn tick_all(&mut self) {
        for p in 0..self.peers() {
            self.tick(p);
        }
    }

    /// Proposes a command at `p`.
    pub fn propose(&mut self, p: usize, command: &[u8]) -> Result<(LogIndex, Term), NotLeader> {
        self.propose_bytes(p, Bytes::copy_from_slice(command))
    }

    /// [`Sim::propose`] without a copy of the command.
    pub fn propose_bytes(
        &mut self,
        p: usize,
        command: Bytes,
    ) -> Result<(LogIndex, Term), NotLeader> {
        let raft = self.nodes[p].raft.as_mut().expect("peer is crashed");
        let result = raft.propose(command);
        self.after_step(p);
        result
    }

    /// `p`'s service snapshots everything it has applied.
    pub fn snapshot(&mut self, p: usize) {
        let node = &mut self.nodes[p];
        let Some(raft) = node.raft.as_mut() else {
            return;
        };
        let (index, data) = node.service.snapshot();
        raft.snapshot(index, data);
        self.after_step(p);
    }

    /// Ticks everyone and delivers everything, `ticks` times.
    pub fn run(&mut self, ticks: usize) {
        for _ in 0..ticks {
            self.tick_all();
            self.deliver_all();
        }
    }

    /// Runs until some peer leads and returns it; panics after `max_ticks`.
    pub fn elect(&mut self, max_ticks: usize) -> usize {
        for _ in 0..max_ticks {
            if let Some(l) = self.leader() {
                return l;
            }
            self.run(1);
        }
        panic!("no leader after {max_ticks} ticks (seed {})", self.seed)
    }

    /// Delivers the oldest request in flight; false if none.
    pub fn deliver_next(&mut self) -> bool {
        match self.queue.pop_front() {
            Some(env) => {
                self.deliver(env);
                true
            }
            None => false,
        }
    }

    /// Delivers a request chosen at random (reordering); false if none.
    pub fn deliver_random(&mut self) -> bool {
        if self.queue.is_empty() {
            return false;
        }
        let i = self.rng.random_range(0..self.queue.len());
        let env = self.queue.remove(i).expect("index in range");
        self.deliver(env);
        true
    }

    /// Delivers until nothing is in flight.
    pub fn deliver_all(&mut self) {
        let mut budget = 1_000_000;
        while self.deliver_next() {
            budget -= 1;
            assert!(budget > 0, "messages never stop (seed {})", self.seed);
        }
    }

    /// Removes the oldest request in flight without telling anyone (a silent loss).
    pub fn discard_next(&mut self) -> Option<Envelope> {
        self.queue.pop_front()
    }

    /// Cuts `p` off from everyone.
    pub fn disconnect(&mut self, p: usize) {
        self.group[p] = u32::MAX - p as u32;
    }

    /// Reconnects `p` to the main group.
    pub fn connect(&mut self, p: usize) {
        self.group[p] = 0;
    }

    /// Splits the cluster: peers talk only within their group.
    pub fn partition(&mut self, groups: &[&[usize]]) {
        for (g, members) in groups.iter().enumerate() {
            for p in *members {
                self.group[*p] = g as u32;
            }
        }
    }

    /// Everyone can talk again.
    pub fn heal(&mut self) {
        self.group.iter_mut().for_each(|g| *g = 0);
    }

    /// Whether `a` and `b` can talk.
    pub fn linked(&self, a: usize, b: usize) -> bool {
        self.group[a] == self.group[b] && self.is_up(a) && self.is_up(b)
    }

    fn deliver(&mut self, env: Envelope) {
        let (from, to) = (env.from.0, env.to.0);
        if !self.is_up(from) {
            return;
        }
        let dropped = self.drop_percent > 0 && self.rng.random_range(0..100) < self.drop_percent;
        if !self.linked(from, to) || dropped {
            return self.fail(env);
        }
        let receiver = self.nodes[to].raft.as_mut().expect("linked implies up");
        let response = receiver.step_request(env.from, env.request.clone());
        self.after_step(to);
        let dropped = self.drop_percent > 0 && self.rng.random_range(0..100) < self.drop_percent;
        if dropped || !self.linked(from, to) {
            return self.fail(env);
        }
        self.stats.delivered += 1;
        if matches!(&response, Response::Append(r) if !r.success) {
            self.stats.append_rejections += 1;
        }
        if self.trace.is_some() {
            self.note(format!("p{to} -> p{from} {}", trace::response(&response)));
        }
        let sender = self.nodes[from].raft.as_mut().expect("checked up");
        sender.step_response(env.to, &env.request, response);
        self.after_step(from);
    }

    fn fail(&mut self, env: Envelope) {
        self.stats.failed += 1;
        let p = env.from.0;
        self.note(format!(
            "p{p} -> p{} lost: {}",
            env.to.0,
            trace::request(&env.request)
        ));
        if let Some(raft) = self.nodes[p].raft.as_mut() {
            raft.step_failure(env.to, &env.request);
            self.after_step(p);
        }
    }

    /// Drains `p`'s ready (persist, send, apply), then checks everyone.
    fn after_step(&mut self, p: usize) {
        let node = &mut self.nodes[p];
        let Some(raft) = node.raft.as_mut() else {
            return;
        };
        let mut ready = raft.ready();
        let replicate = std::mem::take(&mut ready.replicate);
        if self.checked && !ready.persist.is_empty() {
            node.mirror.apply(&ready.persist, raft);
            node.mirror.assert_matches(raft);
            node.state = raft.encode_state();
            node.snapshot = raft.snapshot_data().clone();
        }
        let now = (raft.role(), raft.current_term());
        let changed = now != node.seen;
        node.seen = now;
        if changed {
            self.note(format!("p{p} is {:?} in term {}", now.0, now.1.0));
        }
        if self.trace.is_some() && !ready.persist.is_empty() {
            self.note(format!("p{p} persists {}", trace::persist(&ready.persist)));
        }
        for out in ready.messages {
            match &out.request {
                Request::Vote(_) => self.stats.votes_sent += 1,
                Request::Append(_) => self.stats.appends_sent += 1,
                Request::Snapshot(_) => self.stats.snapshots_sent += 1,
            }
            if self.trace.is_some() {
                self.note(format!(
                    "p{p} -> p{} {}",
                    out.to.0,
                    trace::request(&out.request)
                ));
            }
            self.queue.push_back(Envelope {
                from: PeerId(p),
                to: out.to,
                request: out.request,
            });
        }
        for apply in ready.apply {
            self.apply(p, apply);
        }
        // Coalesced appends: this router is ready to send at once.
        for to in replicate {
            if let Some(raft) = self.nodes[p].raft.as_mut() {
                raft.replicate(to);
                self.after_step(p);
            }
        }
        if self.checked {
            self.check();
        }
        if self.nodes[p].service.applied().0 >= self.nodes[p].next_snapshot {
            self.plan_snapshot(p);
            self.snapshot(p);
        }
    }

    fn apply(&mut self, p: usize, apply: Apply) {
        if self.checked {
            if let Err(v) = self.checker.record_apply(PeerId(p), &apply) {
                panic!("seed {}: {v}", self.seed);
            }
        }
        if self.trace.is_some() {
            self.note(format!("p{p} applies {}", trace::apply(&apply)));
        }
        self.nodes[p].service.apply(apply);
    }

    /// Runs the safety checker over every live peer; panics with the seed on a violation.
    pub fn check(&mut self) {
        if !self.checked {
            return;
        }
        let live: Vec<&Raft> = self.nodes.iter().filter_map(|n| n.raft.as_ref()).collect();
        if let Err(v) = self.checker.check(&live) {
            panic!("seed {}: {v}", self.seed);
        }
    }

    fn note(&mut self, line: String) {
        if let Some(t) = self.trace.as_mut() {
            t.push(line);
        }
    }
}
