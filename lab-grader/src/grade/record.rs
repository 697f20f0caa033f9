//! The grade record: everything a `grade` shows, as data. `--format json` and `--json FILE`
//! write it as JSON (schema [`SCHEMA`], documented field by field below and in
//! `docs/GRADING.md`); the text, JUnit and Gradescope views are made from it, and a grader
//! grading a submission from outside reads it back from the submission's own grader.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// The schema name and version in every record's `schema` field; a reader refuses others.
pub const SCHEMA: &str = "raft-lab-grade/1";

/// How grading a submission ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every selected test ran (whatever the score).
    Graded,
    /// The submission did not compile: every test scores zero.
    BuildFailed,
    /// The submission's grader ran past the time limit and was killed: every test scores zero.
    TimedOut,
    /// The submission's grader exited without a record (a crash, an abort, an exit from the
    /// peer's code): every test scores zero.
    Crashed,
    /// The submission's grader wrote something that is not a record of this schema.
    BadOutput,
}

/// How a submission graded from outside (`--submission`) ran: in both, every peer is a
/// process of the submission's own built code (process mode, real time only), and the tests,
/// the checks, the verdict and this record are the grader's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// The build and every peer process ran in the sandbox (bubblewrap: no network, no file
    /// system beyond its own, limits, a PID namespace per process).
    Sandbox,
    /// `--no-sandbox`: they ran with the grader's own rights (a machine trusted with the
    /// submission).
    NoSandbox,
}

/// The clock a run used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    /// Virtual time (deterministic: `replay` repeats it exactly).
    Virtual,
    /// The wall clock (`--real-time`), as the Go lab runs.
    Real,
}

/// One run of one test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The clock.
    pub clock: Clock,
    /// The run seed (`--seed`).
    pub run_seed: u64,
    /// The test's own seed, derived from the run seed and the test's name.
    pub test_seed: u64,
    /// Whether it passed.
    pub passed: bool,
    /// Test time in seconds (virtual seconds for a virtual-time run).
    pub secs: f64,
    /// CPU seconds of the threads that ran it.
    pub cpu_secs: f64,
    /// Of `cpu_secs`, the grader's own checks' (Lab 4's linearizability check), which the
    /// CPU warning leaves out.
    #[serde(default)]
    pub check_cpu_secs: f64,
    /// Go's figures (from the `Passed` line), for a run that passed: peers, RPCs, bytes, the
    /// highest index applied.
    pub peers: Option<usize>,
    /// RPCs sent.
    pub rpcs: Option<u64>,
    /// Bytes sent.
    pub bytes: Option<u64>,
    /// Highest log index applied.
    pub cmds: Option<u64>,
    /// The failure message, for a run that failed (with the peer's hints).
    pub message: Option<String>,
    /// The command that replays this run.
    pub replay: String,
}

/// One test's result: passed when every run passed; all its points or none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    /// The part: `2A`-`2D`, `4A`-`4C` or `extra`.
    pub part: String,
    /// The Rust name (`initial_election_2a`).
    pub name: String,
    /// The Go name (`TestInitialElection2A`).
    pub go_name: String,
    /// Go's title (`Test (2A): initial election`).
    pub title: String,
    /// Whether every run passed.
    pub passed: bool,
    /// Points scored: `max_score` when passed, else 0.
    pub score: f64,
    /// Points available.
    pub max_score: f64,
    /// Runs that passed, of `runs.len()`.
    pub runs_passed: usize,
    /// Every run, virtual-time runs first.
    pub runs: Vec<RunRecord>,
    /// Why it failed, when it did: the first failing run's message, or why it did not run.
    pub message: Option<String>,
    /// The replay command of the first failing run.
    pub replay: Option<String>,
}

/// A part's score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartScore {
    /// `2A`-`2D`, `4A`-`4C` or `extra`.
    pub part: String,
    /// Points scored.
    pub score: f64,
    /// Points available.
    pub max_score: f64,
    /// Tests passed, of `tests`.
    pub passed: usize,
    /// Tests selected in this part.
    pub tests: usize,
}

/// A whole grade.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradeRecord {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// How it ended; anything but `graded` scores zero.
    pub status: Status,
    /// What went wrong, when `status` is not `graded` (the build's errors, the crash's last
    /// output), capped in size.
    pub message: Option<String>,
    /// The submission graded from outside (`--submission`), if any.
    pub submission: Option<String>,
    /// The `--impl` graded (`None` for the binary's default).
    pub implementation: Option<String>,
    /// How a `--submission` ran (absent for a grade of a peer built into the grader).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation: Option<Isolation>,
    /// The run seed: virtual run k uses seed + k, real-time run k uses seed + virtual_runs + k.
    pub seed: u64,
    /// Virtual-time runs per test.
    pub virtual_runs: u32,
    /// Real-time runs per test (skipped for a test that already failed in virtual time).
    pub real_time_runs: u32,
    /// Whether the safety invariants were checked.
    pub invariants: bool,
    /// Points scored.
    pub score: f64,
    /// Points available for the selected tests.
    pub max_score: f64,
    /// Per part, in part order.
    pub parts: Vec<PartScore>,
    /// Per test, in run order.
    pub tests: Vec<TestResult>,
    /// Total CPU seconds of every run.
    pub cpu_secs: f64,
    /// Wall-clock seconds the grade took.
    pub wall_secs: f64,
    /// Failing runs that kept no bundle (past `--keep-bundles`).
    #[serde(default)]
    pub bundles_not_kept: usize,
}

