//! The 28 tests as data, in the Go source order of each part (2023+ lists and titles).
//!
//! One file per part: `part_2a` (election), `part_2b` (replication), `part_2c` (persistence),
//! `part_2d` (snapshots). Each test is an async fn generic over the peer type, named after the
//! Go test (`TestInitialElection2A` is `initial_election_2a`), whose doc comment gives the Go
//! test's purpose and its numbered steps.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use lab_api::LabRaft;

use crate::fail::Fail;
use crate::harness::TestContext;

pub mod extra;
pub mod part_2a;
pub mod part_2b;
pub mod part_2c;
pub mod part_2d;

/// A lab part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    /// 2A: leader election.
    A,
    /// 2B: log replication.
    B,
    /// 2C: persistence.
    C,
    /// 2D: log compaction.
    D,
    /// The extra suite: targeted scenarios for bugs the 28 tests miss (not part of `all`).
    Extra,
    /// 4A: the replicated state machine (rsm) of Lab 4 (the `kv-grader` crate's suites).
    KvA,
    /// 4B: the fault-tolerant key/value service without snapshots.
    KvB,
    /// 4C: the key/value service with snapshots.
    KvC,
}

impl Part {
    /// Every part, in order: the Raft lab's, then Lab 4's (what `all` runs of the parts a
    /// grader was built with; the extra suite is not one).
    pub const ALL: [Part; 7] = [
        Part::A,
        Part::B,
        Part::C,
        Part::D,
        Part::KvA,
        Part::KvB,
        Part::KvC,
    ];
    /// The Raft lab's parts, 2A-2D.
    pub const RAFT: [Part; 4] = [Part::A, Part::B, Part::C, Part::D];
    /// Lab 4's parts, 4A-4C.
    pub const KV: [Part; 3] = [Part::KvA, Part::KvB, Part::KvC];
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Part::A => "2A",
            Part::B => "2B",
            Part::C => "2C",
            Part::D => "2D",
            Part::Extra => "extra",
            Part::KvA => "4A",
            Part::KvB => "4B",
            Part::KvC => "4C",
        };
        f.write_str(s)
    }
}

/// What a test body returns.
pub type TestFuture = Pin<Box<dyn Future<Output = Result<(), Fail>>>>;

/// One test: identity and body. The body is already instantiated for a peer type.
#[derive(Clone, Copy)]
pub struct TestCase {
    /// The part it belongs to.
    pub part: Part,
    /// The Rust function name, e.g. `initial_election_2a` (used by `--test` and replays).
    pub name: &'static str,
    /// The Go test function, e.g. `TestInitialElection2A`.
    pub go_name: &'static str,
    /// The title printed by begin(), e.g. `Test (2A): initial election`.
    pub title: &'static str,
    /// The test body.
    pub body: fn(TestContext) -> TestFuture,
}

impl fmt::Debug for TestCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestCase")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

macro_rules! case {
    ($part:ident, $module:ident :: $f:ident, $go:literal, $title:literal) => {
        TestCase {
            part: Part::$part,
            name: stringify!($f),
            go_name: $go,
            title: $title,
            body: |t| Box::pin($module::$f::<R>(t)),
        }
    };
}

/// Every test: the 28 of the lab, then the extra suite, then the explore test (which runs
/// only when named: `explore`, or `--test explore`; see [`crate::explore`]).
pub fn suite<R: LabRaft>() -> Vec<TestCase> {
    let mut tests = all_tests::<R>();
    tests.extend(extra_tests::<R>());
    tests.push(crate::explore::case::<R>());
    tests
}

/// The extra suite for peer type `R`: targeted scenarios for classic bugs that the Go suite
/// misses or catches rarely (see [`extra`]).
pub fn extra_tests<R: LabRaft>() -> Vec<TestCase> {
    vec![
        case!(
            Extra,
            extra::vote_survives_restart_x,
            "ExtraVoteSurvivesRestart",
            "Test (extra): a vote survives a restart"
        ),
        case!(
            Extra,
            extra::leader_steps_down_on_reply_x,
            "ExtraLeaderStepsDownOnReply",
            "Test (extra): a leader steps down on a higher term in a reply"
        ),
        case!(
            Extra,
            extra::figure8_commit_rule_x,
            "ExtraFigure8CommitRule",
            "Test (extra): Figure 8 commit rule, deterministic"
        ),
        case!(
            Extra,
            extra::stale_install_snapshot_x,
            "ExtraStaleInstallSnapshot",
            "Test (extra): a stale InstallSnapshot changes nothing"
        ),
        case!(
            Extra,
            extra::backup_by_term_x,
            "ExtraBackupByTerm",
            "Test (extra): a leader backs up by term, not by entry"
        ),
    ]
}

