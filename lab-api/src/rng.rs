//! [`PeerRng`]: where a peer's random numbers come from.

use std::ops::Range;
use std::time::Duration;

use labrpc_sim::{Choices, Stream};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A peer's source of random numbers (its election timeouts), handed to it in
/// [`crate::PeerArgs::rng`]. Draw every random number of your peer from it, and from nothing
/// else: then a virtual-time run is a function of its seed, and more than that, each draw is
/// one recorded choice of the run (`choices.json`), so the run can be replayed from its
/// choices and a failure shrunk, a long election timeout made short like a dropped message
/// made delivered.
///
/// In the grader's own process each draw is a choice of the run (a stream per peer
/// incarnation, recorded or replayed); a peer in a process of its own (process mode, real
/// time) gets a seeded generator. Either way the same seed draws the same numbers, and
/// **the smallest outcome is the simplest**: a range's draw of choice 0 is its start (the
/// shortest timeout), which is where shrinking moves draws to.
pub struct PeerRng(Source);

enum Source {
    /// A ChaCha8 generator seeded from the peer's seed.
    Seeded(Box<ChaCha8Rng>),
    /// A stream of the run's choices.
    Choices { choices: Choices, stream: Stream },
}

impl PeerRng {
    /// A generator seeded with `seed`: what a peer outside the grader's process gets, and
    /// what a test of your own can hand to `make`.
    pub fn seeded(seed: u64) -> PeerRng {
        PeerRng(Source::Seeded(Box::new(ChaCha8Rng::seed_from_u64(seed))))
    }

    /// The next peer incarnation's stream of the run's `choices` (opened now, so make one per
    /// incarnation, in the order the peers are started), whose generator is seeded with
    /// `seed`, the incarnation's [`crate::PeerArgs::seed`]: recording, it draws exactly what
    /// [`PeerRng::seeded`] with that seed draws.
    pub fn from_choices(choices: &Choices, seed: u64) -> PeerRng {
        let stream = choices.open_peer(seed);
        PeerRng(Source::Choices {
            choices: choices.clone(),
            stream,
        })
    }

    /// A number in `range`, uniform (`range.start` when it is empty). The simplest outcome is
    /// `range.start`.
    pub fn range(&mut self, range: Range<u64>) -> u64 {
        let Some(width) = range.end.checked_sub(range.start).filter(|w| *w > 0) else {
            return range.start;
        };
        let offset = match &mut self.0 {
            Source::Seeded(rng) => below(rng, width),
            Source::Choices { choices, stream } => {
                choices.draw(*stream, |rng| below(rng, width), width - 1)
            }
        };
        range.start + offset
    }

    /// A duration in `range`, uniform to the microsecond (`range.start` when the range holds
    /// less than a microsecond). The simplest outcome is `range.start`: the shortest timeout.
    pub fn duration(&mut self, range: Range<Duration>) -> Duration {
        let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let width = micros(range.end.saturating_sub(range.start));
        range.start + Duration::from_micros(self.range(0..width))
    }
}

/// A uniform number in `0..n` (`n > 0`): drawn as a u32 when it fits, so that a range of u32
/// draws what `rng.random_range` of that u32 range draws (the reference Raft's election
/// timeouts come out as they did before the peers' draws were recorded).
fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    match u32::try_from(n) {
        Ok(n) => u64::from(rng.random_range(0..n)),
        Err(_) => rng.random_range(0..n),
    }
}

impl std::fmt::Debug for PeerRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Source::Seeded(_) => f.write_str("PeerRng::seeded"),
            Source::Choices { stream, .. } => write!(f, "PeerRng::from_choices({stream:?})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_draw_what_the_seed_draws_and_replay_it() {
        let choices = Choices::recording(|_| 0);
        let mut recorded = PeerRng::from_choices(&choices, 42);
        let mut seeded = PeerRng::seeded(42);
        let a: Vec<u64> = (0..20).map(|_| recorded.range(150..300)).collect();
        let b: Vec<u64> = (0..20).map(|_| seeded.range(150..300)).collect();
        assert_eq!(a, b);
        assert!(a.iter().all(|v| (150..300).contains(v)));
        // Replayed from the record, and past its end the simplest: the range's start.
        let again = Choices::replaying(|_| 0, &choices.recorded());
        let mut replayed = PeerRng::from_choices(&again, 0);
        let c: Vec<u64> = (0..20).map(|_| replayed.range(150..300)).collect();
        assert_eq!(a, c);
        assert_eq!(replayed.range(150..300), 150);
        assert_eq!(
            replayed.duration(Duration::from_millis(300)..Duration::from_millis(600)),
            Duration::from_millis(300)
        );
    }

    #[test]
    fn the_same_draws_as_rand_for_a_u32_range() {
        let mut ours = PeerRng::seeded(9);
        let mut theirs = ChaCha8Rng::seed_from_u64(9);
        for _ in 0..100 {
            let want = u64::from(theirs.random_range(10u32..20));
            assert_eq!(ours.range(10..20), want);
        }
    }

    #[test]
    fn empty_ranges_draw_nothing() {
        let choices = Choices::recording(|_| 0);
        let mut rng = PeerRng::from_choices(&choices, 1);
        assert_eq!(rng.range(5..5), 5);
        assert_eq!(rng.duration(Duration::ZERO..Duration::ZERO), Duration::ZERO);
        assert_eq!(choices.recorded().peers, Some(vec![vec![]]));
    }
}
