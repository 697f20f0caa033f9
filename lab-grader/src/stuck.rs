//! What the grader can say about a test that gives no result: what its threads are inside of
//! (a poll of which peer's task, spawned where; a call into which peer), whether its tasks
//! still run, and what each peer did last. It states what it saw, and claims no deadlock it
//! has not seen.
//!
//! It also holds the hung-runtime watchdog of virtual time ([`Watch`]): a virtual-time test
//! runs on one thread, which never waits for anything outside the test (the clock jumps when
//! every task waits). So when that thread has been asleep in the kernel at every look for
//! [`HUNG_LOOKS`] looks in a row (one a second), and the test took no step in between (no
//! task polled, no call into a peer, no event), nothing can ever wake it: the test is hung
//! and is reported at once, with what its thread waits on, instead of after the 120 s budget.
//! A slow machine does not trip it: a thread that is merely slow or starved of CPU is
//! running or runnable, not asleep, and one that waits to write its output to the capture's
//! pipe is not counted either (the reader drains it).
//!
//! The watchdog also sees a runtime that never sleeps: in virtual time the clock moves only
//! when every task waits, so a task that is always ready (a loop around `yield_now`, a retry
//! without a sleep) stops it for good while the runtime keeps polling. When
//! [`FROZEN_LOOKS`] looks in a row find the clock where it was while at least
//! [`FROZEN_POLLS`] polls ran, the test is reported hung, with the task polled most (its peer,
//! where it was spawned). Correct code never does this: between two waits of its tasks it
//! computes for micro- or milliseconds, not seconds, and a thread starved of CPU does not
//! poll.

use std::fmt::Write as _;
use std::time::Duration;

use crate::harness::TestContext;
use crate::trace::view;

/// The lines of a stuck test's message after its first (each starts with a newline).
pub(crate) fn what_is_known(t: &TestContext, real_time: bool) -> String {
    let mut s = String::new();
    let (doing, polls) = t.panics().doing_now();
    for (what, for_how_long) in &doing {
        let _ = write!(
            s,
            "\n  a thread of the test has been inside {what} for {:.1} s of wall time: that code \
             blocks its thread instead of awaiting (a loop with no .await in it, a blocking call \
             such as std::thread::sleep, a std::sync lock or channel that waits on another task)",
            for_how_long.as_secs_f64()
        );
    }
    if doing.is_empty() {
        s.push_str(&idle_or_busy(t, polls, real_time));
    }
    let clock = if real_time { "" } else { "virtual " };
    let _ = write!(
        s,
        "\n  the last event was recorded at {:.3} {clock}s",
        t.trace().last_time_us() as f64 / 1e6
    );
    let last = t.trace().last_per_peer();
    if !last.is_empty() {
        s.push_str("\n  what each peer did last:");
        for (peer, line) in last.iter().enumerate() {
            let text = line
                .as_deref()
                .and_then(view::describe)
                .unwrap_or_else(|| "nothing recorded".to_string());
            let _ = write!(s, "\n    peer {peer} {text}");
        }
    }
    s
}

/// No thread is inside peer code: the tasks either still run (and the test does not end) or
/// all wait.
fn idle_or_busy(t: &TestContext, polls: u64, real_time: bool) -> String {
    if !cfg!(tokio_unstable) {
        return "\n  no call of the harness into a peer is running; this build does not follow \
                tasks (it lacks --cfg tokio_unstable, see .cargo/config.toml), so whether tasks \
                still run is not known"
            .to_string();
    }
    std::thread::sleep(Duration::from_millis(200));
    let later = t.panics().doing_now().1;
    if later > polls {
        let clock = if real_time {
            "the test does not end"
        } else {
            "the virtual clock cannot advance while some task is always ready: a task that \
             never waits on time (a loop around yield_now, a busy retry)"
        };
        format!(
            "\n  no poll is blocked, and the tasks keep running ({} polls in 0.2 s): {clock}",
            later - polls
        )
    } else {
        "\n  no task is running or ready, and no timer is due: every task waits for something \
         that did not happen (a message, a lock, a notification), or the test's thread is \
         blocked outside any task"
            .to_string()
    }
}

/// How many looks in a row (the coordinator looks about once a second) must find a
/// virtual-time test's runtime thread asleep, with no step taken, before the test is reported
/// hung.
pub(crate) const HUNG_LOOKS: u32 = 4;

/// How many looks in a row must find a virtual-time test's clock where it was, with at least
/// [`FROZEN_POLLS`] polls run since, before the test is reported hung: a runtime that polls
/// for 3 s of wall time without its clock moving has a task that never waits.
pub(crate) const FROZEN_LOOKS: u32 = 3;

