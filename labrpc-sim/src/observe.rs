//! Watching the network: an optional observer called at every stage of every call, so that a
//! harness can record what the network did (sent, lost, delayed, delivered) and look at a
//! server right after its handler ran. The observer is called on the caller's task, outside
//! the network's lock, in the order the stages happen; with none set a call pays one check.

use std::sync::Arc;
use std::time::Duration;

use crate::Bytes;

/// Where a call is on its way (spec 1.4's steps).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CallStage {
    /// Submitted and counted; `payload` is the arguments.
    Sent,
    /// No server reachable (end disabled or unconnected, no such server): the call fails
    /// after the dead-end delay, `delay`.
    Unreachable,
    /// The unreliable network lost the request.
    RequestDropped,
    /// The server has no such method: the caller gets an error at once.
    NoMethod,
    /// The request reached the server's handler (counted for the server), which now runs
    /// inline, on the caller's task, until it finishes or waits.
    Dispatched,
    /// The handler did not finish at once and goes on in a task of its own.
    Detached,
    /// The handler finished and its reply leaves the server; `payload` is the reply (empty
    /// when the handler returned an error). The server's state is now what its reply says.
    Handled,
    /// The handler panicked: no reply.
    Panicked,
    /// The server was disconnected, deleted or replaced before its reply could leave.
    ServerDead,
    /// The unreliable network lost the reply.
    ReplyDropped,
    /// Long reordering holds the reply back for `delay`.
    Reordered,
    /// The reply reached the caller (its bytes are counted).
    Delivered,
}

/// One stage of one call.
#[derive(Clone, Copy, Debug)]
pub struct CallEvent<'a> {
    /// Numbers the calls of one network, from 1, in submission order.
    pub call: u64,
    /// The caller's end.
    pub end: &'a str,
    /// The server the end reached, when it reached one.
    pub server: Option<&'a str>,
    /// "Service.Method".
    pub method: &'a str,
    /// What happened.
    pub stage: CallStage,
    /// Arguments at [`CallStage::Sent`], the reply at [`CallStage::Handled`].
    pub payload: Option<&'a Bytes>,
    /// The delay of [`CallStage::Unreachable`] and [`CallStage::Reordered`].
    pub delay: Option<Duration>,
}

/// A network observer (see [`crate::Network::set_observer`]).
pub type Observer = Arc<dyn Fn(&CallEvent<'_>) + Send + Sync>;
