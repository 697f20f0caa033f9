//! The machinery under a [`RaftPeer`](crate::RaftPeer): the shared state, the rule that runs
//! after every input (persist, then send, then queue the applies), and the three kinds of
//! background task (ticker, applier, one sender per other peer). A native peer has no
//! applier: each step's applies go to the service as one batch.
//!
//! Locking: one `std::sync::Mutex` around the core, never held across an `.await`. Every task
//! re-checks the killed flag under that lock before touching the core, the persister or the
//! network, and either races its waits against the shutdown signal with a `biased` select
//! (ticker, applier) or checks the `dead` flag before each turn and is woken by `kill`
//! (senders), so a killed peer stops at once and never sends, applies or persists again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use raft_core::{Apply, Durability, LogIndex, PeerId, Raft, Request, Response};
use raft_persist::Persister;
use tokio::runtime::Handle;
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Instant;
#[cfg(doc)]
use tokio::time::MissedTickBehavior;

use crate::log_changes::LogChanges;
use crate::state_encoder::StateEncoder;
use crate::transport::LabrpcTransport;
use lab_api::{ApplyMsg, ApplySender};

/// Requests waiting for peer `to`'s sender task, indexed by peer (this peer's slot unused).
type Outboxes = Vec<mpsc::UnboundedSender<Request>>;

/// Where a peer delivers what it applies.
pub(crate) enum ApplySink {
    /// The lab's rendezvous channel, one message at a time, fed by the applier task.
    Lab(ApplySender),
    /// An embedding service's queue: each step's applies as one batch, handed over under the
    /// core lock (so in log order) with no task in between.
    Native(mpsc::UnboundedSender<Vec<ApplyMsg>>),
}

/// The driver's end of the [`ApplySink`].
enum ApplyOut {
    /// To the applier task; the channel itself is kept to close it at `kill`.
    Lab(mpsc::UnboundedSender<Apply>, ApplySender),
    /// Straight to the service.
    Native(mpsc::UnboundedSender<Vec<ApplyMsg>>),
}

/// The core lock: taken by every input and every look, held for one step of the core and
/// what it hands out (never across an await or a call into the harness), released by a plain
/// store (a std mutex's release is one more locked instruction). A thread that finds it taken
/// yields. A panic under it leaves the state as it was, the best there is.
type CoreLock<T> = spin::mutex::Mutex<T, spin::relax::Yield>;
type CoreGuard<'a> = spin::mutex::MutexGuard<'a, Core>;

/// What the core lock guards.
pub(crate) struct Core {
    /// The protocol state; `None` when the persisted state could not be restored (the peer is
    /// then dead from the start).
    pub(crate) raft: Option<Raft>,
    /// Set once by `kill`; nothing happens after it.
    pub(crate) killed: bool,
    /// The persisted state's bytes, kept up to date incrementally.
    encoder: StateEncoder,
    /// A save the core let wait ([`Durability::MayWait`]) is owed: the next save comes before
    /// anything else leaves.
    owed: bool,
    /// Where the log was cut since the peer started, for the grader's looks.
    pub(crate) changes: LogChanges,
}

/// Everything the peer's tasks share.
pub(crate) struct Inner {
    /// This peer.
    pub(crate) me: PeerId,
    /// Cluster size.
    pub(crate) peers: usize,
    core: CoreLock<Core>,
    persister: Persister,
    transport: LabrpcTransport,
    /// Requests for each peer's sender task.
    outboxes: Outboxes,
    /// Wakes peer `to`'s sender task to call [`Raft::replicate`] (coalesced appends).
    wakeups: Vec<Notify>,
    /// Applies in log order: to the applier task (lab) or to the service (native).
    apply_out: ApplyOut,
    /// `true` once killed; the ticker and the applier race their waits against it.
    shutdown: watch::Sender<bool>,
    /// `true` once killed: what a sender task looks at before each turn (a load, where
    /// polling the shutdown signal each turn took its lock; `kill` wakes the senders).
    dead: Arc<AtomicBool>,
    /// Counts the changes of what the grader's `inspect` shows, for
    /// [`LabRaft::view_version`](lab_api::LabRaft::view_version): bumped under the core lock
    /// by every input that changed it, read without the lock.
    pub(crate) view_version: AtomicU64,
    /// The runtime the peer was made on, so that `start` may be called from any thread.
    runtime: Handle,
}

