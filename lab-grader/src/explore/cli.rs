//! `grader explore`: runs the explore test (see [`super`]) on N seeds, `--jobs` at a time,
//! with a progress bar, then a summary: seeds per second, and every failure with its seed's
//! profile, its message, its bundle and its replay command.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::PathBuf;

use clap::Parser;

use super::{NAME, Profile};
use crate::report::{Outcome, TestRun};
use crate::runner::{self, Options, Summary};
use crate::suites::TestCase;

/// Random fault schedules beyond the 28 tests: each seed picks a fault profile (partitions, one-way links,
/// crashes with and without restarts, an unreliable network, long delays and reordering,
/// snapshots) and a workload of start calls; every safety property and every apply is
/// checked throughout, and a final liveness phase heals everything and requires a leader and
/// a new commit. Run it when the 28 tests pass, for more confidence.
#[derive(Parser, Debug)]
#[command(name = "grader explore", after_help = EXAMPLES)]
pub struct ExploreCli {
    /// How many seeds to run: S, S+1, ... (default 100, or 1 with --seed).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub seeds: Option<u32>,
    /// The first seed (default: random; always printed). `--seed S` alone replays seed S.
    #[arg(long, value_name = "U64")]
    pub seed: Option<u64>,
    /// Seeds run at once, each on its own thread.
    #[arg(long, value_name = "J", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub jobs: u32,
    /// Which Raft to explore (as for a plain run: `reference`, `student`, `alt`).
    #[arg(long = "impl", value_name = "NAME")]
    pub implementation: Option<String>,
    /// The Go tester's checks alone: no continuous safety checks.
    #[arg(long)]
    pub no_invariants: bool,
    /// Print a run's events live (for a replay of one seed).
    #[arg(long)]
    pub log: bool,
    /// Write the bundle of every run, passing ones too.
    #[arg(long)]
    pub trace: bool,
    /// Where bundles go (default: target/grader).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Do not shrink failures (by default the first 3 are, see --shrink-attempts).
    #[arg(long)]
    pub no_shrink: bool,
    /// How many runs a shrink of one failure may make.
    #[arg(long, value_name = "N", default_value_t = crate::shrink::DEFAULT_ATTEMPTS)]
    pub shrink_attempts: u32,
}

const EXAMPLES: &str = "\
Examples:
  cargo run -p grader -- explore --seeds 1000            1000 seeds of the reference, 2 at a time
  cargo run -p grader -- explore --seeds 1000 --impl student
  cargo run -p grader -- explore --seed 1234             replay one seed exactly
  cargo run -p grader -- explore --seed 1234 --log       ... with its events live";

impl ExploreCli {
    /// The options of the run, from `seed` (the first seed).
    pub fn options(&self, seed: u64) -> Options {
        let runs = self
            .seeds
            .unwrap_or(if self.seed.is_some() { 1 } else { 100 });
        Options {
            seed,
            runs,
            jobs: self.jobs as usize,
            progress: true,
            implementation: self.implementation.clone(),
            invariants: !self.no_invariants,
            log: self.log,
            trace: self.trace,
            out: self.out.clone(),
            shrink: (!self.no_shrink).then_some(self.shrink_attempts),
            ..Options::default()
        }
    }
}

/// Runs `explore` (args from `explore` on) on the suite's explore test; the exit status.
pub fn main_with_suite(suite: fn() -> Vec<TestCase>, args: &[String], out: &mut dyn Write) -> i32 {
    let cli = match ExploreCli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            crate::capture::print_clap_error(&e, out);
            return e.exit_code();
        }
    };
    let Some(case) = suite().into_iter().find(|c| c.name == NAME) else {
        crate::capture::eprint_line("error: this grader has no explore test");
        return 2;
    };
    let seed = cli.seed.unwrap_or_else(crate::cli::random_seed);
    let opts = cli.options(seed);
    match run(case, &opts, out) {
        Ok(summary) => i32::from(summary.failed > 0),
        Err(e) => {
            crate::capture::eprint_line(&format!("error: cannot write the report: {e}"));
            1
        }
    }
}

