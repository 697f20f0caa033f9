//! Peers that print (issue 26): every way of printing, from everywhere a peer's code runs,
//! never blocks a run, never changes a verdict or a virtual-time result, and lands in the
//! lane of the peer that printed it.
//!
//! The CLI tests run the grader's command line in a child process (this test binary, run
//! again with `RAFT_LAB_PRINTS_CHILD` set), so the capture of the process's stdout and stderr
//! is the real one: `grader::cli::run_process` is what the `grader` binary runs.

mod support;

use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use grader::cli::{Implementation, run_process};
use lab_api::{LabRaft, PeerArgs, Started};
use labrpc_sim::Service;
use raft_rpc::RaftPeer;
use support::forward_to;

/// The variable that makes this binary the grader's command line (its value: the arguments).
const CHILD: &str = "RAFT_LAB_PRINTS_CHILD";

/// A peer `R` that prints, when `LOUD`, with every macro and writer from `make()`, from a task
/// it spawns, from a `std::thread`, from its RPC handlers and from `start()`. The quiet
/// variant does all the same things (the same tasks, timers and threads) without printing,
/// so the two must give the same results.
struct Printing<R, const LOUD: bool> {
    inner: Arc<R>,
    me: usize,
    stop: Arc<AtomicBool>,
}

impl<R: LabRaft, const LOUD: bool> LabRaft for Printing<R, LOUD> {
    #[allow(clippy::print_with_newline)] // print! and eprint! themselves are under test
    fn make(args: PeerArgs) -> Arc<Self> {
        let me = args.me;
        if LOUD {
            print!("p{me} print! from make\n");
            println!("p{me} println! from make");
            eprint!("p{me} eprint! from make\n");
            eprintln!("p{me} eprintln! from make");
            let _ = writeln!(std::io::stdout(), "p{me} io::stdout from make");
            let _ = writeln!(std::io::stderr().lock(), "p{me} io::stderr from make");
            let _ = dbg!(me);
            tracing::info!(topic = "boot", "p{me} tracing from make");
        }
        let stop = Arc::new(AtomicBool::new(false));
        let ticking = Arc::clone(&stop);
        tokio::spawn(async move {
            let mut k = 0;
            while !ticking.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(70)).await;
                if LOUD {
                    println!("p{me} task tick {k}");
                    eprintln!("p{me} task eprintln {k}");
                }
                k += 1;
            }
        });
        // Joined at once: a thread still unscheduled when the grader exits would print nothing,
        // and under load that made this test flaky.
        let _ = std::thread::spawn(move || {
            if LOUD {
                println!("thread of p{me} says hello");
            }
        })
        .join();
        Arc::new(Printing {
            inner: R::make(args),
            me,
            stop,
        })
    }
    fn service(self: Arc<Self>) -> Service {
        let me = self.me;
        Arc::clone(&self.inner)
            .service()
            .before_each(move |method| {
                if LOUD {
                    println!("p{me} handler {method}");
                }
            })
    }
    fn start(self: &Arc<Self>, command: Bytes) -> Option<Started> {
        if LOUD {
            println!("p{me} start", me = self.me);
        }
        self.inner.start(command)
    }
    fn kill(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.inner.kill();
    }
    forward_to!(inner: get_state, snapshot, missing, inspect);
    fn describe(method: &str, bytes: &[u8], reply: bool) -> Option<String> {
        R::describe(method, bytes, reply)
    }
}

/// The reference peer, of which peer 0 prints `FLOOD` lines in `make()` and as many again from
/// a task, one a poll.
struct Flood {
    inner: Arc<RaftPeer>,
}

const FLOOD: usize = 50_000;

impl LabRaft for Flood {
    fn make(args: PeerArgs) -> Arc<Self> {
        if args.me == 0 {
            for i in 0..FLOOD {
                println!("flood line {i} from make, long enough to look like a real debug line");
            }
            tokio::spawn(async {
                for i in 0..FLOOD {
                    println!("flood line {i} from a task");
                    tokio::task::yield_now().await;
                }
            });
        }
        Arc::new(Flood {
            inner: RaftPeer::make(args),
        })
    }
    forward_to!(inner: service, start, get_state, snapshot, kill, inspect);
}

/// The peers the child's command line can grade.
fn implementations() -> Vec<Implementation> {
    vec![
        Implementation::of::<Printing<RaftPeer, true>>("printing", "the reference, printing"),
        Implementation::of::<Printing<RaftPeer, false>>("quiet", "the reference, not printing"),
        Implementation::of::<Printing<raft_student::Raft, true>>(
            "printing-skeleton",
            "the skeleton, printing",
        ),
        Implementation::of::<Flood>("flood", "the reference, printing 100,000 lines"),
        Implementation::of::<RaftPeer>("reference", "the reference"),
    ]
}

