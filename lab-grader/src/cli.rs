//! The command line (clap derive). Generic over the peer type: a crate of one's own calls
//! `grader::cli::main::<TheirRaft>()`; the `grader` binaries call [`main_builtin`] with the
//! peers they were built with (the reference and the student crate in this repository, the
//! student crate alone in a handout), and `--impl` picks one of them.

use std::io::{self, Write};
use std::time::Duration;

use clap::Parser;
use lab_api::LabRaft;

use crate::run_flags::{PeerFlags, RunFlags};
use crate::runner::{self, Options, Selection};
use crate::suites::{Part, suite};

const EXAMPLES: &str = "\
Examples:
  cargo run -p grader -- 2A                      run part 2A (3 tests)
  cargo run -p grader -- 2B 2C                   run parts 2B and 2C
  cargo run -p grader -- all                     every part the grader has (same as no part):
                                                 the Raft lab's 28 tests and Lab 4's 30
  cargo run -p grader -- 4B                      Lab 4, part 4B (the key/value service)
  cargo run -p grader -- 4A --kv student         Lab 4 on the kv-student crate (on the
                                                 Raft --impl names)
  cargo run -p grader -- extra                   the extra suite: 5 scenarios for bugs the 28 miss
  cargo run -p grader -- --list                  list every test: part, name, Go name, title
  cargo run -p grader -- --test figure8          tests whose name contains \"figure8\"
  cargo run -p grader -- --test TestBackup2B     Go names work too
  cargo run -p grader -- --test backup_2b --seed 1234
                                                 replay a failure exactly (the seed is printed)
  cargo run -p grader -- 2C --runs 50 --jobs 2   stress: every 2C test 50 times, 2 at a time
  cargo run -p grader -- 2A --real-time          use the real clock, as the Go lab does
  cargo run -p grader -- 2A --impl student       grade the raft-student crate instead
  cargo run -p grader -- 2A --real-time --process
                                                 every peer in a process of its own (SIGKILL
                                                 for a crash); --peer-bin PATH runs PATH's
                                                 peers (e.g. target/debug/peer of a crate
                                                 whose src/bin/peer.rs is lab_peer::main)
  cargo run -p grader -- 2C --no-invariants      the Go tester's verdict alone (no safety checks)
  cargo run -p grader -- --test backup_2b --seed 7 --log
                                                 print the run's events live, one column per peer
  cargo run -p grader -- 2A --impl student --nocapture --level debug --topic vote
                                                 print the peers' own lines live (println! and
                                                 tracing; DEBUG and up; topic vote only)
  cargo run -p grader -- --test backup_2b --seed 7 --trace
                                                 write the run's bundle even if it passes
  cargo run -p grader -- explore --seeds 1000    random fault schedules past the 28 tests, one
                                                 per seed (see explore --help)
  cargo run -p grader -- shrink target/grader/backup_2b-seed7
                                                 shrink a bundle's failing run (a single
                                                 run's failure is shrunk by default)
  cargo run -p grader -- --choices target/grader/backup_2b-seed7/shrunk/choices.json
                                                 replay a run from its recorded choices
  cargo run -p grader -- view target/grader/backup_2b-seed7
                                                 show a bundle's events (see view --help)
  cargo run -p grader -- handout ../lab          write a starter workspace for a class
  cargo run -p grader -- grade --help            grade a submission: points, JSON, JUnit,
                                                 Gradescope (for course staff)

Virtual time (the default) runs each test on one thread with tokio's paused clock: sleeps and
timeouts take no wall time, so 2A-2D finish in seconds, and a run is a function of its seed.
The printed times are then virtual seconds. --real-time uses the wall clock (a 2-worker
runtime) and is not reproducible. Every failing run writes a bundle (report, replay command,
events.jsonl, backtrace, timeline.html) to target/grader/<test>-seed<S>/ (or --out DIR), printed
in the failure message. Exit status: 0 all passed, 1 a test failed, 2 usage error.

What peers print (println!, eprintln!, dbg!, tracing, any write to stdout or stderr) never
blocks a run: it is recorded in the peer's lane with its time, a failure shows each peer's last
lines, a passing run shows none, and --nocapture shows them all live. RAFT_LOG=debug (or
--level) sets which tracing lines of the peers are recorded (the Go lab's Debug switch).";

/// A part argument: one part, or `all`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartArg {
    /// One part.
    One(Part),
    /// Every part.
    All,
}

