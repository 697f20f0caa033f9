//! The in-memory record of one test run: compact events with their time in µs since the test
//! began (virtual µs in virtual time), capped so that a peer that logs without end cannot
//! exhaust memory (the oldest events go first, and the bundle says how many went).
//!
//! A peer's own lines (what it printed, its `tracing` lines) are capped per peer as well: the
//! record keeps the first [`HEAD_LINES`] and the last [`TAIL_LINES`] of each peer, and notes
//! in the peer's lane how many it left out in between.

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use bytes::Bytes;
use tokio::time::Instant;

use super::event::{self, Context, Describe, Event, Header, StateKey};
use super::view::Live;
use crate::harness::HotLock;
use crate::harness::lock;

/// At most this many events are kept.
pub const MAX_EVENTS: usize = 2_000_000;
/// At most about this many bytes of events are kept.
pub const MAX_BYTES: usize = 256 << 20;
/// The first this many lines of each peer are kept...
pub const HEAD_LINES: u64 = 5_000;
/// ...and the last this many.
pub const TAIL_LINES: usize = 5_000;
/// Lines of each peer kept for a failure's report.
const RECENT_LINES: usize = 10;

/// One peer's own lines beyond the first [`HEAD_LINES`].
#[derive(Default)]
struct OwnLines {
    count: u64,
    tail: VecDeque<(u64, u64, Event)>,
    dropped: u64,
    recent: VecDeque<(u64, String)>,
}

/// The last lines a peer printed or logged, for a failure's report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecentLines {
    /// The peer (`None`: lines no peer could be named for).
    pub peer: Option<usize>,
    /// How many lines it had in all.
    pub count: u64,
    /// The last few: time in µs and text (`LEVEL message` for a tracing line).
    pub lines: Vec<(u64, String)>,
}

/// One event kept in the main record.
struct Kept {
    /// µs since the test began.
    t: u64,
    /// Its place in the order of recording.
    seq: u64,
    /// The event, without the bytes it carried (see [`Arena`]).
    event: Event,
    /// Where those bytes are in the record's arena, if it carried any.
    bytes: Option<Span>,
}

/// Where an event's bytes lie in the [`Arena`].
#[derive(Clone, Copy)]
struct Span {
    /// Offset from the first byte the record ever kept (evicted bytes counted).
    at: u64,
    len: usize,
}

/// A buffer left by an earlier record once that one is over (issue 28): a test run records
/// tens of thousands of events, and a fresh buffer grew by doubling, with a copy and fresh
/// pages each time, in every run of a stress run. Dropped, it goes back to its pool, emptied,
/// unless the pool is full or it grew past [`Pool::MAX`] (a record that grew huge gives its
/// memory back).
struct Pooled<P: Pool>(VecDeque<P::Item>);

/// Where buffers of one kind wait for the next record.
trait Pool {
    type Item: 'static;
    /// The most items a pooled buffer may hold room for.
    const MAX: usize;
    fn buffers() -> &'static Mutex<Vec<VecDeque<Self::Item>>>;
}

/// Buffers kept per pool.
const POOLED: usize = 4;

/// The record's events.
struct EventsPool;

impl Pool for EventsPool {
    type Item = Kept;
    const MAX: usize = 1 << 18;
    fn buffers() -> &'static Mutex<Vec<VecDeque<Kept>>> {
        static BUFFERS: Mutex<Vec<VecDeque<Kept>>> = Mutex::new(Vec::new());
        &BUFFERS
    }
}

/// The bytes of the record's [`Arena`].
struct BytesPool;

impl Pool for BytesPool {
    type Item = u8;
    const MAX: usize = 16 << 20;
    fn buffers() -> &'static Mutex<Vec<VecDeque<u8>>> {
        static BUFFERS: Mutex<Vec<VecDeque<u8>>> = Mutex::new(Vec::new());
        &BUFFERS
    }
}

impl<P: Pool> Default for Pooled<P> {
    fn default() -> Self {
        Pooled(lock(P::buffers()).pop().unwrap_or_default())
    }
}

