//! Section 5.2 (leader election) and 5.4.1 (election restriction), through the sim.

use bytes::Bytes;
use raft_core::sim::Sim;
use raft_core::{Config, LogIndex, PeerId, Raft, Request, RequestVoteArgs, Response, Role, Term};

/// Ticks only `p` until its election timer fires; returns the ticks it took.
fn time_out(sim: &mut Sim, p: usize) -> usize {
    for t in 1..=100 {
        sim.tick(p);
        if sim.raft(p).role() == Role::Candidate || sim.raft(p).is_leader() {
            return t;
        }
    }
    panic!("peer {p} never timed out");
}

#[test]
fn one_leader_is_elected_and_everyone_follows_it() {
    let mut sim = Sim::new(3, 1);
    let leader = sim.elect(200);
    sim.run(50);
    assert_eq!(
        sim.leader(),
        Some(leader),
        "leadership is stable without faults"
    );
    let term = sim.raft(leader).current_term();
    assert_eq!(term, Term(1));
    for p in 0..3 {
        assert_eq!(sim.raft(p).current_term(), term);
        assert_eq!(sim.raft(p).leader_hint(), Some(PeerId(leader)));
        assert_eq!(sim.raft(p).is_leader(), p == leader);
    }
}

#[test]
fn election_timeout_is_drawn_from_the_configured_range() {
    let mut sim = Sim::new(3, 7);
    let ticks = time_out(&mut sim, 0);
    assert!((30..60).contains(&ticks), "timed out after {ticks} ticks");
}

#[test]
fn split_vote_leaves_no_leader_and_a_later_term_resolves_it() {
    let mut sim = Sim::new(4, 3);
    time_out(&mut sim, 0);
    time_out(&mut sim, 1);
    // p0 reaches p2 first and p1 reaches p3 first: two votes each, quorum is three.
    let order: Vec<_> = sim.in_flight().iter().map(|e| (e.from.0, e.to.0)).collect();
    assert_eq!(order, vec![(0, 1), (0, 2), (0, 3), (1, 0), (1, 2), (1, 3)]);
    sim.discard_next(); // p0 -> p1: p1 has voted for itself anyway
    sim.deliver_next(); // p0 -> p2: granted
    let to_p3 = sim.discard_next().expect("p0 -> p3");
    sim.deliver_next(); // p1 -> p0: refused
    sim.discard_next(); // p1 -> p2: would be refused
    sim.deliver_next(); // p1 -> p3: granted
    assert_eq!(to_p3.to, PeerId(3));
    assert_eq!(sim.raft(0).role(), Role::Candidate);
    assert_eq!(sim.raft(1).role(), Role::Candidate);
    assert_eq!(sim.leader(), None);
    let leader = sim.elect(500);
    let term = sim.raft(leader).current_term();
    assert!(term >= Term(2), "resolved in a later term, got {term:?}");
    sim.run(20);
    assert_eq!(sim.leader(), Some(leader));
}

#[test]
fn votes_and_terms_survive_a_restart() {
    let mut sim = Sim::new(3, 5);
    time_out(&mut sim, 0);
    sim.deliver_all();
    assert!(sim.raft(0).is_leader());
    sim.propose(0, b"x").expect("leader");
    sim.deliver_all();
    for p in 0..3 {
        sim.crash(p);
        sim.restart(p);
        let r = sim.raft(p);
        assert_eq!(r.current_term(), Term(1), "peer {p}");
        assert_eq!(r.voted_for(), Some(PeerId(0)), "peer {p}");
        assert_eq!(r.last_log_index(), LogIndex(1), "peer {p}");
        assert_eq!(r.role(), Role::Follower);
    }
    // The restored p1 remembers its term-1 vote: p2 cannot get it, p0 can get it again.
    let mut p1 = Raft::restore(
        Config::lab(PeerId(1), 3),
        0,
        &sim.raft(1).encode_state(),
        Bytes::new(),
    )
    .expect("decodes");
    let ask = |from: usize| {
        Request::Vote(RequestVoteArgs {
            term: Term(1),
            candidate_id: PeerId(from),
            last_log_index: LogIndex(1),
            last_log_term: Term(1),
        })
    };
    let granted = |r: Response| matches!(r, Response::Vote(v) if v.vote_granted);
    assert!(!granted(p1.step_request(PeerId(2), ask(2))));
    assert!(granted(p1.step_request(PeerId(0), ask(0))));
}

#[test]
fn partitioned_old_leader_steps_down_and_loses_uncommitted_entries() {
    let mut sim = Sim::new(3, 9);
    let old = sim.elect(200);
    sim.propose(old, b"committed").expect("leader");
    sim.run(15);
    sim.disconnect(old);
    sim.propose(old, b"lost-1").expect("still thinks it leads");
    sim.propose(old, b"lost-2").expect("still thinks it leads");
    sim.run(200);
    let new = sim
        .leader()
        .filter(|l| *l != old)
        .expect("majority elected a new leader");
    assert!(
        sim.raft(old).is_leader(),
        "isolated, the old leader does not know yet"
    );
    sim.propose(new, b"new").expect("leader");
    sim.connect(old);
    sim.run(30);
    let term = sim.raft(new).current_term();
    assert_eq!(sim.raft(old).role(), Role::Follower);
    assert_eq!(sim.raft(old).current_term(), term);
    for p in 0..3 {
        let applied: Vec<&[u8]> = sim.service(p).iter().map(|b| &b[..]).collect();
        assert_eq!(applied, vec![&b"committed"[..], b"new"], "peer {p}");
    }
}
