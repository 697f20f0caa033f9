//! The key/value server (Go's `kvraft1.KVServer`).

use std::sync::Arc;

use lab_api::LabRaft;
use labrpc_sim::Service;

use crate::ServerArgs;

/// The name of the key/value service the grader registers (Go's `KVServer`); a clerk calls
/// `KVServer.Get` and `KVServer.Put`.
pub const KV_SERVICE: &str = "KVServer";

/// A key/value server on a Raft peer of type `R` (Go's `StartKVServer`): a [`StateMachine`]
/// holding the key/value store, replicated by an [`Rsm`], and an RPC service whose `Get` and
/// `Put` submit every request (Gets too) to the rsm.
///
/// [`StateMachine`]: crate::StateMachine
/// [`Rsm`]: crate::Rsm
pub trait KvServer<R: LabRaft>: Send + Sync + Sized + 'static {
    /// Starts the server and its rsm (Go's `StartKVServer`). Must return at once.
    fn start(args: ServerArgs) -> Arc<Self>;

    /// The key/value RPC service, named [`KV_SERVICE`], that the grader registers on the
    /// network beside the Raft peer's service.
    fn service(self: Arc<Self>) -> Service;

    /// The server's Raft peer (Go's `kv.rsm.Raft()`).
    fn raft(&self) -> Arc<R>;

    /// Stops the server, its rsm and its Raft peer (see [`crate::Rsm::kill`]).
    fn kill(&self);
}
