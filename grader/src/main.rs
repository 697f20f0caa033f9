//! `cargo run -p grader -- <PART>...`: grades the reference Raft (default), `--impl student`
//! or `--impl alt`, with the reference Lab 4 layer (default) or `--kv student` under 4A-4C,
//! or writes a class handout (`handout <DIR>`); with `--process` (or `--peer-bin PATH`) every
//! Raft peer runs in a process of its own (this binary's hidden `peer` subcommand); a `grade`
//! from outside runs Lab 4's layer and clerks in processes too. See `--help`. Everything else lives in the
//! `grader` library (package `lab-grader`) and Lab 4's `kv-grader`; this binary only names
//! the implementations.

use grader::cli::{Implementation, main_builtin};
use grader::harness::ProcessRaft;
use kv_grader::process::ProcessKv;
use kv_grader::suites::catalogue;

fn main() {
    type Reference = raft_rpc::RaftPeer;
    type Student = raft_student::Raft;
    let implementations = [
        Implementation::with_suite(
            "reference",
            "reference",
            "the reference Raft (raft-rpc) under the reference Lab 4 layer (kv-ref)",
            catalogue::<Reference, kv_ref::Reference>,
        )
        .with_process::<Reference>(catalogue::<ProcessRaft, kv_ref::Reference>)
        .with_lab_processes::<Reference, kv_ref::Reference>(catalogue::<ProcessRaft, ProcessKv>),
        Implementation::with_suite(
            "student",
            "reference",
            "your Raft (the raft-student crate) under the reference Lab 4 layer (kv-ref)",
            catalogue::<Student, kv_ref::Reference>,
        )
        .with_process::<Student>(catalogue::<ProcessRaft, kv_ref::Reference>)
        .with_lab_processes::<Student, kv_ref::Reference>(catalogue::<ProcessRaft, ProcessKv>),
        Implementation::with_suite(
            "alt",
            "reference",
            "a second, independently written Raft (raft-alt), kept to test the grader, under \
             the reference Lab 4 layer",
            catalogue::<raft_alt::Raft, kv_ref::Reference>,
        )
        .with_process::<raft_alt::Raft>(catalogue::<ProcessRaft, kv_ref::Reference>)
        .with_lab_processes::<raft_alt::Raft, kv_ref::Reference>(
            catalogue::<ProcessRaft, ProcessKv>,
        ),
        Implementation::with_suite(
            "reference",
            "student",
            "your Lab 4 layer (the kv-student crate) on the reference Raft (raft-rpc)",
            catalogue::<Reference, kv_student::Student>,
        )
        .with_process::<Reference>(catalogue::<ProcessRaft, kv_student::Student>)
        .with_lab_processes::<Reference, kv_student::Student>(catalogue::<ProcessRaft, ProcessKv>),
        Implementation::with_suite(
            "student",
            "student",
            "your Lab 4 layer (the kv-student crate) on your Raft (the raft-student crate)",
            catalogue::<Student, kv_student::Student>,
        )
        .with_process::<Student>(catalogue::<ProcessRaft, kv_student::Student>)
        .with_lab_processes::<Student, kv_student::Student>(catalogue::<ProcessRaft, ProcessKv>),
    ];
    std::process::exit(main_builtin(&implementations));
}