/// A part name that is not 2A-2D, 3A-3D, 4A-4C, all or extra.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown part {given:?}: expected 2A, 2B, 2C, 2D (3A-3D are accepted as aliases), 4A, 4B, 4C, all, or extra"
)]
pub struct BadPart {
    /// What was given.
    pub given: String,
}

/// Parses a part argument, case-insensitively; 3A-3D (the 2024+ numbering) are aliases of
/// 2A-2D; 4A-4C are Lab 4's parts.
pub fn parse_part(s: &str) -> Result<PartArg, BadPart> {
    let part = match s.to_ascii_uppercase().as_str() {
        "ALL" => return Ok(PartArg::All),
        "2A" | "3A" => Part::A,
        "2B" | "3B" => Part::B,
        "2C" | "3C" => Part::C,
        "2D" | "3D" => Part::D,
        "4A" => Part::KvA,
        "4B" => Part::KvB,
        "4C" => Part::KvC,
        "EXTRA" => Part::Extra,
        _ => {
            return Err(BadPart {
                given: s.to_string(),
            });
        }
    };
    Ok(PartArg::One(part))
}

/// The MIT 6.5840 lab grader: Raft (parts 2A-2D) and, where built with it, the key/value
/// service on Raft (Lab 4, parts 4A-4C), deterministic in virtual time.
#[derive(Parser, Debug)]
#[command(name = "grader", version, after_long_help = EXAMPLES, after_help = "Run with --help for examples.")]
pub struct Cli {
    /// Parts to run: 2A 2B 2C 2D (3A-3D are aliases), 4A 4B 4C (Lab 4, the key/value service),
    /// or `all` (the default: every part the grader was built with, the Raft lab's 28 tests
    /// and Lab 4's 30). `extra` runs the extra suite: five targeted scenarios for classic bugs the
    /// lab's tests miss (a vote lost in a restart, a leader ignoring a higher term in a reply,
    /// the Figure 8 commit rule, a stale InstallSnapshot, backing up entry by entry).
    #[arg(value_name = "PART", value_parser = parse_part)]
    pub parts: Vec<PartArg>,
    /// Only tests whose function name (e.g. `initial_election_2a`) or Go name (e.g.
    /// `TestInitialElection2A`) contains PATTERN (a plain substring, not a regex). A PATTERN
    /// equal to a test's name selects only that test.
    #[arg(long, value_name = "PATTERN")]
    pub test: Option<String>,
    /// List the selected tests instead of running them.
    #[arg(long)]
    pub list: bool,
    /// Run seed (default: random; always printed). With the test name it fixes every random
    /// choice of a virtual-time run, so `--test NAME --seed S` replays a failure exactly.
    #[arg(long, value_name = "U64")]
    pub seed: Option<u64>,
    /// Use the real clock (as the Go lab does) instead of virtual time. Not reproducible.
    #[arg(long)]
    pub real_time: bool,
    /// Run each selected test N times, run k with seed + k, and print a table.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// Run up to J tests at a time, each on its own thread.
    #[arg(long, value_name = "J", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub jobs: u32,
    /// `--impl`, `--kv`, `--no-invariants`, `--strict`.
    #[command(flatten)]
    pub run: RunFlags,
    /// Write the bundle of every run, passing ones too (failing runs always write theirs), and
    /// record the peers' DEBUG and TRACE log lines as well as INFO and above.
    #[arg(long)]
    pub trace: bool,
    /// Print each run's events live as a terminal view (one column per peer), DEBUG and TRACE
    /// log lines included; best with one test (`--test NAME`).
    #[arg(long)]
    pub log: bool,
    /// Where bundles go (default: target/grader in the workspace, or $CARGO_TARGET_DIR/grader).
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,
    /// At most N failing runs keep their bundle (0: none); the summary counts the others.
    /// Each test's first failure comes first: a test's later failures take at most half the
    /// places. Default: every failing run of a single run, 20 in a --runs stress run.
    #[arg(long, value_name = "N")]
    pub keep_bundles: Option<usize>,
    /// Print the peers' own lines live as they come, each with its time and peer: what they
    /// print (println!, eprintln!, dbg!, ...) and their tracing lines. Without it they are
    /// only recorded (in the bundle), and a failure shows each peer's last lines.
    #[arg(long)]
    pub nocapture: bool,
    /// Which tracing lines of the peers are recorded (and shown with --nocapture or --log): a
    /// level (error, warn, info, debug, trace, off) or tracing directives such as
    /// `info,vote=trace`. Default: $RAFT_LOG, else info (trace with --trace or --log).
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    pub level: Option<String>,
    /// Only the peers' lines of these topics in the live output, comma-separated (a line's
    /// topics are its `topic` field, its target, and `print` for what a peer printed).
    #[arg(long, value_name = "TOPICS", value_delimiter = ',')]
    pub topic: Vec<String>,
    /// Process mode: run every peer in a process of its own (this grader, as `grader peer`),
    /// talking to the grader's network over a Unix-domain socket; a crash is a SIGKILL. The
    /// network, the persister, the checks and the verdict stay in the grader's process. Needs
    /// --real-time.
    #[arg(long)]
    pub process: bool,
    /// Process mode with peers run as `PATH peer SOCKET`: any executable that serves the
    /// `lab-peer` protocol (a crate's `src/bin/peer.rs` calling `lab_peer::main::<TheirRaft>()`,
    /// or another grader binary, whose first `--impl` it then serves). Implies --process.
    #[arg(long, value_name = "PATH")]
    pub peer_bin: Option<std::path::PathBuf>,
    /// Replay a run from its recorded choices: a choices file (`choices.json` of a bundle) or
    /// a bundle's directory. The file names the test and the seed (no --test or --seed is
    /// needed); every random choice of the run (the network's, the test's, the peers' seeds,
    /// explore's) is read from it instead of drawn from the seed. Virtual time only.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["seed", "test", "runs", "real_time"])]
    pub choices: Option<std::path::PathBuf>,
    /// Shrink failures in a stress run (`--runs N`) too: by default only the failure of a
    /// single run is shrunk (see --shrink-attempts).
    #[arg(long, conflicts_with = "no_shrink")]
    pub shrink: bool,
    /// Do not shrink a failure. By default a failing virtual-time run (of a single run) is
    /// searched for a smaller run that fails the same way: fewer dropped messages, crashes
    /// and disconnections, shorter delays; the bundle then holds it in `shrunk/`, and its
    /// timeline opens on it.
    #[arg(long)]
    pub no_shrink: bool,
    /// How many runs a shrink may make (each a replay in virtual time).
    #[arg(long, value_name = "N", default_value_t = crate::shrink::DEFAULT_ATTEMPTS)]
    pub shrink_attempts: u32,
}

