//! Elsewhere than on Unix the output is not captured: the grader writes to the process's own
//! stdout and stderr, and a peer's prints go there too.

use std::io::{self, IsTerminal, Write};

use crate::harness::TestContext;

/// Who gets the bytes of a drain (nothing is drained here).
#[derive(Clone)]
pub(crate) enum Owner {
    /// A test, and the peer when known.
    Test {
        /// The test.
        t: TestContext,
        /// The peer, when the grader can tell.
        peer: Option<usize>,
    },
    /// No test.
    Nobody,
}

/// Never installed here.
pub struct Installed;

/// Not available here: `None`.
pub(crate) fn install() -> Option<Installed> {
    None
}

/// Nothing to drain here.
pub(crate) fn sync_here() {}

/// Nothing to drain here.
pub(crate) fn drain_as(_owner: Owner) {}

/// Nothing is taken here.
pub(crate) fn bytes_taken() -> u64 {
    0
}

/// Nothing to end here.
pub(crate) fn end_test(_t: &TestContext) {}

/// The process's stdout.
pub(crate) fn stdout() -> Box<dyn Write + Send> {
    Box::new(io::stdout())
}

/// One line to the process's stderr.
pub(crate) fn eprint_line(text: &str) {
    let _ = io::stderr().write_all(format!("{text}\n").as_bytes());
}

/// Whether stdout is a terminal.
pub(crate) fn stdout_is_terminal() -> bool {
    io::stdout().is_terminal()
}

/// The progress bar on stderr when it is a terminal.
pub fn progress_target() -> indicatif::ProgressDrawTarget {
    if io::stderr().is_terminal() {
        indicatif::ProgressDrawTarget::stderr()
    } else {
        indicatif::ProgressDrawTarget::hidden()
    }
}
