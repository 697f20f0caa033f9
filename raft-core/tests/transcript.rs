//! Readable transcripts (insta snapshots) of the main flows: one election, one replicated
//! command, and the commit reaching the followers with the next heartbeat.

use raft_core::Role;
use raft_core::sim::Sim;

#[test]
fn one_election_and_one_replicated_command() {
    let mut sim = Sim::new(3, 1);
    sim.enable_trace();
    while sim.raft(0).role() == Role::Follower {
        sim.tick(0);
    }
    sim.deliver_all();
    sim.propose(0, b"x=1").expect("leader");
    sim.deliver_all();
    for _ in 0..10 {
        sim.tick(0);
    }
    sim.deliver_all();
    insta::assert_snapshot!(sim.take_trace());
}
