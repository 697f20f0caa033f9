//! Histories: what clients asked, what they were told, and when.

/// The identity of a client (one lane of the timeline). The lab records `-1` for some helper
/// calls, so it is signed.
pub type ClientId = i64;

/// One operation of a history: a call at `call` and, if it returned, its answer at `ret`.
///
/// Times are in any unit, as long as one history uses one; intervals are closed, so an
/// operation returning at `t` and one called at `t` are concurrent. An operation that never
/// returned (`ret == None`: the client gave up, the server crashed) may take effect at any
/// time after its call, or never affect anyone (its return is taken to be at infinity).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Operation<I, O> {
    /// The client that made the call.
    pub client: ClientId,
    /// What it asked for.
    pub input: I,
    /// What it was told (for an operation that never returned, the model's "unknown").
    pub output: O,
    /// When it called.
    pub call: u64,
    /// When it was answered, if ever.
    pub ret: Option<u64>,
}

impl<I, O> Operation<I, O> {
    /// An operation that returned.
    pub fn new(client: ClientId, input: I, output: O, call: u64, ret: u64) -> Self {
        Operation {
            client,
            input,
            output,
            call,
            ret: Some(ret),
        }
    }

    /// An operation that never returned.
    pub fn pending(client: ClientId, input: I, output: O, call: u64) -> Self {
        Operation {
            client,
            input,
            output,
            call,
            ret: None,
        }
    }

    /// Whether `self` returned strictly before `other` was called (so must precede it in any
    /// linearization).
    pub fn precedes<I2, O2>(&self, other: &Operation<I2, O2>) -> bool {
        self.ret.is_some_and(|ret| ret < other.call)
    }
}
