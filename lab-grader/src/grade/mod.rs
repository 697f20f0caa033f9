//! `grader grade`: one command per submission that course staff can trust and upload
//! (issue 14). Each selected test runs [`DEFAULT_VIRTUAL_RUNS`] times in virtual time with
//! distinct seeds and [`DEFAULT_REAL_TIME_RUNS`] time(s) on the wall clock; it passes when every
//! run passes, and scores its points all-or-nothing ([`points`]). The result is a
//! [`record::GradeRecord`], shown as text or JSON and written as JUnit XML ([`junit`]) or
//! Gradescope's `results.json` ([`gradescope`]). [`submission`] grades a workspace or crate
//! that lives elsewhere: built in a [`sandbox`], then graded in this process in process mode
//! (real time only), every peer a sandboxed process of its code, with a time limit.
//!
//! The runs go through the ordinary runner ([`crate::runner::run_cases`]): each test's
//! virtual-time runs (`--jobs` at a time), test by test; then the real-time runs of the tests
//! that passed them (a test that already failed in virtual time skips its real-time runs: the
//! verdict cannot change, and a broken peer's real-time runs are the slowest part of a
//! grade), several tests at a time when their peers use little CPU (see `real_time_pass`).
//!
//! Exit status: 0 when a grade was produced, whatever the score (a submission that does not
//! build, crashes or times out is a zero, still exit 0); 2 for a usage error (bad flags, a bad
//! points file); 1 when the grader cannot write an output file, or cannot make the sandbox
//! for a `--submission`.

pub mod gradescope;
pub mod junit;
pub mod points;
pub mod record;
pub mod sandbox;
pub mod submission;

use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use lab_api::LabRaft;

use crate::cli::{PartArg, parse_part};
use crate::options::Options;
use crate::report::{Outcome, TestRun, replay_command};
use crate::runner::{Selection, run_cases};
use crate::suites::TestCase;
use points::Points;
use record::{Clock, GradeRecord, RunRecord, SCHEMA, Status, TestResult};

/// Virtual-time runs per test by default. A test that fails in a fraction p of runs passes
/// all N with probability (1-p)^N: with N = 30 a 10%-flaky test is caught with probability
/// 1 - 0.9^30 = 95.8% (a 20%-flaky one 99.9%), while a correct peer never fails. 30 runs of
/// all 28 tests take ~45-60 s of wall time on 2 cores.
pub const DEFAULT_VIRTUAL_RUNS: u32 = 30;

/// Real-time runs per test by default: one, because virtual time cannot see a peer that
/// burns CPU or races between threads; one run of all 28 tests on the wall clock takes
/// about 6 minutes one at a time, as in Go. `--real-time-runs 0` for a quick check.
pub const DEFAULT_REAL_TIME_RUNS: u32 = 1;

/// Real-time runs of different tests at a time by default (`--real-time-jobs`, see
/// [`GradeCli::real_time_jobs`]).
pub const DEFAULT_REAL_TIME_JOBS: u32 = 4;

/// A test whose virtual-time runs kept more than this share of a core busy (CPU seconds per
/// virtual second, the most of its runs) runs its real-time runs alone: half the Go lab's
/// expectation of a sixth ([`crate::cpu::HEAVY_SHARE`]). The reference's tests stay far below
/// it.
pub const ALONE_SHARE: f64 = crate::cpu::HEAVY_SHARE / 2.0;

const ABOUT: &str = "\
Grade a submission: each selected test runs --runs times in virtual time (seeds S, S+1, ...)
and --real-time-runs times on the wall clock; a test passes when every run passes, and
scores its points all-or-nothing. Points default to Go's convention (each lab 100: 25 per
part for 2A-2D, 100/3 per part for 4A-4C, split equally among the part's tests) or come
from --points FILE.";

