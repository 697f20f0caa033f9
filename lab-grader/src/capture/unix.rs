//! The capture on Unix: one pipe behind fd 1 and fd 2, a reader thread, and the drains.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::os::fd::OwnedFd;
use std::sync::Mutex;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};

use super::Lines;
use crate::harness::{TestContext, lock};
use crate::panics;

/// The pipe's size: big enough that a burst of prints between two drains rarely fills it.
const PIPE_SIZE: usize = 1 << 20;
/// The reader thread drains bytes that no one else drained within this long...
const READER_DELAY: Duration = Duration::from_millis(20);
/// ...or as soon as this many are waiting, so that a writer never blocks on a full pipe.
const READER_HIGH: u64 = 64 * 1024;
/// A line longer than this is cut (a peer printing without newlines must not grow a buffer
/// without bound).
const MAX_LINE: usize = 64 * 1024;
/// Lines printed outside any test (after a test ended, by a thread it left behind) are
/// passed to the grader's stderr, at most this many; the rest are counted.
const MAX_STRAY: u64 = 1000;

/// Who gets the bytes of a drain.
#[derive(Clone)]
pub(crate) enum Owner {
    /// A test, and the peer when known.
    Test {
        /// The test.
        t: TestContext,
        /// The peer, when the grader can tell.
        peer: Option<usize>,
    },
    /// No test runs on this thread (or, for the reader thread, no single test runs).
    Nobody,
}

#[derive(Default)]
struct State {
    /// A line begun but not ended, and whose it is.
    partial: Vec<u8>,
    partial_owner: Option<Owner>,
    /// When the reader first saw bytes waiting that no one drained since.
    waiting_since: Option<Instant>,
    /// Where a drain reads to (kept: zeroing a new buffer at every drain would cost more than
    /// the read).
    buf: Vec<u8>,
}

struct Capture {
    read: OwnedFd,
    /// The original fd 1 and fd 2.
    out: File,
    err: File,
    out_tty: bool,
    err_tty: bool,
    state: Mutex<State>,
    active: AtomicBool,
    stray: AtomicU64,
}

static CAPTURE: OnceLock<Capture> = OnceLock::new();

/// See [`bytes_taken`].
static TAKEN: AtomicU64 = AtomicU64::new(0);

fn active() -> Option<&'static Capture> {
    CAPTURE.get().filter(|c| c.active.load(Ordering::Acquire))
}

#[allow(clippy::disallowed_methods)] // the reader's delay is wall time by nature
fn wall_now() -> Instant {
    Instant::now()
}

