//! Section 5.3: log replication, the consistency check, conflict resolution and the
//! accelerated backup.

use bytes::Bytes;
use raft_core::sim::Sim;
use raft_core::{
    AppendEntriesArgs, Config, Entry, LogIndex, PeerId, Raft, Request, Response, Role, Term,
};

/// Ticks only `p` until it is a candidate, then delivers everything.
fn elect_peer(sim: &mut Sim, p: usize) {
    for _ in 0..100 {
        sim.tick(p);
        if sim.raft(p).role() != Role::Follower {
            break;
        }
    }
    sim.deliver_all();
    assert!(sim.raft(p).is_leader(), "peer {p} should have won");
}

#[test]
fn figure_7_follower_logs_all_converge_to_the_leaders() {
    let leader_log = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    let followers: [&[u64]; 6] = [
        &[1, 1, 1, 4, 4, 5, 5, 6, 6],          // (a) missing one entry
        &[1, 1, 1, 4],                         // (b) missing many
        &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],    // (c) one extra uncommitted
        &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7], // (d) extra entries of term 7
        &[1, 1, 1, 4, 4, 4, 4],                // (e) missing and extra
        &[1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],    // (f) terms 2 and 3 nobody else has
    ];
    let mut sim = Sim::new(7, 11);
    sim.install_state(0, 7, None, &leader_log);
    for (i, log) in followers.iter().enumerate() {
        sim.install_state(i + 1, 7, None, log);
    }
    elect_peer(&mut sim, 0);
    assert_eq!(sim.raft(0).current_term(), Term(8));
    // One round trip per conflicting term: (a) 1, (b) 1, (c) 0, (d) 0, (e) 2, (f) 2.
    assert_eq!(sim.stats().append_rejections, 6);
    sim.propose(0, b"term 8").expect("leader");
    sim.deliver_all();
    let expected = vec![1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 8];
    for p in 0..7 {
        assert_eq!(sim.log_terms(p), expected, "peer {p}");
    }
    assert_eq!(sim.raft(0).commit_index(), LogIndex(11));
    sim.run(10); // a heartbeat carries the commit index
    for p in 0..7 {
        assert_eq!(sim.raft(p).commit_index(), LogIndex(11), "peer {p}");
        assert_eq!(sim.service(p).len(), 11, "peer {p}");
    }
}

#[test]
fn backup_costs_one_round_trip_per_conflicting_term_not_per_entry() {
    // The follower holds 50 entries of each of terms 2 and 3 that the leader does not have.
    let mut follower = vec![1u64; 5];
    follower.extend([2; 50]);
    follower.extend([3; 50]);
    let mut leader = vec![1u64; 5];
    leader.extend([4; 120]);
    let mut sim = Sim::new(3, 2);
    sim.install_state(0, 4, None, &leader);
    sim.install_state(1, 4, None, &follower);
    sim.install_state(2, 4, None, &leader);
    elect_peer(&mut sim, 0);
    sim.deliver_all();
    // prev=125: too short, XLen 106; prev=105: XTerm 3 -> next=XIndex 56; prev=55: XTerm 2
    // -> next=XIndex 6; prev=5 matches. One for the length, one per conflicting term.
    assert_eq!(sim.stats().append_rejections, 3);
    assert_eq!(sim.log_terms(1), leader);
}

#[test]
fn twelve_commands_cost_one_append_per_follower_each() {
    let mut sim = Sim::new(3, 4);
    let leader = sim.elect(200);
    sim.run(5);
    sim.reset_stats();
    for i in 0..12u8 {
        sim.propose(leader, &[i]).expect("leader");
        sim.deliver_all();
    }
    // No extra AppendEntries to announce commits: followers learn it with the next one.
    assert_eq!(sim.stats().appends_sent, 24);
    assert_eq!(sim.raft(leader).commit_index(), LogIndex(12));
}