/// All 28 tests for peer type `R`, in run order.
pub fn all_tests<R: LabRaft>() -> Vec<TestCase> {
    vec![
        case!(
            A,
            part_2a::initial_election_2a,
            "TestInitialElection2A",
            "Test (2A): initial election"
        ),
        case!(
            A,
            part_2a::re_election_2a,
            "TestReElection2A",
            "Test (2A): election after network failure"
        ),
        case!(
            A,
            part_2a::many_elections_2a,
            "TestManyElections2A",
            "Test (2A): multiple elections"
        ),
        case!(
            B,
            part_2b::basic_agree_2b,
            "TestBasicAgree2B",
            "Test (2B): basic agreement"
        ),
        case!(
            B,
            part_2b::rpc_bytes_2b,
            "TestRPCBytes2B",
            "Test (2B): RPC byte count"
        ),
        case!(
            B,
            part_2b::follower_failure_2b,
            "TestFollowerFailure2B",
            "Test (2B): test progressive failure of followers"
        ),
        case!(
            B,
            part_2b::leader_failure_2b,
            "TestLeaderFailure2B",
            "Test (2B): test failure of leaders"
        ),
        case!(
            B,
            part_2b::fail_agree_2b,
            "TestFailAgree2B",
            "Test (2B): agreement after follower reconnects"
        ),
        case!(
            B,
            part_2b::fail_no_agree_2b,
            "TestFailNoAgree2B",
            "Test (2B): no agreement if too many followers disconnect"
        ),
        case!(
            B,
            part_2b::concurrent_starts_2b,
            "TestConcurrentStarts2B",
            "Test (2B): concurrent Start()s"
        ),
        case!(
            B,
            part_2b::rejoin_2b,
            "TestRejoin2B",
            "Test (2B): rejoin of partitioned leader"
        ),
        case!(
            B,
            part_2b::backup_2b,
            "TestBackup2B",
            "Test (2B): leader backs up quickly over incorrect follower logs"
        ),
        case!(
            B,
            part_2b::count_2b,
            "TestCount2B",
            "Test (2B): RPC counts aren't too high"
        ),
        case!(
            C,
            part_2c::persist1_2c,
            "TestPersist12C",
            "Test (2C): basic persistence"
        ),
        case!(
            C,
            part_2c::persist2_2c,
            "TestPersist22C",
            "Test (2C): more persistence"
        ),
        case!(
            C,
            part_2c::persist3_2c,
            "TestPersist32C",
            "Test (2C): partitioned leader and one follower crash, leader restarts"
        ),
        case!(
            C,
            part_2c::figure8_2c,
            "TestFigure82C",
            "Test (2C): Figure 8"
        ),
        case!(
            C,
            part_2c::unreliable_agree_2c,
            "TestUnreliableAgree2C",
            "Test (2C): unreliable agreement"
        ),
        case!(
            C,
            part_2c::figure8_unreliable_2c,
            "TestFigure8Unreliable2C",
            "Test (2C): Figure 8 (unreliable)"
        ),
        case!(
            C,
            part_2c::reliable_churn_2c,
            "TestReliableChurn2C",
            "Test (2C): churn"
        ),
        case!(
            C,
            part_2c::unreliable_churn_2c,
            "TestUnreliableChurn2C",
            "Test (2C): unreliable churn"
        ),
        case!(
            D,
            part_2d::snapshot_basic_2d,
            "TestSnapshotBasic2D",
            "Test (2D): snapshots basic"
        ),
        case!(
            D,
            part_2d::snapshot_install_2d,
            "TestSnapshotInstall2D",
            "Test (2D): install snapshots (disconnect)"
        ),
        case!(
            D,
            part_2d::snapshot_install_unreliable_2d,
            "TestSnapshotInstallUnreliable2D",
            "Test (2D): install snapshots (disconnect+unreliable)"
        ),
        case!(
            D,
            part_2d::snapshot_install_crash_2d,
            "TestSnapshotInstallCrash2D",
            "Test (2D): install snapshots (crash)"
        ),
        case!(
            D,
            part_2d::snapshot_install_uncrash_2d,
            "TestSnapshotInstallUnCrash2D",
            "Test (2D): install snapshots (unreliable+crash)"
        ),
        case!(
            D,
            part_2d::snapshot_all_crash_2d,
            "TestSnapshotAllCrash2D",
            "Test (2D): crash and restart all servers"
        ),
        case!(
            D,
            part_2d::snapshot_init_2d,
            "TestSnapshotInit2D",
            "Test (2D): snapshot initialization after crash"
        ),
    ]
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;
    use lab_api::{PeerArgs, Started};
    use labrpc_sim::Service;

    use super::*;

    /// A peer that does nothing: the table does not depend on the peer type.
    struct Idle;

    impl LabRaft for Idle {
        fn make(_: PeerArgs) -> Arc<Self> {
            Arc::new(Idle)
        }
        fn service(self: Arc<Self>) -> Service {
            Service::new("Raft")
        }
        fn start(self: &Arc<Self>, _: Bytes) -> Option<Started> {
            None
        }
        fn get_state(&self) -> (u64, bool) {
            (0, false)
        }
        fn snapshot(self: &Arc<Self>, _: u64, _: Bytes) {}
        fn kill(&self) {}
    }

    #[test]
    fn twenty_eight_tests_in_2023_lists() {
        let tests = all_tests::<Idle>();
        let count = |p: Part| tests.iter().filter(|c| c.part == p).count();
        assert_eq!(
            [
                count(Part::A),
                count(Part::B),
                count(Part::C),
                count(Part::D)
            ],
            [3, 10, 8, 7]
        );
        let mut names: Vec<&str> = tests.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 28);
        for c in &tests {
            let suffix = c.part.to_string();
            assert!(c.name.ends_with(&suffix.to_lowercase()), "{}", c.name);
            assert!(
                c.go_name.starts_with("Test") && c.go_name.ends_with(&suffix),
                "{}",
                c.go_name
            );
            assert!(
                c.title.starts_with(&format!("Test ({suffix}): ")),
                "{}",
                c.title
            );
        }
    }
}
