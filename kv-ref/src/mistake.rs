//! Classic student mistakes, built into the reference layer only so that the grader's own
//! tests can measure what catches each one (as `raft_core::Bug` does for the Raft lab).
//! [`WithMistake<M>`] is the reference with mistake `M`; [`crate::Reference`] is
//! `WithMistake<NONE>`, and nothing but those tests names another.
//!
//! In the 2026 lab a key's version is the duplicate table: a Put takes effect only at the
//! version it names, so a resent Put cannot apply twice. The mistakes below are the classic
//! ones in that setting.

/// No mistake: the reference.
pub const NONE: u8 = 0;
/// The store applies a Put whatever its version (no duplicate detection: a resent Put, or
/// one racing another client's, applies again).
pub const PUT_IGNORES_VERSION: u8 = 1;
/// A server that believes it leads answers Get from its own store, without the log.
pub const GET_OFF_THE_LOG: u8 = 2;
/// A leader answers a Put OK as soon as Raft accepted it, before it is committed and
/// applied.
pub const REPLY_BEFORE_APPLY: u8 = 3;
/// Submit waits only for its own op: it never notices that another op took its index or
/// that the term changed, so a client whose op was lost is never released.
pub const SUBMIT_MISSES_LEADER_CHANGE: u8 = 4;
/// The snapshot keeps the values but not the versions (every key restores at version 1).
pub const SNAPSHOT_WITHOUT_VERSIONS: u8 = 5;
/// The clerk returns ErrVersion on a resent Put instead of ErrMaybe.
pub const NO_ERR_MAYBE: u8 = 6;
/// A restarted server does not restore its snapshot (its machine starts empty while Raft
/// resumes after the snapshot).
pub const RESTART_WITHOUT_SNAPSHOT: u8 = 7;

/// Every mistake, with its name, in order.
pub const ALL: [(u8, &str); 7] = [
    (
        PUT_IGNORES_VERSION,
        "a Put applied whatever its version (no duplicate detection)",
    ),
    (
        GET_OFF_THE_LOG,
        "Get answered from the leader's store, not through the log",
    ),
    (REPLY_BEFORE_APPLY, "Put answered OK before it is applied"),
    (
        SUBMIT_MISSES_LEADER_CHANGE,
        "Submit does not notice a leader change (a waiting client is never released)",
    ),
    (
        SNAPSHOT_WITHOUT_VERSIONS,
        "a snapshot without the versions (the duplicate table)",
    ),
    (
        NO_ERR_MAYBE,
        "ErrVersion instead of ErrMaybe on a resent Put",
    ),
    (
        RESTART_WITHOUT_SNAPSHOT,
        "a restart that does not restore the snapshot",
    ),
];

/// The reference layer with mistake `M` (one of the constants above), for the grader.
#[derive(Clone, Copy, Debug, Default)]
pub struct WithMistake<const M: u8>;

impl<const M: u8> kv_api::KvLab for WithMistake<M> {
    type Rsm<R: lab_api::LabRaft, SM: kv_api::StateMachine> = crate::Rsm<R, SM, M>;
    type Server<R: lab_api::LabRaft> = crate::KvServer<R, M>;
    type Clerk = crate::Clerk<M>;
}
