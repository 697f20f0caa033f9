//! The per-test context, the Rust counterpart of Go's `*testing.T`: the test's seed, where
//! its output goes, and its failure state. Failures from any task (the test body, a client
//! task, an applier) are recorded here and wake the runner, which stops the test at once.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

use crate::fail::Fail;
use crate::panics::PanicScope;
use crate::trace::{Event, Trace};

/// Locks a mutex, ignoring poisoning (a panicking test thread is reported by the runner).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A lock for the hot paths of a test run (issue 28): the task hooks' book (twice per poll),
/// the look gates, the event record, the monitor, the cluster's slots. Each is held for a few
/// instructions and never while a peer is called, and in virtual time only the watchdog (once
/// a second) ever competes with the test's thread. A `std::sync::Mutex` releases with an
/// atomic exchange, which on these paths cost as much as the work under the lock; this one
/// releases with a plain store, and a thread that finds it taken yields until it is free.
pub(crate) type HotLock<T> = spin::mutex::Mutex<T, spin::relax::Yield>;

/// Where a test's output goes (the runner forwards it to the report).
pub type Sink = Box<dyn Fn(&str) + Send + Sync>;

/// The five figures of Go's `  ... Passed --` line (spec 3.10).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Figures {
    /// Seconds since begin() (virtual seconds in virtual-time mode).
    pub secs: f64,
    /// Number of peers.
    pub peers: usize,
    /// RPCs sent since begin().
    pub rpcs: u64,
    /// Bytes sent since begin().
    pub bytes: u64,
    /// Highest index applied since begin() (`maxIndex - maxIndex0`).
    pub cmds: u64,
}

impl Figures {
    /// Go's line: `  ... Passed --  %4.1f  %d %4d %7d %4d`.
    pub fn passed_line(&self) -> String {
        format!(
            "  ... Passed --  {:4.1}  {} {:4} {:7} {:4}",
            self.secs, self.peers, self.rpcs, self.bytes, self.cmds
        )
    }
}

/// Something to run once the test body is over (Go's `defer cfg.cleanup()`).
pub trait Cleanup: Send + Sync {
    /// Marks the test finished, kills every peer, shuts the network, checks the time limit.
    fn cleanup(&self);
}

#[derive(Default)]
struct State {
    failure: Option<Fail>,
    passed: Option<Figures>,
    cleanups: Vec<Arc<dyn Cleanup>>,
    hints: Vec<&'static str>,
}

struct Inner {
    seed: u64,
    choices: labrpc_sim::Choices,
    title: &'static str,
    panics: PanicScope,
    trace: Trace,
    invariants: std::sync::atomic::AtomicBool,
    strict: std::sync::atomic::AtomicBool,
    unchecked: std::sync::atomic::AtomicU32,
    /// CPU nanoseconds of the grader's own checks on the test's threads (see
    /// [`TestContext::grader_work`]).
    grader_cpu_ns: std::sync::atomic::AtomicU64,
    exact_capture: std::sync::atomic::AtomicBool,
    sink: Sink,
    state: Mutex<State>,
    /// `state.failure.is_some()` ([`FAILED`]) and whether cleanup has begun ([`FINISHED`]),
    /// written under the state's lock and read without it: tasks ask at every turn.
    flags: std::sync::atomic::AtomicU8,
    failed: Notify,
}

/// A bit of `Inner::flags`: the test has a failure.
const FAILED: u8 = 1;
/// A bit of `Inner::flags`: cleanup has begun.
const FINISHED: u8 = 2;

/// A test's context (Go's `t`). Cheap to clone; clones share one test.
#[derive(Clone)]
pub struct TestContext {
    inner: Arc<Inner>,
}

impl TestContext {
    /// A context for one test run with seed `seed`, printing through `sink`.
    pub fn new(seed: u64, sink: Sink) -> Self {
        Self::titled(seed, "", sink)
    }

