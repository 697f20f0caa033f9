//! `cargo run -p grader -- <PART>...`: grades your Raft, the `raft-student` crate. See
//! `--help`. Everything else lives in the `grader` library (the `lab-grader` crate).

use grader::cli::{Implementation, main_builtin};

fn main() {
    let implementations = [Implementation::of::<raft_student::Raft>(
        "student",
        "your Raft (the raft-student crate)",
    )];
    std::process::exit(main_builtin(&implementations));
}
