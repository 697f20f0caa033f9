//! The reference rsm: submits requests to the Raft log and applies what Raft commits, on
//! every server, to the state machine; snapshots when the Raft state grows too large.
//!
//! A request travels as an [`Op`] tagged with the submitting server, a number unique to this
//! start of the server (its seed) and a counter, so the reader can tell whether the entry
//! committed at an index is the one a `submit` is waiting for. A waiting `submit` ends:
//! - with the machine's reply, when its own op is applied at its index;
//! - with `ErrWrongLeader` when another op is applied at its index, a snapshot covers its
//!   index, the Raft term moves on (checked every [`TERM_POLL`]), or the rsm is killed.
//!
//! A leader cut off from the majority keeps its term, so its waiting submits wait for the
//! partition to heal (TestLeaderPartition4A requires exactly that).
//!
//! Locks: the rsm's lock is taken before the Raft peer's (in `submit`, around `start`, and in
//! the reader, around `snapshot`), never the other way, and never held across an `.await`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use kv_api::{KvError, ServerArgs, StateMachine};
use lab_api::{ApplyMsg, ApplyReceiver, LabRaft, PeerArgs, apply_channel};
use labrpc_sim::codec;
use raft_persist::Persister;
use serde::{Deserialize, Serialize};
use tokio::sync::{oneshot, watch};

use crate::mistake;

/// How often a waiting `submit` checks whether the Raft term has moved on.
pub const TERM_POLL: Duration = Duration::from_millis(100);

/// A request as it travels through the log.
#[derive(Serialize, Deserialize)]
struct Op<Req> {
    /// The server that submitted it.
    me: usize,
    /// Unique to this start of that server.
    nonce: u64,
    /// Unique among this start's ops.
    id: u64,
    /// The request.
    req: Req,
}

/// The rsm's snapshot: the index it covers and the machine's own bytes.
#[derive(Serialize, Deserialize)]
struct Snapshot {
    index: u64,
    machine: Vec<u8>,
}

/// A `submit` waiting for its index.
struct Waiting<Rep> {
    id: u64,
    reply: oneshot::Sender<Result<Rep, KvError>>,
}

struct Inner<SM: StateMachine> {
    sm: SM,
    /// The last index applied to `sm` (the snapshot's, after a restore).
    last_applied: u64,
    /// Waiting submits by the index `start` gave them.
    waiting: BTreeMap<u64, Waiting<SM::Rep>>,
}

/// The reference rsm, on any Raft peer type `R` (see the module doc; `M` is a [`mistake`],
/// `NONE` for the reference).
pub struct Rsm<R: LabRaft, SM: StateMachine, const M: u8 = { mistake::NONE }> {
    me: usize,
    nonce: u64,
    raft: Arc<R>,
    persister: Persister,
    max_raft_state: Option<usize>,
    inner: Mutex<Inner<SM>>,
    next_id: AtomicU64,
    dead: AtomicBool,
    stop: watch::Sender<bool>,
}

impl<R: LabRaft, SM: StateMachine, const M: u8> Rsm<R, SM, M> {
    /// Reads the state machine (the grader's mistake tests read a store off the log).
    pub fn machine<T>(&self, f: impl FnOnce(&SM) -> T) -> T {
        f(&self.lock().sm)
    }

    fn lock(&self) -> MutexGuard<'_, Inner<SM>> {
        // A panic under the lock (a machine's do_op) already fails the test; the state is
        // used as it is.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `kill` was called.
    pub fn killed(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }

    /// Reads the apply channel until the rsm is killed or the channel closes.
    async fn reader(self: Arc<Self>, apply: ApplyReceiver) {
        let mut stop = self.stop.subscribe();
        loop {
            let msg = tokio::select! {
                biased;
                _ = stop.wait_for(|s| *s) => break,
                msg = apply.recv() => msg,
            };
            let Some(msg) = msg else { break };
            if self.killed() {
                break;
            }
            match msg {
                ApplyMsg::Command { index, command } => self.apply(index, &command),
                ApplyMsg::Snapshot { index, data, .. } => self.install(index, &data),
            }
        }
        self.release_all();
    }

    /// Applies the command committed at `index`.
    fn apply(&self, index: u64, command: &[u8]) {
        let mut inner = self.lock();
        if index <= inner.last_applied {
            return; // already in the machine (replayed after a snapshot)
        }
        let skipped_restore = M == mistake::RESTART_WITHOUT_SNAPSHOT && inner.last_applied == 0;
        assert!(
            skipped_restore || index == inner.last_applied + 1,
            "rsm {}: the Raft peer applied index {index} right after index {}: the entries \
             between were never applied",
            self.me,
            inner.last_applied
        );
        let op: Op<SM::Req> = match codec::decode(command) {
            Ok(op) => op,
            Err(e) => panic!(
                "rsm {}: the command the Raft peer applied at index {index} is not an op any \
                 rsm submitted: {e}",
                self.me
            ),
        };
        inner.last_applied = index;
        let mine = op.me == self.me && op.nonce == self.nonce;
        let id = op.id;
        let rep = inner.sm.do_op(op.req);
        if let Some(w) = inner.waiting.remove(&index) {
            if mine && w.id == id {
                let _ = w.reply.send(Ok(rep));
            } else if M == mistake::SUBMIT_MISSES_LEADER_CHANGE {
                // Waits for its own op, which will never come at this index.
                inner.waiting.insert(index, w);
            } else {
                let _ = w.reply.send(Err(KvError::WrongLeader));
            }
        }
        self.maybe_snapshot(&mut inner, index);
    }