/// In the child: the grader's command line, with the arguments of `RAFT_LAB_PRINTS_CHILD`.
#[test]
fn child_command_line() {
    let Ok(args) = std::env::var(CHILD) else {
        return;
    };
    let args: Vec<String> = std::iter::once("grader".to_string())
        .chain(args.split_whitespace().map(str::to_string))
        .collect();
    let code = run_process(&implementations(), args);
    println!("child exit status {code}");
}

/// What the child's command line printed (the grader's stdout and stderr), its status, and
/// the wall time it took.
struct Child {
    stdout: String,
    stderr: String,
    code: i32,
    wall: Duration,
}

fn child(args: &str) -> Child {
    let exe = std::env::current_exe().expect("this test binary");
    #[allow(clippy::disallowed_methods)] // the child's wall time is what is bounded
    let wall = Instant::now();
    let output = Command::new(exe)
        .args([
            "child_command_line",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD, args)
        .env_remove("RAFT_LOG")
        .output()
        .expect("the child runs");
    let wall = wall.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let code = stdout
        .lines()
        .find_map(|l| l.split("child exit status ").nth(1))
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or_else(|| panic!("the child ended early\n{stdout}\n{stderr}"));
    Child {
        stdout,
        stderr,
        code,
        wall,
    }
}

/// The Go lines of a run (`  ... Passed --  time peers rpcs bytes cmds`), test by test.
fn passed_lines(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| l.contains("... Passed --"))
        .collect()
}

#[test]
fn printing_changes_no_verdict_and_no_virtual_time_and_shows_nothing_when_passing() {
    let args = "--test TestBasicAgree2B --seed 3";
    let loud = child(&format!("{args} --impl printing"));
    let quiet = child(&format!("{args} --impl quiet"));
    assert_eq!(loud.code, 0, "{}\n{}", loud.stdout, loud.stderr);
    assert_eq!(quiet.code, 0, "{}\n{}", quiet.stdout, quiet.stderr);
    let (l, q) = (passed_lines(&loud.stdout), passed_lines(&quiet.stdout));
    assert_eq!(l.len(), 1, "{}", loud.stdout);
    assert_eq!(l, q, "the same virtual times, RPC and byte counts");
    for out in [&loud.stdout, &loud.stderr] {
        assert!(
            !out.contains("from make"),
            "a passing run shows no peer line:\n{out}"
        );
    }
    let all_2a = child("2A --seed 3 --impl printing");
    let quiet_2a = child("2A --seed 3 --impl quiet");
    assert_eq!(all_2a.code, 0, "{}\n{}", all_2a.stdout, all_2a.stderr);
    assert_eq!(passed_lines(&all_2a.stdout), passed_lines(&quiet_2a.stdout));
    assert_eq!(passed_lines(&all_2a.stdout).len(), 3);
}

#[test]
fn printing_passes_in_real_time_and_under_grade() {
    let real = child("--test TestInitialElection2A --seed 3 --real-time --impl printing");
    assert_eq!(real.code, 0, "{}\n{}", real.stdout, real.stderr);
    assert!(!real.stdout.contains("from make"), "{}", real.stdout);
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("grade.json");
    let graded = child(&format!(
        "grade --test TestInitialElection2A --runs 2 --real-time-runs 0 --seed 3 --impl printing \
         --json {}",
        json.display()
    ));
    assert_eq!(graded.code, 0, "{}\n{}", graded.stdout, graded.stderr);
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("record")).expect("json");
    assert_eq!(record["score"], record["max_score"], "{record}");
}

