//! Explore mode (issue 22): the reference passes it, and it finds the classic bugs. The
//! measurement for the report (how many seeds explore needs to find each bug of the set,
//! median over five starting seeds; the reference's seeds per second):
//!
//! ```sh
//! cargo test -p grader --release --test explore -- --ignored --nocapture
//! ```

mod bugged;
mod support;

use grader::Options;
use grader::explore::{self, Profile};
use grader::report::Outcome;
use grader::runner::run_cases;
use grader::suites::{TestCase, suite};
use raft_core::Bug;

fn options(seed: u64, runs: u32) -> Options {
    Options {
        seed,
        runs,
        jobs: 2,
        // The bundles of these deliberate failures are not worth keeping.
        out: Some(std::env::temp_dir().join("raft-lab-explore-bundles")),
        ..Options::default()
    }
}

fn explore_case(suite: fn() -> Vec<TestCase>) -> TestCase {
    suite()
        .into_iter()
        .find(|c| c.name == explore::NAME)
        .expect("the suite has the explore test")
}

/// The first failing seed of explore on `suite`'s peer from seed `start` on, within `max`
/// seeds: how many seeds it took, and the failure's first line.
fn first_failure(suite: fn() -> Vec<TestCase>, start: u64, max: u32) -> Option<(u32, String)> {
    let case = explore_case(suite);
    let batch = 20;
    let mut done = 0;
    while done < max {
        let opts = options(start + u64::from(done), batch);
        let s = run_cases(&[case], &opts, &mut std::io::sink()).expect("report written");
        let first = s
            .runs
            .iter()
            .filter_map(|r| match &r.outcome {
                Outcome::Failed { message, .. } => Some((r.run, message)),
                Outcome::Passed(_) => None,
            })
            .min_by_key(|(run, _)| *run);
        if let Some((run, message)) = first {
            let line = message.lines().next().unwrap_or("").to_string();
            return Some((done + run + 1, line));
        }
        done += batch;
    }
    None
}

#[test]
fn the_reference_passes_200_seeds() {
    let s = run_cases(
        &[explore_case(suite::<raft_rpc::RaftPeer>)],
        &options(1, 200),
        &mut std::io::sink(),
    )
    .expect("report written");
    let failures: Vec<String> = s
        .runs
        .iter()
        .filter(|r| !r.passed())
        .map(|r| format!("seed {}: {:?}", r.run_seed, r.outcome))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn seeds_cover_every_fault() {
    let profiles: Vec<Profile> = (0..200).map(Profile::of).collect();
    assert!(
        profiles
            .iter()
            .any(|p| p.partitions && p.unreliable && p.snapshots)
    );
    assert!(profiles.iter().any(|p| !p.partitions && !p.unreliable));
    assert!(profiles.iter().any(|p| p.reordering && p.long_delays));
    assert!(profiles.iter().any(|p| p.one_way && !p.partitions));
    assert!(profiles.iter().any(|p| p.one_way && p.partitions));
}

/// Explore finds every bug of the set that breaks a property it checks within 200 seeds (in
/// the measurement, at most 54). Two it does not find: a leader that ignores a higher term in
/// replies breaks no safety property and is healed by the liveness phase (the extra suite's
/// `leader_steps_down_on_reply_x` catches it), and backing up one entry at a time is only
/// slow.
#[test]
fn explore_finds_the_safety_bugs() {
    bugged::each_bug(|bug, suite| {
        if matches!(bug, Bug::IgnoreTermInReplies | Bug::BackupOneEntry) {
            return;
        }
        let found = first_failure(suite, 1, 200);
        assert!(found.is_some(), "{bug:?} not found in 200 seeds");
    });
}

/// The measurement: for each bug, the seeds explore needed to find it from five starting
/// seeds (the median), and what it found; then the reference's seeds per second.
#[test]
#[ignore = "a measurement, run with --release --ignored --nocapture"]
fn measure_seeds_to_find_each_bug() {
    let max = 2000;
    bugged::each_bug(|bug, suite| {
        let mut needed = Vec::new();
        let mut what = Vec::new();
        for k in 0..5u64 {
            match first_failure(suite, 1 + k * 100_000, max) {
                Some((n, line)) => {
                    needed.push(n);
                    what.push(line);
                }
                None => needed.push(u32::MAX),
            }
        }
        needed.sort_unstable();
        let shown: Vec<String> = needed
            .iter()
            .map(|n| {
                if *n == u32::MAX {
                    format!(">{max}")
                } else {
                    n.to_string()
                }
            })
            .collect();
        println!(
            "{bug:?}: median {} seeds (runs: {}); first found: {}",
            shown[2],
            shown.join(", "),
            what.first().map_or("-", String::as_str)
        );
    });
}