    /// Snapshots through `index` when the persisted Raft state has grown to
    /// `max_raft_state`.
    fn maybe_snapshot(&self, inner: &mut Inner<SM>, index: u64) {
        let Some(max) = self.max_raft_state else {
            return;
        };
        if self.persister.raft_state_size() < max {
            return;
        }
        let snapshot = Snapshot {
            index,
            machine: inner.sm.snapshot(),
        };
        match codec::encode(&snapshot) {
            Ok(bytes) => self.raft.snapshot(index, bytes),
            Err(e) => panic!("rsm {}: cannot encode a snapshot: {e}", self.me),
        }
    }

    /// Installs a snapshot the leader sent, through `index`.
    fn install(&self, index: u64, data: &[u8]) {
        let mut inner = self.lock();
        if index <= inner.last_applied {
            return; // older than what the machine holds
        }
        restore(self.me, &mut inner, data);
        inner.last_applied = index;
        // The ops these waiters wait for may be in the snapshot, or may not: their outcome
        // is unknown here.
        let covered: Vec<u64> = inner.waiting.range(..=index).map(|(i, _)| *i).collect();
        for i in covered {
            if let Some(w) = inner.waiting.remove(&i) {
                let _ = w.reply.send(Err(KvError::WrongLeader));
            }
        }
    }

    /// Ends every waiting submit with `ErrWrongLeader`.
    fn release_all(&self) {
        let waiting = std::mem::take(&mut self.lock().waiting);
        for (_, w) in waiting {
            let _ = w.reply.send(Err(KvError::WrongLeader));
        }
    }

    /// Stops waiting at `index` for op `id` (when it is still the one waiting there).
    fn give_up(&self, index: u64, id: u64) {
        let mut inner = self.lock();
        if inner.waiting.get(&index).is_some_and(|w| w.id == id) {
            inner.waiting.remove(&index);
        }
    }
}

/// Restores `inner`'s machine from the rsm snapshot `data` (its last index is set by the
/// caller).
fn restore<SM: StateMachine>(me: usize, inner: &mut Inner<SM>, data: &[u8]) -> u64 {
    match codec::decode::<Snapshot>(data) {
        Ok(s) => {
            inner.sm.restore(&s.machine);
            s.index
        }
        Err(e) => panic!("rsm {me}: a snapshot does not decode: {e}"),
    }
}

impl<R: LabRaft, SM: StateMachine, const M: u8> kv_api::Rsm<R, SM> for Rsm<R, SM, M> {
    fn make(args: ServerArgs, sm: SM) -> Arc<Self> {
        let ServerArgs {
            servers,
            me,
            persister,
            max_raft_state,
            seed,
            rng,
        } = args;
        let mut inner = Inner {
            sm,
            last_applied: 0,
            waiting: BTreeMap::new(),
        };
        let snapshot = persister.read_snapshot();
        if !snapshot.is_empty() && M != mistake::RESTART_WITHOUT_SNAPSHOT {
            inner.last_applied = restore(me, &mut inner, &snapshot);
        }
        let (apply_ch, apply) = apply_channel();
        let raft = R::make(PeerArgs {
            peers: servers,
            me,
            persister: persister.clone(),
            apply_ch,
            seed,
            rng,
        });
        let rsm = Arc::new(Rsm {
            me,
            nonce: seed,
            raft,
            persister,
            max_raft_state,
            inner: Mutex::new(inner),
            next_id: AtomicU64::new(0),
            dead: AtomicBool::new(false),
            stop: watch::Sender::new(false),
        });
        tokio::spawn(Arc::clone(&rsm).reader(apply));
        rsm
    }

    async fn submit(self: &Arc<Self>, req: SM::Req) -> Result<SM::Rep, KvError> {
        if self.killed() {
            return Err(KvError::WrongLeader);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let op = Op {
            me: self.me,
            nonce: self.nonce,
            id,
            req,
        };
        let command: Bytes = match codec::encode(&op) {
            Ok(bytes) => bytes,
            Err(e) => panic!("rsm {}: cannot encode a request: {e}", self.me),
        };
        let (tx, mut rx) = oneshot::channel();
        let started = {
            let mut inner = self.lock();
            let started = self.raft.start(command).ok_or(KvError::WrongLeader)?;
            if started.index <= inner.last_applied {
                // Not a place a new entry can go: this peer is confused; try another.
                return Err(KvError::WrongLeader);
            }
            let waiting = Waiting { id, reply: tx };
            if let Some(old) = inner.waiting.insert(started.index, waiting) {
                // An op of an earlier term that never committed at this index.
                let _ = old.reply.send(Err(KvError::WrongLeader));
            }
            started
        };
        let mut stop = self.stop.subscribe();
        loop {
            tokio::select! {
                biased;
                result = &mut rx => return result.unwrap_or(Err(KvError::WrongLeader)),
                _ = stop.wait_for(|s| *s) => break,
                () = tokio::time::sleep(TERM_POLL) => {
                    if self.raft.get_state().0 != started.term
                        && M != mistake::SUBMIT_MISSES_LEADER_CHANGE
                    {
                        break;
                    }
                }
            }
        }
        self.give_up(started.index, id);
        Err(KvError::WrongLeader)
    }

    fn raft(&self) -> Arc<R> {
        Arc::clone(&self.raft)
    }

    fn kill(&self) {
        self.dead.store(true, Ordering::SeqCst);
        self.raft.kill();
        self.stop.send_replace(true);
        self.release_all();
    }
}
