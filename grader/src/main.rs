//! `cargo run -p grader -- <PART>...`: grades the reference peer (default) or `--impl
//! student`, or writes a class handout (`handout <DIR>`). See `--help`. Everything else lives
//! in the `grader` library (package `lab-grader`); this binary only names the peers.

use grader::cli::{Implementation, main_builtin};

fn main() {
    let implementations = [
        Implementation::of::<raft_rpc::RaftPeer>("reference", "the reference Raft (raft-rpc)"),
        Implementation::of::<raft_student::Raft>("student", "your Raft (the raft-student crate)"),
        Implementation::of::<raft_alt::Raft>(
            "alt",
            "a second, independently written Raft (raft-alt), kept to test the grader",
        ),
    ];
    std::process::exit(main_builtin(&implementations));
}
