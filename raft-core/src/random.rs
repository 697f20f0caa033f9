//! Where the core's randomness comes from: the election timeout is "chosen randomly from a
//! fixed interval" (5.2), so that split votes are rare. The core asks a [`Draw`] for each
//! timeout; a runtime that records its random choices (the lab grader does) hands in its own,
//! and [`Raft::new`](crate::Raft::new) uses a generator seeded by the caller.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A source of uniform numbers for the election timeouts (5.2).
pub trait Draw: Send {
    /// A number in `0..n`, uniform (`n > 0`).
    fn below(&mut self, n: u32) -> u32;
}

impl Draw for ChaCha8Rng {
    fn below(&mut self, n: u32) -> u32 {
        self.random_range(0..n)
    }
}
