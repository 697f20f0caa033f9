//! Checks one Jepsen-style key/value history and prints each part's outcome, steps and
//! cached states: `cargo run --release -p linearize --example stats -- FILE [whole]`
//! (`whole`: do not split by key; `REPEAT=n` in the environment checks it n times, for
//! profiling, and prints the median wall time per check after the first; `THREADS=n` searches parts on n threads, default 1; `STOP=0` searches every
//! part to the end instead of stopping at the first failure). BENCHMARKS.md measures
//! peak memory with it under `/usr/bin/time -v`.

use linearize::edn::parse_kv_history;
use linearize::models::Kv;
use linearize::{Config, check};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        return Err("usage: stats FILE [whole]".into());
    };
    let history = parse_kv_history(&std::fs::read_to_string(path)?)?;
    let partition = args.get(2).is_none_or(|a| a != "whole");
    let threads = std::env::var("THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(1);
    let config = Config {
        partition,
        threads,
        stop_at_first_failure: std::env::var("STOP").map_or(true, |s| s != "0"),
        ..Config::default()
    };
    let repeat: usize = std::env::var("REPEAT")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    let mut result = check(&Kv, &history, &config);
    let mut times = Vec::with_capacity(repeat);
    for _ in 1..repeat {
        let (checked, ms) = timed(|| check(&Kv, &history, &config));
        result = checked;
        times.push(ms);
    }
    if !times.is_empty() {
        times.sort_by(f64::total_cmp);
        println!(
            "wall per check (after one warm-up, {} runs): median {:.4} ms [min {:.4}, max {:.4}]",
            times.len(),
            times[times.len() / 2],
            times[0],
            times[times.len() - 1]
        );
    }
    println!("{:?} steps {}", result.verdict, result.steps);
    for p in &result.parts {
        println!(
            "  {:?}: {} ops {:?} steps {} states {} order {}",
            p.key,
            p.ops.len(),
            p.outcome,
            p.steps,
            p.states,
            p.order.len()
        );
    }
    Ok(())
}

/// Runs `f` and says how long it took in milliseconds of wall time (a measuring tool: the
/// library itself never reads a clock).
#[allow(clippy::disallowed_methods)]
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = std::time::Instant::now();
    let value = f();
    (value, start.elapsed().as_secs_f64() * 1e3)
}
