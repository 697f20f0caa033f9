//! The replicated state machine layer (Go's `kvraft1/rsm`): a [`StateMachine`] replicated by
//! Raft, and the [`Rsm`] that submits requests to the log and applies what Raft commits.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use lab_api::LabRaft;
use labrpc_sim::ClientEnd;
use raft_persist::Persister;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::KvError;

/// A deterministic state machine the rsm replicates (Go's `rsm.StateMachine`): the key/value
/// store in 4B, a counter in the grader's 4A tests.
///
/// Every server applies the same requests in the same order, so every server's machine goes
/// through the same states; `do_op` must depend on nothing else (no clock, no randomness).
pub trait StateMachine: Send + 'static {
    /// A request, as it travels through the Raft log (Go passes `any` and gob recovers the
    /// type; here the type is explicit and encoded with bincode).
    type Req: Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static;
    /// What executing a request returns; [`Rsm::submit`] hands it to the submitter.
    type Rep: Clone + Debug + Send + 'static;

    /// Executes one committed request and returns its reply (Go's `DoOp`). Called by the
    /// rsm's reader on every server, for every committed request, in log order.
    fn do_op(&mut self, req: Self::Req) -> Self::Rep;

    /// The machine's whole state as bytes (Go's `Snapshot`).
    fn snapshot(&self) -> Vec<u8>;

    /// Replaces the machine's state with a snapshot's (Go's `Restore`). The bytes are ones
    /// `snapshot` produced; bytes that do not decode are a bug, and the machine may panic
    /// (Go's `log.Fatalf`): the grader reports the panic as the test's failure.
    fn restore(&mut self, snapshot: &[u8]);
}

/// What a server (an rsm, or a key/value server and its rsm) is started from: Go's
/// `MakeRSM(servers, me, persister, maxraftstate, sm)` arguments, plus a seed.
#[derive(Debug)]
pub struct ServerArgs {
    /// Client ends to every server of the group, in the same order on every server:
    /// `servers[me]` is this one. They are the Raft peer's ends (pass them to `LabRaft::make`).
    pub servers: Vec<ClientEnd>,
    /// This server's index in `servers`.
    pub me: usize,
    /// Where this server's Raft state and snapshot survive a crash. Give the Raft peer this
    /// very persister (a clone of the handle); its [`Persister::raft_state_size`] is Go's
    /// `rf.PersistBytes()`, and [`Persister::read_snapshot`] is what to restore on start.
    pub persister: Persister,
    /// Go's `maxraftstate`: snapshot when the persisted Raft state grows to about this many
    /// bytes; `None` (Go's -1) means never snapshot.
    pub max_raft_state: Option<usize>,
    /// The seed for the Raft peer (`PeerArgs::seed`), different for every start of every
    /// server; also a fine source of a per-start unique number.
    pub seed: u64,
    /// The Raft peer's random numbers (`PeerArgs::rng`): hand it to `LabRaft::make`.
    pub rng: lab_api::PeerRng,
}

/// The rsm (Go's `rsm.RSM`): replicates a [`StateMachine`] with a Raft peer of type `R`.
///
/// `make` creates the Raft peer (`R::make`) with a new apply channel and starts a reader task
/// that applies every committed request to the machine, on every server; on the server that
/// submitted it, the reader also hands the machine's reply to the waiting `submit`. With
/// `max_raft_state`, the reader snapshots when the Raft state grows too large and restores
/// snapshots (at start from the persister, later from the apply channel).
pub trait Rsm<R: LabRaft, SM: StateMachine>: Send + Sync + Sized + 'static {
    /// Creates the rsm and its Raft peer (Go's `MakeRSM`). Must return at once, with the
    /// reader running on the current tokio runtime.
    fn make(args: ServerArgs, sm: SM) -> Arc<Self>;

    /// Submits `req` to the log and waits until it has been committed and executed (Go's
    /// `Submit`): `Ok` with `do_op`'s reply, or `Err(KvError::WrongLeader)` when this server
    /// is not the leader, lost leadership before the request committed (another request
    /// took its index, or the term changed), or is shutting down. A request on a leader cut
    /// off from the majority may wait until the partition heals.
    fn submit(
        self: &Arc<Self>,
        req: SM::Req,
    ) -> impl Future<Output = Result<SM::Rep, KvError>> + Send;

    /// The Raft peer (Go's `Raft()`): the grader registers its service and inspects it.
    fn raft(&self) -> Arc<R>;

    /// Stops the rsm and its Raft peer: the reader stops, and every waiting `submit` returns
    /// `ErrWrongLeader`. Not in Go (a crashed server's process is killed); the grader's
    /// servers share one process, so it calls this when it crashes a server.
    fn kill(&self);
}