#[test]
fn proposals_during_a_round_trip_travel_together() {
    let mut sim = Sim::new(3, 6);
    let leader = sim.elect(200);
    sim.run(5);
    sim.reset_stats();
    for i in 0..20u8 {
        sim.propose(leader, &[i]).expect("leader");
    }
    // The first proposal leaves at once (the followers were idle); the other 19 wait for
    // the replies, which free the pipeline, and then leave in one AppendEntries each.
    assert_eq!(sim.in_flight().len(), 2);
    sim.deliver_all();
    assert_eq!(sim.stats().appends_sent, 4);
    assert_eq!(sim.raft(leader).commit_index(), LogIndex(20));
    for p in 0..3 {
        assert_eq!(sim.raft(p).last_log_index(), LogIndex(20));
    }
}

#[test]
fn pipelining_keeps_at_most_the_window_outstanding() {
    // Two entries per message, so that a backlog needs more messages than the window.
    let mut sim = Sim::with_config(3, 6, |id| Config {
        max_entries_per_append: 2,
        ..Config::lab(id, 3)
    });
    let leader = sim.elect(200);
    sim.run(5);
    sim.reset_stats();
    for i in 0..20u8 {
        sim.propose(leader, &[i]).expect("leader");
    }
    // Proposals to busy followers wait: only the first went out, one message per follower.
    assert_eq!(sim.in_flight().len(), 2);
    assert!(sim.deliver_next() && sim.deliver_next());
    // Each reply releases the 19-entry backlog: window of 8 messages of 2 entries per
    // follower, 16 in flight; the last 3 entries wait for further replies.
    assert_eq!(sim.in_flight().len(), 16);
    sim.deliver_all();
    assert_eq!(sim.raft(leader).commit_index(), LogIndex(20));
    for p in 0..3 {
        assert_eq!(sim.raft(p).last_log_index(), LogIndex(20));
    }
}

fn entries(terms: &[u64]) -> Vec<Entry> {
    terms
        .iter()
        .map(|t| Entry {
            term: Term(*t),
            command: Bytes::from(vec![*t as u8]),
        })
        .collect()
}

fn append(prev: (u64, u64), terms: &[u64], commit: u64) -> Request {
    Request::Append(AppendEntriesArgs {
        term: Term(2),
        leader_id: PeerId(0),
        prev_log_index: LogIndex(prev.0),
        prev_log_term: Term(prev.1),
        entries: entries(terms),
        leader_commit: LogIndex(commit),
    })
}

fn success(r: Response) -> bool {
    matches!(r, Response::Append(a) if a.success)
}

#[test]
fn old_or_duplicated_append_entries_never_truncate() {
    let mut f = Raft::new(Config::lab(PeerId(1), 3), 1);
    assert!(success(
        f.step_request(PeerId(0), append((0, 0), &[1, 1, 2, 2], 0))
    ));
    let first = f.ready();
    assert_eq!(first.persist.appended_from, Some(LogIndex(1)));
    // An older message carrying a prefix, then a duplicate of a middle slice.
    assert!(success(f.step_request(PeerId(0), append((0, 0), &[1], 0))));
    assert!(success(
        f.step_request(PeerId(0), append((1, 1), &[1, 2], 1))
    ));
    assert_eq!(f.last_log_index(), LogIndex(4));
    let ready = f.ready();
    assert_eq!(ready.persist.truncated_from, None);
    assert_eq!(ready.persist.appended_from, None);
    // The commit index is capped by the last entry the message covered (index 3), not 4.
    assert!(success(
        f.step_request(PeerId(0), append((1, 1), &[1, 2], 9))
    ));
    assert_eq!(f.commit_index(), LogIndex(3));
}

#[test]
fn a_conflicting_entry_truncates_from_there() {
    let mut f = Raft::new(Config::lab(PeerId(1), 3), 1);
    f.step_request(PeerId(0), append((0, 0), &[1, 1, 1, 1], 0));
    f.ready();
    assert!(success(
        f.step_request(PeerId(0), append((1, 1), &[1, 2], 0))
    ));
    assert_eq!(f.last_log_index(), LogIndex(3));
    assert_eq!(f.term_at(LogIndex(3)), Some(Term(2)));
    let ready = f.ready();
    assert_eq!(ready.persist.truncated_from, Some(LogIndex(3)));
    assert_eq!(ready.persist.appended_from, Some(LogIndex(3)));
}

