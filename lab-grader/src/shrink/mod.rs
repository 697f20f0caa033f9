//! A failing run made small (issue 22, after Hypothesis). A run's random choices are recorded
//! ([`labrpc_sim::Choices`]), so it can be replayed from them ([`ChoicesFile`],
//! `grader --choices FILE`) exactly as from its seed; shrinking searches, deterministically
//! and within a number of attempts, for a smaller sequence of choices whose run fails the same
//! way ([`Signature`]).
//!
//! The passes, each over the current smallest failing sequence (what its run drew, so every
//! accepted step also drops what the run no longer reached):
//! 1. fewer faults: the fault choices (drops, reorderings, a test's crash or disconnect, an
//!    explore fault) set to 0 in chunks, all of them first, then halves, quarters... one;
//! 2. smaller values: the other nonzero choices of the network and explore streams (delays),
//!    and the peers' own draws (election timeouts: 0 is the shortest the peer asks for), set
//!    to 0, in chunks the same way;
//! 3. each remaining nonzero value of those halved.
//!
//! Between the first and the second pass, deletion: chunks of a stream's values removed, so
//! that the later ones move up and happen sooner (a drop of the 500th message becomes one of
//! the 250th, a run shorter in virtual time and events). Halves, quarters, eighths and
//! sixteenths of each stream (network, explore, test, then each peer's), at most a quarter of
//! the attempts in all. It is tried only where it is sound: where the values after the chunk
//! land in draws of the kinds they were drawn for (the same bound, for the next 16 draws:
//! a delay stays a delay, a drop decision a drop decision, a timeout a timeout of the same
//! range), so that a removed chunk is whole messages' or timeouts' worth of choices.
//!
//! A candidate is kept when its run fails the same way and it is smaller: none of its faults,
//! virtual time and events grows, and it is smaller in the order fewer faults, less virtual
//! time, fewer events, fewer nonzero choices, fewer choices, a smaller sum. (Zero is not
//! always simpler for a run: a call to a dead peer that fails at once can make a peer retry at
//! once, and a run with fewer faults but ten times the events is not the one to read.) Peer seeds and the test's
//! values (commands, which server) are left as they are.

pub mod file;
mod run;

pub use file::{ChoicesError, ChoicesFile};
pub(crate) use run::shrink_failures;
pub use run::{ShrinkCli, Shrunk, Stats, main_with_suite, shrink_bundle};

use labrpc_sim::{Recorded, Stream};

/// Attempts (runs of the test) a shrink makes by default: a failing run takes 0.005-0.25 s of
/// wall time to replay in virtual time (reliable_churn_2c the longest), so a shrink stays
/// under a minute on 2 cores (docs/LAB.md, "Shrinking a failure", has the figures).
pub const DEFAULT_ATTEMPTS: u32 = 200;

/// How a failure is told from another: the first line of its message with every number
/// replaced by `N` (the same safety property, or the same Go message with other numbers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature(pub String);

impl Signature {
    /// The signature of failure `message`.
    pub fn of(message: &str) -> Signature {
        let first = message.lines().next().unwrap_or("");
        let mut s = String::with_capacity(first.len());
        let mut in_number = false;
        for ch in first.chars() {
            if ch.is_ascii_digit() {
                if !in_number {
                    s.push('N');
                }
                in_number = true;
            } else {
                in_number = false;
                s.push(ch);
            }
        }
        Signature(s)
    }
}

/// What a candidate's run drew and how it ended.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// The choices the run drew.
    pub drawn: Recorded,
    /// Per stream, the positions of its fault choices.
    pub faults: Vec<(Stream, Vec<usize>)>,
    /// Per stream, each draw's bound (its kind: see `labrpc_sim::Choices::bounds`); a stream
    /// not listed is not deleted from.
    pub kinds: Vec<(Stream, Vec<u64>)>,
    /// The failure's message (`None`: it passed).
    pub message: Option<String>,
    /// Virtual microseconds the run took.
    pub micros: u64,
    /// Events it recorded.
    pub events: u64,
}

