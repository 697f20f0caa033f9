//! The switchboard: ends, servers, the reliability flags, the one seeded RNG and the
//! statistics, all under one mutex (spec 1.1, 1.2, 1.5).
//!
//! Every random number is drawn here, at the moment a decision is made, from the run's
//! [`Choices`] (its network stream), so on a current-thread runtime with a paused clock the
//! outcomes are a function of the seed, or of the recorded choices being replayed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rand::Rng;

use crate::choices::{Choices, Stream};
use crate::end::ClientEnd;
use crate::{NetError, Observer, Server};

/// Short delay before an unreliable request is delivered: uniform in `0..SHORT_DELAY_MS` ms.
pub const SHORT_DELAY_MS: u64 = 27;
/// Delay before a call to a dead end fails, with long delays on: uniform in `0..LONG_DELAY_MS`.
pub const LONG_DELAY_MS: u64 = 7000;
/// Delay before a call to a dead end fails, with long delays off: uniform in `0..` this.
pub const DEAD_END_DELAY_MS: u64 = 100;
/// How often a caller re-checks whether the server it waits on is dead.
pub const DEAD_POLL: Duration = Duration::from_millis(100);

/// One end's entry in the switchboard.
struct EndEntry {
    enabled: bool,
    server: Option<String>,
}

/// Everything under the network's mutex.
struct State {
    reliable: bool,
    latency: Duration,
    long_delays: bool,
    long_reordering: bool,
    ends: BTreeMap<String, EndEntry>,
    servers: BTreeMap<String, Arc<Server>>,
    closed: bool,
}

/// The shared part of every `Network` clone.
struct Shared {
    state: Mutex<State>,
    choices: Choices,
    total_count: AtomicU64,
    total_bytes: AtomicU64,
    observer: Mutex<Option<Observer>>,
}

/// What a call saw when it was submitted (labrpc's snapshot at the start of `processReq`).
pub(crate) struct Submission {
    /// The call's number (its place in the total count).
    pub(crate) call: u64,
    /// Who watches this call, if anyone.
    pub(crate) observer: Option<Observer>,
    /// The server to dispatch to, when the end is enabled, connected and the server present.
    pub(crate) target: Option<Target>,
    /// The `reliable` flag at submission.
    pub(crate) reliable: bool,
    /// The `long_reordering` flag at submission.
    pub(crate) long_reordering: bool,
    /// The request latency at submission.
    pub(crate) latency: Duration,
}

/// The server a call goes to: its name and the very object registered under it.
pub(crate) struct Target {
    pub(crate) name: String,
    pub(crate) server: Arc<Server>,
}

/// The simulated network. Cheap to clone: clones share one network.
#[derive(Clone)]
pub struct Network {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("Network")
            .field("reliable", &state.reliable)
            .field("long_delays", &state.long_delays)
            .field("long_reordering", &state.long_reordering)
            .field("ends", &state.ends.len())
            .field("servers", &state.servers.keys().collect::<Vec<_>>())
            .field("closed", &state.closed)
            .finish_non_exhaustive()
    }
}

impl Network {
    /// A new network whose every random choice comes from `seed`. Reliable, no long delays,
    /// no long reordering (labrpc's defaults).
    pub fn new(seed: u64) -> Self {
        Self::with_choices(Choices::recording(|_| seed))
    }

    /// A new network whose every random choice is drawn from `choices`'s network stream (a
    /// seeded RNG, or a recorded sequence replayed). The encodings: a drop or a reordering is
    /// a [`Choices::chance`] (0: delivered, not reordered); a delay is its length in ms (0:
    /// none; a reordering's delay is 200 ms plus a draw bounded by another draw).
    pub fn with_choices(choices: Choices) -> Self {
        let state = State {
            reliable: true,
            latency: Duration::ZERO,
            long_delays: false,
            long_reordering: false,
            ends: BTreeMap::new(),
            servers: BTreeMap::new(),
            closed: false,
        };
        let shared = Shared {
            state: Mutex::new(state),
            choices,
            total_count: AtomicU64::new(0),
            total_bytes: AtomicU64::new(0),
            observer: Mutex::new(None),
        };
        Self {
            shared: Arc::new(shared),
        }
    }

