//! `core/propose_commit`: the pure protocol core (raft-core), three voters, messages delivered
//! synchronously in the bench loop. One iteration = propose one command on the leader,
//! replicate it to both followers, feed their acks back, commit and apply it on the leader
//! (followers apply it with the next message). No network, no codec, no persistence I/O: the
//! persist deltas are drained and dropped, as an appending store would consume them. Each
//! peer compacts its log every 1000 applied entries, as a service taking snapshots would.

use std::collections::VecDeque;
use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_main};
use raft_core::{Apply, Config, LogIndex, Outbound, PeerId, Raft};

/// Applied entries between two snapshots of one peer.
const SNAPSHOT_EVERY: u64 = 1000;

/// Three cores and the messages in flight between them.
struct Router {
    peers: Vec<Raft>,
    /// (sender, request) in send order.
    queue: VecDeque<(PeerId, Outbound)>,
    /// Applies seen per peer.
    applied: Vec<u64>,
}

impl Router {
    fn new(n: usize) -> Self {
        let peers = (0..n)
            .map(|i| Raft::new(Config::lab(PeerId(i), n), 1000 + i as u64))
            .collect();
        Router {
            peers,
            queue: VecDeque::new(),
            applied: vec![0; n],
        }
    }

    /// Takes peer `i`'s outputs: messages are queued, applies counted (and snapshotted).
    fn drain(&mut self, i: usize) {
        let ready = self.peers[i].ready();
        for out in ready.messages {
            self.queue.push_back((PeerId(i), out));
        }
        let mut snapshot_at = None;
        for apply in &ready.apply {
            if let Apply::Command { index, .. } = apply {
                self.applied[i] += 1;
                if index.0 % SNAPSHOT_EVERY == 0 {
                    snapshot_at = Some(*index);
                }
            }
        }
        if let Some(index) = snapshot_at {
            self.peers[i].snapshot(index, Bytes::from_static(b"bench-snapshot"));
            // The delta only says what to persist; nothing else comes out of a snapshot.
            let _ = self.peers[i].ready();
        }
    }

    /// Delivers every queued request and its response, until the queue is empty.
    fn deliver_all(&mut self) {
        while let Some((from, out)) = self.queue.pop_front() {
            let to = out.to.0;
            // The clone stands for the copy a real receiver decodes from the wire.
            let response = self.peers[to].step_request(from, out.request.clone());
            self.drain(to);
            self.peers[from.0].step_response(out.to, &out.request, response);
            self.drain(from.0);
        }
    }

    /// Ticks everyone until there is a leader; returns it.
    fn elect(&mut self) -> usize {
        for _ in 0..10_000 {
            if let Some(leader) = self.peers.iter().position(Raft::is_leader) {
                return leader;
            }
            for i in 0..self.peers.len() {
                self.peers[i].tick();
                self.drain(i);
            }
            self.deliver_all();
        }
        panic!("no leader after 10000 ticks");
    }
}

fn propose_commit(c: &mut Criterion) {
    let mut group = c.benchmark_group("core");
    group.sample_size(30);
    group.warm_up_time(std::time::Duration::from_millis(500));
    group.measurement_time(std::time::Duration::from_secs(2));
    group.throughput(Throughput::Elements(1));

    let mut router = Router::new(3);
    let leader = router.elect();
    let command = Bytes::from_static(b"0123456789abcdef");
    group.bench_function("propose_commit", |b| {
        b.iter(|| {
            let proposed = router.peers[leader].propose(command.clone());
            let (index, _) = proposed.expect("the leader stays leader");
            router.drain(leader);
            router.deliver_all();
            assert_eq!(router.peers[leader].last_applied(), index);
            black_box(index)
        })
    });
    group.finish();

    let leader_raft = &router.peers[leader];
    let followers_applied: Vec<LogIndex> = router.peers.iter().map(Raft::last_applied).collect();
    println!(
        "core/propose_commit: leader {leader} applied {}; per-peer applied {followers_applied:?}",
        leader_raft.last_applied().0
    );
}

/// `criterion_group!` makes a public function without docs; it lives here.
mod group {
    #![allow(missing_docs)]
    use super::*;
    criterion::criterion_group!(benches, propose_commit);
}
criterion_main!(group::benches);
