//! Peer panics fail the test at once. Tokio catches a panic in a spawned task and labrpc-sim
//! one in an RPC handler, so without this a peer whose ticker panicked would pass a test dead,
//! or fail ten seconds later with an unrelated message. A process-wide panic hook records any
//! panic on a thread that runs a test (its location, message, the peer when the grader can
//! tell, and the backtrace) in that test's context, fails the test, and prints nothing.
//!
//! Which peer: the grader knows it when the panic happens inside a call the harness makes on a
//! peer ([`as_peer`]), in an RPC handler (the network reports the handler's server), or in a
//! task of a peer: one spawned while that peer's code ran (tokio's spawn hook, in a build with
//! `--cfg tokio_unstable`), or one that has sent an RPC from that peer's ends
//! (`PanicScope::note_task`). A panic in a task that is none of these is reported as a peer
//! task's panic without a number.
//!
//! The same bookkeeping says whose output a line is (see [`crate::capture`]) and, when a test
//! is stuck, what its threads were doing (`PanicScope::doing_now`).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::panic::{Location, PanicHookInfo};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use crate::capture::{self, Owner};

use crate::fail::Fail;
use crate::harness::HotLock;
use crate::harness::TestContext;
use crate::harness::lock;
use crate::lane::{Frame, Lane};

/// One panic, as the grader saw it.
#[derive(Clone, Debug, Default)]
pub struct PanicRecord {
    /// The peer it happened in, when known.
    pub peer: Option<usize>,
    /// `file:line:column`.
    pub location: String,
    /// The panic's message.
    pub message: String,
    /// The backtrace, captured at the panic (for the failure's record, not the terminal).
    pub backtrace: String,
}

/// A panic record shared between the hook, the network observer (which may name the peer a
/// moment later) and the failure message.
#[derive(Clone, Debug, Default)]
pub struct PanicHandle(Arc<Mutex<PanicRecord>>);

impl PanicHandle {
    /// The record as it is now.
    pub fn record(&self) -> PanicRecord {
        lock(&self.0).clone()
    }

    fn set_peer_if_unknown(&self, peer: usize) {
        let mut record = lock(&self.0);
        if record.peer.is_none() {
            record.peer = Some(peer);
        }
    }
}

impl fmt::Display for PanicHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.record();
        match r.peer {
            Some(peer) => write!(f, "peer {peer} panicked at {}: {}", r.location, r.message),
            None if r.location.starts_with("lab-grader/src/") => {
                write!(f, "the grader panicked at {}: {}", r.location, r.message)
            }
            None => write!(
                f,
                "a peer task panicked at {}: {} (the grader cannot tell which peer: the task \
                 had sent no RPC yet)",
                r.location, r.message
            ),
        }
    }
}

/// A test's panics: which tasks belong to which peer, what each thread of the test runs now,
/// and the first panic recorded. Lives in the test's context.
pub(crate) struct PanicScope {
    /// This scope's number in the process (a thread's lane names the scope it belongs to).
    id: u64,
    /// The tasks, under a lock a poll does not take (each thread keeps what it needs of it,
    /// see [`Here`]).
    book: HotLock<Book>,
    /// Bumped whenever a task's peer is learned: a thread's copies of the tasks are then
    /// stale.
    tasks_changed: AtomicU64,
    /// What each thread of the test is inside of, one lane per thread (see [`crate::lane`]).
    lanes: Mutex<Vec<Arc<Lane>>>,
    first: Mutex<Option<PanicHandle>>,
    /// When the coordinator first saw each innermost frame (by lane and number).
    seen: Mutex<BTreeMap<(usize, u64), Instant>>,
    /// The Linux id of the thread that drives the test's virtual-time runtime, while it does
    /// (0 otherwise, and where it cannot be known): the watchdog reads what that thread waits
    /// on (see `crate::stuck`).
    runtime_thread: AtomicU64,
}

