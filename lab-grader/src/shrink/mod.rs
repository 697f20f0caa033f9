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
        self.chunks(Attempt::value_positions, |_| 0);
        self.halve();
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
}
