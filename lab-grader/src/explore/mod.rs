//! Explore mode (issue 22): random fault schedules beyond the scripts of the 28 tests, swarm
//! style. Each seed picks a [`Profile`] (how many peers; which faults and how often:
//! partitions, one-way links, crashes with or without a restart, an unreliable network, long delays and
//! reordering, snapshots; how busy the workload of `start` calls is), then runs a random
//! schedule of those faults and starts for a few virtual seconds, while the harness checks
//! every Raft safety property and every apply continuously, as in any test. A liveness phase
//! ends each run: every fault is healed (every crashed peer restarted, except the minority a
//! profile crashes for good) and a leader must emerge and commit a new command on every live
//! peer within Go's `one` bound (10 s).
//!
//! A run is one test, `explore`, whose seed is the run's: `cargo run -p grader -- explore
//! --seeds N` runs seeds S..S+N (`--jobs` at a time, with a progress bar and a summary), and
//! `explore --seed S` replays one exactly (see [`cli`]). It is not part of `all` or `extra`.

use std::fmt;
use std::time::Duration;

use lab_api::LabRaft;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::time::{Instant, sleep};

use crate::cmd::Cmd;
use crate::fail::Fail;
use crate::harness::{Config, TestContext, make_config};
use crate::suites::{Part, TestCase};

pub mod cli;

/// The test's name (`--test explore` and `explore --seed S` run it).
pub const NAME: &str = "explore";

/// The explore test for peer type `R`.
pub fn case<R: LabRaft>() -> TestCase {
    TestCase {
        part: Part::Extra,
        name: NAME,
        go_name: "Explore",
        title: "Explore: a random fault schedule of the seed",
        body: |t| Box::pin(explore::<R>(t)),
    }
}

/// How a crash ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crashes {
    /// No crashes.
    None,
    /// Crashed peers restart (from their persister) after a while.
    Restart,
    /// Up to a minority of peers crash and stay down, even through the liveness phase.
    ForGood,
}

/// One seed's choice of faults and workload (swarm testing: each fault is on or off per
/// seed, so that a bug one fault hides is met without it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Cluster size: 3 or 5.
    pub peers: usize,
    /// An unreliable network (drops, delays), toggled now and then.
    pub unreliable: bool,
    /// Long delays (labrpc's): messages to a disabled peer wait up to 7 s before failing.
    pub long_delays: bool,
    /// Long reordering (labrpc's): some replies wait up to 2 s.
    pub reordering: bool,
    /// Partitions: a random split of the peers, or one peer cut off, healed later.
    pub partitions: bool,
    /// One-way links: a peer whose calls to the others fail while theirs to it get through,
    /// or the reverse; healed as partitions are.
    pub one_way: bool,
    /// Crashes.
    pub crashes: Crashes,
    /// The service snapshots every 10 entries (the 2D applier).
    pub snapshots: bool,
    /// Mean time between two faults.
    pub fault_every: Duration,
    /// Mean `start` calls per second of virtual time.
    pub starts_per_sec: u32,
    /// How long the faulty phase lasts (virtual time).
    pub duration: Duration,
}

impl Profile {
    /// The profile of the run whose test seed is `seed`.
    pub fn of(seed: u64) -> Profile {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0e8b_10e5_eed0_0001);
        let crashes = match rng.random_range(0..4) {
            0 => Crashes::None,
            1 => Crashes::ForGood,
            _ => Crashes::Restart,
        };
        Profile {
            peers: if rng.random_bool(0.5) { 3 } else { 5 },
            unreliable: rng.random_bool(0.5),
            long_delays: rng.random_bool(0.5),
            reordering: rng.random_bool(0.25),
            partitions: rng.random_bool(0.6),
            crashes,
            snapshots: rng.random_bool(0.5),
            fault_every: Duration::from_millis([200, 500, 1000, 2000][rng.random_range(0..4)]),
            starts_per_sec: [2, 10, 50][rng.random_range(0..3)],
            duration: Duration::from_secs(rng.random_range(4..=12)),
            // Drawn last, so that every other field of a seed's profile is what it was
            // before one-way links existed.
            one_way: rng.random_bool(0.3),
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut faults = Vec::new();
        if self.partitions {
            faults.push("partitions");
        }
        if self.one_way {
            faults.push("one-way links");
        }
        match self.crashes {
            Crashes::None => {}
            Crashes::Restart => faults.push("crashes and restarts"),
            Crashes::ForGood => faults.push("crashes for good (a minority)"),
        }
        if self.unreliable {
            faults.push("unreliable");
        }
        if self.long_delays {
            faults.push("long delays");
        }
        if self.reordering {
            faults.push("long reordering");
        }
        if faults.is_empty() {
            faults.push("no faults");
        }
        write!(
            f,
            "{} peers, {}, a fault every {:.1} s, {} starts/s, {} s{}",
            self.peers,
            faults.join(", "),
            self.fault_every.as_secs_f64(),
            self.starts_per_sec,
            self.duration.as_secs(),
            if self.snapshots { ", snapshots" } else { "" },
        )
    }
}