/// Checks a `--level` value (or `RAFT_LOG`).
fn parse_level(s: &str) -> Result<String, crate::trace::logs::BadLevel> {
    crate::trace::logs::parse_level(s).map(|_| s.to_string())
}

/// The level of the peers' tracing lines: `--level`, else `RAFT_LOG` (ignored, with a
/// warning, if it does not parse).
pub(crate) fn log_level(flag: Option<&str>) -> Option<String> {
    if let Some(l) = flag {
        return Some(l.to_string());
    }
    let env = std::env::var("RAFT_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty())?;
    match parse_level(&env) {
        Ok(l) => Some(l),
        Err(e) => {
            crate::capture::eprint_line(&format!("warning: RAFT_LOG ignored: {e}"));
            None
        }
    }
}

/// The selection that part arguments and a `--test` pattern describe (`all` anywhere: every
/// part; repeated parts once, in the order given).
pub fn selection_of(part_args: &[PartArg], test: Option<&str>) -> Selection {
    let mut parts: Vec<Part> = Vec::new();
    if !part_args.contains(&PartArg::All) {
        for p in part_args {
            if let PartArg::One(p) = p {
                if !parts.contains(p) {
                    parts.push(*p);
                }
            }
        }
    }
    Selection {
        parts,
        pattern: test.map(str::to_owned),
    }
}

impl Cli {
    /// The selection the arguments describe.
    pub fn selection(&self) -> Selection {
        selection_of(&self.parts, self.test.as_deref())
    }

    /// The run options (the seed is resolved by the caller).
    pub fn options(&self, seed: u64) -> Options {
        Options {
            seed,
            real_time: self.real_time,
            runs: self.runs,
            jobs: usize::try_from(self.jobs).unwrap_or(1),
            progress: true,
            watchdog: None::<Duration>,
            implementation: self.run.peers.implementation.clone(),
            kv: self.run.peers.kv.clone(),
            invariants: !self.run.no_invariants,
            strict: self.run.strict,
            trace: self.trace,
            log: self.log,
            out: self.out.clone(),
            log_level: log_level(self.level.as_deref()),
            nocapture: self.nocapture,
            topics: self.topic.clone(),
            process: self.process_flags(),
            keep_going: false,
            keep_bundles: self.keep_bundles,
            bundles: crate::options::BundleTally::default(),
            choices: None,
            choices_file: None,
            shrink: (!self.real_time
                && !self.no_shrink
                && self.choices.is_none()
                && (self.shrink || self.runs <= 1))
                .then_some(self.shrink_attempts),
        }
    }

    /// Whether peers run in processes of their own (`--process` or `--peer-bin`).
    pub fn is_process_mode(&self) -> bool {
        self.process || self.peer_bin.is_some()
    }

    /// The process-mode flags a replay command repeats.
    fn process_flags(&self) -> Option<String> {
        match &self.peer_bin {
            Some(path) => Some(format!("--peer-bin {}", path.display())),
            None => self.process.then(|| "--process".to_string()),
        }
    }
}

/// A fresh run seed from the OS (the one place the grader is not seeded by its caller).
pub(crate) fn random_seed() -> u64 {
    // The run seed itself must come from somewhere when the user gives none; it is printed,
    // so the run is still replayable.
    #[allow(clippy::disallowed_methods)]
    let mut rng = rand::rng();
    rand::RngCore::next_u64(&mut rng)
}

fn list(
    tests: &[crate::suites::TestCase],
    selection: &Selection,
    out: &mut dyn Write,
) -> io::Result<i32> {
    match selection.resolve(tests) {
        Ok(cases) => {
            for c in &cases {
                // The explore test is its own command, not one of the extra suite's.
                let part = if c.name == crate::explore::NAME {
                    "explore".to_string()
                } else {
                    c.part.to_string()
                };
                writeln!(out, "{part}  {:<32} {:<33} {}", c.name, c.go_name, c.title)?;
            }
            // What `all` leaves out, where a user listing the tests looks for more.
            let listed_all = selection.parts.is_empty() && selection.pattern.is_none();
            if listed_all && tests.iter().any(|c| c.part == Part::Extra) {
                writeln!(
                    out,
                    "extra  (not in all) targeted tests for classic bugs: cargo run -p grader -- \
                     extra --list"
                )?;
            }
            let explore_here = tests.iter().any(|c| c.name == crate::explore::NAME);
            if explore_here
                && selection.pattern.is_none()
                && (listed_all || selection.parts.contains(&Part::Extra))
            {
                writeln!(
                    out,
                    "explore  (not in all) random fault schedules past these tests, one per \
                     seed: cargo run -p grader -- explore --seeds 1000 (see explore --help)"
                )?;
            }
            Ok(0)
        }
        Err(e) => {
            crate::capture::eprint_line(&format!("error: {e}"));
            Ok(2)
        }
    }
}

/// Runs the CLI for peer type `R` with these arguments; returns the exit status.
pub fn main_with_args<R: LabRaft>(
    args: impl IntoIterator<Item = String>,
    out: &mut dyn Write,
) -> i32 {
    main_with_suites(suite::<R>, Some(ProcessPeers::of::<R>(None)), args, out)
}

/// Runs the CLI on the tests `suite` returns (a catalogue with other labs' suites, like Lab
/// 4's); returns the exit status.
pub fn main_with_suite(
    suite: fn() -> Vec<crate::suites::TestCase>,
    args: impl IntoIterator<Item = String>,
    out: &mut dyn Write,
) -> i32 {
    main_with_suites(suite, None, args, out)
}

/// How a grader binary runs its peers in process mode: the tests on [`ProcessRaft`] peers,
/// how its hidden `peer` subcommand serves its own peer type, and how that type renders its
/// messages.
///
/// [`ProcessRaft`]: crate::harness::ProcessRaft
#[derive(Clone, Copy)]
pub struct ProcessPeers {
    /// The tests with [`crate::harness::ProcessRaft`] as the Raft (Lab 4's on the same layer).
    pub suite: fn() -> Vec<crate::suites::TestCase>,
    /// `peer [--impl NAME] SOCKET`: serves the peer type (`lab_peer::main_with_args::<R>`).
    pub serve: fn(&[String]) -> i32,
    /// The peer type's [`LabRaft::describe`].
    pub describe: fn(&str, &[u8], bool) -> Option<String>,
    /// The `--impl` name the `peer` subcommand is given (`None`: the binary's only one).
    pub name: Option<&'static str>,
    /// The `--kv` name it is given too, when its processes serve Lab 4's layer.
    pub kv: Option<&'static str>,
    /// The tests with every server of both labs a process of its own, Lab 4's layer and
    /// clerks included (`kv_grader::suites::catalogue::<ProcessRaft, ProcessKv>`): what a
    /// grade from outside runs. `None`: this binary's processes serve Raft peers only, and a
    /// grade from outside refuses Lab 4.
    pub lab_suite: Option<fn() -> Vec<crate::suites::TestCase>>,
}

impl ProcessPeers {
    /// Peer type `R`'s, with the Raft lab's tests.
    pub fn of<R: LabRaft>(name: Option<&'static str>) -> Self {
        ProcessPeers {
            suite: suite::<crate::harness::ProcessRaft>,
            serve: lab_peer::main_with_args::<R>,
            describe: R::describe,
            name,
            kv: None,
            lab_suite: None,
        }
    }
}

/// Sets up process mode for `cli` (the launcher of every peer); the tests to run, or the
/// usage error to print.
fn process_suite(
    cli: &Cli,
    process: Option<ProcessPeers>,
) -> Result<fn() -> Vec<crate::suites::TestCase>, String> {
    use crate::harness::{PeerLauncher, process::set_launcher};
    if !cli.real_time {
        return Err(
            "--process (and --peer-bin) runs every peer in a process of its own, on \
                    the real clock: add --real-time (virtual time is not kept across processes)"
                .to_string(),
        );
    }
    let Some(p) = process else {
        return Err("this grader cannot run its peers in processes of their own".to_string());
    };
    let launcher = match &cli.peer_bin {
        Some(path) => {
            if !path.is_file() {
                return Err(format!("--peer-bin {}: no such file", path.display()));
            }
            PeerLauncher::binary(path)
        }
        None => {
            let mut l = PeerLauncher::this_grader(p.name.unwrap_or(""), p.describe)
                .map_err(|e| format!("cannot find this grader's own executable: {e}"))?;
            if p.name.is_none() {
                l.args.truncate(1);
            }
            if let Some(kv) = p.kv {
                l.args.extend(["--kv".into(), kv.into()]);
            }
            l
        }
    };
    set_launcher(Some(launcher));
    Ok(p.suite)
}

/// [`main_with_suite`], able to run the peers in processes of their own (`--process`) when
/// `process` says how.
pub fn main_with_suites(
    suite: fn() -> Vec<crate::suites::TestCase>,
    process: Option<ProcessPeers>,
    args: impl IntoIterator<Item = String>,
    out: &mut dyn Write,
) -> i32 {
    let args: Vec<String> = args.into_iter().collect();
    if args.get(1).map(String::as_str) == Some("peer") {
        return match process {
            Some(p) => (p.serve)(&args),
            None => {
                crate::capture::eprint_line("error: this grader cannot serve a peer");
                2
            }
        };
    }
    if args.get(1).map(String::as_str) == Some("view") {
        return crate::trace::view::main_with_args(&args[1..], out);
    }
    if args.get(1).map(String::as_str) == Some("grade") {
        let outside = process.map(|p| crate::grade::FromOutside {
            suite: p.lab_suite.unwrap_or(p.suite),
            lab4: p.lab_suite.is_some(),
        });
        return crate::grade::main_with_suites(suite, outside, &args[1..], out);
    }
    if args.get(1).map(String::as_str) == Some("explore") {
        return crate::explore::cli::main_with_suite(suite, &args[1..], out);
    }
    if args.get(1).map(String::as_str) == Some("shrink") {
        return crate::shrink::main_with_suite(suite, &args[1..], out);
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            crate::capture::print_clap_error(&e, out);
            return e.exit_code();
        }
    };
    let replay = match cli.choices.as_deref().map(crate::shrink::ChoicesFile::read) {
        Some(Ok(file)) => Some(file),
        Some(Err(e)) => {
            crate::capture::eprint_line(&format!("error: {e}"));
            return 2;
        }
        None => None,
    };
    let selection = match &replay {
        Some(file) => selection_of(&[], Some(&file.test)),
        None => cli.selection(),
    };
    let suite = if cli.is_process_mode() {
        match process_suite(&cli, process) {
            Ok(suite) => suite,
            Err(e) => {
                crate::capture::eprint_line(&format!("error: {e}"));
                return 2;
            }
        }
    } else {
        suite
    };
    let tests = suite();
    let result = if cli.list {
        list(&tests, &selection, out)
    } else {
        let mut opts = cli.options(cli.seed.unwrap_or_else(random_seed));
        if let Some(file) = replay {
            opts.seed = file.seed;
            opts.choices = Some(std::sync::Arc::new(file.choices));
            opts.choices_file = cli.choices.clone();
        }
        match selection.resolve(&tests) {
            Ok(cases) => {
                runner::run_cases(&cases, &opts, out).map(|summary| i32::from(summary.failed > 0))
            }
            Err(e) => {
                crate::capture::eprint_line(&format!("error: {e}"));
                Ok(2)
            }
        }
    };
    result.unwrap_or_else(|e| {
        crate::capture::eprint_line(&format!("error: cannot write the report: {e}"));
        1
    })
}

