//! The transport under a client end (issue 27): the network itself as a [`Transport`] gives
//! exactly what its own ends give, and an end over another transport (as a peer in a process
//! of its own holds) reaches the same network, counted the same, without knowing it.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use common::{echo_server, wired_end};
use labrpc_sim::{Bytes, ClientEnd, Network, RpcError, Transport};

/// A transport that forwards to the network (as the grader's side of a socket does) and
/// counts what went through it.
struct Forwarding {
    net: Network,
    calls: AtomicU64,
}

#[async_trait]
impl Transport for Forwarding {
    async fn call(&self, end: &str, method: &str, args: Bytes) -> Result<Bytes, RpcError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.net.call(end, method, args).await
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime")
}

#[test]
fn an_end_over_another_transport_reaches_the_same_network() {
    runtime().block_on(async {
        let net = Network::new(1);
        net.add_server("s", echo_server());
        let _own = wired_end(&net, "e", "s");
        let forwarding = Arc::new(Forwarding {
            net: net.clone(),
            calls: AtomicU64::new(0),
        });
        let remote = ClientEnd::with_transport(forwarding.clone(), "e");
        assert_eq!(remote.name(), "e");
        let reply = remote
            .call("Echo.Echo", Bytes::from_static(b"abc"))
            .await
            .expect("a reply");
        assert_eq!(&reply[..], b"abc");
        let doubled: u64 = remote.call_typed("Echo.Sleep", &5u64).await.expect("typed");
        assert_eq!(doubled, 5);
        assert_eq!(forwarding.calls.load(Ordering::SeqCst), 2);
        // Counted by the network like any call: 2 calls, 3 + 3 bytes of echo, 1 + 1 of u64.
        assert_eq!(net.total_count(), 2);
        assert_eq!(net.total_bytes(), 8);
        assert_eq!(net.server_count("s"), Some(2));
    });
}

#[test]
fn the_network_as_a_transport_keeps_labrpc_errors() {
    runtime().block_on(async {
        let net = Network::new(2);
        net.add_server("s", echo_server());
        let _own = wired_end(&net, "e", "s");
        let unknown = net.call("e", "Echo.Nope", Bytes::new()).await;
        assert!(
            matches!(unknown, Err(RpcError::UnknownMethod { .. })),
            "{unknown:?}"
        );
        let failed = net.call("e", "Echo.Fail", Bytes::new()).await;
        assert!(
            matches!(failed, Err(RpcError::Handler { .. })),
            "{failed:?}"
        );
        net.enable("e", false).expect("end exists");
        let lost = net.call("e", "Echo.Echo", Bytes::new()).await;
        assert!(matches!(lost, Err(RpcError::NoReply)), "{lost:?}");
        // An end the network never made gets no reply either.
        let nobody = net.call("nobody", "Echo.Echo", Bytes::new()).await;
        assert!(matches!(nobody, Err(RpcError::NoReply)), "{nobody:?}");
    });
}