/// The streams shrinking changes, but the peers' own (peer seeds are left alone: no seed is
/// simpler than another; a peer's own draws, its election timeouts, are its
/// [`Stream::Peer`] streams).
const SHRUNK: [Stream; 3] = [Stream::Test, Stream::Explore, Stream::Network];

impl Attempt {
    /// The number of fault choices.
    pub fn fault_count(&self) -> usize {
        self.faults.iter().map(|(_, f)| f.len()).sum()
    }

    /// The order shrinking minimises: faults, virtual time, events, nonzero choices,
    /// choices, their sum.
    fn key(&self) -> (usize, u64, u64, usize, usize, u128) {
        let streams = self.shrunk_streams();
        let values = || {
            streams
                .iter()
                .flat_map(|s| self.drawn.stream(*s).iter().copied())
        };
        (
            self.fault_count(),
            self.micros,
            self.events,
            values().filter(|v| *v != 0).count(),
            values().count(),
            values().map(u128::from).sum(),
        )
    }

    /// Whether this attempt is smaller than `other`: no more faults, virtual time or events
    /// (none of what the summary shows may grow), and a smaller [`Attempt::key`].
    fn smaller_than(&self, other: &Attempt) -> bool {
        self.fault_count() <= other.fault_count()
            && self.micros <= other.micros
            && self.events <= other.events
            && self.key() < other.key()
    }

    /// The positions of the fault choices, test stream first.
    fn fault_positions(&self) -> Vec<(Stream, usize)> {
        SHRUNK
            .iter()
            .flat_map(|s| {
                self.faults
                    .iter()
                    .filter(move |(t, _)| t == s)
                    .flat_map(move |(_, f)| f.iter().map(move |p| (*s, *p)))
            })
            .collect()
    }

    /// The streams deletion works on: network, explore, test, then each peer's.
    fn shrunk_streams_by_size(&self) -> Vec<Stream> {
        let peers = self.drawn.streams().into_iter().skip(Stream::ALL.len());
        [Stream::Network, Stream::Explore, Stream::Test]
            .into_iter()
            .chain(peers)
            .collect()
    }

    /// Whether the values of `stream` after `i + k` would land, moved up by `k`, in draws of
    /// the kinds they were drawn for (the next [`ALIGNED`] of them).
    fn aligned_after_removing(&self, stream: Stream, i: usize, k: usize) -> bool {
        let Some((_, kinds)) = self.kinds.iter().find(|(s, _)| *s == stream) else {
            return false;
        };
        let after = kinds.len().saturating_sub(i + k).min(ALIGNED);
        after > 0 && (0..after).all(|m| kinds[i + k + m] == kinds[i + m])
    }

    /// [`SHRUNK`] and the peers' own streams.
    fn shrunk_streams(&self) -> Vec<Stream> {
        let peers = self.drawn.streams().into_iter().skip(Stream::ALL.len());
        SHRUNK.into_iter().chain(peers).collect()
    }

    /// The positions of the nonzero choices of the network and explore streams that are not
    /// faults, then of the peers' own draws (their election timeouts: 0 is the shortest).
    fn value_positions(&self) -> Vec<(Stream, usize)> {
        let faults = self.fault_positions();
        let peers = self.drawn.streams().into_iter().skip(Stream::ALL.len());
        [Stream::Explore, Stream::Network]
            .into_iter()
            .chain(peers)
            .collect::<Vec<_>>()
            .iter()
            .flat_map(|s| {
                self.drawn
                    .stream(*s)
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| **v != 0)
                    .map(move |(p, _)| (*s, p))
            })
            .filter(|sp| !faults.contains(sp))
            .collect()
    }
}

/// Deletion tries chunks of a half, a quarter, an eighth and a sixteenth of a stream.
const DELETE_ROUNDS: u32 = 4;

/// How many of the draws after a removed chunk must keep their kind (see
/// [`Attempt::aligned_after_removing`]).
const ALIGNED: usize = 16;

/// The search's state: the smallest failing attempt so far, and the attempts left.
pub struct Search<'a> {
    run: &'a mut dyn FnMut(&Recorded) -> Attempt,
    signature: Signature,
    /// The smallest failing attempt so far.
    pub best: Attempt,
    /// Attempts made.
    pub made: u32,
    /// Attempts allowed.
    pub budget: u32,
    /// Candidates that failed the same way and were smaller.
    pub accepted: u32,
    progress: &'a dyn Fn(&Search<'_>),
}