/// Runs `opts.runs` seeds of the explore test `case` and writes the report to `out`: one
/// seed's full report, or for many seeds the summary (see [`summary`]).
pub fn run(case: TestCase, opts: &Options, out: &mut dyn Write) -> io::Result<Summary> {
    if opts.runs <= 1 {
        let p = Profile::of(crate::seed::test_seed(opts.seed, NAME));
        writeln!(out, "explore seed {}: {p}", opts.seed)?;
        return runner::run_cases(&[case], opts, out);
    }
    // The stress table of one test says less than the summary: it goes nowhere.
    let s = runner::run_cases(&[case], opts, &mut io::sink())?;
    write!(out, "{}", summary(&s, opts))?;
    out.flush()?;
    Ok(s)
}

/// The summary of many seeds: how many passed, seeds per second, the failures (each with its
/// profile, first line, bundle and replay command; the first 20) and what failed how often.
pub fn summary(s: &Summary, opts: &Options) -> String {
    let n = s.runs.len();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "explore: {n} seeds from {} ({} at a time): {} passed, {} failed in {:.1} s of wall \
         time ({:.1} seeds/s)",
        opts.seed,
        opts.jobs,
        s.passed,
        s.failed,
        s.wall_secs,
        n as f64 / s.wall_secs.max(1e-9)
    );
    let failures: Vec<&TestRun> = s.runs.iter().filter(|r| !r.passed()).collect();
    let flags = replay_flags(opts);
    for r in failures.iter().take(20) {
        let Outcome::Failed { message, .. } = &r.outcome else {
            continue;
        };
        let first = message.lines().next().unwrap_or("");
        let _ = writeln!(text, "FAIL seed {}: {first}", r.run_seed);
        let _ = writeln!(text, "    profile: {}", Profile::of(r.test_seed));
        if let Some(b) = &r.bundle {
            let _ = writeln!(text, "    bundle: {}", crate::report::bundle_path(b));
        }
        let _ = writeln!(text, "    replay: {}", replay_command(r.run_seed, &flags));
        // Its shrunk run, when it was shrunk: the summary and the replay lines.
        if let Some(shrunk) = r
            .bundle
            .as_ref()
            .and_then(|b| std::fs::read_to_string(b.join("shrink.txt")).ok())
        {
            let lines: Vec<&str> = shrunk.lines().collect();
            if let (Some(what), Some(replay)) = (lines.get(1), lines.get(3)) {
                let _ = writeln!(text, "    shrunk: {}", what.trim());
                let _ = writeln!(text, "    {}", replay.trim());
            }
        }
    }
    if failures.len() > 20 {
        let _ = writeln!(text, "... and {} more failures", failures.len() - 20);
    }
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for r in &failures {
        if let Outcome::Failed { message, .. } = &r.outcome {
            *kinds.entry(kind(message)).or_default() += 1;
        }
    }
    for (k, count) in &kinds {
        let _ = writeln!(text, "  {count:>5} x {k}");
    }
    text.push_str(if s.failed == 0 { "PASS\n" } else { "FAIL\n" });
    text
}

/// A failure's kind: its first words, numbers left out.
fn kind(message: &str) -> String {
    let first = message.lines().next().unwrap_or("");
    let words: Vec<&str> = first
        .split_whitespace()
        .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .take(6)
        .collect();
    words.join(" ")
}

/// The flags a replay repeats.
fn replay_flags(opts: &Options) -> String {
    let mut flags = String::new();
    if let Some(i) = &opts.implementation {
        flags.push_str(" --impl ");
        flags.push_str(i);
    }
    if !opts.invariants {
        flags.push_str(" --no-invariants");
    }
    flags
}

/// The command that replays explore seed `seed`.
pub fn replay_command(seed: u64, flags: &str) -> String {
    format!("cargo run -p grader -- explore --seed {seed}{flags}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_default_to_100_or_one_for_a_replay() {
        let cli = |a: &[&str]| {
            ExploreCli::try_parse_from(std::iter::once("explore").chain(a.iter().copied()))
                .expect("parses")
        };
        assert_eq!(cli(&[]).options(1).runs, 100);
        assert_eq!(cli(&["--seed", "5"]).options(5).runs, 1);
        let o = cli(&["--seeds", "7", "--jobs", "3", "--impl", "student"]).options(2);
        assert_eq!((o.runs, o.jobs, o.seed), (7, 3, 2));
        assert_eq!(o.implementation.as_deref(), Some("student"));
        assert!(ExploreCli::try_parse_from(["explore", "--seeds", "0"]).is_err());
    }

    #[test]
    fn a_failure_kind_leaves_numbers_out() {
        assert_eq!(
            kind("apply error: server 2 apply out of order 5\nmore"),
            "apply error: server apply out of"
        );
    }
}