const EXAMPLES: &str = "\
Defaults: 30 virtual-time runs catch a test that fails 10% of the time with probability
1 - 0.9^30 = 96% (a correct Raft never fails); 1 real-time run (~6 min for all 28 tests)
catches what virtual time cannot see (CPU-hungry peers, races between threads). A test that
fails in virtual time skips its real-time runs.

Examples:
  cargo run -p grader -- grade                           grade the default peer, all parts
  cargo run -p grader -- grade 2A 2B --real-time-runs 0  quick: virtual time only
  cargo run -p grader -- grade --impl student --gradescope results.json --junit junit.xml
  cargo run -p grader -- grade --submission ../subs/alice --timeout 1200 --json alice.json
                                                         every server a sandboxed process of
                                                         alice's code (Raft, and for 4A-4C
                                                         her layer and clerks), real time
  cargo run -p grader -- grade --format json             the record on stdout (docs/GRADING.md)

Exit status: 0 when graded, whatever the score (a submission that does not build, crashes or
times out scores zero, still 0); 1 when an output file cannot be written; 2 usage error.";

/// The output on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table of tests, failures with replays, scores per part and in total.
    Text,
    /// The grade record (schema raft-lab-grade/1, docs/GRADING.md), nothing else.
    Json,
}

/// `grader grade`.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "grader grade",
    about = ABOUT,
    after_long_help = EXAMPLES,
    after_help = "Run with --help for the defaults' reasons and examples.",
    // The run flags, worded for a grade.
    mut_arg("implementation", |a| a.help(
        "Which Raft to grade (`reference`, `student` or `alt`, as for a plain run)"
    )),
    mut_arg("kv", |a| a.help(
        "Which Lab 4 layer the 4A-4C tests run (`reference` or `student`, as for a plain run)"
    )),
)]
pub struct GradeCli {
    /// Parts to grade: 2A 2B 2C 2D (3A-3D are aliases), 4A 4B 4C (Lab 4, where the grader
    /// has it), `extra` (the extra suite, a part of its own: 25 points by default, only when
    /// named), or `all` (every part of the labs the grader has). Default: all.
    #[arg(value_name = "PART", value_parser = parse_part)]
    pub parts: Vec<PartArg>,
    /// Only tests whose name or Go name contains PATTERN.
    #[arg(long, value_name = "PATTERN")]
    pub test: Option<String>,
    /// Virtual-time runs per test (seeds S, S+1, ...); 30 catch a 10%-flaky test with
    /// probability 96%.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_VIRTUAL_RUNS, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// Real-time runs per test (0 for none); one run of the Raft lab's 28 tests takes ~6 min,
    /// of Lab 4's 30 about 3.5 min.
    #[arg(long, value_name = "M", default_value_t = DEFAULT_REAL_TIME_RUNS)]
    pub real_time_runs: u32,
    /// Points per part or test (TOML; see docs/GRADING.md). Default: each lab 100 (25 per
    /// part for 2A-2D, 100/3 for 4A-4C), split equally among a part's tests.
    #[arg(long, value_name = "FILE")]
    pub points: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also write the JSON record to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write JUnit XML to FILE (one testcase per test).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write Gradescope's results.json to FILE.
    #[arg(long, value_name = "FILE")]
    pub gradescope: Option<PathBuf>,
    /// `--impl` and `--kv`.
    #[command(flatten)]
    pub peers: crate::run_flags::PeerFlags,
    /// Run seed (default: random, recorded). Virtual runs replay exactly with it.
    #[arg(long, value_name = "U64")]
    pub seed: Option<u64>,
    /// Virtual-time runs at a time (default: the number of CPUs).
    #[arg(long, value_name = "J", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub jobs: Option<u32>,
    /// Real-time runs of different tests at a time, after every virtual-time run: a test
    /// whose virtual-time runs kept more than 1/12 of a core busy runs alone, as Go runs
    /// every test; 1 runs them all alone, in order.
    #[arg(long, value_name = "K", default_value_t = DEFAULT_REAL_TIME_JOBS, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub real_time_jobs: u32,
    /// At most N failing runs keep their bundle (under target/grader; 0: none); each test's
    /// first failure comes first. The record counts the others.
    #[arg(long, value_name = "N", default_value_t = crate::options::DEFAULT_KEEP_BUNDLES)]
    pub keep_bundles: usize,
    /// Do not check Raft's safety properties continuously (Go's verdict alone).
    #[arg(long)]
    pub no_invariants: bool,
    /// Grade the submission at PATH from outside: a handout workspace (or a copy of this
    /// one; its raft-student crate is taken), or a crate named like raft-student that exports
    /// `Raft`. Built in the sandbox, then graded here in process mode, real time only: every
    /// peer a sandboxed process of its code, the verdict and the record this grader's. A
    /// build failure or a timeout scores zero. Lab 4 runs the submission's own layer, each
    /// server and the clerks sandboxed processes too.
    #[arg(long, value_name = "PATH", conflicts_with = "peer_bin")]
    pub submission: Option<PathBuf>,
    /// Grade a submission already built: PATH is an executable that serves a Raft peer as
    /// `PATH peer SOCKET` (a crate's `src/bin/peer.rs` calling `lab_peer::main`), run as a
    /// --submission's peers are (process mode, each peer in the sandbox), without a build.
    #[arg(long, value_name = "PATH")]
    pub peer_bin: Option<PathBuf>,
    /// Where a class's --submission grades keep a template of the dependencies, compiled once
    /// (in the sandbox) from this grader's own sources; each submission is built in a copy
    /// of its own, never in DIR itself nor in the grader's target directory. Default: no
    /// template (each submission compiles everything).
    #[arg(long, value_name = "DIR")]
    pub target_dir: Option<PathBuf>,
    /// Build and run a --submission without the sandbox (bubblewrap: no network, no file
    /// system beyond its own, limits), only on a machine you trust with the submission.
    #[arg(long)]
    pub no_sandbox: bool,
    /// Wall-clock limit in seconds for a --submission (or --peer-bin), build included.
    #[arg(long, value_name = "SECS", default_value_t = 1800)]
    pub timeout: u64,
}