/// The polls that must run while the clock stands still (a busy loop makes millions a second;
/// a thread that is only starved of CPU makes few).
pub(crate) const FROZEN_POLLS: u64 = 10_000;

/// The watchdog's view of one virtual-time test (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Watch {
    /// The test's steps and the time of its last event, at the last look.
    last: Option<(u64, u64)>,
    /// Looks in a row that found the runtime thread asleep and the test no further on.
    asleep: u32,
    /// What the thread waited on at the last of them.
    wait: Option<KernelWait>,
    /// The clock a poll last read, and the polls when a look first saw it there.
    clock: Option<(tokio::time::Instant, u64)>,
    /// Looks in a row since then that found the clock there.
    frozen: u32,
    /// Set when the clock stood still while tasks ran: polls since, and the task polled most.
    busy: Option<(u64, Option<crate::panics::Busiest>)>,
}

impl Watch {
    /// One look at test `t`: whether its runtime has now been asleep, with no step taken, for
    /// [`HUNG_LOOKS`] looks in a row. Never true where the thread's state cannot be read
    /// (outside Linux), nor in real time (no thread is followed then).
    pub(crate) fn look(&mut self, t: &TestContext) -> bool {
        let Some(tid) = t.panics().runtime_thread() else {
            *self = Watch::default();
            return false;
        };
        let now = (t.panics().steps(), t.trace().last_time_us());
        let moved = self.last != Some(now);
        self.last = Some(now);
        match KernelWait::of(tid) {
            Some(w) if !moved && w.asleep() => {
                self.asleep += 1;
                self.wait = Some(w);
            }
            _ => self.asleep = 0,
        }
        self.asleep >= HUNG_LOOKS || self.clock_stands_still(t)
    }

    /// Whether the test's clock has stood still for [`FROZEN_LOOKS`] looks while at least
    /// [`FROZEN_POLLS`] polls ran (then `busy` says how many, and which task).
    fn clock_stands_still(&mut self, t: &TestContext) -> bool {
        let (Some(clock), polls) = t.panics().clock_sample() else {
            return false;
        };
        match self.clock {
            Some((was, first)) if was == clock => {
                self.frozen += 1;
                let ran = polls.saturating_sub(first);
                if self.frozen >= FROZEN_LOOKS && ran >= FROZEN_POLLS {
                    self.busy = Some((ran, t.panics().busiest()));
                    return true;
                }
            }
            _ => {
                self.clock = Some((clock, polls));
                self.frozen = 0;
            }
        }
        false
    }

    /// Whether the last looks found the runtime asleep with no step taken (then its report
    /// says what the thread waits on).
    pub(crate) fn saw_asleep(&self) -> bool {
        self.asleep > 0 && self.wait.is_some()
    }

    /// The first line of a hung test's report (starts with a newline); `in_peer_code`: a
    /// thread of the test is inside a poll of a task or a call into a peer (otherwise the
    /// runtime itself sleeps).
    fn headline(&self, in_peer_code: bool) -> String {
        if let Some((polls, busiest)) = &self.busy {
            let task = busiest.as_ref().map_or(String::new(), |b| {
                format!("; the task polled most is {} ({} polls)", b.doing, b.polls)
            });
            return format!(
                "\n  the test is hung: for {FROZEN_LOOKS} s of wall time its virtual clock did \
                 not move while the runtime polled tasks {polls} times: a task that is always \
                 ready (a loop around yield_now, a retry or a wait on a flag with no sleep) \
                 keeps the clock from advancing, since it moves only when every task \
                 waits{task}"
            );
        }
        let what = match &self.wait {
            _ if !in_peer_code => "was parked by the runtime, which had no task to run and \
                                   no timer to wait for"
                .to_string(),
            Some(w) => w.describe(),
            None => "was asleep".to_string(),
        };
        format!(
            "\n  the test is hung: for {} s of wall time its runtime (one thread, which \
             runs every peer and the grader) took no step (no task polled, no call into a peer, \
             no event recorded), and at every look its thread {what}; nothing in the test can \
             wake it",
            self.asleep
        )
    }
}

/// What a hung virtual-time test is known to be doing: the watchdog's line, then
/// [`what_is_known`].
pub(crate) fn what_hangs(t: &TestContext, watch: &Watch) -> String {
    let in_peer_code = !t.panics().doing_now().0.is_empty();
    let mut s = watch.headline(in_peer_code);
    s.push_str(&what_is_known(t, false));
    s
}

