//! The cost of the socket hop of process mode (issue 27): one RPC from a peer's client end to
//! an echo server of the grader's network, in process (the network's own end) and from
//! another side of a Unix-domain socket (an end over [`lab_peer::transport_over`], the
//! grader's side emulated as `ProcessRaft` does it: a thread reads each call frame, runs the
//! call on the network from a task, and a writer thread sends the reply frame back).
//!
//! A timed measurement, not a test: `cargo bench -p lab-peer --bench hop`. It prints the mean
//! wall time per call over sequential calls (each waits for its reply) and over 64 calls in
//! flight at once, on a 2-worker tokio runtime in real time. Both sides run in this process,
//! on their own threads, as they would in two.

use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::Instant;

/// A benchmark reads the wall clock by nature.
#[allow(clippy::disallowed_methods)]
fn wall_now() -> Instant {
    Instant::now()
}

use bytes::Bytes;
use lab_peer::wire::{FrameReader, FromPeer, ToPeer, WireRpcError};
use labrpc_sim::{ClientEnd, Network, RpcError, Server, Service};

const CALLS: u32 = 20_000;
const IN_FLIGHT: u32 = 64;

fn echo_network() -> (Network, ClientEnd) {
    let net = Network::new(1);
    let mut server = Server::new();
    server.add_service(Service::new("Echo").method("Echo", |args: Bytes| async move { Ok(args) }));
    net.add_server("s", server);
    let end = net.make_end("e").expect("a fresh end");
    net.connect("e", "s").expect("unconnected");
    net.enable("e", true).expect("exists");
    (net, end)
}

/// The grader's side of the socket: call frames run on `end`, replies go back in order.
fn grader_side(stream: UnixStream, end: ClientEnd, runtime: tokio::runtime::Handle) {
    let writer = stream.try_clone().expect("a second handle");
    let tx = lab_peer::wire::spawn_writer::<ToPeer, _>(writer);
    std::thread::spawn(move || {
        let mut reader = FrameReader::new(stream);
        while let Ok(frame) = reader.read_blocking::<FromPeer>() {
            if let FromPeer::Call {
                id, method, args, ..
            } = frame
            {
                let (end, tx) = (end.clone(), tx.clone());
                runtime.spawn(async move {
                    let result = end
                        .call(&method, args)
                        .await
                        .map_err(|_: RpcError| WireRpcError::NoReply);
                    let _ = tx.send(ToPeer::CallReply { id, result });
                });
            }
        }
    });
}

async fn sequential(end: &ClientEnd, payload: &Bytes) -> f64 {
    let t0 = wall_now();
    for _ in 0..CALLS {
        end.call("Echo.Echo", payload.clone())
            .await
            .expect("a reply");
    }
    t0.elapsed().as_secs_f64() * 1e6 / f64::from(CALLS)
}

async fn concurrent(end: &ClientEnd, payload: &Bytes) -> f64 {
    let t0 = wall_now();
    let mut tasks = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (end, payload) = (end.clone(), payload.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..CALLS / IN_FLIGHT {
                end.call("Echo.Echo", payload.clone())
                    .await
                    .expect("a reply");
            }
        }));
    }
    for t in tasks {
        t.await.expect("no panic");
    }
    let calls = (CALLS / IN_FLIGHT) * IN_FLIGHT;
    t0.elapsed().as_secs_f64() * 1e6 / f64::from(calls)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let (_net, end) = echo_network();
    let (peer_side, grader) = UnixStream::pair().expect("a socket pair");
    grader_side(grader, end.clone(), runtime.handle().clone());
    let remote = lab_peer::transport_over(peer_side, &["e".to_string()]).expect("a transport");
    let remote = Arc::new(remote.into_iter().next().expect("one end"));
    for size in [100usize, 4096] {
        let payload = Bytes::from(vec![7u8; size]);
        runtime.block_on(async {
            // Warm up both paths.
            for _ in 0..1000 {
                end.call("Echo.Echo", payload.clone()).await.expect("a reply");
                remote.call("Echo.Echo", payload.clone()).await.expect("a reply");
            }
            let a = sequential(&end, &payload).await;
            let b = sequential(&remote, &payload).await;
            let c = concurrent(&end, &payload).await;
            let d = concurrent(&remote, &payload).await;
            println!(
                "{size:>5}-byte args, one call at a time: in process {a:8.2} us/call, over the \
                 socket {b:8.2} us/call (hop {:+.2} us)",
                b - a
            );
            println!(
                "{size:>5}-byte args, {IN_FLIGHT} in flight:       in process {c:8.2} us/call, over the \
                 socket {d:8.2} us/call (hop {:+.2} us)",
                d - c
            );
        });
    }
}
