//! The running Raft peer on tokio, and the lab API the grader drives.
//!
//! - [`api`]: the lab API ([`LabRaft`], [`ApplyMsg`], the rendezvous apply channel). This is
//!   all a student handout needs.
//! - the reference peer (feature `reference`, default): being written.

pub mod api;

pub use api::{
    ApplyClosed, ApplyMsg, ApplyReceiver, ApplySender, LabRaft, PeerArgs, Started, apply_channel,
};