/// Whether a command runs peers (and so captures the process's output): anything but
/// `view`, `handout` and `peer` (a peer process of process mode, whose output the grader
/// that started it captures).
fn runs_peers(args: &[String]) -> bool {
    !matches!(
        args.get(1).map(String::as_str),
        Some("view" | "handout" | "peer")
    )
}

/// The CLI for peer type `R` on the process's arguments and stdout. What the peers print is
/// captured (see [`crate::capture`]) while it runs.
pub fn main<R: LabRaft>() -> i32 {
    let args: Vec<String> = std::env::args().collect();
    let capture = runs_peers(&args).then(crate::capture::install).flatten();
    let mut out = crate::capture::stdout();
    let code = main_with_args::<R>(args, &mut out);
    drop(out);
    drop(capture);
    code
}

/// A peer type a `grader` binary can grade, under the name `--impl` gives it, and the Lab 4
/// layer `--kv` gives, if the binary has Lab 4's tests.
#[derive(Clone, Copy)]
pub struct Implementation {
    /// The `--impl` value (the Raft).
    pub name: &'static str,
    /// The `--kv` value (the Lab 4 layer), `None` for a catalogue without Lab 4.
    pub kv: Option<&'static str>,
    /// One line for error messages: what it is.
    pub about: &'static str,
    suite: fn() -> Vec<crate::suites::TestCase>,
    process: Option<ProcessPeers>,
}

