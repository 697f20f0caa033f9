//! Measures propose -> commit -> apply per command with 3 voters and synchronous delivery
//! (every message delivered and answered at once, no network). Run with
//! `cargo run --release -p raft-core --example throughput`.

use std::collections::VecDeque;

use bytes::Bytes;
use raft_core::{Config, Outbound, PeerId, Raft};

const PEERS: usize = 3;

/// Delivers everything the peers produce until they go quiet; returns commands applied.
fn settle(peers: &mut [Raft]) -> usize {
    let mut queue: VecDeque<(PeerId, Outbound)> = VecDeque::new();
    let mut applied = 0;
    for (i, p) in peers.iter_mut().enumerate() {
        let ready = p.ready();
        applied += ready.apply.len();
        queue.extend(ready.messages.into_iter().map(|m| (PeerId(i), m)));
    }
    while let Some((from, out)) = queue.pop_front() {
        let response = peers[out.to.0].step_request(from, out.request.clone());
        let ready = peers[out.to.0].ready();
        applied += ready.apply.len();
        queue.extend(ready.messages.into_iter().map(|m| (out.to, m)));
        peers[from.0].step_response(out.to, &out.request, response);
        let ready = peers[from.0].ready();
        applied += ready.apply.len();
        queue.extend(ready.messages.into_iter().map(|m| (from, m)));
    }
    applied
}

// The wall clock is the point of a benchmark; the core itself never reads it.
#[allow(clippy::disallowed_methods)]
fn main() {
    let mut peers: Vec<Raft> = (0..PEERS)
        .map(|i| Raft::new(Config::lab(PeerId(i), PEERS), i as u64))
        .collect();
    while !peers[0].is_leader() {
        peers[0].tick();
        settle(&mut peers);
    }
    let n = 200_000;
    let command = Bytes::from_static(b"0123456789abcdef");
    let start = std::time::Instant::now();
    let mut applied = 0;
    for _ in 0..n {
        peers[0].propose(command.clone()).expect("leader");
        applied += settle(&mut peers);
    }
    let elapsed = start.elapsed();
    println!(
        "{n} commands, {applied} applies over {PEERS} peers: {:.3} us per command",
        elapsed.as_secs_f64() * 1e6 / n as f64
    );
}
