//! CPU per test run against the length of the log (issue 28): the shape of
//! `reliable_churn_2c` (5 peers, 3 clients submitting to every running peer, a disconnect,
//! restart or crash every 0.7 s), run until the log holds N entries, then healed and agreed
//! on, with the safety checks and the event record on, as in a stress run. Each run is one
//! virtual-time test on a current-thread runtime; its figure is the thread's CPU time, so a
//! loaded machine slows it little. If the checks grew with the log, CPU per entry would grow
//! with N; it must stay flat.
//!
//! ```sh
//! cargo bench -p grader --bench scale              # N = 500, 2000, 8000; 5 runs each
//! cargo bench -p grader --bench scale -- 500 2000  # chosen lengths
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use cpu_time::ThreadTime;
use grader::cmd::Cmd;
use grader::fail::Fail;
use grader::harness::{ELECTION_TIMEOUT, TestContext, make_config};
use raft_rpc::RaftPeer;
use tokio::time::sleep;

/// Runs per length (the median is reported).
const RUNS: u64 = 5;

/// The churn test's shape, until the log reaches `entries`.
async fn churn(t: TestContext, entries: u64) -> Result<(), Fail> {
    let servers = 5;
    let cfg = make_config::<RaftPeer>(&t, servers, false, false)?;
    cfg.begin();
    let stop = Arc::new(AtomicBool::new(false));
    let longest = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..3u64)
        .map(|me| {
            let (cfg, stop, longest) = (cfg.clone(), stop.clone(), longest.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let x = cfg.rand_int();
                    let mut index = None;
                    for i in 0..cfg.n() {
                        if let Some(started) = cfg.start_on(i, &Cmd::Int(x)) {
                            longest.fetch_max(started.index, Ordering::SeqCst);
                            index = Some(started.index);
                        }
                    }
                    let Some(index) = index else {
                        sleep(Duration::from_millis(79 + me * 17)).await;
                        continue;
                    };
                    for to in [10, 20, 50, 100, 200] {
                        if cfg.n_committed(index)?.0 > 0 {
                            break;
                        }
                        sleep(Duration::from_millis(to)).await;
                    }
                }
                Ok::<(), Fail>(())
            })
        })
        .collect();
    while longest.load(Ordering::SeqCst) < entries {
        if cfg.rand_below(1000) < 200 {
            cfg.disconnect(cfg.rand_server());
        }
        if cfg.rand_below(1000) < 500 {
            let i = cfg.rand_server();
            if cfg.raft(i).is_none() {
                cfg.start1(i)?;
            }
            cfg.connect(i);
        }
        if cfg.rand_below(1000) < 200 {
            let i = cfg.rand_server();
            if cfg.raft(i).is_some() {
                cfg.crash1(i);
            }
        }
        sleep(ELECTION_TIMEOUT * 7 / 10).await;
    }
    for i in 0..servers {
        if cfg.raft(i).is_none() {
            cfg.start1(i)?;
        }
        cfg.connect(i);
    }
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.map_err(|_| Fail::ClientFailed)??;
    }
    sleep(ELECTION_TIMEOUT).await;
    cfg.one(Cmd::Int(cfg.rand_int()), servers, true).await?;
    cfg.end()
}

/// One run: (CPU seconds, virtual seconds, commands agreed since begin()).
fn run_once(entries: u64, seed: u64, invariants: bool) -> (f64, f64, u64) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime");
    let t = TestContext::new(seed, Box::new(|_| {}));
    t.set_invariants(invariants);
    let cpu0 = ThreadTime::now();
    let result = runtime.block_on(t.run(churn(t.clone(), entries)));
    let cpu = cpu0.elapsed().as_secs_f64();
    if let Err(fail) = result {
        panic!("churn to {entries} entries, seed {seed}: {fail}");
    }
    let figures = t.passed().expect("a passing run records its figures");
    (cpu, figures.secs, figures.cmds)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; every other argument is a length.
    let mut lengths: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    if lengths.is_empty() {
        lengths = vec![500, 2000, 8000];
    }
    println!("scale: the churn test's shape run to N entries, {RUNS} runs each, median CPU");
    println!("entries  checks  virtual s  agreed  CPU ms/run  CPU us/entry");
    for &entries in &lengths {
        for invariants in [true, false] {
            let runs: Vec<(f64, f64, u64)> = (0..RUNS)
                .map(|k| run_once(entries, 5000 + k, invariants))
                .collect();
            let cpu = median(runs.iter().map(|r| r.0).collect());
            let secs = median(runs.iter().map(|r| r.1).collect());
            let agreed = median(runs.iter().map(|r| r.2 as f64).collect());
            println!(
                "{entries:7}  {:6}  {secs:9.1}  {agreed:6.0}  {:10.1}  {:12.1}",
                if invariants { "on" } else { "off" },
                cpu * 1e3,
                cpu * 1e6 / agreed.max(1.0),
            );
        }
    }
}
