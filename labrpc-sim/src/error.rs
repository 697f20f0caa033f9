//! Errors of the network: what a caller sees when a call fails ([`RpcError`]), misuse of the
//! configuration API ([`NetError`]) and encoding trouble ([`CodecError`]).

use crate::server::HandlerError;

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
    /// `call_typed` could not encode the args, so nothing was sent (labrpc panics here).
    #[error("cannot encode the args of {method}: {source}")]
    Encode {
        /// The "Service.Method" being called.
        method: String,
        /// What the codec reported.
        source: CodecError,
    },
    /// `call_typed` got a reply that does not decode as the expected type (labrpc exits here).
    #[error("cannot decode the reply of {method}: {source}")]
    Decode {
        /// The "Service.Method" that replied.
        method: String,
        /// What the codec reported.
        source: CodecError,
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

/// Errors of the bincode helpers in [`crate::codec`].
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
    /// A value decoded but bytes were left over: the message is not what the sender meant.
    #[error("cannot decode {type_name}: {trailing} trailing bytes after {consumed} of {total}")]
    TrailingBytes {
        /// The Rust type that was expected.
        type_name: &'static str,
        /// Bytes the value used.
        consumed: usize,
        /// Bytes left over.
        trailing: usize,
        /// Bytes received.
        total: usize,
    },
}