impl<P: Pool> Drop for Pooled<P> {
    fn drop(&mut self) {
        let mut buffer = std::mem::take(&mut self.0);
        buffer.clear();
        if buffer.capacity() <= P::MAX {
            let mut pool = lock(P::buffers());
            if pool.len() < POOLED {
                pool.push(buffer);
            }
        }
    }
}

impl<P: Pool> std::ops::Deref for Pooled<P> {
    type Target = VecDeque<P::Item>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<P: Pool> std::ops::DerefMut for Pooled<P> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

/// The bytes the kept events carry (RPC payloads, commands), one after another in the order
/// of their events (issue 28). Each payload used to be kept as a clone of the network's
/// `Bytes`: a shared allocation and two atomic operations per RPC stage, and at the end of
/// every run tens of thousands of frees of cold memory (3 % of a stress run's CPU). Copied
/// here, they cost a `memcpy`, and a finished record frees nothing (its buffer is pooled like
/// [`Pooled`]). Events leave the record oldest first, and so do their bytes.
#[derive(Default)]
struct Arena {
    bytes: Pooled<BytesPool>,
    /// Bytes evicted from the front so far.
    gone: u64,
}

impl Arena {
    fn keep(&mut self, bytes: &[u8]) -> Span {
        let at = self.gone + self.bytes.len() as u64;
        self.bytes.extend(bytes);
        Span {
            at,
            len: bytes.len(),
        }
    }

    /// Lets go of `span`, the oldest bytes kept.
    fn evict(&mut self, span: Span) {
        let len = span.len.min(self.bytes.len());
        self.bytes.drain(..len);
        self.gone += len as u64;
    }

    fn get(&self, span: Span) -> Bytes {
        let from = usize::try_from(span.at.saturating_sub(self.gone)).unwrap_or(usize::MAX);
        let to = from.saturating_add(span.len).min(self.bytes.len());
        let from = from.min(to);
        self.bytes
            .range(from..to)
            .copied()
            .collect::<Vec<u8>>()
            .into()
    }

    fn clear(&mut self) {
        self.gone += self.bytes.len() as u64;
        self.bytes.clear();
    }
}

/// The record proper, under the [`Trace`]'s lock.
#[derive(Default)]
pub(crate) struct Record {
    t0: Option<Instant>,
    last_t: u64,
    seq: u64,
    events: Pooled<EventsPool>,
    arena: Arena,
    own: BTreeMap<Option<usize>, OwnLines>,
    bytes: usize,
    dropped: u64,
    methods: Vec<String>,
    last_state: Vec<Option<StateKey>>,
    peers: usize,
    describe: Option<Describe>,
    live: Option<Live>,
}

impl Record {
    /// µs since the test began; outside the test's runtime (after it, when its clock is
    /// gone) the time of the last event, so that a virtual-time record stays deterministic.
    fn now(&mut self) -> u64 {
        let now = match crate::vclock::kept() {
            Some(now) => now,
            None if tokio::runtime::Handle::try_current().is_err() => return self.last_t,
            None => crate::vclock::now(),
        };
        let t0 = *self.t0.get_or_insert(now);
        let t = u64::try_from(now.saturating_duration_since(t0).as_micros()).unwrap_or(u64::MAX);
        self.last_t = self.last_t.max(t);
        t
    }

    fn push(&mut self, mut event: Event) -> Option<String> {
        let bytes = event.take_bytes();
        self.push_parts(event, bytes.as_deref())
    }

