//! The harness fails broken peers, with Go's messages: fake peers that never elect, elect
//! everyone, apply out of order, panic, or block forever.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use grader::report::Outcome;
use grader::runner::run_cases;
use grader::suites::{TestCase, all_tests};
use grader::{Options, Summary};
use lab_api::{ApplyMsg, ApplySender, LabRaft, PeerArgs, Started};
use labrpc_sim::Service;

/// What the fake does.
trait Behaviour: Send + Sync + 'static {
    const LEADER: bool;
    const APPLY_INDEX: Option<u64> = None;
    const PANIC_IN_MAKE: bool = false;
    const BLOCK_IN_GET_STATE: bool = false;
    const BLOCK_IN_TASK: bool = false;
}

struct Fake<B> {
    apply: ApplySender,
    next: AtomicU64,
    _b: std::marker::PhantomData<B>,
}

impl<B: Behaviour> LabRaft for Fake<B> {
    fn make(args: PeerArgs) -> Arc<Self> {
        assert!(!B::PANIC_IN_MAKE, "fake peer refuses to start");
        if B::BLOCK_IN_TASK && args.me == 1 {
            tokio::spawn(async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                println!("about to block");
                // A task that blocks the (single) runtime thread for good.
                std::thread::sleep(Duration::from_secs(3600));
            });
        }
        Arc::new(Fake {
            apply: args.apply_ch,
            next: AtomicU64::new(1),
            _b: Default::default(),
        })
    }
    fn service(self: Arc<Self>) -> Service {
        Service::new("Raft")
    }
    fn start(self: &Arc<Self>, command: Bytes) -> Option<Started> {
        if !B::LEADER {
            return None;
        }
        let index = self.next.fetch_add(1, Ordering::SeqCst);
        if let Some(applied) = B::APPLY_INDEX {
            let tx = self.apply.clone();
            tokio::spawn(async move {
                tx.send(ApplyMsg::Command {
                    index: applied,
                    command,
                })
                .await
            });
        }
        Some(Started { index, term: 1 })
    }
    fn get_state(&self) -> (u64, bool) {
        if B::BLOCK_IN_GET_STATE {
            // A deadlocked peer: blocks the (single) runtime thread for good.
            std::thread::sleep(Duration::from_secs(3600));
        }
        (1, B::LEADER)
    }
    fn snapshot(self: &Arc<Self>, _index: u64, _snapshot: Bytes) {}
    fn kill(&self) {}
}

struct NeverLeader;
impl Behaviour for NeverLeader {
    const LEADER: bool = false;
}
struct AllLeaders;
impl Behaviour for AllLeaders {
    const LEADER: bool = true;
}
struct AppliesIndex5;
impl Behaviour for AppliesIndex5 {
    const LEADER: bool = true;
    const APPLY_INDEX: Option<u64> = Some(5);
}
struct Panics;
impl Behaviour for Panics {
    const LEADER: bool = false;
    const PANIC_IN_MAKE: bool = true;
}
struct Blocks;
impl Behaviour for Blocks {
    const LEADER: bool = false;
    const BLOCK_IN_GET_STATE: bool = true;
}
struct BlocksInTask;
impl Behaviour for BlocksInTask {
    const LEADER: bool = false;
    const BLOCK_IN_TASK: bool = true;
}

fn case<R: LabRaft>(name: &str) -> TestCase {
    *all_tests::<R>()
        .iter()
        .find(|c| c.name == name)
        .expect("test exists")
}

fn run_one<R: LabRaft>(name: &str, watchdog: Option<Duration>) -> (Summary, String) {
    let opts = Options {
        seed: 3,
        watchdog,
        ..Options::default()
    };
    let mut out = Vec::new();
    let summary = run_cases(&[case::<R>(name)], &opts, &mut out).expect("report written");
    (summary, String::from_utf8(out).expect("utf-8 report"))
}

fn failure(s: &Summary) -> String {
    match &s.runs[0].outcome {
        Outcome::Failed { message, .. } => message.clone(),
        Outcome::Passed(_) => panic!("expected a failure"),
    }
}

#[test]
fn no_leader_fails_initial_election() {
    let (s, out) = run_one::<Fake<NeverLeader>>("initial_election_2a", None);
    assert_eq!((s.passed, s.failed), (0, 1));
    assert_eq!(failure(&s), "expected one leader, got none");
    assert!(out.contains("Test (2A): initial election ...\n--- FAIL: TestInitialElection2A ("));
    assert!(out.contains("replay: cargo run -p grader -- --test initial_election_2a --seed 3"));
    assert!(out.lines().any(|l| l == "0 passed, 1 failed"));
    // Ten rounds of 450-549 ms: the checker gave up after about five virtual seconds.
    let secs = s.runs[0].secs;
    assert!((4.5..5.5).contains(&secs), "{secs}");
}

