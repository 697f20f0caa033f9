//! A run as a sequence of choices (issue 22, after Hypothesis): every random decision of a
//! test run is one `u64` drawn from a named [`Stream`] and recorded there. A [`Choices`]
//! either draws each value from the stream's seeded `ChaCha8Rng` (recording it), or replays a
//! recorded sequence ([`Recorded`]); past the end of a replayed stream every draw is 0.
//!
//! Each draw site fixes what its value means, and the encodings make **0 the simplest
//! outcome**: a message delivered rather than dropped, no reordering, zero delay, no crash. A
//! smaller sequence of choices (fewer values, lower values) is so a simpler run, which is what
//! a shrinker searches for. A replayed value above the draw's bound is clamped to it.
//!
//! Drawing from the seeded RNG consumes it exactly as the code did before choices existed, and
//! the recorded value of a yes/no draw is a rotation of the RNG's number that keeps its
//! outcome ([`Choices::chance`]), so a seed gives the same run it always gave.
//!
//! Each peer incarnation has a stream of its own ([`Stream::Peer`], opened by
//! [`Choices::open_peer`] in the order peers are started), for the draws a peer makes itself
//! (its election timeouts, through `lab_api::PeerRng`): recorded one by one, so that shrinking
//! can shorten a timeout as it removes a drop.

use std::sync::Arc;

/// The streams' lock: taken at every draw (several per RPC) and held for a few
/// instructions, never across a call out; released by a plain store, where a std mutex's
/// release is one more locked instruction. A thread that finds it taken yields.
type StreamsLock<T> = spin::mutex::Mutex<T, spin::relax::Yield>;
type StreamsGuard<'a, T> = spin::mutex::MutexGuard<'a, T>;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The streams of a run. Each has its own RNG and its own recorded sequence, so that fewer
/// draws in one (say, fewer network messages) do not shift the values of another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stream {
    /// The simulated network: drops, short delays, reordering, dead-end delays.
    Network,
    /// The test's own draws: commands, which server, whether to crash or disconnect.
    Test,
    /// The seed of each peer incarnation, in the order peers are started.
    PeerSeed,
    /// The explore test's schedule: when to start a command, which fault, where.
    Explore,
    /// The draws of the `k`-th peer incarnation started in the run (its election timeouts),
    /// seeded by that incarnation's [`Stream::PeerSeed`] value.
    Peer(u32),
}

impl Stream {
    /// Every stream but the peers' own, in file order.
    pub const ALL: [Stream; 4] = [
        Stream::Network,
        Stream::Test,
        Stream::PeerSeed,
        Stream::Explore,
    ];

    /// The stream's name in a choices file.
    pub fn name(self) -> &'static str {
        match self {
            Stream::Network => "network",
            Stream::Test => "test",
            Stream::PeerSeed => "peer_seed",
            Stream::Explore => "explore",
            Stream::Peer(_) => "peers",
        }
    }

    fn index(self) -> usize {
        match self {
            Stream::Network => 0,
            Stream::Test => 1,
            Stream::PeerSeed => 2,
            Stream::Explore => 3,
            Stream::Peer(k) => FIXED + k as usize,
        }
    }
}

/// How many streams are not a peer's own.
const FIXED: usize = Stream::ALL.len();

/// The values of a stream that has none.
static NONE: Vec<u64> = Vec::new();

/// A run's recorded choices, one sequence per stream (the JSON of a `choices.json` file).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// [`Stream::Network`]'s values.
    #[serde(default)]
    pub network: Vec<u64>,
    /// [`Stream::Test`]'s values.
    #[serde(default)]
    pub test: Vec<u64>,
    /// [`Stream::PeerSeed`]'s values.
    #[serde(default)]
    pub peer_seed: Vec<u64>,
    /// [`Stream::Explore`]'s values.
    #[serde(default)]
    pub explore: Vec<u64>,
    /// Each peer incarnation's own draws ([`Stream::Peer`]), in the order peers were started.
    /// `None` (a file from before peers' draws were recorded): each peer draws from its seed,
    /// as the recorded run did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peers: Option<Vec<Vec<u64>>>,
}

