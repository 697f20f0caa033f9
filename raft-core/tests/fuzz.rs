//! A long random run per seed: drops, reordering, partitions, crashes, restarts and
//! snapshots, with the safety checker after every step (the sim runs it), then liveness:
//! once healed, everything is committed and applied everywhere, identically.

use raft_core::LogIndex;
use raft_core::sim::Sim;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const PEERS: usize = 5;
const STEPS: usize = 4000;

fn random_step(sim: &mut Sim, rng: &mut ChaCha8Rng, proposed: &mut u32) {
    let roll = rng.random_range(0..100);
    match roll {
        0..45 => sim.tick_all(),
        45..75 => {
            for _ in 0..rng.random_range(1..8) {
                sim.deliver_random();
            }
        }
        75..85 => {
            if let Some(l) = sim.leader() {
                if sim.propose(l, format!("c{proposed}").as_bytes()).is_ok() {
                    *proposed += 1;
                }
            }
        }
        85..88 => {
            let p = rng.random_range(0..PEERS);
            let down = (0..PEERS).filter(|q| !sim.is_up(*q)).count();
            if sim.is_up(p) && down < 2 {
                sim.crash(p);
            }
        }
        88..92 => {
            let p = rng.random_range(0..PEERS);
            if !sim.is_up(p) {
                sim.restart(p);
            }
        }
        92..94 => {
            let cut = rng.random_range(1..PEERS);
            let (a, b): (Vec<usize>, Vec<usize>) = (0..PEERS).partition(|p| *p < cut);
            sim.partition(&[&a, &b]);
        }
        94..97 => sim.heal(),
        _ => {
            let p = rng.random_range(0..PEERS);
            if sim.is_up(p) {
                sim.snapshot(p);
            }
        }
    }
}

fn run_seed(seed: u64) {
    let mut sim = Sim::new(PEERS, seed);
    sim.set_drop_percent(10);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut proposed = 0;
    for _ in 0..STEPS {
        random_step(&mut sim, &mut rng, &mut proposed);
    }
    // Liveness: heal everything and let it settle.
    sim.set_drop_percent(0);
    sim.heal();
    for p in 0..PEERS {
        if !sim.is_up(p) {
            sim.restart(p);
        }
    }
    let leader = sim.elect(1000);
    sim.propose(leader, b"final").expect("leader");
    sim.run(100);
    let leader = sim.leader().expect("a leader after healing");
    let commit = sim.raft(leader).commit_index();
    assert!(commit >= sim.checker().committed_through(), "seed {seed}");
    for p in 0..PEERS {
        assert_eq!(sim.raft(p).commit_index(), commit, "seed {seed} peer {p}");
        assert_eq!(
            sim.service(p).len() as u64,
            commit.0,
            "seed {seed} peer {p}"
        );
        assert_eq!(sim.service(p), sim.service(leader), "seed {seed} peer {p}");
    }
    assert_eq!(
        sim.service(leader).last().map(|b| &b[..]),
        Some(&b"final"[..])
    );
    assert!(
        proposed > 50,
        "seed {seed}: only {proposed} proposals accepted"
    );
    assert!(
        commit > LogIndex(20),
        "seed {seed}: only {commit:?} committed"
    );
}

#[test]
fn random_faults_keep_safety_and_heal_to_agreement() {
    for seed in 1..=6 {
        run_seed(seed);
    }
}
