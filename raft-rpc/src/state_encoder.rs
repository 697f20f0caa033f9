//! The bytes the lab persister stores, built incrementally and handed over in pieces.
//!
//! The lab persister keeps the whole Raft state, so every save hands it the full encoding
//! ([`Raft::encode_state`]). Two costs made that expensive: encoding every entry again on
//! every save, and then copying the whole state into one buffer (with many large entries in
//! the log, that copy was most of a peer's CPU).
//!
//! This encoder keeps the encoding of each entry after the snapshot, follows the core's
//! [`PersistDelta`] (compaction, truncation) and encodes only the entries past those it holds.
//! The format is raft-core's, written by its own functions: a fresh [`StateHeader`] per save,
//! then each entry as [`encode_entry`] wrote it once. The encoded entries live in immutable
//! [`Bytes`] chunks; a save hands the persister the header plus the chunks
//! ([`Persister::save_parts`](raft_persist::Persister::save_parts)), sharing them, so it costs
//! O(chunks) rather than O(state). Each save freezes what it appended as a new chunk, and
//! chunks merge in levels (see `freeze_tail`), which keeps O(log state) chunks at O(log state)
//! copies per byte. Compaction and truncation slice chunks without copying.
//!
//! The concatenation is byte-for-byte [`Raft::encode_state`] (tested below). The encoder
//! only follows the deltas; if it ever disagreed with the log, that would be a bug, which
//! debug builds catch before every save.

use std::collections::VecDeque;

use bytes::{BufMut, Bytes, BytesMut};
use raft_core::{LogIndex, PersistDelta, Raft, StateHeader, Term, encode_entry};

/// Below this much spare room the tail takes a new block of [`TAIL_BLOCK`] bytes.
const TAIL_MIN_SPARE: usize = 256;
/// Size of the blocks the tail's encodings are written into.
const TAIL_BLOCK: usize = 16 * 1024;

/// At most the bytes an entry's encoding adds to its command: its term and the command's
/// length, two varints of at most 9 bytes each.
const ENTRY_OVERHEAD: usize = 18;

/// A chunk smaller than this absorbs the next one (a copy of at most this much per save), so
/// a log of small entries is handed over in a few pieces rather than one per save.
const MERGE_BELOW: usize = 4096;

/// How many chunks of one level merge into one chunk of the next.
const MERGE_FAN_IN: usize = 8;

/// Room for an encoded [`StateHeader`]: a `u32` and six varints of at most 9 bytes.
const HEADER_CAPACITY: usize = 64;

/// Where one cached entry ends in the stream of encoded entries (a byte offset counted from
/// the last time the cache emptied, which compaction never lowers), and its term (for the
/// debug check against the log).
#[derive(Clone, Copy)]
struct Cached {
    end: u64,
    term: Term,
}

/// A frozen piece of the stream: bytes `start .. start + bytes.len()`.
struct Chunk {
    start: u64,
    bytes: Bytes,
    /// How many merges of [`MERGE_FAN_IN`] chunks its bytes went through (see `freeze_tail`).
    level: u8,
}

impl Chunk {
    fn end(&self) -> u64 {
        self.start + self.bytes.len() as u64
    }
}

/// Encodings of the log entries after `base`, in index order.
#[derive(Default)]
pub(crate) struct StateEncoder {
    /// The chunks hold entries `base + 1 ..= base + cached.len()`, and nothing else.
    base: LogIndex,
    cached: VecDeque<Cached>,
    chunks: VecDeque<Chunk>,
    /// Entries encoded since the last save; frozen into a chunk at the end of each save.
    tail: BytesMut,
    /// Stream offset of the first byte of `tail` (the end of the stream once it is frozen).
    tail_start: u64,
}

impl StateEncoder {
    /// An encoder for a peer whose snapshot covers everything through `snapshot_index` (a
    /// restored peer's, or 0); it has encoded nothing yet.
    pub(crate) fn new(snapshot_index: LogIndex) -> StateEncoder {
        StateEncoder {
            base: snapshot_index,
            ..StateEncoder::default()
        }
    }

    /// The full state of `raft`, as pieces to concatenate, after following `delta` (what
    /// changed since the last call; appends need not be reported, whatever follows the
    /// cached entries is encoded).
    pub(crate) fn encode(&mut self, raft: &Raft, delta: &PersistDelta) -> Vec<Bytes> {
        if let Some((index, _)) = delta.snapshot {
            self.compact(index);
        }
        if let Some(from) = delta.truncated_from {
            self.truncate(from);
        }
        debug_assert!(self.follows(raft), "state encoder lost the log: {raft:?}");
        self.encode_new_entries(raft);
        self.freeze_tail();
        let header: StateHeader = raft.state_header();
        debug_assert_eq!(header.entries, self.cached.len() as u64);
        let mut head = BytesMut::with_capacity(HEADER_CAPACITY);
        header.encode(&mut head);
        let mut parts = Vec::with_capacity(1 + self.chunks.len());
        parts.push(head.freeze());
        parts.extend(self.chunks.iter().map(|c| c.bytes.clone()));
        parts
    }

