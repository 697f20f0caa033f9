//! Your key/value server (the course's `server.go`): the store as a [`StateMachine`]
//! ([`KvStore`]) behind your rsm, and the `KVServer` RPC service.
//!
//! # Part 4B: the store
//!
//! `do_op()` executes one committed request on the store, with the lab's semantics (see
//! `kv_api`): a Get returns the value and version or `ErrNoKey`; a Put installs its value
//! and increments the version if its version is the key's (0 creates the key), else
//! `ErrVersion` (`ErrNoKey` for a version above 0 on a missing key). It runs on every
//! server, in log order: it must be deterministic. The RPC handlers below are written: every
//! request, Gets too, goes through the rsm, so a server cut off from the majority answers
//! nothing.
//!
//! Versions are what make a Put happen at most once: a resent Put whose first attempt took
//! effect finds the version moved on and gets `ErrVersion` (the clerk then says `ErrMaybe`).
//!
//! # Part 4C: snapshots
//!
//! `snapshot()` encodes the whole store (keys, values and versions; `labrpc_sim::codec`
//! encodes a `BTreeMap`), and `restore()` replaces the store with a snapshot's.

use std::sync::Arc;

use kv_api::{GetArgs, GetReply, KV_SERVICE, KvError, PutArgs, PutReply, ServerArgs, StateMachine};
use lab_api::LabRaft;
use labrpc_sim::Service;
use serde::{Deserialize, Serialize};

use crate::Rsm;

/// A request to the store, as it travels through the log.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum KvReq {
    /// A Get.
    Get(GetArgs),
    /// A Put.
    Put(PutArgs),
}

/// The store's reply to a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvRep {
    /// To a Get.
    Get(GetReply),
    /// To a Put.
    Put(PutReply),
}

/// The key/value store, as a state machine.
// TODO(4B): the store's contents (a `BTreeMap` from key to value and version, say).
#[derive(Debug, Default)]
pub struct KvStore {}

impl StateMachine for KvStore {
    type Req = KvReq;
    type Rep = KvRep;

    fn do_op(&mut self, req: KvReq) -> KvRep {
        // TODO(4B): execute the request. As shipped, the store knows no key.
        match req {
            KvReq::Get(_) => KvRep::Get(GetReply {
                result: Err(KvError::NoKey),
            }),
            KvReq::Put(_) => KvRep::Put(PutReply {
                result: Err(KvError::NoKey),
            }),
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        // TODO(4C): the whole store as bytes.
        Vec::new()
    }

    fn restore(&mut self, snapshot: &[u8]) {
        // TODO(4C): replace the store with the snapshot's.
        let _ = snapshot;
    }
}

/// Your key/value server on Raft peer type `R`.
pub struct KvServer<R: LabRaft> {
    rsm: Arc<Rsm<R, KvStore>>,
}

impl<R: LabRaft> KvServer<R> {
    /// The `KVServer.Get` handler: submits the Get, answers with the store's reply.
    pub async fn get(&self, args: GetArgs) -> GetReply {
        match kv_api::Rsm::submit(&self.rsm, KvReq::Get(args)).await {
            Ok(KvRep::Get(reply)) => reply,
            Ok(KvRep::Put(_)) | Err(_) => GetReply {
                result: Err(KvError::WrongLeader),
            },
        }
    }

    /// The `KVServer.Put` handler.
    pub async fn put(&self, args: PutArgs) -> PutReply {
        match kv_api::Rsm::submit(&self.rsm, KvReq::Put(args)).await {
            Ok(KvRep::Put(reply)) => reply,
            Ok(KvRep::Get(_)) | Err(_) => PutReply {
                result: Err(KvError::WrongLeader),
            },
        }
    }
}

impl<R: LabRaft> kv_api::KvServer<R> for KvServer<R> {
    fn start(args: ServerArgs) -> Arc<Self> {
        let rsm = <Rsm<R, KvStore> as kv_api::Rsm<R, KvStore>>::make(args, KvStore::default());
        Arc::new(KvServer { rsm })
    }

    fn service(self: Arc<Self>) -> Service {
        let get = Arc::clone(&self);
        Service::new(KV_SERVICE)
            .typed_method("Get", move |args: GetArgs| {
                let server = Arc::clone(&get);
                async move { server.get(args).await }
            })
            .typed_method("Put", move |args: PutArgs| {
                let server = Arc::clone(&self);
                async move { server.put(args).await }
            })
    }

    fn raft(&self) -> Arc<R> {
        kv_api::Rsm::raft(&*self.rsm)
    }

    fn kill(&self) {
        kv_api::Rsm::kill(&*self.rsm);
    }
}
