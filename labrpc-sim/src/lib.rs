//! A simulated RPC network with the semantics of MIT 6.824's labrpc (spec section 1),
//! deterministic under a seed.
//!
//! SKELETON: the public surface below is fixed; bodies are being written.
//!
//! Modules:
//! - `network`: [`Network`], the switchboard (ends, servers, flags, statistics).
//! - `end`: [`ClientEnd`], the caller's handle, and the request path (`processReq`).
//! - `server`: [`Server`] and [`Service`], named handlers over bytes.
//! - `codec`: bincode helpers so typed callers do not repeat the encoding.
//! - `error`: [`RpcError`], [`NetError`].

use std::future::Future;
use std::pin::Pin;

pub use bytes::Bytes;

/// The error a handler returns when it cannot serve a request (for example, undecodable args).
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// A boxed handler future.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Bytes, HandlerError>> + Send>>;

/// Why a call did not return a reply.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The lab's `Call` returned false: the request or reply was lost, the server is dead or
    /// deleted, the end is disabled or unconnected, or the network was cleaned up. Like labrpc,
    /// the caller cannot tell which.
    #[error("no reply")]
    NoReply,
    /// The server has no such service or method; names the valid ones.
    #[error("unknown method {method:?}; valid methods: {valid:?}")]
    UnknownMethod {
        /// The "Service.Method" that was asked for.
        method: String,
        /// Every "Service.Method" the server offers.
        valid: Vec<String>,
    },
    /// The handler ran and failed (for example it could not decode the args).
    #[error("handler for {method} failed: {source}")]
    Handler {
        /// The "Service.Method" that failed.
        method: String,
        /// What the handler reported.
        source: HandlerError,
    },
}

/// Misuse of the network's configuration API.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// `make_end` with a name already in use.
    #[error("end {0:?} already exists")]
    DuplicateEnd(String),
    /// The end name is not known.
    #[error("no end named {0:?}")]
    NoSuchEnd(String),
    /// `connect` on an end that is already connected (an end connects once in its lifetime).
    #[error("end {0:?} is already connected")]
    AlreadyConnected(String),
}

/// Errors of the bincode helpers in `codec`.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The bytes do not decode as the expected type.
    #[error("cannot decode {type_name}: {source}")]
    Decode {
        /// The Rust type that was expected.
        type_name: &'static str,
        /// bincode's description.
        source: bincode::error::DecodeError,
    },
    /// Encoding failed.
    #[error("cannot encode {type_name}: {source}")]
    Encode {
        /// The Rust type being encoded.
        type_name: &'static str,
        /// bincode's description.
        source: bincode::error::EncodeError,
    },
}

/// The simulated network. Cheap to clone: clones share one network.
#[derive(Clone)]
pub struct Network {}

