//! What the grader can say about a test that gives no result: what its threads are inside of
//! (a poll of which peer's task, spawned where; a call into which peer), whether its tasks
//! still run, and what each peer did last. It states what it saw, and claims no deadlock it
//! has not seen.

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
