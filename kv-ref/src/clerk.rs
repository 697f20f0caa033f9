//! The reference clerk: tries the server that last answered as leader first, then the others
//! in turn; turns `ErrVersion` on a resent Put into `ErrMaybe`.

use std::time::Duration;

use kv_api::{Clnt, GetArgs, GetReply, KvError, PutArgs, PutReply, Version};

use crate::mistake;

/// How long the clerk waits after a full round of servers without an answer (no leader yet,
/// or none reachable).
pub const ROUND_PAUSE: Duration = Duration::from_millis(50);

/// The reference clerk (`M` is a [`mistake`], `NONE` for the reference).
#[derive(Debug)]
pub struct Clerk<const M: u8 = { mistake::NONE }> {
    clnt: Clnt,
    servers: Vec<String>,
    leader: usize,
}

impl<const M: u8> Clerk<M> {
    /// The server to try after `tried` servers of this round: the leader first.
    fn target(&self, tried: usize) -> usize {
        (self.leader + tried) % self.servers.len().max(1)
    }

    /// Pauses after a round that found no leader.
    async fn next(&mut self, tried: &mut usize) {
        *tried += 1;
        if *tried >= self.servers.len() {
            *tried = 0;
            tokio::time::sleep(ROUND_PAUSE).await;
        }
    }
}

impl<const M: u8> kv_api::Clerk for Clerk<M> {
    fn make(clnt: Clnt, servers: Vec<String>) -> Self {
        Clerk {
            clnt,
            servers,
            leader: 0,
        }
    }

    async fn get(&mut self, key: &str) -> Result<(String, Version), KvError> {
        let args = GetArgs { key: key.into() };
        let mut tried = 0;
        loop {
            let i = self.target(tried);
            let reply: Result<GetReply, _> = self
                .clnt
                .call(&self.servers[i], "KVServer.Get", &args)
                .await;
            match reply.map(|r| r.result) {
                Ok(Err(KvError::WrongLeader)) | Err(_) => self.next(&mut tried).await,
                Ok(result) => {
                    self.leader = i;
                    return result;
                }
            }
        }
    }

    async fn put(&mut self, key: &str, value: &str, version: Version) -> Result<(), KvError> {
        let args = PutArgs {
            key: key.into(),
            value: value.into(),
            version,
        };
        let mut tried = 0;
        let mut resent = false;
        loop {
            let i = self.target(tried);
            let reply: Result<PutReply, _> = self
                .clnt
                .call(&self.servers[i], "KVServer.Put", &args)
                .await;
            match reply.map(|r| r.result) {
                // The request may have reached a leader that then lost leadership, and may
                // still commit: every later attempt is a resend.
                Ok(Err(KvError::WrongLeader)) | Err(_) => {
                    resent = true;
                    self.next(&mut tried).await;
                }
                Ok(result) => {
                    self.leader = i;
                    return match result {
                        Err(KvError::Version) if resent && M != mistake::NO_ERR_MAYBE => {
                            Err(KvError::Maybe)
                        }
                        other => other,
                    };
                }
            }
        }
    }

    fn leader(&self) -> usize {
        self.leader
    }
}