impl Implementation {
    /// Peer type `R`, named `name`: the Raft lab's tests.
    pub fn of<R: LabRaft>(name: &'static str, about: &'static str) -> Self {
        Implementation {
            name,
            kv: None,
            about,
            suite: suite::<R>,
            process: Some(ProcessPeers::of::<R>(Some(name))),
        }
    }

    /// The same, able to run its peers (of type `R`) in processes of their own: `suite` is
    /// its tests on [`crate::harness::ProcessRaft`] peers (for a Lab 4 catalogue,
    /// `kv_grader::suites::catalogue::<ProcessRaft, K>` with the same `K`).
    pub fn with_process<R: LabRaft>(mut self, suite: fn() -> Vec<crate::suites::TestCase>) -> Self {
        self.process = Some(ProcessPeers {
            suite,
            ..ProcessPeers::of::<R>(Some(self.name))
        });
        self
    }

    /// After [`Implementation::with_process`], for a Lab 4 catalogue: this binary's `peer`
    /// subcommand serves Raft `R` with layer `K` in every role
    /// (`lab_peer::main_lab_with_args::<R, K>`), and a grade from outside (`grade
    /// --submission`, `--peer-bin`) runs `lab_suite`, every server of both labs and the
    /// clerks in processes of their own
    /// (`kv_grader::suites::catalogue::<ProcessRaft, ProcessKv>`). Plain `--process` runs
    /// keep the suite given to `with_process` (Raft peers in processes, the layer here).
    pub fn with_lab_processes<R: LabRaft, K: kv_api::KvLab>(
        mut self,
        lab_suite: fn() -> Vec<crate::suites::TestCase>,
    ) -> Self {
        let base = self
            .process
            .unwrap_or_else(|| ProcessPeers::of::<R>(Some(self.name)));
        self.process = Some(ProcessPeers {
            serve: lab_peer::main_lab_with_args::<R, K>,
            kv: self.kv,
            lab_suite: Some(lab_suite),
            ..base
        });
        self
    }

