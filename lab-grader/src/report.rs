//! What the grader prints: Go's per-test lines, failure blocks with replay commands, the
//! closing summary, and the table of a multi-run (`--runs`) stress run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use crate::harness::Figures;

/// How one test run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// end() printed its `Passed` line with these figures (`None` if the body never called
    /// end()).
    Passed(Option<Figures>),
    /// The failure message, exactly as printed.
    Failed {
        /// Go's message.
        message: String,
        /// An applier error (Go would have exited the whole test binary).
        apply_error: bool,
        /// The backtrace of the panic that failed it, if one did (for the failure's record;
        /// never printed with the message).
        backtrace: Option<String>,
    },
}

/// One run of one test.
#[derive(Clone, Debug, PartialEq)]
pub struct TestRun {
    /// The Rust function name.
    pub name: &'static str,
    /// The Go test name.
    pub go_name: &'static str,
    /// Which repetition (0-based) under `--runs`.
    pub run: u32,
    /// The run seed to replay it with (`--seed`).
    pub run_seed: u64,
    /// The test's own seed, derived from the run seed and the name.
    pub test_seed: u64,
    /// Test duration in seconds (virtual in virtual-time mode).
    pub secs: f64,
    /// CPU seconds of the threads that ran the test (see [`crate::cpu`]; zero for a test the
    /// watchdog abandoned).
    pub cpu_secs: f64,
    /// Of `cpu_secs`, the grader's own checks' (Lab 4's linearizability check; see
    /// [`crate::harness::TestContext::grader_work`]): the CPU warning leaves them out.
    pub check_cpu_secs: f64,
    /// The outcome.
    pub outcome: Outcome,
    /// Whether it ran on the real clock (then it cannot be replayed).
    pub real_time: bool,
    /// The bundle it left (events, report, timeline), if it wrote one.
    pub bundle: Option<PathBuf>,
    /// How many lines the peers printed or logged (see [`crate::capture`]).
    pub peer_lines: u64,
    /// Whether the grader's capture took printed output while it ran (its peers', or with
    /// `--jobs`, maybe that of a test beside it).
    pub printed: bool,
    /// How many of its checks gave no verdict within their budget (Lab 4's linearizability
    /// check outside strict mode): a pass with such a check was not fully checked.
    pub unchecked: u32,
    /// A failing run that kept no bundle: the run's cap (`--keep-bundles`) was reached.
    pub bundle_not_kept: bool,
}

impl Outcome {
    /// A failure with `message` that is not an apply error.
    pub fn failed(message: &str) -> Outcome {
        Outcome::Failed {
            message: message.to_string(),
            apply_error: false,
            backtrace: None,
        }
    }
}

impl TestRun {
    /// Whether it passed.
    pub fn passed(&self) -> bool {
        matches!(self.outcome, Outcome::Passed(_))
    }
}

/// The command that replays a test run exactly.
/// `flags` are the run's other replay-relevant flags (see [`crate::Options::replay_flags`]).
pub fn replay_command(name: &str, run_seed: u64, flags: &str) -> String {
    if name == crate::explore::NAME {
        return crate::explore::cli::replay_command(run_seed, flags);
    }
    format!("cargo run -p grader -- --test {name} --seed {run_seed}{flags}")
}

/// The command that replays a run from its choices file `file` (see [`crate::shrink`]).
pub fn choices_command(file: &std::path::Path, flags: &str) -> String {
    format!("cargo run -p grader -- --choices {}{flags}", file.display())
}

/// The last lines each peer printed or logged before a failure (empty when none did), shown
/// above the failure block; the bundle has all of them.
pub fn recent_lines(peers: &[crate::trace::RecentLines], real_time: bool) -> String {
    if peers.is_empty() {
        return String::new();
    }
    let clock = if real_time { "s" } else { "virtual s" };
    let mut s =
        format!("  the peers' last lines before the failure ({clock}; all in the bundle):\n");
    for p in peers {
        let who = p
            .peer
            .map_or_else(|| "peer ?".to_string(), |i| format!("peer {i}"));
        let shown = p.lines.len() as u64;
        if p.count > shown {
            let _ = writeln!(s, "    {who}: the last {shown} of {} lines", p.count);
        }
        for (t, text) in &p.lines {
            let _ = writeln!(s, "    {:>9.3}  {who} │ {text}", *t as f64 / 1e6);
        }
    }
    s
}

/// Go's failure block (`--- FAIL: TestX (N.NNs)` and the message), plus the seed and the
/// replay command.
pub fn failure_block(run: &TestRun, flags: &str) -> String {
    failure_block_from(run, flags, None)
}