impl Inner {
    /// Builds the shared state and starts the ticker and the applier on the current runtime.
    /// A peer without a core starts killed and starts no task.
    pub(crate) fn launch(
        me: PeerId,
        raft: Option<Raft>,
        persister: Persister,
        transport: LabrpcTransport,
        apply: ApplySink,
        tick: Duration,
    ) -> Arc<Inner> {
        let (apply_out, applier_job) = match apply {
            ApplySink::Lab(apply_ch) => {
                let (queue, queue_rx) = mpsc::unbounded_channel();
                (
                    ApplyOut::Lab(queue, apply_ch.clone()),
                    Some((queue_rx, apply_ch)),
                )
            }
            ApplySink::Native(batches) => (ApplyOut::Native(batches), None),
        };
        let (shutdown, _) = watch::channel(false);
        let dead = raft.is_none();
        // A restored peer's state starts after its snapshot.
        let encoder = StateEncoder::new(raft.as_ref().map_or(LogIndex(0), Raft::snapshot_index));
        let peers = transport.peers();
        let (outboxes, outbox_rxs): (Outboxes, Vec<_>) =
            (0..peers).map(|_| mpsc::unbounded_channel()).unzip();
        let inner = Arc::new(Inner {
            me,
            peers,
            core: CoreLock::new(Core {
                raft,
                killed: dead,
                encoder,
                owed: false,
                changes: LogChanges::default(),
            }),
            persister,
            transport,
            outboxes,
            wakeups: (0..peers).map(|_| Notify::new()).collect(),
            apply_out,
            shutdown,
            dead: Arc::new(AtomicBool::new(false)),
            view_version: AtomicU64::new(0),
            runtime: Handle::current(),
        });
        if dead {
            inner.kill();
            return inner;
        }
        // Whatever restoring produced (normally nothing) goes out like any other step.
        inner.with_raft(|_| ());
        if let Some((queue_rx, apply_ch)) = applier_job {
            let stop = inner.shutdown.subscribe();
            let dead = Arc::clone(&inner.dead);
            inner.runtime.spawn(applier(queue_rx, apply_ch, dead, stop));
        }
        let stop = inner.shutdown.subscribe();
        inner.runtime.spawn(ticker(Arc::clone(&inner), tick, stop));
        for (to, outbox) in outbox_rxs.into_iter().enumerate() {
            if to != inner.me.0 {
                let task = sender(Arc::clone(&inner), PeerId(to), outbox);
                inner.runtime.spawn(task);
            }
        }
        inner
    }