impl Network {
    /// A new network whose every random choice comes from `seed`. Reliable, no long delays,
    /// no long reordering (labrpc's defaults).
    pub fn new(seed: u64) -> Self {
        let _ = seed;
        todo!()
    }
    /// Reliable (no drops, no short delays) or not.
    pub fn set_reliable(&self, reliable: bool) {
        let _ = reliable;
        todo!()
    }
    /// Whether the network is reliable.
    pub fn is_reliable(&self) -> bool {
        todo!()
    }
    /// Long delays (0-6999 ms) instead of 0-99 ms before a call to a dead end fails.
    pub fn set_long_delays(&self, on: bool) {
        let _ = on;
        todo!()
    }
    /// Long reordering: 2/3 of replies are delayed 200 + U[0, U[0,1999]] ms.
    pub fn set_long_reordering(&self, on: bool) {
        let _ = on;
        todo!()
    }
    /// A new client end, disabled and unconnected.
    pub fn make_end(&self, name: &str) -> Result<ClientEnd, NetError> {
        let _ = name;
        todo!()
    }
    /// Removes an end (labrpc's 2024 `DeleteEnd`); its calls fail from now on.
    pub fn delete_end(&self, name: &str) {
        let _ = name;
        todo!()
    }
    /// Registers (or replaces) the server called `name`.
    pub fn add_server(&self, name: &str, server: Server) {
        let _ = (name, server);
        todo!()
    }
    /// Removes the server called `name`; handlers still running can no longer reply.
    pub fn delete_server(&self, name: &str) {
        let _ = name;
        todo!()
    }
    /// Connects an end to a server name, once in the end's lifetime.
    pub fn connect(&self, end: &str, server: &str) -> Result<(), NetError> {
        let _ = (end, server);
        todo!()
    }
    /// Enables or disables an end.
    pub fn enable(&self, end: &str, enabled: bool) -> Result<(), NetError> {
        let _ = (end, enabled);
        todo!()
    }
    /// Requests dispatched to a handler of the server currently registered as `server`
    /// (labrpc's `GetCount`); `None` when no server has that name.
    pub fn server_count(&self, server: &str) -> Option<u64> {
        let _ = server;
        todo!()
    }
    /// Every call submitted so far (labrpc's `GetTotalCount`).
    pub fn total_count(&self) -> u64 {
        todo!()
    }
    /// Argument bytes of every call plus reply bytes of delivered replies (`GetTotalBytes`).
    pub fn total_bytes(&self) -> u64 {
        todo!()
    }
    /// Shuts the network: calls from now on fail at once.
    pub fn cleanup(&self) {
        todo!()
    }
}

/// A caller's handle on the network: one named end, connected to at most one server.
#[derive(Clone)]
pub struct ClientEnd {}

impl ClientEnd {
    /// The end's name.
    pub fn name(&self) -> &str {
        todo!()
    }
    /// Sends `args` to "Service.Method" on the connected server and waits for the reply.
    /// Many calls may be outstanding on one end at once.
    pub async fn call(&self, method: &str, args: Bytes) -> Result<Bytes, RpcError> {
        let _ = (method, args);
        todo!()
    }
    /// `call` with bincode-encoded args and reply.
    pub async fn call_typed<A, R>(&self, method: &str, args: &A) -> Result<R, RpcError>
    where
        A: serde::Serialize,
        R: serde::de::DeserializeOwned,
    {
        let _ = (method, args);
        todo!()
    }
}

/// A named set of methods (labrpc's Service; "Raft" for the Raft peer).
pub struct Service {}

impl Service {
    /// An empty service called `name`.
    pub fn new(name: &str) -> Self {
        let _ = name;
        todo!()
    }
    /// Adds a method over raw bytes.
    pub fn method<F, Fut>(self, name: &str, handler: F) -> Self
    where
        F: Fn(Bytes) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Bytes, HandlerError>> + Send + 'static,
    {
        let _ = (name, handler);
        todo!()
    }
    /// Adds a method whose args and reply are bincode-encoded; undecodable args are a
    /// `RpcError::Handler` for the caller, never a panic.
    pub fn typed_method<A, R, F, Fut>(self, name: &str, handler: F) -> Self
    where
        A: serde::de::DeserializeOwned + Send + 'static,
        R: serde::Serialize + Send + 'static,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
    {
        let _ = (name, handler);
        todo!()
    }
}

/// A server: services by name, and a count of requests dispatched to its handlers.
pub struct Server {}

impl Server {
    /// An empty server.
    pub fn new() -> Self {
        todo!()
    }
    /// Adds a service.
    pub fn add_service(&mut self, service: Service) {
        let _ = service;
        todo!()
    }
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

/// bincode helpers (standard configuration), shared by every typed caller.
pub mod codec {
    use super::{Bytes, CodecError};
    /// Encodes a value with bincode's standard configuration.
    pub fn encode<T: serde::Serialize>(value: &T) -> Result<Bytes, CodecError> {
        let _ = value;
        todo!()
    }
    /// Decodes a value; trailing bytes are an error.
    pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
        let _ = bytes;
        todo!()
    }
}
