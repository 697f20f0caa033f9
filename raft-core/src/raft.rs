//! The [`Raft`] struct: the state of Figure 2 and the dispatch of inputs to the rule files
//! (election.rs, replication.rs, commit.rs, snapshot.rs).
//!
//! Every input ends in [`Raft::finish_step`], which applies what became committed and, in
//! debug builds, checks the invariants (invariants.rs). Outputs accumulate in a [`Ready`]
//! until the runtime drains it.

use bytes::Bytes;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::config::Config;
use crate::error::{NotLeader, StateDecodeError};
use crate::log::RaftLog;
use crate::message::{Outbound, Request, Response};
use crate::output::Ready;
use crate::persist::{self, StateHeader};
use crate::random::Draw;
use crate::role::{Role, RoleState};
use crate::types::{Entry, HardState, LogIndex, PeerId, Term};

/// One Raft peer's protocol state.
pub struct Raft {
    pub(crate) config: Config,
    /// Draws election timeouts (5.2: randomized to make split votes rare).
    rng: Box<dyn Draw>,
    /// Figure 2 persistent: latest term seen.
    pub(crate) current_term: Term,
    /// Figure 2 persistent: vote given in `current_term`.
    pub(crate) voted_for: Option<PeerId>,
    /// Figure 2 persistent: the log, after the snapshot (section 7).
    pub(crate) log: RaftLog,
    /// The service's bytes for the snapshot through `log.snapshot_index()`.
    pub(crate) snapshot_data: Bytes,
    /// Figure 2 volatile: highest index known committed.
    /// Invariant: `last_applied <= commit_index <= log.last_index()`.
    pub(crate) commit_index: LogIndex,
    /// Figure 2 volatile: highest index emitted to the service.
    /// Invariant: `log.snapshot_index() <= last_applied`.
    pub(crate) last_applied: LogIndex,
    /// Role and the role-only state.
    pub(crate) role: RoleState,
    /// Who we believe leads `current_term`.
    pub(crate) leader_hint: Option<PeerId>,
    /// Ticks since the election timer was last reset (followers and candidates).
    pub(crate) election_elapsed: u32,
    /// The current randomized timeout.
    pub(crate) election_timeout: u32,
    /// Outputs not yet drained.
    pub(crate) pending: Ready,
    /// Every input since the last [`Raft::ready`] was a proposal (or there was none): its
    /// persist may be allowed to wait (persist.rs).
    proposals_only: bool,
}

impl Raft {
    /// A fresh peer (term 0, empty log), its election timeouts drawn from a generator seeded
    /// with `seed`.
    pub fn new(config: Config, seed: u64) -> Self {
        Raft::with_draw(config, Box::new(ChaCha8Rng::seed_from_u64(seed)))
    }

    /// A fresh peer whose election timeouts come from `rng`.
    pub fn with_draw(config: Config, rng: Box<dyn Draw>) -> Self {
        let mut raft = Raft {
            config,
            rng,
            current_term: Term(0),
            voted_for: None,
            log: RaftLog::default(),
            snapshot_data: Bytes::new(),
            commit_index: LogIndex(0),
            last_applied: LogIndex(0),
            role: RoleState::Follower,
            leader_hint: None,
            election_elapsed: 0,
            election_timeout: 0,
            pending: Ready::default(),
            proposals_only: true,
        };
        raft.reset_election_timer();
        raft
    }

    /// A peer rebuilt from [`Raft::encode_state`] bytes and the snapshot saved with them.
    /// Empty `state` means a fresh peer.
    pub fn restore(
        config: Config,
        seed: u64,
        state: &[u8],
        snapshot: Bytes,
    ) -> Result<Self, StateDecodeError> {
        Raft::restore_with(
            config,
            Box::new(ChaCha8Rng::seed_from_u64(seed)),
            state,
            snapshot,
        )
    }

    /// [`Raft::restore`] with the election timeouts drawn from `rng`.
    pub fn restore_with(
        config: Config,
        rng: Box<dyn Draw>,
        state: &[u8],
        snapshot: Bytes,
    ) -> Result<Self, StateDecodeError> {
        let mut raft = Raft::with_draw(config, rng);
        if state.is_empty() {
            return Ok(raft);
        }
        let persist::PersistedState { header: h, entries } = persist::decode(state)?;
        raft.current_term = h.current_term;
        raft.voted_for = h.voted_for;
        raft.log = RaftLog::from_parts(h.snapshot_index, h.snapshot_term, entries);
        raft.snapshot_data = snapshot;
        // The service restores itself from the snapshot; later entries are re-applied once
        // this peer learns again that they are committed.
        raft.commit_index = h.snapshot_index;
        raft.last_applied = h.snapshot_index;
        raft.check_invariants();
        Ok(raft)
    }

    /// One unit of logical time: election timer (5.2) or heartbeat (5.2, "leaders send
    /// periodic heartbeats").
    pub fn tick(&mut self) {
        self.proposals_only = false;
        if let RoleState::Leader(leader) = &mut self.role {
            leader.heartbeat_elapsed += 1;
            if leader.heartbeat_elapsed >= self.config.heartbeat_ticks {
                leader.heartbeat_elapsed = 0;
                self.broadcast_heartbeat();
            }
        } else {
            self.election_elapsed += 1;
            if self.election_elapsed >= self.election_timeout {
                self.start_election();
            }
        }
        self.finish_step();
    }

