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
    AppendEntriesArgsRef, InstallSnapshotArgsRef, PeerId, Request, RequestVoteArgs, Response,
};
use serde::Serialize;

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

/// Decodes RequestVote (no bytes inside: the owned decode is as cheap as any).
fn vote_request(args: &Bytes) -> Result<(PeerId, Request), CodecError> {
    let args: RequestVoteArgs = codec::decode(args)?;
    Ok((args.candidate_id, Request::Vote(args)))
}

/// Decodes AppendEntries through its borrowed view: the commands share the message's buffer
/// instead of being allocated and copied one by one.
fn append_request(args: &Bytes) -> Result<(PeerId, Request), CodecError> {
    let view: AppendEntriesArgsRef<'_> = codec::decode_borrowed(args)?;
    let args = view.into_owned(args);
    Ok((args.leader_id, Request::Append(args)))
}

/// Decodes InstallSnapshot through its borrowed view, as `append_request` does.
fn snapshot_request(args: &Bytes) -> Result<(PeerId, Request), CodecError> {
    let view: InstallSnapshotArgsRef<'_> = codec::decode_borrowed(args)?;
    let args = view.into_owned(args);
    Ok((args.leader_id, Request::Snapshot(args)))
}

/// How a method turns the message into the sender and the core's request.
type Decode = fn(&Bytes) -> Result<(PeerId, Request), CodecError>;

/// Adds method `name`: decode the request, step the core, unwrap the reply.
fn method<R>(
    service: Service,
    peer: &Arc<RaftPeer>,
    name: &'static str,
    decode: Decode,
    unwrap: fn(Response) -> Option<R>,
) -> Service
where
    R: Serialize + Send + 'static,
{
    let peer = Arc::clone(peer);
    service.method(name, move |args: Bytes| {
        let peer = Arc::clone(&peer);
        async move { serve(peer.inner(), name, &args, decode, unwrap).map_err(HandlerError::from) }
    })
}

fn serve<R>(
    inner: &Arc<Inner>,
    method: &'static str,
    args: &Bytes,
    decode: Decode,
    unwrap: fn(Response) -> Option<R>,
) -> Result<Bytes, ServiceError>
where
    R: Serialize,
{
    let (from, request) = decode(args)?;
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
