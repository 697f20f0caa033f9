//! A peer that panics anywhere fails its test at once, with the peer, the place and the
//! message, in virtual and in real time: in a task of its own, in an RPC handler, or in a
//! method the harness calls. Tokio and the network would otherwise swallow the panic.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use grader::report::Outcome;
use grader::runner::run_cases;
use grader::suites::all_tests;
use grader::{Options, Summary};
use lab_api::{LabRaft, PeerArgs, Started};
use labrpc_sim::{ClientEnd, Service};

/// Where the fake panics.
trait Bug: Send + Sync + 'static {
    /// Peer 1's ticker panics after it has pinged the others a few times.
    const IN_TICKER: bool = false;
    /// Peer 2's handler panics on its fourth ping.
    const IN_HANDLER: bool = false;
    /// Peer 1's ticker panics before it ever sends anything.
    const SILENT_TASK: bool = false;
    /// get_state panics on peer 0.
    const IN_GET_STATE: bool = false;
}

struct Fake<B> {
    me: usize,
    pings: AtomicU64,
    dead: AtomicBool,
    _bug: std::marker::PhantomData<B>,
}

async fn ticker<B: Bug>(peer: Arc<Fake<B>>, ends: Vec<ClientEnd>) {
    for round in 0..100u32 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if peer.dead.load(Ordering::SeqCst) {
            return;
        }
        if B::SILENT_TASK && peer.me == 1 && round == 0 {
            panic!("silent ticker bug");
        }
        for (j, end) in ends.iter().enumerate() {
            if j != peer.me {
                let _ = end.call("Raft.Ping", Bytes::new()).await;
            }
        }
        if B::IN_TICKER && peer.me == 1 && round == 5 {
            panic!("ticker bug in round {round}");
        }
    }
}

impl<B: Bug> LabRaft for Fake<B> {
    fn make(args: PeerArgs) -> Arc<Self> {
        let peer = Arc::new(Fake {
            me: args.me,
            pings: AtomicU64::new(0),
            dead: AtomicBool::new(false),
            _bug: std::marker::PhantomData,
        });
        tokio::spawn(ticker(Arc::clone(&peer), args.peers));
        peer
    }
    fn service(self: Arc<Self>) -> Service {
        Service::new("Raft").method("Ping", move |_args: Bytes| {
            let pings = self.pings.fetch_add(1, Ordering::SeqCst) + 1;
            let me = self.me;
            async move {
                assert!(
                    !(B::IN_HANDLER && me == 2 && pings == 4),
                    "handler bug on ping {pings}"
                );
                Ok(Bytes::new())
            }
        })
    }
    fn start(self: &Arc<Self>, _command: Bytes) -> Option<Started> {
        None
    }
    fn get_state(&self) -> (u64, bool) {
        assert!(!(B::IN_GET_STATE && self.me == 0), "get_state bug");
        (0, false)
    }
    fn snapshot(self: &Arc<Self>, _index: u64, _snapshot: Bytes) {}
    fn kill(&self) {
        self.dead.store(true, Ordering::SeqCst);
    }
}

struct InTicker;
impl Bug for InTicker {
    const IN_TICKER: bool = true;
}
struct InHandler;
impl Bug for InHandler {
    const IN_HANDLER: bool = true;
}
struct SilentTask;
impl Bug for SilentTask {
    const SILENT_TASK: bool = true;
}
struct InGetState;
impl Bug for InGetState {
    const IN_GET_STATE: bool = true;
}

fn run<R: LabRaft>(real_time: bool) -> Summary {
    let case = *all_tests::<R>()
        .iter()
        .find(|c| c.name == "initial_election_2a")
        .expect("test exists");
    let opts = Options {
        seed: 5,
        real_time,
        ..Options::default()
    };
    let mut out = Vec::new();
    run_cases(&[case], &opts, &mut out).expect("report written")
}

/// The failure message and backtrace; asserts the test failed within `secs`.
fn failure(s: &Summary, secs: f64) -> (String, Option<String>) {
    assert!(s.runs[0].secs < secs, "failed late: {} s", s.runs[0].secs);
    match &s.runs[0].outcome {
        Outcome::Failed {
            message, backtrace, ..
        } => (message.clone(), backtrace.clone()),
        Outcome::Passed(_) => panic!("a panicking peer passed"),
    }
}

fn assert_names(message: &str, who: &str, what: &str) {
    assert!(
        message.starts_with(&format!("{who} panicked at lab-grader/tests/panics.rs:"))
            && message.ends_with(what),
        "{message}"
    );
}

#[test]
fn a_panic_in_a_peer_task_fails_the_test_at_once_naming_the_peer() {
    let (message, backtrace) = failure(&run::<Fake<InTicker>>(false), 1.0);
    assert_names(&message, "peer 1", ": ticker bug in round 5");
    assert!(backtrace.is_some_and(|b| !b.is_empty()));
}

#[test]
fn a_panic_in_an_rpc_handler_fails_the_test_naming_the_server() {
    let (message, _) = failure(&run::<Fake<InHandler>>(false), 1.0);
    assert_names(&message, "peer 2", ": handler bug on ping 4");
}

#[test]
fn a_panic_in_a_task_that_never_sent_names_the_peer_that_spawned_it() {
    let (message, _) = failure(&run::<Fake<SilentTask>>(false), 1.0);
    if cfg!(tokio_unstable) {
        // tokio's spawn hook: the task is peer 1's from its spawn in make() on.
        assert_names(&message, "peer 1", ": silent ticker bug");
    } else {
        assert!(
            message.starts_with("a peer task panicked at lab-grader/tests/panics.rs:")
                && message.contains("silent ticker bug"),
            "{message}"
        );
    }
}

#[test]
fn a_panic_in_a_method_the_harness_calls_names_the_peer() {
    let (message, _) = failure(&run::<Fake<InGetState>>(false), 1.0);
    assert_names(&message, "peer 0", ": get_state bug");
}

#[test]
fn real_time_panics_fail_at_once_too() {
    let (message, _) = failure(&run::<Fake<InTicker>>(true), 3.0);
    assert_names(&message, "peer 1", ": ticker bug in round 5");
    let (message, _) = failure(&run::<Fake<InHandler>>(true), 3.0);
    assert_names(&message, "peer 2", ": handler bug on ping 4");
}
