//! [`Raft`]: the state under its one lock, the lab API, persistence, and the three handlers
//! (the follower's side of every RPC). The leader's and candidate's sides, and the tasks,
//! are in `tasks.rs`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use lab_api::{ApplySender, LabRaft, PeerArgs, PeerRng, RaftView, Started};
use labrpc_sim::{ClientEnd, HandlerError, Service};
use raft_persist::Persister;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::log::Log;
use crate::tasks;
use crate::wire::{
    self, Ballot, BallotReply, Batch, BatchReply, Entry, SERVICE, Transfer, TransferReply,
    WireError,
};

/// How often a leader writes to each follower when it has nothing new: about 8 times a
/// second (the lab allows 10).
pub(crate) const HEARTBEAT: Duration = Duration::from_millis(120);
/// The shortest election timeout: almost three heartbeats.
const ELECTION_MIN: Duration = Duration::from_millis(350);
/// The longest election timeout (exclusive).
const ELECTION_MAX: Duration = Duration::from_millis(700);

/// Most entries in one `Replicate`.
pub(crate) const MAX_BATCH: usize = 128;

/// Where a leader sends a follower back when it refuses a `Replicate`. Neither uses the
/// lab's hints (the conflicting term and its first index).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backup {
    /// To just after the follower's commit index, which it reports in every reply: its log
    /// matches the leader's through there, so one refusal costs one round trip.
    CommitPoint,
    /// One entry back per refusal ([`crate::EntryByEntry`]): safe, but slow over a long
    /// divergence.
    OneEntry,
}

/// What this peer believes it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Follower,
    /// Asking for votes; `votes` counts its own.
    Candidate {
        votes: usize,
    },
    Leader,
}

/// Everything that changes, behind the peer's one `std::sync::Mutex`. No lock is ever held
/// across an `.await`.
pub(crate) struct State {
    /// Persistent (Figure 2): the latest term seen, the vote in it, the log.
    pub(crate) term: u64,
    pub(crate) voted_for: Option<usize>,
    pub(crate) log: Log,
    /// The service's snapshot through `log.base_index`, saved again with every persist.
    pub(crate) snapshot: Bytes,
    pub(crate) role: Role,
    /// Highest index known committed.
    pub(crate) commit: u64,
    /// Highest index handed to the applier (it may still be sending it).
    pub(crate) applied: u64,
    /// A snapshot from a leader that the applier has yet to deliver.
    pub(crate) snapshot_pending: bool,
    /// When a follower or candidate starts the next election.
    pub(crate) deadline: Instant,
    pub(crate) rng: PeerRng,
    /// Leader only: per peer, the next index to send and the highest index known stored.
    pub(crate) next: Vec<u64>,
    pub(crate) matched: Vec<u64>,
}

impl State {
    /// A fresh random election deadline from now.
    pub(crate) fn reset_deadline(&mut self) {
        let timeout = self.rng.duration(ELECTION_MIN..ELECTION_MAX);
        self.deadline = Instant::now() + timeout;
    }

    /// A newer term was seen: adopt it, with no vote, as a follower. A deposed leader gets
    /// a fresh deadline (its old one is long past).
    pub(crate) fn adopt(&mut self, term: u64) {
        if self.role == Role::Leader {
            self.reset_deadline();
        }
        self.term = term;
        self.voted_for = None;
        self.role = Role::Follower;
    }
}

/// The persisted state, in its own compact encoding (bincode's varints), separate from the
/// wire's: the 2D tests bound its size.
#[derive(Serialize, Deserialize)]
struct Durable<E> {
    term: u64,
    voted_for: Option<u32>,
    base_index: u64,
    base_term: u64,
    entries: E,
}

/// One peer. All mutable protocol state is in `State` behind `state`; the rest is fixed at
/// `make` or is a signal.
pub struct Raft {
    pub(crate) peers: Vec<ClientEnd>,
    pub(crate) me: usize,
    pub(crate) backup: Backup,
    persister: Persister,
    pub(crate) apply_ch: ApplySender,
    state: Mutex<State>,
    dead: AtomicBool,
    /// Turns true at `kill`; every task races it.
    stop: watch::Sender<bool>,
    /// Wakes the applier (commit moved or a snapshot arrived).
    pub(crate) apply_signal: Notify,
    /// One per peer: wakes that peer's replicator (new entries, or a new term to announce).
    pub(crate) kicks: Vec<Notify>,
}

impl Raft {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere already fails the test; keep serving what is there.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `kill` was called.
    pub fn killed(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }

    /// Completes once the peer is killed.
    pub(crate) async fn stopped(&self) {
        let mut rx = self.stop.subscribe();
        // An error means the sender is gone, and so is the peer.
        let _ = rx.wait_for(|dead| *dead).await;
    }

