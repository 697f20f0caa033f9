//! The lab API: the contract between the grader and any Raft peer (spec section 4, 2023+
//! form, without CondInstallSnapshot). The reference peer (`raft-rpc`) and a student's peer
//! (`raft-student`) implement [`LabRaft`] and are graded by the same harness; this crate is
//! all either needs to know about the grader, and all the grader knows about them.
//!
//! - [`LabRaft`]: what the grader calls on a peer (Go's `Make`, `Start`, `GetState`,
//!   `Snapshot`, `Kill`), plus [`LabRaft::missing`] for hints.
//! - [`ApplyMsg`] and [`apply_channel`]: what a peer delivers, on a rendezvous channel like
//!   the lab's unbuffered Go channel.
//! - [`PeerArgs`]: what a peer is made from; [`PeerRng`]: where its random numbers come
//!   from (recorded one by one, so that a failure can be replayed and shrunk).
//! - [`RaftView`]: what the optional [`LabRaft::inspect`] hook shows of a peer's Raft state,
//!   so that the grader can check Raft's safety properties continuously; [`RaftChange`] and
//!   [`LogMark`]: the same with the log as what changed since the grader's last look
//!   ([`LabRaft::inspect_since`], optional, for speed only).
//!
//! `make` returns an `Arc<Self>`, and `start` and `snapshot` receive that `Arc`, so a peer can
//! hand work that owns it to a task from any of them (Go's `go rf.sendAll()`):
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
//!
//! use bytes::Bytes;
//! use lab_api::{LabRaft, PeerArgs, Started};
//! use labrpc_sim::Service;
//!
//! /// A peer that counts its `start` calls from a spawned task.
//! struct Counter {
//!     starts: AtomicU64,
//!     dead: AtomicBool,
//! }
//!
//! impl LabRaft for Counter {
//!     fn make(_args: PeerArgs) -> Arc<Self> {
//!         Arc::new(Counter { starts: AtomicU64::new(0), dead: AtomicBool::new(false) })
//!     }
//!     fn service(self: Arc<Self>) -> Service {
//!         Service::new("Raft")
//!     }
//!     fn start(self: &Arc<Self>, _command: Bytes) -> Option<Started> {
//!         let me = Arc::clone(self); // the task owns the peer
//!         tokio::spawn(async move { me.starts.fetch_add(1, Ordering::SeqCst) });
//!         None
//!     }
//!     fn get_state(&self) -> (u64, bool) {
//!         (0, false)
//!     }
//!     fn snapshot(self: &Arc<Self>, _index: u64, _snapshot: Bytes) {}
//!     fn kill(&self) {
//!         self.dead.store(true, Ordering::SeqCst);
//!     }
//! }
//!
//! let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//! runtime.block_on(async {
//!     let (apply_ch, _reader) = lab_api::apply_channel();
//!     let args = PeerArgs {
//!         peers: Vec::new(),
//!         me: 0,
//!         persister: raft_persist::Persister::new(),
//!         apply_ch,
//!         seed: 1,
//!         rng: lab_api::PeerRng::seeded(1),
//!     };
//!     let peer = Counter::make(args);
//!     assert_eq!(peer.start(Bytes::from_static(b"x")), None);
//!     tokio::task::yield_now().await;
//!     assert_eq!(peer.starts.load(Ordering::SeqCst), 1);
//! });
//! # Ok::<(), std::io::Error>(())
//! ```

mod channel;
mod rng;

use std::sync::Arc;

use bytes::Bytes;
use labrpc_sim::{ClientEnd, Service};
use raft_persist::Persister;

pub use channel::{ApplyClosed, ApplyReceiver, ApplySender, apply_channel};
pub use rng::PeerRng;

