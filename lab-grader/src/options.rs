//! How a grading run runs: seed, clock, repetitions, parallelism, watchdog.

use std::path::PathBuf;
use std::time::Duration;

/// How to run them.
#[derive(Clone, Debug)]
pub struct Options {
    /// The run seed; test seeds derive from it and the test names.
    pub seed: u64,
    /// Real clock and a 2-worker runtime instead of virtual time.
    pub real_time: bool,
    /// Repetitions of each test (run k uses seed + k).
    pub runs: u32,
    /// Tests running at once.
    pub jobs: usize,
    /// Show a progress bar on stderr (only drawn on a terminal) for multi-run stress runs.
    pub progress: bool,
    /// Wall-clock budget per test before the watchdog abandons it; `None` for the default
    /// (120 s in virtual time, 180 s in real time).
    pub watchdog: Option<Duration>,
    /// The `--impl` value to repeat in replay commands, when not the default peer.
    pub implementation: Option<String>,
    /// The `--kv` value to repeat in replay commands, when not the default layer.
    pub kv: Option<String>,
    /// Check Raft's safety properties continuously on peers that offer `inspect` (the
    /// default); off gives the Go tester's verdict alone.
    pub invariants: bool,
    /// Strict mode: a linearizability check that runs out of its step budget fails the test
    /// (the grade command's mode) instead of passing with a note.
    pub strict: bool,
    /// Write the bundle (events, report, replay, timeline) of every run, passing ones too
    /// (failing runs always write theirs), and record the peers' DEBUG and TRACE lines.
    pub trace: bool,
    /// Print the terminal view of each run's events live, as they are recorded (and record
    /// DEBUG and TRACE lines).
    pub log: bool,
    /// Where bundles go (`None`: `target/grader` of the workspace, see the trace module).
    pub out: Option<PathBuf>,
    /// Which of the peers' `tracing` lines are recorded: a level (`debug`) or
    /// `tracing-subscriber` directives (`warn,vote=trace`), from `--level` or `RAFT_LOG`;
    /// `None`: INFO and above (everything with `trace` or `log`).
    pub log_level: Option<String>,
    /// Print the peers' own lines (what they print, their `tracing` lines) live, as they come
    /// (`--nocapture`); by default they are only recorded, and a failure shows the last ones.
    pub nocapture: bool,
    /// Only the peers' lines of these topics in the live output (`--topic`): a line's topic is
    /// its `topic` field or its target (`print` for printed lines); empty: every line.
    pub topics: Vec<String>,
    /// Process mode's flags (`--process` or `--peer-bin PATH`) to repeat in replay commands;
    /// `None` when the peers run in the grader's process.
    pub process: Option<String>,
}

impl Options {
    /// The flags a replay command needs besides `--test` and `--seed`.
    pub fn replay_flags(&self) -> String {
        let mut flags = String::new();
        if self.strict {
            flags.push_str(" --strict");
        }
        if self.real_time {
            flags.push_str(" --real-time");
        }
        if let Some(i) = &self.implementation {
            flags.push_str(" --impl ");
            flags.push_str(i);
        }
        if let Some(k) = &self.kv {
            flags.push_str(" --kv ");
            flags.push_str(k);
        }
        if !self.invariants {
            flags.push_str(" --no-invariants");
        }
        if let Some(p) = &self.process {
            flags.push(' ');
            flags.push_str(p);
        }
        flags
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: 0,
            real_time: false,
            runs: 1,
            jobs: 1,
            progress: false,
            watchdog: None,
            implementation: None,
            kv: None,
            invariants: true,
            strict: false,
            trace: false,
            log: false,
            out: None,
            log_level: None,
            nocapture: false,
            topics: Vec::new(),
            process: None,
        }
    }
}