/// The events of a bundle's `log` lines of level PRINT: (peer, text).
fn printed(bundle: &Path) -> Vec<(Option<u64>, String)> {
    let events = std::fs::read_to_string(bundle.join("events.jsonl")).expect("events file");
    events
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["kind"] == "log" && v["level"] == "PRINT")
        .map(|v| {
            (
                v["peer"].as_u64(),
                v["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The peer a line of a [`Printing`] peer says it comes from: `p<N> ...`.
fn peer_of_line(text: &str) -> Option<u64> {
    text.strip_prefix('p')?.split(' ').next()?.parse().ok()
}

#[test]
fn a_failure_shows_each_peers_last_lines_and_the_bundle_has_them_in_their_lanes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = child(&format!(
        "--test TestInitialElection2A --seed 3 --impl printing-skeleton --out {}",
        dir.path().display()
    ));
    assert_eq!(run.code, 1, "the skeleton fails 2A\n{}", run.stdout);
    assert!(
        run.stdout
            .contains("the peers' last lines before the failure"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("peer 2 │ p2 task tick"),
        "{}",
        run.stdout
    );
    let bundle = dir.path().join("initial_election_2a-seed3");
    let lines = printed(&bundle);
    // Every line of a peer's code run by the grader's runtime is in that peer's lane: from
    // make(), its task, its handlers (the skeleton's answer nothing, but run).
    let mut checked = 0;
    for (peer, text) in &lines {
        if let Some(who) = peer_of_line(text) {
            assert_eq!(*peer, Some(who), "{text:?} in the lane of {peer:?}");
            checked += 1;
        }
    }
    for needle in [
        "p0 print! from make",
        "p2 println! from make",
        "p1 eprint! from make",
        "p2 eprintln! from make",
        "p0 io::stdout from make",
        "p1 io::stderr from make",
        "p2 task tick 3",
        "p2 task eprintln 3",
    ] {
        assert!(lines.iter().any(|(_, t)| t == needle), "{needle} missing");
    }
    assert!(
        lines
            .iter()
            .any(|(p, t)| t.contains("] me = 1") && *p == Some(1)),
        "dbg!"
    );
    // A std::thread's line is captured; its lane is best effort, and if the thread ran only
    // after the test ended, the line is the grader's stray output on stderr.
    assert!(
        lines.iter().any(|(_, t)| t == "thread of p1 says hello")
            || run.stderr.contains("thread of p1 says hello"),
        "{}",
        run.stderr
    );
    assert!(checked > 30, "{checked} lines checked");
    let events = std::fs::read_to_string(bundle.join("events.jsonl")).expect("events");
    assert!(
        events.contains(r#""peer":0,"level":"INFO","target":"prints","topic":"boot","message":"p0 tracing from make""#),
        "a tracing line from make() is the peer's, with its topic"
    );
}

/// Tests side by side share the process's output: the bundles of a stress run's failures are
/// made again from a replay of each seed alone, with every line in its exact lane.
#[test]
fn a_stress_runs_failing_bundles_have_exact_lanes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = child(&format!(
        "--test TestInitialElection2A --seed 3 --runs 4 --jobs 2 --impl printing-skeleton --out {}",
        dir.path().display()
    ));
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(!run.stderr.contains("not deterministic"), "{}", run.stderr);
    for k in 0..4 {
        let bundle = dir
            .path()
            .join(format!("initial_election_2a-seed{}-run{k}", 3 + k));
        let lines = printed(&bundle);
        assert!(lines.len() > 30, "{}", bundle.display());
        for (peer, text) in &lines {
            // (A line that a peer's std::thread cut in two, as it would on a terminal, is not
            // one of these.)
            if let Some(who) = peer_of_line(text) {
                assert_eq!(*peer, Some(who), "{text:?} in {}", bundle.display());
            }
        }
    }
    assert!(
        std::fs::read_dir(dir.path()).expect("dir").count() == 4,
        "no scratch left"
    );
}

#[test]
fn handlers_and_start_print_in_their_peers_lane() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = child(&format!(
        "--test TestBasicAgree2B --seed 3 --impl printing --trace --out {}",
        dir.path().display()
    ));
    assert_eq!(run.code, 0, "{}", run.stdout);
    let lines = printed(&dir.path().join("basic_agree_2b-seed3"));
    for kind in ["handler AppendEntries", "handler RequestVote", "start"] {
        let of_kind: Vec<_> = lines.iter().filter(|(_, t)| t.ends_with(kind)).collect();
        assert!(!of_kind.is_empty(), "no {kind} line");
        for (peer, text) in of_kind {
            if let Some(who) = peer_of_line(text) {
                assert_eq!(*peer, Some(who), "{text:?}");
            }
        }
    }
}

/// 100,000 lines from one peer: the verdict and virtual time of the plain reference, within
/// 60 s of wall time, and a bundle of at most 4 MB (the first and last 5,000 lines kept).
#[test]
fn a_flood_of_lines_changes_nothing_and_is_capped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let args = "--test TestInitialElection2A --seed 3";
    let flood = child(&format!(
        "{args} --impl flood --trace --out {}",
        dir.path().display()
    ));
    let plain = child(&format!("{args} --impl reference"));
    assert_eq!(flood.code, 0, "{}\n{}", flood.stdout, flood.stderr);
    assert_eq!(passed_lines(&flood.stdout), passed_lines(&plain.stdout));
    assert!(flood.wall < Duration::from_secs(60), "{:?}", flood.wall);
    let bundle = dir.path().join("initial_election_2a-seed3");
    let size = std::fs::metadata(bundle.join("events.jsonl"))
        .expect("events")
        .len();
    assert!(size < 4 << 20, "events.jsonl is {size} bytes");
    let lines = printed(&bundle);
    assert_eq!(
        lines.len(),
        10_000,
        "the first and last 5,000 lines of peer 0"
    );
    assert!(lines.iter().all(|(p, _)| *p == Some(0)));
    let events = std::fs::read_to_string(bundle.join("events.jsonl")).expect("events");
    assert!(
        events.contains("90000 lines of this peer left out here"),
        "the gap is noted"
    );
    eprintln!(
        "100,000 lines printed: {:.2} s of wall time (the plain reference: {:.2} s)",
        flood.wall.as_secs_f64(),
        plain.wall.as_secs_f64()
    );
}