/// What a peer delivers on its apply channel, in log order, each committed entry exactly once.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ApplyMsg {
    /// A committed command (Go: `CommandValid`). The log is 1-indexed.
    Command {
        /// Its log index.
        index: u64,
        /// The command bytes exactly as given to [`LabRaft::start`].
        command: Bytes,
    },
    /// A snapshot received from the leader, to be installed by the service (Go:
    /// `SnapshotValid`). The bytes are the ones some service passed to
    /// [`LabRaft::snapshot`], unchanged.
    Snapshot {
        /// Term of the last entry the snapshot covers.
        term: u64,
        /// Index of the last entry the snapshot covers.
        index: u64,
        /// The service's snapshot bytes.
        data: Bytes,
    },
}

/// Where `start` put a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Started {
    /// The index the command will have if it is ever committed.
    pub index: u64,
    /// The leader's current term.
    pub term: u64,
}

/// Everything a peer is made from (Go's `Make(peers, me, persister, applyCh)`, plus its
/// randomness).
pub struct PeerArgs {
    /// Client ends to every peer, in the same order on every peer; `peers[me]` is this one.
    pub peers: Vec<ClientEnd>,
    /// This peer's index in `peers`.
    pub me: usize,
    /// The persister holding this peer's last saved state (empty on first start).
    pub persister: Persister,
    /// Where committed commands and installed snapshots go.
    pub apply_ch: ApplySender,
    /// This incarnation's seed, different for every start of every peer. Prefer [`Self::rng`]
    /// for random numbers; the seed stays for a per-start unique number (and for peers
    /// written before `rng` existed: a peer that seeds its own generator from it is still
    /// deterministic, but its draws are not recorded one by one, so a shrunk failure keeps
    /// its timeouts as they were).
    pub seed: u64,
    /// Where every random number the peer needs (election timeouts) should come from: in
    /// the grader, each draw is a recorded choice of the run (see [`PeerRng`]).
    pub rng: PeerRng,
}

/// A peer's role, as [`LabRaft::inspect`] reports it.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum Role {
    /// Follows a leader (or waits for one).
    #[default]
    Follower,
    /// Asks for votes in its current term.
    Candidate,
    /// Believes it leads its current term.
    Leader,
}

/// A peer's Raft state as Figure 2 names it, read in one consistent moment (under the peer's
/// lock). The grader inspects peers after every delivered RPC, every apply, every crash and
/// restart, and every 10 ms, and checks the paper's safety properties on what it sees:
/// at most one leader per term, terms that never go back, one vote per term, leaders that only
/// append, matching logs, complete leaders and the Figure 8 commit rule.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RaftView {
    /// `currentTerm`.
    pub term: u64,
    /// `votedFor` in `term`, as a peer index.
    pub voted_for: Option<usize>,
    /// Follower, candidate or leader.
    pub role: Role,
    /// `commitIndex`.
    pub commit_index: u64,
    /// Index of the last entry the snapshot covers (0 before any snapshot). It is also the
    /// offset of the log: the first entry after the snapshot has index `snapshot_index + 1`.
    pub snapshot_index: u64,
    /// Term of that entry (0 before any snapshot).
    pub snapshot_term: u64,
    /// The term of every log entry after the snapshot, in index order: entry
    /// `snapshot_index + 1 + k` has term `log_terms[k]`. It stops at the log's logical end,
    /// the last entry the peer holds (so `snapshot_index + log_terms.len()` is its last
    /// index): leave out any placeholder a log representation keeps (a dummy entry at
    /// position 0, the snapshot's own entry) and any spare capacity.
    pub log_terms: Vec<u64>,
}

impl RaftView {
    /// Index of the last log entry (the snapshot's when the log after it is empty).
    pub fn last_index(&self) -> u64 {
        self.snapshot_index + self.log_terms.len() as u64
    }

    /// The term of the entry at `index`, if the view shows it (the snapshot's last entry
    /// counts; 0 is the empty log's "entry" of term 0).
    pub fn term_at(&self, index: u64) -> Option<u64> {
        if index == self.snapshot_index {
            return Some(self.snapshot_term);
        }
        let offset = index.checked_sub(self.snapshot_index + 1)?;
        self.log_terms.get(usize::try_from(offset).ok()?).copied()
    }
}

