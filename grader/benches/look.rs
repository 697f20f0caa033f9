//! One look at a peer whose log holds 10,000 entries (issue 28): what the safety monitor
//! costs per look, whatever the log's length. A follower of a 5-peer cluster gains an entry,
//! then loses it again (an uncommitted entry cut by a new leader, §5.3), look after look:
//!
//! - `change`: the peer answers `inspect_since` with what changed (one entry, or the cut), as
//!   the reference peer does;
//! - `whole_view`: the peer answers with its whole view (`inspect`, the lab API's default and
//!   the skeleton's), copied as a peer's `inspect` copies it, and the monitor compares it with
//!   the log it holds.
//!
//! ```sh
//! cargo bench -p grader --bench look
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_main};
use grader::invariants::{ChangeObservation, Monitor};
use lab_api::{RaftChange, RaftView, Role};

const ENTRIES: u64 = 10_000;

/// A 5-peer monitor that has seen every peer with the same committed 10,000-entry log of 40
/// terms, peer 0 leading the last term.
fn monitor() -> (Monitor, RaftView) {
    let mut monitor = Monitor::new(5);
    let log_terms: Vec<u64> = (0..ENTRIES).map(|k| 1 + k / 250).collect();
    let term = log_terms.last().copied().unwrap_or(0);
    let view = RaftView {
        term,
        voted_for: Some(0),
        role: Role::Follower,
        commit_index: ENTRIES,
        snapshot_index: 0,
        snapshot_term: 0,
        log_terms,
    };
    for peer in 0..5 {
        let shown = RaftView {
            role: if peer == 0 {
                Role::Leader
            } else {
                Role::Follower
            },
            ..view.clone()
        };
        let change = RaftChange::from(shown);
        let obs = ChangeObservation {
            peer,
            seq: 1,
            incarnation: 0,
            at: Duration::ZERO,
            revealed: false,
            change: &change,
        };
        monitor.observe_change(&obs).expect("a correct cluster");
    }
    (monitor, view)
}

fn look(monitor: &mut Monitor, seq: u64, change: &RaftChange) {
    let obs = ChangeObservation {
        peer: 1,
        seq,
        incarnation: 0,
        at: Duration::from_millis(seq),
        revealed: false,
        change,
    };
    black_box(monitor.observe_change(&obs)).expect("a correct follower");
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("look/10000_entries");
    group.bench_function("change", |b| {
        let (mut monitor, view) = monitor();
        let term = view.term;
        let grown = RaftChange {
            kept: ENTRIES,
            new_terms: vec![term],
            version: 0,
            ..RaftChange::from(RaftView {
                log_terms: Vec::new(),
                ..view.clone()
            })
        };
        let cut = RaftChange {
            kept: ENTRIES,
            new_terms: Vec::new(),
            version: 1,
            ..grown.clone()
        };
        let mut seq = 1;
        b.iter(|| {
            seq += 1;
            let change = if seq % 2 == 0 { &grown } else { &cut };
            look(&mut monitor, seq, change);
        });
    });
    group.bench_function("whole_view", |b| {
        let (mut monitor, mut view) = monitor();
        let term = view.term;
        let mut seq = 1;
        b.iter(|| {
            seq += 1;
            if seq % 2 == 0 {
                view.log_terms.push(term);
            } else {
                view.log_terms.pop();
            }
            // The peer's `inspect` copies its log's terms at every look.
            let change = RaftChange::from(view.clone());
            look(&mut monitor, seq, &change);
        });
    });
    group.finish();
}

/// `criterion_group!` makes a public function without docs; it lives here.
mod group {
    #![allow(missing_docs)]
    use super::bench;
    criterion::criterion_group!(benches, bench);
}

criterion_main!(group::benches);
