//! Peer panics fail the test at once. Tokio catches a panic in a spawned task and labrpc-sim
//! one in an RPC handler, so without this a peer whose ticker panicked would pass a test dead,
//! or fail ten seconds later with an unrelated message. A process-wide panic hook records any
//! panic on a thread that runs a test (its location, message, the peer when the grader can
//! tell, and the backtrace) in that test's context, fails the test, and prints nothing.
//!
//! Which peer: the grader knows it when the panic happens inside a call the harness makes on a
//! peer ([`as_peer`]), in an RPC handler (the network reports the handler's server), or in a
//! task of a peer that has sent an RPC before (`PanicScope::note_task`). A panic in a task that has done
//! none of these is reported as a peer task's panic without a number.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::panic::PanicHookInfo;
use std::sync::{Arc, Mutex, Once};

use crate::fail::Fail;
use crate::harness::TestContext;
use crate::harness::lock;

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

/// A test's panics: which tasks belong to which peer, and the first panic recorded. Lives in
/// the test's context.
#[derive(Default)]
pub(crate) struct PanicScope {
    tasks: Mutex<BTreeMap<tokio::task::Id, usize>>,
    first: Mutex<Option<PanicHandle>>,
}

thread_local! {
    static SCOPE: RefCell<Option<TestContext>> = const { RefCell::new(None) };
    static PEER: Cell<Option<usize>> = const { Cell::new(None) };
    /// The peer whose RPC handler runs inline on this thread right now.
    static HANDLER: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Peer `peer`'s RPC handler starts running inline on this thread (`Some`), or stopped
/// (`None`): a panic in between is that peer's, whatever task it runs in.
pub(crate) fn set_handler_peer(peer: Option<usize>) {
    HANDLER.with(|h| h.set(peer));
}

/// Makes this thread report its panics to test `t` (the test thread, and a real-time
/// runtime's workers through `on_thread_start`).
pub(crate) fn enter(t: &TestContext) {
    install_hook();
    SCOPE.with(|s| *s.borrow_mut() = Some(t.clone()));
}

impl PanicScope {
    /// The current task belongs to `peer` (it just sent an RPC from one of peer's ends).
    pub(crate) fn note_task(&self, peer: usize) {
        if let Some(id) = tokio::task::try_id() {
            lock(&self.tasks).insert(id, peer);
        }
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
                lock(&self.tasks).get(&id).copied()
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
    let outer = PEER.with(|p| p.replace(Some(peer)));
    struct Restore(Option<usize>);
    impl Drop for Restore {
        fn drop(&mut self) {
            PEER.with(|p| p.set(self.0));
        }
    }
    let _restore = Restore(outer);
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
                    let r = handle.record();
                    t.try_note(crate::trace::Event::Panic {
                        peer: r.peer,
                        location: r.location,
                        message: r.message,
                    });
                    t.fail(Fail::PeerPanicked(handle));
                }
                None => previous(info),
            }
        }));
    });
}