    /// Appends a command if leader. It leaves at once for every follower with no
    /// AppendEntries in flight (so a lone proposal is not delayed); a follower that is busy
    /// gets it, batched with whatever else was proposed meanwhile, when its next reply
    /// frees the pipeline (or with the next heartbeat).
    pub fn propose(&mut self, command: Bytes) -> Result<(LogIndex, Term), NotLeader> {
        self.propose_batch(std::iter::once(command))
            .map(|last| last.expect("invariant: one command was appended"))
    }

    /// Appends several commands if leader, as one input: [`Raft::propose`] for each, but the
    /// sending rule runs once, after all are appended, so idle followers get them in one
    /// AppendEntries. Returns where the last one went (`None` for no commands).
    pub fn propose_batch(
        &mut self,
        commands: impl IntoIterator<Item = Bytes>,
    ) -> Result<Option<(LogIndex, Term)>, NotLeader> {
        if !self.is_leader() {
            return Err(NotLeader {
                leader_hint: self.leader_hint,
            });
        }
        let term = self.current_term;
        let mut last = None;
        for command in commands {
            last = Some((self.append_entry(Entry { term, command }), term));
        }
        if last.is_some() {
            self.leader_replicate_idle();
            // With other voters nothing new can commit before they reply (the leader's own
            // match index is already the largest); alone, the leader commits at once.
            if self.config.quorum() == 1 {
                self.leader_advance_commit();
            }
        }
        self.finish_step();
        Ok(last)
    }

    /// With [`Config::coalesce_appends`], sends follower `to` the entries it can take now
    /// (as many AppendEntries as its pipeline allows), everything proposed until this call
    /// included. The runtime calls it for the peers in [`Ready::replicate`]. Nothing is sent
    /// when there is nothing new or no room (without coalescing that is the usual case).
    pub fn replicate(&mut self, to: PeerId) {
        self.proposals_only = false;
        while self.send_append(to, false) {}
        self.finish_step();
    }

    /// Handles a request from `from` and returns the reply. Drain [`Raft::ready`] and persist
    /// before sending the reply.
    pub fn step_request(&mut self, from: PeerId, request: Request) -> Response {
        self.proposals_only = false;
        let response = match request {
            Request::Vote(args) => Response::Vote(self.handle_request_vote(args)),
            Request::Append(args) => Response::Append(self.handle_append_entries(args)),
            Request::Snapshot(args) => Response::Snapshot(self.handle_install_snapshot(args)),
        };
        let _ = from;
        self.finish_step();
        response
    }

    /// Handles the reply to `request`, which this peer sent to `from`.
    pub fn step_response(&mut self, from: PeerId, request: &Request, response: Response) {
        self.proposals_only = false;
        // 5.1: a reply with a higher term makes us a follower of that term, whatever it was.
        if self.config.bug != Some(crate::Bug::IgnoreTermInReplies)
            && self.observe_term(response.term())
        {
            self.finish_step();
            return;
        }
        match (request, response) {
            (Request::Vote(args), Response::Vote(reply)) => {
                self.handle_vote_reply(from, args, reply)
            }
            (Request::Append(args), Response::Append(reply)) => {
                self.handle_append_reply(from, args, &reply)
            }
            (Request::Snapshot(args), Response::Snapshot(_)) => {
                self.handle_snapshot_reply(from, args)
            }
            // A reply of the wrong kind is a runtime bug; nothing sensible to learn from it.
            _ => {}
        }
        self.finish_step();
    }

    /// `request` to `to` got no reply (lost, or the peer is unreachable).
    pub fn step_failure(&mut self, to: PeerId, request: &Request) {
        self.proposals_only = false;
        match request {
            Request::Append(args) => self.handle_append_failure(to, args),
            Request::Snapshot(args) => self.handle_snapshot_failure(to, args),
            // A lost vote request is simply not counted; the election timer retries.
            Request::Vote(_) => {}
        }
        self.finish_step();
    }

    /// The service snapshotted everything through `index` (section 7); the log before it can go.
    /// Ignored when `index` is not above the current snapshot or not yet applied.
    pub fn snapshot(&mut self, index: LogIndex, data: Bytes) {
        self.proposals_only = false;
        self.take_service_snapshot(index, data);
        self.finish_step();
    }

    /// Drains what the inputs so far produced, with the durability its persist needs.
    pub fn ready(&mut self) -> Ready {
        let mut ready = std::mem::take(&mut self.pending);
        ready.durability = persist::durability(&ready, self.proposals_only);
        self.proposals_only = true;
        ready
    }

    /// Whether [`Raft::ready`] would return anything.
    pub fn has_ready(&self) -> bool {
        !self.pending.persist.is_empty()
            || !self.pending.messages.is_empty()
            || !self.pending.apply.is_empty()
            || !self.pending.replicate.is_empty()
    }

