//! The bytes the lab persister stores, built incrementally.
//!
//! The lab persister keeps the whole Raft state in one byte string, so every save hands it the
//! full encoding ([`Raft::encode_state`]). Encoding every entry again on every save made each
//! save cost one serde call per log entry, which dominated the cluster benchmarks. This cache
//! keeps the encoding of each entry after the snapshot, follows the core's [`PersistDelta`]
//! (compaction, truncation, appends) and encodes only new entries; a save then costs one small
//! header plus one copy of the cached bytes. The result is byte-for-byte what
//! [`Raft::encode_state`] produces (tested below); if the cache ever disagrees with the core's
//! log shape it is rebuilt, and if encoding fails the core's own encoder is used.
//!
//! The output buffers are recycled: the state handed out two saves ago has normally been
//! dropped by the persister (which keeps only the latest), so its allocation is reused
//! instead of allocating and freeing a buffer of the whole state on every save.

use std::collections::VecDeque;

use std::io::Write;

use bytes::{BufMut, Bytes, BytesMut};
use raft_core::{LogIndex, PersistDelta, Raft, STATE_FORMAT_VERSION, Term};

/// Where one cached entry ends in the buffer (an offset from the buffer's first byte, dead
/// or not), and its term (a cheap check against the log).
#[derive(Clone, Copy)]
struct Cached {
    end: usize,
    term: Term,
}

/// Encodings of the log entries after `base`, in index order.
#[derive(Default)]
pub(crate) struct StateEncoder {
    /// The buffer holds entries `base + 1 ..= base + cached.len()` from `start` on.
    base: LogIndex,
    buf: Vec<u8>,
    /// Bytes before this offset belong to entries that compaction dropped. They are removed
    /// only once they are at least as many as the live bytes, so a compaction costs O(1)
    /// amortized instead of moving every entry still in the log (with many 4 KiB entries in
    /// flight, moving them on every snapshot was a fifth of all CPU).
    start: usize,
    cached: VecDeque<Cached>,
    /// The last two states handed out, newest last: candidates for reuse once nobody else
    /// holds them.
    handed_out: VecDeque<Bytes>,
}

impl StateEncoder {
    /// The full state of `raft`, after following `delta` (what changed since the last call).
    pub(crate) fn encode(&mut self, raft: &Raft, delta: &PersistDelta) -> Bytes {
        if let Some((index, _)) = delta.snapshot {
            self.compact(index);
        }
        if let Some(from) = delta.truncated_from {
            self.truncate(from);
        }
        if !self.matches(raft) {
            self.reset(raft.snapshot_index());
        }
        self.encode_inner(raft).unwrap_or_else(|error| {
            tracing::warn!(%error, "incremental state encoding failed; full encoding used");
            self.reset(raft.snapshot_index());
            raft.encode_state()
        })
    }

    fn encode_inner(&mut self, raft: &Raft) -> Result<Bytes, bincode::error::EncodeError> {
        let cfg = bincode::config::standard();
        let last = raft.last_log_index();
        let mut next = self.last().next();
        while next <= last {
            let Some(entry) = raft.entry(next) else { break };
            bincode::serde::encode_into_std_write(entry, &mut self.buf, cfg)?;
            self.cached.push_back(Cached {
                end: self.buf.len(),
                term: entry.term,
            });
            next = next.next();
        }
        let header = (
            STATE_FORMAT_VERSION,
            raft.current_term(),
            raft.voted_for(),
            raft.snapshot_index(),
            raft.snapshot_term(),
            self.cached.len() as u64,
        );
        let live = &self.buf[self.start..];
        let mut out = self.spare_buffer(48 + live.len()).writer();
        bincode::serde::encode_into_std_write(header, &mut out, cfg)?;
        // Writing to a BytesMut never fails.
        out.write_all(&self.buf[self.start..])
            .map_err(|inner| bincode::error::EncodeError::Io { inner, index: 0 })?;
        let state = out.into_inner().freeze();
        self.handed_out.push_back(state.clone());
        Ok(state)
    }

    /// An empty buffer of at least `capacity`: the oldest state handed out if nobody holds it
    /// any more (the persister has replaced it), else a new one.
    fn spare_buffer(&mut self, capacity: usize) -> BytesMut {
        let mut spare = None;
        if self.handed_out.len() >= 2 {
            if let Some(oldest) = self.handed_out.pop_front() {
                spare = oldest.try_into_mut().ok();
            }
        }
        let mut out = spare.unwrap_or_default();
        out.clear();
        out.reserve(capacity);
        out
    }

    /// Index of the last cached entry (`base` when none).
    fn last(&self) -> LogIndex {
        self.base.plus(self.cached.len())
    }