/// Where a thread is in the kernel, read from `/proc/self/task/<tid>/`.
#[derive(Clone, Debug)]
struct KernelWait {
    /// The state letter of `stat` (`S` asleep, `R` running or runnable, ...).
    state: char,
    /// The kernel function it waits in (`wchan`), if readable.
    wchan: String,
    /// The system call it is in, if any and readable.
    syscall: Option<u64>,
    /// What the file descriptor of a read or write is (`pipe:[...]`, a path, ...).
    fd_target: Option<String>,
}

/// System call numbers of the architectures whose numbers are listed here.
#[cfg(target_arch = "x86_64")]
mod nr {
    pub(super) const WRITES: &[u64] = &[1, 18, 20];
    pub(super) const READS: &[u64] = &[0, 7, 17, 19, 23, 232, 270, 271, 281, 45];
    pub(super) const FUTEX: &[u64] = &[202];
    pub(super) const SLEEP: &[u64] = &[35, 230];
}
#[cfg(target_arch = "aarch64")]
mod nr {
    pub(super) const WRITES: &[u64] = &[64, 66, 68];
    pub(super) const READS: &[u64] = &[63, 65, 67, 72, 73, 22, 207];
    pub(super) const FUTEX: &[u64] = &[98];
    pub(super) const SLEEP: &[u64] = &[101, 115];
}
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
mod nr {
    pub(super) const WRITES: &[u64] = &[];
    pub(super) const READS: &[u64] = &[];
    pub(super) const FUTEX: &[u64] = &[];
    pub(super) const SLEEP: &[u64] = &[];
}

impl KernelWait {
    /// Thread `tid` of this process, if its state can be read.
    fn of(tid: u64) -> Option<KernelWait> {
        let dir = format!("/proc/self/task/{tid}");
        let stat = std::fs::read_to_string(format!("{dir}/stat")).ok()?;
        // `pid (comm) S ...`: the comm may hold spaces and parentheses.
        let state = stat.rsplit_once(')')?.1.trim_start().chars().next()?;
        let wchan = std::fs::read_to_string(format!("{dir}/wchan")).unwrap_or_default();
        let syscall = std::fs::read_to_string(format!("{dir}/syscall")).unwrap_or_default();
        let mut words = syscall.split_whitespace();
        let number = words.next().and_then(|w| w.parse::<u64>().ok());
        let fd = words
            .next()
            .and_then(|w| u64::from_str_radix(w.trim_start_matches("0x"), 16).ok());
        let fd_target = match (number, fd) {
            (Some(n), Some(fd)) if nr::WRITES.contains(&n) || nr::READS.contains(&n) => {
                std::fs::read_link(format!("/proc/self/fd/{fd}"))
                    .ok()
                    .map(|p| p.display().to_string())
            }
            _ => None,
        };
        Some(KernelWait {
            state,
            wchan: wchan.trim().to_string(),
            syscall: number,
            fd_target,
        })
    }

    /// Whether the thread is asleep waiting on something other than its output: a thread
    /// that writes to the capture's pipe waits for the reader thread, which drains it.
    fn asleep(&self) -> bool {
        let writing = self.syscall.is_some_and(|n| nr::WRITES.contains(&n))
            || self.wchan.contains("pipe_write");
        self.state == 'S' && !writing
    }

    /// What the thread waits on, as the end of a sentence ("... its thread waits on ...").
    fn describe(&self) -> String {
        let n = self.syscall.unwrap_or(u64::MAX);
        let kernel = if self.wchan.is_empty() || self.wchan == "0" {
            String::new()
        } else {
            format!(" (kernel: {})", self.wchan)
        };
        if nr::FUTEX.contains(&n) || self.wchan.contains("futex") {
            format!(
                "was asleep on a futex{kernel}: a std::sync Mutex, RwLock, Condvar or channel, \
                 or a thread park (a block_on, a join); the classic case is a peer that holds \
                 its lock while it waits for a send on the apply channel to complete, whose \
                 reader is the grader, on this same thread"
            )
        } else if nr::SLEEP.contains(&n) || self.wchan.contains("nanosleep") {
            format!("was asleep in a sleep{kernel}: std::thread::sleep blocks the runtime")
        } else if nr::READS.contains(&n) {
            let what = self.fd_target.as_deref().unwrap_or("a file descriptor");
            format!("waited to read or poll {what}{kernel}: a blocking read or wait for input")
        } else {
            format!("was asleep in the kernel{kernel}")
        }
    }
}
