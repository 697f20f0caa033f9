//! What several of the grader's test binaries share: running the `grader` binary, the sandbox
//! check of the tests that grade from outside, and [`forward_to!`], for a test peer that
//! wraps another and changes only some of its methods. A test file takes it with
//! `mod support;` and uses what it needs. (`hostile_kv.rs` beside it is the hostile Lab 4
//! layer of `lab4_submissions.rs` and `examples/hostile_kv.rs`, which include it by path.)

// Each test binary compiles its own copy and uses part of it.
#![allow(dead_code, unused_macros, unused_imports)]

use std::process::{Command, Output};

/// Runs the `grader` binary of this package with `args`; its status and output.
pub fn grader(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_grader"))
        .args(args)
        .output()
        .expect("the grader binary runs")
}

/// Output bytes as text (lossy: a test shows whatever was printed).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Whether this runs in CI (`CI` set, and not to `0` or `false`), where a test that cannot run
/// here fails instead of skipping.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Whether the sandbox can be made here, probed as user `uid` (a number of the test binary's
/// own); if not the test is skipped, with a note, except in CI (`.ci/run` installs
/// bubblewrap), where that is a failure.
pub fn sandbox_here(uid: u32) -> bool {
    match grader::grade::sandbox::Sandbox::new(Default::default(), uid).and_then(|s| s.probe()) {
        Ok(()) => true,
        Err(e) => {
            assert!(
                !ci(),
                "CI must be able to make the sandbox (.ci/run installs bubblewrap): {e}"
            );
            eprintln!("no sandbox on this machine, test skipped: {e}");
            false
        }
    }
}

/// `LabRaft` methods that call the same method of the peer in field `$field` (a field of type
/// `Arc<P>` where `P: LabRaft`), for a test peer that wraps another and changes only the
/// methods it writes itself. Inside the `impl LabRaft` block:
///
/// ```ignore
/// forward_to!(peer: service, start, get_state, snapshot, kill, inspect);
/// ```
///
/// Any of `service`, `start`, `get_state`, `snapshot`, `kill`, `missing`, `inspect`; `$field`
/// may be a tuple field (`0`).
macro_rules! forward_to {
    (@one $field:tt service) => {
        fn service(self: ::std::sync::Arc<Self>) -> ::labrpc_sim::Service {
            ::std::sync::Arc::clone(&self.$field).service()
        }
    };
    (@one $field:tt start) => {
        fn start(
            self: &::std::sync::Arc<Self>,
            command: ::bytes::Bytes,
        ) -> ::std::option::Option<::lab_api::Started> {
            self.$field.start(command)
        }
    };
    (@one $field:tt get_state) => {
        fn get_state(&self) -> (u64, bool) {
            self.$field.get_state()
        }
    };
    (@one $field:tt snapshot) => {
        fn snapshot(self: &::std::sync::Arc<Self>, index: u64, snapshot: ::bytes::Bytes) {
            self.$field.snapshot(index, snapshot);
        }
    };
    (@one $field:tt kill) => {
        fn kill(&self) {
            self.$field.kill();
        }
    };
    (@one $field:tt missing) => {
        fn missing(&self) -> ::std::vec::Vec<&'static str> {
            self.$field.missing()
        }
    };
    (@one $field:tt inspect) => {
        fn inspect(&self) -> ::std::option::Option<::lab_api::RaftView> {
            self.$field.inspect()
        }
    };
    ($field:tt: $($method:ident),+ $(,)?) => {
        $( forward_to!(@one $field $method); )+
    };
}

pub(crate) use forward_to;