impl GradeCli {
    /// Whether this grades a submission from outside (`--submission` or `--peer-bin`).
    pub fn from_outside(&self) -> bool {
        self.submission.is_some() || self.peer_bin.is_some()
    }

    /// The selection the arguments describe.
    pub fn selection(&self) -> Selection {
        crate::cli::selection_of(&self.parts, self.test.as_deref())
    }

    fn jobs(&self) -> usize {
        match self.jobs {
            Some(j) => usize::try_from(j).unwrap_or(1),
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }

    fn options(&self, seed: u64) -> Options {
        Options {
            seed,
            real_time: false,
            runs: self.runs,
            jobs: self.jobs(),
            progress: false,
            watchdog: None,
            implementation: self.peers.implementation.clone(),
            kv: self.peers.kv.clone(),
            invariants: !self.no_invariants,
            // A linearizability check without a verdict never counts as a pass here.
            strict: true,
            // Failing runs leave their bundles under target/grader, as in any other run, up
            // to --keep-bundles of them.
            keep_bundles: Some(self.keep_bundles),
            ..Options::default()
        }
    }
}

#[allow(clippy::disallowed_methods)] // wall-clock figure for the record only
fn wall_now() -> std::time::Instant {
    std::time::Instant::now()
}

fn run_record(run: &TestRun, clock: Clock, flags: &str) -> RunRecord {
    let (figures, message) = match &run.outcome {
        Outcome::Passed(f) => (f.as_ref(), None),
        Outcome::Failed { message, .. } => (None, Some(message.clone())),
    };
    RunRecord {
        clock,
        run_seed: run.run_seed,
        test_seed: run.test_seed,
        passed: run.passed(),
        secs: run.secs,
        cpu_secs: run.cpu_secs,
        check_cpu_secs: run.check_cpu_secs,
        peers: figures.map(|f| f.peers),
        rpcs: figures.map(|f| f.rpcs),
        bytes: figures.map(|f| f.bytes),
        cmds: figures.map(|f| f.cmds),
        message,
        replay: replay_command(run.name, run.run_seed, flags),
    }
}

/// A test's result from its runs (passed when every run passed).
fn decide(case: &TestCase, max_score: f64, runs: Vec<RunRecord>) -> TestResult {
    let runs_passed = runs.iter().filter(|r| r.passed).count();
    let passed = !runs.is_empty() && runs_passed == runs.len();
    let first_failure = runs.iter().find(|r| !r.passed);
    TestResult {
        part: case.part.to_string(),
        name: case.name.to_string(),
        go_name: case.go_name.to_string(),
        title: case.title.to_string(),
        passed,
        score: if passed { max_score } else { 0.0 },
        max_score,
        runs_passed,
        message: first_failure.map(|r| {
            let clock = match r.clock {
                Clock::Virtual => "virtual-time",
                Clock::Real => "real-time",
            };
            format!(
                "{} of {} runs failed; first, a {clock} run with seed {}:\n{}",
                runs.len() - runs_passed,
                runs.len(),
                r.run_seed,
                r.message.as_deref().unwrap_or("")
            )
        }),
        replay: first_failure.map(|r| r.replay.clone()),
        runs,
    }
}

/// An empty record with the run's settings (the tests and totals are filled in later).
fn blank_record(cli: &GradeCli, seed: u64) -> GradeRecord {
    GradeRecord {
        schema: SCHEMA.to_string(),
        status: Status::Graded,
        message: None,
        submission: cli.submission.as_ref().map(|p| p.display().to_string()),
        implementation: cli.peers.implementation.clone(),
        isolation: None,
        seed,
        virtual_runs: cli.runs,
        real_time_runs: cli.real_time_runs,
        invariants: !cli.no_invariants,
        score: 0.0,
        max_score: 0.0,
        parts: Vec::new(),
        tests: Vec::new(),
        cpu_secs: 0.0,
        wall_secs: 0.0,
        bundles_not_kept: 0,
    }
}

fn progress(cli: &GradeCli, total: u64) -> ProgressBar {
    let target = crate::capture::progress_target();
    if cli.format == Format::Json || target.is_hidden() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), target);
    if let Ok(style) =
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} runs  {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Grades `cases` in this process: the runs, the decision, the points.
pub fn grade_cases(cases: &[TestCase], points: &Points, cli: &GradeCli, seed: u64) -> GradeRecord {
    grade_cases_with(cases, points, cli, seed, false)
}

/// [`grade_cases`]; in `process` mode (the peers are processes: `cases` run on
/// [`crate::harness::ProcessRaft`]) only the real-time runs, since virtual time does not
/// cross processes (the record says `virtual_runs: 0`, and real run k has seed + k), each
/// alone (no virtual-time run measured the peers' CPU).
pub(crate) fn grade_cases_with(
    cases: &[TestCase],
    points: &Points,
    cli: &GradeCli,
    seed: u64,
    process: bool,
) -> GradeRecord {
    let wall0 = wall_now();
    let mut opts = cli.options(seed);
    let virtual_runs = if process { 0 } else { cli.runs };
    if process {
        opts.process = Some("--process".to_string());
    }
    let per_test = u64::from(virtual_runs) + u64::from(cli.real_time_runs);
    let bar = progress(cli, per_test * cases.len() as u64);
    let mut record = blank_record(cli, seed);
    record.virtual_runs = virtual_runs;
    let flags = opts.replay_flags();
    let mut runs_of: Vec<Vec<RunRecord>> = Vec::with_capacity(cases.len());
    // Per test, the most CPU seconds per virtual second of its virtual-time runs; unknown in
    // process mode (infinite: each real-time run alone).
    let mut shares: Vec<f64> = Vec::with_capacity(cases.len());
    for case in cases {
        if process {
            runs_of.push(Vec::new());
            shares.push(f64::INFINITY);
            continue;
        }
        bar.set_message(format!("{} (virtual time)", case.name));
        // The runner's own report is not shown: the record holds every run.
        match run_cases(std::slice::from_ref(case), &opts, &mut io::sink()) {
            Ok(s) => {
                record.bundles_not_kept += s.runs.iter().filter(|r| r.bundle_not_kept).count();
                runs_of.push(
                    s.runs
                        .iter()
                        .map(|r| run_record(r, Clock::Virtual, &flags))
                        .collect(),
                );
                shares.push(s.runs.iter().map(cpu_share).fold(0.0, f64::max));
            }
            Err(e) => {
                runs_of.push(vec![not_run(case, seed, &format!("cannot run: {e}"))]);
                shares.push(0.0);
            }
        }
        bar.inc(u64::from(virtual_runs));
    }
    // Real run k: seed S + N + k (N virtual runs).
    let real = Options {
        seed: seed.wrapping_add(u64::from(virtual_runs)),
        ..opts
    };
    record.bundles_not_kept += real_time_pass(cases, &shares, &mut runs_of, &real, cli, &bar);
    for (case, runs) in cases.iter().zip(runs_of) {
        record.tests.push(decide(case, points.of(case.name), runs));
    }
    bar.finish_and_clear();
    record.wall_secs = wall0.elapsed().as_secs_f64();
    record.total();
    record
}

/// A virtual-time run's CPU seconds per virtual second, the grader's own checks left out
/// (see [`crate::cpu`]).
fn cpu_share(run: &TestRun) -> f64 {
    if run.secs > 0.0 {
        (run.cpu_secs - run.check_cpu_secs) / run.secs
    } else {
        0.0
    }
}

/// What the real-time pass knows of a test from its virtual-time runs.
#[derive(Clone, Copy, Debug)]
struct Planned {
    /// Every virtual-time run passed.
    passed: bool,
    /// The most CPU seconds per virtual second of its runs.
    cpu_share: f64,
    /// Its mean duration.
    secs: f64,
}

/// The real-time pass's batches, in order: each a list of tests (indices into `tests`) and
/// how many run at a time. The tests that failed in virtual time are in none; each test
/// above [`ALONE_SHARE`] (every test, when `jobs` is 1) is a batch of its own, in the order
/// given; then one batch of the others, `jobs` at a time, the longest first.
fn plan_real_time(tests: &[Planned], jobs: usize) -> Vec<(Vec<usize>, usize)> {
    let (mut alone, mut side_by_side) = (Vec::new(), Vec::new());
    for (i, t) in tests.iter().enumerate().filter(|(_, t)| t.passed) {
        if jobs <= 1 || t.cpu_share > ALONE_SHARE {
            alone.push(i);
        } else {
            side_by_side.push(i);
        }
    }
    // Longest first: the pass ends soon after its longest test.
    side_by_side.sort_by(|&a, &b| tests[b].secs.total_cmp(&tests[a].secs));
    alone
        .into_iter()
        .map(|i| (vec![i], 1))
        .chain((!side_by_side.is_empty()).then_some((side_by_side, jobs)))
        .collect()
}

/// The real-time runs (`--real-time-runs M` per test, run k with seed `opts.seed` + k) of the
/// tests that passed every virtual-time run: a test that failed there skips them (its verdict
/// cannot change). Those whose virtual-time runs kept at most [`ALONE_SHARE`] of a core busy
/// (CPU seconds per virtual second) run side by side, `--real-time-jobs` tests at a time,
/// the longest first: a real-time run of a correct Raft spends most of its wall time
/// waiting (the reference: about 8 s of CPU in the 28 tests' 340 s), so a few at once do
/// not slow one another. The others, whose peers keep a core busier, each run alone first,
/// as Go runs every test, since tests beside them could make them late. `--real-time-jobs 1`
/// runs every test alone, in the order given.
fn real_time_pass(
    cases: &[TestCase],
    shares: &[f64],
    runs_of: &mut [Vec<RunRecord>],
    opts: &Options,
    cli: &GradeCli,
    bar: &ProgressBar,
) -> usize {
    let mut bundles_not_kept = 0;
    if cli.real_time_runs == 0 {
        return bundles_not_kept;
    }
    let jobs = usize::try_from(cli.real_time_jobs).unwrap_or(1).max(1);
    let tests: Vec<Planned> = runs_of
        .iter()
        .zip(shares)
        .map(|(runs, &cpu_share)| Planned {
            passed: runs.iter().all(|r| r.passed),
            cpu_share,
            secs: runs.iter().map(|r| r.secs).sum::<f64>() / runs.len().max(1) as f64,
        })
        .collect();
    let skipped = tests.iter().filter(|t| !t.passed).count() as u64;
    bar.inc(u64::from(cli.real_time_runs) * skipped);
    let real = Options {
        real_time: true,
        runs: cli.real_time_runs,
        // Every test's verdict is its own: an apply error in one does not stop the others.
        keep_going: true,
        ..opts.clone()
    };
    let flags = real.replay_flags();
    for (batch, jobs) in plan_real_time(&tests, jobs) {
        let chosen: Vec<TestCase> = batch.iter().map(|&i| cases[i]).collect();
        bar.set_message(if chosen.len() == 1 {
            format!("{} (real time)", chosen[0].name)
        } else {
            format!("{} tests in real time, {jobs} at a time", chosen.len())
        });
        let batch_opts = Options {
            jobs,
            ..real.clone()
        };
        match run_cases(&chosen, &batch_opts, &mut io::sink()) {
            Ok(s) => {
                bundles_not_kept += s.runs.iter().filter(|r| r.bundle_not_kept).count();
                for r in &s.runs {
                    if let Some(&i) = batch.iter().find(|&&i| cases[i].name == r.name) {
                        runs_of[i].push(run_record(r, Clock::Real, &flags));
                    }
                }
            }
            Err(e) => {
                for &i in &batch {
                    runs_of[i].push(not_run(&cases[i], real.seed, &format!("cannot run: {e}")));
                }
            }
        }
        bar.inc(u64::from(cli.real_time_runs) * batch.len() as u64);
    }
    bundles_not_kept
}

/// A run that could not happen, recorded as a failure.
fn not_run(case: &TestCase, seed: u64, message: &str) -> RunRecord {
    RunRecord {
        clock: Clock::Virtual,
        run_seed: seed,
        test_seed: crate::seed::test_seed(seed, case.name),
        passed: false,
        secs: 0.0,
        cpu_secs: 0.0,
        check_cpu_secs: 0.0,
        peers: None,
        rpcs: None,
        bytes: None,
        cmds: None,
        message: Some(message.to_string()),
        replay: replay_command(case.name, seed, ""),
    }
}

/// A record in which every test of `cases` scores zero because of `status` (a submission
/// that could not be graded).
pub fn zero_record(
    cases: &[TestCase],
    points: &Points,
    cli: &GradeCli,
    seed: u64,
    status: Status,
    message: String,
) -> GradeRecord {
    let mut record = blank_record(cli, seed);
    record.status = status;
    let why = format!("not graded ({status:?}): see the record's message");
    for case in cases {
        let mut t = decide(case, points.of(case.name), Vec::new());
        t.message = Some(why.clone());
        record.tests.push(t);
    }
    record.message = Some(message);
    record.total();
    record
}

/// A view of a record as the text of a file.
type Render = fn(&GradeRecord) -> String;

/// Prints the record in `--format` and writes the files asked for; the exit status.
pub fn emit(record: &GradeRecord, cli: &GradeCli, out: &mut dyn Write) -> i32 {
    let shown = match cli.format {
        Format::Text => record.to_text(),
        Format::Json => format!("{}\n", record.to_json()),
    };
    let mut status = 0;
    if let Err(e) = out.write_all(shown.as_bytes()).and_then(|()| out.flush()) {
        crate::capture::eprint_line(&format!("error: cannot write the report: {e}"));
        status = 1;
    }
    let files: [(&Option<PathBuf>, Render); 3] = [
        (&cli.json, |r| format!("{}\n", r.to_json())),
        (&cli.junit, junit::to_junit),
        (&cli.gradescope, gradescope::to_gradescope),
    ];
    for (path, render) in files {
        if let Some(path) = path {
            if let Err(e) = std::fs::write(path, render(record)) {
                crate::capture::eprint_line(&format!(
                    "error: cannot write {}: {e}",
                    path.display()
                ));
                status = 1;
            }
        }
    }
    status
}

/// Reads `--points` (or Go's default).
fn load_points(cli: &GradeCli, tests: &[TestCase]) -> Result<Points, String> {
    match &cli.points {
        None => Ok(Points::go_default(tests)),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the points file {}: {e}", path.display()))?;
            Points::from_toml(&text, tests).map_err(|e| format!("{}: {e}", path.display()))
        }
    }
}