/// [`failure_block`] of a run replayed from the choices file `choices` (`--choices`), if
/// any: its replay line is that command.
pub fn failure_block_from(run: &TestRun, flags: &str, choices: Option<&std::path::Path>) -> String {
    let Outcome::Failed {
        message,
        apply_error,
        ..
    } = &run.outcome
    else {
        return String::new();
    };
    let mut s = format!("--- FAIL: {} ({:.2}s)\n", run.go_name, run.secs);
    for line in message.lines() {
        let _ = writeln!(s, "    {line}");
    }
    if *apply_error {
        s.push_str(
            "    (Go's harness exits the whole test binary on an apply error; \
             this grader fails only this test)\n",
        );
    }
    let _ = writeln!(
        s,
        "    seed: {} (test seed {})",
        run.run_seed, run.test_seed
    );
    let replay = match choices {
        Some(file) if !run.real_time => choices_command(file, flags),
        _ => replay_line(run, flags),
    };
    let _ = writeln!(s, "    replay: {replay}");
    if let Some(b) = &run.bundle {
        let _ = writeln!(s, "    bundle: {}", bundle_path(b));
    } else if run.bundle_not_kept {
        s.push_str("    bundle: not kept (--keep-bundles)\n");
    }
    s
}

/// What a failure offers to replay it: the command, or why there is none (real time).
fn replay_line(run: &TestRun, flags: &str) -> String {
    if run.real_time {
        let see = if run.bundle.is_some() {
            "; see the bundle"
        } else {
            ""
        };
        format!("not available: real-time runs are not reproducible{see}")
    } else {
        replay_command(run.name, run.run_seed, flags)
    }
}

/// A bundle's path as printed, with a trailing slash (it is a directory).
pub fn bundle_path(dir: &std::path::Path) -> String {
    format!("{}/", dir.display())
}

/// The closing lines: PASS/FAIL, `N passed, M failed`, total test time and CPU time, a
/// warning for CPU-heavy virtual-time tests, the wall time, the seed.
pub fn summary_lines(runs: &[TestRun], seed: u64, real_time: bool, wall_secs: f64) -> String {
    let passed = runs.iter().filter(|r| r.passed()).count();
    let failed = runs.len() - passed;
    let total: f64 = runs.iter().map(|r| r.secs).sum();
    let cpu: f64 = runs.iter().map(|r| r.cpu_secs).sum();
    let clock = if real_time { "real" } else { "virtual" };
    let mut s = String::new();
    s.push_str(if failed == 0 { "PASS\n" } else { "FAIL\n" });
    let _ = writeln!(s, "{passed} passed, {failed} failed");
    let _ = writeln!(s, "total test time {total:.1} s ({clock})");
    let _ = writeln!(s, "total CPU {cpu:.2} s");
    if !real_time {
        s.push_str(&cpu_warning(runs));
    }
    s.push_str(&unchecked_note(runs));
    s.push_str(&bundles_note(runs));
    let _ = writeln!(s, "wall time {wall_secs:.1} s");
    let _ = writeln!(s, "seed {seed}");
    s
}

/// The note for passing runs with a check that gave no verdict within its budget (empty when
/// there are none): Go passes them with an `info:` line that scrolls away; the summary keeps
/// the count in view, with the tests and the flag that fails them.
pub fn unchecked_note(runs: &[TestRun]) -> String {
    let mut names: Vec<&str> = Vec::new();
    let mut count = 0usize;
    for r in runs.iter().filter(|r| r.passed() && r.unchecked > 0) {
        count += 1;
        if !names.contains(&r.name) {
            names.push(r.name);
        }
    }
    if count == 0 {
        return String::new();
    }
    format!(
        "note: {count} passing run(s) were not fully checked (a linearizability check ran out \
         of its step budget) in {}: they count as passed, as in Go; --strict fails them\n",
        names.join(", ")
    )
}

/// The note for failing runs that kept no bundle (empty when there are none): how many, and
/// how many did.
pub fn bundles_note(runs: &[TestRun]) -> String {
    let not_kept = runs.iter().filter(|r| r.bundle_not_kept).count();
    if not_kept == 0 {
        return String::new();
    }
    let kept = runs
        .iter()
        .filter(|r| !r.passed() && r.bundle.is_some())
        .count();
    format!(
        "note: {not_kept} failing run(s) kept no bundle ({kept} did; --keep-bundles N sets \
         how many may); each replays with its command\n"
    )
}