/// A fault the schedule may apply next.
#[derive(Clone, Copy, Debug)]
enum Fault {
    Crash,
    Restart,
    Partition,
    OneWay,
    Heal,
    Unreliable,
    Reordering,
}

/// The state of the faults the schedule applied.
struct Faults {
    /// Crashed peers.
    down: Vec<bool>,
    /// Peers crashed for good (never restarted).
    gone: Vec<bool>,
    unreliable: bool,
    reordering: bool,
}

/// The explore test: the seed's profile, its random schedule, then the liveness phase.
pub async fn explore<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let p = Profile::of(t.seed());
    let cfg = make_config::<R>(&t, p.peers, p.unreliable, p.snapshots)?;
    cfg.net().set_long_delays(p.long_delays);
    cfg.begin();
    t.print(&format!("  profile: {p}\n"));
    let rng = Draws(t.choices());
    let mut faults = Faults {
        down: vec![false; p.peers],
        gone: vec![false; p.peers],
        unreliable: p.unreliable,
        reordering: false,
    };
    let step = Duration::from_millis(20);
    let end = Instant::now() + p.duration;
    while Instant::now() < end && !t.failed() {
        sleep(step).await;
        let starts = p.starts_per_sec as f64 * step.as_secs_f64();
        if rng.coin(starts.min(1.0), false) {
            start_somewhere(&cfg, &rng);
        }
        if rng.coin(step.as_secs_f64() / p.fault_every.as_secs_f64(), true) {
            if let Some(fault) = pick(&p, &faults, &rng) {
                apply(&cfg, &p, &mut faults, fault, &rng)?;
            }
        }
    }
    heal(&cfg, &mut faults)?;
    cfg.check_one_leader().await?;
    let live = faults.gone.iter().filter(|g| !**g).count();
    cfg.one(Cmd::Int(cfg.rand_int()), live, true).await?;
    cfg.end()
}

/// The explore schedule's draws: choices of the explore stream, drawn as its RNG always was.
struct Draws<'a>(&'a labrpc_sim::Choices);

impl Draws<'_> {
    /// Yes with probability `p` (`rng.random_bool(p)`); `fault`: a yes is a fault.
    fn coin(&self, p: f64, fault: bool) -> bool {
        self.0.coin(labrpc_sim::Stream::Explore, p, fault)
    }

    /// An index in `0..n` (`rng.random_range(0..n)`), `n` > 0.
    fn index(&self, n: usize) -> usize {
        let n = n.max(1);
        let max = u64::try_from(n - 1).unwrap_or(u64::MAX);
        let i = self.0.draw(
            labrpc_sim::Stream::Explore,
            |r| u64::try_from(r.random_range(0..n)).unwrap_or(0),
            max,
        );
        usize::try_from(i).unwrap_or(0)
    }
}

/// Calls `start` on a running peer: the one that says it leads, or any, at random.
fn start_somewhere<R: LabRaft>(cfg: &Config<R>, rng: &Draws<'_>) {
    let n = cfg.n();
    let leader = (0..n).find(|&i| cfg.get_state(i).is_some_and(|(_, l)| l));
    let i = match leader {
        Some(l) if rng.coin(0.8, false) => l,
        _ => rng.index(n),
    };
    cfg.start_on(i, &Cmd::Int(cfg.rand_int()));
}