    /// Encodes the entries after the last cached one into the tail.
    fn encode_new_entries(&mut self, raft: &Raft) {
        let last = raft.last_log_index();
        let mut next = self.last().next();
        if next > last {
            return;
        }
        // Room for all the new entries at once: growing the tail entry by entry would
        // reallocate and copy it as it doubles (it shares its allocation with frozen chunks).
        let needed: usize = (next.0..=last.0)
            .filter_map(|i| raft.entry(LogIndex(i)))
            .map(|e| e.command.len() + ENTRY_OVERHEAD)
            .sum();
        if self.tail.capacity() - self.tail.len() < needed.max(TAIL_MIN_SPARE) {
            // Frozen chunks share the tail's allocation; take a block at a time rather than
            // an allocation per save.
            self.tail.reserve(needed.max(TAIL_BLOCK));
        }
        while next <= last {
            let entry = raft
                .entry(next)
                .expect("entries after the snapshot are in the log");
            encode_entry(entry, &mut self.tail);
            self.cached.push_back(Cached {
                end: self.tail_start + self.tail.len() as u64,
                term: entry.term,
            });
            next = next.next();
        }
    }

    /// Moves the tail into a chunk (no copy: the chunk shares the tail's allocation). A chunk
    /// under [`MERGE_BELOW`] absorbs it (a small copy), so small saves do not pile up small
    /// chunks. Then, like the levels of a log-structured merge, [`MERGE_FAN_IN`] chunks of one
    /// level at the end become one chunk of the next level: a byte is copied about
    /// log_fan_in(state / MERGE_BELOW) times in all, and a save hands over
    /// O(fan_in x levels) chunks.
    fn freeze_tail(&mut self) {
        if self.tail.is_empty() {
            return;
        }
        let bytes = self.tail.split().freeze();
        let start = self.tail_start;
        self.tail_start += bytes.len() as u64;
        // A small last chunk absorbs the new one and keeps its own level.
        let absorb_level = self
            .chunks
            .back()
            .filter(|last| last.bytes.len() < MERGE_BELOW)
            .map(|last| last.level);
        self.chunks.push_back(Chunk {
            start,
            bytes,
            level: 0,
        });
        if let Some(level) = absorb_level {
            self.merge_last(2, level);
        }
        loop {
            let n = self.chunks.len();
            if n < MERGE_FAN_IN {
                break;
            }
            let level = self.chunks[n - 1].level;
            if (n - MERGE_FAN_IN..n - 1).any(|i| self.chunks[i].level != level) {
                break;
            }
            self.merge_last(MERGE_FAN_IN, level + 1);
        }
    }

    /// Replaces the last `count` chunks by one chunk of `level` holding their bytes.
    fn merge_last(&mut self, count: usize, level: u8) {
        let first = self.chunks.len() - count;
        let len = self.chunks.range(first..).map(|c| c.bytes.len()).sum();
        let mut merged = BytesMut::with_capacity(len);
        for chunk in self.chunks.range(first..) {
            merged.put_slice(&chunk.bytes);
        }
        let start = self.chunks[first].start;
        self.chunks.truncate(first);
        self.chunks.push_back(Chunk {
            start,
            bytes: merged.freeze(),
            level,
        });
    }

    /// Index of the last cached entry (`base` when none).
    fn last(&self) -> LogIndex {
        self.base.plus(self.cached.len())
    }

    /// What following the deltas keeps true: the cache covers a prefix of the log after the
    /// snapshot (same terms at its ends), so the entries after it are simply new.
    fn follows(&self, raft: &Raft) -> bool {
        let same_term =
            |c: Option<&Cached>, index| c.is_none_or(|c| raft.term_at(index) == Some(c.term));
        self.base == raft.snapshot_index()
            && self.last() <= raft.last_log_index()
            && same_term(self.cached.front(), self.base.next())
            && same_term(self.cached.back(), self.last())
    }

