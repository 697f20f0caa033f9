//! Your Lab 4 layer (the 2026 course's fault-tolerant key/value service): the rsm (4A), the
//! key/value server and clerk (4B), snapshots (4C), on top of any Raft. This crate is the
//! starting point: it compiles, can be graded safely (nothing panics, hangs or spins) and
//! does nothing useful yet. Grade it with `cargo run -p grader -- 4A --kv student` (on your
//! Raft, `--impl student`; in the raft-lab repository also on the reference Raft,
//! `--impl reference`). The guide is `docs/LAB.md`, chapter "Lab 4".
//!
//! Map (every `TODO(4X)` marks a spot to fill in; search for `TODO(4A)` to begin):
//! - `rsm`: [`Rsm`]: `submit` and the reader's `apply` (4A), snapshots (4C). **Start here.**
//! - `server`: [`KvStore`], the store as a state machine (`do_op` in 4B, `snapshot` and
//!   `restore` in 4C), and [`KvServer`], its RPC service (written for you).
//! - `clerk`: [`Clerk`]: `get` and `put` with retries and `ErrMaybe` (4B).
//! - `progress`: one flag per part ([`progress::DONE_4A`] ...). Flip it when a part is done;
//!   the grader shows the hints of unfinished parts when a test fails.
//! - [`Student`] names the whole layer for the grader.
//!
//! The API you implement is in the `kv_api` crate (its docs give the semantics); the Raft
//! under you is any `lab_api::LabRaft`. The same rules as in the Raft lab hold: never hold a
//! lock across an `.await`, time only through `tokio::time`, `biased;` in every
//! `tokio::select!`, no `HashMap` iteration: then the grader replays any failure from its
//! seed.
//!
//! ```
//! use kv_api::{GetArgs, KvError, StateMachine};
//! use kv_student::{KvRep, KvReq, KvStore};
//!
//! let mut store = KvStore::default();
//! let KvRep::Get(reply) = store.do_op(KvReq::Get(GetArgs { key: "k".into() })) else {
//!     unreachable!("a Get is answered with a Get reply")
//! };
//! // Nothing was put: the key does not exist.
//! assert_eq!(reply.result, Err(KvError::NoKey));
//! assert_eq!(
//!     <kv_student::Student as kv_api::KvLab>::missing(),
//!     kv_student::progress::missing()
//! );
//! ```

mod clerk;
pub mod progress;
mod rsm;
mod server;

pub use clerk::Clerk;
pub use rsm::{Op, Rsm};
pub use server::{KvRep, KvReq, KvServer, KvStore};

/// Your layer, for the grader: [`Rsm`], [`KvServer`] and [`Clerk`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Student;

impl kv_api::KvLab for Student {
    type Rsm<R: lab_api::LabRaft, SM: kv_api::StateMachine> = Rsm<R, SM>;
    type Server<R: lab_api::LabRaft> = KvServer<R>;
    type Clerk = Clerk;

    fn missing() -> Vec<&'static str> {
        progress::missing()
    }
}