    /// Saves term, vote and log with the snapshot, in one save. A killed peer saves nothing.
    pub(crate) fn persist(&self, st: &State) {
        if self.killed() {
            return;
        }
        let durable = Durable {
            term: st.term,
            voted_for: st.voted_for.and_then(|v| u32::try_from(v).ok()),
            base_index: st.log.base_index,
            base_term: st.log.base_term,
            entries: &st.log.entries,
        };
        // labrpc's codec: bincode's standard (varint) encoding, sized before it is written.
        match labrpc_sim::codec::encode(&durable) {
            Ok(bytes) => self.persister.save(bytes, st.snapshot.clone()),
            Err(e) => tracing::error!("state not saved: {e}"),
        }
    }

    /// Restores what `persist` saved, if anything; undecodable bytes leave a fresh peer.
    fn restore(&self, st: &mut State) {
        let data = self.persister.read_raft_state();
        if data.is_empty() {
            return;
        }
        match labrpc_sim::codec::decode::<Durable<Vec<Entry>>>(&data) {
            Ok(d) => {
                st.term = d.term;
                st.voted_for = d.voted_for.and_then(|v| usize::try_from(v).ok());
                st.log = Log {
                    base_index: d.base_index,
                    base_term: d.base_term,
                    entries: d.entries,
                };
                st.snapshot = self.persister.read_snapshot();
                st.commit = d.base_index;
                st.applied = d.base_index;
            }
            Err(e) => tracing::error!("saved state unreadable, starting fresh: {e}"),
        }
    }

    /// Decodes a request, runs `handle` on it and encodes the reply; a killed peer answers
    /// nothing (an error, which the caller sees as a lost reply).
    fn serve<A: DeserializeOwned, R: Serialize>(
        &self,
        bytes: &[u8],
        handle: fn(&Raft, A) -> R,
    ) -> Result<Bytes, HandlerError> {
        if self.killed() {
            return Err(WireError::Killed.into());
        }
        let reply = handle(self, wire::decode(bytes)?);
        Ok(wire::encode(&reply)?)
    }

    /// A vote request (Figure 2, RequestVote receiver; 5.2, 5.4.1).
    fn on_vote(&self, b: Ballot) -> BallotReply {
        let mut st = self.lock();
        let before = (st.term, st.voted_for);
        if b.term > st.term {
            st.adopt(b.term);
        }
        let candidate = usize::try_from(b.candidate).unwrap_or(usize::MAX);
        // "At least as up-to-date": a later last term, or the same one and no shorter.
        let up_to_date = (b.last_term, b.last_index) >= (st.log.last_term(), st.log.last_index());
        let granted =
            b.term == st.term && st.voted_for.is_none_or(|v| v == candidate) && up_to_date;
        if granted {
            st.voted_for = Some(candidate);
            st.reset_deadline();
        }
        if (st.term, st.voted_for) != before {
            self.persist(&st);
        }
        BallotReply {
            term: st.term,
            granted,
        }
    }

    /// Entries or a heartbeat from a leader (Figure 2, AppendEntries receiver; 5.3).
    fn on_replicate(&self, b: Batch) -> BatchReply {
        let mut st = self.lock();
        if b.term < st.term {
            return BatchReply {
                term: st.term,
                accepted: false,
                commit: st.commit,
            };
        }
        let mut dirty = b.term > st.term;
        if dirty {
            st.adopt(b.term);
        }
        st.role = Role::Follower;
        st.reset_deadline();
        let last_new = b.prev_index + b.entries.len() as u64;
        let base = st.log.base_index;
        // Entries through the snapshot are committed, so they match: skip them.
        let skip = usize::try_from(base.saturating_sub(b.prev_index)).unwrap_or(usize::MAX);
        let accepted = skip > 0 || st.log.term_at(b.prev_index) == Some(b.prev_term);
        if accepted {
            let first = b.prev_index.max(base) + 1;
            for (index, entry) in (first..).zip(b.entries.into_iter().skip(skip)) {
                match st.log.term_at(index) {
                    Some(t) if t == entry.term => continue,
                    Some(_) => st.log.truncate(index),
                    None => {}
                }
                st.log.entries.push(entry);
                dirty = true;
            }
            let commit = b.commit.min(last_new);
            if commit > st.commit {
                st.commit = commit;
                self.apply_signal.notify_one();
            }
        }
        if dirty {
            self.persist(&st);
        }
        BatchReply {
            term: st.term,
            accepted,
            commit: st.commit,
        }
    }