impl GradeRecord {
    /// Sums the tests into `parts`, `score`, `max_score` and `cpu_secs`.
    pub fn total(&mut self) {
        let mut parts: Vec<PartScore> = Vec::new();
        for t in &self.tests {
            let i = match parts.iter().position(|p| p.part == t.part) {
                Some(i) => i,
                None => {
                    parts.push(PartScore {
                        part: t.part.clone(),
                        score: 0.0,
                        max_score: 0.0,
                        passed: 0,
                        tests: 0,
                    });
                    parts.len() - 1
                }
            };
            let p = &mut parts[i];
            p.score += t.score;
            p.max_score += t.max_score;
            p.passed += usize::from(t.passed);
            p.tests += 1;
        }
        parts.sort_by(|a, b| a.part.cmp(&b.part));
        self.score = parts.iter().map(|p| p.score).sum();
        self.max_score = parts.iter().map(|p| p.max_score).sum();
        self.cpu_secs = self
            .tests
            .iter()
            .flat_map(|t| &t.runs)
            .map(|r| r.cpu_secs)
            .sum();
        self.parts = parts;
    }

    /// The record as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// Reads a record, refusing another schema.
    pub fn from_json(text: &str) -> Result<GradeRecord, String> {
        let r: GradeRecord = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if r.schema != SCHEMA {
            return Err(format!("schema {:?}, expected {SCHEMA:?}", r.schema));
        }
        Ok(r)
    }

    /// The terminal view: one line per test, the failures with their message and replay,
    /// the score per part and in total.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        match self.isolation {
            Some(Isolation::Sandbox) => {
                let _ = writeln!(
                    s,
                    "process mode, real time only: every peer a process of the submission's \
                     own code in a sandbox of its own; the tests, the verdict and this record \
                     are the grader's"
                );
            }
            Some(Isolation::NoSandbox) => {
                let _ = writeln!(
                    s,
                    "process mode, real time only, NOT SANDBOXED (--no-sandbox): the submission \
                     ran with the grader's rights; the tests, the verdict and this record are \
                     the grader's"
                );
            }
            None => {}
        }
        let _ = writeln!(
            s,
            "grade: {}{} virtual-time run(s) and {} real-time run(s) per test, seed {}{}",
            self.submission
                .as_deref()
                .map_or(String::new(), |p| format!("{p}: ")),
            self.virtual_runs,
            self.real_time_runs,
            self.seed,
            if self.invariants {
                ""
            } else {
                ", no invariants"
            }
        );
        if let Some(m) = &self.message {
            let _ = writeln!(s, "{:?}: {}", self.status, m.trim_end());
        }
        // The name column fits the longest name (Lab 4's run to 62 characters).
        let w = self
            .tests
            .iter()
            .map(|t| t.go_name.len())
            .fold(32, usize::max);
        let _ = writeln!(
            s,
            "{:<4} {:<w$} {:>7} {:<6} {:>13} {:>8}",
            "part", "test", "runs", "result", "points", "CPU s"
        );
        for t in &self.tests {
            let cpu: f64 = t.runs.iter().map(|r| r.cpu_secs).sum();
            let _ = writeln!(
                s,
                "{:<4} {:<w$} {:>7} {:<6} {:>13} {cpu:>8.2}",
                t.part,
                t.go_name,
                format!("{}/{}", t.runs_passed, t.runs.len()),
                if t.passed { "pass" } else { "FAIL" },
                format!("{:.2}/{:.2}", t.score, t.max_score),
            );
            if let Some(m) = &t.message {
                for line in m.lines() {
                    let _ = writeln!(s, "       {line}");
                }
            }
            if let Some(r) = &t.replay {
                let _ = writeln!(s, "       replay: {r}");
            }
        }
        let heavy: Vec<&str> = self
            .tests
            .iter()
            .filter(|t| {
                t.runs.iter().any(|r| {
                    r.clock == Clock::Virtual
                        && crate::cpu::is_heavy(r.secs, r.cpu_secs - r.check_cpu_secs)
                })
            })
            .map(|t| t.name.as_str())
            .collect();
        if !heavy.is_empty() {
            let _ = writeln!(
                s,
                "warning: CPU time above 1/6 of the virtual test time in {}: the Go lab expects \
                 about 1 min of CPU for 6 min of real time, so these verdicts may not hold on \
                 the wall clock",
                heavy.join(", ")
            );
        }
        if self.bundles_not_kept > 0 {
            let _ = writeln!(
                s,
                "note: {} failing run(s) kept no bundle (--keep-bundles N sets how many may)",
                self.bundles_not_kept
            );
        }
        let parts: Vec<String> = self
            .parts
            .iter()
            .map(|p| format!("{} {:.2}/{:.2}", p.part, p.score, p.max_score))
            .collect();
        let _ = writeln!(s, "parts: {}", parts.join(", "));
        let passed = self.tests.iter().filter(|t| t.passed).count();
        let _ = writeln!(s, "{passed} passed, {} failed", self.tests.len() - passed);
        let _ = writeln!(s, "total CPU {:.2} s", self.cpu_secs);
        let _ = writeln!(s, "wall time {:.1} s", self.wall_secs);
        let _ = writeln!(s, "score {:.2}/{:.2}", self.score, self.max_score);
        s
    }
}
