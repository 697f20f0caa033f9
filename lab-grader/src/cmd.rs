//! The commands the tests submit (Go's `interface{}` values: ints and, in one test, strings),
//! their wire form, and Go-style printing for failure messages.

use std::fmt;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// A command submitted by a test. Go's tests use `int`s, plus 5000-character strings in
/// TestRPCBytes2B; equality is by value, as Go's interface comparison is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cmd {
    /// A Go `int`.
    Int(i64),
    /// A Go `string`.
    Str(String),
}

/// Command or snapshot bytes that do not decode.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot decode {what} ({len} bytes): {reason}")]
pub struct DecodeError {
    /// What was being decoded.
    pub what: &'static str,
    /// Length of the input.
    pub len: usize,
    /// bincode's description.
    pub reason: String,
}

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// bincode-encodes a harness value. The harness only encodes its own plain data (integers,
/// strings, vectors), for which bincode cannot fail.
pub(crate) fn encode<T: Serialize>(value: &T) -> Bytes {
    let v = bincode::serde::encode_to_vec(value, config())
        .expect("bincode encodes plain harness data infallibly");
    Bytes::from(v)
}

/// Decodes a value that must use all of `bytes`.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, DecodeError> {
    let err = |reason: String| DecodeError {
        what,
        len: bytes.len(),
        reason,
    };
    // What peers apply comes from untrusted code in process mode: a claimed length past the
    // limit is an error, never an allocation of that size.
    let limited = config().with_limit::<{ labrpc_sim::codec::DECODE_LIMIT }>();
    let (v, used) = bincode::serde::decode_from_slice::<T, _>(bytes, limited)
        .map_err(|e| err(e.to_string()))?;
    if used != bytes.len() {
        return Err(err(format!("{} trailing bytes", bytes.len() - used)));
    }
    Ok(v)
}

impl Cmd {
    /// The bytes handed to [`lab_api::LabRaft::start`] (bincode).
    pub fn to_bytes(&self) -> Bytes {
        encode(self)
    }

    /// Decodes what a peer applied.
    pub fn from_bytes(bytes: &[u8]) -> Result<Cmd, DecodeError> {
        decode("command", bytes)
    }

    /// The integer, if this is one (Go's `cmd.(int)`).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Cmd::Int(v) => Some(*v),
            Cmd::Str(_) => None,
        }
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cmd::Int(v) => write!(f, "{v}"),
            Cmd::Str(s) => f.write_str(s),
        }
    }
}

/// Prints an optional command as Go's `%v` does (`<nil>` for nothing).
pub fn go_value(v: &Option<Cmd>) -> String {
    match v {
        Some(c) => c.to_string(),
        None => "<nil>".to_string(),
    }
}

/// Prints a list of ints as Go's `%v` does: `[1 2 3]`.
pub fn go_list(v: &[i64]) -> String {
    let items: Vec<String> = v.iter().map(i64::to_string).collect();
    format!("[{}]", items.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip_and_compare_by_value() {
        for c in [
            Cmd::Int(0),
            Cmd::Int(-1),
            Cmd::Int(i64::MAX),
            Cmd::Str("héllo".into()),
        ] {
            assert_eq!(Cmd::from_bytes(&c.to_bytes()).unwrap(), c);
        }
        assert_ne!(Cmd::Int(1), Cmd::Str("1".into()));
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut b = Cmd::Int(5).to_bytes().to_vec();
        b.push(0);
        assert!(Cmd::from_bytes(&b).is_err());
        assert!(Cmd::from_bytes(&[]).is_err());
    }

    #[test]
    fn a_5000_char_command_costs_few_extra_bytes() {
        let s = "x".repeat(5000);
        assert!(Cmd::Str(s).to_bytes().len() <= 5004);
    }

    #[test]
    fn go_formatting() {
        assert_eq!(go_value(&None), "<nil>");
        assert_eq!(go_value(&Some(Cmd::Int(7))), "7");
        assert_eq!(go_list(&[1, 2, 3]), "[1 2 3]");
        assert_eq!(go_list(&[]), "[]");
    }
}