    /// A context for a run of the test titled `title` (what begin() prints; the suites'
    /// table is the one place a title is written).
    pub fn titled(seed: u64, title: &'static str, sink: Sink) -> Self {
        Self::with_choices(seed, title, sink, None)
    }

    /// A context for a run of the test titled `title` with seed `seed` whose random choices
    /// are `replay`'s recorded ones (`None`: drawn from the seed, see [`crate::seed::choices`]).
    pub fn with_choices(
        seed: u64,
        title: &'static str,
        sink: Sink,
        replay: Option<&labrpc_sim::Recorded>,
    ) -> Self {
        let inner = Inner {
            seed,
            choices: crate::seed::choices(seed, replay),
            title,
            panics: PanicScope::default(),
            trace: Trace::default(),
            invariants: std::sync::atomic::AtomicBool::new(true),
            strict: std::sync::atomic::AtomicBool::new(false),
            unchecked: std::sync::atomic::AtomicU32::new(0),
            grader_cpu_ns: std::sync::atomic::AtomicU64::new(0),
            exact_capture: std::sync::atomic::AtomicBool::new(true),
            sink,
            state: Mutex::default(),
            flags: std::sync::atomic::AtomicU8::new(0),
            failed: Notify::new(),
        };
        TestContext {
            inner: Arc::new(inner),
        }
    }

    /// The test's seed: every random choice of the test derives from it.
    pub fn seed(&self) -> u64 {
        self.inner.seed
    }

    /// The test's random choices (see [`labrpc_sim::choices`]): every random decision of the
    /// run is drawn from here.
    pub fn choices(&self) -> &labrpc_sim::Choices {
        &self.inner.choices
    }

    /// The test's panic bookkeeping (see [`crate::panics`]).
    pub(crate) fn panics(&self) -> &PanicScope {
        &self.inner.panics
    }

    /// The test's event record (see [`crate::trace`]).
    pub(crate) fn trace(&self) -> &Trace {
        &self.inner.trace
    }

    /// Records `event` in the test's record (and prints its row with `--log`). What the
    /// peers printed before it is recorded first (see [`crate::capture`]).
    pub fn note(&self, event: Event) {
        crate::capture::sync_here();
        let row = self.inner.trace.push(event);
        self.live(row);
    }

    /// Records a line that peer `peer` (`None`: not known) printed (from the capture).
    pub(crate) fn note_print(&self, peer: Option<usize>, line: String) {
        let row = self.inner.trace.push_line(peer, "PRINT", "print", line);
        self.live(row);
    }

    /// Whether `other` is a clone of this context (the same test run).
    pub(crate) fn same_test(&self, other: &TestContext) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// [`TestContext::note`] unless the record is busy (from the panic hook).
    pub(crate) fn try_note(&self, event: Event) {
        let row = self.inner.trace.try_push(event);
        self.live(row);
    }

    /// Records that the test runs `n` peers whose messages `describe` renders (a harness of
    /// its own, like Lab 4's, calls this where `make_config` would).
    pub fn record_peers(&self, n: usize, describe: crate::trace::Describe) {
        let header = self.inner.trace.set_peers(n, describe);
        self.live(header);
    }

    /// Records one stage of an RPC of `method` (a harness of its own calls this from its
    /// network observer).
    pub fn record_rpc(&self, rpc: crate::trace::Rpc, method: &str) {
        let row = self.inner.trace.push_rpc(rpc, method, None);
        self.live(row);
    }

    /// Records peer `peer`'s inspected state, if it changed since the last time.
    pub fn record_state(&self, peer: usize, state: crate::trace::StateKey) {
        let row = self.inner.trace.push_state(peer, state);
        self.live(row);
    }

    /// Prints a row of the live view (`--log`), if there is one.
    pub(crate) fn live(&self, row: Option<String>) {
        if let Some(row) = row {
            self.print(&row);
        }
    }