    /// Whether the cache covers a prefix of the log after the snapshot, with the same terms
    /// at its ends (entries after it are then simply new).
    fn matches(&self, raft: &Raft) -> bool {
        if self.base != raft.snapshot_index() || self.last() > raft.last_log_index() {
            return false;
        }
        let term_at = |i: usize, index: LogIndex| {
            self.cached
                .get(i)
                .is_none_or(|c| raft.term_at(index) == Some(c.term))
        };
        let n = self.cached.len();
        term_at(0, self.base.next()) && (n == 0 || term_at(n - 1, self.last()))
    }

    /// The snapshot now covers everything through `index`: drop those entries.
    fn compact(&mut self, index: LogIndex) {
        if index <= self.base {
            return;
        }
        let drop = ((index.0 - self.base.0) as usize).min(self.cached.len());
        if drop > 0 {
            self.start = self.cached[drop - 1].end;
            self.cached.drain(..drop);
        }
        if self.cached.is_empty() {
            self.buf.clear();
            self.start = 0;
        } else if self.start >= self.buf.len() - self.start {
            // Dead bytes now outnumber live ones: moving the live ones costs no more than
            // what was dropped since the last move.
            let cut = self.start;
            self.buf.drain(..cut);
            for c in &mut self.cached {
                c.end -= cut;
            }
            self.start = 0;
        }
        self.base = index;
    }

    /// Entries from `from` on were removed from the log.
    fn truncate(&mut self, from: LogIndex) {
        if from <= self.base {
            self.reset(self.base);
            return;
        }
        let keep = (from.0 - self.base.0 - 1) as usize;
        if keep < self.cached.len() {
            self.cached.truncate(keep);
            match self.cached.back() {
                Some(last) => self.buf.truncate(last.end),
                None => {
                    self.buf.clear();
                    self.start = 0;
                }
            }
        }
    }