    /// The snapshot now covers everything through `index`: drop those entries (whole chunks
    /// go, the first remaining one is sliced).
    fn compact(&mut self, index: LogIndex) {
        if index <= self.base {
            return;
        }
        let drop = ((index.0 - self.base.0) as usize).min(self.cached.len());
        self.base = index;
        let Some(cut) = drop.checked_sub(1).map(|last| self.cached[last].end) else {
            return;
        };
        self.cached.drain(..drop);
        if self.cached.is_empty() {
            return self.clear();
        }
        while self.chunks.front().is_some_and(|c| c.end() <= cut) {
            self.chunks.pop_front();
        }
        if let Some(first) = self.chunks.front_mut() {
            if first.start < cut {
                first.bytes = first.bytes.slice((cut - first.start) as usize..);
                first.start = cut;
            }
        }
    }

    /// Entries from `from` on were removed from the log (whole chunks go, the last remaining
    /// one is sliced).
    fn truncate(&mut self, from: LogIndex) {
        debug_assert!(from > self.base, "truncation at {from:?} into the snapshot");
        let keep = from.0.saturating_sub(self.base.0 + 1) as usize;
        if keep >= self.cached.len() {
            return;
        }
        self.cached.truncate(keep);
        let Some(end) = self.cached.back().map(|c| c.end) else {
            return self.clear();
        };
        while self.chunks.back().is_some_and(|c| c.start >= end) {
            self.chunks.pop_back();
        }
        if let Some(last) = self.chunks.back_mut() {
            if last.end() > end {
                last.bytes.truncate((end - last.start) as usize);
            }
        }
        self.tail.clear();
        self.tail_start = end;
    }

    /// No entry is cached any more: the stream starts again after `base`.
    fn clear(&mut self) {
        self.cached.clear();
        self.chunks.clear();
        self.tail.clear();
        self.tail_start = 0;
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
        /// Peer 1 of three, fresh.
        fn follower() -> Checked {
            Checked {
                raft: Raft::new(Config::lab(PeerId(1), 3), 5),
                encoder: StateEncoder::default(),
            }
        }

        /// The only voter of a one-peer cluster, once it leads (checked).
        fn leader_alone(seed: u64) -> Checked {
            let mut c = Checked {
                raft: Raft::new(Config::lab(PeerId(0), 1), seed),
                encoder: StateEncoder::default(),
            };
            while !c.raft.is_leader() {
                c.raft.tick();
            }
            c.check();
            c
        }

        fn step(&mut self, from: usize, request: Request) {
            self.raft.step_request(PeerId(from), request);
            self.check();
        }
        fn check(&mut self) -> Vec<Bytes> {
            let ready = self.raft.ready();
            let parts = self.encoder.encode(&self.raft, &ready.persist);
            assert_eq!(joined(&parts), self.raft.encode_state(), "{:?}", self.raft);
            self.encoder.check_shape();
            parts
        }
    }

    fn joined(parts: &[Bytes]) -> Bytes {
        parts.concat().into()
    }

    impl StateEncoder {
        /// The chunks tile the stream of the cached entries exactly, with sizes that shrink
        /// towards the end (the first one may have been sliced by compaction), and the tail
        /// is empty between saves.
        fn check_shape(&self) {
            assert!(self.tail.is_empty());
            let mut at = self.chunks.front().map_or(self.tail_start, |c| c.start);
            for chunk in &self.chunks {
                assert_eq!(chunk.start, at, "chunks must be contiguous");
                assert!(!chunk.bytes.is_empty());
                at = chunk.end();
            }
            assert_eq!(at, self.tail_start);
            assert_eq!(self.cached.back().map_or(at, |c| c.end), at);
            assert_eq!(self.cached.is_empty(), self.chunks.is_empty());
            let n = self.chunks.len();
            for i in 1..n {
                let (older, newer) = (&self.chunks[i - 1], &self.chunks[i]);
                assert!(older.level >= newer.level, "levels must not rise");
                // Only the first (sliced by compaction) and the last may be small.
                assert!(i == 1 || older.bytes.len() >= MERGE_BELOW);
            }
            let top = self.chunks.front().map_or(0, |c| c.level as usize);
            assert!(
                n <= 1 + (MERGE_FAN_IN - 1) * (top + 1),
                "{n} chunks, top level {top}"
            );
        }
    }

    #[test]
    fn a_save_shares_the_bytes_of_entries_it_already_handed_out() {
        let mut c = Checked::follower();
        // 64 entries of 100 bytes: a first chunk large enough to be kept as it is.
        let big: Vec<Entry> = (0..64u8)
            .map(|i| Entry {
                term: Term(1),
                command: Bytes::from(vec![i; 100]),
            })
            .collect();
        c.step(0, append(1, 0, (0, 0), big, 0));
        let first = c.check();
        for round in 0..20u8 {
            let last = c.raft.last_log_index().0;
            c.step(0, append(1, 0, (last, 1), entries(1, 1, round), 0));
        }
        let later = c.check();
        // The 64 first entries were encoded once: a later save hands out the same memory.
        let old = &first[1];
        assert!(
            later[1..].iter().any(|p| p.as_ptr() == old.as_ptr()),
            "the oldest chunk was copied"
        );
        // 21 saves, yet the small ones were gathered: header, the big chunk, one small one.
        assert_eq!(later.len(), 3, "{} parts", later.len());
    }