    /// The tests `suite` returns, for the Raft named `name` and the Lab 4 layer named `kv`
    /// (Lab 4's `kv_grader::suites::catalogue::<R, K>` is one).
    pub fn with_suite(
        name: &'static str,
        kv: &'static str,
        about: &'static str,
        suite: fn() -> Vec<crate::suites::TestCase>,
    ) -> Self {
        Implementation {
            name,
            kv: Some(kv),
            about,
            suite,
            process: None,
        }
    }
}

/// The implementation `args` ask for: `--impl` and `--kv`, of a plain run or of `grade`
/// (where a `--submission` forwards them to the submission's own grader instead).
fn chosen_implementation(args: &[String]) -> PeerFlags {
    if args.get(1).map(String::as_str) == Some("grade") {
        return crate::grade::GradeCli::try_parse_from(&args[1..])
            .ok()
            .filter(|g| !g.from_outside())
            .map(|g| g.peers)
            .unwrap_or_default();
    }
    if args.get(1).map(String::as_str) == Some("explore") {
        let explore = crate::explore::cli::ExploreCli::try_parse_from(&args[1..]).ok();
        return PeerFlags {
            implementation: explore.and_then(|e| e.implementation),
            kv: None,
        };
    }
    if args.get(1).map(String::as_str) == Some("shrink") {
        return crate::shrink::ShrinkCli::try_parse_from(&args[1..])
            .ok()
            .map(|s| s.run.peers)
            .unwrap_or_default();
    }
    Cli::try_parse_from(args)
        .ok()
        .map(|c| c.run.peers)
        .unwrap_or_default()
}

