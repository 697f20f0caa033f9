//! `cargo run -p grader -- <PART>...`: grades your Raft (the `raft-student` crate) on 2A-2D,
//! and your Lab 4 layer (the `kv-student` crate) on your Raft on 4A-4C. See `--help`.
//! Everything else lives in the `grader` library (the `lab-grader` crate) and Lab 4's
//! `kv-grader`.

use grader::cli::{Implementation, main_builtin};
use grader::harness::ProcessRaft;

fn main() {
    let implementations = [Implementation::with_suite(
        "student",
        "student",
        "your Raft (the raft-student crate) and your Lab 4 layer (the kv-student crate)",
        kv_grader::suites::catalogue::<raft_student::Raft, kv_student::Student>,
    )
    .with_process::<raft_student::Raft>(
        kv_grader::suites::catalogue::<ProcessRaft, kv_student::Student>,
    )];
    std::process::exit(main_builtin(&implementations));
}