/// What the grader already holds of a peer's log, handed to [`LabRaft::inspect_since`] so that
/// the peer may answer with what changed since.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogMark {
    /// The [`RaftChange::version`] of the peer's last answer that the grader took in.
    pub version: u64,
    /// The last index of the log as the grader holds it.
    pub last_index: u64,
}

/// A peer's Raft state like [`RaftView`], with its log given as what changed since a
/// [`LogMark`]: the entries after the snapshot up to `kept` are the ones the grader holds
/// (same indices, same terms), and `new_terms` are the terms of the entries after `kept`, to
/// the log's logical end. `kept == snapshot_index` gives the whole log, which is always right;
/// [`RaftChange::from`] a [`RaftView`] does that.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RaftChange {
    /// `currentTerm`.
    pub term: u64,
    /// `votedFor` in `term`, as a peer index.
    pub voted_for: Option<usize>,
    /// Follower, candidate or leader.
    pub role: Role,
    /// `commitIndex`.
    pub commit_index: u64,
    /// Index of the last entry the snapshot covers (0 before any snapshot).
    pub snapshot_index: u64,
    /// Term of that entry (0 before any snapshot).
    pub snapshot_term: u64,
    /// Entries `snapshot_index + 1 ..= kept` are unchanged since the mark: at least
    /// `snapshot_index`, at most the mark's `last_index` (when it is above `snapshot_index`,
    /// the grader must hold those entries: the snapshot has not gone back past its own).
    pub kept: u64,
    /// The term of every entry after `kept`, in index order: entry `kept + 1 + k` has term
    /// `new_terms[k]`, and `kept + new_terms.len()` is the last index.
    pub new_terms: Vec<u64>,
    /// The version of the log this answer describes, for the next [`LogMark`]; the peer's own
    /// numbering (the grader only hands it back).
    pub version: u64,
}

impl RaftChange {
    /// Index of the last log entry (the snapshot's when the log after it is empty).
    pub fn last_index(&self) -> u64 {
        self.kept + self.new_terms.len() as u64
    }

    /// Whether it gives the whole log (nothing relies on what the grader holds).
    pub fn is_whole(&self) -> bool {
        self.kept == self.snapshot_index
    }
}

impl From<RaftView> for RaftChange {
    /// The whole view as a change (`kept == snapshot_index`, version 0): what a peer without
    /// its own [`LabRaft::inspect_since`] answers.
    fn from(view: RaftView) -> Self {
        RaftChange {
            term: view.term,
            voted_for: view.voted_for,
            role: view.role,
            commit_index: view.commit_index,
            snapshot_index: view.snapshot_index,
            snapshot_term: view.snapshot_term,
            kept: view.snapshot_index,
            new_terms: view.log_terms,
            version: 0,
        }
    }
}