/// The `grader` binary: `handout <DIR>`, `grade ...`, or grading the implementation `--impl`
/// names (the first of `implementations` by default).
pub fn main_builtin_with_args(
    implementations: &[Implementation],
    args: Vec<String>,
    out: &mut dyn Write,
) -> i32 {
    if args.get(1).map(String::as_str) == Some("handout") {
        return crate::handout::main_with_args(&args[1..], out);
    }
    if args.get(1).map(String::as_str) == Some("view") {
        return crate::trace::view::main_with_args(&args[1..], out);
    }
    if args.get(1).map(String::as_str) == Some("peer") {
        return serve_peer(implementations, &args);
    }
    let PeerFlags {
        implementation: chosen,
        kv,
    } = chosen_implementation(&args);
    let found = implementations.iter().find(|i| {
        chosen.as_deref().is_none_or(|name| i.name == name)
            && kv.as_deref().is_none_or(|kv| i.kv == Some(kv))
    });
    match found {
        Some(implementation) => {
            main_with_suites(implementation.suite, implementation.process, args, out)
        }
        None => {
            let known: Vec<String> = implementations
                .iter()
                .map(|i| match i.kv {
                    Some(kv) => format!("--impl {} --kv {kv} ({})", i.name, i.about),
                    None => format!("--impl {} ({})", i.name, i.about),
                })
                .collect();
            let name = chosen.unwrap_or_default();
            let asked = match &kv {
                Some(kv) => format!("--impl {name:?} --kv {kv:?}"),
                None => format!("--impl {name:?}"),
            };
            crate::capture::eprint_line(&format!(
                "error: this grader cannot grade {asked}: it was built with {}",
                known.join(", ")
            ));
            if name == "reference" || kv.as_deref() == Some("reference") {
                crate::capture::eprint_line(
                    "(a class handout is built without the reference Raft and Lab 4 layer: grade \
                     your own with --impl student --kv student, the default)",
                );
            }
            2
        }
    }
}

