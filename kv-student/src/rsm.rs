//! [`Rsm`], your replicated state machine (the course's `rsm.go`): it submits requests to
//! the Raft log and applies what Raft commits to a [`StateMachine`], on every server.
//!
//! # Part 4A: submit and apply
//!
//! `make` (written for you) creates the Raft peer with a new apply channel and starts
//! [`Rsm::reader`], a task that takes every [`ApplyMsg`] off the channel and calls `apply`
//! (commands) or `install` (snapshots). You write:
//!
//! 1. [`Op`]: what goes into the log: the request, plus what `apply` needs to know whether the
//!    entry at an index is the one a `submit` waits for (this server's index `me`, a number
//!    unique to this start of the server, such as `ServerArgs::seed`, and a counter).
//! 2. `submit()`: wrap the request in an `Op`, encode it (`labrpc_sim::codec::encode`),
//!    call `raft.start(bytes)`. `None`: not the leader, return `ErrWrongLeader`. `Some`:
//!    remember, under the lock, that a submit waits at `started.index` (a
//!    `tokio::sync::oneshot` sender is a good way to hand it the reply), drop the lock, and
//!    wait for the reply.
//! 3. `apply()`: decode the `Op`, run `sm.do_op(op.req)` (on every server, for every
//!    command), and if a submit waits at this index, hand it the reply when the op is its
//!    own, `ErrWrongLeader` when another op took its index.
//!
//! Pitfalls:
//! - A leader can lose leadership after `start`: its entry may be replaced by another at the
//!   same index (then `apply` sees a different op there), or never be committed. A waiting
//!   submit must not wait forever: also watch the Raft term (`raft.get_state()`, every
//!   100 ms or so) and give up with `ErrWrongLeader` when it changes. But a leader cut off
//!   from the majority keeps its term: its submits may (and, for TestLeaderPartition4A,
//!   must) wait until the partition heals.
//! - Never answer a submit before its op is applied, and never apply an op twice: an index
//!   you have already applied may come again after a restart or a snapshot.
//! - Take the rsm's lock before calling into the Raft peer (`start`, `snapshot`), never the
//!   other way round, and never hold it across an `.await`.
//! - `kill()` must release every waiting submit (with `ErrWrongLeader`).
//!
//! # Part 4C: snapshots
//!
//! With `max_raft_state`, once the persisted Raft state (`persister.raft_state_size()`,
//! Go's `PersistBytes()`) reaches it, snapshot: `raft.snapshot(index, bytes)` where the bytes
//! hold `sm.snapshot()` and whatever else the rsm needs after a restart (the index the
//! snapshot covers, say). At start, restore the persister's snapshot (if it is not empty); a
//! snapshot from the apply channel (`install`) replaces the machine's state too, and no
//! waiting submit can know its outcome any more.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use kv_api::{KvError, ServerArgs, StateMachine};
use lab_api::{ApplyMsg, ApplyReceiver, LabRaft, PeerArgs, apply_channel};
use raft_persist::Persister;
use serde::{Deserialize, Serialize};

/// What goes into the Raft log for one request.
// TODO(4A): add what `apply` needs to recognise the op a `submit` is waiting for.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Op<Req> {
    /// The request.
    pub req: Req,
}

/// What the rsm keeps under its lock.
// TODO(4A): add what a waiting `submit` needs (by index: which op, and where its reply goes).
// `sm` is used only by code you have not written yet.
#[allow(dead_code)]
struct State<SM> {
    /// The state machine.
    sm: SM,
    /// The last index applied to `sm`.
    last_applied: u64,
}

/// Your rsm, on any Raft peer type `R`, replicating machine `SM`.
// Some fields are used only by code you have not written yet.
#[allow(dead_code)]
pub struct Rsm<R: LabRaft, SM: StateMachine> {
    me: usize,
    raft: Arc<R>,
    persister: Persister,
    max_raft_state: Option<usize>,
    state: Mutex<State<SM>>,
    dead: AtomicBool,
}

impl<R: LabRaft, SM: StateMachine> Rsm<R, SM> {
    fn lock(&self) -> MutexGuard<'_, State<SM>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `kill` was called.
    pub fn killed(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }

    /// Takes every message off the apply channel, in order, until the rsm is killed.
    async fn reader(self: Arc<Self>, apply: ApplyReceiver) {
        while let Some(msg) = apply.recv().await {
            if self.killed() {
                break;
            }
            match msg {
                ApplyMsg::Command { index, command } => self.apply(index, &command),
                ApplyMsg::Snapshot { index, data, .. } => self.install(index, &data),
            }
        }
    }

    /// Applies the command Raft committed at `index` (4A), then snapshots if the Raft state
    /// has grown too large (4C).
    fn apply(&self, index: u64, command: &[u8]) {
        // TODO(4A): decode the Op (`labrpc_sim::codec::decode::<Op<SM::Req>>(command)`),
        // apply it with `sm.do_op`, answer the submit waiting at `index`.
        let _ = command;
        self.lock().last_applied = index;
        self.maybe_snapshot(index);
    }

    /// Snapshots through `index` when the persisted Raft state has reached `max_raft_state`.
    fn maybe_snapshot(&self, index: u64) {
        // TODO(4C): compare `self.persister.raft_state_size()` with `self.max_raft_state`,
        // and call `self.raft.snapshot(index, bytes)`.
        let _ = index;
    }

    /// Installs a snapshot Raft delivered, through `index`.
    fn install(&self, index: u64, data: &[u8]) {
        // TODO(4C): restore the machine from `data` (unless it is older than what it holds).
        let _ = (index, data);
    }
}

impl<R: LabRaft, SM: StateMachine> kv_api::Rsm<R, SM> for Rsm<R, SM> {
    fn make(args: ServerArgs, sm: SM) -> Arc<Self> {
        let ServerArgs {
            servers,
            me,
            persister,
            max_raft_state,
            seed,
            rng,
        } = args;
        // TODO(4C): restore the persister's snapshot, if it is not empty.
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
            raft,
            persister,
            max_raft_state,
            state: Mutex::new(State {
                sm,
                last_applied: 0,
            }),
            dead: AtomicBool::new(false),
        });
        tokio::spawn(Arc::clone(&rsm).reader(apply));
        rsm
    }

    async fn submit(self: &Arc<Self>, req: SM::Req) -> Result<SM::Rep, KvError> {
        // TODO(4A): start the op and wait until it is applied (see the module doc). As
        // shipped: "I'm dead, try another server".
        let _ = req;
        Err(KvError::WrongLeader)
    }

    fn raft(&self) -> Arc<R> {
        Arc::clone(&self.raft)
    }

    fn kill(&self) {
        self.dead.store(true, Ordering::SeqCst);
        self.raft.kill();
        // TODO(4A): release every waiting submit with ErrWrongLeader.
    }
}
