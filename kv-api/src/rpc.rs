//! The RPC messages of the key/value service (Go's `kvsrv1/rpc`). The grader never sends
//! them itself: your clerk sends them and your server answers them, so you may use other
//! shapes; these are the course's, ready to use.

use serde::{Deserialize, Serialize};

use crate::{KvError, Version};

/// `KVServer.Put`'s arguments: install `value` if the key's version is `version` (0 creates
/// the key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutArgs {
    /// The key.
    pub key: String,
    /// The value to install.
    pub value: String,
    /// The version the client believes the key has.
    pub version: Version,
}

/// `KVServer.Put`'s reply: `Ok(())` when the Put took effect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutReply {
    /// Go's `Err`: `Ok(())` is `OK`.
    pub result: Result<(), KvError>,
}

/// `KVServer.Get`'s arguments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetArgs {
    /// The key.
    pub key: String,
}

/// `KVServer.Get`'s reply: the value and its version, or an error (`ErrNoKey`,
/// `ErrWrongLeader`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetReply {
    /// Go's `Value`, `Version` and `Err` in one.
    pub result: Result<(String, Version), KvError>,
}
