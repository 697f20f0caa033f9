//! How a grading run runs: seed, clock, repetitions, parallelism, watchdog.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many failing runs keep their bundle by default in a stress run (`runs` above 1) and in
/// a grade (`--keep-bundles`); a single run keeps every failing run's.
pub const DEFAULT_KEEP_BUNDLES: usize = 20;

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
    /// Start every test even after one ends with an apply error (the grade's mode: each
    /// test's verdict is its own). Otherwise a single run (`runs` 1) starts no further test
    /// then, as Go's harness exits the test binary.
    pub keep_going: bool,
    /// At most this many failing runs keep their bundle (`--keep-bundles N`; 0: none); the
    /// others are counted ([`TestRun::bundle_not_kept`](crate::report::TestRun)). `None`:
    /// every one in a single run, `DEFAULT_KEEP_BUNDLES` (20) in a stress run. With `trace`,
    /// every run keeps its bundle.
    pub keep_bundles: Option<usize>,
    /// The bundles kept so far, shared by every clone of these options (so a grade's many
    /// runs of the runner share one cap).
    pub bundles: BundleTally,
    /// Replay these recorded choices instead of drawing from the seeds (`--choices FILE`;
    /// for one run of one test, see [`crate::shrink`]).
    pub choices: Option<std::sync::Arc<labrpc_sim::Recorded>>,
    /// The file `choices` came from: a failure's replay line is then `--choices` of it, the
    /// command that made this run, not `--seed`.
    pub choices_file: Option<std::path::PathBuf>,
    /// Shrink failing virtual-time runs with this many attempts each (`None`: not at all; see
    /// [`crate::shrink`]). The CLI shrinks a single run's failure by default, a stress run's
    /// with `--shrink`.
    pub shrink: Option<u32>,
}

/// The failing runs' bundles kept so far under [`Options::keep_bundles`]. Each test's first
/// failing run may take any place left; its later ones only the first half of the places,
/// so that a test failing again and again leaves room for the first failure of the others.
#[derive(Clone, Debug, Default)]
pub struct BundleTally {
    inner: Arc<Mutex<Tally>>,
}

#[derive(Debug, Default)]
struct Tally {
    kept: usize,
    tests: BTreeSet<&'static str>,
}

impl BundleTally {
    /// Whether a failing run of `test` keeps its bundle under a cap of `cap` (and counts it
    /// if so).
    pub fn claim(&self, test: &'static str, cap: usize) -> bool {
        let mut t = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let places = if t.tests.contains(test) {
            cap.div_ceil(2)
        } else {
            cap
        };
        if t.kept >= places {
            return false;
        }
        t.kept += 1;
        t.tests.insert(test);
        true
    }
}

impl Options {
    /// Whether a run of `test` that `failed` writes its bundle: every run with `trace`, else
    /// a failing one while [`Options::keep_bundles`] allows.
    pub(crate) fn keeps_bundle(&self, test: &'static str, failed: bool) -> bool {
        if self.trace {
            return true;
        }
        let cap = self.keep_bundles.unwrap_or(if self.runs > 1 {
            DEFAULT_KEEP_BUNDLES
        } else {
            usize::MAX
        });
        failed && self.bundles.claim(test, cap)
    }

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
            keep_going: false,
            keep_bundles: None,
            bundles: BundleTally::default(),
            choices: None,
            choices_file: None,
            shrink: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_room_for_each_tests_first_failure() {
        let tally = BundleTally::default();
        let kept: Vec<bool> = ["a", "a", "a", "a", "b", "c", "d", "e", "a"]
            .iter()
            .map(|t| tally.claim(t, 5))
            .collect();
        // a: its first, then two more (the first half of five places: 3); b, c: their
        // first; d, e and a's fifth: no place left.
        assert_eq!(
            kept,
            [true, true, true, false, true, true, false, false, false]
        );
        let none = BundleTally::default();
        assert!(!none.claim("a", 0));
    }

    #[test]
    fn a_single_run_keeps_every_failure_and_trace_every_run() {
        let single = Options::default();
        assert!((0..100).all(|_| single.keeps_bundle("a", true)));
        assert!(!single.keeps_bundle("a", false));
        let stress = Options {
            runs: 2,
            ..Options::default()
        };
        let kept = (0..100).filter(|_| stress.keeps_bundle("a", true)).count();
        assert_eq!(kept, DEFAULT_KEEP_BUNDLES / 2);
        let traced = Options {
            trace: true,
            keep_bundles: Some(0),
            ..Options::default()
        };
        assert!(traced.keeps_bundle("a", false) && traced.keeps_bundle("a", true));
    }
}