    /// Whether the harness checks Raft's safety properties continuously on peers that offer
    /// [`lab_api::LabRaft::inspect`] (on by default; `--no-invariants` turns it off to get
    /// the Go verdict alone). Set before the body runs.
    pub fn set_invariants(&self, on: bool) {
        self.inner
            .invariants
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// See [`TestContext::set_invariants`].
    pub fn invariants(&self) -> bool {
        self.inner
            .invariants
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Strict mode: a check that could not decide within its budget (Lab 4's
    /// linearizability check) fails the test instead of passing with a note. Off by default;
    /// the grade command turns it on. Set before the body runs.
    pub fn set_strict(&self, on: bool) {
        self.inner
            .strict
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// See [`TestContext::set_strict`].
    pub fn strict(&self) -> bool {
        self.inner.strict.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Records that a check of this run could not decide within its budget and let the run
    /// go on (outside strict mode): the summary counts such runs, so that a pass that was
    /// not fully checked never looks like one that was.
    pub fn note_unchecked(&self) {
        self.inner
            .unchecked
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Runs `f`, work of the grader's own that runs on the test's thread and takes CPU (a
    /// check of a whole history for linearizability), and counts its CPU time apart: it is
    /// in the run's CPU time, but not in what the CPU warning holds against the peers (see
    /// [`crate::cpu`]). `f` must not await (it is timed on this thread).
    pub fn grader_work<T>(&self, f: impl FnOnce() -> T) -> T {
        let cpu0 = crate::cpu::thread_now();
        let out = f();
        let spent = crate::cpu::thread_now().saturating_sub(cpu0);
        self.inner.grader_cpu_ns.fetch_add(
            u64::try_from(spent.as_nanos()).unwrap_or(u64::MAX),
            std::sync::atomic::Ordering::Relaxed,
        );
        out
    }

    /// CPU seconds of the grader's own work counted so far (see [`TestContext::grader_work`]).
    pub fn grader_cpu_secs(&self) -> f64 {
        self.inner
            .grader_cpu_ns
            .load(std::sync::atomic::Ordering::Relaxed) as f64
            / 1e9
    }

    /// How many checks of this run gave no verdict (see [`TestContext::note_unchecked`]).
    pub fn unchecked(&self) -> u32 {
        self.inner
            .unchecked
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether what the peers print is attributed to its peer as it is printed (on by
    /// default): the capture drains its pipe after every stretch of a peer's code (see
    /// [`crate::capture`]). Off, the run's printed lines are drained in bulk and their lanes
    /// are a guess; the runner turns it off for runs whose record no one will read unless
    /// they fail, and replays a failing one that printed with it on.
    pub(crate) fn set_exact_capture(&self, on: bool) {
        self.inner
            .exact_capture
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// See [`TestContext::set_exact_capture`].
    pub(crate) fn exact_capture(&self) -> bool {
        self.inner
            .exact_capture
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The test's title, e.g. `Test (2A): initial election` (empty when not given).
    pub fn title(&self) -> &'static str {
        self.inner.title
    }

    /// Prints text exactly as given (Go's `fmt.Printf`).
    pub fn print(&self, text: &str) {
        (self.inner.sink)(text);
    }

    /// Records a failure (the first one wins) and wakes the runner. [`Fail::Finishing`] is
    /// not a failure and is ignored.
    pub fn fail(&self, fail: Fail) {
        if matches!(fail, Fail::Finishing) {
            return;
        }
        let mut st = lock(&self.inner.state);
        if st.failure.is_none() {
            st.failure = Some(fail);
            self.inner
                .flags
                .fetch_or(FAILED, std::sync::atomic::Ordering::Release);
            drop(st);
            self.inner.failed.notify_waiters();
        }
    }

    /// Whether the test has failed (Go's `t.Failed()`).
    pub fn failed(&self) -> bool {
        self.inner.flags.load(std::sync::atomic::Ordering::Acquire) & FAILED != 0
    }

    /// Completes once the test has failed.
    pub async fn failure_signal(&self) {
        loop {
            let notified = self.inner.failed.notified();
            if self.failed() {
                return;
            }
            notified.await;
        }
    }

    /// Takes the recorded failure, if any.
    pub fn take_failure(&self) -> Option<Fail> {
        let mut st = lock(&self.inner.state);
        self.inner
            .flags
            .fetch_and(!FAILED, std::sync::atomic::Ordering::Release);
        st.failure.take()
    }

    /// Whether cleanup has begun (Go's 2022+ `checkFinished`).
    pub fn finished(&self) -> bool {
        self.inner.flags.load(std::sync::atomic::Ordering::Acquire) & FINISHED != 0
    }

    /// Records what the peer under test says is not written yet ([`lab_api::LabRaft::missing`]);
    /// the runner adds it to a failure's message.
    pub fn set_hints(&self, hints: Vec<&'static str>) {
        lock(&self.inner.state).hints = hints;
    }

    /// The recorded hints (empty for a finished implementation).
    pub fn hints(&self) -> Vec<&'static str> {
        lock(&self.inner.state).hints.clone()
    }

    /// Registers a cleanup to run after the body (make_config does this).
    pub fn defer_cleanup(&self, cleanup: Arc<dyn Cleanup>) {
        lock(&self.inner.state).cleanups.push(cleanup);
    }

    /// Marks the test finished and runs the registered cleanups (the runner calls this).
    pub fn run_cleanups(&self) {
        let cleanups = {
            let mut st = lock(&self.inner.state);
            self.inner
                .flags
                .fetch_or(FINISHED, std::sync::atomic::Ordering::Release);
            std::mem::take(&mut st.cleanups)
        };
        for c in cleanups.iter().rev() {
            c.cleanup();
        }
    }

    /// Runs `body` as this test's body: it races the failure signal (biased, so a failure
    /// recorded by any task ends the body at once), then the cleanups run. Returns the
    /// test's failure, if any. The runner runs every suite test through this; a test of a
    /// peer outside the grader can too.
    pub async fn run(&self, body: impl Future<Output = Result<(), Fail>>) -> Result<(), Fail> {
        let result = tokio::select! {
            biased;
            () = self.failure_signal() => Ok(()),
            r = body => r,
        };
        if let Err(e) = result {
            self.fail(e);
        }
        self.run_cleanups();
        self.take_failure().map_or(Ok(()), Err)
    }

    /// Records the figures of a passing end() (the runner's tables use them).
    pub fn record_passed(&self, figures: Figures) {
        lock(&self.inner.state).passed = Some(figures);
    }

    /// The figures recorded by end(), if it passed.
    pub fn passed(&self) -> Option<Figures> {
        lock(&self.inner.state).passed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passed_line_matches_go_format() {
        let f = Figures {
            secs: 4.0,
            peers: 3,
            rpcs: 48,
            bytes: 13200,
            cmds: 0,
        };
        assert_eq!(
            f.passed_line(),
            "  ... Passed --   4.0  3   48   13200    0"
        );
        let f = Figures {
            secs: 123.45,
            peers: 5,
            rpcs: 10700,
            bytes: 33_695_245,
            cmds: 308,
        };
        assert_eq!(
            f.passed_line(),
            "  ... Passed --  123.5  5 10700 33695245  308"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn first_failure_wins_and_wakes_waiters() {
        let t = TestContext::new(1, Box::new(|_| {}));
        let t2 = t.clone();
        let waiter = tokio::spawn(async move { t2.failure_signal().await });
        tokio::task::yield_now().await;
        t.fail(Fail::Finishing);
        assert!(!t.failed());
        t.fail(Fail::NoLeader);
        t.fail(Fail::TermsDisagree);
        waiter.await.unwrap();
        assert_eq!(
            t.take_failure().unwrap().to_string(),
            "expected one leader, got none"
        );
    }
}
