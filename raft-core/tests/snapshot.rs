//! Section 7: log compaction, InstallSnapshot for a lagging follower, and the rules that
//! keep commit and apply from going backwards.

use bytes::Bytes;
use raft_core::sim::Sim;
use raft_core::{
    AppendEntriesArgs, Apply, Config, Entry, InstallSnapshotArgs, LogIndex, PeerId, Raft, Request,
    Response, Term,
};

#[test]
fn service_snapshot_compacts_only_applied_entries() {
    let mut sim = Sim::new(3, 21);
    let leader = sim.elect(200);
    for i in 0..10u8 {
        sim.propose(leader, &[i]).expect("leader");
    }
    sim.deliver_all();
    sim.snapshot(leader);
    let r = sim.raft(leader);
    assert_eq!(r.snapshot_index(), LogIndex(10));
    assert_eq!(r.entry(LogIndex(10)), None);
    assert_eq!(r.last_log_index(), LogIndex(10));
    // Restart from the persisted state + snapshot: everything is still there.
    sim.crash(leader);
    sim.restart(leader);
    assert_eq!(sim.raft(leader).snapshot_index(), LogIndex(10));
    assert_eq!(sim.raft(leader).commit_index(), LogIndex(10));
    assert_eq!(sim.service(leader).len(), 10);
}

#[test]
fn lagging_follower_catches_up_through_install_snapshot() {
    let mut sim = Sim::new(3, 22);
    let leader = sim.elect(200);
    let lagger = (leader + 1) % 3;
    sim.disconnect(lagger);
    for i in 0..30u8 {
        sim.propose(leader, &[i]).expect("leader");
    }
    sim.run(12);
    for p in (0..3).filter(|p| *p != lagger) {
        sim.snapshot(p);
    }
    assert_eq!(sim.raft(leader).snapshot_index(), LogIndex(30));
    sim.reset_stats();
    // The leader needs entries the lagger lacks and no longer has them: InstallSnapshot.
    sim.propose(leader, b"after").expect("leader");
    sim.connect(lagger);
    sim.run(25);
    assert_eq!(sim.leader(), Some(leader));
    assert_eq!(sim.stats().snapshots_sent, 1, "one snapshot, then appends");
    let r = sim.raft(lagger);
    assert_eq!(r.snapshot_index(), LogIndex(30));
    assert_eq!(r.last_log_index(), LogIndex(31));
    assert_eq!(r.commit_index(), LogIndex(31));
    assert_eq!(sim.service(lagger), sim.service(leader));
    assert_eq!(sim.service(lagger).len(), 31);
}

fn follower_with(terms: &[u64], commit: u64) -> Raft {
    let mut f = Raft::new(Config::lab(PeerId(1), 3), 3);
    let entries = terms
        .iter()
        .map(|t| Entry {
            term: Term(*t),
            command: Bytes::from(vec![*t as u8]),
        })
        .collect();
    f.step_request(
        PeerId(0),
        Request::Append(AppendEntriesArgs {
            term: Term(2),
            leader_id: PeerId(0),
            prev_log_index: LogIndex(0),
            prev_log_term: Term(0),
            entries,
            leader_commit: LogIndex(commit),
        }),
    );
    f.ready();
    f
}

fn install(index: u64, term: u64) -> Request {
    Request::Snapshot(InstallSnapshotArgs {
        term: Term(2),
        leader_id: PeerId(0),
        last_included_index: LogIndex(index),
        last_included_term: Term(term),
        data: Bytes::from_static(b"snap"),
    })
}

#[test]
fn install_below_what_was_applied_changes_nothing() {
    let mut f = follower_with(&[1, 1, 2, 2, 2, 2], 6);
    let reply = f.step_request(PeerId(0), install(4, 2));
    assert!(matches!(reply, Response::Snapshot(r) if r.term == Term(2)));
    assert_eq!(
        (f.commit_index(), f.last_applied()),
        (LogIndex(6), LogIndex(6))
    );
    assert_eq!(f.snapshot_index(), LogIndex(0));
    let ready = f.ready();
    assert!(ready.apply.is_empty() && ready.persist.is_empty());
}

#[test]
fn install_keeps_matching_entries_after_the_snapshot() {
    let mut f = follower_with(&[1, 1, 2, 2, 2, 2], 2);
    f.step_request(PeerId(0), install(4, 2));
    assert_eq!(f.snapshot_index(), LogIndex(4));
    assert_eq!(f.last_log_index(), LogIndex(6), "entries 5 and 6 kept");
    assert_eq!(
        (f.commit_index(), f.last_applied()),
        (LogIndex(4), LogIndex(4))
    );
    let ready = f.ready();
    assert_eq!(ready.persist.snapshot, Some((LogIndex(4), Term(2))));
    assert_eq!(ready.persist.truncated_from, None);
    assert_eq!(
        ready.apply,
        vec![Apply::Snapshot {
            index: LogIndex(4),
            term: Term(2),
            data: Bytes::from_static(b"snap")
        }]
    );
}

#[test]
fn install_discards_a_log_that_disagrees_at_the_snapshot() {
    let mut f = follower_with(&[1, 1, 1, 1, 1, 1], 2);
    f.step_request(PeerId(0), install(4, 2));
    assert_eq!(f.snapshot_index(), LogIndex(4));
    assert_eq!(f.last_log_index(), LogIndex(4), "the whole log is gone");
    assert_eq!(f.last_log_term(), Term(2));
    assert_eq!(f.ready().persist.truncated_from, Some(LogIndex(5)));
}

/// What the core bench relies on: a sim without checks compacts every N applied entries, and
/// its services keep no commands.
#[test]
fn an_unchecked_sim_snapshots_every_n_applied_entries() {
    let mut sim = Sim::new(3, 7).unchecked();
    sim.snapshot_every(10);
    let leader = sim.elect(1000);
    for i in 0..25u8 {
        sim.propose(leader, &[i]).expect("leader");
        sim.deliver_all();
    }
    for p in 0..3 {
        assert_eq!(sim.raft(p).snapshot_index(), LogIndex(20), "peer {p}");
        assert!(sim.service(p).is_empty());
    }
    assert_eq!(sim.raft(leader).last_applied(), LogIndex(25));
}
