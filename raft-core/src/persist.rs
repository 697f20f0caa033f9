//! Figure 2's persistent state ("updated on stable storage before responding to RPCs"):
//! current_term, voted_for and the log, plus section 7's snapshot index and term.
//!
//! This file is the one definition of the bytes a persister stores. They are a
//! [`StateHeader`] ([`StateHeader::encode`]: a format version `u32`, then current_term,
//! voted_for, snapshot_index, snapshot_term and the number of entries after the snapshot),
//! followed by each of those entries in index order ([`encode_entry`]), all in bincode's
//! standard configuration. The version comes first so that a later build can refuse (or
//! migrate) old bytes instead of misreading them. [`crate::Raft::encode_state`] writes the
//! whole state at once; an incremental encoder (the reference peer's) writes the header
//! afresh and keeps the encoding of entries it has already written, and the concatenation is
//! the same bytes (tested below).

use std::collections::VecDeque;

use bincode::config;
use bincode::enc::write::Writer;
use bincode::error::EncodeError;
use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use crate::error::StateDecodeError;
use crate::output::{Durability, Ready};
use crate::types::{Entry, LogIndex, PeerId, Term};

/// Figure 2: persistent state is "updated on stable storage before responding to RPCs". The
/// same holds for anything else that leaves: an AppendEntries carrying new entries, a commit
/// counted on them, an apply. A proposal that nobody has seen yet is different: if the leader
/// crashes before saving it, the entry is lost exactly as if the crash had come just before
/// `start`, since no other peer has it and nobody was told it is committed. So a save may wait
/// ([`Durability::MayWait`]) when every input since the last [`Ready`] was a proposal (`step_request`
/// has a reply to send, so it never waits), the only change is appended entries, and
/// nothing leaves. The next input that sends, applies or replies then saves first. Under
/// load a burst of proposals made while every follower has an AppendEntries in flight is
/// saved once instead of once per proposal.
pub(crate) fn durability(ready: &Ready, proposals_only: bool) -> Durability {
    let delta = &ready.persist;
    let appends_only =
        delta.hard_state.is_none() && delta.snapshot.is_none() && delta.truncated_from.is_none();
    let nothing_leaves = ready.messages.is_empty() && ready.apply.is_empty();
    if proposals_only && appends_only && nothing_leaves {
        Durability::MayWait
    } else {
        Durability::Now
    }
}

/// The format this build writes.
pub const STATE_FORMAT_VERSION: u32 = 1;

/// Everything of the persistent state but the entries: what comes before them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateHeader {
    /// Figure 2: latest term seen.
    pub current_term: Term,
    /// Figure 2: vote given in `current_term`.
    pub voted_for: Option<PeerId>,
    /// Section 7: last index the snapshot covers.
    pub snapshot_index: LogIndex,
    /// Section 7: term of that index.
    pub snapshot_term: Term,
    /// How many entries follow: the log after the snapshot.
    pub entries: u64,
}

impl StateHeader {
    /// Writes the format version and the header: the first bytes of a persisted state.
    pub fn encode(&self, out: &mut impl BufMut) {
        encode_into(&(STATE_FORMAT_VERSION, self), out);
    }
}

/// Writes one log entry as it follows the [`StateHeader`] (entries go in index order).
pub fn encode_entry(entry: &Entry, out: &mut impl BufMut) {
    encode_into(entry, out);
}

/// bincode's writer over a growable buffer.
struct Put<'a, B>(&'a mut B);

impl<B: BufMut> Writer for Put<'_, B> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        self.0.put_slice(bytes);
        Ok(())
    }
}

fn encode_into(value: &impl Serialize, out: &mut impl BufMut) {
    // The writer never fails and every persisted type serializes (plain structs, options,
    // integers and byte strings): an error here is a bug.
    if let Err(e) = bincode::serde::encode_into_writer(value, Put(out), cfg()) {
        panic!("encoding raft state into memory failed: {e}");
    }
}

