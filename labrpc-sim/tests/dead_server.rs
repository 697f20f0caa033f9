//! The dead-server rule (spec 1.4 steps 4-5, section 10 "connectivity decided only on
//! arrival"): a caller must not get a reply from a server that was deleted, replaced or cut
//! off while its handler ran, and gives up at the next 100 ms poll.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{echo_server, wired_end};
use labrpc_sim::{Bytes, Network, RpcError, Server, Service};
use tokio::time::Instant;

/// A server whose `Slow.Work` sleeps `ms` then sets `done`.
fn slow_server(ms: u64, done: Arc<AtomicBool>) -> Server {
    let mut server = Server::new();
    server.add_service(Service::new("Slow").method("Work", move |_b: Bytes| {
        let done = Arc::clone(&done);
        async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            done.store(true, Ordering::SeqCst);
            Ok(Bytes::from_static(b"done"))
        }
    }));
    server
}

#[derive(Clone, Copy, Debug)]
enum Kill {
    Delete,
    Replace,
    Disable,
}

/// Starts a `handler_ms` handler, kills the server at `kill_at` ms, and returns whether the
/// call got no reply and how long it took; checks the handler itself ran to completion.
async fn call_and_kill(kill: Kill, kill_at: u64, handler_ms: u64) -> (bool, Duration) {
    let net = Network::new(77);
    let done = Arc::new(AtomicBool::new(false));
    net.add_server("s", slow_server(handler_ms, Arc::clone(&done)));
    let end = wired_end(&net, "e", "s");
    let killer = {
        let net = net.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(kill_at)).await;
            match kill {
                Kill::Delete => net.delete_server("s"),
                Kill::Replace => net.add_server("s", echo_server()),
                Kill::Disable => net.enable("e", false).expect("end exists"),
            }
        })
    };
    let start = Instant::now();
    let result = end.call("Slow.Work", Bytes::new()).await;
    let elapsed = start.elapsed();
    killer.await.expect("killer task");
    let no_reply = matches!(result, Err(RpcError::NoReply));
    // Let the detached handler finish: it must run to the end even though nobody waits.
    tokio::time::sleep(Duration::from_millis(handler_ms + 10)).await;
    assert!(
        done.load(Ordering::SeqCst),
        "{kill:?}: the handler ran to completion"
    );
    (no_reply, elapsed)
}

#[tokio::test(start_paused = true)]
async fn caller_gives_up_at_the_next_poll_when_server_is_deleted() {
    let (no_reply, elapsed) = call_and_kill(Kill::Delete, 150, 500).await;
    assert!(no_reply);
    assert_eq!(
        elapsed,
        Duration::from_millis(200),
        "polls at 100 (alive) and 200 (dead)"
    );
}

#[tokio::test(start_paused = true)]
async fn caller_gives_up_at_the_next_poll_when_server_is_replaced() {
    let (no_reply, elapsed) = call_and_kill(Kill::Replace, 150, 500).await;
    assert!(no_reply);
    assert_eq!(elapsed, Duration::from_millis(200));
}

#[tokio::test(start_paused = true)]
async fn caller_gives_up_at_the_next_poll_when_end_is_disabled() {
    let (no_reply, elapsed) = call_and_kill(Kill::Disable, 150, 500).await;
    assert!(no_reply);
    assert_eq!(elapsed, Duration::from_millis(200));
}

#[tokio::test(start_paused = true)]
async fn handler_finishing_after_a_kill_but_before_a_poll_gets_no_reply() {
    // Killed at 30 ms, handler done at 50 ms, before the first poll: the check after the
    // handler (step 5) must still catch it.
    for kill in [Kill::Delete, Kill::Replace, Kill::Disable] {
        let (no_reply, elapsed) = call_and_kill(kill, 30, 50).await;
        assert!(no_reply, "{kill:?}");
        assert_eq!(elapsed, Duration::from_millis(50), "{kill:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn long_handler_on_a_live_server_replies_when_it_finishes() {
    // Control for the tests above: without a kill the reply comes when the handler ends.
    let net = Network::new(78);
    let done = Arc::new(AtomicBool::new(false));
    net.add_server("s", slow_server(500, Arc::clone(&done)));
    let end = wired_end(&net, "e", "s");
    let start = Instant::now();
    let reply = end.call("Slow.Work", Bytes::new()).await.unwrap();
    assert_eq!(&reply[..], b"done");
    assert_eq!(start.elapsed(), Duration::from_millis(500));
    assert!(done.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn replacement_server_has_a_fresh_count_and_the_old_one_is_not_reachable() {
    let net = Network::new(79);
    net.add_server("s", echo_server());
    let end = wired_end(&net, "e", "s");
    for _ in 0..3 {
        end.call("Echo.Echo", Bytes::new()).await.unwrap();
    }
    assert_eq!(net.server_count("s"), Some(3));
    net.add_server("s", echo_server());
    assert_eq!(
        net.server_count("s"),
        Some(0),
        "a restart gets a fresh count"
    );
    end.call("Echo.Echo", Bytes::new()).await.unwrap();
    assert_eq!(net.server_count("s"), Some(1));
}

#[tokio::test(start_paused = true)]
async fn dropping_the_callers_future_leaves_the_handler_running() {
    let net = Network::new(80);
    let done = Arc::new(AtomicBool::new(false));
    net.add_server("s", slow_server(300, Arc::clone(&done)));
    let end = wired_end(&net, "e", "s");
    let gave_up = tokio::time::timeout(
        Duration::from_millis(50),
        end.call("Slow.Work", Bytes::new()),
    )
    .await;
    assert!(gave_up.is_err(), "the caller timed out");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(done.load(Ordering::SeqCst), "the handler finished anyway");
}