impl Recorded {
    /// The values of `stream`.
    pub fn stream(&self, stream: Stream) -> &Vec<u64> {
        match stream {
            Stream::Network => &self.network,
            Stream::Test => &self.test,
            Stream::PeerSeed => &self.peer_seed,
            Stream::Explore => &self.explore,
            Stream::Peer(k) => self
                .peers
                .as_ref()
                .and_then(|p| p.get(k as usize))
                .unwrap_or(&NONE),
        }
    }

    /// The values of `stream`, to change.
    pub fn stream_mut(&mut self, stream: Stream) -> &mut Vec<u64> {
        match stream {
            Stream::Network => &mut self.network,
            Stream::Test => &mut self.test,
            Stream::PeerSeed => &mut self.peer_seed,
            Stream::Explore => &mut self.explore,
            Stream::Peer(k) => {
                let peers = self.peers.get_or_insert_with(Vec::new);
                let k = k as usize;
                if peers.len() <= k {
                    peers.resize(k + 1, Vec::new());
                }
                &mut peers[k]
            }
        }
    }

    /// Every stream of this record: [`Stream::ALL`], then one per recorded peer incarnation.
    pub fn streams(&self) -> Vec<Stream> {
        let peers = self.peers.as_ref().map_or(0, Vec::len);
        Stream::ALL
            .into_iter()
            .chain((0..peers).map(|k| Stream::Peer(u32::try_from(k).unwrap_or(u32::MAX))))
            .collect()
    }

    /// How many values in all.
    pub fn len(&self) -> usize {
        self.streams().iter().map(|s| self.stream(*s).len()).sum()
    }

    /// No value at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One stream's state.
struct StreamState {
    rng: ChaCha8Rng,
    /// `Some`: replaying these values.
    replay: Option<Vec<u64>>,
    /// Values drawn so far.
    drawn: Vec<u64>,
    /// Positions in `drawn` of draws that were faults (a drop, a crash: see
    /// [`Choices::chance`]).
    faults: Vec<usize>,
    /// Each draw's largest value (what kind of draw it was: see [`Choices::bounds`]).
    bounds: Vec<u64>,
}

impl StreamState {
    fn next(&mut self, fresh: impl FnOnce(&mut ChaCha8Rng) -> u64, max: u64) -> u64 {
        let value = match &self.replay {
            Some(values) => values.get(self.drawn.len()).copied().unwrap_or(0).min(max),
            None => fresh(&mut self.rng),
        };
        self.drawn.push(value);
        self.bounds.push(max);
        value
    }
}

/// A run's source of random choices. Cheap to clone; clones share the streams.
#[derive(Clone)]
pub struct Choices {
    streams: Arc<StreamsLock<Vec<StreamState>>>,
    /// What the peers' streams replay (`None`: they draw from their seeds).
    peers: Option<Arc<Vec<Vec<u64>>>>,
}

impl std::fmt::Debug for Choices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let streams = self.lock();
        let mut d = f.debug_struct("Choices");
        for s in Stream::ALL {
            d.field(s.name(), &streams[s.index()].drawn.len());
        }
        d.field("peers", &(streams.len() - FIXED));
        d.finish()
    }
}

impl Choices {
    /// Draws from seeded RNGs, recording: `seed(stream)` seeds each stream's RNG.
    pub fn recording(seed: impl Fn(Stream) -> u64) -> Self {
        Self::build(seed, None)
    }

    /// Replays `recorded` (every stream; past a stream's end, 0). The RNGs are seeded by
    /// `seed` but never drawn from (nor are the peers' streams' RNGs, unless `recorded` has
    /// no peers' draws at all: then they draw from their seeds).
    pub fn replaying(seed: impl Fn(Stream) -> u64, recorded: &Recorded) -> Self {
        Self::build(seed, Some(recorded))
    }

    fn build(seed: impl Fn(Stream) -> u64, recorded: Option<&Recorded>) -> Self {
        let streams = Stream::ALL
            .iter()
            .map(|&s| StreamState {
                rng: ChaCha8Rng::seed_from_u64(seed(s)),
                replay: recorded.map(|r| r.stream(s).clone()),
                drawn: Vec::new(),
                faults: Vec::new(),
                bounds: Vec::new(),
            })
            .collect();
        Choices {
            streams: Arc::new(StreamsLock::new(streams)),
            peers: recorded.and_then(|r| r.peers.clone()).map(Arc::new),
        }
    }

