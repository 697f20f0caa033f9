//! [`Raft`], your peer: its fields, its state, and the lab API the grader calls
//! ([`LabRaft`]). Start reading here, then `ticker.rs` for 2A.
//!
//! # How the pieces fit
//!
//! - All mutable protocol state lives in one [`State`] behind one `std::sync::Mutex`. Take the
//!   lock with [`Raft::state`], change what you need, and let the guard go **before any
//!   `.await`** (sending an RPC, sending on the apply channel, sleeping). Holding a
//!   `std::sync::MutexGuard` across an `.await` either fails to compile (the future is no longer
//!   `Send`) or deadlocks the single runtime thread.
//! - Background work runs in tokio tasks: the ticker (elections and heartbeats), the applier
//!   (delivers committed entries), and one short task per RPC you send. Each task holds an
//!   `Arc<Raft>` and must stop once [`Raft::killed`] is true.
//! - The grader calls the [`LabRaft`] methods from its own tasks, possibly at the same time as
//!   your tasks run. Every method must return at once: never wait for an RPC inside them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use labrpc_sim::{ClientEnd, Service};
use raft_persist::Persister;
use lab_api::{ApplySender, LabRaft, PeerArgs, Started};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::messages::LogEntry;
use crate::{applier, progress, rpc, ticker};

/// What a peer currently believes it is (Figure 2, "Rules for Servers").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
// The skeleton never leaves `Follower`; your 2A code uses the other two.
#[allow(dead_code)]
pub(crate) enum Role {
    /// Answers RPCs; becomes a candidate when the election timer runs out.
    Follower,
    /// Asking the others for votes.
    Candidate,
    /// Won an election in `current_term`; sends heartbeats and replicates the log.
    Leader,
}

/// Everything that changes while the peer runs, guarded by one lock. The field names follow
/// the paper's Figure 2; add what your design needs.
// Most fields are read only by code you have not written yet. Delete this `allow` when you
// are done, and the compiler will point at anything you never used.
#[allow(dead_code)]
pub(crate) struct State {
    // --- Persistent state (2C: saved by `persist()` before answering or sending anything
    //     that depends on it).
    /// The latest term this peer has seen; starts at 0, only ever grows.
    pub(crate) current_term: u64,
    /// Who this peer voted for in `current_term`, if anyone.
    pub(crate) voted_for: Option<usize>,
    /// The log. The lab's log is 1-indexed: the first command gets index 1. A common trick is
    /// to keep a placeholder entry at position 0 (term 0), so that index `i` is `log[i]`
    /// and "the entry before the first one" always exists. In 2D that placeholder becomes
    /// the snapshot's last included entry, and index `i` lives at `log[i - log_start]`.
    pub(crate) log: Vec<LogEntry>,

    // --- Volatile state.
    /// Follower, candidate or leader.
    pub(crate) role: Role,
    /// Highest index known to be committed.
    pub(crate) commit_index: u64,
    /// Highest index sent on the apply channel. Invariant: `last_applied <= commit_index`.
    pub(crate) last_applied: u64,
    /// When the election timer runs out. Move it forward only when you grant a vote, accept an
    /// AppendEntries from the current leader, or start an election yourself.
    pub(crate) election_deadline: Instant,
    /// The only source of randomness (election timeouts), seeded from `PeerArgs::seed`.
    pub(crate) rng: ChaCha8Rng,

    // --- Leader state, reset after every election win.
    /// For each peer, the index of the next entry to send it.
    pub(crate) next_index: Vec<u64>,
    /// For each peer, the highest index known to be stored there.
    pub(crate) match_index: Vec<u64>,

    // --- 2D.
    /// The latest snapshot, kept in memory so that every later `persist()` can save it again
    /// (the persister stores state and snapshot together; saving an empty snapshot loses it).
    pub(crate) snapshot: Bytes,
}

