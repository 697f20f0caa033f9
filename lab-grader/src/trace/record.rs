//! The in-memory record of one test run: compact events with their time in µs since the test
//! began (virtual µs in virtual time), capped so that a peer that logs without end cannot
//! exhaust memory (the oldest events go first, and the bundle says how many went).

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::time::Instant;

use super::event::{self, Context, Describe, Event, Header, StateKey};
use super::view::Live;
use crate::harness::lock;

/// At most this many events are kept.
pub const MAX_EVENTS: usize = 2_000_000;
/// At most about this many bytes of events are kept.
pub const MAX_BYTES: usize = 256 << 20;

/// The record proper, under the [`Trace`]'s lock.
#[derive(Default)]
pub(crate) struct Record {
    t0: Option<Instant>,
    last_t: u64,
    events: VecDeque<(u64, Event)>,
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
        if tokio::runtime::Handle::try_current().is_err() {
            return self.last_t;
        }
        let now = Instant::now();
        let t0 = *self.t0.get_or_insert(now);
        let t = u64::try_from(now.saturating_duration_since(t0).as_micros()).unwrap_or(u64::MAX);
        self.last_t = self.last_t.max(t);
        t
    }

    fn push(&mut self, event: Event) -> Option<String> {
        let t = self.now();
        let live = self.live.as_mut().map(|live| {
            let cx = Context {
                methods: &self.methods,
                describe: self.describe,
            };
            live.row(&event::line(t, &event, &cx))
        });
        self.bytes += event.cost();
        self.events.push_back((t, event));
        while self.events.len() > MAX_EVENTS || self.bytes > MAX_BYTES {
            let Some((_, old)) = self.events.pop_front() else {
                break;
            };
            self.bytes = self.bytes.saturating_sub(old.cost());
            self.dropped += 1;
        }
        live.flatten()
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
        for (t, e) in &self.events {
            out.push_str(&event::line(*t, e, &cx));
            out.push('\n');
        }
        out
    }
}

/// A test's record and how it is shown live. Lives in the test's context.
#[derive(Default)]
pub(crate) struct Trace {
    record: Mutex<Record>,
}

impl Trace {
    /// Starts the clock: event times count from now.
    pub(crate) fn begin(&self) {
        lock(&self.record).t0 = Some(Instant::now());
    }

    /// Shows every event as a row of the terminal view as it is recorded (`--log`).
    pub(crate) fn set_live(&self, live: Live) {
        lock(&self.record).live = Some(live);
    }

    /// The cluster has `n` peers of a type that describes its messages with `describe`;
    /// returns the live view's header, if live.
    pub(crate) fn set_peers(&self, n: usize, describe: Describe) -> Option<String> {
        let mut r = lock(&self.record);
        r.peers = n;
        r.describe = Some(describe);
        r.last_state = vec![None; n];
        r.live.as_mut().map(|live| live.set_peers(n))
    }

    /// Records `event`; returns the live row to print, if live.
    pub(crate) fn push(&self, event: Event) -> Option<String> {
        lock(&self.record).push(event)
    }

    /// Records `event` unless the record is busy (the panic hook: the panic may have
    /// happened under the record's lock).
    pub(crate) fn try_push(&self, event: Event) -> Option<String> {
        self.record.try_lock().ok()?.push(event)
    }

    /// Records one RPC stage (method interned under the same lock).
    pub(crate) fn push_rpc(&self, mut rpc: event::Rpc, method: &str) -> Option<String> {
        let mut r = lock(&self.record);
        let i = match r.methods.iter().position(|m| m == method) {
            Some(i) => i,
            None => {
                r.methods.push(method.to_string());
                r.methods.len() - 1
            }
        };
        rpc.method = u16::try_from(i).unwrap_or(u16::MAX);
        r.push(Event::Rpc(rpc))
    }

    /// Records peer `peer`'s state if it changed since its last `state` event.
    pub(crate) fn push_state(&self, peer: usize, state: StateKey) -> Option<String> {
        let mut r = lock(&self.record);
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
        lock(&self.record).jsonl(header)
    }
}
