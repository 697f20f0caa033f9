//! Persistence (2C) and the snapshot it carries along (2D).
//!
//! # Part 2C: persistence
//!
//! Goal: a peer that crashes and restarts from its persister rejoins with the same
//! `current_term`, `voted_for` and log, so it never votes twice in a term and never forgets
//! an entry it acknowledged. The grader crashes peers at any moment, including between your
//! handler's last line and its reply leaving, so the rule is: **persist before you reply or
//! send anything that depends on the new state** (a vote, a success, a term).
//!
//! What to do:
//! 1. `persist()`: encode the three persistent fields and save them with
//!    `self.persister.save(state_bytes, snapshot_bytes)`. The encoding is yours; bincode
//!    through `labrpc_sim::codec::encode` on a small `#[derive(Serialize, Deserialize)]`
//!    struct is the easiest.
//! 2. `read_persist()`: the reverse, called by `make`. An empty persister (first boot) leaves
//!    the initial state. Bytes that do not decode are a bug in your encoder: leave the state
//!    as it is rather than panic.
//! 3. Call `persist()` wherever `current_term`, `voted_for` or the log changes, while you
//!    still hold the lock (so the saved state is the state you reply from).
//!
//! Pitfalls: the 2C "Figure 8" tests also catch commit bugs from 2B (commit only entries of
//! the current term by counting replicas); the unreliable tests punish a leader that backs up
//! one entry per round trip (use the `x_*` hints of `AppendEntriesReply`).
//!
//! # Part 2D: snapshots
//!
//! Goal: the service periodically hands over a snapshot (`snapshot()` in raft.rs) and Raft
//! discards the log it covers; a follower too far behind gets the leader's snapshot through
//! InstallSnapshot (rpc.rs). Persisted raft state must stay small (the tests check it under
//! 2000 bytes), so the log really must be trimmed.
//!
//! Pitfalls: every index computation now goes through the log's offset (keep it in one or two
//! helper functions); save the snapshot with the state in **one** `save` call, every time
//! (saving an empty snapshot erases the old one); after a restart read the snapshot back and
//! start `commit_index`/`last_applied` at its last included index.

use crate::Raft;

impl Raft {
    /// Saves `current_term`, `voted_for`, the log and the current snapshot (2C, 2D). Call it
    /// with the state lock held, passing the locked state.
    // Called by the code you write in 2C; nothing calls it in the skeleton.
    #[allow(dead_code)]
    pub(crate) fn persist(&self, state: &crate::raft::State) {
        // TODO(2C): encode (state.current_term, state.voted_for, &state.log) and call
        // self.persister.save(encoded, state.snapshot.clone()).
        let _ = state;
    }

    /// Restores the persistent state saved by [`Raft::persist`], if any (2C), and the snapshot
    /// (2D). Called once by `make`, before the background tasks start.
    pub(crate) fn read_persist(&self) {
        let data = self.persister.read_raft_state();
        // An empty persister means a first boot: keep the initial state.
        if !data.is_empty() {
            // TODO(2C): decode `data` (for example with labrpc_sim::codec::decode) and store
            // the fields into `self.state()`. On a decode error, keep the initial state.
        }
        // TODO(2D): also read `self.persister.read_snapshot()` into State::snapshot and move
        // commit_index and last_applied up to the snapshot's last included index.
    }
}
