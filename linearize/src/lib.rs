//! A linearizability checker: a history of concurrent calls and a sequential model in, a
//! verdict out, and, when the verdict is "not linearizable", an explanation a student can
//! read. It knows nothing of Raft or of the lab, does no I/O and spends a budget of steps,
//! not seconds, so the same history gets the same verdict and the same counts everywhere.
//!
//! - [`Model`] (`model.rs`): what a data type allows ([`Next`]: one state, several, or
//!   illegal), how a history splits into independent parts, how to describe things.
//! - [`Operation`] (`history.rs`): a call, its answer, when each happened; a history is a
//!   slice of them.
//! - [`check`] and [`Config`] (`check.rs`): split by key, search every part (in parallel
//!   where there are cores), combine into a [`CheckResult`] and its [`Verdict`]. The search
//!   itself (Wing & Gong / Lowe with a (placed set, state) cache) is in `search.rs`.
//!   [`Verdict::Unknown`] means "not decided within the budget", never a pass: callers
//!   decide what to make of it, and [`CheckResult::strict`] fails on it.
//! - [`explain`] (`explain.rs`): for a history that is not linearizable, the failing part,
//!   the longest order found, the operation that cannot be placed (state, what the model
//!   allows) and a minimal failing sub-history; [`Explanation::render`] writes it for
//!   students.
//! - [`models`]: [`models::Register`], the 6.824 store [`models::Kv`]
//!   (Put/Append/Get), Lab 4's versioned store [`models::VersionedKv`].
//! - [`timeline`]: the result as data an HTML timeline draws (one lane per client, the order
//!   found, the failing operation and the minimal sub-history marked), and with the `html`
//!   feature (on by default) the page itself; the `lin-view` command writes one from a
//!   history file.
//! - [`edn`]: reads Jepsen-style key/value histories (the Porcupine corpus).
//! - [`Text`]: a string carrying its hash, for cheap model states.
//!
//! Checking a Lab 4 history:
//!
//! ```
//! use linearize::models::{KvErr, VersionedInput as In, VersionedKv, VersionedOutput as Out};
//! use linearize::{Config, ExplainConfig, Operation, TimeUnit, Verdict, check, explain};
//!
//! // Client 1 puts "a" at version 0 while client 2 reads; then client 2 reads again.
//! let history = vec![
//!     Operation::new(1, In::put("k", "a", 0), Out::put(KvErr::Ok), 0, 10),
//!     Operation::new(2, In::get("k"), Out::get("a", 1, KvErr::Ok), 5, 8),
//!     Operation::new(2, In::get("k"), Out::get("", 0, KvErr::NoKey), 12, 15),
//! ];
//! let result = check(&VersionedKv::new(), &history, &Config::default());
//! // The second read cannot see the key unwritten after the first saw "a".
//! assert!(matches!(result.verdict, Verdict::NotLinearizable { part: 0 }));
//! assert!(check(&VersionedKv::new(), &history[..2], &Config::default()).is_linearizable());
//!
//! // Why: the put, which returned before the second read was called, and that read.
//! let why = explain(&VersionedKv::new(), &history, &result, &ExplainConfig::default()).expect("it failed");
//! assert_eq!(why.minimal_indices(), vec![0, 2]);
//! println!("{}", why.render(TimeUnit::Ticks));
//! ```

mod check;
pub mod edn;
mod explain;
mod history;
mod model;
pub mod models;
mod search;
mod text;
pub mod timeline;

pub use check::{CheckResult, Config, NotPassed, PartOutcome, PartResult, Verdict, check};
pub use explain::{ExplainConfig, Explanation, OpView, Stuck, TimeUnit, explain};
pub use history::{ClientId, Operation};
pub use model::{Model, Next};
pub use text::Text;