/// A Raft peer. The grader makes one per server with [`LabRaft::make`] and shares it behind
/// an `Arc`.
pub struct Raft {
    /// Client ends to every peer; `peers[me]` is this peer. Send with
    /// [`ClientEnd::call_typed`] via the helpers in `rpc.rs`.
    pub(crate) peers: Vec<ClientEnd>,
    /// This peer's index in `peers`.
    pub(crate) me: usize,
    /// Where the persistent state and snapshot survive a crash (2C, 2D).
    pub(crate) persister: Persister,
    /// Where committed commands and installed snapshots go, in log order.
    // The applier you write in 2B sends on it; the skeleton sends nothing.
    #[allow(dead_code)]
    pub(crate) apply_ch: ApplySender,
    /// The protocol state; see [`Raft::state`].
    // Read through `state()` by the code you write; the skeleton never looks at it.
    #[allow(dead_code)]
    state: Mutex<State>,
    /// Set by `kill`. Read it with [`Raft::killed`].
    dead: AtomicBool,
    /// Turns `true` on `kill`, waking every task that waits on it.
    shutdown: watch::Sender<bool>,
    /// Wakes the applier when `commit_index` moves (or a snapshot is waiting).
    pub(crate) apply_wakeup: Notify,
}

impl Raft {
    /// Locks the state. Keep the guard short and never hold it across an `.await`.
    // Your first caller will be get_state() in 2A.
    #[allow(dead_code)]
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        // A panic in another task while it held the lock already fails the test; carry on with
        // the data rather than panic again here.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether [`LabRaft::kill`] was called. Every loop and every task that sends, applies or
    /// persists checks it and stops.
    pub fn killed(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }

    /// Completes once the peer is killed; race it against your waits with `biased;` in
    /// `tokio::select!`, so a killed peer's tasks end at once instead of at their next wake-up.
    pub(crate) async fn until_killed(&self) {
        let mut shutdown = self.shutdown.subscribe();
        // An error means the sender is gone, which also means the peer is gone.
        let _ = shutdown.wait_for(|killed| *killed).await;
    }

    /// This peer's index among the peers.
    pub fn me(&self) -> usize {
        self.me
    }
}

impl LabRaft for Raft {
    fn make(args: PeerArgs) -> Arc<Self> {
        let PeerArgs {
            peers,
            me,
            persister,
            apply_ch,
            seed,
        } = args;
        let n = peers.len();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let election_deadline = Instant::now() + ticker::random_election_timeout(&mut rng);
        let state = State {
            current_term: 0,
            voted_for: None,
            log: vec![LogEntry::default()],
            role: Role::Follower,
            commit_index: 0,
            last_applied: 0,
            election_deadline,
            rng,
            next_index: vec![1; n],
            match_index: vec![0; n],
            snapshot: Bytes::new(),
        };
        let (shutdown, _) = watch::channel(false);
        let raft = Arc::new(Raft {
            peers,
            me,
            persister,
            apply_ch,
            state: Mutex::new(state),
            dead: AtomicBool::new(false),
            shutdown,
            apply_wakeup: Notify::new(),
        });
        // 2C/2D: pick up where a crashed incarnation left off.
        raft.read_persist();
        // Background tasks; make() itself must return at once.
        tokio::spawn(ticker::ticker(Arc::clone(&raft)));
        tokio::spawn(applier::applier(Arc::clone(&raft)));
        raft
    }

    fn service(self: Arc<Self>) -> Service {
        rpc::service(self)
    }

    fn start(self: &Arc<Self>, command: Bytes) -> Option<Started> {
        // TODO(2B): if this peer is not the leader (or is killed), return None. Otherwise
        // append `LogEntry { term: current_term, command }` to the log, persist (2C), and
        // return Some(Started { index, term }) at once. Do not wait for agreement here: the
        // ticker's next heartbeat (or a nudge you send now) carries the entry to followers.
        let _ = command;
        None
    }

    fn get_state(&self) -> (u64, bool) {
        // TODO(2A): return (current_term, role == Role::Leader) from the state.
        (0, false)
    }

    fn snapshot(self: &Arc<Self>, index: u64, snapshot: Bytes) {
        // TODO(2D): the service has everything up to and including `index` in `snapshot`.
        // Drop the log entries through `index` (keep the term of entry `index` as the new
        // placeholder), keep the bytes in `State::snapshot`, and save both with persist().
        // Ignore an index at or below your current log start. The grader calls this from the
        // task that reads your apply channel: if your applier holds the lock while sending on
        // the channel, this method blocks on that lock and both tasks wait forever.
        let _ = (index, snapshot);
    }

    fn kill(&self) {
        self.dead.store(true, Ordering::SeqCst);
        // Wakes the ticker, the applier and anything else racing `until_killed`.
        self.shutdown.send_replace(true);
    }

    fn missing(&self) -> Vec<&'static str> {
        progress::missing()
    }
}