    /// Forgets everything; the next encode starts after `base`.
    fn reset(&mut self, base: LogIndex) {
        self.base = base;
        self.buf.clear();
        self.start = 0;
        self.cached.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft_core::{
        AppendEntriesArgs, Config, Entry, InstallSnapshotArgs, PeerId, Request, RequestVoteArgs,
    };

    fn entries(term: u64, n: usize, tag: u8) -> Vec<Entry> {
        (0..n)
            .map(|i| Entry {
                term: Term(term),
                command: Bytes::from(vec![tag.wrapping_add(i as u8); 1 + i % 5]),
            })
            .collect()
    }

    fn append(term: u64, leader: usize, prev: (u64, u64), es: Vec<Entry>, commit: u64) -> Request {
        Request::Append(AppendEntriesArgs {
            term: Term(term),
            leader_id: PeerId(leader),
            prev_log_index: LogIndex(prev.0),
            prev_log_term: Term(prev.1),
            entries: es,
            leader_commit: LogIndex(commit),
        })
    }

    /// Feeds `raft` one input and checks the cache against the core's own encoder.
    struct Checked {
        raft: Raft,
        encoder: StateEncoder,
    }

    impl Checked {
        fn step(&mut self, from: usize, request: Request) {
            self.raft.step_request(PeerId(from), request);
            self.check();
        }
        fn check(&mut self) {
            let ready = self.raft.ready();
            let ours = self.encoder.encode(&self.raft, &ready.persist);
            assert_eq!(ours, self.raft.encode_state(), "{:?}", self.raft);
        }
    }

    #[test]
    fn recycles_only_states_nobody_holds() {
        let mut c = Checked {
            raft: Raft::new(Config::lab(PeerId(1), 3), 5),
            encoder: StateEncoder::default(),
        };
        c.step(0, append(1, 0, (0, 0), entries(1, 6, 10), 0));
        let encode = |c: &mut Checked| {
            let ready = c.raft.ready();
            c.encoder.encode(&c.raft, &ready.persist)
        };
        let first = encode(&mut c);
        let held = first.clone();
        let second = encode(&mut c);
        drop((first, second));
        // `first` is still held elsewhere (as a reader of the persister would): not reused.
        let third = encode(&mut c);
        assert_ne!(third.as_ptr(), held.as_ptr());
        assert_eq!(held, c.raft.encode_state());
        assert_eq!(third, c.raft.encode_state());
        // Nobody but the encoder holds the second one any more: its buffer comes back.
        let second_ptr = c.encoder.handed_out[0].as_ptr();
        let fourth = encode(&mut c);
        assert_eq!(fourth.as_ptr(), second_ptr);
        assert_eq!(fourth, c.raft.encode_state());
    }

    #[test]
    fn follows_appends_truncations_snapshots_and_votes_byte_for_byte() {
        let mut c = Checked {
            raft: Raft::new(Config::lab(PeerId(1), 3), 5),
            encoder: StateEncoder::default(),
        };
        c.check();
        c.step(0, append(1, 0, (0, 0), entries(1, 6, 10), 0));
        c.step(0, append(1, 0, (6, 1), entries(1, 2, 40), 4));
        // A new leader overwrites 5..8 (truncation then append in one step).
        c.step(2, append(2, 2, (4, 1), entries(2, 3, 70), 4));
        c.raft.snapshot(LogIndex(3), Bytes::from_static(b"s3"));
        c.check();
        c.step(2, append(2, 2, (7, 2), entries(2, 4, 90), 9));
        c.raft.snapshot(LogIndex(9), Bytes::from_static(b"s9"));
        c.check();
        // A vote in a later term changes only the header.
        let vote = RequestVoteArgs {
            term: Term(3),
            candidate_id: PeerId(0),
            last_log_index: LogIndex(20),
            last_log_term: Term(2),
        };
        c.step(0, Request::Vote(vote));
        // A snapshot past the end of the log discards everything.
        let install = InstallSnapshotArgs {
            term: Term(3),
            leader_id: PeerId(0),
            last_included_index: LogIndex(30),
            last_included_term: Term(3),
            data: Bytes::from_static(b"s30"),
        };
        c.step(0, Request::Snapshot(install));
        c.step(0, append(3, 0, (30, 3), entries(3, 5, 1), 32));
        // A delta the cache never saw: it notices and rebuilds.
        c.encoder.base = LogIndex(31);
        c.check();
    }

    #[test]
    fn a_leader_proposing_alone_matches_too() {
        let mut c = Checked {
            raft: Raft::new(Config::lab(PeerId(0), 1), 9),
            encoder: StateEncoder::default(),
        };
        while !c.raft.is_leader() {
            c.raft.tick();
        }
        c.check();
        for i in 0..50u64 {
            let proposed = c.raft.propose(Bytes::from(vec![i as u8; (i % 7) as usize]));
            assert!(proposed.is_ok());
            c.check();
            if i % 16 == 15 {
                c.raft.snapshot(LogIndex(i), Bytes::from_static(b"snap"));
                c.check();
            }
        }
    }

    #[test]
    fn small_compactions_ahead_of_a_long_log_keep_dead_bytes_until_they_dominate() {
        let mut c = Checked {
            raft: Raft::new(Config::lab(PeerId(1), 3), 5),
            encoder: StateEncoder::default(),
        };
        c.step(0, append(1, 0, (0, 0), entries(1, 40, 3), 0));
        let mut applied = 0;
        let mut saw_dead_bytes = false;
        for round in 0..12u64 {
            // Commit and snapshot a few entries at a time: the live tail stays long.
            applied += 3;
            let last = c.raft.last_log_index().0;
            c.step(
                0,
                append(1, 0, (last, 1), entries(1, 2, round as u8), applied),
            );
            c.raft.snapshot(LogIndex(applied), Bytes::from_static(b"s"));
            c.check();
            assert!(c.encoder.start <= c.encoder.buf.len());
            saw_dead_bytes |= c.encoder.start > 0;
        }
        assert!(
            saw_dead_bytes,
            "the compactions never left dead bytes behind"
        );
        let dead_before_truncation = c.encoder.start;
        assert!(
            dead_before_truncation > 0,
            "the truncation must meet dead bytes"
        );
        // A conflicting leader truncates the uncommitted tail while dead bytes are present.
        let (base, base_term) = (applied, 1);
        c.step(
            2,
            append(2, 2, (base + 1, base_term), entries(2, 3, 200), applied),
        );
        assert_eq!(c.encoder.start, dead_before_truncation);
        c.raft
            .snapshot(LogIndex(applied + 1), Bytes::from_static(b"t"));
        c.check();
    }

    #[test]
    fn skipped_append_deltas_are_picked_up_by_the_next_encode() {
        let mut c = Checked {
            raft: Raft::new(Config::lab(PeerId(0), 1), 9),
            encoder: StateEncoder::default(),
        };
        while !c.raft.is_leader() {
            c.raft.tick();
        }
        c.check();
        for round in 0..6u64 {
            // Several proposals whose deltas the encoder never sees (a deferred save) ...
            for i in 0..5u8 {
                assert!(c.raft.propose(Bytes::from(vec![i; 3])).is_ok());
                let _ = c.raft.ready();
            }
            // ... then one more step, whose delta alone is passed on.
            assert!(c.raft.propose(Bytes::from_static(b"last")).is_ok());
            c.check();
            if round % 2 == 1 {
                let at = c.raft.last_log_index().prev();
                c.raft.snapshot(at, Bytes::from_static(b"snap"));
                c.check();
            }
        }
    }
}
