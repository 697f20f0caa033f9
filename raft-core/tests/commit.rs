//! Section 5.4.2 and Figure 8: a leader never commits an entry of an earlier term by
//! counting replicas; such entries commit only under an entry of its own term.

use raft_core::sim::Sim;
use raft_core::{LogIndex, Term};

/// Ticks only `p` (delivering as it goes) until it leads.
fn elect_peer(sim: &mut Sim, p: usize) {
    for _ in 0..300 {
        sim.tick(p);
        sim.deliver_all();
        if sim.raft(p).is_leader() {
            return;
        }
    }
    panic!("peer {p} should have won");
}

/// Figure 8 (c): S1 (p0) leads term 4 and copies its term-2 entry at index 2 to a majority;
/// S5 (p4, crashed) holds a term-3 entry there.
fn figure_8_c() -> Sim {
    let mut sim = Sim::new(5, 8);
    sim.install_state(0, 3, None, &[1, 2]);
    sim.install_state(1, 3, None, &[1, 2]);
    sim.install_state(2, 3, None, &[1]);
    sim.install_state(3, 3, None, &[1]);
    sim.install_state(4, 3, None, &[1, 3]);
    sim.crash(4);
    elect_peer(&mut sim, 0);
    assert_eq!(sim.raft(0).current_term(), Term(4));
    for p in 0..4 {
        assert_eq!(sim.log_terms(p), vec![1, 2], "peer {p}");
    }
    sim
}

#[test]
fn figure_8_old_term_entry_on_a_majority_is_not_committed_and_can_be_overwritten() {
    let mut sim = figure_8_c();
    sim.run(5);
    // Index 2 is on p0, p1, p2, p3: a majority. It is from term 2, so it is not committed.
    assert_eq!(sim.raft(0).commit_index(), LogIndex(0));
    // (d): S1 crashes, S5 comes back, wins (its last term 3 beats 2) and overwrites index 2.
    sim.crash(0);
    sim.restart(4);
    elect_peer(&mut sim, 4);
    // Its first try (term 4) meets voters already in term 4; term 5 wins.
    assert_eq!(sim.raft(4).current_term(), Term(5));
    sim.propose(4, b"term 5").expect("leader");
    sim.deliver_all();
    for p in 1..5 {
        assert_eq!(sim.log_terms(p), vec![1, 3, 5], "peer {p}");
        assert_eq!(sim.raft(p).term_at(LogIndex(2)), Some(Term(3)));
    }
    assert_eq!(sim.raft(4).commit_index(), LogIndex(3));
}

#[test]
fn figure_8_e_an_entry_of_the_current_term_commits_everything_before_it() {
    let mut sim = figure_8_c();
    sim.propose(0, b"term 4").expect("leader");
    // Before any replies: nothing committed.
    assert_eq!(sim.raft(0).commit_index(), LogIndex(0));
    sim.deliver_next();
    assert_eq!(
        sim.raft(0).commit_index(),
        LogIndex(0),
        "two of five hold index 3"
    );
    sim.deliver_next();
    assert_eq!(
        sim.raft(0).commit_index(),
        LogIndex(3),
        "three of five: 1..=3 at once"
    );
    // S5 can no longer win: a majority has a last term of 4.
    sim.deliver_all();
    sim.crash(0);
    sim.restart(4);
    for _ in 0..100 {
        sim.tick(4);
    }
    sim.deliver_all();
    assert!(!sim.raft(4).is_leader());
}