    /// Opens the stream of the next peer incarnation (the order peers are started in is the
    /// order of their streams): its RNG is seeded by `seed` (the incarnation's seed, from
    /// [`Stream::PeerSeed`]), and in a replay it replays that incarnation's recorded draws.
    pub fn open_peer(&self, seed: u64) -> Stream {
        let mut streams = self.lock();
        let k = streams.len() - FIXED;
        let replay = self
            .peers
            .as_ref()
            .map(|p| p.get(k).cloned().unwrap_or_default());
        streams.push(StreamState {
            rng: ChaCha8Rng::seed_from_u64(seed),
            replay,
            drawn: Vec::new(),
            faults: Vec::new(),
            bounds: Vec::new(),
        });
        Stream::Peer(u32::try_from(k).unwrap_or(u32::MAX))
    }

    fn lock(&self) -> StreamsGuard<'_, Vec<StreamState>> {
        self.streams.lock()
    }

    /// Whether this source replays a recorded sequence.
    pub fn is_replay(&self) -> bool {
        self.lock()[0].replay.is_some()
    }

    /// One draw from `stream`: `fresh` computes it from the stream's RNG when recording; a
    /// replayed value is clamped to `max`. A peer's stream that was never opened gives 0.
    pub fn draw(
        &self,
        stream: Stream,
        fresh: impl FnOnce(&mut ChaCha8Rng) -> u64,
        max: u64,
    ) -> u64 {
        self.lock()
            .get_mut(stream.index())
            .map_or(0, |s| s.next(fresh, max))
    }

    /// A number in `0..bound` (`bound` > 0), drawn as `rng.random_range(0..bound)` (a u64
    /// range) when recording.
    pub fn below(&self, stream: Stream, bound: u64) -> u64 {
        let bound = bound.max(1);
        self.draw(stream, |r| r.random_range(0..bound), bound - 1)
    }

    /// True with probability `numerator / denominator`: the fault of a yes/no decision (a
    /// drop, a reordering, a crash). When recording, `x = rng.random_range(0..denominator)`
    /// as a u32, and the outcome is `x < numerator` as in labrpc; the value recorded is
    /// `c = (x + denominator - numerator) % denominator`, and the outcome is `c >=
    /// denominator - numerator`: the same outcome, and 0 (or any value below the threshold)
    /// means no fault. A true outcome is noted as a fault of the stream.
    pub fn chance(&self, stream: Stream, numerator: u32, denominator: u32) -> bool {
        let d = denominator.max(1);
        self.chance_with(stream, u64::from(numerator), u64::from(d), |r| {
            u64::from(r.random_range(0..d))
        })
    }

    /// [`Choices::chance`] with the RNG's number in `0..denominator` drawn by `fresh` (so a
    /// caller keeps its own way of drawing it, and the runs its seeds always gave).
    pub fn chance_with(
        &self,
        stream: Stream,
        numerator: u64,
        denominator: u64,
        fresh: impl FnOnce(&mut ChaCha8Rng) -> u64,
    ) -> bool {
        let d = denominator.max(1);
        let n = numerator.min(d);
        let mut streams = self.lock();
        let Some(s) = streams.get_mut(stream.index()) else {
            return false;
        };
        let c = s.next(|r| (fresh(r) % d + (d - n)) % d, d - 1);
        let fault = c >= d - n;
        if fault {
            let at = s.drawn.len() - 1;
            s.faults.push(at);
        }
        fault
    }

    /// A yes/no decision whose value is its outcome (1 true, 0 false): drawn as
    /// `rng.random_bool(p)` when recording. `fault`: a true outcome is a fault (see
    /// [`Choices::faults`]).
    pub fn coin(&self, stream: Stream, p: f64, fault: bool) -> bool {
        let mut streams = self.lock();
        let Some(s) = streams.get_mut(stream.index()) else {
            return false;
        };
        let yes = s.next(|r| u64::from(r.random_bool(p.clamp(0.0, 1.0))), 1) == 1;
        if yes && fault {
            let at = s.drawn.len() - 1;
            s.faults.push(at);
        }
        yes
    }

    /// Everything drawn so far.
    pub fn recorded(&self) -> Recorded {
        let streams = self.lock();
        let mut r = Recorded::default();
        for s in Stream::ALL {
            *r.stream_mut(s) = streams[s.index()].drawn.clone();
        }
        r.peers = Some(streams[FIXED..].iter().map(|s| s.drawn.clone()).collect());
        r
    }

    /// The largest value each draw of `stream` could take, in draw order: a stand-in for
    /// what kind of draw it was (a delay, a yes/no fault, a timeout of some range), by which
    /// a shrinker tells whether the values after a removed chunk would land in draws of the
    /// same kinds.
    pub fn bounds(&self, stream: Stream) -> Vec<u64> {
        self.lock()
            .get(stream.index())
            .map_or_else(Vec::new, |s| s.bounds.clone())
    }

    /// The positions, in `stream`'s recorded values, of the draws that were faults.
    pub fn faults(&self, stream: Stream) -> Vec<usize> {
        self.lock()
            .get(stream.index())
            .map_or_else(Vec::new, |s| s.faults.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_gives_the_recorded_values_then_zeros() {
        let rec = Choices::recording(|s| s.name().len() as u64 + 7);
        let a: Vec<bool> = (0..50)
            .map(|_| rec.chance(Stream::Network, 1, 10))
            .collect();
        let b = rec.below(Stream::Test, 1000);
        let recorded = rec.recorded();
        let again = Choices::replaying(|_| 0, &recorded);
        let a2: Vec<bool> = (0..50)
            .map(|_| again.chance(Stream::Network, 1, 10))
            .collect();
        assert_eq!(a, a2);
        assert_eq!(again.below(Stream::Test, 1000), b);
        assert_eq!(again.below(Stream::Test, 1000), 0);
        assert!(!again.chance(Stream::Network, 1, 10));
        assert_eq!(rec.faults(Stream::Network), again.faults(Stream::Network));
    }

    #[test]
    fn chance_keeps_the_rng_outcome() {
        // The rotation keeps labrpc's `x < n` outcome of the same RNG.
        let rec = Choices::recording(|_| 3);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..200 {
            let want = rng.random_range(0..1000u32) < 100;
            assert_eq!(rec.chance(Stream::Network, 100, 1000), want);
        }
    }

    #[test]
    fn peer_streams_replay_in_start_order_and_old_files_draw_from_seeds() {
        let rec = Choices::recording(|_| 1);
        let (a, b) = (rec.open_peer(11), rec.open_peer(12));
        let draws = |c: &Choices, s: Stream| -> Vec<u64> {
            (0..5)
                .map(|_| c.draw(s, |r| r.random_range(0..100), 99))
                .collect()
        };
        let (da, db) = (draws(&rec, a), draws(&rec, b));
        let recorded = rec.recorded();
        assert_eq!(recorded.peers, Some(vec![da.clone(), db.clone()]));
        // Replayed: the same values; past the end, 0.
        let again = Choices::replaying(|_| 0, &recorded);
        let (a2, b2) = (again.open_peer(0), again.open_peer(0));
        assert_eq!(draws(&again, a2), da);
        assert_eq!(draws(&again, b2), db);
        assert_eq!(draws(&again, a2), vec![0; 5]);
        // A file without the peers' draws: they come from the seeds again.
        let old = Recorded {
            peers: None,
            ..recorded
        };
        let from_seeds = Choices::replaying(|_| 0, &old);
        let (a3, b3) = (from_seeds.open_peer(11), from_seeds.open_peer(12));
        assert_eq!((draws(&from_seeds, a3), draws(&from_seeds, b3)), (da, db));
    }

    #[test]
    fn replayed_values_are_clamped() {
        let recorded = Recorded {
            test: vec![u64::MAX],
            ..Recorded::default()
        };
        let c = Choices::replaying(|_| 0, &recorded);
        assert_eq!(c.below(Stream::Test, 5), 4);
    }
}
