//! `LabrpcTransport` maps each request to its `Raft.*` method and treats an undecodable or
//! missing reply as no reply.

use labrpc_sim::{Bytes, Network, Server, Service};
use raft_core::{
    AppendEntriesArgs, LogIndex, PeerId, Request, RequestVoteArgs, RequestVoteReply, Response, Term,
};
use raft_rpc::LabrpcTransport;

fn vote() -> Request {
    Request::Vote(RequestVoteArgs {
        term: Term(3),
        candidate_id: PeerId(0),
        last_log_index: LogIndex(0),
        last_log_term: Term(0),
    })
}

fn append() -> Request {
    Request::Append(AppendEntriesArgs {
        term: Term(3),
        leader_id: PeerId(0),
        prev_log_index: LogIndex(0),
        prev_log_term: Term(0),
        entries: Vec::new(),
        leader_commit: LogIndex(0),
    })
}

#[tokio::test(start_paused = true)]
async fn replies_decode_per_method_and_garbage_is_no_reply() {
    let net = Network::new(5);
    let service = Service::new("Raft")
        .typed_method("RequestVote", |args: RequestVoteArgs| async move {
            RequestVoteReply {
                term: args.term,
                vote_granted: true,
            }
        })
        .method("AppendEntries", |_args: Bytes| async move {
            Ok(Bytes::from_static(b"\xff not a reply"))
        });
    let mut server = Server::new();
    server.add_service(service);
    net.add_server("s", server);
    let end = net.make_end("e").expect("end");
    net.connect("e", "s").expect("connect");
    net.enable("e", true).expect("enable");
    let transport = LabrpcTransport::new(vec![end]);

    let reply = transport.send(PeerId(0), &vote()).await;
    assert_eq!(
        reply,
        Some(Response::Vote(RequestVoteReply {
            term: Term(3),
            vote_granted: true
        }))
    );
    assert_eq!(transport.send(PeerId(0), &append()).await, None);
    // A peer the transport has no end for.
    assert_eq!(transport.send(PeerId(7), &vote()).await, None);
    assert_eq!(net.total_count(), 2);
}