    /// The full persistent state (term, vote, snapshot index/term, log after it), bincode with a
    /// format version; what the lab persister stores. Its layout is in persist.rs: this
    /// header, then every entry after the snapshot.
    pub fn encode_state(&self) -> Bytes {
        persist::encode(&self.state_header(), self.log.entries().iter())
    }

    /// The persistent state but the entries: the first bytes of [`Raft::encode_state`]
    /// ([`StateHeader::encode`]), for an encoder that keeps the entries' bytes itself.
    pub fn state_header(&self) -> StateHeader {
        StateHeader {
            current_term: self.current_term,
            voted_for: if self.config.bug == Some(crate::Bug::VoteNotPersisted) {
                None
            } else {
                self.voted_for
            },
            snapshot_index: self.log.snapshot_index(),
            snapshot_term: self.log.snapshot_term(),
            entries: self.log.entries().len() as u64,
        }
    }

    // ---- shared helpers used by the rule files ----

    /// Draws a fresh election timeout, uniform in `election_ticks` (5.2).
    pub(crate) fn reset_election_timer(&mut self) {
        let (lo, hi) = self.config.election_ticks;
        self.election_elapsed = 0;
        self.election_timeout = if hi > lo {
            lo + self.rng.below(hi - lo)
        } else {
            lo
        };
    }

    /// Records a term/vote change for the next [`Ready`].
    pub(crate) fn persist_hard_state(&mut self) {
        self.pending.persist.hard_state = Some(HardState {
            current_term: self.current_term,
            voted_for: self.voted_for,
        });
    }

    /// Appends one entry to the log and records it for persistence; returns its index.
    pub(crate) fn append_entry(&mut self, entry: Entry) -> LogIndex {
        self.log.push(entry);
        let index = self.log.last_index();
        self.pending.persist.note_append(index);
        index
    }

    /// Removes log entries from `from` on and records it for persistence.
    pub(crate) fn truncate_log(&mut self, from: LogIndex) {
        self.log.truncate_from(from);
        self.pending.persist.note_truncate(from);
    }

    /// Queues a request.
    pub(crate) fn send(&mut self, to: PeerId, request: Request) {
        self.pending.messages.push(Outbound { to, request });
    }

    /// Common end of every input: apply what is committed, then check invariants.
    fn finish_step(&mut self) {
        self.apply_committed();
        self.check_invariants();
    }

    // ---- status accessors ----

    /// The current snapshot's bytes (empty if none).
    pub fn snapshot_data(&self) -> &Bytes {
        &self.snapshot_data
    }
    /// currentTerm.
    pub fn current_term(&self) -> Term {
        self.current_term
    }
    /// votedFor.
    pub fn voted_for(&self) -> Option<PeerId> {
        self.voted_for
    }
    /// The role.
    pub fn role(&self) -> Role {
        self.role.role()
    }
    /// Whether this peer is the leader.
    pub fn is_leader(&self) -> bool {
        self.role() == Role::Leader
    }
    /// The peer believed to lead the current term.
    pub fn leader_hint(&self) -> Option<PeerId> {
        self.leader_hint
    }
    /// commitIndex.
    pub fn commit_index(&self) -> LogIndex {
        self.commit_index
    }
    /// lastApplied: everything through it has been emitted in `Ready::apply`.
    pub fn last_applied(&self) -> LogIndex {
        self.last_applied
    }
    /// Index of the last log entry (the snapshot index if the log after it is empty).
    pub fn last_log_index(&self) -> LogIndex {
        self.log.last_index()
    }
    /// Term of the last log entry.
    pub fn last_log_term(&self) -> Term {
        self.log.last_term()
    }
    /// Last index covered by the snapshot (0 if none).
    pub fn snapshot_index(&self) -> LogIndex {
        self.log.snapshot_index()
    }
    /// Term of the entry at the snapshot index (0 if none).
    pub fn snapshot_term(&self) -> Term {
        self.log.snapshot_term()
    }
    /// The entry at `index`, if it is in the log (not compacted, not past the end).
    pub fn entry(&self, index: LogIndex) -> Option<&Entry> {
        self.log.get(index)
    }
    /// The terms of the entries after the snapshot, in index order (a grader's view of the
    /// log, without the commands).
    pub fn entry_terms(&self) -> impl ExactSizeIterator<Item = Term> + '_ {
        self.log.entries().iter().map(|e| e.term)
    }
    /// The term of the entry at `index`, if known (stored, or the snapshot's last index).
    pub fn term_at(&self, index: LogIndex) -> Option<Term> {
        self.log.term_at(index)
    }
    /// This peer's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }
}

impl std::fmt::Debug for Raft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Raft")
            .field("id", &self.config.id)
            .field("role", &self.role())
            .field("current_term", &self.current_term)
            .field("voted_for", &self.voted_for)
            .field("last_log", &(self.log.last_index(), self.log.last_term()))
            .field("snapshot_index", &self.log.snapshot_index())
            .field("commit_index", &self.commit_index)
            .field("last_applied", &self.last_applied)
            .finish()
    }
}