/// Runs `grade` for peer type `R` with `args` (`args[0]` is "grade"); the exit status. A
/// `--submission` runs the Raft lab's tests on [`crate::harness::ProcessRaft`] peers.
pub fn main_with_args<R: LabRaft>(args: &[String], out: &mut dyn Write) -> i32 {
    main_with_suites(
        crate::suites::suite::<R>,
        Some(FromOutside {
            suite: crate::suites::suite::<crate::harness::ProcessRaft>,
            lab4: false,
        }),
        args,
        out,
    )
}

/// Runs `grade` on the tests `suite` returns (the extra suite only when named); the exit
/// status. This grader cannot grade a `--submission` (see [`main_with_suites`]).
pub fn main_with_suite(suite: fn() -> Vec<TestCase>, args: &[String], out: &mut dyn Write) -> i32 {
    main_with_suites(suite, None, args, out)
}

/// Why a `--submission` cannot be graded with these flags (a usage error), if it cannot.
fn submission_usage(cli: &GradeCli, process_suite: bool) -> Option<&'static str> {
    if !cli.from_outside() {
        return None;
    }
    if !process_suite {
        return Some("this grader cannot grade a --submission: it has no process mode");
    }
    if cli.peers.implementation.is_some() || cli.peers.kv.is_some() {
        return Some("--impl and --kv do not apply to a --submission: its own code is graded");
    }
    if cli.real_time_runs == 0 {
        return Some(
            "a --submission is graded in process mode, on the real clock only (virtual time \
             does not cross processes): --real-time-runs must be at least 1",
        );
    }
    None
}

