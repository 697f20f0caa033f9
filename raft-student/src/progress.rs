//! Your progress through the lab. **Flip a constant to `true` when you have finished that
//! part.** The grader prints the message of every part still marked unfinished when a test
//! fails, so that an unfinished peer fails with a hint instead of a bare timeout.
//!
//! Be honest with these: a part you marked done but that still fails gets no hint.

/// Part 2A, leader election, is written.
pub const DONE_2A: bool = false;
/// Part 2B, log replication, is written.
pub const DONE_2B: bool = false;
/// Part 2C, persistence, is written.
pub const DONE_2C: bool = false;
/// Part 2D, snapshots, is written.
pub const DONE_2D: bool = false;

/// Each part's flag and the hint the grader shows while the flag is `false`.
const PARTS: [(bool, &str); 4] = [
    (
        DONE_2A,
        "2A: leader election is not written yet: fill in get_state() and ticker() (raft.rs), \
         request_vote() and the heartbeat side of append_entries() (rpc.rs), then set DONE_2A \
         in progress.rs",
    ),
    (
        DONE_2B,
        "2B: log replication is not written yet: fill in start(), replication in ticker() and \
         applier() (raft.rs), and append_entries() (rpc.rs), then set DONE_2B in progress.rs",
    ),
    (
        DONE_2C,
        "2C: persistence is not written yet: fill in persist() and read_persist() (raft.rs) \
         and call persist() wherever the persistent state changes, then set DONE_2C in \
         progress.rs",
    ),
    (
        DONE_2D,
        "2D: snapshots are not written yet: fill in snapshot() (raft.rs) and \
         install_snapshot() (rpc.rs), then set DONE_2D in progress.rs",
    ),
];

/// The hints of every part not yet marked done, in part order.
pub fn missing() -> Vec<&'static str> {
    PARTS
        .iter()
        .filter(|(done, _)| !done)
        .map(|(_, hint)| *hint)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unfinished_part_has_a_hint_that_names_it() {
        let missing = missing();
        for (part, done) in [
            ("2A", DONE_2A),
            ("2B", DONE_2B),
            ("2C", DONE_2C),
            ("2D", DONE_2D),
        ] {
            let listed = missing.iter().any(|hint| hint.starts_with(part));
            assert_eq!(listed, !done, "part {part}");
        }
    }
}
