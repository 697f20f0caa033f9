//! The skeleton as shipped: it compiles, starts at once, stays quiet, answers bad requests with
//! errors, stops when killed and says what is missing. These tests use only the lab API (the
//! `LabRaft` trait and the network), never the skeleton's own type names, RPC names or file
//! layout, so renaming or moving things in your crate does not break them. Once you start
//! filling in parts, the one that pins "does nothing yet" (`a_skeleton_cluster_stays_quiet`)
//! is expected to fail and can be deleted.

use std::sync::Arc;
use std::time::Duration;

use lab_api::{ApplyReceiver, LabRaft, PeerArgs, apply_channel};
use labrpc_sim::{Bytes, Network, RpcError, Server};
use raft_persist::Persister;
use raft_student::Raft;
use tokio::time::Instant;

/// The grader's virtual-time runtime: one thread, paused clock.
fn virtual_time() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
}

/// A test setup step that failed.
type Setup<T> = Result<T, labrpc_sim::NetError>;

/// `n` skeleton peers on `net`, each registered as server `i`, all ends enabled.
fn cluster(net: &Network, n: usize) -> Setup<(Vec<Arc<Raft>>, Vec<ApplyReceiver>)> {
    let mut peers = Vec::new();
    let mut readers = Vec::new();
    for i in 0..n {
        let ends = (0..n)
            .map(|j| {
                let name = format!("{i}-{j}");
                let end = net.make_end(&name)?;
                net.connect(&name, &j.to_string())?;
                net.enable(&name, true)?;
                Ok(end)
            })
            .collect::<Setup<Vec<_>>>()?;
        let (apply_ch, reader) = apply_channel();
        let args = PeerArgs {
            peers: ends,
            me: i,
            persister: Persister::new(),
            apply_ch,
            seed: i as u64,
            rng: lab_api::PeerRng::seeded(i as u64),
        };
        let raft = Raft::make(args);
        let mut server = Server::new();
        server.add_service(Arc::clone(&raft).service());
        net.add_server(&i.to_string(), server);
        peers.push(raft);
        readers.push(reader);
    }
    Ok((peers, readers))
}

#[test]
fn make_returns_at_once_on_a_paused_clock() {
    virtual_time().unwrap().block_on(async {
        let net = Network::new(1);
        let before = Instant::now();
        let (peers, _readers) = cluster(&net, 3).unwrap();
        assert_eq!(Instant::now(), before, "make() must not wait");
        assert_eq!(peers.len(), 3);
        peers.iter().for_each(|p| p.kill());
    });
}

#[test]
fn a_skeleton_cluster_stays_quiet() {
    virtual_time().unwrap().block_on(async {
        let net = Network::new(2);
        let (peers, readers) = cluster(&net, 3).unwrap();
        tokio::time::sleep(Duration::from_secs(10)).await;
        for peer in &peers {
            assert_eq!(peer.get_state(), (0, false));
            assert_eq!(peer.start(Bytes::from_static(b"cmd")), None);
        }
        // Nothing sent, nothing applied.
        assert_eq!(net.total_count(), 0);
        for reader in &readers {
            let got = tokio::time::timeout(Duration::from_secs(1), reader.recv()).await;
            assert!(got.is_err(), "the skeleton applied {got:?}");
        }
        peers.iter().for_each(|p| p.kill());
    });
}

#[test]
fn kill_stops_the_background_tasks() {
    virtual_time().unwrap().block_on(async {
        let net = Network::new(3);
        let end = net.make_end("0-0").unwrap();
        let (apply_ch, _reader) = apply_channel();
        let raft = Raft::make(PeerArgs {
            peers: vec![end],
            me: 0,
            persister: Persister::new(),
            apply_ch,
            seed: 3,
            rng: lab_api::PeerRng::seeded(3),
        });
        tokio::time::sleep(Duration::from_secs(30)).await;
        raft.kill();
        // Whatever tasks the peer runs, none still holds it a (virtual) second after kill.
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(Arc::strong_count(&raft), 1, "a task outlived kill()");

        // Every method still returns after kill, and kill twice is harmless.
        assert_eq!(raft.start(Bytes::from_static(b"late")), None);
        assert!(!raft.get_state().1, "a killed peer claims to lead");
        raft.snapshot(1, Bytes::from_static(b"snap"));
        raft.kill();
    });
}

#[test]
fn every_hint_names_its_part() {
    virtual_time().unwrap().block_on(async {
        let net = Network::new(4);
        let (peers, _readers) = cluster(&net, 1).unwrap();
        let missing = peers[0].missing();
        let parts: Vec<&str> = missing
            .iter()
            .map(|hint| hint.split(':').next().unwrap_or_default())
            .collect();
        let mut expected = parts.clone();
        expected.sort_unstable();
        expected.dedup();
        assert_eq!(
            parts, expected,
            "one hint per part, in part order: {missing:?}"
        );
        assert!(
            parts.iter().all(|p| ["2A", "2B", "2C", "2D"].contains(p)),
            "{missing:?}"
        );
        peers[0].kill();
    });
}

/// The methods the peer's service offers, as the network lists them for an unknown one.
async fn methods_of(end: &labrpc_sim::ClientEnd) -> Vec<String> {
    match end.call("NoSuchService.NoSuchMethod", Bytes::new()).await {
        Err(RpcError::UnknownMethod { valid, .. }) => valid,
        other => panic!("an unknown method must be refused by name: {other:?}"),
    }
}

#[test]
fn bad_requests_get_errors_not_panics() {
    virtual_time().unwrap().block_on(async {
        let net = Network::new(6);
        let (peers, _readers) = cluster(&net, 1).unwrap();
        let end = net.make_end("client").unwrap();
        net.connect("client", "0").unwrap();
        net.enable("client", true).unwrap();

        let methods = methods_of(&end).await;
        assert!(!methods.is_empty(), "the peer's service offers no method");
        for method in &methods {
            let got = end.call(method, Bytes::from_static(&[0xff; 3])).await;
            assert!(
                matches!(got, Err(RpcError::Handler { .. })),
                "{method}: undecodable arguments must be an error: {got:?}"
            );
        }
        peers[0].kill();
    });
}

#[test]
fn the_handout_does_not_depend_on_the_reference_raft() {
    // The handout ships without raft-core and raft-rpc; the lab API is lab-api.
    let manifest = include_str!("../Cargo.toml");
    let deps: Vec<&str> = manifest
        .lines()
        .map(str::trim_start)
        .filter(|line| line.starts_with("raft-") || line.starts_with("lab-"))
        .collect();
    assert!(
        deps.iter()
            .all(|dep| !dep.starts_with("raft-core") && !dep.starts_with("raft-rpc")),
        "{deps:?}"
    );
    assert!(
        deps.iter().any(|dep| dep.starts_with("lab-api")),
        "{deps:?}"
    );
}
