//! Statistics (spec 1.5), exactly: the total count counts every submitted call, the byte total
//! counts every call's args and only delivered replies, and a server counts at dispatch.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{concurrent_echoes, echo_server, wired_end};
use labrpc_sim::{Bytes, Network, RpcError, Server, Service};

#[tokio::test(start_paused = true)]
async fn reliable_counts_calls_args_and_replies_exactly() {
    let net = Network::new(21);
    net.add_server("s", echo_server());
    let end = wired_end(&net, "e", "s");
    let disabled = net.make_end("off").unwrap();
    net.connect("off", "s").unwrap();

    for _ in 0..3 {
        end.call("Echo.Echo", Bytes::from(vec![1u8; 10]))
            .await
            .unwrap();
    }
    assert_eq!((net.total_count(), net.total_bytes()), (3, 60));
    for _ in 0..2 {
        assert!(
            disabled
                .call("Echo.Echo", Bytes::from(vec![1u8; 5]))
                .await
                .is_err()
        );
    }
    assert_eq!(
        (net.total_count(), net.total_bytes()),
        (5, 70),
        "dead-end calls: args only"
    );
    assert!(
        end.call("Echo.Fail", Bytes::from(vec![1u8; 7]))
            .await
            .is_err()
    );
    assert_eq!(
        (net.total_count(), net.total_bytes()),
        (6, 77),
        "handler error: args only"
    );
    let unknown = end.call("Echo.Missing", Bytes::from(vec![1u8; 4])).await;
    assert!(matches!(unknown, Err(RpcError::UnknownMethod { .. })));
    assert_eq!((net.total_count(), net.total_bytes()), (7, 81));
    // Per server: 3 echoes, 1 failure and 1 unknown method reached the server's dispatch.
    assert_eq!(net.server_count("s"), Some(5));
}

#[tokio::test(start_paused = true)]
async fn unreliable_counts_dropped_calls_and_only_delivered_reply_bytes() {
    const N: usize = 2_000;
    let net = Network::new(22);
    net.set_reliable(false);
    net.add_server("s", echo_server());
    let end = wired_end(&net, "e", "s");
    let outcomes = concurrent_echoes(&end, N, 3).await;
    let ok = outcomes.iter().filter(|o| o.ok).count() as u64;
    let dispatched = net.server_count("s").unwrap();
    assert_eq!(net.total_count(), N as u64);
    assert_eq!(net.total_bytes(), 3 * N as u64 + 3 * ok);
    assert!(
        dispatched > ok,
        "replies dropped after dispatch still count at the server"
    );
    assert!(
        dispatched < N as u64,
        "dropped requests do not count at the server"
    );
}

#[tokio::test(start_paused = true)]
async fn handler_runs_counted_per_server_and_equal_to_the_dispatch_count() {
    let runs = Arc::new(AtomicUsize::new(0));
    let net = Network::new(23);
    net.set_reliable(false);
    let mut server = Server::new();
    let counter = Arc::clone(&runs);
    server.add_service(Service::new("C").method("Run", move |b: Bytes| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move { Ok(b) }
    }));
    net.add_server("s", server);
    let end = wired_end(&net, "e", "s");
    let calls = (0..1_000).map(|_| end.call("C.Run", Bytes::new()));
    futures::future::join_all(calls).await;
    assert_eq!(
        net.server_count("s"),
        Some(runs.load(Ordering::SeqCst) as u64)
    );
}

#[tokio::test(start_paused = true)]
async fn reply_of_a_replaced_server_adds_no_bytes_and_the_new_server_counts_from_zero() {
    let net = Network::new(24);
    net.add_server("s", echo_server());
    let end = wired_end(&net, "e", "s");
    let call = {
        let end = end.clone();
        tokio::spawn(async move { end.call_typed::<_, u64>("Echo.Sleep", &300u64).await })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(net.server_count("s"), Some(1));
    net.add_server("s", echo_server());
    assert_eq!(net.server_count("s"), Some(0));
    assert!(matches!(call.await.unwrap(), Err(RpcError::NoReply)));
    let args_len = labrpc_sim::codec::encode(&300u64).unwrap().len() as u64;
    assert_eq!((net.total_count(), net.total_bytes()), (1, args_len));
}

#[tokio::test(start_paused = true)]
async fn reordered_reply_bytes_count_when_delivered() {
    const N: usize = 300;
    let net = Network::new(25);
    net.set_long_reordering(true);
    net.add_server("s", echo_server());
    let end = wired_end(&net, "e", "s");
    let handle = {
        let end = end.clone();
        tokio::spawn(async move { concurrent_echoes(&end, N, 2).await })
    };
    // At 100 ms the undelayed replies are in, and no delayed one (those take 200 ms or more).
    tokio::time::sleep(Duration::from_millis(100)).await;
    let bytes_early = net.total_bytes();
    let outcomes = handle.await.unwrap();
    let undelayed = outcomes.iter().filter(|o| o.elapsed.is_zero()).count() as u64;
    assert!(undelayed > 0 && undelayed < N as u64);
    assert_eq!(bytes_early, 2 * N as u64 + 2 * undelayed);
    assert_eq!(net.total_bytes(), 4 * N as u64);
}
