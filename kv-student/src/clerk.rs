//! Your clerk (the course's `client.go`).
//!
//! # Part 4B: get and put
//!
//! Send `KVServer.Get` / `KVServer.Put` with `self.clnt.call(&self.servers[i], method,
//! &args)`. When the call fails (`Err`: lost, or the server is down) or the answer is
//! `ErrWrongLeader`, try the next server; remember the server that answered as leader
//! (`leader()` returns it) and try it first next time: the speed tests need it. After a
//! round of servers without an answer, pause a little (`tokio::time::sleep`, ~50 ms) before
//! the next round.
//!
//! `get` keeps trying until it gets the value or `ErrNoKey`. `put` keeps trying until it
//! gets an answer; `ErrVersion` on the first RPC is `ErrVersion`, but on a resent RPC it
//! must become `ErrMaybe`: the earlier attempt may have taken effect (the version then
//! moved on because of it). An attempt that got no answer, or `ErrWrongLeader`, may still
//! have reached a leader and commit later: every attempt after it is a resend.

use kv_api::{Clnt, GetArgs, GetReply, KvError, PutArgs, PutReply, Version};

/// Your clerk.
#[derive(Debug)]
pub struct Clerk {
    clnt: Clnt,
    servers: Vec<String>,
    leader: usize,
}

impl kv_api::Clerk for Clerk {
    fn make(clnt: Clnt, servers: Vec<String>) -> Self {
        Clerk {
            clnt,
            servers,
            leader: 0,
        }
    }

    async fn get(&mut self, key: &str) -> Result<(String, Version), KvError> {
        // TODO(4B): retry until an answer (see the module doc). As shipped: one try, at the
        // first server.
        let args = GetArgs { key: key.into() };
        let reply: Result<GetReply, _> = self
            .clnt
            .call(&self.servers[self.leader], "KVServer.Get", &args)
            .await;
        reply.map_or(Err(KvError::WrongLeader), |r| r.result)
    }

    async fn put(&mut self, key: &str, value: &str, version: Version) -> Result<(), KvError> {
        // TODO(4B): retry until an answer; ErrVersion on a resend is ErrMaybe. As shipped:
        // one try, at the first server.
        let args = PutArgs {
            key: key.into(),
            value: value.into(),
            version,
        };
        let reply: Result<PutReply, _> = self
            .clnt
            .call(&self.servers[self.leader], "KVServer.Put", &args)
            .await;
        reply.map_or(Err(KvError::WrongLeader), |r| r.result)
    }

    fn leader(&self) -> usize {
        self.leader
    }
}
