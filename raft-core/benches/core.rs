//! `core/propose_commit`: the pure protocol core (raft-core), three voters, messages delivered
//! synchronously by [`raft_core::sim::Sim`] in the bench loop. One iteration = propose one
//! command on the leader, replicate it to both followers, feed their acks back, commit and
//! apply it on the leader (followers apply it with the next message). No network, no codec,
//! no persistence I/O: the sim runs unchecked, so persist deltas are drained and dropped, as
//! an appending store would consume them. Each peer compacts its log every 1000 applied
//! entries, as a service taking snapshots would.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_main};
use raft_core::LogIndex;
use raft_core::sim::Sim;

/// Applied entries between two snapshots of one peer.
const SNAPSHOT_EVERY: u64 = 1000;

fn propose_commit(c: &mut Criterion) {
    let mut group = c.benchmark_group("core");
    group.sample_size(30);
    group.warm_up_time(std::time::Duration::from_millis(500));
    group.measurement_time(std::time::Duration::from_secs(2));
    group.throughput(Throughput::Elements(1));

    let mut sim = Sim::new(3, 1000).unchecked();
    sim.snapshot_every(SNAPSHOT_EVERY);
    let leader = sim.elect(10_000);
    let command = Bytes::from_static(b"0123456789abcdef");
    group.bench_function("propose_commit", |b| {
        b.iter(|| {
            let proposed = sim.propose_bytes(leader, command.clone());
            let (index, _) = proposed.expect("the leader stays leader");
            sim.deliver_all();
            assert_eq!(sim.raft(leader).last_applied(), index);
            black_box(index)
        })
    });
    group.finish();

    let applied: Vec<LogIndex> = (0..sim.peers())
        .map(|p| sim.raft(p).last_applied())
        .collect();
    println!(
        "core/propose_commit: leader {leader} applied {}; per-peer applied {applied:?}",
        sim.raft(leader).last_applied().0
    );
}

/// `criterion_group!` makes a public function without docs; it lives here.
mod group {
    #![allow(missing_docs)]
    use super::*;
    criterion::criterion_group!(benches, propose_commit);
}
criterion_main!(group::benches);
