//! The clerk (Go's `kvraft1.Clerk`) and the client handle it sends its RPCs with (Go's
//! `tester.Clnt`).

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use labrpc_sim::{Bytes, ClientEnd, Network, RpcError, Transport};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{KvError, Version};

/// A clerk: the client library of the key/value service (Go's `kvraft1.Clerk`). The grader
/// makes one per simulated client and calls it from one task at a time.
pub trait Clerk: Send + Sized + 'static {
    /// A clerk that reaches the servers named `servers` (in index order, `server-0-0` ...)
    /// through `clnt` (Go's `MakeClerk`).
    fn make(clnt: Clnt, servers: Vec<String>) -> Self;

    /// The value and version of `key`, or `Err(KvError::NoKey)` when it does not exist. Keeps
    /// trying, forever, in the face of every other error (a lost RPC, a wrong leader).
    fn get(&mut self, key: &str)
    -> impl Future<Output = Result<(String, Version), KvError>> + Send;

    /// Installs `value` if `key`'s version is `version` (0 creates the key). `Ok(())` when it
    /// took effect; `Err(KvError::Version)` when the first RPC was answered `ErrVersion`;
    /// `Err(KvError::Maybe)` when a resent RPC was answered `ErrVersion` (the earlier one may
    /// have taken effect); `Err(KvError::NoKey)` for a version above 0 on a missing key. Keeps
    /// trying in the face of every other error. A Put must take effect at most once.
    fn put(
        &mut self,
        key: &str,
        value: &str,
        version: Version,
    ) -> impl Future<Output = Result<(), KvError>> + Send;

    /// The index in `servers` of the server that last answered as the leader (Go's
    /// `Leader()`; the grader uses it to choose which servers to cut off).
    fn leader(&self) -> usize;
}

/// A client's handle on the network (Go's `tester.Clnt`): made by the grader, it reaches
/// servers by name, creating its end to each one the first time it calls it. Ends target
/// the server's name, so they keep working across the server's restarts; a partition
/// between servers never cuts a client off, but the grader may allow a client only some
/// servers (a call to another fails as if the network lost it). Cheap to clone: clones share
/// the ends.
#[derive(Clone)]
pub struct Clnt {
    inner: Arc<Inner>,
}

struct Inner {
    via: Via,
    id: usize,
    state: Mutex<State>,
}

/// How a client's calls reach the network.
enum Via {
    /// The grader's network, in this process.
    Net(Network),
    /// A transport to the grader's process (a clerk in a process of its own): each call goes
    /// there named by the server it is to, and the grader's own client handle makes it.
    Remote(Arc<dyn Transport>),
}

struct State {
    ends: BTreeMap<String, ClientEnd>,
    /// The servers this client may reach (`None`: all).
    allowed: Option<BTreeSet<String>>,
    deleted: bool,
}

impl std::fmt::Debug for Clnt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clnt")
            .field("id", &self.inner.id)
            .finish_non_exhaustive()
    }
}

impl Clnt {
    /// For the grader: client `id` (unique in its test) on `net`, allowed to reach the
    /// servers in `allowed` (`None`: all, Go's `MakeClient`; `Some`: Go's `MakeClientTo`).
    pub fn new(net: Network, id: usize, allowed: Option<Vec<String>>) -> Clnt {
        let state = State {
            ends: BTreeMap::new(),
            allowed: allowed.map(|a| a.into_iter().collect()),
            deleted: false,
        };
        Clnt {
            inner: Arc::new(Inner {
                via: Via::Net(net),
                id,
                state: Mutex::new(state),
            }),
        }
    }

