//! Why a test failed. Every message is the Go harness's text (spec 3.7, 3.8, 5, 7), so a
//! student can search the handout or the Go source for it. Go's messages that end in `\n`
//! are printed without it (Go's testing package adds the newline anyway).

use crate::cmd::{Cmd, DecodeError, go_list, go_value};

/// What an applier found wrong (spec 3.8, 3.9). Go exits the whole test binary on these
/// (`log.Fatalf`); this grader fails the current test at once instead.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApplyError {
    /// Two servers committed different values at one index.
    #[error("commit index={index} server={server} {} != server={other} {}", .value, go_value(.other_value))]
    Mismatch {
        /// The log index.
        index: u64,
        /// The server that just applied.
        server: usize,
        /// What it applied.
        value: Cmd,
        /// The server that had applied something else.
        other: usize,
        /// What that server applied.
        other_value: Option<Cmd>,
    },
    /// The previous index was never applied by this server (plain `applier`).
    #[error("server {server} apply out of order {index}")]
    OutOfOrder {
        /// The server.
        server: usize,
        /// The index it applied.
        index: u64,
    },
    /// The 2022+ applierSnap rule: each index must be exactly `lastApplied + 1`.
    #[error("server {server} apply out of order, expected index {expected}, got {got}")]
    OutOfOrderExpected {
        /// The server.
        server: usize,
        /// `lastApplied + 1`.
        expected: u64,
        /// The index it applied.
        got: u64,
    },
    /// A snapshot message without bytes.
    #[error("nil snapshot")]
    NilSnapshot,
    /// Snapshot bytes the harness did not produce.
    #[error("snapshot decode error")]
    SnapshotDecode(#[source] DecodeError),
    /// The snapshot's own last index differs from the message's `SnapshotIndex`.
    #[error("server {server} snapshot doesn't match m.SnapshotIndex")]
    SnapshotIndexMismatch {
        /// The server.
        server: usize,
    },
    /// Not in Go: the peer delivered a snapshot behind what it had already applied since it
    /// last started (an older InstallSnapshot installed): the service's state went back in
    /// time, though the commands after it pass Go's order checks.
    #[error(
        "server {server} delivered a snapshot at index {index} after it had applied index \
         {applied}: the service's state went back in time (a snapshot that does not go past \
         what a peer applied must be ignored, section 7); a key/value service would serve \
         stale reads"
    )]
    SnapshotBehind {
        /// The server.
        server: usize,
        /// The snapshot's index.
        index: u64,
        /// The last index it had applied (this incarnation, its restart snapshot included).
        applied: u64,
    },
    /// Not in Go (its commands are values): the peer applied bytes that are not a command the
    /// harness submitted.
    #[error("server {server} applied undecodable command bytes at index {index}")]
    Undecodable {
        /// The server.
        server: usize,
        /// The log index.
        index: u64,
        /// What went wrong.
        #[source]
        source: DecodeError,
    },
}