#[test]
fn rejection_carries_the_backup_hints() {
    let mut f = Raft::new(Config::lab(PeerId(1), 3), 1);
    f.step_request(PeerId(0), append((0, 0), &[1, 1, 2, 2, 2], 0));
    let Response::Append(r) = f.step_request(PeerId(0), append((4, 3), &[], 0)) else {
        panic!("wrong reply kind")
    };
    assert!(!r.success);
    assert_eq!(
        (r.conflict_term, r.conflict_index, r.log_len),
        (Some(Term(2)), LogIndex(3), LogIndex(6))
    );
    let Response::Append(r) = f.step_request(PeerId(0), append((9, 2), &[], 0)) else {
        panic!("wrong reply kind")
    };
    assert_eq!(
        (r.success, r.conflict_term, r.log_len),
        (false, None, LogIndex(6))
    );
    // An older term is refused outright.
    let old = Request::Append(AppendEntriesArgs {
        term: Term(1),
        leader_id: PeerId(2),
        prev_log_index: LogIndex(0),
        prev_log_term: Term(0),
        entries: vec![],
        leader_commit: LogIndex(0),
    });
    let Response::Append(r) = f.step_request(PeerId(2), old) else {
        panic!("wrong reply kind")
    };
    assert_eq!((r.success, r.term), (false, Term(2)));
}

#[test]
fn coalesced_appends_wait_for_replicate_and_leave_together() {
    let mut rafts: Vec<Raft> = (0..3)
        .map(|i| {
            let config = Config {
                coalesce_appends: true,
                ..Config::lab(PeerId(i), 3)
            };
            Raft::new(config, i as u64)
        })
        .collect();
    // Peer 0 times out and wins the votes of both others.
    while rafts[0].role() == Role::Follower {
        rafts[0].tick();
    }
    for out in rafts[0].ready().messages {
        let reply = rafts[out.to.0].step_request(PeerId(0), out.request.clone());
        rafts[out.to.0].ready();
        rafts[0].step_response(out.to, &out.request, reply);
    }
    assert!(rafts[0].is_leader());
    let _heartbeats = rafts[0].ready();
    // Three proposals: nothing leaves, both followers are named for `replicate`, the save
    // may wait.
    for i in 0..3u8 {
        rafts[0].propose(Bytes::from(vec![i])).expect("leader");
    }
    let ready = rafts[0].ready();
    assert!(ready.messages.is_empty());
    assert_eq!(ready.replicate, vec![PeerId(1), PeerId(2)]);
    assert_eq!(ready.durability, raft_core::Durability::MayWait);
    // The runtime is ready to send to peer 1: one AppendEntries with all three, saved first.
    rafts[0].replicate(PeerId(1));
    let ready = rafts[0].ready();
    assert_eq!(ready.durability, raft_core::Durability::Now);
    let [out] = &ready.messages[..] else {
        panic!("one message expected, got {:?}", ready.messages);
    };
    assert_eq!(out.to, PeerId(1));
    let Request::Append(args) = &out.request else {
        panic!("an AppendEntries expected");
    };
    assert_eq!(args.entries.len(), 3);
    // Its reply commits them; peer 1 is named again only once there is more.
    let reply = rafts[1].step_request(PeerId(0), out.request.clone());
    rafts[0].step_response(PeerId(1), &out.request, reply);
    assert_eq!(rafts[0].commit_index(), LogIndex(3));
    assert!(
        rafts[0].ready().replicate.is_empty(),
        "nothing new for peer 1"
    );
    rafts[0]
        .propose(Bytes::from_static(b"more"))
        .expect("leader");
    // Peer 2 still waits for its first `replicate`; both are named.
    assert_eq!(rafts[0].ready().replicate, vec![PeerId(1), PeerId(2)]);
}
