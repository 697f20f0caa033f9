//! The reference key/value server: the store as a state machine ([`KvStore`]) behind the
//! reference rsm, and the `KVServer` RPC service. Every request, Gets too, goes through the
//! log, so a server cut off from the majority answers nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use kv_api::{
    GetArgs, GetReply, KV_SERVICE, KvError, PutArgs, PutReply, ServerArgs, StateMachine, Version,
};
use lab_api::LabRaft;
use labrpc_sim::{Service, codec};
use serde::{Deserialize, Serialize};

use crate::{Rsm, mistake};

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

/// The versioned key/value store (spec 1.2), as a state machine (`M` is a [`mistake`],
/// `NONE` for the reference).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvStore<const M: u8 = { mistake::NONE }> {
    data: BTreeMap<String, (String, Version)>,
}

impl<const M: u8> KvStore<M> {
    /// Get: the value and version, or `ErrNoKey`.
    pub fn get(&self, key: &str) -> Result<(String, Version), KvError> {
        self.data.get(key).cloned().ok_or(KvError::NoKey)
    }

    /// Put: installs the value and increments the version if `version` is the key's (0
    /// creates the key); else `ErrVersion`, or `ErrNoKey` for a missing key.
    pub fn put(&mut self, args: PutArgs) -> Result<(), KvError> {
        if M == mistake::PUT_IGNORES_VERSION {
            let entry = self.data.entry(args.key).or_insert((String::new(), 0));
            *entry = (args.value, entry.1 + 1);
            return Ok(());
        }
        match self.data.get_mut(&args.key) {
            Some((value, version)) if *version == args.version => {
                *value = args.value;
                *version += 1;
                Ok(())
            }
            Some(_) => Err(KvError::Version),
            None if args.version == 0 => {
                self.data.insert(args.key, (args.value, 1));
                Ok(())
            }
            None => Err(KvError::NoKey),
        }
    }
}

impl<const M: u8> StateMachine for KvStore<M> {
    type Req = KvReq;
    type Rep = KvRep;

    fn do_op(&mut self, req: KvReq) -> KvRep {
        match req {
            KvReq::Get(args) => KvRep::Get(GetReply {
                result: self.get(&args.key),
            }),
            KvReq::Put(args) => KvRep::Put(PutReply {
                result: self.put(args),
            }),
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        let encoded = if M == mistake::SNAPSHOT_WITHOUT_VERSIONS {
            let values: BTreeMap<&String, &String> =
                self.data.iter().map(|(k, (v, _))| (k, v)).collect();
            codec::encode(&values)
        } else {
            codec::encode(&self.data)
        };
        match encoded {
            Ok(bytes) => bytes.to_vec(),
            Err(e) => panic!("the key/value store cannot encode its snapshot: {e}"),
        }
    }

    fn restore(&mut self, snapshot: &[u8]) {
        if M == mistake::SNAPSHOT_WITHOUT_VERSIONS {
            match codec::decode::<BTreeMap<String, String>>(snapshot) {
                Ok(values) => {
                    self.data = values.into_iter().map(|(k, v)| (k, (v, 1))).collect();
                }
                Err(e) => panic!("a key/value snapshot does not decode: {e}"),
            }
            return;
        }
        match codec::decode(snapshot) {
            Ok(data) => self.data = data,
            Err(e) => panic!("a key/value snapshot does not decode: {e}"),
        }
    }
}

/// The reference key/value server on Raft peer type `R` (`M` is a [`mistake`], `NONE` for
/// the reference).
pub struct KvServer<R: LabRaft, const M: u8 = { mistake::NONE }> {
    rsm: Arc<Rsm<R, KvStore<M>, M>>,
}

impl<R: LabRaft, const M: u8> KvServer<R, M> {
    /// The Get handler: submits the Get and answers with what the store said.
    pub async fn get(&self, args: GetArgs) -> GetReply {
        if M == mistake::GET_OFF_THE_LOG && kv_api::Rsm::raft(&*self.rsm).get_state().1 {
            let result = self.rsm.machine(|store| store.get(&args.key));
            return GetReply { result };
        }
        match kv_api::Rsm::submit(&self.rsm, KvReq::Get(args)).await {
            Ok(KvRep::Get(reply)) => reply,
            Ok(KvRep::Put(_)) => unreachable!("the store answers a Get with a Get reply"),
            Err(e) => GetReply { result: Err(e) },
        }
    }

    /// The Put handler.
    pub async fn put(&self, args: PutArgs) -> PutReply {
        if M == mistake::REPLY_BEFORE_APPLY && kv_api::Rsm::raft(&*self.rsm).get_state().1 {
            let rsm = Arc::clone(&self.rsm);
            tokio::spawn(async move { kv_api::Rsm::submit(&rsm, KvReq::Put(args)).await });
            return PutReply { result: Ok(()) };
        }
        match kv_api::Rsm::submit(&self.rsm, KvReq::Put(args)).await {
            Ok(KvRep::Put(reply)) => reply,
            Ok(KvRep::Get(_)) => unreachable!("the store answers a Put with a Put reply"),
            Err(e) => PutReply { result: Err(e) },
        }
    }
}

impl<R: LabRaft, const M: u8> kv_api::KvServer<R> for KvServer<R, M> {
    fn start(args: ServerArgs) -> Arc<Self> {
        let rsm =
            <Rsm<R, KvStore<M>, M> as kv_api::Rsm<R, KvStore<M>>>::make(args, KvStore::default());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn put(key: &str, value: &str, version: Version) -> PutArgs {
        PutArgs {
            key: key.into(),
            value: value.into(),
            version,
        }
    }

    #[test]
    fn versioned_semantics() {
        let mut s = KvStore::<{ mistake::NONE }>::default();
        assert_eq!(s.get("k"), Err(KvError::NoKey));
        assert_eq!(s.put(put("k", "a", 1)), Err(KvError::NoKey));
        assert_eq!(s.put(put("k", "a", 0)), Ok(()));
        assert_eq!(s.get("k"), Ok(("a".into(), 1)));
        assert_eq!(s.put(put("k", "b", 0)), Err(KvError::Version));
        assert_eq!(s.put(put("k", "b", 1)), Ok(()));
        assert_eq!(s.get("k"), Ok(("b".into(), 2)));
        let mut r = KvStore::<{ mistake::NONE }>::default();
        r.restore(&s.snapshot());
        assert_eq!(r, s);
    }
}