/// How a grade from outside (`--submission`, `--peer-bin`) runs: the tests with every server
/// a process of the submission's.
#[derive(Clone, Copy)]
pub struct FromOutside {
    /// The tests (on [`crate::harness::ProcessRaft`] peers).
    pub suite: fn() -> Vec<TestCase>,
    /// Whether Lab 4's layer and clerks run in the submission's processes too
    /// (`kv_grader::process::ProcessKv`); if not, Lab 4 is refused.
    pub lab4: bool,
}

/// Why a `--submission` (or `--peer-bin`) cannot be graded on these tests, if it cannot: where
/// Lab 4's layer does not run in the submission's processes, its tests would run this
/// grader's own key/value layer on the submission's Raft peers, so the submission's
/// `kv-student` would go ungraded while its grade said 4A-4C. A false verdict is worse than
/// none: they are refused.
fn lab4_refusal(cli: &GradeCli, lab4: bool, cases: &[TestCase]) -> Option<String> {
    use crate::suites::Part;
    if !cli.from_outside() || lab4 {
        return None;
    }
    let lab4: Vec<&str> = cases
        .iter()
        .filter(|c| matches!(c.part, Part::KvA | Part::KvB | Part::KvC))
        .map(|c| c.name)
        .collect();
    let first = lab4.first()?;
    Some(format!(
        "this grader cannot grade Lab 4 of a --submission (or --peer-bin): 4A-4C would run its \
         own key/value layer on the submission's Raft, not the submission's kv-student, and \
         score it for code it did not write ({} Lab 4 test(s) selected, {first} first). Name \
         the Raft lab's parts: 2A 2B 2C 2D (or extra)",
        lab4.len()
    ))
}