/// The warning for virtual-time runs whose CPU time, less the grader's own checks', is more
/// than [`crate::cpu::HEAVY_SHARE`] of their virtual duration (empty when there are none):
/// their verdict may not hold on the wall clock.
pub fn cpu_warning(runs: &[TestRun]) -> String {
    let mut heavy: Vec<&str> = Vec::new();
    for r in runs
        .iter()
        .filter(|r| crate::cpu::is_heavy(r.secs, r.cpu_secs - r.check_cpu_secs))
    {
        if !heavy.contains(&r.name) {
            heavy.push(r.name);
        }
    }
    if heavy.is_empty() {
        return String::new();
    }
    format!(
        "warning: CPU time above 1/6 of the virtual test time in {}: the Go lab expects about \
         1 min of CPU for 6 min of real time, so these verdicts may not hold on the wall clock \
         (try --real-time)\n",
        heavy.join(", ")
    )
}

#[derive(Default)]
struct Row {
    passed: usize,
    failed: usize,
    secs: Vec<f64>,
    cpu: Vec<f64>,
}

/// The `--runs` table: per test, passes, failures, mean, standard deviation, min and max of
/// the test time; then every failing run with its replay command.
pub fn stress_table(
    order: &[&'static str],
    runs: &[TestRun],
    real_time: bool,
    flags: &str,
) -> String {
    let mut rows: BTreeMap<&str, Row> = BTreeMap::new();
    for r in runs {
        let row = rows.entry(r.name).or_default();
        if r.passed() {
            row.passed += 1;
        } else {
            row.failed += 1;
        }
        row.secs.push(r.secs);
        row.cpu.push(r.cpu_secs);
    }
    let clock = if real_time { "s" } else { "vs" };
    // The name column fits the longest name (Lab 4's reach 64 characters).
    let w = order.iter().map(|n| n.len()).max().unwrap_or(0).max(34);
    let mut s = format!(
        "{:<w$} {:>6} {:>6} {:>8} {:>7} {:>8} {:>8} {:>8}\n",
        "test",
        "passed",
        "failed",
        format!("mean {clock}"),
        "stddev",
        "min",
        "max",
        "mean CPU"
    );
    for name in order {
        let Some(row) = rows.get(name) else { continue };
        let n = row.secs.len().max(1) as f64;
        let mean = row.secs.iter().sum::<f64>() / n;
        let var = row.secs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        let min = row.secs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = row.secs.iter().copied().fold(0.0, f64::max);
        let cpu = row.cpu.iter().sum::<f64>() / n;
        let _ = writeln!(
            s,
            "{name:<w$} {:>6} {:>6} {mean:>8.1} {:>7.2} {min:>8.1} {max:>8.1} {cpu:>8.3}",
            row.passed,
            row.failed,
            var.sqrt()
        );
    }
    if !real_time {
        s.push_str(&cpu_warning(runs));
    }
    let failures: Vec<&TestRun> = runs.iter().filter(|r| !r.passed()).collect();
    if !failures.is_empty() {
        s.push_str("\nfailing runs:\n");
        for r in failures {
            let msg = match &r.outcome {
                Outcome::Failed { message, .. } => message.lines().next().unwrap_or(""),
                Outcome::Passed(_) => "",
            };
            let _ = writeln!(s, "  {} (run {}): {msg}", r.name, r.run);
            let _ = writeln!(s, "    {}", replay_line(r, flags));
            if let Some(b) = &r.bundle {
                let _ = writeln!(s, "    bundle: {}", bundle_path(b));
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(outcome: Outcome) -> TestRun {
        TestRun {
            name: "initial_election_2a",
            go_name: "TestInitialElection2A",
            run: 0,
            run_seed: 42,
            test_seed: 7,
            secs: 4.5,
            cpu_secs: 0.25,
            check_cpu_secs: 0.0,
            outcome,
            real_time: false,
            bundle: None,
            peer_lines: 0,
            printed: false,
            unchecked: 0,
            bundle_not_kept: false,
        }
    }

    #[test]
    fn summary_counts_passes_that_were_not_fully_checked() {
        let ok = run(Outcome::Passed(None));
        assert!(
            !summary_lines(std::slice::from_ref(&ok), 1, false, 0.1).contains("not fully checked")
        );
        let unchecked = TestRun {
            unchecked: 2,
            ..ok.clone()
        };
        let s = summary_lines(&[ok, unchecked.clone(), unchecked], 1, false, 0.1);
        let note = s
            .lines()
            .find(|l| l.starts_with("note: 2 passing run(s) were not fully checked"))
            .unwrap_or_else(|| panic!("no note in {s}"));
        assert!(
            note.contains("initial_election_2a") && note.contains("--strict"),
            "{note}"
        );
        assert!(s.starts_with("PASS\n"), "{s}");
    }

    #[test]
    fn failure_block_has_go_header_message_seed_and_replay() {
        let r = run(Outcome::Failed {
            message: "expected one leader, got none".into(),
            apply_error: false,
            backtrace: None,
        });
        let b = failure_block(&r, " --real-time");
        assert_eq!(
            b,
            "--- FAIL: TestInitialElection2A (4.50s)\n    expected one leader, got none\n    \
             seed: 42 (test seed 7)\n    replay: cargo run -p grader -- --test \
             initial_election_2a --seed 42 --real-time\n"
        );
        assert_eq!(failure_block(&run(Outcome::Passed(None)), ""), "");
    }

    #[test]
    fn a_run_from_a_choices_file_is_replayed_from_it() {
        let r = run(Outcome::failed("boom"));
        let file = std::path::Path::new("target/grader/x-seed42/choices.json");
        let b = failure_block_from(&r, "", Some(file));
        assert!(
            b.contains(
                "    replay: cargo run -p grader -- --choices target/grader/x-seed42/choices.json\n"
            ),
            "{b}"
        );
        assert!(!b.contains("--seed"), "{b}");
    }

    #[test]
    fn real_time_failure_offers_the_bundle_not_a_replay() {
        let mut r = run(Outcome::failed("expected one leader, got none"));
        r.real_time = true;
        r.bundle = Some(PathBuf::from("target/grader/initial_election_2a-seed42"));
        let b = failure_block(&r, " --real-time");
        assert!(
            b.ends_with(
                "    replay: not available: real-time runs are not reproducible; see the bundle\n    \
                 bundle: target/grader/initial_election_2a-seed42/\n"
            ),
            "{b}"
        );
        let t = stress_table(&["initial_election_2a"], &[r], true, " --real-time");
        assert!(t.contains("not reproducible; see the bundle"), "{t}");
        assert!(!t.contains("cargo run"), "{t}");
    }

    #[test]
    fn summary_counts() {
        let runs = [
            run(Outcome::Passed(None)),
            run(Outcome::Failed {
                message: "x".into(),
                apply_error: true,
                backtrace: None,
            }),
        ];
        let s = summary_lines(&runs, 42, false, 1.0);
        assert!(s.lines().any(|l| l == "1 passed, 1 failed"), "{s}");
        assert!(s.starts_with("FAIL\n"));
        assert!(s.contains("total test time 9.0 s (virtual)"));
        assert!(s.lines().any(|l| l == "total CPU 0.50 s"), "{s}");
        assert!(!s.contains("warning"), "{s}");
        assert!(s.contains("seed 42"));
    }

    #[test]
    fn cpu_heavy_virtual_runs_get_a_warning() {
        let mut heavy = run(Outcome::Passed(None));
        heavy.cpu_secs = 1.0; // more than 4.5 / 6
        let runs = [heavy.clone(), heavy];
        let s = summary_lines(&runs, 1, false, 1.0);
        let warning = s
            .lines()
            .find(|l| l.starts_with("warning: CPU time"))
            .expect(&s);
        assert!(warning.contains("1/6 of the virtual test time in initial_election_2a:"));
        assert_eq!(
            warning.matches("initial_election_2a").count(),
            1,
            "{warning}"
        );
        assert!(!summary_lines(&runs, 1, true, 1.0).contains("warning"));
        assert!(stress_table(&["initial_election_2a"], &runs, false, "").contains("warning"));
        // The grader's own checks are not the peers' CPU.
        let checked = TestRun {
            check_cpu_secs: 0.5,
            ..runs[0].clone()
        };
        assert!(!summary_lines(&[checked], 1, false, 1.0).contains("warning"));
    }

    #[test]
    fn table_lists_tests_and_failing_replays() {
        let mut bad = run(Outcome::Failed {
            message: "boom".into(),
            apply_error: false,
            backtrace: None,
        });
        bad.run = 1;
        bad.run_seed = 43;
        let runs = [run(Outcome::Passed(None)), bad];
        let s = stress_table(&["initial_election_2a"], &runs, false, "");
        let row = s.lines().nth(1).unwrap();
        assert!(row.starts_with("initial_election_2a"));
        assert!(row.contains("     1      1      4.5"), "{row}");
        assert!(row.ends_with("    0.250"), "{row}");
        assert!(s.lines().next().unwrap().ends_with("mean CPU"));
        assert!(s.contains("initial_election_2a (run 1): boom"));
        assert!(s.contains("--test initial_election_2a --seed 43"));
    }
}