    #[test]
    fn follows_appends_truncations_snapshots_and_votes_byte_for_byte() {
        let mut c = Checked::follower();
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
    }

    /// A delta the encoder did not follow is a bug, caught in debug builds (not repaired).
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "state encoder lost the log")]
    fn a_missed_truncation_is_caught() {
        let mut c = Checked::follower();
        c.step(0, append(1, 0, (0, 0), entries(1, 6, 10), 0));
        // A new leader overwrites 3..6, and the encoder is not told.
        c.raft
            .step_request(PeerId(2), append(2, 2, (2, 1), entries(2, 4, 70), 2));
        let _ = c.raft.ready();
        c.check();
    }

    #[test]
    fn a_restarted_peer_starts_after_its_snapshot() {
        let mut c = Checked::follower();
        c.step(0, append(1, 0, (0, 0), entries(1, 8, 10), 6));
        c.raft.snapshot(LogIndex(5), Bytes::from_static(b"s5"));
        c.check();
        let state = c.raft.encode_state();
        let snapshot = c.raft.snapshot_data().clone();
        let restored = Raft::restore(Config::lab(PeerId(1), 3), 5, &state, snapshot);
        c.raft = restored.expect("restores");
        c.encoder = StateEncoder::new(c.raft.snapshot_index());
        c.check();
        c.step(0, append(1, 0, (8, 1), entries(1, 2, 50), 9));
    }

    #[test]
    fn a_leader_proposing_alone_matches_too() {
        let mut c = Checked::leader_alone(9);
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
    fn small_compactions_and_a_truncation_slice_chunks() {
        let mut c = Checked::follower();
        c.step(0, append(1, 0, (0, 0), entries(1, 40, 3), 0));
        let mut applied = 0;
        let mut sliced = false;
        for round in 0..12u64 {
            // Commit and snapshot a few entries at a time: the log ahead stays long.
            applied += 3;
            let last = c.raft.last_log_index().0;
            let more = entries(1, 2, round as u8);
            c.step(0, append(1, 0, (last, 1), more, applied));
            let chunk_starts: Vec<u64> = c.encoder.chunks.iter().map(|c| c.start).collect();
            c.raft.snapshot(LogIndex(applied), Bytes::from_static(b"s"));
            c.check();
            // A compaction that cuts inside a chunk slices it (its start moves).
            sliced |= c
                .encoder
                .chunks
                .front()
                .is_some_and(|f| !chunk_starts.contains(&f.start));
        }
        assert!(sliced, "no compaction cut into a chunk");
        // A conflicting leader truncates the uncommitted tail, cutting inside a chunk.
        c.step(
            2,
            append(2, 2, (applied + 1, 1), entries(2, 3, 200), applied),
        );
        c.raft
            .snapshot(LogIndex(applied + 1), Bytes::from_static(b"t"));
        c.check();
        let last = c.raft.last_log_index().0;
        c.step(2, append(2, 2, (last, 2), entries(2, 4, 100), applied + 2));
    }

    #[test]
    fn skipped_append_deltas_are_picked_up_by_the_next_encode() {
        let mut c = Checked::leader_alone(9);
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

    #[test]
    fn a_large_log_is_handed_over_in_logarithmically_many_pieces() {
        let mut c = Checked::leader_alone(3);
        let mut most = 0;
        for save in 0..600u64 {
            // 1 to 7 entries of 1 KiB per save, a snapshot every 100 saves.
            for k in 0..=(save % 7) {
                let command = Bytes::from(vec![(save + k) as u8; 1024]);
                assert!(c.raft.propose(command).is_ok());
            }
            let parts = c.check();
            let state: usize = parts.iter().map(Bytes::len).sum();
            let levels = 1 + (state / MERGE_BELOW).max(1).ilog(MERGE_FAN_IN) as usize;
            let bound = 2 + (MERGE_FAN_IN - 1) * levels;
            assert!(
                parts.len() <= bound,
                "{} parts for {state} bytes",
                parts.len()
            );
            most = most.max(parts.len());
            if save % 100 == 99 {
                let at = c.raft.last_log_index().prev();
                c.raft.snapshot(at, Bytes::from_static(b"snap"));
                c.check();
            }
        }
        assert!(most >= 4, "the test never built a multi-chunk state");
    }
}
