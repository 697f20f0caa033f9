//! Why a Lab 4 test failed: the 2026 tester's messages, byte for byte (spec sections 3-6),
//! with Go's printer: `Fatal: ` for the tester's own `Fatalf`, none for `t.Fatalf`. The
//! grader's own messages (watchdogs, the checker's budget) say what they are.

use std::time::Duration;

use kv_api::{KvError, Version};

use crate::format::{go_duration, go_quote};

/// A Lab 4 test failure (becomes the grader's `Fail::Suite`).
#[derive(Debug, Clone, thiserror::Error)]
pub enum KvFail {
    /// TestBasic4A, TestRestartReplay4A, TestRestartSubmit4A: Submit's counter is not the
    /// one expected (Go prints the loop index, not the expected count).
    #[error("expected {i} instead of {got}")]
    ExpectedInstead {
        /// Go's loop index.
        i: u64,
        /// The counter Submit returned.
        got: i64,
    },
    /// checkCounter.
    #[error("Fatal: checkCounter: only {n} srvs have {v} instead of {nsrv}")]
    CheckCounter {
        /// Servers with the value.
        n: usize,
        /// The value.
        v: i64,
        /// Servers required.
        nsrv: usize,
    },
    /// TestLeaderPartition4A: a Submit on the isolated leader returned OK.
    #[error("Submit {i} in minority completed {rep}")]
    MinoritySubmitCompleted {
        /// Which of the 100.
        i: usize,
        /// Its reply, as Go prints it.
        rep: String,
    },
    /// TestLeaderPartition4A: all Submits on the isolated leader returned before the heal.
    #[error("Fatal: Dec's in minority completed; Submit returns {{}}")]
    MinorityDecsCompleted,
    /// TestLeaderPartition4A: the isolated leader's Submits did not return after the heal.
    #[error("Fatal: Submit after healing didn't return")]
    NotReturnedAfterHeal,
    /// TestLeaderPartition4A: the majority committed nothing in 10 s (Go panics on the nil
    /// reply here).
    #[error(
        "no server of the majority {p:?} committed Inc within 10 s (Go's tester panics on \
         the missing reply here)"
    )]
    MajorityNoReply {
        /// The majority's servers.
        p: Vec<usize>,
    },
    /// A Submit answered with the reply of another kind of request (Go's tester panics on
    /// its type assertion here).
    #[error("Submit({req}) returned {rep}, the reply of another kind of request")]
    WrongReply {
        /// The request.
        req: String,
        /// The reply.
        rep: String,
    },
    /// TestLeaderFailure4A: `oneInc` gave up. Go's test goes on with the zero reply and then
    /// passes vacuously (every counter is still 0), so a layer that never commits anything
    /// would pass it; a correct one is always answered OK within the 10 s (a deviation).
    #[error(
        "no server answered Submit(Inc) with OK within {}s: oneInc gave up (Go's tester would go on with the zero reply and pass this test vacuously)",
        .after.as_secs()
    )]
    IncGaveUp {
        /// How long oneInc tried.
        after: Duration,
    },
    /// TestRestartReplay4A.
    #[error("expected {expected} got {got}")]
    ExpectedGot {
        /// 101.
        expected: i64,
        /// The counter.
        got: i64,
    },
    /// TestRestartSubmit4A (capital E, as in Go).
    #[error("Expected {expected} got {got}")]
    CapitalExpectedGot {
        /// 101.
        expected: i64,
        /// The counter.
        got: i64,
    },
    /// TestShutdown4A, TestRestartSubmit4A.
    #[error("Fatal: Submit didn't stop after shutdown")]
    SubmitDidNotStop,
    /// rsm TestSnapshot4C.
    #[error("Fatal: logs were not trimmed ({size} > 2 * {max})")]
    RsmLogsNotTrimmed {
        /// The largest Raft state.
        size: usize,
        /// maxraftstate.
        max: usize,
    },
    /// GenericTest, TestSnapshotRPC4C, TestSnapshotSize4C.
    #[error("logs were not trimmed ({size} > 8*{max})")]
    LogsNotTrimmed {
        /// The largest Raft state.
        size: usize,
        /// maxraftstate.
        max: usize,
    },
    /// GenericTest with maxraftstate -1.
    #[error("snapshot too large ({size}), should not be used when maxraftstate = -1")]
    SnapshotWithoutMax {
        /// The largest snapshot.
        size: usize,
    },
    /// TestSnapshotSize4C.
    #[error("snapshot too large ({size} > 500)")]
    SnapshotTooLarge {
        /// The largest snapshot.
        size: usize,
    },
    /// PutAtLeastOnce.
    #[error("Fatal: Put {key} ver {ver} err {err}")]
    PutAtLeastOnce {
        /// The key.
        key: String,
        /// The version tried.
        ver: Version,
        /// The error.
        err: KvError,
    },
    /// CheckGet: an error.
    #[error("Fatal: Get({key}) returns error = {err}")]
    CheckGetError {
        /// The key.
        key: String,
        /// The error.
        err: KvError,
    },
    /// CheckGet: another value or version.
    #[error("Fatal: Get({key}) returns ({value}, {version}) != ({want_value}, {want_version})")]
    CheckGetMismatch {
        /// The key.
        key: String,
        /// What Get returned.
        value: String,
        /// Its version.
        version: Version,
        /// What was expected.
        want_value: String,
        /// Its version.
        want_version: Version,
    },
    /// CheckPutConcurrent.
    #[error("Fatal: {}: Wrong number of puts: server {server} clnts {{{nok} {nmaybe}}}", if *.reliable { "Reliable" } else { "Unreliable" })]
    WrongNumberOfPuts {
        /// Whether the reliable rule (exactly Nok) applied.
        reliable: bool,
        /// The key's version on the servers.
        server: Version,
        /// OK Puts so far.
        nok: u64,
        /// ErrMaybe Puts so far.
        nmaybe: u64,
    },
    /// GetJson: the value is not an entry.
    #[error("Fatal: Unmarshal err {ver}")]
    Unmarshal {
        /// The version Go prints (not the error).
        ver: Version,
    },
    /// GetJson: an error.
    #[error("Fatal: {me}: Get {} err {err}", go_quote(.key))]
    GetJson {
        /// The client.
        me: i64,
        /// The key.
        key: String,
        /// The error.
        err: KvError,
    },
    /// OnePut: Put returned neither OK, ErrVersion nor ErrMaybe.
    #[error("Fatal: Wrong error {err}")]
    WrongError {
        /// The error.
        err: KvError,
    },
    /// OnePut: the read-back shows another client's value after an OK Put.
    #[error("Fatal: Wrong value {{{id} {v}}}")]
    WrongValue {
        /// The entry's client.
        id: i64,
        /// The entry's version.
        v: Version,
    },
    /// The speed tests: a Put failed.
    #[error("Put err {}", KvError::go_name(.0))]
    SpeedPut(Result<(), KvError>),
    /// The speed tests: the final Get failed.
    #[error("Get err {err}")]
    SpeedGet {
        /// The error.
        err: KvError,
    },
    /// The speed tests: the final version.
    #[error("Get too few ops {ver}")]
    TooFewOps {
        /// The version.
        ver: Version,
    },
    /// The speed tests: too slow.
    #[error("Operations completed too slowly {}/op > {}/op", go_duration(*.per_op), go_duration(*.bound))]
    TooSlow {
        /// The time per operation.
        per_op: Duration,
        /// 33.333333 ms.
        bound: Duration,
    },
    /// TestOnePartition4B.
    #[error("Put in minority completed with version = {ver}")]
    MinorityPutCompleted {
        /// The version it returned.
        ver: Version,
    },
    /// TestOnePartition4B.
    #[error("Get in minority completed with version = {ver}")]
    MinorityGetCompleted {
        /// The version it returned.
        ver: Version,
    },
    /// TestOnePartition4B.
    #[error("Put did not complete")]
    PutDidNotComplete,
    /// The linearizability check found no linearization (Go: `history is not linearizable`),
    /// with the checker's explanation.
    #[error("history is not linearizable\n{explanation}")]
    NotLinearizable {
        /// The key, the operation that cannot be placed, the minimal failing sub-history.
        explanation: String,
    },
    /// Strict mode: the checker ran out of its step budget.
    #[error(
        "linearizability check gave no verdict within its budget of {budget} steps; strict \
         mode (the grade command's) counts that as a failure"
    )]
    CheckUnknown {
        /// The step budget.
        budget: u64,
    },
    /// A grader watchdog (not in Go, which hangs here): an operation did not return.
    #[error(
        "{what} has not returned after {} s of virtual time: the request is stuck (Go's \
         tester would hang here until its 10-minute timeout)",
        .after.as_secs()
    )]
    Stuck {
        /// The operation and its client or server.
        what: String,
        /// How long it was given.
        after: Duration,
    },
}

