//! The network observer sees every stage of every call, in order, with the call's number,
//! end, server, method and payloads.

mod common;

use std::sync::{Arc, Mutex};

use common::{echo_server, wired_end};
use labrpc_sim::{Bytes, CallStage, Network, Observer, Server, Service};

/// (call, end, server, method, stage, payload length).
type Seen = Vec<(
    u64,
    String,
    Option<String>,
    String,
    CallStage,
    Option<usize>,
)>;

fn record(net: &Network) -> Arc<Mutex<Seen>> {
    let seen = Arc::new(Mutex::new(Seen::new()));
    let sink = Arc::clone(&seen);
    let observer: Observer = Arc::new(move |e| {
        sink.lock().expect("record").push((
            e.call,
            e.end.to_owned(),
            e.server.map(str::to_owned),
            e.method.to_owned(),
            e.stage,
            e.payload.map(Bytes::len),
        ));
    });
    net.set_observer(Some(observer));
    seen
}

fn stages(seen: &Arc<Mutex<Seen>>) -> Vec<(u64, CallStage)> {
    seen.lock()
        .expect("record")
        .iter()
        .map(|s| (s.0, s.4))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_delivered_call_and_an_unreachable_one() {
    let net = Network::new(1);
    net.add_server("s", echo_server());
    let seen = record(&net);
    let end = wired_end(&net, "e", "s");
    let reply = end.call("Echo.Echo", Bytes::from_static(b"abc")).await;
    assert!(reply.is_ok(), "{reply:?}");
    net.enable("e", false).expect("known end");
    assert!(
        end.call("Echo.Echo", Bytes::from_static(b"x"))
            .await
            .is_err()
    );
    assert_eq!(
        stages(&seen),
        vec![
            (1, CallStage::Sent),
            (1, CallStage::Dispatched),
            (1, CallStage::Handled),
            (1, CallStage::Delivered),
            (2, CallStage::Sent),
            (2, CallStage::Unreachable),
        ]
    );
    let first = seen.lock().expect("record")[0].clone();
    assert_eq!(
        (
            first.1.as_str(),
            first.2.as_deref(),
            first.3.as_str(),
            first.5
        ),
        ("e", Some("s"), "Echo.Echo", Some(3))
    );
}

#[tokio::test(start_paused = true)]
async fn a_panicking_handler_and_an_unknown_method_are_seen() {
    let net = Network::new(2);
    let mut server = Server::new();
    server.add_service(Service::new("P").method("Boom", |_args: Bytes| async move {
        panic!("handler bug");
    }));
    net.add_server("s", server);
    let seen = record(&net);
    let end = wired_end(&net, "e", "s");
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let boom = end.call("P.Boom", Bytes::new()).await;
    std::panic::set_hook(previous);
    assert!(boom.is_err());
    assert!(end.call("P.Nope", Bytes::new()).await.is_err());
    assert_eq!(
        stages(&seen),
        vec![
            (1, CallStage::Sent),
            (1, CallStage::Dispatched),
            (1, CallStage::Panicked),
            (2, CallStage::Sent),
            (2, CallStage::NoMethod),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn no_observer_after_it_is_removed() {
    let net = Network::new(3);
    net.add_server("s", echo_server());
    let seen = record(&net);
    net.set_observer(None);
    let end = wired_end(&net, "e", "s");
    assert!(end.call("Echo.Echo", Bytes::new()).await.is_ok());
    assert!(stages(&seen).is_empty());
}
