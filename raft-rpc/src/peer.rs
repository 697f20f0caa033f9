//! [`RaftPeer`], the reference implementation of [`LabRaft`]: raft-core's state machine driven
//! by a tokio ticker, fed by the RPC service and by its own senders, persisting through the lab
//! [`Persister`] and delivering on the apply channel.
//!
//! A peer whose persisted state does not decode is dead from the start: the error is logged
//! with `tracing::error!`, `start` returns `None`, `get_state` returns `(0, false)`, and its
//! service answers nothing. It never panics and never silently starts from an empty state,
//! which would let it vote twice in a term.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use labrpc_sim::Service;
use raft_core::{Config, LogIndex, PeerId, Raft, StateDecodeError};

use labrpc_sim::ClientEnd;
use raft_persist::Persister;
use tokio::sync::mpsc;

use crate::driver::{ApplySink, Inner};
use crate::service::raft_service;
use crate::transport::LabrpcTransport;
use lab_api::{ApplyMsg, LabRaft, LogMark, PeerArgs, PeerRng, RaftChange, RaftView, Role, Started};

/// How a [`RaftPeer`] runs: the length of a tick and tweaks to [`Config::lab`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerOptions {
    /// Real (or virtual) time per core tick. The lab timings assume 10 ms.
    pub tick: Duration,
    /// Overrides [`Config::election_ticks`].
    pub election_ticks: Option<(u32, u32)>,
    /// Overrides [`Config::heartbeat_ticks`].
    pub heartbeat_ticks: Option<u32>,
    /// Overrides [`Config::max_entries_per_append`] (benchmarks vary it).
    pub max_entries_per_append: Option<usize>,
    /// Overrides [`Config::max_inflight_appends`] (benchmarks vary it).
    pub max_inflight_appends: Option<usize>,
    /// A deliberate bug ([`Config::bug`]): only the grader's tests that measure what it
    /// catches set it.
    pub bug: Option<raft_core::Bug>,
    /// [`Config::coalesce_appends`]: new entries leave when a follower's sender task is about
    /// to send (after letting the tasks already runnable, proposers among them, go first),
    /// not at the proposal. On by default.
    pub coalesce_appends: bool,
}

impl Default for PeerOptions {
    /// The lab settings: 10 ms ticks and [`Config::lab`], with coalesced AppendEntries.
    fn default() -> Self {
        PeerOptions {
            tick: Duration::from_millis(10),
            election_ticks: None,
            heartbeat_ticks: None,
            max_entries_per_append: None,
            max_inflight_appends: None,
            bug: None,
            coalesce_appends: true,
        }
    }
}

impl PeerOptions {
    /// The core configuration for peer `id` of `peers`.
    pub fn config(&self, id: PeerId, peers: usize) -> Config {
        let mut config = Config::lab(id, peers);
        if let Some(ticks) = self.election_ticks {
            config.election_ticks = ticks;
        }
        if let Some(ticks) = self.heartbeat_ticks {
            config.heartbeat_ticks = ticks;
        }
        if let Some(max) = self.max_entries_per_append {
            config.max_entries_per_append = max;
        }
        if let Some(max) = self.max_inflight_appends {
            config.max_inflight_appends = max;
        }
        config.bug = self.bug;
        config.coalesce_appends = self.coalesce_appends;
        config
    }
}

/// Why a peer could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The persister's raft state does not decode.
    #[error("peer {me}: the persisted raft state cannot be restored: {source}")]
    Restore {
        /// The peer.
        me: usize,
        /// What the core reported.
        source: StateDecodeError,
    },
    /// `me` is not a peer of the cluster.
    #[error("peer index {me} is not below the cluster size {peers}")]
    BadIndex {
        /// The index given.
        me: usize,
        /// The cluster size.
        peers: usize,
    },
}

/// What a native peer ([`RaftPeer::make_native`]) is made from: the lab's [`PeerArgs`]
/// without the apply channel.
pub struct NativeArgs {
    /// Client ends to every peer, in the same order on every peer; `peers[me]` is this one.
    pub peers: Vec<ClientEnd>,
    /// This peer's index in `peers`.
    pub me: usize,
    /// Where the state survives a restart (empty on first start).
    pub persister: Persister,
    /// Seed for the election timeouts (a [`PeerRng::seeded`] with it).
    pub seed: u64,
}

