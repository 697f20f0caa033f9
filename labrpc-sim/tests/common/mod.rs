//! Helpers shared by the labrpc-sim integration tests.
#![allow(dead_code)]

use std::time::Duration;

use labrpc_sim::{Bytes, ClientEnd, Network, RpcError, Server, Service};
use tokio::time::Instant;

/// A server with one service "Echo": `Echo` returns its args, `Sleep` (typed, u64 ms) sleeps
/// that long then replies with the same number, `Fail` always returns a handler error.
pub fn echo_server() -> Server {
    let mut server = Server::new();
    server.add_service(
        Service::new("Echo")
            .method("Echo", |args: Bytes| async move { Ok(args) })
            .typed_method("Sleep", |ms: u64| async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                ms
            })
            .method("Fail", |_args: Bytes| async move {
                Err(std::io::Error::other("refused").into())
            }),
    );
    server
}

/// Makes end `end`, connects it to `server` and enables it.
pub fn wired_end(net: &Network, end: &str, server: &str) -> ClientEnd {
    let client = net.make_end(end).expect("fresh end name");
    net.connect(end, server).expect("new end is unconnected");
    net.enable(end, true).expect("end exists");
    client
}

/// One call's outcome: whether it got a reply, and how long it took in (virtual) time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub ok: bool,
    pub elapsed: Duration,
}

/// Issues `n` concurrent `Echo.Echo` calls with `args_len` bytes each on `end`, all submitted
/// at the same instant, and returns every outcome in submission order.
pub async fn concurrent_echoes(end: &ClientEnd, n: usize, args_len: usize) -> Vec<Outcome> {
    let calls = (0..n).map(|_| async {
        let start = Instant::now();
        let result = end
            .call("Echo.Echo", Bytes::from(vec![7u8; args_len]))
            .await;
        let ok = match result {
            Ok(reply) => {
                assert_eq!(reply.len(), args_len, "an echo returns its args");
                true
            }
            Err(RpcError::NoReply) => false,
            Err(other) => panic!("unexpected error {other}"),
        };
        Outcome {
            ok,
            elapsed: start.elapsed(),
        }
    });
    futures::future::join_all(calls).await
}

/// Min, max and mean of some durations, in milliseconds.
pub fn stats_ms(durations: &[Duration]) -> (f64, f64, f64) {
    assert!(!durations.is_empty(), "no samples");
    let ms: Vec<f64> = durations.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    let min = ms.iter().copied().fold(f64::INFINITY, f64::min);
    let max = ms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mean = ms.iter().sum::<f64>() / ms.len() as f64;
    (min, max, mean)
}
