//! The ticker: the one task that decides when to start an election (2A) and when a leader
//! sends heartbeats (2A) and new entries (2B).
//!
//! # Part 2A: leader election
//!
//! Goal: a single leader is elected, stays leader while nothing fails, and a new one takes
//! over within five seconds when it fails or is cut off. No log entries yet.
//!
//! A suggested order:
//! 1. `get_state()` in raft.rs: report `current_term` and whether the role is leader.
//! 2. `request_vote()` in rpc.rs: the voter's side (see its comments).
//! 3. Here: a follower or candidate whose `election_deadline` has passed starts an election:
//!    increment `current_term`, become candidate, vote for itself, pick a fresh random
//!    deadline, and send [`RequestVoteArgs`](crate::RequestVoteArgs) to every other peer,
//!    each from its own spawned task (see [`Raft::send_request_vote`]). A candidate that
//!    counts votes from a majority (itself included) **in the same term, still as candidate**
//!    becomes leader and sends heartbeats at once.
//! 4. A leader sends an empty AppendEntries to every other peer every
//!    [`HEARTBEAT_INTERVAL`]; `append_entries()` in rpc.rs accepts it, which keeps followers
//!    from starting elections.
//!
//! Pitfalls:
//! - Any RPC request or reply carrying a term above yours: adopt that term, become follower,
//!   forget your vote. Ignore replies that arrive after your term or role changed.
//! - Reset the election timer only when you grant a vote, accept an AppendEntries from the
//!   leader of your current term, or start an election. Resetting it on every RPC lets a
//!   cut-off peer with a stale log hold up elections forever.
//! - Never hold the state lock while awaiting an RPC: copy what you need into the args, drop
//!   the guard, then spawn and await.
//! - Heartbeats at most ten per second per follower (the 2B test "RPC counts aren't too high"
//!   counts them), so election timeouts must be several heartbeat intervals long, yet short
//!   enough that a new leader appears well within five seconds even after a split vote.
//! - Stop when killed: check [`Raft::killed`] on every turn of every loop.
//!
//! # Part 2B: replication from the ticker
//!
//! The leader's heartbeat carries, for each follower, the entries from `next_index[peer]` on
//! (a heartbeat is just an AppendEntries that happens to have nothing to send). On a
//! successful reply raise `match_index`/`next_index`; on a refusal move `next_index` back
//! (one entry at a time works, the `x_*` hints of the reply are faster) and try again. After
//! `match_index` moves, advance `commit_index` to the highest index stored on a majority
//! **whose entry has the current term** (the paper's Figure 8 shows why an older-term entry
//! must not be committed by counting), then wake the applier.
//!
//! # Determinism
//!
//! The grader runs your peers on one thread with a virtual clock: time jumps ahead whenever
//! every task is waiting. So: wait only with `tokio::time` (never `std::thread::sleep`), draw
//! random timeouts only from `State::rng`, write `biased;` in every `tokio::select!`, and
//! iterate over `Vec`s or `BTreeMap`s, never `HashMap`s. Then a run is a function of its seed
//! and a failing seed replays exactly.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::Raft;

/// How often the ticker wakes to look at the clock. Short enough for timely elections, long
/// enough that an idle cluster costs almost nothing.
pub const TICK: Duration = Duration::from_millis(10);

/// How often a leader sends heartbeats. The lab allows at most ten per second.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(100);

/// The shortest election timeout. The lab's tester expects a new leader within five seconds;
/// a few heartbeat intervals is a good start. Tune it and measure.
pub const ELECTION_TIMEOUT_MIN: Duration = Duration::from_millis(300);

/// The longest election timeout (exclusive). The spread between min and max is what breaks
/// split votes: the wider it is, the less likely two peers time out together.
pub const ELECTION_TIMEOUT_MAX: Duration = Duration::from_millis(600);

/// A fresh random election timeout in [`ELECTION_TIMEOUT_MIN`, `ELECTION_TIMEOUT_MAX`), drawn
/// from the peer's seeded RNG (pass `&mut state.rng`).
pub fn random_election_timeout(rng: &mut ChaCha8Rng) -> Duration {
    rng.random_range(ELECTION_TIMEOUT_MIN..ELECTION_TIMEOUT_MAX)
}

/// The ticker task, spawned by `make`. As shipped it only sleeps until the peer is killed.
pub(crate) async fn ticker(raft: Arc<Raft>) {
    while !raft.killed() {
        tokio::select! {
            biased;
            () = raft.until_killed() => break,
            () = tokio::time::sleep(TICK) => {}
        }
        // TODO(2A): lock the state and look at the clock (`tokio::time::Instant::now()`):
        // - a leader whose last heartbeat is HEARTBEAT_INTERVAL old sends the next round;
        // - anyone else whose `election_deadline` has passed starts an election.
        // Build the RPC args under the lock, drop the lock, then spawn one task per peer
        // (`tokio::spawn(async move { ... raft.send_request_vote(peer, &args).await ... })`)
        // and handle each reply under the lock again, re-checking term and role first.
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn election_timeouts_stay_in_range_and_follow_the_seed() {
        let mut a = ChaCha8Rng::seed_from_u64(7);
        let mut b = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..1000 {
            let t = random_election_timeout(&mut a);
            assert!(
                (ELECTION_TIMEOUT_MIN..ELECTION_TIMEOUT_MAX).contains(&t),
                "{t:?}"
            );
            assert_eq!(t, random_election_timeout(&mut b));
        }
        // Heartbeats at most 10 per second, and several of them fit in an election timeout.
        assert!(HEARTBEAT_INTERVAL >= Duration::from_millis(100));
        assert!(ELECTION_TIMEOUT_MIN >= 2 * HEARTBEAT_INTERVAL);
    }
}