#[test]
fn two_leaders_in_one_term_fail() {
    let (s, _) = run_one::<Fake<AllLeaders>>("re_election_2a", None);
    assert_eq!(failure(&s), "term 1 has 3 (>1) leaders");
}

#[test]
fn apply_out_of_order_fails_promptly_with_go_message() {
    let (s, out) = run_one::<Fake<AppliesIndex5>>("basic_agree_2b", None);
    assert_eq!(failure(&s), "apply error: server 1 apply out of order 5");
    assert!(out.contains("Go's harness exits the whole test binary"));
    assert!(
        s.runs[0].secs < 1.0,
        "failed promptly, not at the end: {}",
        s.runs[0].secs
    );
}

#[test]
fn snapshot_applier_wants_exact_next_index() {
    let (s, _) = run_one::<Fake<AppliesIndex5>>("snapshot_basic_2d", None);
    assert_eq!(
        failure(&s),
        "apply error: server 1 apply out of order, expected index 1, got 5"
    );
}

#[test]
fn a_panicking_peer_fails_the_test_not_the_grader() {
    let (s, _) = run_one::<Fake<Panics>>("initial_election_2a", None);
    let message = failure(&s);
    assert!(
        message.starts_with("peer 0 panicked at lab-grader/tests/harness_catches.rs:")
            && message.ends_with(": fake peer refuses to start"),
        "{message}"
    );
}

#[test]
fn a_blocked_peer_is_abandoned_by_the_watchdog() {
    let (s, out) = run_one::<Fake<Blocks>>("initial_election_2a", Some(Duration::from_secs(2)));
    let message = failure(&s);
    assert!(
        message.starts_with("no result after 2 s of wall-clock time"),
        "{out}"
    );
    // What it saw, and no claim of a deadlock.
    assert!(
        message.contains("inside a call of the harness into peer 0 (make, start, get_state"),
        "{message}"
    );
    assert!(!message.contains("deadlock"), "{message}");
    assert_eq!((s.passed, s.failed), (0, 1));
}

#[test]
fn a_task_that_blocks_is_named_with_its_peer_and_where_it_was_spawned() {
    let (s, out) =
        run_one::<Fake<BlocksInTask>>("initial_election_2a", Some(Duration::from_secs(2)));
    let message = failure(&s);
    assert!(message.starts_with("no result after 2 s"), "{out}");
    if cfg!(tokio_unstable) {
        assert!(
            message.contains(
                "inside a task of peer 1 (spawned at lab-grader/tests/harness_catches.rs:"
            ),
            "{message}"
        );
    }
    assert!(message.contains("what each peer did last:"), "{message}");
}

#[test]
fn an_apply_error_stops_the_tests_after_it_as_go_exits() {
    let cases = [
        case::<Fake<AppliesIndex5>>("basic_agree_2b"),
        case::<Fake<AppliesIndex5>>("rpc_bytes_2b"),
        case::<Fake<AppliesIndex5>>("count_2b"),
    ];
    let opts = Options {
        seed: 3,
        ..Options::default()
    };
    let mut out = Vec::new();
    let s = run_cases(&cases, &opts, &mut out).expect("report written");
    let out = String::from_utf8(out).expect("utf-8 report");
    assert_eq!((s.passed, s.failed, s.runs.len()), (0, 1, 1), "{out}");
    assert!(out.contains("apply error: 2 test(s) not run"), "{out}");
}

/// In virtual time a poll blocked for 30 s of wall time ends its test then, well before the
/// 120 s budget (`--ignored`: it takes 30 s).
#[test]
#[ignore = "takes 30 s of wall time"]
fn a_poll_blocked_for_30_s_ends_the_test_early_in_virtual_time() {
    let (s, out) = run_one::<Fake<BlocksInTask>>("initial_election_2a", None);
    let message = failure(&s);
    assert!(message.starts_with("no result after 3"), "{out}");
    assert!(s.runs[0].secs < 40.0, "{}", s.runs[0].secs);
    if cfg!(tokio_unstable) {
        assert!(message.contains("inside a task of peer 1"), "{message}");
    }
    eprintln!("{message}");
}