/// Encodes a whole state: header, then the entries.
pub(crate) fn encode<'a>(
    header: &StateHeader,
    entries: impl ExactSizeIterator<Item = &'a Entry>,
) -> Bytes {
    debug_assert_eq!(header.entries, entries.len() as u64);
    let mut out = BytesMut::with_capacity(16 + entries.len() * 16);
    header.encode(&mut out);
    for entry in entries {
        encode_entry(entry, &mut out);
    }
    out.freeze()
}

fn cfg() -> config::Configuration {
    config::standard()
}

/// The persistent fields, decoded.
#[derive(Debug)]
pub(crate) struct PersistedState {
    pub(crate) header: StateHeader,
    pub(crate) entries: VecDeque<Entry>,
}

/// Decodes what [`encode`] wrote and checks the Figure 2 shape (terms never decrease along
/// the log, never exceed current_term).
pub(crate) fn decode(bytes: &[u8]) -> Result<PersistedState, StateDecodeError> {
    let (found, mut at): (u32, usize) = bincode::serde::decode_from_slice(bytes, cfg())?;
    if found != STATE_FORMAT_VERSION {
        return Err(StateDecodeError::Version {
            found,
            expected: STATE_FORMAT_VERSION,
        });
    }
    let (header, n): (StateHeader, usize) = bincode::serde::decode_from_slice(&bytes[at..], cfg())?;
    at += n;
    // A corrupt count must not reserve memory: every entry takes at least two bytes.
    let mut entries = VecDeque::with_capacity((header.entries as usize).min(bytes.len() / 2));
    for _ in 0..header.entries {
        let (entry, n): (Entry, usize) = bincode::serde::decode_from_slice(&bytes[at..], cfg())?;
        at += n;
        entries.push_back(entry);
    }
    if at != bytes.len() {
        return Err(StateDecodeError::TrailingBytes {
            extra: bytes.len() - at,
            total: bytes.len(),
        });
    }
    let state = PersistedState { header, entries };
    validate(&state)?;
    Ok(state)
}