    /// For a clerk in a process of its own (the grader's process mode): client `id` whose
    /// every call goes through `transport`, as a call from an end named by the server it is
    /// to. The grader's own handle for this client makes the call on its network (which
    /// servers it may reach, losses, counts): nothing is decided here.
    pub fn over(transport: Arc<dyn Transport>, id: usize) -> Clnt {
        let state = State {
            ends: BTreeMap::new(),
            allowed: None,
            deleted: false,
        };
        Clnt {
            inner: Arc::new(Inner {
                via: Via::Remote(transport),
                id,
                state: Mutex::new(state),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update under the lock is one step: a poisoned lock is used as it is.
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The client's id in its test.
    pub fn id(&self) -> usize {
        self.inner.id
    }

    /// The name of client `id`'s end to `server`.
    pub fn end_name(id: usize, server: &str) -> String {
        format!("clnt{id}-{server}")
    }

    /// The client an end name (see [`Clnt::end_name`]) belongs to.
    pub fn client_of_end(end: &str) -> Option<usize> {
        let rest = end.strip_prefix("clnt")?;
        let (id, _) = rest.split_once('-')?;
        id.parse().ok()
    }

    /// Calls `method` ("KVServer.Get") on server `server` (Go's `clnt.Call`): `Ok` with the
    /// reply, or `Err` when no reply came (lost, server down or unreachable; like labrpc,
    /// the caller cannot tell which) or the reply did not decode.
    pub async fn call<A, Rp>(&self, server: &str, method: &str, args: &A) -> Result<Rp, RpcError>
    where
        A: Serialize + Sync,
        Rp: DeserializeOwned,
    {
        let end = self.end_to(server).ok_or(RpcError::NoReply)?;
        end.call_typed(method, args).await
    }

    /// For the grader: [`Clnt::call`] with the arguments already encoded, the reply left
    /// encoded (a call relayed from a clerk in a process of its own).
    pub async fn call_bytes(
        &self,
        server: &str,
        method: &str,
        args: Bytes,
    ) -> Result<Bytes, RpcError> {
        let end = self.end_to(server).ok_or(RpcError::NoReply)?;
        end.call(method, args).await
    }

    /// The end to `server`, made (connected, enabled if allowed) on first use; `None` once
    /// the client is deleted or when the network refuses a new end.
    fn end_to(&self, server: &str) -> Option<ClientEnd> {
        let mut state = self.lock();
        if let Some(end) = state.ends.get(server) {
            return Some(end.clone());
        }
        if state.deleted {
            return None;
        }
        let net = match &self.inner.via {
            Via::Net(net) => net,
            Via::Remote(transport) => {
                let end = ClientEnd::with_transport(Arc::clone(transport), server);
                state.ends.insert(server.to_string(), end.clone());
                return Some(end);
            }
        };
        let name = Self::end_name(self.inner.id, server);
        let end = net.make_end(&name).ok()?;
        net.connect(&name, server).ok()?;
        let allowed = state.allowed.as_ref().is_none_or(|a| a.contains(server));
        net.enable(&name, allowed).ok()?;
        state.ends.insert(server.to_string(), end.clone());
        Some(end)
    }

    /// For the grader: allow every server, and enable the ends to them (Go's
    /// `clnt.ConnectAll`).
    pub fn connect_all(&self) {
        let mut state = self.lock();
        state.allowed = None;
        let Via::Net(net) = &self.inner.via else {
            return;
        };
        for server in state.ends.keys() {
            let name = Self::end_name(self.inner.id, server);
            // The end exists: it was made by this client and only `delete` removes it.
            let _ = net.enable(&name, true);
        }
    }

    /// For the grader: delete every end (Go's `DeleteClient`): calls fail from now on.
    pub fn delete(&self) {
        let mut state = self.lock();
        state.deleted = true;
        let Via::Net(net) = &self.inner.via else {
            return;
        };
        for server in state.ends.keys() {
            net.delete_end(&Self::end_name(self.inner.id, server));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_names_name_their_client() {
        let name = Clnt::end_name(12, "server-0-3");
        assert_eq!(name, "clnt12-server-0-3");
        assert_eq!(Clnt::client_of_end(&name), Some(12));
        assert_eq!(Clnt::client_of_end("ab-3"), None);
    }
}