/// `grader peer [--impl NAME] SOCKET` (hidden; process mode runs it): serves the peer of
/// implementation NAME (the first one by default) on the grader's socket.
fn serve_peer(implementations: &[Implementation], args: &[String]) -> i32 {
    let flag = |f: &str| {
        args.iter()
            .position(|a| a == f)
            .and_then(|k| args.get(k + 1))
    };
    let (name, kv) = (flag("--impl"), flag("--kv"));
    let found = implementations
        .iter()
        .filter(|i| name.is_none_or(|n| i.name == n))
        .filter(|i| kv.is_none_or(|k| i.kv == Some(k.as_str())))
        .find_map(|i| i.process);
    match found {
        Some(p) => (p.serve)(args),
        None => {
            crate::capture::eprint_line(&format!(
                "error: this grader has no peer {} to serve",
                name.map_or("at all", String::as_str)
            ));
            2
        }
    }
}

/// The `grader` binary's whole run with `args`: [`main_builtin_with_args`], with what the
/// peers print captured (see [`crate::capture`]) for the commands that run peers. The grader
/// then never holds the stdout lock, and writes its own lines whole to the original
/// descriptors. For a process's entry point only: the capture is process-wide.
pub fn run_process(implementations: &[Implementation], args: Vec<String>) -> i32 {
    let capture = runs_peers(&args).then(crate::capture::install).flatten();
    let mut out = crate::capture::stdout();
    let code = main_builtin_with_args(implementations, args, &mut out);
    drop(out);
    drop(capture);
    code
}

/// [`run_process`] on the process's arguments.
pub fn main_builtin(implementations: &[Implementation]) -> i32 {
    run_process(implementations, std::env::args().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_parse_with_aliases_and_case() {
        assert_eq!(parse_part("2a").unwrap(), PartArg::One(Part::A));
        assert_eq!(parse_part("3D").unwrap(), PartArg::One(Part::D));
        assert_eq!(parse_part("ALL").unwrap(), PartArg::All);
        let e = parse_part("2E").unwrap_err();
        assert!(e.to_string().contains("unknown part \"2E\""));
    }

    fn cli(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("grader").chain(args.iter().copied()))
    }

    #[test]
    fn selection_and_options_from_flags() {
        let c = cli(&[
            "2B", "2a", "2B", "--test", "backup", "--seed", "7", "--runs", "3",
        ])
        .unwrap();
        let s = c.selection();
        assert_eq!(s.parts, vec![Part::B, Part::A]);
        assert_eq!(s.pattern.as_deref(), Some("backup"));
        let o = c.options(7);
        assert_eq!((o.seed, o.runs, o.jobs, o.real_time), (7, 3, 1, false));
        assert!(cli(&["all", "2A"]).unwrap().selection().parts.is_empty());
        assert!(cli(&[]).unwrap().selection().parts.is_empty());
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        for args in [
            &["2E"][..],
            &["--runs", "0"],
            &["--jobs", "0"],
            &["--seed", "-1"],
            &["--bogus"],
        ] {
            let e = cli(args).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{args:?}");
        }
        let e = cli(&["5A"]).unwrap_err().to_string();
        assert!(e.contains("expected 2A, 2B, 2C, 2D"), "{e}");
    }

    #[test]
    fn help_explains_with_examples() {
        let e = cli(&["--help"]).unwrap_err();
        assert_eq!(e.exit_code(), 0);
        let help = e.to_string();
        for needle in [
            "--test",
            "--seed",
            "--real-time",
            "--runs",
            "--jobs",
            "Examples:",
        ] {
            assert!(help.contains(needle), "{needle} missing from help");
        }
    }
}
