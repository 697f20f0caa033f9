//! A failing run made small (issue 22, after Hypothesis). A run's random choices are recorded
//! ([`labrpc_sim::Choices`]), so it can be replayed from them ([`file::ChoicesFile`],
//! `grader --choices FILE`) exactly as from its seed.

pub mod file;

pub use file::{ChoicesError, ChoicesFile};