/// The next fault, among those the profile has and that apply now.
fn pick(p: &Profile, f: &Faults, rng: &Draws<'_>) -> Option<Fault> {
    let mut options = Vec::new();
    if p.crashes != Crashes::None {
        options.push(Fault::Crash);
        if (0..p.peers).any(|i| f.down[i] && !f.gone[i]) {
            options.push(Fault::Restart);
        }
    }
    if p.partitions {
        options.push(Fault::Partition);
    }
    if p.one_way {
        options.push(Fault::OneWay);
    }
    if p.partitions || p.one_way {
        options.push(Fault::Heal);
    }
    if p.unreliable {
        options.push(Fault::Unreliable);
    }
    if p.reordering {
        options.push(Fault::Reordering);
    }
    if options.is_empty() {
        return None;
    }
    Some(options[rng.index(options.len())])
}

/// Applies `fault`.
fn apply<R: LabRaft>(
    cfg: &std::sync::Arc<Config<R>>,
    p: &Profile,
    f: &mut Faults,
    fault: Fault,
    rng: &Draws<'_>,
) -> Result<(), Fail> {
    let n = p.peers;
    match fault {
        Fault::Crash => {
            let up: Vec<usize> = (0..n).filter(|&i| !f.down[i]).collect();
            if let Some(&i) = up.get(rng.index(up.len().max(1))) {
                cfg.crash1(i);
                f.down[i] = true;
                let gone = f.gone.iter().filter(|g| **g).count();
                if p.crashes == Crashes::ForGood && gone < (n - 1) / 2 && rng.coin(0.5, true) {
                    f.gone[i] = true;
                }
            }
        }
        Fault::Restart => {
            let back: Vec<usize> = (0..n).filter(|&i| f.down[i] && !f.gone[i]).collect();
            if let Some(&i) = back.get(rng.index(back.len().max(1))) {
                cfg.start1(i)?;
                cfg.connect(i);
                f.down[i] = false;
            }
        }
        Fault::Partition => {
            // A random side (never empty, never everyone); links across it are cut both ways.
            // (Replayed choices may never give a proper side: after 64 tries, peer 0 alone.)
            let mut tries = 0;
            let side: Vec<bool> = loop {
                let side: Vec<bool> = (0..n).map(|_| rng.coin(0.5, false)).collect();
                if side.iter().any(|s| *s) && side.iter().any(|s| !*s) {
                    break side;
                }
                tries += 1;
                if tries == 64 {
                    break (0..n).map(|i| i == 0).collect();
                }
            };
            for i in 0..n {
                for j in 0..n {
                    if side[i] != side[j] {
                        cfg.set_link(i, j, false);
                    }
                }
            }
        }
        Fault::OneWay => {
            // A peer's client ends to every other peer cut (its calls fail, theirs to it are
            // answered), or every other peer's end to it (the reverse).
            let i = rng.index(n);
            let outgoing = rng.coin(0.5, false);
            for j in (0..n).filter(|&j| j != i) {
                if outgoing {
                    cfg.set_link(i, j, false);
                } else {
                    cfg.set_link(j, i, false);
                }
            }
        }
        Fault::Heal => {
            for i in (0..n).filter(|&i| !f.down[i]) {
                cfg.connect(i);
            }
        }
        Fault::Unreliable => {
            f.unreliable = !f.unreliable;
            cfg.set_unreliable(f.unreliable);
        }
        Fault::Reordering => {
            f.reordering = !f.reordering;
            cfg.set_long_reordering(f.reordering);
        }
    }
    Ok(())
}

/// The liveness phase's start: a reliable network without long reordering, every crashed
/// peer restarted (but those crashed for good), every live peer connected to every other.
fn heal<R: LabRaft>(cfg: &std::sync::Arc<Config<R>>, f: &mut Faults) -> Result<(), Fail> {
    cfg.set_unreliable(false);
    cfg.set_long_reordering(false);
    for i in 0..cfg.n() {
        if f.down[i] && !f.gone[i] {
            cfg.start1(i)?;
            f.down[i] = false;
        }
    }
    for i in (0..cfg.n()).filter(|&i| !f.down[i]) {
        cfg.connect(i);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_is_a_function_of_its_seed_and_seeds_differ() {
        assert_eq!(Profile::of(7), Profile::of(7));
        let profiles: Vec<Profile> = (0..64).map(Profile::of).collect();
        assert!(profiles.iter().any(|p| p.peers == 5) && profiles.iter().any(|p| p.peers == 3));
        assert!(profiles.iter().any(|p| p.crashes == Crashes::ForGood));
        assert!(profiles.iter().any(|p| p.snapshots) && profiles.iter().any(|p| !p.snapshots));
        assert!(profiles[0].to_string().contains("peers"));
    }
}