/// Runs `grade` on the tests `suite` returns (the extra suite left out); the exit status. A
/// `--submission` is graded on the tests `process_suite` returns, the same tests on
/// [`crate::harness::ProcessRaft`] peers: every peer a process of the submission's code, the
/// tests and the verdict in this process ([`submission`]).
pub fn main_with_suites(
    suite: fn() -> Vec<TestCase>,
    outside: Option<FromOutside>,
    args: &[String],
    out: &mut dyn Write,
) -> i32 {
    let cli = match GradeCli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            crate::capture::print_clap_error(&e, out);
            return e.exit_code();
        }
    };
    if let Some(e) = submission_usage(&cli, outside.is_some()) {
        crate::capture::eprint_line(&format!("error: {e}"));
        return 2;
    }
    let lab4 = outside.is_some_and(|o| o.lab4);
    let suite = match outside {
        Some(o) if cli.from_outside() => o.suite,
        _ => suite,
    };
    // Every test a grade can select: the lab's parts and the extra suite (only when named,
    // `grade extra`), not the explore test (a search of seeds, not a test with a verdict).
    let tests: Vec<TestCase> = suite()
        .into_iter()
        .filter(|c| c.name != crate::explore::NAME)
        .collect();
    let points = match load_points(&cli, &tests) {
        Ok(p) => p,
        Err(e) => {
            crate::capture::eprint_line(&format!("error: {e}"));
            return 2;
        }
    };
    let cases = match cli.selection().resolve(&tests) {
        Ok(c) => c,
        Err(e) => {
            crate::capture::eprint_line(&format!("error: {e}"));
            return 2;
        }
    };
    if let Some(e) = lab4_refusal(&cli, lab4, &cases) {
        crate::capture::eprint_line(&format!("error: {e}"));
        return 2;
    }
    // Without --seed a fresh one, recorded, so the virtual runs replay.
    let seed = cli.seed.unwrap_or_else(crate::cli::random_seed);
    let graded = match (&cli.submission, &cli.peer_bin) {
        (Some(path), _) => submission::grade(path, &cases, &points, &cli, seed),
        (None, Some(exe)) => submission::grade_binary(exe, &cases, &points, &cli, seed),
        (None, None) => Ok(grade_cases(&cases, &points, &cli, seed)),
    };
    let record = match graded {
        Ok(record) => record,
        Err(e) => {
            crate::capture::eprint_line(&format!("error: {e}"));
            return 1;
        }
    };
    emit(&record, &cli, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(passed: bool, cpu_share: f64, secs: f64) -> Planned {
        Planned {
            passed,
            cpu_share,
            secs,
        }
    }

    #[test]
    fn light_tests_run_side_by_side_longest_first_and_heavy_ones_alone_first() {
        let tests = [
            planned(true, 0.001, 3.0),
            planned(false, 0.001, 50.0),
            planned(true, 0.2, 10.0),
            planned(true, 0.002, 40.0),
            planned(true, ALONE_SHARE, 5.0),
        ];
        assert_eq!(
            plan_real_time(&tests, 8),
            vec![(vec![2], 1), (vec![3, 4, 0], 8)],
            "the failed test runs nothing, the heavy one alone first"
        );
        assert_eq!(
            plan_real_time(&tests, 1),
            vec![(vec![0], 1), (vec![2], 1), (vec![3], 1), (vec![4], 1)],
            "one at a time: every test alone, in order"
        );
        assert!(plan_real_time(&[planned(false, 0.0, 1.0)], 4).is_empty());
    }
}