    /// A leader's snapshot (Figure 13, InstallSnapshot receiver; 7). One that does not go
    /// past the commit index changes nothing.
    fn on_snap(&self, s: Transfer) -> TransferReply {
        let mut st = self.lock();
        if s.term < st.term {
            return TransferReply { term: st.term };
        }
        if s.term > st.term {
            st.adopt(s.term);
            self.persist(&st);
        }
        st.role = Role::Follower;
        st.reset_deadline();
        if s.last_index > st.commit {
            if st.log.term_at(s.last_index) == Some(s.last_term) {
                st.log.compact(s.last_index, s.last_term);
            } else {
                st.log = Log::after(s.last_index, s.last_term);
            }
            st.snapshot = s.data;
            st.commit = s.last_index;
            st.snapshot_pending = true;
            self.persist(&st);
            self.apply_signal.notify_one();
        }
        TransferReply { term: st.term }
    }

    /// What [`LabRaft::inspect`] shows.
    fn view(&self) -> RaftView {
        let st = self.lock();
        RaftView {
            term: st.term,
            voted_for: st.voted_for,
            role: match st.role {
                Role::Follower => lab_api::Role::Follower,
                Role::Candidate { .. } => lab_api::Role::Candidate,
                Role::Leader => lab_api::Role::Leader,
            },
            commit_index: st.commit,
            snapshot_index: st.log.base_index,
            snapshot_term: st.log.base_term,
            log_terms: st.log.entries.iter().map(|e| e.term).collect(),
        }
    }
}

impl Raft {
    /// `make` with a backup policy.
    pub(crate) fn create(args: PeerArgs, backup: Backup) -> Arc<Raft> {
        let n = args.peers.len();
        let mut state = State {
            term: 0,
            voted_for: None,
            log: Log::default(),
            snapshot: Bytes::new(),
            role: Role::Follower,
            commit: 0,
            applied: 0,
            snapshot_pending: false,
            deadline: Instant::now(),
            rng: args.rng,
            next: vec![1; n],
            matched: vec![0; n],
        };
        state.reset_deadline();
        let raft = Arc::new(Raft {
            peers: args.peers,
            me: args.me,
            backup,
            persister: args.persister,
            apply_ch: args.apply_ch,
            state: Mutex::new(state),
            dead: AtomicBool::new(false),
            stop: watch::channel(false).0,
            apply_signal: Notify::new(),
            kicks: (0..n).map(|_| Notify::new()).collect(),
        });
        raft.restore(&mut raft.lock());
        tasks::spawn_all(&raft);
        raft
    }
}

impl LabRaft for Raft {
    fn make(args: PeerArgs) -> Arc<Self> {
        Raft::create(args, Backup::CommitPoint)
    }

    fn service(self: Arc<Self>) -> Service {
        let (vote, replicate, snap) = (Arc::clone(&self), Arc::clone(&self), self);
        Service::new(SERVICE)
            .method("Vote", move |bytes: Bytes| {
                let raft = Arc::clone(&vote);
                async move { raft.serve(&bytes, Raft::on_vote) }
            })
            .method("Replicate", move |bytes: Bytes| {
                let raft = Arc::clone(&replicate);
                async move { raft.serve(&bytes, Raft::on_replicate) }
            })
            .method("Snap", move |bytes: Bytes| {
                let raft = Arc::clone(&snap);
                async move { raft.serve(&bytes, Raft::on_snap) }
            })
    }

    fn start(self: &Arc<Self>, command: Bytes) -> Option<Started> {
        let mut st = self.lock();
        if self.killed() || st.role != Role::Leader {
            return None;
        }
        let term = st.term;
        st.log.entries.push(Entry { term, command });
        let index = st.log.last_index();
        self.persist(&st);
        self.advance_commit(&mut st);
        drop(st);
        for kick in &self.kicks {
            kick.notify_one();
        }
        Some(Started { index, term })
    }

    fn get_state(&self) -> (u64, bool) {
        let st = self.lock();
        (st.term, st.role == Role::Leader)
    }

    fn snapshot(self: &Arc<Self>, index: u64, snapshot: Bytes) {
        let mut st = self.lock();
        let Some(term) = st.log.term_at(index) else {
            return;
        };
        if index <= st.log.base_index || index > st.applied {
            return;
        }
        st.log.compact(index, term);
        st.snapshot = snapshot;
        self.persist(&st);
    }

    /// Stops every task and closes the apply channel. Closing it (rather than letting the
    /// applier notice the flag) withdraws a batch the harness has not taken yet, at once and
    /// from any thread: nothing this peer applies reaches the harness after `kill` returns,
    /// also in real time on a multi-threaded runtime, where the applier may be mid-send.
    fn kill(&self) {
        self.dead.store(true, Ordering::SeqCst);
        self.stop.send_replace(true);
        self.apply_ch.close();
    }

    fn inspect(&self) -> Option<RaftView> {
        Some(self.view())
    }

    fn describe(method: &str, bytes: &[u8], reply: bool) -> Option<String> {
        wire::describe(method, bytes, reply)
    }
}
