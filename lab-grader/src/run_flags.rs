//! The flags that say what a run grades and how (`--impl`, `--kv`, `--no-invariants`,
//! `--strict`), declared once and flattened (`#[command(flatten)]`) into every command where
//! they mean the same thing:
//!
//! - [`RunFlags`], all four: a plain run ([`crate::cli::Cli`]) and `shrink`
//!   ([`crate::shrink::ShrinkCli`], where they repeat the flags of the run being shrunk).
//! - [`PeerFlags`], `--impl` and `--kv` alone: `grade` ([`crate::grade::GradeCli`]), which is
//!   always strict and shows its own `--no-invariants` further down its help.
//! - `explore` runs Raft alone (no Lab 4 layer, so no `--kv`, and no linearizability check
//!   for `--strict` to tighten): its `--impl` and `--no-invariants` stay its own.
//!
//! The help texts here are a plain run's. A command that words a flag for its own context
//! (`shrink`: "The Raft the run was of") rewords it with `mut_arg` on its own struct, so each
//! command's `--help` reads as it did when it declared the flags itself; the parsing (names,
//! value names, types) has one home.

use crate::options::Options;

/// Which peers a run grades: `--impl` (the Raft) and `--kv` (the Lab 4 layer). A `grader`
/// binary picks the implementation it was built with by these names (see
/// [`crate::cli::Implementation`]).
#[derive(clap::Args, Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerFlags {
    /// Which Raft to grade: `reference` (raft-rpc's reference peer, the default in the
    /// raft-lab repository), `student` (the raft-student crate; the only one, and so the
    /// default, in a class handout) or, in the repository, `alt` (raft-alt, a second Raft
    /// kept to test the grader). A crate of your own calls
    /// `grader::cli::main::<YourRaft>()` instead.
    #[arg(long = "impl", value_name = "NAME")]
    pub implementation: Option<String>,
    /// Which Lab 4 layer (rsm, key/value server, clerk) the 4A-4C tests run on the Raft of
    /// `--impl`: `reference` (kv-ref, the default in the raft-lab repository) or `student`
    /// (the kv-student crate; the only one in a class handout).
    #[arg(long, value_name = "NAME")]
    pub kv: Option<String>,
}

/// What a run grades and how strictly: [`PeerFlags`], `--no-invariants` and `--strict`.
#[derive(clap::Args, Clone, Debug, Default, PartialEq, Eq)]
pub struct RunFlags {
    /// `--impl` and `--kv`.
    #[command(flatten)]
    pub peers: PeerFlags,
    /// Do not check Raft's safety properties continuously. By default every test also checks,
    /// after every RPC, apply, crash and restart and every 10 ms, the paper's safety rules on
    /// what peers show through `inspect` (Election Safety, one vote per term, terms that never
    /// go back, Leader Append-Only, committed entries kept, Log Matching, Leader Completeness,
    /// the Figure 8 commit rule); this flag gives the Go tester's verdict alone.
    #[arg(long)]
    pub no_invariants: bool,
    /// Strict mode: a linearizability check (4B, 4C) that runs out of its step budget fails
    /// the test, instead of passing with an `info:` line as in Go. The grade command always
    /// runs in strict mode.
    #[arg(long)]
    pub strict: bool,
}

impl RunFlags {
    /// The options these flags set (`implementation`, `kv`, `invariants`, `strict`), every
    /// other one its default.
    pub fn options(&self) -> Options {
        Options {
            implementation: self.peers.implementation.clone(),
            kv: self.peers.kv.clone(),
            invariants: !self.no_invariants,
            strict: self.strict,
            ..Options::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser, Debug)]
    struct Run {
        #[command(flatten)]
        run: RunFlags,
    }

    fn run(args: &[&str]) -> Result<RunFlags, clap::Error> {
        Run::try_parse_from(std::iter::once("run").chain(args.iter().copied())).map(|r| r.run)
    }

    #[test]
    fn flags_set_their_options_and_nothing_else() {
        let flags = run(&[
            "--impl",
            "student",
            "--kv",
            "reference",
            "--no-invariants",
            "--strict",
        ])
        .expect("parses");
        let o = flags.options();
        assert_eq!(o.implementation.as_deref(), Some("student"));
        assert_eq!(o.kv.as_deref(), Some("reference"));
        assert!(!o.invariants && o.strict);
        assert_eq!((o.seed, o.runs, o.real_time), (0, 1, false));
        let o = run(&[]).expect("parses").options();
        assert_eq!((o.implementation, o.kv), (None, None));
        assert!(o.invariants && !o.strict);
    }

    #[test]
    fn a_name_flag_needs_its_value() {
        for flag in ["--impl", "--kv"] {
            let e = run(&[flag]).expect_err("no value");
            assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue, "{flag}");
        }
    }

    /// The line of `flag` in `command`'s `-h` help.
    fn help_line(mut command: clap::Command, flag: &str) -> String {
        command.clone().debug_assert();
        let help = command.render_help().to_string();
        help.lines()
            .find(|l| l.trim_start().starts_with(flag))
            .unwrap_or_else(|| panic!("{flag} not in {help}"))
            .to_string()
    }

    #[test]
    fn each_command_keeps_its_own_wording() {
        use clap::CommandFactory;
        let (cli, shrink, grade) = (
            crate::cli::Cli::command(),
            crate::shrink::ShrinkCli::command(),
            crate::grade::GradeCli::command(),
        );
        for (command, flag, words) in [
            (
                &cli,
                "--impl <NAME>",
                "Which Raft to grade: `reference` (raft-rpc's",
            ),
            (
                &cli,
                "--kv <NAME>",
                "Which Lab 4 layer (rsm, key/value server, clerk)",
            ),
            (
                &cli,
                "--no-invariants",
                "Do not check Raft's safety properties",
            ),
            (&cli, "--strict", "Strict mode: a linearizability check"),
            (
                &shrink,
                "--impl <NAME>",
                "The Raft the run was of (as for a plain run",
            ),
            (&shrink, "--kv <NAME>", "The Lab 4 layer the run was of"),
            (
                &shrink,
                "--no-invariants",
                "The run was without the continuous",
            ),
            (&shrink, "--strict", "The run was in strict mode"),
            (
                &grade,
                "--impl <NAME>",
                "Which Raft to grade (`reference`, `student` or",
            ),
            (
                &grade,
                "--kv <NAME>",
                "Which Lab 4 layer the 4A-4C tests run (`reference`",
            ),
        ] {
            let line = help_line(command.clone(), flag);
            assert!(line.contains(words), "{flag}: {line}");
        }
    }
}
