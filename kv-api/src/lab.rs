//! [`KvLab`]: one implementation of the whole Lab 4 layer, as the grader picks it.

use lab_api::LabRaft;

use crate::{Clerk, KvServer, Rsm, StateMachine};

/// One implementation of Lab 4's layer: its rsm, its key/value server and its clerk, each on
/// any Raft peer type. The grader is generic over it (and over the Raft), so the reference
/// (`kv-ref`) and the student's crate (`kv-student`) are graded by the same tests, each on
/// the reference Raft or on the student's.
pub trait KvLab: 'static {
    /// The rsm on Raft `R` replicating machine `SM` (the 4A tests use it with the grader's
    /// own counter machine).
    type Rsm<R: LabRaft, SM: StateMachine>: Rsm<R, SM>;
    /// The key/value server on Raft `R` (4B, 4C).
    type Server<R: LabRaft>: KvServer<R>;
    /// The clerk.
    type Clerk: Clerk;

    /// The parts of this implementation still to be written, in the student's words (for
    /// example "4A: Submit"). The grader adds them to a failing test's message. Finished
    /// implementations keep the default: nothing missing.
    fn missing() -> Vec<&'static str> {
        Vec::new()
    }
}