/// What a native peer applied, one batch per step, in log order.
#[derive(Debug)]
pub struct ApplyBatches(mpsc::UnboundedReceiver<Vec<ApplyMsg>>);

impl ApplyBatches {
    /// The next batch (never empty), or `None` once the peer is gone.
    pub async fn recv(&mut self) -> Option<Vec<ApplyMsg>> {
        self.0.recv().await
    }
}

/// The reference Raft peer. Dropping the last handle (the harness's and the registered
/// service's) kills it.
pub struct RaftPeer {
    inner: Arc<Inner>,
}

impl RaftPeer {
    /// A peer with the given options (the lab's [`LabRaft::make`] uses the defaults). Must
    /// be called within a tokio runtime; returns at once, with the ticker, applier and
    /// senders running on that runtime. A state that cannot be restored gives a dead peer
    /// (see the module doc) after logging the error.
    pub fn make_with(args: PeerArgs, options: PeerOptions) -> Arc<RaftPeer> {
        let PeerArgs {
            peers,
            me,
            persister,
            apply_ch,
            seed,
            rng,
        } = args;
        let args = NativeArgs {
            peers,
            me,
            persister,
            seed,
        };
        Self::launch(args, rng, &options, ApplySink::Lab(apply_ch))
    }

    /// A peer for a service that embeds it rather than a lab test: what it applies comes in
    /// batches (all the entries one step committed, in log order) on the returned
    /// [`ApplyBatches`], handed over without the lab's rendezvous channel and its task switch
    /// per command. The queue is unbounded: the service must keep reading it. Otherwise the
    /// peer is [`RaftPeer::make_with`]'s, and the service still calls
    /// [`LabRaft::snapshot`] as it applies.
    pub fn make_native(args: NativeArgs, options: PeerOptions) -> (Arc<RaftPeer>, ApplyBatches) {
        let (tx, rx) = mpsc::unbounded_channel();
        let rng = PeerRng::seeded(args.seed);
        let peer = Self::launch(args, rng, &options, ApplySink::Native(tx));
        (peer, ApplyBatches(rx))
    }

    fn launch(
        args: NativeArgs,
        rng: PeerRng,
        options: &PeerOptions,
        sink: ApplySink,
    ) -> Arc<RaftPeer> {
        let raft = restore(&args, rng, options);
        if let Err(error) = &raft {
            tracing::error!(%error, "peer stays dead");
        }
        let NativeArgs {
            peers,
            me,
            persister,
            seed: _,
        } = args;
        let inner = Inner::launch(
            PeerId(me),
            raft.ok(),
            persister,
            LabrpcTransport::new(peers),
            sink,
            options.tick,
        );
        Arc::new(RaftPeer { inner })
    }

    /// Whether the peer failed to restore and so never ran.
    pub fn is_dead_on_arrival(&self) -> bool {
        self.inner.lock().raft.is_none()
    }

    /// Starts agreement on several commands under one lock hold, so that they are persisted
    /// once and leave in as few AppendEntries as the pipeline allows (what a service with
    /// many clients does). Returns where the last one went, or `None` when not the leader
    /// (then none was appended) or when `commands` is empty.
    pub fn start_batch(&self, commands: impl IntoIterator<Item = Bytes>) -> Option<Started> {
        let proposed = self
            .inner
            .with_raft(|raft| raft.propose_batch(commands).ok().flatten())??;
        let (index, term) = proposed;
        Some(Started {
            index: index.0,
            term: term.0,
        })
    }

    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }
}

/// The core's election timeouts, drawn from the peer's [`PeerRng`] (each one a recorded
/// choice of a grader run).
struct Timeouts(PeerRng);

impl raft_core::Draw for Timeouts {
    fn below(&mut self, n: u32) -> u32 {
        let drawn = self.0.range(0..u64::from(n));
        u32::try_from(drawn).unwrap_or(0)
    }
}