    /// The state, even if a thread panicked while holding the lock: every update under it is
    /// a single assignment, so the state is never half-written.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reliable (no drops, no short delays) or not.
    pub fn set_reliable(&self, reliable: bool) {
        self.lock().reliable = reliable;
    }
    /// Whether the network is reliable.
    pub fn is_reliable(&self) -> bool {
        self.lock().reliable
    }
    /// Every request that reaches a server takes `latency` on its way there (default zero, as
    /// in labrpc). Not labrpc's: Lab 4's harness sets a small latency, standing for the
    /// socket hop of the course's process-per-server tester, so that in virtual time no RPC
    /// is instant and a client that retries without pausing cannot spin at one instant.
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }
    /// Long delays (0-6999 ms) instead of 0-99 ms before a call to a dead end fails.
    pub fn set_long_delays(&self, on: bool) {
        self.lock().long_delays = on;
    }
    /// Whether long delays are on (labrpc 2025's `IsLongDelays`).
    pub fn is_long_delays(&self) -> bool {
        self.lock().long_delays
    }
    /// Long reordering: 2/3 of replies are delayed 200 + `U[0, U[0,1999]]` ms.
    pub fn set_long_reordering(&self, on: bool) {
        self.lock().long_reordering = on;
    }

    /// A new client end, disabled and unconnected.
    pub fn make_end(&self, name: &str) -> Result<ClientEnd, NetError> {
        let mut state = self.lock();
        if state.ends.contains_key(name) {
            return Err(NetError::DuplicateEnd(name.to_owned()));
        }
        let entry = EndEntry {
            enabled: false,
            server: None,
        };
        state.ends.insert(name.to_owned(), entry);
        Ok(ClientEnd::new(self.clone(), name))
    }
    /// Removes an end (labrpc's 2024 `DeleteEnd`); its calls fail from now on.
    pub fn delete_end(&self, name: &str) {
        self.lock().ends.remove(name);
    }
    /// Registers (or replaces) the server called `name`.
    pub fn add_server(&self, name: &str, server: Server) {
        self.lock()
            .servers
            .insert(name.to_owned(), Arc::new(server));
    }
    /// Removes the server called `name`; handlers still running can no longer reply.
    pub fn delete_server(&self, name: &str) {
        self.lock().servers.remove(name);
    }
    /// Connects an end to a server name, once in the end's lifetime.
    pub fn connect(&self, end: &str, server: &str) -> Result<(), NetError> {
        let mut state = self.lock();
        let entry = state
            .ends
            .get_mut(end)
            .ok_or_else(|| NetError::NoSuchEnd(end.to_owned()))?;
        if entry.server.is_some() {
            return Err(NetError::AlreadyConnected(end.to_owned()));
        }
        entry.server = Some(server.to_owned());
        Ok(())
    }
    /// Enables or disables an end.
    pub fn enable(&self, end: &str, enabled: bool) -> Result<(), NetError> {
        let mut state = self.lock();
        let entry = state
            .ends
            .get_mut(end)
            .ok_or_else(|| NetError::NoSuchEnd(end.to_owned()))?;
        entry.enabled = enabled;
        Ok(())
    }

    /// Requests dispatched to a handler of the server currently registered as `server`
    /// (labrpc's `GetCount`); `None` when no server has that name.
    pub fn server_count(&self, server: &str) -> Option<u64> {
        self.lock().servers.get(server).map(|s| s.count())
    }
    /// Every call submitted so far (labrpc's `GetTotalCount`).
    pub fn total_count(&self) -> u64 {
        self.shared.total_count.load(Ordering::Relaxed)
    }
    /// Argument bytes of every call plus reply bytes of delivered replies (`GetTotalBytes`).
    pub fn total_bytes(&self) -> u64 {
        self.shared.total_bytes.load(Ordering::Relaxed)
    }
    /// Calls `observer` at every stage of every call submitted from now on (`None` stops).
    pub fn set_observer(&self, observer: Option<Observer>) {
        *self
            .shared
            .observer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = observer;
    }

    /// Shuts the network: calls from now on fail at once, and the servers are let go. Calls
    /// already under way finish by the usual rules, as in labrpc.
    pub fn cleanup(&self) {
        let servers = {
            let mut state = self.lock();
            state.closed = true;
            std::mem::take(&mut state.servers)
        };
        // Servers hold their handlers, which usually hold client ends of this very network:
        // dropping them here breaks that cycle, so a cleaned-up network and everything it
        // served are freed (calls under way keep their own handle on their server).
        drop(servers);
    }

    /// Submits a call from `end` carrying `args_len` bytes: counts it and takes the snapshot
    /// `processReq` starts from. `None` when the network was cleaned up (nothing is counted).
    pub(crate) fn submit(&self, end: &str, args_len: usize) -> Option<Submission> {
        let state = self.lock();
        if state.closed {
            return None;
        }
        let call = self.shared.total_count.fetch_add(1, Ordering::Relaxed) + 1;
        self.add_bytes(args_len);
        let target = state
            .ends
            .get(end)
            .filter(|e| e.enabled)
            .and_then(|e| e.server.as_ref())
            .and_then(|name| {
                let server = state.servers.get(name)?;
                Some(Target {
                    name: name.clone(),
                    server: Arc::clone(server),
                })
            });
        let observer = self
            .shared
            .observer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        Some(Submission {
            target,
            reliable: state.reliable,
            long_reordering: state.long_reordering,
            latency: state.latency,
            call,
            observer,
        })
    }

    /// Adds to the byte statistic.
    pub(crate) fn add_bytes(&self, len: usize) {
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        self.shared.total_bytes.fetch_add(len, Ordering::Relaxed);
    }

    /// Dead: `end` is disabled (or deleted), or `target.server` is no longer the object
    /// registered under `target.name` (deleted, or replaced by a restart).
    pub(crate) fn is_server_dead(&self, end: &str, target: &Target) -> bool {
        let state = self.lock();
        let enabled = state.ends.get(end).is_some_and(|e| e.enabled);
        let same = state
            .servers
            .get(&target.name)
            .is_some_and(|s| Arc::ptr_eq(s, &target.server));
        !enabled || !same
    }

    /// The unreliable short delay, U[0, 26] ms.
    pub(crate) fn short_delay(&self) -> Duration {
        let ms = self.shared.choices.draw(
            Stream::Network,
            |r| r.random_range(0..SHORT_DELAY_MS),
            SHORT_DELAY_MS - 1,
        );
        Duration::from_millis(ms)
    }

    /// True with probability `numerator / denominator` (labrpc's `rand.Int() % d < n`): a
    /// fault (a drop, a reordering); see [`Choices::chance`].
    pub(crate) fn chance(&self, numerator: u32, denominator: u32) -> bool {
        self.shared
            .choices
            .chance(Stream::Network, numerator, denominator)
    }

    /// The long-reordering delay, 200 + U[0, r] ms with r uniform in [0, 1999].
    pub(crate) fn reorder_delay(&self) -> Duration {
        let choices = &self.shared.choices;
        let r = choices.draw(Stream::Network, |rng| rng.random_range(0..2000u64), 1999);
        let extra = choices.draw(Stream::Network, |rng| rng.random_range(0..=r), r);
        Duration::from_millis(200 + extra)
    }

    /// How long a call to a dead end takes to fail: U[0, 6999] ms with long delays on,
    /// U[0, 99] ms otherwise (the flag as it is now, as in labrpc).
    pub(crate) fn dead_end_delay(&self) -> Duration {
        let bound = if self.lock().long_delays {
            LONG_DELAY_MS
        } else {
            DEAD_END_DELAY_MS
        };
        let ms = self
            .shared
            .choices
            .draw(Stream::Network, |r| r.random_range(0..bound), bound - 1);
        Duration::from_millis(ms)
    }
}
