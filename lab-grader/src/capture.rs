//! The peers' own output, captured (the grader's process only; never under `cargo test`).
//!
//! A peer's `print!`, `println!`, `eprint!`, `eprintln!`, `dbg!`, a write to
//! `std::io::stdout()` or `stderr()`, and any print of a library it uses, end up as writes to
//! file descriptors 1 and 2 of the grader's process. `install`, which only the CLI entry
//! points call, points both descriptors at one pipe and keeps duplicates of the original ones
//! for the grader's own output (`stdout`, `eprint_line`). So a peer's output never blocks
//! (nothing holds a lock on the pipe, and it is always drained), and never cuts one of the
//! grader's lines in two (the grader writes whole lines to descriptors no peer writes to).
//!
//! The pipe is drained, cut into lines and each line recorded in the test's record as a `log`
//! event of level `PRINT` in the lane of the peer that printed it (`sync_here`, `drain_as`),
//! at the points where the grader knows who runs on the thread: after each poll of a task
//! (tokio's task hooks; a task belongs to the peer whose code spawned it, learned at spawn, so
//! from the first line of `make()` on), around each call of the harness into a peer, around
//! the inline run of an RPC handler, and before each event the harness records (so the
//! record keeps the order of prints and events). A reader thread drains the pipe when none of
//! these points comes soon enough, so a writer never waits on a full pipe.
//!
//! Exact when it matters, cheap otherwise: each drain is a system call, and a drain at every
//! switch between peers' code cost more CPU than the rest of a test run. So a test run drains
//! at those points only when its capture is exact (`TestContext::set_exact_capture`): runs
//! whose record is read as it is made (`--log`, `--nocapture`, `--trace`, real time) and
//! replays. Any other run leaves its lines to the reader thread and to its end, with a guessed
//! lane; no one sees them unless it fails, and a failing run that printed is replayed with an
//! exact capture first (the runner's `replay_exact` and `replay_failures_alone`).
//!
//! Exact and best effort: in virtual time with one test at a time (the default), a line is
//! attributed to the peer whose task, call or handler wrote it, at the virtual time it was
//! written. Two threads that write at once (a real-time runtime's two workers, `--jobs 2`, a
//! `std::thread` of a peer's own) share one pipe: a line is then attributed to the code that
//! drains it, which may be another peer's (or another test's), so such lines are best effort.
//! Without tokio's hooks (a build without `--cfg tokio_unstable`, see `.cargo/config.toml`),
//! lines printed by tasks are only attributed to the test.

use std::io::{self, Write};

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::{Installed, progress_target};
#[cfg(unix)]
pub(crate) use unix::{
    Owner, bytes_taken, drain_as, end_test, eprint_line, install, stdout, stdout_is_terminal,
    sync_here,
};

#[cfg(not(unix))]
mod other;
#[cfg(not(unix))]
pub use other::{Installed, progress_target};
#[cfg(not(unix))]
pub(crate) use other::{
    Owner, bytes_taken, drain_as, end_test, eprint_line, install, stdout, stdout_is_terminal,
    sync_here,
};

/// Prints a clap error (or `--help`, `--version`) where clap would, through the grader's own
/// descriptors.
pub(crate) fn print_clap_error(e: &clap::Error, out: &mut dyn Write) {
    let text = e.render().to_string();
    if e.use_stderr() {
        eprint_line(text.trim_end_matches('\n'));
    } else {
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

/// A writer that hands its bytes to `f` one whole line (or several) at a time.
pub(crate) struct Lines<F: FnMut(&[u8])> {
    buf: Vec<u8>,
    f: F,
}

impl<F: FnMut(&[u8])> Lines<F> {
    pub(crate) fn new(f: F) -> Self {
        Lines { buf: Vec::new(), f }
    }
}

impl<F: FnMut(&[u8])> Write for Lines<F> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        if let Some(end) = self.buf.iter().rposition(|&b| b == b'\n') {
            let rest = self.buf.split_off(end + 1);
            (self.f)(&self.buf);
            self.buf = rest;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            (self.f)(&self.buf);
            self.buf.clear();
        }
        Ok(())
    }
}

impl<F: FnMut(&[u8])> Drop for Lines<F> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}
