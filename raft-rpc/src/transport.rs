//! How a peer's requests reach the other peers: the [`Transport`] trait, and
//! [`LabrpcTransport`], its implementation over the simulated labrpc network.
//!
//! A transport answers `None` for every kind of failure (lost request, lost reply, dead or
//! unreachable peer, a reply of the wrong shape): like labrpc's `Call` returning false, the
//! peer cannot tell them apart and simply reports the failure to the core.

use async_trait::async_trait;
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

/// Carries one request to one peer and waits for its reply. Implementations must allow many
/// concurrent calls (a peer keeps several requests to the same peer in flight at once) and
/// must eventually return, so that a peer never waits forever on an unreachable one.
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    /// Sends `request` to peer `to`; `None` when no well-formed reply of the matching kind
    /// came back.
    async fn send(&self, to: PeerId, request: &Request) -> Option<Response>;
}

/// A [`Transport`] over labrpc client ends: `ends[j]` reaches peer `j`. Each request goes as
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

#[async_trait]
impl Transport for LabrpcTransport {
    async fn send(&self, to: PeerId, request: &Request) -> Option<Response> {
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
}