impl Default for PanicScope {
    fn default() -> Self {
        static SCOPES: AtomicU64 = AtomicU64::new(1);
        PanicScope {
            id: SCOPES.fetch_add(1, Ordering::Relaxed),
            book: HotLock::default(),
            tasks_changed: AtomicU64::new(0),
            lanes: Mutex::default(),
            first: Mutex::default(),
            seen: Mutex::default(),
            runtime_thread: AtomicU64::new(0),
        }
    }
}

/// Every how many polls (of a thread) the clock is read (reading it costs a lock; a task that
/// never waits is polled millions of times a second).
const CLOCK_SAMPLE: u64 = 256;

/// The task polled most, as the watchdog names it.
#[derive(Clone, Debug)]
pub(crate) struct Busiest {
    /// What it is (a task of which peer, spawned where).
    pub(crate) doing: Doing,
    /// Its polls so far.
    pub(crate) polls: u64,
}

/// Which tasks belong to which peer.
#[derive(Default)]
struct Book {
    tasks: BTreeMap<tokio::task::Id, TaskInfo>,
    /// Where tasks were spawned, each once: a lane's frame holds an index into it.
    places: Vec<&'static Location<'static>>,
    /// The runtime's clock (virtual in virtual time) as a poll saw it, every
    /// [`CLOCK_SAMPLE`]-th poll of a thread: the watchdog's way to see that tasks keep running
    /// while the clock stands still.
    clock: Option<tokio::time::Instant>,
}

impl Book {
    /// `at`'s number in `places` (1-based; 0 for none).
    fn place(&mut self, at: Option<&'static Location<'static>>) -> u32 {
        let Some(at) = at else { return 0 };
        let i = match self.places.iter().position(|p| std::ptr::eq(*p, at)) {
            Some(i) => i,
            None => {
                self.places.push(at);
                self.places.len() - 1
            }
        };
        u32::try_from(i + 1).unwrap_or(0)
    }

    /// What a lane's frame stands for.
    fn doing(&self, frame: Frame) -> Doing {
        match frame {
            Frame::Poll { peer, at } => Doing::Poll {
                peer,
                spawned_at: (at as usize)
                    .checked_sub(1)
                    .and_then(|i| self.places.get(i).copied()),
            },
            Frame::Call { peer } => Doing::Call { peer },
        }
    }
}

/// What the grader knows of a task.
#[derive(Clone, Copy, Debug, Default)]
struct TaskInfo {
    peer: Option<usize>,
    /// Where it was spawned (see [`Book::place`]).
    at: u32,
}

/// A thread's own part of a test's bookkeeping, in a thread-local: its lane, and what it
/// knows of the tasks it polled (copied from the book at a task's first poll here, and again
/// after a task's peer is learned anywhere), with their polls here.
struct Here {
    scope: u64,
    lane: Arc<Lane>,
    tasks_changed: u64,
    tasks: BTreeMap<tokio::task::Id, (TaskInfo, u64)>,
}

thread_local! {
    static HERE: RefCell<Option<Here>> = const { RefCell::new(None) };
}

/// What a test's thread is inside of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Doing {
    /// A poll of a task: its peer, when known, and where it was spawned.
    Poll {
        /// The task's peer.
        peer: Option<usize>,
        /// Where it was spawned, when known.
        spawned_at: Option<&'static Location<'static>>,
    },
    /// A call of the harness into a peer (make, start, get_state, snapshot, kill, inspect).
    Call {
        /// The peer.
        peer: usize,
    },
}

impl fmt::Display for Doing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Doing::Poll { peer, spawned_at } => {
                match peer {
                    Some(p) => write!(f, "a task of peer {p}")?,
                    None => write!(f, "a task of no known peer")?,
                }
                if let Some(at) = spawned_at {
                    write!(f, " (spawned at {at})")?;
                }
                Ok(())
            }
            Doing::Call { peer } => write!(
                f,
                "a call of the harness into peer {peer} (make, start, get_state, snapshot, kill \
                 or inspect)"
            ),
        }
    }
}

#[allow(clippy::disallowed_methods)] // how long a poll has run: wall time by nature
fn wall_now() -> Instant {
    Instant::now()
}

