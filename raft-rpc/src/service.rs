//! The peer's labrpc service "Raft": methods "RequestVote", "AppendEntries" and
//! "InstallSnapshot", each taking the bincode encoding of raft-core's argument struct (the
//! sender is inside it: `candidate_id` / `leader_id`) and answering with the reply struct.
//!
//! A handler persists whatever the request changed before its reply leaves. A killed peer, a
//! sender that is not in the cluster, or undecodable arguments get a handler error instead of
//! a reply, which the caller's transport sees as "no reply": unlike a made-up reply, that can
//! never mislead the caller's core.

use std::sync::Arc;

use labrpc_sim::{Bytes, CodecError, HandlerError, Service, codec};
use raft_core::{
    AppendEntriesArgs, InstallSnapshotArgs, PeerId, Request, RequestVoteArgs, Response,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::driver::Inner;
use crate::peer::RaftPeer;

/// Why a handler gave no reply.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The peer has been killed (or never restored): it answers nothing.
    #[error("peer {me} is stopped")]
    Stopped {
        /// The peer.
        me: usize,
    },
    /// The request names a sender outside the cluster.
    #[error("request from unknown peer {from} (cluster of {peers})")]
    UnknownSender {
        /// The claimed sender.
        from: usize,
        /// The cluster size.
        peers: usize,
    },
    /// The arguments or the reply did not (de)serialize.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The core answered a request with a reply of another kind (a core bug).
    #[error("the core answered {method} with a reply of another kind")]
    WrongReply {
        /// The method.
        method: &'static str,
    },
}

/// The "Raft" service of `peer`. The service keeps the peer alive while registered.
pub(crate) fn raft_service(peer: Arc<RaftPeer>) -> Service {
    let service = Service::new("Raft");
    let service = method(service, &peer, "RequestVote", vote_request, |r| match r {
        Response::Vote(reply) => Some(reply),
        _ => None,
    });
    let service = method(
        service,
        &peer,
        "AppendEntries",
        append_request,
        |r| match r {
            Response::Append(reply) => Some(reply),
            _ => None,
        },
    );
    method(
        service,
        &peer,
        "InstallSnapshot",
        snapshot_request,
        |r| match r {
            Response::Snapshot(reply) => Some(reply),
            _ => None,
        },
    )
}

fn vote_request(args: RequestVoteArgs) -> (PeerId, Request) {
    (args.candidate_id, Request::Vote(args))
}

fn append_request(args: AppendEntriesArgs) -> (PeerId, Request) {
    (args.leader_id, Request::Append(args))
}

fn snapshot_request(args: InstallSnapshotArgs) -> (PeerId, Request) {
    (args.leader_id, Request::Snapshot(args))
}

/// Adds method `name`: decode `A`, wrap it as a request, step the core, unwrap the reply.
fn method<A, R>(
    service: Service,
    peer: &Arc<RaftPeer>,
    name: &'static str,
    wrap: fn(A) -> (PeerId, Request),
    unwrap: fn(Response) -> Option<R>,
) -> Service
where
    A: DeserializeOwned + Send + 'static,
    R: Serialize + Send + 'static,
{
    let peer = Arc::clone(peer);
    service.method(name, move |args: Bytes| {
        let peer = Arc::clone(&peer);
        async move { serve(peer.inner(), name, &args, wrap, unwrap).map_err(HandlerError::from) }
    })
}

fn serve<A, R>(
    inner: &Arc<Inner>,
    method: &'static str,
    args: &[u8],
    wrap: fn(A) -> (PeerId, Request),
    unwrap: fn(Response) -> Option<R>,
) -> Result<Bytes, ServiceError>
where
    A: DeserializeOwned,
    R: Serialize,
{
    let (from, request) = wrap(codec::decode::<A>(args)?);
    if from.0 >= inner.peers {
        return Err(ServiceError::UnknownSender {
            from: from.0,
            peers: inner.peers,
        });
    }
    let response = inner
        .with_raft(|raft| raft.step_request(from, request))
        .ok_or(ServiceError::Stopped { me: inner.me.0 })?;
    let reply = unwrap(response).ok_or(ServiceError::WrongReply { method })?;
    Ok(codec::encode(&reply)?)
}