/// The core rebuilt from the persister (fresh when it is empty).
fn restore(args: &NativeArgs, rng: PeerRng, options: &PeerOptions) -> Result<Raft, PeerError> {
    let peers = args.peers.len();
    if args.me >= peers {
        return Err(PeerError::BadIndex { me: args.me, peers });
    }
    let config = options.config(PeerId(args.me), peers);
    Raft::restore_with(
        config,
        Box::new(Timeouts(rng)),
        &args.persister.read_raft_state(),
        args.persister.read_snapshot(),
    )
    .map_err(|source| PeerError::Restore {
        me: args.me,
        source,
    })
}

impl LabRaft for RaftPeer {
    fn make(args: PeerArgs) -> Arc<Self> {
        Self::make_with(args, PeerOptions::default())
    }

    fn service(self: Arc<Self>) -> Service {
        raft_service(self)
    }

    fn start(self: &Arc<Self>, command: Bytes) -> Option<Started> {
        let proposed = self.inner.with_raft(|raft| raft.propose(command))?;
        let (index, term) = proposed.ok()?;
        Some(Started {
            index: index.0,
            term: term.0,
        })
    }

    fn get_state(&self) -> (u64, bool) {
        match &self.inner.lock().raft {
            Some(raft) => (raft.current_term().0, raft.is_leader()),
            None => (0, false),
        }
    }

    fn snapshot(self: &Arc<Self>, index: u64, snapshot: Bytes) {
        self.inner
            .with_raft(|raft| raft.snapshot(LogIndex(index), snapshot));
    }

    fn kill(&self) {
        self.inner.kill();
    }

    fn inspect(&self) -> Option<RaftView> {
        let core = self.inner.lock();
        let raft = core.raft.as_ref()?;
        let log_terms = raft.entry_terms().map(|t| t.0).collect();
        Some(RaftView {
            term: raft.current_term().0,
            voted_for: raft.voted_for().map(|p| p.0),
            role: role(raft),
            commit_index: raft.commit_index().0,
            snapshot_index: raft.snapshot_index().0,
            snapshot_term: raft.snapshot_term().0,
            log_terms,
        })
    }

    /// The log as what changed since `mark`: every removal of entries is counted as the core
    /// reports it (see `log_changes.rs`), so the entries below the lowest removal since the
    /// mark, and below the mark's end, are the grader's already.
    fn inspect_since(&self, mark: Option<LogMark>) -> Option<RaftChange> {
        let core = self.inner.lock();
        let raft = core.raft.as_ref()?;
        let snapshot_index = raft.snapshot_index().0;
        let last = raft.last_log_index().0;
        let changed = mark.and_then(|mark| core.changes.changed_since(&mark));
        let kept = changed.map_or(snapshot_index, |from| {
            from.saturating_sub(1).clamp(snapshot_index, last)
        });
        let new_terms = (kept + 1..=last)
            .map(|index| raft.term_at(LogIndex(index)).map_or(0, |t| t.0))
            .collect();
        Some(RaftChange {
            term: raft.current_term().0,
            voted_for: raft.voted_for().map(|p| p.0),
            role: role(raft),
            commit_index: raft.commit_index().0,
            snapshot_index,
            snapshot_term: raft.snapshot_term().0,
            kept,
            new_terms,
            version: core.changes.version(),
        })
    }

    /// Bumped by every input that changed the view (see `Inner::with_raft`); only inputs
    /// change the core, so an unchanged number is an unchanged view.
    fn view_version(&self) -> Option<u64> {
        Some(self.inner.view_version.load(Ordering::Acquire))
    }

    fn describe(method: &str, bytes: &[u8], reply: bool) -> Option<String> {
        crate::describe::describe(method, bytes, reply)
    }
}

/// The lab API's name for the core's role.
fn role(raft: &Raft) -> Role {
    match raft.role() {
        raft_core::Role::Follower => Role::Follower,
        raft_core::Role::Candidate => Role::Candidate,
        raft_core::Role::Leader => Role::Leader,
    }
}

impl Drop for RaftPeer {
    fn drop(&mut self) {
        self.inner.kill();
    }
}
