//! Borrowed views of the requests that carry bytes (AppendEntries, InstallSnapshot), for a
//! zero-copy receive path.
//!
//! Decoding [`AppendEntriesArgs`] directly allocates and copies every command into its own
//! buffer. A transport that holds the received message as [`Bytes`] can instead decode one of
//! these views, whose byte fields borrow from the message, and then [`into_owned`] them: each
//! command becomes a [`Bytes`] sharing the message's buffer (a reference-count bump), so a
//! follower stores a batch of entries with no allocation per entry.
//!
//! The views have the same fields in the same order as the owned types, so any serde format
//! reads the owned type's encoding as the view (a test checks this with bincode).
//!
//! [`into_owned`]: AppendEntriesArgsRef::into_owned

use bytes::Bytes;
use serde::Deserialize;

use crate::message::{AppendEntriesArgs, InstallSnapshotArgs};
use crate::types::{Entry, LogIndex, PeerId, Term};

/// A log entry whose command borrows from a received message.
#[derive(Debug, Deserialize)]
pub struct EntryRef<'a> {
    /// Term in which the leader received the command.
    pub term: Term,
    /// The command bytes, inside the message.
    #[serde(borrow)]
    pub command: &'a [u8],
}

/// [`AppendEntriesArgs`] with its commands borrowed from the received message.
#[derive(Debug, Deserialize)]
pub struct AppendEntriesArgsRef<'a> {
    /// Leader's term.
    pub term: Term,
    /// The leader.
    pub leader_id: PeerId,
    /// Index of the entry just before the new ones.
    pub prev_log_index: LogIndex,
    /// Term of that entry.
    pub prev_log_term: Term,
    /// Entries to store, borrowing their commands.
    #[serde(borrow)]
    pub entries: Vec<EntryRef<'a>>,
    /// Leader's commit index.
    pub leader_commit: LogIndex,
}

impl AppendEntriesArgsRef<'_> {
    /// The owned arguments, whose commands share `message`'s buffer when they lie inside it
    /// (they do when `self` was decoded from `message`), and are copied otherwise.
    pub fn into_owned(self, message: &Bytes) -> AppendEntriesArgs {
        AppendEntriesArgs {
            term: self.term,
            leader_id: self.leader_id,
            prev_log_index: self.prev_log_index,
            prev_log_term: self.prev_log_term,
            entries: self
                .entries
                .into_iter()
                .map(|e| Entry {
                    term: e.term,
                    command: share(message, e.command),
                })
                .collect(),
            leader_commit: self.leader_commit,
        }
    }
}

/// [`InstallSnapshotArgs`] with its snapshot borrowed from the received message.
#[derive(Debug, Deserialize)]
pub struct InstallSnapshotArgsRef<'a> {
    /// Leader's term.
    pub term: Term,
    /// The leader.
    pub leader_id: PeerId,
    /// The snapshot replaces all entries through this index.
    pub last_included_index: LogIndex,
    /// Term of that entry.
    pub last_included_term: Term,
    /// The service's snapshot bytes, inside the message.
    #[serde(borrow)]
    pub data: &'a [u8],
}

impl InstallSnapshotArgsRef<'_> {
    /// The owned arguments, sharing `message`'s buffer as [`AppendEntriesArgsRef::into_owned`]
    /// does.
    pub fn into_owned(self, message: &Bytes) -> InstallSnapshotArgs {
        InstallSnapshotArgs {
            term: self.term,
            leader_id: self.leader_id,
            last_included_index: self.last_included_index,
            last_included_term: self.last_included_term,
            data: share(message, self.data),
        }
    }
}

/// `part` as a `Bytes` sharing `whole`'s buffer if it lies inside it, else as a copy (never a
/// panic, whatever the caller passes).
fn share(whole: &Bytes, part: &[u8]) -> Bytes {
    if part.is_empty() {
        return Bytes::new();
    }
    let outer = whole.as_ptr_range();
    let inner = part.as_ptr_range();
    if outer.start <= inner.start && inner.end <= outer.end {
        whole.slice_ref(part)
    } else {
        Bytes::copy_from_slice(part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> bincode::config::Configuration {
        bincode::config::standard()
    }

    fn encode<T: serde::Serialize>(value: &T) -> Bytes {
        Bytes::from(bincode::serde::encode_to_vec(value, cfg()).expect("encode"))
    }

    fn inside(whole: &Bytes, part: &Bytes) -> bool {
        let outer = whole.as_ptr_range();
        outer.start <= part.as_ptr() && part.as_ptr() < outer.end
    }

    #[test]
    fn append_entries_view_reads_the_owned_encoding_without_copying_commands() {
        let args = AppendEntriesArgs {
            term: Term(9),
            leader_id: PeerId(2),
            prev_log_index: LogIndex(300),
            prev_log_term: Term(8),
            entries: vec![
                Entry {
                    term: Term(8),
                    command: Bytes::from_static(b"first command"),
                },
                Entry {
                    term: Term(9),
                    command: Bytes::new(),
                },
                Entry {
                    term: Term(9),
                    command: Bytes::from(vec![7u8; 5000]),
                },
            ],
            leader_commit: LogIndex(299),
        };
        let message = encode(&args);
        let (view, used): (AppendEntriesArgsRef<'_>, usize) =
            bincode::serde::borrow_decode_from_slice(&message, cfg()).expect("decode view");
        assert_eq!(used, message.len());
        let owned = view.into_owned(&message);
        assert_eq!(owned, args);
        assert!(inside(&message, &owned.entries[0].command));
        assert!(inside(&message, &owned.entries[2].command));
    }

    #[test]
    fn install_snapshot_view_reads_the_owned_encoding_without_copying_data() {
        let args = InstallSnapshotArgs {
            term: Term(3),
            leader_id: PeerId(0),
            last_included_index: LogIndex(40),
            last_included_term: Term(2),
            data: Bytes::from(vec![1u8, 2, 3, 4]),
        };
        let message = encode(&args);
        let (view, _): (InstallSnapshotArgsRef<'_>, usize) =
            bincode::serde::borrow_decode_from_slice(&message, cfg()).expect("decode view");
        let owned = view.into_owned(&message);
        assert_eq!(owned, args);
        assert!(inside(&message, &owned.data));
    }

    #[test]
    fn a_slice_from_elsewhere_is_copied_not_a_panic() {
        let message = Bytes::from_static(b"the message");
        let elsewhere = vec![5u8; 8];
        let shared = share(&message, &elsewhere);
        assert_eq!(&shared[..], &elsewhere[..]);
        assert!(!inside(&message, &shared));
        assert_eq!(share(&message, &message[4..7]), Bytes::from_static(b"mes"));
    }
}
