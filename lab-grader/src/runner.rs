//! Runs tests: selects them, hands them to the scheduler (`schedule`: `jobs` test threads,
//! each test on its own tokio runtime, under a wall-clock watchdog) and writes the report.

use std::io::{self, Write};

use lab_api::LabRaft;

pub use crate::options::Options;
use crate::report::{self, TestRun};
use crate::schedule::{self, Job};
use crate::seed;
use crate::suites::{Part, TestCase, suite};

/// Which tests to run.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// The parts; empty means all.
    pub parts: Vec<Part>,
    /// A substring of the function name or the Go name (`--test`); a pattern equal to a
    /// test's name selects only that test.
    pub pattern: Option<String>,
}

/// The selection matched no test.
#[derive(Debug, thiserror::Error)]
#[error("no test matches --test {pattern:?} in parts {parts}; try --list")]
pub struct NoMatch {
    /// The pattern given.
    pub pattern: String,
    /// The parts searched.
    pub parts: String,
}

impl Selection {
    /// The selected tests, in run order.
    pub fn resolve(&self, tests: &[TestCase]) -> Result<Vec<TestCase>, NoMatch> {
        // No part means the lab's 28 (`all`); the extra suite only when named, or when a
        // pattern (a replay command) asks for one of its tests.
        let in_parts = |c: &&TestCase| {
            // The explore test runs only when named (`explore`, `--test explore`).
            if c.name == crate::explore::NAME {
                return self.pattern.as_deref() == Some(c.name);
            }
            if self.parts.is_empty() {
                c.part != Part::Extra || self.pattern.is_some()
            } else {
                self.parts.contains(&c.part)
            }
        };
        let pattern = self.pattern.as_deref();
        let exact = |c: &TestCase| pattern.is_some_and(|p| c.name == p || c.go_name == p);
        // An exact name wins, so a replay of `reliable_churn_2c` does not also run
        // `unreliable_churn_2c`.
        let any_exact = tests.iter().filter(in_parts).any(exact);
        let chosen: Vec<TestCase> = tests
            .iter()
            .filter(in_parts)
            .filter(|c| {
                if any_exact {
                    exact(c)
                } else {
                    pattern.is_none_or(|p| c.name.contains(p) || c.go_name.contains(p))
                }
            })
            .copied()
            .collect();
        if chosen.is_empty() {
            let parts = if self.parts.is_empty() {
                Part::ALL.to_vec()
            } else {
                self.parts.clone()
            };
            let parts: Vec<String> = parts.iter().map(Part::to_string).collect();
            return Err(NoMatch {
                pattern: self.pattern.clone().unwrap_or_default(),
                parts: parts.join(" "),
            });
        }
        Ok(chosen)
    }
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Every test run, in job order.
    pub runs: Vec<TestRun>,
    /// How many passed.
    pub passed: usize,
    /// How many failed.
    pub failed: usize,
    /// Wall-clock seconds for the whole run.
    pub wall_secs: f64,
}

/// Runs the selected tests of peer type `R` and writes the report to `out`.
pub fn run<R: LabRaft>(
    selection: &Selection,
    opts: &Options,
    out: &mut dyn Write,
) -> io::Result<Result<Summary, NoMatch>> {
    match selection.resolve(&suite::<R>()) {
        Ok(cases) => run_cases(&cases, opts, out).map(Ok),
        Err(e) => Ok(Err(e)),
    }
}

/// Runs `cases` (`opts.runs` times each) and writes the report to `out`.
pub fn run_cases(cases: &[TestCase], opts: &Options, out: &mut dyn Write) -> io::Result<Summary> {
    #[allow(clippy::disallowed_methods)] // wall-clock figure for the report only
    let wall0 = std::time::Instant::now();
    let clock = if opts.real_time {
        "real time"
    } else {
        "virtual time"
    };
    match &opts.choices_file {
        Some(file) => writeln!(
            out,
            "seed {} ({clock}; replayed from the choices of {}, as --choices does again)",
            opts.seed,
            file.display()
        )?,
        None => writeln!(
            out,
            "seed {} ({clock}; replay with --seed {})",
            opts.seed, opts.seed
        )?,
    }
    if opts.real_time && std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        writeln!(out, "warning: only one CPU, which may conceal locking bugs")?;
    }
    let mut jobs = Vec::new();
    for run in 0..opts.runs.max(1) {
        let run_seed = opts.seed.wrapping_add(u64::from(run));
        for &case in cases {
            let test_seed = seed::test_seed(run_seed, case.name);
            jobs.push(Job {
                case,
                run,
                run_seed,
                test_seed,
            });
        }
    }
    let mut runs = schedule::execute(&jobs, opts, false, out)?;
    schedule::replay_failures_alone(&jobs, &mut runs, opts);
    if let Some(attempts) = opts.shrink {
        crate::shrink::shrink_failures(&jobs, &runs, opts, attempts, out)?;
    }
    let wall_secs = wall0.elapsed().as_secs_f64();
    if opts.runs > 1 {
        let order: Vec<&'static str> = cases.iter().map(|c| c.name).collect();
        write!(
            out,
            "{}",
            report::stress_table(&order, &runs, opts.real_time, &opts.replay_flags())
        )?;
    }
    write!(
        out,
        "{}",
        report::summary_lines(&runs, opts.seed, opts.real_time, wall_secs)
    )?;
    let passed = runs.iter().filter(|r| r.passed()).count();
    let failed = runs.len() - passed;
    Ok(Summary {
        runs,
        passed,
        failed,
        wall_secs,
    })
}
