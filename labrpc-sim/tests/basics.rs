//! The plain rules of labrpc (spec 1.2, 1.3): calls, errors, ends, connections, cleanup.

mod common;

use std::time::Duration;

use common::{echo_server, wired_end};
use labrpc_sim::{Bytes, CodecError, NetError, Network, RpcError, Server, Service, codec};
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn basic_call_returns_the_reply_at_once_on_a_reliable_network() {
    let net = Network::new(1);
    net.add_server("s", echo_server());
    let end = wired_end(&net, "e", "s");
    let start = Instant::now();
    let reply = end
        .call("Echo.Echo", Bytes::from_static(b"hello"))
        .await
        .unwrap();
    assert_eq!(&reply[..], b"hello");
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(end.name(), "e");
    assert!(net.is_reliable());
    assert!(!net.is_long_delays());
}

#[tokio::test(start_paused = true)]
async fn concurrent_calls_on_one_end_all_complete_in_handler_order() {
    let net = Network::new(2);
    net.add_server("s", echo_server());
    let end = wired_end(&net, "e", "s");
    let sleeps = [500u64, 100, 400, 200, 300];
    let start = Instant::now();
    let calls = sleeps.iter().map(|ms| {
        let end = end.clone();
        async move {
            let got: u64 = end.call_typed("Echo.Sleep", ms).await.unwrap();
            (got, start.elapsed())
        }
    });
    let results = futures::future::join_all(calls).await;
    for (&ms, &(got, elapsed)) in sleeps.iter().zip(&results) {
        assert_eq!(got, ms);
        assert_eq!(
            elapsed,
            Duration::from_millis(ms),
            "each reply arrives when its handler ends"
        );
    }
    assert_eq!(net.server_count("s"), Some(5));
}

