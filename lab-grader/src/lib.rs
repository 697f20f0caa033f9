//! The MIT 6.824 Raft lab grader (parts 2A-2D): Go's `config.go` harness and all 28 tests
//! of the 2023+ lab, run deterministically in virtual time, generic over the peer type so a
//! student's Raft is graded exactly like the reference one.
//!
//! Where to start:
//! - [`harness`]: [`harness::make_config`] and [`harness::Config`] (crash1, start1, connect,
//!   disconnect, one, check_one_leader, ...), the appliers, the per-test
//!   [`harness::TestContext`]. Spec section 3.
//! - [`suites`]: the tests as data ([`suites::all_tests`]), one file per part. Spec section 5.
//! - [`runner`]: [`run`] selects and runs tests, `--jobs` at a time on test threads, each on
//!   its own runtime, with a wall-clock watchdog, and writes the report ([`report`]).
//! - [`cli`]: the command line; the `grader` binary is [`cli::main_builtin`], which grades
//!   the reference peer or `--impl student`, and writes handouts ([`handout`]);
//!   [`run_flags`]: `--impl`, `--kv`, `--no-invariants`, `--strict`, shared by its commands.
//! - [`grade`]: `grader grade` for course staff: many seeded runs and a real-time run per
//!   test, points, JSON, JUnit and Gradescope output, submissions graded from outside.
//! - [`cmd`], [`fail`], [`seed`]: commands, failure messages (Go's exact text), seeds.
//! - [`explore`]: `grader explore`, random fault schedules beyond the 28 tests, seed by seed.
//! - [`shrink`]: a run's recorded choices (`choices.json`, `--choices FILE`), and a failure
//!   shrunk to a smaller run that fails the same way.
//! - [`cpu`]: the CPU time of each test, and when a virtual-time verdict needs a warning.
//! - [`invariants`]: [`invariants::Monitor`] checks Raft's safety properties (Figure 3) on
//!   every look at a peer's state, and names the first one broken, with its paper section.
//! - [`capture`]: what peers print (`println!` and every other way) never blocks a run: the
//!   CLI captures the process's stdout and stderr, and each line lands in the lane of the
//!   peer that printed it; [`panics`] knows which peer's code runs, for this and for panics.
//!
//! Grading a peer type from code:
//!
//! ```no_run
//! use grader::{Options, Selection, suites::Part};
//!
//! fn grade_2a<R: lab_api::LabRaft>() -> std::io::Result<bool> {
//!     let selection = Selection { parts: vec![Part::A], pattern: None };
//!     let opts = Options { seed: 42, ..Options::default() };
//!     let summary = grader::run::<R>(&selection, &opts, &mut std::io::stdout())?;
//!     Ok(summary.is_ok_and(|s| s.failed == 0))
//! }
//! ```
//!
//! Every test's seed is derived from the run seed and its name, so a failure replays alone:
//!
//! ```
//! let s = grader::seed::test_seed(42, "initial_election_2a");
//! assert_eq!(s, grader::seed::test_seed(42, "initial_election_2a"));
//! assert_ne!(s, grader::seed::test_seed(43, "initial_election_2a"));
//! ```

pub mod capture;
pub mod cli;
pub mod cmd;
pub mod cpu;
pub mod explore;
pub mod fail;
pub mod grade;
pub mod handout;
pub mod harness;
pub mod invariants;
mod lane;
mod options;
pub mod panics;
pub mod report;
pub mod run_flags;
pub mod runner;
mod schedule;
pub mod seed;
pub mod shrink;
mod stuck;
pub mod suites;
mod test_run;
pub mod trace;
mod vclock;

pub use options::Options;
pub use runner::{Selection, Summary, run};
