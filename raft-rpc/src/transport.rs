//! How a peer's requests reach the other peers: [`LabrpcTransport`], over the simulated
//! labrpc network.
//!
//! A transport answers `None` for every kind of failure (lost request, lost reply, dead or
//! unreachable peer, a reply of the wrong shape): like labrpc's `Call` returning false, the
//! peer cannot tell them apart and simply reports the failure to the core.

use labrpc_sim::{Bytes, ClientEnd, codec};
use raft_core::{
    AppendEntriesReply, InstallSnapshotReply, PeerId, Request, RequestVoteReply, Response,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// labrpc method name of RequestVote.
pub const REQUEST_VOTE: &str = "Raft.RequestVote";
/// labrpc method name of AppendEntries.
pub const APPEND_ENTRIES: &str = "Raft.AppendEntries";
/// labrpc method name of InstallSnapshot.
pub const INSTALL_SNAPSHOT: &str = "Raft.InstallSnapshot";

/// Requests over labrpc client ends: `ends[j]` reaches peer `j`. Each request goes as
/// the bincode encoding of its argument struct to the matching `Raft.*` method.
#[derive(Clone)]
pub struct LabrpcTransport {
    ends: Vec<ClientEnd>,
}

impl LabrpcTransport {
    /// A transport over `ends`, in peer order.
    pub fn new(ends: Vec<ClientEnd>) -> Self {
        LabrpcTransport { ends }
    }

    /// The cluster size (one end per peer, this one's included).
    pub fn peers(&self) -> usize {
        self.ends.len()
    }

    /// Sends `request` to peer `to` and waits for its reply; `None` when no well-formed reply
    /// of the matching kind came back. Many calls may be in flight at once, and each
    /// eventually returns (labrpc gives up on an unreachable peer).
    pub async fn send(&self, to: PeerId, request: &Request) -> Option<Response> {
        match request {
            Request::Vote(args) => self
                .call::<_, RequestVoteReply>(to, REQUEST_VOTE, args)
                .await
                .map(Response::Vote),
            Request::Append(args) => self
                .call::<_, AppendEntriesReply>(to, APPEND_ENTRIES, args)
                .await
                .map(Response::Append),
            Request::Snapshot(args) => self
                .call::<_, InstallSnapshotReply>(to, INSTALL_SNAPSHOT, args)
                .await
                .map(Response::Snapshot),
        }
    }

    /// One typed call: encode `args`, call `method`, decode the reply as `R`.
    async fn call<A, R>(&self, to: PeerId, method: &'static str, args: &A) -> Option<R>
    where
        A: Serialize + Sync,
        R: DeserializeOwned,
    {
        let Some(end) = self.ends.get(to.0) else {
            tracing::error!(
                to = to.0,
                peers = self.ends.len(),
                "request to an unknown peer"
            );
            return None;
        };
        let bytes: Bytes = match codec::encode(args) {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::error!(%error, method, "cannot encode request");
                return None;
            }
        };
        let reply = match end.call(method, bytes).await {
            Ok(reply) => reply,
            Err(error) => {
                tracing::trace!(%error, method, to = to.0, "no reply");
                return None;
            }
        };
        match codec::decode::<R>(&reply) {
            Ok(reply) => Some(reply),
            Err(error) => {
                tracing::warn!(%error, method, to = to.0, "undecodable reply treated as none");
                None
            }
        }
    }
}