    /// Records `event`, which carried `bytes` (taken out of it, see [`Arena`]).
    fn push_parts(&mut self, event: Event, bytes: Option<&[u8]>) -> Option<String> {
        let t = self.now();
        let live = self.live.as_mut().map(|live| {
            let cx = Context {
                methods: &self.methods,
                describe: self.describe,
            };
            let mut whole = event.clone();
            if let Some(b) = bytes {
                whole.put_bytes(Bytes::copy_from_slice(b));
            }
            live.row(&event::line(t, &whole, &cx))
        });
        self.seq += 1;
        let seq = self.seq;
        if let Event::Log { peer, .. } = &event {
            let own = self.own.entry(*peer).or_default();
            own.count += 1;
            if own.recent.len() == RECENT_LINES {
                own.recent.pop_front();
            }
            own.recent.push_back((t, recent_text(&event)));
            if own.count > HEAD_LINES {
                if own.tail.len() == TAIL_LINES {
                    own.tail.pop_front();
                    own.dropped += 1;
                }
                own.tail.push_back((t, seq, event));
                return live.flatten();
            }
        }
        self.bytes += event.cost() + bytes.map_or(0, <[u8]>::len);
        let bytes = bytes.map(|b| self.arena.keep(b));
        self.events.push_back(Kept {
            t,
            seq,
            event,
            bytes,
        });
        while self.events.len() > MAX_EVENTS || self.bytes > MAX_BYTES {
            let Some(old) = self.events.pop_front() else {
                break;
            };
            let carried = old.bytes.map_or(0, |span| {
                self.arena.evict(span);
                span.len
            });
            self.bytes = self.bytes.saturating_sub(old.event.cost() + carried);
            self.dropped += 1;
        }
        live.flatten()
    }