impl<'a> Search<'a> {
    /// A search from `first`, a failing attempt, running candidates with `run`, at most
    /// `budget` of them; `progress` is told after each.
    pub fn new(
        first: Attempt,
        budget: u32,
        run: &'a mut dyn FnMut(&Recorded) -> Attempt,
        progress: &'a dyn Fn(&Search<'_>),
    ) -> Option<Self> {
        let signature = Signature::of(first.message.as_deref()?);
        Some(Search {
            run,
            signature,
            best: first,
            made: 0,
            budget,
            accepted: 0,
            progress,
        })
    }

    /// Runs every pass until the budget is spent or nothing more shrinks.
    pub fn shrink(&mut self) {
        self.chunks(Attempt::fault_positions, |_| 0);
        self.delete();
        self.chunks(Attempt::value_positions, |_| 0);
        self.halve();
    }

    /// Removes chunks of each stream's values where that is sound (see the module docs),
    /// within a quarter of the budget.
    fn delete(&mut self) {
        let stop = self.made.saturating_add(self.budget / 4);
        for s in self.best.shrunk_streams_by_size() {
            let mut k = self.best.drawn.stream(s).len() / 2;
            for _ in 0..DELETE_ROUNDS {
                if k == 0 {
                    break;
                }
                let mut i = 0;
                loop {
                    if self.made >= stop {
                        return;
                    }
                    let n = self.best.drawn.stream(s).len();
                    // A chunk at the end is zeroed by the other passes, not deleted.
                    if i + k >= n {
                        break;
                    }
                    if !self.best.aligned_after_removing(s, i, k) {
                        i += k;
                        continue;
                    }
                    let mut candidate = self.best.drawn.clone();
                    candidate.stream_mut(s).drain(i..i + k);
                    match self.try_candidate(&candidate) {
                        None => return,
                        Some(true) => {}
                        Some(false) => i += k,
                    }
                }
                k /= 2;
            }
        }
    }

    /// Tries `candidate`; keeps it if it fails the same way and is smaller. Whether it was
    /// kept; `None` when the budget is spent.
    fn try_candidate(&mut self, candidate: &Recorded) -> Option<bool> {
        if self.made >= self.budget {
            return None;
        }
        self.made += 1;
        let attempt = (self.run)(candidate);
        let same = attempt
            .message
            .as_deref()
            .is_some_and(|m| Signature::of(m) == self.signature);
        let kept = same && attempt.smaller_than(&self.best);
        if kept {
            self.best = attempt;
            self.accepted += 1;
        }
        (self.progress)(self);
        Some(kept)
    }

    /// Sets the choices at `positions(best)` to `value(old)`, in chunks: all at once, then
    /// halves, quarters, ... one at a time.
    fn chunks(&mut self, positions: fn(&Attempt) -> Vec<(Stream, usize)>, value: fn(u64) -> u64) {
        let mut k = positions(&self.best).len();
        while k >= 1 {
            let mut i = 0;
            loop {
                let at = positions(&self.best);
                if i >= at.len() {
                    break;
                }
                let mut candidate = self.best.drawn.clone();
                for &(s, p) in &at[i..(i + k).min(at.len())] {
                    if let Some(v) = candidate.stream_mut(s).get_mut(p) {
                        *v = value(*v);
                    }
                }
                match self.try_candidate(&candidate) {
                    None => return,
                    // The same i: the positions moved up.
                    Some(true) => {}
                    Some(false) => i += k,
                }
            }
            if k == 1 {
                break;
            }
            k /= 2;
        }
    }

    /// Halves each remaining nonzero network value, one at a time.
    fn halve(&mut self) {
        let mut i = 0;
        loop {
            let at = self.best.value_positions();
            let Some(&(s, p)) = at.get(i) else { return };
            let mut candidate = self.best.drawn.clone();
            if let Some(v) = candidate.stream_mut(s).get_mut(p) {
                *v /= 2;
            }
            match self.try_candidate(&candidate) {
                None => return,
                Some(true) => {}
                Some(false) => i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_ignore_numbers_and_hints() {
        assert_eq!(
            Signature::of("one(101) failed to reach agreement at index 3\nmore"),
            Signature::of("one(7) failed to reach agreement at index 12")
        );
        assert_ne!(
            Signature::of("Raft safety: two leaders in term 3 (Election Safety, 5.2)"),
            Signature::of("Raft safety: entry 3 lost (Leader Completeness, 5.4)")
        );
    }

    /// A toy run: it fails ("bad at N") when choices 3 and 7 of the network stream are both
    /// faults (>= 900); every value >= 900 is a fault.
    fn toy(r: &Recorded) -> Attempt {
        let net: Vec<u64> = (0..20)
            .map(|i| r.network.get(i).copied().unwrap_or(0))
            .collect();
        let faults: Vec<usize> = (0..20).filter(|&i| net[i] >= 900).collect();
        let bad = net[3] >= 900 && net[7] >= 900;
        let message = bad.then(|| format!("bad at {}", net[3]));
        Attempt {
            drawn: Recorded {
                network: net,
                ..Recorded::default()
            },
            faults: vec![(Stream::Network, faults)],
            kinds: vec![(Stream::Network, vec![999; 20])],
            message,
            micros: 1,
            events: 1,
        }
    }

    #[test]
    fn the_search_keeps_only_the_faults_that_matter() {
        let first = toy(&Recorded {
            network: (0..20).map(|i| if i % 2 == 1 { 950 } else { 13 }).collect(),
            ..Recorded::default()
        });
        let mut run = toy;
        let quiet = |_: &Search<'_>| {};
        let mut search = Search::new(first, 500, &mut run, &quiet).expect("it fails");
        search.shrink();
        assert_eq!(
            search.best.fault_positions(),
            vec![(Stream::Network, 3), (Stream::Network, 7)]
        );
        assert_eq!(
            search
                .best
                .drawn
                .network
                .iter()
                .filter(|v| **v != 0)
                .count(),
            2
        );
        assert!(search.made < 500);
    }

    /// A toy run that fails when a fault comes among its first 20 network draws; its virtual
    /// time is where that fault is. Only deletion moves the fault up; zeroing never keeps a
    /// failing run.
    fn early(r: &Recorded) -> Attempt {
        let net: Vec<u64> = (0..40)
            .map(|i| r.network.get(i).copied().unwrap_or(0))
            .collect();
        let faults: Vec<usize> = (0..40).filter(|&i| net[i] >= 900).collect();
        let first = faults.first().copied();
        Attempt {
            drawn: Recorded {
                network: net,
                ..Recorded::default()
            },
            faults: vec![(Stream::Network, faults.clone())],
            kinds: vec![(Stream::Network, vec![999; 40])],
            message: first.filter(|&p| p < 20).map(|p| format!("fault at {p}")),
            micros: first.map_or(u64::MAX, |p| p as u64),
            events: 1,
        }
    }

    #[test]
    fn deletion_moves_a_fault_up() {
        let mut network = vec![0; 40];
        network[15] = 950;
        let first = early(&Recorded {
            network,
            ..Recorded::default()
        });
        let mut run = early;
        let quiet = |_: &Search<'_>| {};
        let mut search = Search::new(first, 100, &mut run, &quiet).expect("it fails");
        search.shrink();
        assert_eq!(search.best.fault_positions(), vec![(Stream::Network, 0)]);
    }

    #[test]
    fn deletion_keeps_kinds_aligned() {
        let a = Attempt {
            drawn: Recorded::default(),
            faults: Vec::new(),
            kinds: vec![(Stream::Network, vec![26, 999, 999, 26, 999, 999, 26, 999])],
            message: None,
            micros: 0,
            events: 0,
        };
        // One whole message's three draws: the rest lands on draws of its kinds.
        assert!(a.aligned_after_removing(Stream::Network, 0, 3));
        // A delay and a drop decision: a drop decision would land in a delay.
        assert!(!a.aligned_after_removing(Stream::Network, 0, 2));
        assert!(!a.aligned_after_removing(Stream::Test, 0, 1));
    }
}