/// A test failure: Go's `t.Fatalf` messages, plus the grader's own (watchdog, panic).
#[derive(Debug, thiserror::Error)]
pub enum Fail {
    /// checkOneLeader: several leaders in one term.
    #[error("term {term} has {count} (>1) leaders")]
    MultipleLeaders {
        /// The term.
        term: u64,
        /// How many claim leadership.
        count: usize,
    },
    /// checkOneLeader: ten rounds without a leader.
    #[error("expected one leader, got none")]
    NoLeader,
    /// checkTerms.
    #[error("servers disagree on term")]
    TermsDisagree,
    /// checkNoLeader (2022+ text).
    #[error("expected no leader among connected servers, but {server} claims to be leader")]
    UnexpectedLeader {
        /// The server claiming leadership.
        server: usize,
    },
    /// nCommitted: two servers applied different values.
    #[error("committed values do not match: index {index}, {}, {}", go_value(.first), go_value(.second))]
    CommittedMismatch {
        /// The index.
        index: u64,
        /// One server's value.
        first: Option<Cmd>,
        /// Another's.
        second: Option<Cmd>,
    },
    /// wait: not enough servers applied the index in time.
    #[error("only {got} decided for index {index}; wanted {wanted}")]
    TooFewDecided {
        /// How many did.
        got: usize,
        /// The index.
        index: u64,
        /// How many were needed.
        wanted: usize,
    },
    /// one: no agreement within its time budget.
    #[error("one({cmd}) failed to reach agreement")]
    NoAgreement {
        /// The command.
        cmd: Cmd,
    },
    /// An applier's error (Go exits the process here).
    #[error("apply error: {0}")]
    Apply(ApplyError),
    /// start1 could not ingest the persisted snapshot.
    #[error("{0}")]
    Ingest(ApplyError),
    /// checkTimeout.
    #[error("test took longer than 120 seconds")]
    TimeLimit,
    /// TestInitialElection2A.
    #[error("term is {term}, but should be at least 1")]
    TermTooLow {
        /// The term seen.
        term: i64,
    },
    /// TestBasicAgree2B.
    #[error("some have committed before Start()")]
    CommittedBeforeStart,
    /// one() returned an unexpected index.
    #[error("got index {got} but expected {expected}")]
    WrongIndex {
        /// The index one() returned.
        got: u64,
        /// The index expected.
        expected: u64,
    },
    /// TestRPCBytes2B. `got` counts every RPC at gob's cost (see
    /// [`crate::harness::GOB_RPC_OVERHEAD`]).
    #[error(
        "too many RPC bytes; got {got}, expected {expected}\n\
         ({bincode} bytes on the wire + {rpcs} RPCs x {} bytes, gob's overhead per RPC, so \
         that the limit allows as many extra RPCs as Go's)",
        crate::harness::GOB_RPC_OVERHEAD
    )]
    TooManyBytes {
        /// Bytes since the first agreement, as gob would have counted them.
        got: u64,
        /// 3 x the payload.
        expected: u64,
        /// The bytes actually sent (bincode).
        bincode: u64,
        /// RPCs sent.
        rpcs: u64,
    },
    /// A leader's Start was refused.
    #[error("leader rejected Start()")]
    LeaderRejected,
    /// TestFailNoAgree2B's second leader refused Start.
    #[error("leader2 rejected Start()")]
    Leader2Rejected,
    /// Start returned the wrong index.
    #[error("expected index {expected}, got {got}")]
    ExpectedIndex {
        /// The index required.
        expected: u64,
        /// The index returned.
        got: u64,
    },
    /// TestFailNoAgree2B: index outside [2, 3].
    #[error("unexpected index {index}")]
    UnexpectedIndex {
        /// The index returned.
        index: u64,
    },
    /// Something committed without a majority.
    #[error("{count} committed but no majority")]
    CommittedWithoutMajority {
        /// How many servers applied it.
        count: usize,
    },
    /// TestConcurrentStarts2B: a committed value is not an int.
    #[error("value {} is not an int", go_value(.value))]
    NotAnIntValue {
        /// The value.
        value: Option<Cmd>,
    },
    /// TestConcurrentStarts2B: a command is missing.
    #[error("cmd {cmd} missing in {}", go_list(.committed))]
    CmdMissing {
        /// The missing command.
        cmd: i64,
        /// What was committed.
        committed: Vec<i64>,
    },
    /// Five tries each saw a term change.
    #[error("term changed too often")]
    TermChangedTooOften,
    /// TestCount2B: election RPCs.
    #[error("too many or few RPCs ({count}) to elect initial leader")]
    ElectionRpcs {
        /// RPCs delivered so far.
        count: u64,
    },
    /// TestCount2B: indices not consecutive.
    #[error("Start() failed")]
    StartFailed,
    /// TestCount2B: wrong value committed.
    #[error("wrong value {} committed for index {index}; expected {}", go_value(.value), go_list(.expected))]
    WrongValue {
        /// What was committed.
        value: Option<Cmd>,
        /// The index.
        index: u64,
        /// The commands submitted (Go prints the whole list).
        expected: Vec<i64>,
    },
    /// TestCount2B: agreement RPCs.
    #[error("too many RPCs ({count}) for {entries} entries")]
    AgreementRpcs {
        /// RPCs used.
        count: u64,
        /// Entries agreed.
        entries: u64,
    },
    /// TestCount2B: idle RPCs.
    #[error("too many RPCs ({count}) for 1 second of idleness")]
    IdleRpcs {
        /// RPCs in one idle second.
        count: u64,
    },
    /// Churn client: a committed value is not an int.
    #[error("wrong command type")]
    WrongCommandType,
    /// Churn: a client did not report.
    #[error("client failed")]
    ClientFailed,
    /// Churn: a committed value is not an int.
    #[error("not an int")]
    NotAnInt,
    /// Churn: a value a client saw committed is missing.
    #[error("didn't find a value")]
    ValueNotFound,
    /// snapcommon: the persisted Raft state is too large.
    #[error("Log size too large")]
    LogTooLarge,
    /// TestSnapshotAllCrash2D.
    #[error("index decreased from {from} to {to}")]
    IndexDecreased {
        /// Before the crash.
        from: u64,
        /// After.
        to: u64,
    },
    /// Extra suite: a restarted voter lost the term it voted in.
    #[error(
        "peer {peer} restarted with term {after}, below term {before} in which it had just \
         voted: currentTerm and votedFor must be persisted before answering (Figure 2)"
    )]
    ForgotTerm {
        /// The voter.
        peer: usize,
        /// The term it voted in.
        before: u64,
        /// Its term after the restart.
        after: u64,
    },
    /// Extra suite: a restarted voter lost its vote.
    #[error(
        "peer {peer} restarted in term {term} without its vote for peer {leader}: votedFor \
         must be persisted before answering, or it can vote twice in one term (Figure 2, §5.2)"
    )]
    ForgotVote {
        /// The voter.
        peer: usize,
        /// The term.
        term: u64,
        /// Who it had voted for.
        leader: usize,
    },
    /// Extra suite: a leader ignored a higher term in replies.
    #[error(
        "peer {peer} still leads term {term} after replies carrying term {newer}: a reply \
         with a higher term must make a leader step down (§5.1)"
    )]
    IgnoredHigherTerm {
        /// The stale leader.
        peer: usize,
        /// Its term.
        term: u64,
        /// The term the others moved to.
        newer: u64,
    },
    /// Extra suite: the Figure 8 commit rule.
    #[error(
        "index {index}, an entry of an earlier term, was committed ({count} peers applied it) \
         by counting replicas before any entry of the leader's own term: a peer that never \
         saw it could still be elected and overwrite it (Figure 8, §5.4.2)"
    )]
    OldTermCommitted {
        /// The index.
        index: u64,
        /// How many peers applied it.
        count: usize,
    },
    /// Extra suite: a follower caught up over a compacted log without a snapshot reaching
    /// its apply channel.
    #[error(
        "peer {peer} caught up, but no snapshot reached its apply channel, although the \
         leader had snapshotted past its log: the leader must send its snapshot \
         (InstallSnapshot) and the follower must deliver it as ApplyMsg::Snapshot (2D)"
    )]
    NoInstallSnapshot {
        /// The lagging follower.
        peer: usize,
    },
    /// Extra suite: stale duplicates of the requests that caught a follower up (its
    /// InstallSnapshot among them) rolled it back.
    #[error(
        "stale duplicates of the requests that caught peer {peer} up (its InstallSnapshot \
         among them) changed it: {what} (§7: a snapshot that does not go past what the \
         follower has must be ignored; Figure 2: an AppendEntries whose entries the follower \
         already has must not truncate its log)"
    )]
    StaleSnapshotChanged {
        /// The follower.
        peer: usize,
        /// What went back.
        what: String,
    },
    /// Extra suite: a performance expectation missed, not a safety violation: the backup
    /// over a divergent follower took too many round trips.
    #[error(
        "performance, not safety: catching peer {peer} up over 50 conflicting entries of one \
         term took {requests} requests from the new leader (the lab expects at most {limit}) \
         and {millis} ms (at most 3000): the log is correct, but backing up one entry per \
         round trip is too slow for the lab's timing tests; back up by conflicting term (§5.3, \
         last paragraphs; the XTerm/XIndex/XLen hints)"
    )]
    SlowBackup {
        /// The follower.
        peer: usize,
        /// Requests it received from the peer that sent it the most (the new leader).
        requests: u64,
        /// The limit, [`crate::suites::extra::BACKUP_REQUESTS_LIMIT`].
        limit: u64,
        /// Wall or virtual milliseconds from its reconnection until it applied the command.
        millis: u64,
    },
    /// The harness could not configure the simulated network (a harness or labrpc-sim bug).
    #[error("harness network error: {0}")]
    Net(#[from] labrpc_sim::NetError),
    /// Not a failure: one() stops quietly once the test is finishing (2022+).
    #[error("test is finishing")]
    Finishing,
    /// The grader's wall-clock watchdog gave up on a test that gave no result.
    #[error(
        "no result after {secs} s of wall-clock time: the test is stuck, and its thread was \
         abandoned{known}"
    )]
    Stuck {
        /// The wall-clock seconds waited.
        secs: u64,
        /// What is known of what it was doing (lines that start with a newline; see
        /// `stuck`).
        known: String,
    },
    /// A Raft safety property broke (checked on what peers show through
    /// [`lab_api::LabRaft::inspect`]).
    #[error("{0}")]
    Safety(crate::invariants::Violation),
    /// A peer (or the harness) panicked, anywhere on the test's threads: in a task, an RPC
    /// handler or a call the harness made. The record names the peer when the grader can tell.
    #[error("{0}")]
    PeerPanicked(crate::panics::PanicHandle),
    /// A failure of a suite outside this crate (Lab 4's, in `kv-grader`), with its own typed
    /// error and message.
    #[error("{0}")]
    Suite(Box<dyn std::error::Error + Send + Sync>),
    /// The test's thread panicked (in the harness or in the peer code it called).
    #[error("panic: {message}")]
    Panicked {
        /// The panic payload, if it was a string.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_go() {
        let f = Fail::MultipleLeaders { term: 3, count: 2 };
        assert_eq!(f.to_string(), "term 3 has 2 (>1) leaders");
        let f = Fail::Apply(ApplyError::OutOfOrderExpected {
            server: 1,
            expected: 5,
            got: 7,
        });
        assert_eq!(
            f.to_string(),
            "apply error: server 1 apply out of order, expected index 5, got 7"
        );
        let f = Fail::Apply(ApplyError::Mismatch {
            index: 4,
            server: 0,
            value: Cmd::Int(1),
            other: 2,
            other_value: Some(Cmd::Int(9)),
        });
        assert_eq!(
            f.to_string(),
            "apply error: commit index=4 server=0 1 != server=2 9"
        );
        let f = Fail::CommittedMismatch {
            index: 2,
            first: None,
            second: Some(Cmd::Int(3)),
        };
        assert_eq!(
            f.to_string(),
            "committed values do not match: index 2, <nil>, 3"
        );
        let f = Fail::CmdMissing {
            cmd: 103,
            committed: vec![100, 101],
        };
        assert_eq!(f.to_string(), "cmd 103 missing in [100 101]");
        assert_eq!(
            Fail::TimeLimit.to_string(),
            "test took longer than 120 seconds"
        );
        let f = Fail::UnexpectedLeader { server: 2 };
        assert_eq!(
            f.to_string(),
            "expected no leader among connected servers, but 2 claims to be leader"
        );
        assert_eq!(
            Fail::NoAgreement { cmd: Cmd::Int(101) }.to_string(),
            "one(101) failed to reach agreement"
        );
    }
}