/// The capture, while installed: dropping it drains what is left, stops the reader thread
/// and points fd 1 and fd 2 back at what they were.
pub struct Installed {
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Installed {
    fn drop(&mut self) {
        let Some(c) = CAPTURE.get() else { return };
        let _ = io::stdout().flush();
        c.active.store(false, Ordering::Release);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        drain(c, &Owner::Nobody);
        flush_partial(c);
        let _ = rustix::stdio::dup2_stdout(&c.out);
        let _ = rustix::stdio::dup2_stderr(&c.err);
        let stray = c.stray.load(Ordering::Relaxed);
        if stray > MAX_STRAY {
            eprint_line(&format!(
                "({} more lines printed outside any test were left out)",
                stray - MAX_STRAY
            ));
        }
    }
}

fn new_capture() -> io::Result<(Capture, OwnedFd)> {
    let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    // A bigger pipe is only an optimisation (the reader thread drains a full one).
    let _ = rustix::pipe::fcntl_setpipe_size(&read, PIPE_SIZE);
    rustix::io::ioctl_fionbio(&read, true)?;
    let out = File::from(rustix::io::dup(io::stdout())?);
    let err = File::from(rustix::io::dup(io::stderr())?);
    let capture = Capture {
        read,
        out_tty: out.is_terminal(),
        err_tty: err.is_terminal(),
        out,
        err,
        state: Mutex::default(),
        active: AtomicBool::new(false),
        stray: AtomicU64::new(0),
    };
    Ok((capture, write))
}

/// Points fd 1 and fd 2 at a pipe the grader drains; `None` (and nothing changed) if that
/// fails or a capture was installed before. Only for a process's entry point: under `cargo
/// test`, libtest captures what each test prints, and this would swallow it.
pub(crate) fn install() -> Option<Installed> {
    let (capture, write) = new_capture().ok()?;
    CAPTURE.set(capture).ok()?;
    let c = CAPTURE.get()?;
    let _ = io::stdout().flush();
    let moved =
        rustix::stdio::dup2_stdout(&write).and_then(|()| rustix::stdio::dup2_stderr(&write));
    drop(write);
    if moved.is_err() {
        let _ = rustix::stdio::dup2_stdout(&c.out);
        let _ = rustix::stdio::dup2_stderr(&c.err);
        return None;
    }
    c.active.store(true, Ordering::Release);
    let reader = std::thread::Builder::new()
        .name("grader output capture".into())
        .spawn(reader_loop)
        .ok();
    Some(Installed { reader })
}

/// The reader thread: drains bytes nobody else drained soon enough, or a pipe filling up.
fn reader_loop() {
    let Some(c) = CAPTURE.get() else { return };
    while c.active.load(Ordering::Acquire) {
        let mut fds = [PollFd::new(&c.read, PollFlags::IN)];
        let timeout = Timespec {
            tv_sec: 0,
            tv_nsec: 50_000_000,
        };
        if !matches!(rustix::event::poll(&mut fds, Some(&timeout)), Ok(n) if n > 0) {
            continue;
        }
        let waiting = rustix::io::ioctl_fionread(&c.read).unwrap_or(0);
        let burst = waiting >= READER_HIGH;
        let late = {
            let mut st = lock(&c.state);
            let since = *st.waiting_since.get_or_insert_with(wall_now);
            since.elapsed() >= READER_DELAY
        };
        if burst || late {
            drain(c, &panics::reader_owner());
        } else {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// Drains the pipe on behalf of the peer code running on this thread now (a call of the
/// harness into a peer, a peer's RPC handler, a task of a peer), so that what it printed is
/// recorded before what the harness records next. In the harness's own code it does nothing:
/// what is in the pipe then is not this code's, and whoever drains next takes it.
pub(crate) fn sync_here() {
    if let Some(c) = active().filter(|_| panics::exact_capture_here()) {
        let owner = panics::current_owner();
        if matches!(owner, Owner::Test { peer: Some(_), .. }) {
            drain(c, &owner);
        }
    }
}

/// How many bytes the capture has taken from its pipe so far (a run that sees this change
/// printed something, or ran beside something that did).
pub(crate) fn bytes_taken() -> u64 {
    TAKEN.load(Ordering::Relaxed)
}

/// Drains the pipe: what is in it was written by `owner`.
pub(crate) fn drain_as(owner: Owner) {
    if let Some(c) = active() {
        drain(c, &owner);
    }
}

fn drain(c: &Capture, owner: &Owner) {
    let mut st = lock(&c.state);
    let mut buf = std::mem::take(&mut st.buf);
    buf.resize(16 * 1024, 0);
    loop {
        match rustix::io::read(&c.read, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => take(c, &mut st, owner, &buf[..n]),
        }
    }
    st.buf = buf;
    st.waiting_since = None;
}

/// Cuts `bytes` into lines and hands each to its owner (a line begun by another owner stays
/// that owner's).
fn take(c: &Capture, st: &mut State, owner: &Owner, mut bytes: &[u8]) {
    TAKEN.fetch_add(
        u64::try_from(bytes.len()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
    while !bytes.is_empty() {
        let who = st
            .partial_owner
            .get_or_insert_with(|| owner.clone())
            .clone();
        match bytes.iter().position(|&b| b == b'\n') {
            Some(i) => {
                st.partial.extend_from_slice(&bytes[..i]);
                bytes = &bytes[i + 1..];
                let line = std::mem::take(&mut st.partial);
                st.partial_owner = None;
                deliver(c, &who, &line);
            }
            None => {
                st.partial.extend_from_slice(bytes);
                bytes = &[];
                if st.partial.len() >= MAX_LINE {
                    let line = std::mem::take(&mut st.partial);
                    st.partial_owner = None;
                    deliver(c, &who, &line);
                }
            }
        }
    }
}

fn flush_partial(c: &Capture) {
    let mut st = lock(&c.state);
    if let Some(who) = st.partial_owner.take() {
        let line = std::mem::take(&mut st.partial);
        drop(st);
        deliver(c, &who, &line);
    }
}

/// Ends the test `t` for the capture: its half-written last line, if any, is its.
pub(crate) fn end_test(t: &TestContext) {
    let Some(c) = active() else { return };
    drain(c, &panics::current_owner());
    let mut st = lock(&c.state);
    let mine = matches!(&st.partial_owner, Some(Owner::Test { t: t2, .. }) if t2.same_test(t));
    if mine {
        if let Some(who) = st.partial_owner.take() {
            let line = std::mem::take(&mut st.partial);
            deliver(c, &who, &line);
        }
    }
}

fn deliver(c: &Capture, owner: &Owner, line: &[u8]) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let text = String::from_utf8_lossy(line).into_owned();
    match owner {
        Owner::Test { t, peer } => t.note_print(*peer, text),
        Owner::Nobody => {
            if c.stray.fetch_add(1, Ordering::Relaxed) < MAX_STRAY {
                let _ = (&c.err).write_all(format!("{text}\n").as_bytes());
            }
        }
    }
}

/// The grader's own standard output: the original fd 1 while the capture is installed,
/// written a whole line at a time.
pub(crate) fn stdout() -> Box<dyn Write + Send> {
    match CAPTURE.get().and_then(|c| c.out.try_clone().ok()) {
        Some(mut out) => Box::new(Lines::new(move |bytes: &[u8]| {
            let _ = out.write_all(bytes);
        })),
        None => Box::new(io::stdout()),
    }
}

/// Writes one line of the grader's own to its standard error (the original fd 2 while the
/// capture is installed), in one write.
pub(crate) fn eprint_line(text: &str) {
    let line = format!("{text}\n");
    match CAPTURE.get() {
        Some(c) => {
            let _ = (&c.err).write_all(line.as_bytes());
        }
        None => {
            let _ = io::stderr().write_all(line.as_bytes());
        }
    }
}

/// Whether the grader's own standard output is a terminal.
pub(crate) fn stdout_is_terminal() -> bool {
    CAPTURE
        .get()
        .map_or_else(|| io::stdout().is_terminal(), |c| c.out_tty)
}

/// Where a progress bar draws: the grader's own standard error, hidden when it is not a
/// terminal.
pub fn progress_target() -> indicatif::ProgressDrawTarget {
    match CAPTURE.get() {
        Some(c) if c.err_tty => {
            let read = rustix::io::dup(io::stdin()).map(File::from);
            match (read, c.err.try_clone()) {
                (Ok(read), Ok(write)) => indicatif::ProgressDrawTarget::term(
                    console::Term::read_write_pair(read, write),
                    20,
                ),
                _ => indicatif::ProgressDrawTarget::hidden(),
            }
        }
        Some(_) => indicatif::ProgressDrawTarget::hidden(),
        None if io::stderr().is_terminal() => indicatif::ProgressDrawTarget::stderr(),
        None => indicatif::ProgressDrawTarget::hidden(),
    }
}