    /// The core lock. A panic while holding it is a bug already reported by that panic; the
    /// state is still the best there is, so poisoning is ignored.
    pub(crate) fn lock(&self) -> CoreGuard<'_> {
        self.core.lock()
    }

    /// Runs one input on the core and then handles what it produced: persist first (or later,
    /// when the core allows it), then hand each message to its peer's sender task, then queue
    /// the applies. `None` (and nothing done) when the peer is killed or has no core.
    pub(crate) fn with_raft<T>(self: &Arc<Self>, input: impl FnOnce(&mut Raft) -> T) -> Option<T> {
        let mut core = self.lock();
        if core.killed {
            return None;
        }
        let Core {
            raft,
            encoder,
            owed,
            changes,
            ..
        } = &mut *core;
        let raft = raft.as_mut()?;
        let before = ViewKey::of(raft, changes);
        let out = input(raft);
        let ready = raft.ready();
        changes.note(&ready.persist);
        if ViewKey::of(raft, changes) != before {
            // Under the core lock, before it is released: a look that reads the old number
            // and then the view waits for this input to end (see `view_version`).
            self.view_version.fetch_add(1, Ordering::Release);
        }
        let changed = !ready.persist.is_empty();
        match ready.durability {
            // The encoder needs no record of appends it did not see: it encodes whatever
            // follows the entries it holds on the next save.
            Durability::MayWait => *owed |= changed,
            Durability::Now if changed || *owed => {
                // The lab persister stores the whole state on every change; the encoder
                // re-encodes only new entries and hands over shared pieces, not a copy.
                let state = encoder.encode(raft, &ready.persist);
                self.persister
                    .save_parts(state, raft.snapshot_data().clone());
                *owed = false;
            }
            Durability::Now => {}
        }
        for outbound in ready.messages {
            // Fails only once that sender has stopped (killed).
            if let Some(outbox) = self.outboxes.get(outbound.to.0) {
                let _ = outbox.send(outbound.request);
            }
        }
        for to in ready.replicate {
            // A wake-up not yet taken is kept (one permit), so none is lost.
            if let Some(wakeup) = self.wakeups.get(to.0) {
                wakeup.notify_one();
            }
        }
        match &self.apply_out {
            ApplyOut::Lab(queue, _) => {
                for apply in ready.apply {
                    // Fails only once the applier has stopped (killed or channel closed).
                    let _ = queue.send(apply);
                }
            }
            ApplyOut::Native(batches) if !ready.apply.is_empty() => {
                // Fails only once the service dropped its receiver.
                let _ = batches.send(ready.apply.into_iter().map(apply_msg).collect());
            }
            ApplyOut::Native(_) => {}
        }
        Some(out)
    }

    /// Stops the peer: sets the killed flag and fires the shutdown signal under the lock, so
    /// that no task can act after this returns, and takes back every apply the harness has
    /// not taken yet.
    pub(crate) fn kill(&self) {
        let mut core = self.lock();
        core.killed = true;
        self.dead.store(true, Ordering::Release);
        self.shutdown.send_replace(true);
        // The sender tasks wait on their wake-ups, not on the shutdown signal.
        for wakeup in &self.wakeups {
            wakeup.notify_one();
        }
        if let ApplyOut::Lab(_, apply_ch) = &self.apply_out {
            apply_ch.close();
        }
    }
}

/// Everything of the core that the grader's `inspect` shows, in a few numbers: the same key
/// before and after an input means the view did not change (the log's entries change only
/// by appends, which move its end, and by removals, which `LogChanges` counts).
#[derive(Clone, Copy, PartialEq, Eq)]
struct ViewKey {
    term: u64,
    voted_for: Option<usize>,
    role: raft_core::Role,
    commit: u64,
    snapshot: (u64, u64),
    last: u64,
    removals: u64,
}

impl ViewKey {
    fn of(raft: &Raft, changes: &LogChanges) -> ViewKey {
        ViewKey {
            term: raft.current_term().0,
            voted_for: raft.voted_for().map(|p| p.0),
            role: raft.role(),
            commit: raft.commit_index().0,
            snapshot: (raft.snapshot_index().0, raft.snapshot_term().0),
            last: raft.last_log_index().0,
            removals: changes.version(),
        }
    }
}

/// Sends peer `to` the requests queued for it, in order, each as soon as it is queued: the
/// calls run concurrently inside this task, so a slow or unreachable peer (a labrpc call can
/// take seconds to fail) never delays the next request. Each outcome goes back to the core.
/// One long-lived task per peer costs less than a task per message.
async fn sender(inner: Arc<Inner>, to: PeerId, mut outbox: mpsc::UnboundedReceiver<Request>) {
    let transport = &inner.transport;
    let wakeup = &inner.wakeups[to.0];
    // One waiter kept across turns (registering a new one each turn costs the Notify's lock).
    let mut woken = std::pin::pin!(wakeup.notified());
    let mut calls = FuturesUnordered::new();
    loop {
        // Checked before anything is polled: a killed peer sends nothing more.
        if inner.dead.load(Ordering::Acquire) {
            return;
        }
        tokio::select! {
            biased;
            Some((request, response)) = calls.next(), if !calls.is_empty() => {
                let request: Request = request;
                let response: Option<Response> = response;
                inner.with_raft(|raft| match response {
                    Some(response) => raft.step_response(to, &request, response),
                    None => raft.step_failure(to, &request),
                });
            }
            request = outbox.recv() => match request {
                // Not polled (so not sent) before the next turn has checked `dead`.
                Some(request) => calls.push(call(transport, to, request)),
                None => return,
            },
            () = &mut woken => {
                woken.set(wakeup.notified());
                // Let the tasks already runnable (proposers woken by applies) propose first,
                // so that their entries join this AppendEntries.
                tokio::task::yield_now().await;
                inner.with_raft(|raft| raft.replicate(to));
            }
        }
    }
}

