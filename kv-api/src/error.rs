//! The errors of the key/value service (Go's `rpc.Err`) and the version type.

use serde::{Deserialize, Serialize};

/// A key's version (Go's `rpc.Tversion`): 0 for a key that does not exist, 1 after its first
/// Put, and one more after every Put that took effect.
pub type Version = u64;

/// What can go wrong with a Get or a Put (Go's `rpc.Err` without `OK`: success is `Ok`). Each
/// prints as Go's constant does (`ErrNoKey` ...), so messages match the course's.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    thiserror::Error,
)]
pub enum KvError {
    /// Get of a key that does not exist; Put with a version above 0 on a key that does not
    /// exist.
    #[error("ErrNoKey")]
    NoKey,
    /// Put with a version that is not the key's current version: nothing changed.
    #[error("ErrVersion")]
    Version,
    /// Clerk only: a Put whose first RPC got no answer was resent and the resend got
    /// `ErrVersion`. The first one may or may not have taken effect.
    #[error("ErrMaybe")]
    Maybe,
    /// Server and rsm only: this server is not the leader (or lost leadership while the
    /// request waited); the clerk tries another server.
    #[error("ErrWrongLeader")]
    WrongLeader,
    /// Not used in Lab 4 (sharded key/value, Lab 5).
    #[error("ErrWrongGroup")]
    WrongGroup,
}

impl KvError {
    /// Go's name of a result: `OK` for success, else the error's name.
    pub fn go_name<T>(result: &Result<T, KvError>) -> String {
        match result {
            Ok(_) => "OK".to_string(),
            Err(e) => e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_print_as_go_constants() {
        assert_eq!(KvError::NoKey.to_string(), "ErrNoKey");
        assert_eq!(KvError::Maybe.to_string(), "ErrMaybe");
        assert_eq!(KvError::go_name(&Ok::<(), KvError>(())), "OK");
        assert_eq!(
            KvError::go_name::<()>(&Err(KvError::WrongLeader)),
            "ErrWrongLeader"
        );
    }
}