/// A Raft peer the grader can test (spec 4.1). All methods but `make` may be called
/// concurrently, and all must return promptly, even after `kill`.
pub trait LabRaft: Send + Sync + 'static {
    /// Creates a peer and starts its background tasks on the current tokio runtime. Must
    /// return quickly: the harness reads the apply channel only after `make` returns.
    fn make(args: PeerArgs) -> Arc<Self>
    where
        Self: Sized;

    /// The RPC service the harness registers on the network for this peer. Its name and
    /// its methods' names are the peer's own choice (the skeleton's "Raft.RequestVote" and
    /// so on are a suggestion), and so are the messages' shapes and encoding: the grader
    /// counts RPCs and bytes whatever the method, never decodes a message (except through
    /// [`LabRaft::describe`], for display), and no check depends on a method's name.
    fn service(self: Arc<Self>) -> Service;

    /// Starts agreement on `command`. Returns at once: `Some` with the index and term when
    /// this peer believes it is the leader, `None` otherwise. The receiver is the peer's
    /// `Arc`, so the method may spawn a task that owns the peer (to send the new entry at
    /// once, for example).
    fn start(self: &Arc<Self>, command: Bytes) -> Option<Started>;

    /// The current term, and whether this peer believes it is the leader.
    fn get_state(&self) -> (u64, bool);

    /// The service has a snapshot of everything up to and including `index`; the peer may
    /// discard its log through `index` (2D). Called from the task that reads the apply channel.
    /// Like `start`, it receives the peer's `Arc`.
    fn snapshot(self: &Arc<Self>, index: u64, snapshot: Bytes);

    /// Stops the peer: it never sends, applies or persists again, and its tasks end soon.
    ///
    /// Closing the apply sender here ([`ApplySender::close`]) is recommended but not
    /// required. Closed, nothing the peer had not yet handed over reaches the grader, not even
    /// a send under way. Left open, the grader keeps reading the killed peer's channel, as
    /// Go's tester does, and checks whatever arrives like any apply: a send under way as
    /// `kill` runs may still complete, but a killed peer must not start new ones.
    fn kill(&self);

    /// The parts of this implementation that are still to be written, in the student's words
    /// (for example "2A: the election ticker"). The grader adds them to a failing test's
    /// message, so an unfinished peer fails with a hint instead of a bare timeout. Finished
    /// implementations, like the reference peer, keep the default: nothing missing.
    fn missing(&self) -> Vec<&'static str> {
        Vec::new()
    }

    /// Optional: a view of this peer's Raft state, read under its lock (see [`RaftView`]).
    /// With it the grader checks Raft's safety properties continuously and names the rule a
    /// failure broke; without it (the default, `None`) only the lab's own checks run. A killed
    /// peer may keep answering with its last state.
    fn inspect(&self) -> Option<RaftView> {
        None
    }

    /// Optional, for speed only: [`LabRaft::inspect`] with the log given as what changed
    /// since `mark` (see [`RaftChange`]), so that a look costs what changed rather than the
    /// length of the log. `mark` is what the grader holds of this peer's log, from an earlier
    /// answer of this same peer (`None`: nothing yet). The default answers with the whole
    /// view of [`LabRaft::inspect`], which is always right: implement this only if the peer
    /// knows exactly which of its entries changed since an earlier version (the reference
    /// peer counts every truncation of its log). Entries it reports as kept that did change
    /// would hide from the grader what it is there to check.
    fn inspect_since(&self, mark: Option<LogMark>) -> Option<RaftChange> {
        let _ = mark;
        self.inspect().map(RaftChange::from)
    }

    /// Optional, for speed only: a number that changes whenever what [`LabRaft::inspect`]
    /// shows changes. Two answers that are the same promise that the view was the same at
    /// both and at every moment between, so the grader skips a look that could only repeat
    /// the last one (most looks: a peer is looked at every 10 ms and after every apply). A
    /// counter bumped under the peer's lock at every change of its term, vote, role, commit
    /// index, snapshot or log keeps that promise; a number that can come back to an earlier
    /// value does not. Must not block or panic (the grader calls it outside the bookkeeping
    /// that names the peer of a panic). The default, `None`, makes every look a whole one,
    /// which is always right.
    fn view_version(&self) -> Option<u64> {
        None
    }

    /// Optional: a short, one-line rendering of an RPC message of this peer type, for the
    /// grader's event record and timeline (the grader cannot decode a peer's own message
    /// bytes). `method` is "Raft.AppendEntries" and so on, `bytes` the encoded arguments
    /// (`reply == false`) or reply (`reply == true`). Keep it short: summarize entries
    /// instead of listing them, e.g. `AE term=3 leader=1 prev=(12,2) entries=5 commit=10`.
    /// The default, `None`, shows only the method and the size.
    fn describe(method: &str, bytes: &[u8], reply: bool) -> Option<String>
    where
        Self: Sized,
    {
        let _ = (method, bytes, reply);
        None
    }
}