/// One request's round trip, giving the request back with the outcome.
async fn call(
    transport: &LabrpcTransport,
    to: PeerId,
    request: Request,
) -> (Request, Option<Response>) {
    let response = transport.send(to, &request).await;
    (request, response)
}

/// Completes once the peer is killed (or its shutdown signal is gone). Made once per task and
/// polled again each turn, instead of a new subscription per wait.
async fn killed(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|killed| *killed).await;
}

/// Calls `Raft::tick` every `tick` until the peer is killed. A late tick is delayed rather
/// than bunched, so a busy runtime slows logical time instead of firing elections in bursts.
///
/// What `tokio::time::interval` with [`MissedTickBehavior::Delay`] does, tick for tick and
/// timer operation for timer operation, without reading the runtime's clock at every tick
/// (a lock; the interval reads it to tell a late tick): see [`next_tick`].
async fn ticker(inner: Arc<Inner>, tick: Duration, stop: watch::Receiver<bool>) {
    let mut due = Instant::now() + tick;
    let sleep = tokio::time::sleep_until(due);
    tokio::pin!(sleep);
    // One wait for the kill across ticks: a new one per tick took the shutdown signal's
    // locks (its value's and its waiters') at every tick of every peer. It is polled only to
    // register it (see `unless_stopped`): a tick looks at the killed flag alone.
    let stopped = killed(stop);
    tokio::pin!(stopped);
    let mut stopped = KillWait::new(stopped);
    let dead = &*inner.dead;
    while unless_stopped(dead, &mut stopped, sleep.as_mut())
        .await
        .is_some()
    {
        due = next_tick(due, tick);
        if inner.with_raft(Raft::tick).is_none() {
            return;
        }
        // Where the interval registers its timer again: at the next wait, after the tick.
        sleep.as_mut().reset(due);
    }
}

/// When the tick after the one `due` now is (`Delay`'s rule): `due + tick`, or `now + tick`
/// if this one came more than 5 ms late. Lateness is first judged by the system clock, which
/// costs no lock: a runtime clock that runs (real time) reads the same, and a paused one
/// (virtual time) is never late, since it moves only while no task is ready. Only a tick the
/// system clock calls late asks the runtime's clock, which has the last word in both.
///
/// So the answer is the runtime clock's in both: in virtual time the system clock can only
/// cost a read of the runtime's (a paused clock that advances by itself goes to the earliest
/// timer, this one's at the latest, so it reads at most 1 ms past `due`), never change the
/// answer. (Moved by hand with `tokio::time::advance`, which nothing here does, a paused
/// clock could make a tick late that this does not see: the ticks would then catch up.)
#[allow(clippy::disallowed_methods)] // a filter only: the runtime's clock decides (above)
fn next_tick(due: Instant, tick: Duration) -> Instant {
    const LATE: Duration = Duration::from_millis(5);
    let late_by_system = std::time::Instant::now() > due.into_std() + LATE;
    if late_by_system {
        let now = Instant::now();
        if now > due + LATE {
            return now + tick;
        }
    }
    due + tick
}