    /// Every event kept, in the order recorded: the main record and each peer's last lines,
    /// with a note where a peer's lines were left out.
    fn merged(&self) -> Vec<(u64, Cow<'_, Event>)> {
        let mut all: Vec<(u64, u64, Cow<'_, Event>)> = self
            .events
            .iter()
            .map(|k| (k.t, k.seq, self.whole(k)))
            .collect();
        for (peer, own) in &self.own {
            if let (Some((t, seq, _)), true) = (own.tail.front(), own.dropped > 0) {
                let note = Event::Log {
                    peer: *peer,
                    level: "NOTE",
                    target: "grader",
                    message: format!(
                        "{} lines of this peer left out here: the record keeps the first \
                         {HEAD_LINES} and the last {TAIL_LINES} ({} in all)",
                        own.dropped, own.count
                    ),
                    topic: None,
                };
                all.push((*t, seq.saturating_sub(1), Cow::Owned(note)));
            }
            all.extend(
                own.tail
                    .iter()
                    .map(|(t, seq, e)| (*t, *seq, Cow::Borrowed(e))),
            );
        }
        all.sort_by_key(|(_, seq, _)| *seq);
        all.into_iter().map(|(t, _, e)| (t, e)).collect()
    }

    /// Kept event `k` with the bytes it carried.
    fn whole<'a>(&'a self, k: &'a Kept) -> Cow<'a, Event> {
        match k.bytes {
            None => Cow::Borrowed(&k.event),
            Some(span) => {
                let mut e = k.event.clone();
                e.put_bytes(self.arena.get(span));
                Cow::Owned(e)
            }
        }
    }

    /// The events file: the `test` line, then one line per event.
    pub(crate) fn jsonl(&self, header: &Header) -> String {
        let header = Header {
            peers: self.peers,
            truncated: self.dropped,
            ..header.clone()
        };
        let cx = Context {
            methods: &self.methods,
            describe: self.describe,
        };
        let mut out = event::header_line(&header);
        out.push('\n');
        for (t, e) in self.merged() {
            out.push_str(&event::line(t, &e, &cx));
            out.push('\n');
        }
        out
    }

    /// The last event in each peer's lane, as an events-file line (for a stuck test's
    /// report); `None` for a peer with no event yet.
    fn last_per_peer(&self) -> Vec<Option<String>> {
        let cx = Context {
            methods: &self.methods,
            describe: self.describe,
        };
        fn newest<'a>(
            last: &mut [Option<(u64, u64, Cow<'a, Event>)>],
            t: u64,
            seq: u64,
            e: impl FnOnce() -> Cow<'a, Event>,
            peer: Option<usize>,
        ) {
            if let Some(slot) = peer.and_then(|p| last.get_mut(p)) {
                if slot.as_ref().is_none_or(|(_, s, _)| *s < seq) {
                    *slot = Some((t, seq, e()));
                }
            }
        }
        let mut last: Vec<Option<(u64, u64, Cow<'_, Event>)>> = vec![None; self.peers];
        // The main record from its end: the newest event of each peer is near it.
        for k in self.events.iter().rev().take(100_000) {
            newest(&mut last, k.t, k.seq, || self.whole(k), k.event.peer());
        }
        for own in self.own.values() {
            if let Some((t, seq, e)) = own.tail.back() {
                newest(&mut last, *t, *seq, || Cow::Borrowed(e), e.peer());
            }
        }
        last.into_iter()
            .map(|l| l.map(|(t, _, e)| event::line(t, &e, &cx)))
            .collect()
    }
}

/// A peer's line as a failure's report shows it.
fn recent_text(event: &Event) -> String {
    match event {
        Event::Log {
            level: "PRINT",
            message,
            ..
        } => message.clone(),
        Event::Log { level, message, .. } => format!("{level} {message}"),
        _ => String::new(),
    }
}

/// A test's record and how it is shown live. Lives in the test's context.
#[derive(Default)]
pub(crate) struct Trace {
    /// Taken for every event, held for a push (writing a bundle holds it longer, when
    /// nothing else records).
    record: HotLock<Record>,
}

impl Trace {
    /// Starts the clock: event times count from now.
    pub(crate) fn begin(&self) {
        self.record.lock().t0 = Some(Instant::now());
    }

    /// Shows every event as a row of the terminal view as it is recorded (`--log`).
    pub(crate) fn set_live(&self, live: Live) {
        self.record.lock().live = Some(live);
    }

    /// The cluster has `n` peers of a type that describes its messages with `describe`;
    /// returns the live view's header, if live.
    pub(crate) fn set_peers(&self, n: usize, describe: Describe) -> Option<String> {
        let mut r = self.record.lock();
        r.peers = n;
        r.describe = Some(describe);
        r.last_state = vec![None; n];
        r.live.as_mut().map(|live| live.set_peers(n))
    }

    /// Records `event`; returns the live row to print, if live.
    pub(crate) fn push(&self, event: Event) -> Option<String> {
        self.record.lock().push(event)
    }

    /// Records `event` unless the record is busy (the panic hook: the panic may have
    /// happened under the record's lock).
    pub(crate) fn try_push(&self, event: Event) -> Option<String> {
        self.record.try_lock()?.push(event)
    }

    /// Records one RPC stage (method interned under the same lock) that carried `payload`
    /// (`rpc.payload` is left `None`: the bytes are copied into the record, not shared).
    pub(crate) fn push_rpc(
        &self,
        mut rpc: event::Rpc,
        method: &str,
        payload: Option<&[u8]>,
    ) -> Option<String> {
        let mut r = self.record.lock();
        let i = match r.methods.iter().position(|m| m == method) {
            Some(i) => i,
            None => {
                r.methods.push(method.to_string());
                r.methods.len() - 1
            }
        };
        rpc.method = u16::try_from(i).unwrap_or(u16::MAX);
        match rpc.payload.take() {
            Some(own) => r.push_parts(Event::Rpc(rpc), Some(&own)),
            None => r.push_parts(Event::Rpc(rpc), payload),
        }
    }

    /// Records peer `peer`'s state if it changed since its last `state` event.
    pub(crate) fn push_state(&self, peer: usize, state: StateKey) -> Option<String> {
        let mut r = self.record.lock();
        if r.last_state.len() <= peer {
            r.last_state.resize(peer + 1, None);
        }
        if r.last_state[peer] == Some(state) {
            return None;
        }
        r.last_state[peer] = Some(state);
        r.push(Event::State { peer, state })
    }

    /// The events file of the run so far.
    pub(crate) fn jsonl(&self, header: &Header) -> String {
        self.record.lock().jsonl(header)
    }

    /// How many events were recorded (kept or dropped for the cap; the peers' own lines
    /// aside).
    pub(crate) fn count(&self) -> u64 {
        let r = self.record.lock();
        u64::try_from(r.events.len()).unwrap_or(u64::MAX) + r.dropped
    }

    /// Records a line of peer `peer`'s own; returns the live row to print, if live.
    pub(crate) fn push_line(
        &self,
        peer: Option<usize>,
        level: &'static str,
        target: &'static str,
        message: String,
    ) -> Option<String> {
        self.push(Event::Log {
            peer,
            level,
            target,
            message,
            topic: None,
        })
    }

    /// The last few lines of each peer that printed or logged any, peers in order (lines of
    /// no known peer last).
    pub(crate) fn recent_lines(&self) -> Vec<RecentLines> {
        let r = self.record.lock();
        let mut out: Vec<RecentLines> = r
            .own
            .iter()
            .map(|(peer, own)| RecentLines {
                peer: *peer,
                count: own.count,
                lines: own.recent.iter().cloned().collect(),
            })
            .collect();
        out.sort_by_key(|l| (l.peer.is_none(), l.peer));
        out
    }

    /// Drops the events and lines kept, here and now: a finished run's record, once its
    /// bundle (if any) is written and its last lines taken, so that its memory is freed on
    /// the test's thread and not on whichever thread lets go of the context last (the
    /// coordinator's, where it was a cost of every run of a stress run). The record's buffer
    /// is kept for the next run (see [`Pooled`]).
    pub(crate) fn release(&self) {
        let mut r = self.record.lock();
        r.events.clear();
        r.arena.clear();
        r.own.clear();
        r.bytes = 0;
    }

    /// The time of the last event recorded, in µs (virtual in virtual time).
    pub(crate) fn last_time_us(&self) -> u64 {
        self.record.lock().last_t
    }

    /// The last event in each peer's lane (see `Record::last_per_peer`).
    pub(crate) fn last_per_peer(&self) -> Vec<Option<String>> {
        self.record.lock().last_per_peer()
    }
}

#[cfg(test)]
mod tests {
    use super::{Arena, Event, Record};
    use crate::trace::Rpc;
    use bytes::Bytes;
    use labrpc_sim::CallStage;

    #[test]
    fn the_arena_gives_back_each_payload_after_older_ones_are_evicted() {
        let mut arena = Arena::default();
        let a = arena.keep(b"first");
        let b = arena.keep(b"");
        let c = arena.keep(b"third payload");
        assert_eq!(arena.get(a), Bytes::from_static(b"first"));
        arena.evict(a);
        arena.evict(b);
        assert_eq!(arena.get(c), Bytes::from_static(b"third payload"));
        let d = arena.keep(b"fourth");
        arena.evict(c);
        assert_eq!(arena.get(d), Bytes::from_static(b"fourth"));
        arena.clear();
        let e = arena.keep(b"after a clear");
        assert_eq!(arena.get(e), Bytes::from_static(b"after a clear"));
    }

    #[test]
    fn a_recorded_payload_comes_back_in_the_events_file_whether_owned_or_borrowed() {
        let rpc = |payload: Option<Bytes>| Rpc {
            call: 1,
            from: Some(0),
            to: Some(1),
            method: 0,
            stage: CallStage::Sent,
            payload,
            delay_us: None,
        };
        let mut owned = Record::default();
        owned.push(Event::Rpc(rpc(Some(Bytes::from_static(b"\x01\x02\x03")))));
        owned.push(Event::Apply {
            peer: 1,
            index: 1,
            cmd: Some(Bytes::from_static(b"cmd")),
        });
        let mut borrowed = Record::default();
        borrowed.push_parts(Event::Rpc(rpc(None)), Some(b"\x01\x02\x03"));
        borrowed.push(Event::Apply {
            peer: 1,
            index: 1,
            cmd: Some(Bytes::from_static(b"cmd")),
        });
        let events = |r: &Record| -> Vec<String> {
            r.merged()
                .iter()
                .map(|(t, e)| format!("{t} {e:?}"))
                .collect()
        };
        assert_eq!(events(&owned), events(&borrowed));
        let merged = owned.merged();
        match (&*merged[0].1, &*merged[1].1) {
            (Event::Rpc(r), Event::Apply { cmd, .. }) => {
                assert_eq!(r.payload, Some(Bytes::from_static(b"\x01\x02\x03")));
                assert_eq!(*cmd, Some(Bytes::from_static(b"cmd")));
            }
            other => panic!("unexpected events {other:?}"),
        }
    }
}