/// The calling thread's Linux id (0 where `/proc/thread-self` does not say).
fn linux_thread_id() -> u64 {
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name()?.to_str()?.parse().ok())
        .unwrap_or(0)
}

thread_local! {
    static SCOPE: RefCell<Option<TestContext>> = const { RefCell::new(None) };
    static PEER: Cell<Option<usize>> = const { Cell::new(None) };
    /// The peer whose RPC handler runs inline on this thread right now.
    static HANDLER: Cell<Option<usize>> = const { Cell::new(None) };
    /// The peer of the next task spawned on this thread (a handler the network detaches).
    static NEXT_SPAWN: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The tests running in this process (the capture's reader thread attributes what it
/// drains to the only one, if only one runs).
static TESTS: Mutex<Vec<TestContext>> = Mutex::new(Vec::new());

/// Peer `peer`'s RPC handler starts running inline on this thread (`Some`), or stopped
/// (`None`): a panic in between is that peer's, whatever task it runs in, and so is what it
/// printed.
pub(crate) fn set_handler_peer(peer: Option<usize>) {
    let before = HANDLER.with(Cell::get);
    match before {
        Some(p) => drain_as_peer(p),
        None => capture::sync_here(),
    }
    HANDLER.with(|h| h.set(peer));
}

/// Peer `peer`'s handler did not finish inline: the network spawns it as a task next, which
/// is that peer's.
pub(crate) fn handler_detached() {
    let handler = HANDLER.with(Cell::get);
    set_handler_peer(None);
    NEXT_SPAWN.with(|n| n.set(handler));
}

/// Drains the capture as peer `peer`'s output, in this thread's test (if its capture is
/// exact).
fn drain_as_peer(peer: usize) {
    let exact = SCOPE.with(|s| s.borrow().as_ref().filter(|t| t.exact_capture()).cloned());
    if let Some(t) = exact {
        capture::drain_as(Owner::Test {
            t,
            peer: Some(peer),
        });
    }
}

/// Whether this thread runs a test whose capture is exact (see
/// [`TestContext::set_exact_capture`]).
pub(crate) fn exact_capture_here() -> bool {
    SCOPE.with(|s| s.borrow().as_ref().is_some_and(TestContext::exact_capture))
}

/// Whose output the capture drains on this thread now: this thread's test, and the peer
/// whose code runs, when known.
pub(crate) fn current_owner() -> Owner {
    match current_test_and_peer() {
        Some((t, peer)) => Owner::Test { t, peer },
        None => Owner::Nobody,
    }
}

/// Whose output the capture's reader thread drains (bytes nobody else drained soon enough,
/// or a pipe filling up): the only test running, and the peer of the only peer code running
/// in it, if there is one (most likely the writer; a thread of a peer's own is the guess's
/// blind spot); of several tests, the oldest.
pub(crate) fn reader_owner() -> Owner {
    let tests = lock(&TESTS);
    let t = match tests.as_slice() {
        [] => return Owner::Nobody,
        [t] => t,
        // Several tests at once: the lines are the oldest's, in no peer's lane (what they
        // are matters only to a failing run that printed, which is replayed alone; see
        // `TestContext::set_exact_capture`).
        [t, ..] => {
            return Owner::Test {
                t: t.clone(),
                peer: None,
            };
        }
    };
    // The innermost frame of each thread inside of one.
    let innermost = t.panics().innermost();
    let peer = match innermost.as_slice() {
        [(_, one, _)] => match one {
            Doing::Poll { peer, .. } => *peer,
            Doing::Call { peer } => Some(*peer),
        },
        _ => None,
    };
    Owner::Test { t: t.clone(), peer }
}

/// Test `t` starts (`true`) or ends in this process.
pub(crate) fn register_test(t: &TestContext, running: bool) {
    let mut tests = lock(&TESTS);
    tests.retain(|x| !x.same_test(t));
    if running {
        tests.push(t.clone());
    }
}

/// Makes this thread report its panics to test `t` (the test thread, and a real-time
/// runtime's workers through `on_thread_start`).
pub(crate) fn enter(t: &TestContext) {
    install_hook();
    SCOPE.with(|s| *s.borrow_mut() = Some(t.clone()));
    // A test thread runs one test after another: nothing of the last one's peers (a handler
    // cut short when its runtime was dropped) is this one's.
    PEER.with(|p| p.set(None));
    HANDLER.with(|h| h.set(None));
    NEXT_SPAWN.with(|n| n.set(None));
}

impl PanicScope {
    /// Runs `f` on this thread's part of the scope (made at the thread's first use); `None`
    /// on a thread whose thread-locals are being destroyed.
    fn here<T>(&self, f: impl FnOnce(&mut Here) -> T) -> Option<T> {
        HERE.try_with(|h| {
            let mut h = h.borrow_mut();
            let here = match &mut *h {
                Some(here) if here.scope == self.id => here,
                other => {
                    let lane = Arc::new(Lane::default());
                    lock(&self.lanes).push(lane.clone());
                    other.insert(Here {
                        scope: self.id,
                        lane,
                        tasks_changed: self.tasks_changed.load(Ordering::Acquire),
                        tasks: BTreeMap::new(),
                    })
                }
            };
            f(here)
        })
        .ok()
    }

    /// The current task belongs to `peer` (it just sent an RPC from one of peer's ends).
    pub(crate) fn note_task(&self, peer: usize) {
        let Some(id) = tokio::task::try_id() else {
            return;
        };
        let known = self.here(|here| match here.tasks.get_mut(&id) {
            Some((info, _)) if info.peer == Some(peer) => true,
            Some((info, _)) => {
                info.peer = Some(peer);
                false
            }
            None => false,
        });
        if known != Some(true) {
            self.book.lock().tasks.entry(id).or_default().peer = Some(peer);
            self.tasks_changed.fetch_add(1, Ordering::Release);
        }
    }

    /// Task `id` was spawned (tokio's spawn hook, on the spawning thread): it belongs to the
    /// peer whose code runs now.
    pub(crate) fn task_spawned(&self, id: tokio::task::Id, at: Option<&'static Location<'static>>) {
        let peer = NEXT_SPAWN.with(Cell::take).or_else(|| self.current_peer());
        let mut book = self.book.lock();
        let at = book.place(at);
        book.tasks.insert(id, TaskInfo { peer, at });
    }

    /// Task `id` ended (tokio's terminate hook).
    pub(crate) fn task_ended(&self, id: tokio::task::Id) {
        self.book.lock().tasks.remove(&id);
        self.here(|here| here.tasks.remove(&id));
    }

    /// A poll of task `id` begins on this thread (tokio's hook). No lock is taken but at a
    /// task's first poll on this thread and every [`CLOCK_SAMPLE`]-th poll.
    pub(crate) fn poll_started(&self, id: tokio::task::Id) {
        let sample = self.here(|here| {
            let changed = self.tasks_changed.load(Ordering::Acquire);
            if changed != here.tasks_changed {
                here.tasks.clear();
                here.tasks_changed = changed;
            }
            let (info, polls) = here.tasks.entry(id).or_insert_with(|| {
                let info = self.book.lock().tasks.get(&id).copied();
                (info.unwrap_or_default(), 0)
            });
            *polls += 1;
            let frame = Frame::Poll {
                peer: info.peer,
                at: info.at,
            };
            here.lane.publish_busiest(*polls, frame);
            here.lane.push(frame);
            here.lane.count_poll() % CLOCK_SAMPLE == 1
        });
        if sample == Some(true) {
            let clock = crate::vclock::now();
            self.book.lock().clock = Some(clock);
        }
    }

    /// The poll of a task ended on this thread: what is in the capture is the task's.
    pub(crate) fn poll_ended(&self, t: &TestContext) {
        // A task of no known peer is the grader's own: it prints nothing, and what another
        // thread printed meanwhile is drained by whoever comes next (a read per poll of the
        // grader's tasks would be most of the capture's cost).
        if let Some(Frame::Poll {
            peer: Some(peer), ..
        }) = self.here(|here| here.lane.pop()).flatten()
        {
            if t.exact_capture() {
                capture::drain_as(Owner::Test {
                    t: t.clone(),
                    peer: Some(peer),
                });
            }
        }
    }

    fn push_running(&self, frame: Frame) {
        self.here(|here| here.lane.push(frame));
    }

    fn pop_running(&self) {
        self.here(|here| here.lane.pop());
    }

    /// The innermost frame of each thread that is inside of one: its lane's index, what it
    /// is, and its number.
    fn innermost(&self) -> Vec<(usize, Doing, u64)> {
        let frames: Vec<(usize, Frame, u64)> = lock(&self.lanes)
            .iter()
            .enumerate()
            .filter_map(|(i, lane)| lane.innermost().map(|(f, n)| (i, f, n)))
            .collect();
        let book = self.book.lock();
        frames
            .into_iter()
            .map(|(i, frame, number)| (i, book.doing(frame), number))
            .collect()
    }

    /// What the test's threads are inside of now (the innermost, per thread), and for how
    /// long (wall time, as seen by the callers of this function: the coordinator looks every
    /// second); and how many task polls ran so far.
    pub(crate) fn doing_now(&self) -> (Vec<(Doing, Duration)>, u64) {
        let innermost = self.innermost();
        let mut seen = lock(&self.seen);
        let now = wall_now();
        let out = innermost
            .iter()
            .map(|(lane, doing, number)| {
                let since = *seen.entry((*lane, *number)).or_insert(now);
                (doing.clone(), now.saturating_duration_since(since))
            })
            .collect();
        seen.retain(|key, _| innermost.iter().any(|(l, _, n)| (*l, *n) == *key));
        (out, self.polls())
    }

    /// Task polls so far, on all the test's threads.
    fn polls(&self) -> u64 {
        lock(&self.lanes).iter().map(|l| l.polls()).sum()
    }

    /// The runtime's clock as a recent poll read it, and the polls so far.
    pub(crate) fn clock_sample(&self) -> (Option<tokio::time::Instant>, u64) {
        let polls = self.polls();
        (self.book.lock().clock, polls)
    }

    /// The task polled most so far (on one thread), if any task was polled.
    pub(crate) fn busiest(&self) -> Option<Busiest> {
        let (polls, frame) = lock(&self.lanes)
            .iter()
            .filter_map(|l| l.busiest())
            .max_by_key(|(polls, _)| *polls)?;
        Some(Busiest {
            doing: self.book.lock().doing(frame),
            polls,
        })
    }

    /// How far the test has come: a count of the polls of its tasks and the calls of the
    /// harness into its peers begun so far (the watchdog's measure of progress).
    pub(crate) fn steps(&self) -> u64 {
        lock(&self.lanes).iter().map(|l| l.entries()).sum()
    }

    /// The calling thread starts (`true`) or stops driving the test's virtual-time runtime.
    pub(crate) fn drive_runtime(&self, driving: bool) {
        let tid = if driving { linux_thread_id() } else { 0 };
        self.runtime_thread.store(tid, Ordering::Relaxed);
    }

    /// The Linux id of the thread that drives the test's virtual-time runtime now, if one
    /// does and it is known.
    pub(crate) fn runtime_thread(&self) -> Option<u64> {
        Some(self.runtime_thread.load(Ordering::Relaxed)).filter(|&tid| tid != 0)
    }

    /// The handler of `peer` panicked (the network says so right after the panic): the
    /// first panic, if it has no peer yet, is its.
    pub(crate) fn note_handler_panic(&self, peer: usize) {
        if let Some(first) = &*lock(&self.first) {
            first.set_peer_if_unknown(peer);
        }
    }

    /// The first panic recorded for this test, if any.
    pub(crate) fn first(&self) -> Option<PanicHandle> {
        lock(&self.first).clone()
    }

    /// The peer the code running now belongs to, as far as the grader can tell: a call the
    /// harness makes on a peer, a peer's RPC handler, or a task of a peer that sent an RPC.
    fn current_peer(&self) -> Option<usize> {
        PEER.with(Cell::get)
            .or(HANDLER.with(Cell::get))
            .or_else(|| {
                let id = tokio::task::try_id()?;
                self.book.lock().tasks.get(&id).and_then(|i| i.peer)
            })
    }

    fn record(&self, info: &PanicHookInfo<'_>) -> PanicHandle {
        let peer = self.current_peer();
        let record = PanicRecord {
            peer,
            location: info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
                .unwrap_or_else(|| "an unknown location".to_string()),
            message: payload_message(info.payload()),
            backtrace: std::backtrace::Backtrace::force_capture().to_string(),
        };
        self.remember(record)
    }

    /// Keeps `record` (as the first panic, if it is).
    fn remember(&self, record: PanicRecord) -> PanicHandle {
        let handle = PanicHandle(Arc::new(Mutex::new(record)));
        let mut first = lock(&self.first);
        if first.is_none() {
            *first = Some(handle.clone());
        }
        handle
    }
}

/// The test this thread runs, and the peer the code running now belongs to (what a panic
/// here would be attributed to); `None` outside a test.
pub(crate) fn current_test_and_peer() -> Option<(TestContext, Option<usize>)> {
    let t = SCOPE.with(|s| s.borrow().clone())?;
    let peer = t.panics().current_peer();
    Some((t, peer))
}

/// Leaves the test: this thread's panics go to the default hook again.
pub(crate) fn leave() {
    SCOPE.with(|s| *s.borrow_mut() = None);
}

/// Runs `f`, a call of the harness into peer `peer` (make, start, get_state, snapshot, kill,
/// inspect), so that a panic in it is the peer's.
pub fn as_peer<T>(peer: usize, f: impl FnOnce() -> T) -> T {
    // The test's context is borrowed, not cloned, at both ends (a call costs no reference
    // count); `f` never enters or leaves a test, so the scope is the same at both.
    let in_test = SCOPE.with(|s| match &*s.borrow() {
        Some(t) => {
            t.panics().push_running(Frame::Call { peer });
            true
        }
        None => false,
    });
    let outer = PEER.with(|p| p.replace(Some(peer)));
    struct Restore(Option<usize>, bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(peer) = PEER.with(Cell::get) {
                drain_as_peer(peer);
            }
            PEER.with(|p| p.set(self.0));
            if self.1 {
                SCOPE.with(|s| {
                    if let Some(t) = &*s.borrow() {
                        t.panics().pop_running();
                    }
                });
            }
        }
    }
    let _restore = Restore(outer, in_test);
    f()
}

/// A panic payload's text.
pub(crate) fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// A panic that happened out of this process (in a peer's own process, process mode), or a
/// peer process that ended by itself: recorded for test `t` as the hook records a panic, and
/// the test fails.
pub(crate) fn record_elsewhere(t: &TestContext, record: PanicRecord) {
    let handle = t.panics().remember(record);
    fail_with_panic(t, handle);
}

/// Notes the panic `handle` holds in `t`'s record and fails the test with it (a panic seen by
/// the hook, or one reported from a peer's own process).
fn fail_with_panic(t: &TestContext, handle: PanicHandle) {
    let r = handle.record();
    t.try_note(crate::trace::Event::Panic {
        peer: r.peer,
        location: r.location,
        message: r.message,
    });
    t.fail(Fail::PeerPanicked(handle));
}

/// Installs the process-wide hook once: a panic on a thread in a test's scope is recorded
/// there and printed nowhere; any other panic goes to the hook that was installed before.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let test = SCOPE.with(|s| s.borrow().clone());
            match test {
                Some(t) => {
                    let handle = t.panics().record(info);
                    fail_with_panic(&t, handle);
                }
                None => previous(info),
            }
        }));
    });
}