#[tokio::test(start_paused = true)]
async fn unknown_method_or_service_lists_the_valid_methods_sorted() {
    let net = Network::new(3);
    let mut server = echo_server();
    server.add_service(Service::new("Alpha").method("Zed", |b: Bytes| async move { Ok(b) }));
    net.add_server("s", server);
    let end = wired_end(&net, "e", "s");
    let expected = ["Alpha.Zed", "Echo.Echo", "Echo.Fail", "Echo.Sleep"];
    for bad in ["Echo.Nope", "Nope.Echo", "NoDot", "Echo.Echo.Extra"] {
        match end.call(bad, Bytes::new()).await {
            Err(RpcError::UnknownMethod { method, valid }) => {
                assert_eq!(method, bad);
                assert_eq!(valid, expected);
            }
            other => panic!("{bad}: expected UnknownMethod, got {other:?}"),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn disabled_end_fails_after_the_dead_end_delay() {
    let net = Network::new(4);
    net.add_server("s", echo_server());
    let end = wired_end(&net, "e", "s");
    net.enable("e", false).unwrap();
    let start = Instant::now();
    let result = end.call("Echo.Echo", Bytes::new()).await;
    assert!(matches!(result, Err(RpcError::NoReply)));
    assert!(start.elapsed() < Duration::from_millis(100));
    assert_eq!(net.server_count("s"), Some(0), "the handler never ran");
    net.enable("e", true).unwrap();
    assert!(
        end.call("Echo.Echo", Bytes::new()).await.is_ok(),
        "re-enabled end works"
    );
}

#[tokio::test(start_paused = true)]
async fn new_end_is_disabled_and_unconnected_end_fails() {
    let net = Network::new(5);
    net.add_server("s", echo_server());
    let fresh = net.make_end("fresh").unwrap();
    net.connect("fresh", "s").unwrap();
    assert!(matches!(
        fresh.call("Echo.Echo", Bytes::new()).await,
        Err(RpcError::NoReply)
    ));
    let unconnected = net.make_end("loose").unwrap();
    net.enable("loose", true).unwrap();
    assert!(matches!(
        unconnected.call("Echo.Echo", Bytes::new()).await,
        Err(RpcError::NoReply)
    ));
    assert_eq!(net.server_count("s"), Some(0));
}

#[tokio::test(start_paused = true)]
async fn deleted_server_fails_and_server_count_is_none() {
    let net = Network::new(6);
    net.add_server("s", echo_server());
    let end = wired_end(&net, "e", "s");
    assert!(end.call("Echo.Echo", Bytes::new()).await.is_ok());
    net.delete_server("s");
    assert_eq!(net.server_count("s"), None);
    assert!(matches!(
        end.call("Echo.Echo", Bytes::new()).await,
        Err(RpcError::NoReply)
    ));
    net.add_server("s", echo_server());
    assert!(
        end.call("Echo.Echo", Bytes::new()).await.is_ok(),
        "a restarted server answers"
    );
}

#[tokio::test(start_paused = true)]
async fn deleted_end_fails_and_cannot_be_enabled() {
    let net = Network::new(7);
    net.add_server("s", echo_server());
    let end = wired_end(&net, "e", "s");
    net.delete_end("e");
    assert!(matches!(
        end.call("Echo.Echo", Bytes::new()).await,
        Err(RpcError::NoReply)
    ));
    assert!(matches!(net.enable("e", true), Err(NetError::NoSuchEnd(n)) if n == "e"));
    assert!(net.make_end("e").is_ok(), "the name is free again");
}

#[test]
fn duplicate_end_connect_once_and_unknown_end_are_errors() {
    let net = Network::new(8);
    net.make_end("e").unwrap();
    assert!(matches!(net.make_end("e"), Err(NetError::DuplicateEnd(n)) if n == "e"));
    net.connect("e", "s1").unwrap();
    assert!(matches!(net.connect("e", "s2"), Err(NetError::AlreadyConnected(n)) if n == "e"));
    assert!(matches!(net.connect("x", "s1"), Err(NetError::NoSuchEnd(n)) if n == "x"));
    assert!(matches!(net.enable("x", true), Err(NetError::NoSuchEnd(n)) if n == "x"));
}

#[tokio::test(start_paused = true)]
async fn cleanup_makes_calls_fail_at_once_without_counting_them() {
    let net = Network::new(9);
    net.set_long_delays(true);
    net.add_server("s", echo_server());
    let end = wired_end(&net, "e", "s");
    let dead = net.make_end("dead").unwrap();
    net.cleanup();
    let start = Instant::now();
    assert!(matches!(
        end.call("Echo.Echo", Bytes::new()).await,
        Err(RpcError::NoReply)
    ));
    assert!(matches!(
        dead.call("Echo.Echo", Bytes::new()).await,
        Err(RpcError::NoReply)
    ));
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(net.total_count(), 0);
    // Cleanup let the server go (it held handlers that may hold ends of this network).
    assert_eq!(net.server_count("s"), None);
}

#[tokio::test(start_paused = true)]
async fn handler_error_reaches_the_caller_with_the_method() {
    let net = Network::new(10);
    net.add_server("s", echo_server());
    let end = wired_end(&net, "e", "s");
    match end.call("Echo.Fail", Bytes::from_static(b"abc")).await {
        Err(RpcError::Handler { method, source }) => {
            assert_eq!(method, "Echo.Fail");
            assert_eq!(source.to_string(), "refused");
        }
        other => panic!("expected Handler error, got {other:?}"),
    }
    assert_eq!(net.total_bytes(), 3, "a handler error adds no reply bytes");
}

#[tokio::test(start_paused = true)]
async fn undecodable_args_are_a_handler_error_naming_method_and_type() {
    let net = Network::new(11);
    net.add_server("s", echo_server());
    let end = wired_end(&net, "e", "s");
    // A u64 is at most 9 bytes in bincode's varint encoding: a string does not decode as one.
    let result = end
        .call_typed::<_, u64>("Echo.Sleep", &"not a number")
        .await;
    match result {
        Err(RpcError::Handler { method, source }) => {
            assert_eq!(method, "Echo.Sleep");
            let codec_error = source.downcast_ref::<CodecError>().expect("a codec error");
            assert!(matches!(
                codec_error,
                CodecError::Decode {
                    type_name: "u64",
                    ..
                } | CodecError::TrailingBytes {
                    type_name: "u64",
                    ..
                }
            ));
        }
        other => panic!("expected Handler error, got {other:?}"),
    }
    let empty = end.call("Echo.Sleep", Bytes::new()).await;
    assert!(
        matches!(empty, Err(RpcError::Handler { .. })),
        "empty args: {empty:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn undecodable_reply_is_a_decode_error() {
    let net = Network::new(12);
    net.add_server("s", echo_server());
    let end = wired_end(&net, "e", "s");
    // Echo returns the encoded String; asking for a bool must fail, naming the type.
    let result = end
        .call_typed::<_, bool>("Echo.Echo", &"xyz".to_owned())
        .await;
    match result {
        Err(RpcError::Decode { method, source }) => {
            assert_eq!(method, "Echo.Echo");
            assert!(source.to_string().contains("bool"), "{source}");
        }
        other => panic!("expected Decode error, got {other:?}"),
    }
    let ok: String = end
        .call_typed("Echo.Echo", &"xyz".to_owned())
        .await
        .unwrap();
    assert_eq!(ok, "xyz");
}

#[test]
fn codec_round_trips_and_rejects_trailing_bytes() {
    let bytes = codec::encode(&(5u32, "five".to_owned())).unwrap();
    let back: (u32, String) = codec::decode(&bytes).unwrap();
    assert_eq!(back, (5, "five".to_owned()));
    let mut longer = bytes.to_vec();
    longer.push(0);
    match codec::decode::<(u32, String)>(&longer) {
        Err(CodecError::TrailingBytes {
            consumed,
            trailing,
            total,
            ..
        }) => {
            assert_eq!(
                (consumed, trailing, total),
                (bytes.len(), 1, bytes.len() + 1)
            );
        }
        other => panic!("expected TrailingBytes, got {other:?}"),
    }
    assert!(matches!(
        codec::decode::<u64>(&[]),
        Err(CodecError::Decode { .. })
    ));
}

#[test]
fn borrowed_decode_points_into_the_input_and_rejects_bad_bytes() {
    let bytes = codec::encode(&(7u64, Bytes::from_static(b"payload"))).unwrap();
    let (n, payload): (u64, &[u8]) = codec::decode_borrowed(&bytes).unwrap();
    assert_eq!((n, payload), (7, &b"payload"[..]));
    let range = bytes.as_ptr_range();
    assert!(
        range.contains(&payload.as_ptr()),
        "the borrowed field must point into the input, not into a copy"
    );
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert!(matches!(
        codec::decode_borrowed::<(u64, &[u8])>(&longer),
        Err(CodecError::TrailingBytes { trailing: 1, .. })
    ));
    // A length prefix that runs past the end is a decode error, not a panic.
    assert!(matches!(
        codec::decode_borrowed::<(u64, &[u8])>(&bytes[..bytes.len() - 1]),
        Err(CodecError::Decode { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn handler_panic_is_no_reply_not_a_caller_panic() {
    let net = Network::new(13);
    let mut server = Server::new();
    server.add_service(Service::new("P").method("Boom", |_b: Bytes| async move {
        if true {
            panic!("handler exploded on purpose");
        }
        Ok(Bytes::new())
    }));
    net.add_server("s", server);
    let end = wired_end(&net, "e", "s");
    assert!(matches!(
        end.call("P.Boom", Bytes::new()).await,
        Err(RpcError::NoReply)
    ));
    assert_eq!(net.server_count("s"), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_on_a_multi_thread_runtime_with_the_real_clock() {
    let net = Network::new(14);
    net.add_server("s", echo_server());
    let end = wired_end(&net, "e", "s");
    let calls = (0..8u64).map(|i| {
        let end = end.clone();
        tokio::spawn(async move { end.call_typed::<_, u64>("Echo.Sleep", &(i * 5)).await })
    });
    for (i, handle) in calls.enumerate() {
        assert_eq!(handle.await.unwrap().unwrap(), i as u64 * 5);
    }
    assert_eq!(net.server_count("s"), Some(8));
    assert_eq!(net.total_count(), 8);
}