impl From<KvFail> for grader::fail::Fail {
    fn from(f: KvFail) -> Self {
        grader::fail::Fail::Suite(Box::new(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_go() {
        assert_eq!(
            KvFail::ExpectedInstead { i: 0, got: 0 }.to_string(),
            "expected 0 instead of 0"
        );
        assert_eq!(
            KvFail::WrongNumberOfPuts {
                reliable: true,
                server: 3,
                nok: 2,
                nmaybe: 1
            }
            .to_string(),
            "Fatal: Reliable: Wrong number of puts: server 3 clnts {2 1}"
        );
        assert_eq!(
            KvFail::MinorityDecsCompleted.to_string(),
            "Fatal: Dec's in minority completed; Submit returns {}"
        );
        assert_eq!(
            KvFail::GetJson {
                me: -1,
                key: "k".into(),
                err: KvError::NoKey
            }
            .to_string(),
            "Fatal: -1: Get \"k\" err ErrNoKey"
        );
        assert_eq!(
            KvFail::TooSlow {
                per_op: Duration::from_millis(40),
                bound: Duration::from_nanos(33_333_333)
            }
            .to_string(),
            "Operations completed too slowly 40ms/op > 33.333333ms/op"
        );
        assert_eq!(
            KvFail::WrongValue { id: 3, v: 7 }.to_string(),
            "Fatal: Wrong value {3 7}"
        );
    }
}
