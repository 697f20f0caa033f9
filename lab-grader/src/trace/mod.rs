//! The record of every test run and what it leaves behind: every harness action, every stage
//! of every RPC, every apply, every change of a peer's inspected state, every check, violation
//! and panic, and the peers' own `tracing` lines, in virtual-time order with virtual
//! timestamps (real ones with `--real-time`).
//!
//! - `record`: `Trace`, the per-test record in the [`crate::harness::TestContext`]:
//!   compact events (RPC bytes in one arena, no text) with their time in µs, capped.
//! - `event`: [`Event`] and its rendering as a line of `events.jsonl` (schema in
//!   docs/EVENTS.md); the peer type's [`lab_api::LabRaft::describe`] renders RPCs then.
//! - `logs`: the `tracing` layer that puts a peer's log lines in its lane.
//! - `bundle`: the failure bundle (report, replay command, events, backtrace, timeline),
//!   written after the run, never during it.
//! - [`timeline`]: the timeline page (`timeline.html`) of an events file.
//! - [`view`]: the terminal view (`grader view BUNDLE`, and `--log` live).
//!
//! Where the events come from: `Config::on_call` (the network observer), the appliers, the
//! harness verbs and checkers in `harness/`, the panic hook, and the test runner (failure).
//!
//! ```
//! use grader::trace::view::{Filter, render};
//!
//! let events = concat!(
//!     r#"{"t":0,"kind":"test","peer":null,"name":"x_2a","go_name":"TestX2A","title":"Test (2A): x","seed":1,"test_seed":2,"peers":2,"real_time":false,"schema":1,"truncated":0}"#, "\n",
//!     r#"{"t":1500,"kind":"log","peer":1,"level":"INFO","target":"p","message":"hello"}"#, "\n",
//! );
//! let view = render(events, &Filter::default(), 60, false)?;
//! assert!(view.contains("INFO hello"));
//! # Ok::<(), grader::trace::view::ViewError>(())
//! ```

pub(crate) mod bundle;
mod event;
pub(crate) mod logs;
mod record;
pub mod timeline;
pub mod view;

pub use event::{Action, Describe, Event, Header, Rpc, SCHEMA, StateKey, stage_name};
pub(crate) use record::Trace;
pub use record::{HEAD_LINES, MAX_BYTES, MAX_EVENTS, RecentLines, TAIL_LINES};
