//! What travels between peers: the service's name and methods, the three messages and their
//! replies, the byte encoding, and the one-line renderings the grader's record shows.
//!
//! The names and shapes are this crate's own on purpose. The service is `Consensus`, not
//! the lab's `Raft`; its methods are `Vote`, `Replicate` and `Snap`. A refused `Replicate`
//! says only "no": there are no hints for a faster backup. Integers travel at a fixed width
//! (bincode 2 with fixed-int encoding), not as the varints the reference peer uses.

use bincode::config::{Configuration, Fixint, LittleEndian};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The labrpc service this peer registers.
pub const SERVICE: &str = "Consensus";
/// A candidate asks for a vote ([`Ballot`] -> [`BallotReply`]).
pub const VOTE: &str = "Consensus.Vote";
/// A leader sends entries or a heartbeat ([`Batch`] -> [`BatchReply`]).
pub const REPLICATE: &str = "Consensus.Replicate";
/// A leader sends its snapshot ([`Transfer`] -> [`TransferReply`]).
pub const SNAP: &str = "Consensus.Snap";

/// One log entry: the leader's term when it took the command, and the command's bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The term in which a leader appended it.
    pub term: u64,
    /// The command, exactly as given to `start`.
    pub command: Bytes,
}

/// A vote request (RequestVote).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ballot {
    /// The candidate's term.
    pub term: u64,
    /// The candidate.
    pub candidate: u32,
    /// Index of the candidate's last entry.
    pub last_index: u64,
    /// Term of the candidate's last entry.
    pub last_term: u64,
}

/// The answer to a [`Ballot`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BallotReply {
    /// The voter's term.
    pub term: u64,
    /// Whether the voter gave its vote.
    pub granted: bool,
}

/// Entries after `prev_index`, or none (a heartbeat) (AppendEntries).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// The leader's term.
    pub term: u64,
    /// The leader.
    pub leader: u32,
    /// Index of the entry before `entries`.
    pub prev_index: u64,
    /// Term of that entry.
    pub prev_term: u64,
    /// The leader's commit index.
    pub commit: u64,
    /// The entries from `prev_index + 1` on.
    pub entries: Vec<Entry>,
}

/// The answer to a [`Batch`]: accepted or not, and the follower's commit index (no hint
/// about where the logs differ).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReply {
    /// The follower's term.
    pub term: u64,
    /// The follower held `prev_index` with `prev_term` and stored the entries.
    pub accepted: bool,
    /// The follower's commit index: everything through it matches the leader's log.
    pub commit: u64,
}

/// The leader's snapshot, whole (InstallSnapshot).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// The leader's term.
    pub term: u64,
    /// The leader.
    pub leader: u32,
    /// The last index the snapshot covers.
    pub last_index: u64,
    /// The term of that entry.
    pub last_term: u64,
    /// The service's snapshot bytes.
    pub data: Bytes,
}

/// The answer to a [`Transfer`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferReply {
    /// The follower's term.
    pub term: u64,
}

/// Why a message could not be encoded, decoded or served.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// bincode refused to encode a value.
    #[error("cannot encode a {what}: {source}")]
    Encode {
        /// The Rust type.
        what: &'static str,
        /// bincode's error.
        source: bincode::error::EncodeError,
    },
    /// The bytes are not a value of the expected type.
    #[error("cannot decode a {what}: {source}")]
    Decode {
        /// The Rust type.
        what: &'static str,
        /// bincode's error.
        source: bincode::error::DecodeError,
    },
    /// The value ended before the bytes did.
    #[error("{trailing} bytes after a {what}")]
    Trailing {
        /// The Rust type.
        what: &'static str,
        /// How many bytes were left over.
        trailing: usize,
    },
    /// The peer was killed; it serves nothing any more.
    #[error("the peer is killed")]
    Killed,
}

/// bincode 2, little-endian, integers at their full width.
const WIRE: Configuration<LittleEndian, Fixint> = bincode::config::standard()
    .with_fixed_int_encoding()
    .with_little_endian();

/// Encodes a message for the wire.
pub fn encode<T: Serialize>(value: &T) -> Result<Bytes, WireError> {
    bincode::serde::encode_to_vec(value, WIRE)
        .map(Bytes::from)
        .map_err(|source| WireError::Encode {
            what: std::any::type_name::<T>(),
            source,
        })
}

/// Decodes a message from the wire; bytes left over are an error.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    let what = std::any::type_name::<T>();
    let (value, used) = bincode::serde::decode_from_slice(bytes, WIRE)
        .map_err(|source| WireError::Decode { what, source })?;
    match bytes.len() - used {
        0 => Ok(value),
        trailing => Err(WireError::Trailing { what, trailing }),
    }
}

/// One line per message for the grader's record (the lab API's `describe`).
pub fn describe(method: &str, bytes: &[u8], reply: bool) -> Option<String> {
    Some(match (method, reply) {
        (VOTE, false) => {
            let b: Ballot = decode(bytes).ok()?;
            let (t, c, i, lt) = (b.term, b.candidate, b.last_index, b.last_term);
            format!("Vote t{t} from {c} last={i}@t{lt}")
        }
        (VOTE, true) => {
            let r: BallotReply = decode(bytes).ok()?;
            format!(
                "Vote reply t{} {}",
                r.term,
                if r.granted { "yes" } else { "no" }
            )
        }
        (REPLICATE, false) => {
            let b: Batch = decode(bytes).ok()?;
            let (t, l, p, pt, c) = (b.term, b.leader, b.prev_index, b.prev_term, b.commit);
            format!(
                "Replicate t{t} from {l} after {p}@t{pt} +{} commit={c}",
                b.entries.len()
            )
        }
        (REPLICATE, true) => {
            let r: BatchReply = decode(bytes).ok()?;
            let verdict = if r.accepted { "ok" } else { "refused" };
            format!("Replicate reply t{} {verdict} commit={}", r.term, r.commit)
        }
        (SNAP, false) => {
            let s: Transfer = decode(bytes).ok()?;
            let (t, l, i, lt) = (s.term, s.leader, s.last_index, s.last_term);
            format!("Snap t{t} from {l} through {i}@t{lt} {}B", s.data.len())
        }
        (SNAP, true) => format!("Snap reply t{}", decode::<TransferReply>(bytes).ok()?.term),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_at_fixed_width() {
        let batch = Batch {
            term: 3,
            leader: 1,
            prev_index: 12,
            prev_term: 2,
            commit: 10,
            entries: vec![Entry {
                term: 3,
                command: Bytes::from_static(b"abc"),
            }],
        };
        let bytes = encode(&batch).expect("encodes");
        // 4 u64 + u32 + the vector's length (u64) + the entry (u64 + u64 length + 3 bytes).
        assert_eq!(bytes.len(), 4 * 8 + 4 + 8 + 8 + 8 + 3);
        assert_eq!(decode::<Batch>(&bytes).expect("decodes"), batch);
        assert!(matches!(
            decode::<Batch>(&bytes[..bytes.len() - 1]),
            Err(WireError::Decode { .. })
        ));
        let reply = encode(&TransferReply { term: 1 }).expect("encodes");
        assert!(matches!(
            decode::<BallotReply>(&[&reply[..], &[0, 0]].concat()),
            Err(WireError::Trailing { .. })
        ));
        assert_eq!(
            describe(REPLICATE, &bytes, false).as_deref(),
            Some("Replicate t3 from 1 after 12@t2 +1 commit=10")
        );
        assert_eq!(describe("Raft.AppendEntries", &bytes, false), None);
    }
}