fn validate(s: &PersistedState) -> Result<(), StateDecodeError> {
    let h = &s.header;
    let bad = |what, index: LogIndex| {
        Err(StateDecodeError::Inconsistent {
            what,
            index: index.0,
        })
    };
    if h.snapshot_term > h.current_term {
        return bad("snapshot term above current term", h.snapshot_index);
    }
    let mut prev = h.snapshot_term;
    for (i, e) in s.entries.iter().enumerate() {
        let index = h.snapshot_index.plus(i + 1);
        if e.term < prev {
            return bad("entry term below the previous entry's", index);
        }
        if e.term > h.current_term {
            return bad("entry term above current term", index);
        }
        prev = e.term;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Raft};

    /// The bytes of the previous definition (one serde struct with the log as a sequence):
    /// the format did not change, so states saved before still restore.
    fn as_one_struct(h: &StateHeader, entries: &VecDeque<Entry>) -> Vec<u8> {
        #[derive(Serialize)]
        struct Whole<'a>(
            u32,
            Term,
            Option<PeerId>,
            LogIndex,
            Term,
            &'a VecDeque<Entry>,
        );
        let whole = Whole(
            STATE_FORMAT_VERSION,
            h.current_term,
            h.voted_for,
            h.snapshot_index,
            h.snapshot_term,
            entries,
        );
        bincode::serde::encode_to_vec(whole, cfg()).expect("encodes")
    }

    #[test]
    fn header_and_entries_written_apart_are_the_state_byte_for_byte() {
        let mut raft = Raft::new(Config::lab(PeerId(0), 1), 7);
        while !raft.is_leader() {
            raft.tick();
        }
        for i in 0..40u8 {
            assert!(raft.propose(Bytes::from(vec![i; i as usize * 9])).is_ok());
            if i % 13 == 12 {
                raft.snapshot(raft.last_applied().prev(), Bytes::from_static(b"s"));
            }
        }
        let header = raft.state_header();
        assert_eq!(header.snapshot_index, LogIndex(38));
        assert_eq!(header.entries, 2);
        let mut pieces = Vec::new();
        header.encode(&mut pieces);
        for i in header.snapshot_index.0 + 1..=raft.last_log_index().0 {
            let entry = raft.entry(LogIndex(i)).expect("in the log");
            encode_entry(entry, &mut pieces);
        }
        assert_eq!(pieces, raft.encode_state());
        assert_eq!(pieces, as_one_struct(&header, raft.log.entries()));
        let back = decode(&pieces).expect("decodes");
        assert_eq!(back.header, header);
        assert_eq!(&back.entries, raft.log.entries());
    }

    /// Peer 0 of three, leading term 1 with peer 1's vote; its heartbeats are in flight.
    fn leader_of_three() -> Raft {
        use crate::{Request, RequestVoteReply, Response};
        let mut raft = Raft::new(Config::lab(PeerId(0), 3), 3);
        while raft.current_term() == Term(0) {
            raft.tick();
        }
        let ready = raft.ready();
        assert_eq!(
            ready.durability,
            Durability::Now,
            "a vote for itself is saved at once"
        );
        let ask = ready
            .messages
            .iter()
            .find(|m| m.to == PeerId(1))
            .expect("asks peer 1");
        assert!(matches!(ask.request, Request::Vote(_)));
        let grant = RequestVoteReply {
            term: Term(1),
            vote_granted: true,
        };
        raft.step_response(PeerId(1), &ask.request, Response::Vote(grant));
        assert!(raft.is_leader());
        assert!(!raft.ready().messages.is_empty(), "heartbeats leave");
        raft
    }

    #[test]
    fn a_proposal_nobody_has_seen_may_wait_and_the_next_input_saves() {
        let mut raft = leader_of_three();
        // The first proposal leaves at once for both idle followers: saved first.
        assert!(raft.propose(Bytes::from_static(b"first")).is_ok());
        let ready = raft.ready();
        assert_eq!(ready.messages.len(), 2);
        assert_eq!(ready.durability, Durability::Now);
        // Both followers are busy now: the next proposals only append to the leader's log.
        for i in 2..5u8 {
            assert!(raft.propose(Bytes::from(vec![i])).is_ok());
            let ready = raft.ready();
            assert_eq!(ready.persist.appended_from, Some(LogIndex(i as u64)));
            assert!(ready.messages.is_empty() && ready.apply.is_empty());
            assert_eq!(ready.durability, Durability::MayWait);
        }
        // Nothing happened since: nothing to save, nothing owed by this Ready.
        assert_eq!(raft.ready().durability, Durability::MayWait);
        // Any other input is saved before what it produces leaves.
        raft.tick();
        assert_eq!(raft.ready().durability, Durability::Now);
    }

    #[test]
    fn a_follower_appending_from_a_leader_saves_before_its_reply() {
        use crate::{AppendEntriesArgs, Request};
        let mut raft = Raft::new(Config::lab(PeerId(1), 3), 3);
        let append = AppendEntriesArgs {
            term: Term(1),
            leader_id: PeerId(0),
            prev_log_index: LogIndex(0),
            prev_log_term: Term(0),
            entries: vec![Entry {
                term: Term(1),
                command: Bytes::from_static(b"x"),
            }],
            leader_commit: LogIndex(0),
        };
        raft.step_request(PeerId(0), Request::Append(append));
        let ready = raft.ready();
        // Only an append and nothing in the Ready, but the reply leaves.
        assert!(ready.messages.is_empty() && ready.apply.is_empty());
        assert_eq!(ready.durability, Durability::Now);
    }

    #[test]
    fn a_count_beyond_the_bytes_is_a_decode_error() {
        let header = StateHeader {
            current_term: Term(2),
            voted_for: None,
            snapshot_index: LogIndex(0),
            snapshot_term: Term(0),
            entries: u64::MAX,
        };
        let mut bytes = Vec::new();
        header.encode(&mut bytes);
        assert!(matches!(decode(&bytes), Err(StateDecodeError::Decode(_))));
    }
}