/// Moves applies from the queue to the rendezvous apply channel, in order, without ever
/// holding the core lock (the harness calls `snapshot` from the task that reads the channel).
/// What the queue holds goes over in one `send_all`: the reader takes each message as it
/// would from a loop of sends, but this task is woken once per batch, not per message.
async fn applier(
    mut queue: mpsc::UnboundedReceiver<Apply>,
    apply_ch: ApplySender,
    dead: Arc<AtomicBool>,
    stop: watch::Receiver<bool>,
) {
    let flag = &*dead;
    let stopped = killed(stop);
    tokio::pin!(stopped);
    let mut stopped = KillWait::new(stopped);
    let mut batch = Vec::with_capacity(APPLY_BATCH);
    loop {
        let Some(received) =
            unless_stopped(flag, &mut stopped, queue.recv_many(&mut batch, APPLY_BATCH)).await
        else {
            return;
        };
        if received == 0 {
            return;
        }
        let msgs = batch.drain(..).map(apply_msg);
        match unless_stopped(flag, &mut stopped, apply_ch.send_all(msgs)).await {
            None => return,
            Some(Ok(())) => {}
            Some(Err(_)) => {
                tracing::debug!("apply channel closed; applier stops");
                return;
            }
        }
    }
}

/// A task's wait for its peer's kill ([`killed`]), made once per task. Once a poll has
/// registered it, it needs no new poll to wake the task at `kill` (the task's waker does not
/// change), and each poll takes the shutdown signal's lock.
struct KillWait<'a, F> {
    wait: std::pin::Pin<&'a mut F>,
    registered: bool,
}

impl<'a, F: Future<Output = ()>> KillWait<'a, F> {
    fn new(wait: std::pin::Pin<&'a mut F>) -> Self {
        KillWait {
            wait,
            registered: false,
        }
    }

    /// Polls the wait unless it is registered and nothing woke the task since (`woken`).
    fn poll(&mut self, cx: &mut std::task::Context<'_>, woken: bool) -> Poll<()> {
        if self.registered && !woken {
            return Poll::Pending;
        }
        let polled = self.wait.as_mut().poll(cx);
        self.registered = polled.is_pending();
        polled
    }
}

/// `work`'s output, or `None` once the peer is killed. Like a `biased` select of `stopped`
/// then `work`, but the killed flag (`dead`, one load) is what each poll looks at first, and
/// `stopped` is polled only while `work` is pending and only to register it: at the first
/// wait of the task, and again after any wake-up that left `work` pending (`kill` sets
/// `dead` before it signals, so a registered wait is never needed to see the kill).
async fn unless_stopped<F: Future>(
    dead: &AtomicBool,
    stopped: &mut KillWait<'_, impl Future<Output = ()>>,
    work: F,
) -> Option<F::Output> {
    let mut work = std::pin::pin!(work);
    // Every poll of this future after its first is a wake-up.
    let mut woken = false;
    std::future::poll_fn(|cx| {
        if dead.load(Ordering::Acquire) {
            return Poll::Ready(None);
        }
        if let Poll::Ready(out) = work.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        let polled = stopped.poll(cx, woken);
        woken = true;
        match polled {
            Poll::Ready(()) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// Most applies the applier takes from its queue at a time.
const APPLY_BATCH: usize = 256;

/// The lab's form of an apply.
fn apply_msg(apply: Apply) -> ApplyMsg {
    match apply {
        Apply::Command { index, command, .. } => ApplyMsg::Command {
            index: index.0,
            command,
        },
        Apply::Snapshot { index, term, data } => ApplyMsg::Snapshot {
            term: term.0,
            index: index.0,
            data,
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::time::Instant;

    use super::next_tick;

    const TICK: Duration = Duration::from_millis(10);

    /// A tick on time (as every tick is in virtual time) is followed one period after it.
    #[tokio::test(start_paused = true)]
    async fn the_tick_after_one_on_time_is_a_period_later() {
        let due = Instant::now();
        assert_eq!(next_tick(due, TICK), due + TICK);
        tokio::time::sleep(Duration::from_millis(3)).await;
        assert_eq!(next_tick(due, TICK), due + TICK);
    }

    /// A tick more than 5 ms late (real time) is followed one period after now, not after it
    /// was due (`MissedTickBehavior::Delay`).
    #[tokio::test]
    async fn the_tick_after_a_late_one_is_a_period_after_now() {
        let due = Instant::now();
        std::thread::sleep(Duration::from_millis(20));
        let next = next_tick(due, TICK);
        assert!(next >= due + Duration::from_millis(20) + TICK, "{next:?}");
    }
}
