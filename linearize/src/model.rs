//! What the checker knows of a data type: the [`Model`] trait and its step result [`Next`].

use std::fmt::Debug;
use std::hash::Hash;

/// What one operation may do to a state: the result of [`Model::step`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next<S> {
    /// The operation cannot have returned this output from this state.
    Illegal,
    /// The one state the operation leads to.
    One(S),
    /// Several states the operation may lead to (an operation whose outcome is unknown, such
    /// as a Put answered "maybe"). The checker tries each, in order; an empty vector is the
    /// same as [`Next::Illegal`].
    Many(Vec<S>),
}

impl<S> From<Option<S>> for Next<S> {
    fn from(state: Option<S>) -> Self {
        match state {
            Some(state) => Next::One(state),
            None => Next::Illegal,
        }
    }
}

/// A sequential specification: the data type a history is checked against.
///
/// The checker calls [`Model::step`] once per attempt to place an operation (one *step* of
/// the budget), and keeps every `(set of placed operations, state)` pair it has explored in a
/// cache, so `State` must be cheap to clone, compare and hash (a string that grows by
/// appending is better held in a [`crate::Text`], which carries its hash).
///
/// All methods must be deterministic functions of their arguments: the same history then
/// gives the same verdict and the same step counts on any machine.
pub trait Model: Sync {
    /// What a client asked for (an operation and its arguments).
    type Input: Debug + Sync;
    /// What the client was told (an operation that never returned carries whatever the
    /// model documents as "unknown").
    type Output: Debug + Sync;
    /// The state of the data type between operations.
    type State: Clone + Eq + Hash + Debug + Send;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// The states `input` may lead to from `state` if it answered `output`, or
    /// [`Next::Illegal`] if it cannot have answered that.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
    ) -> Next<Self::State>;

    /// Whether `input` answered `output` is a *read*: from every state the model either
    /// refuses it or leaves the state as it was (a Get; a Put refused for its version). The
    /// search places a legal read at once and never tries it later, which cuts it short on
    /// read-heavy histories. This is a promise: an operation that can change the state must
    /// answer false (the default), or verdicts may be wrong.
    fn is_read_only(&self, _input: &Self::Input, _output: &Self::Output) -> bool {
        false
    }

    /// Whether a read ([`Model::is_read_only`]) that `state` refuses stays refused after any
    /// operations except those [`Model::may_reenable`] names for it: a property of `state`
    /// that makes the read illegal and that every other operation keeps (a Get of "ab"
    /// from "ac", for a store whose values only grow by Append until a Put). The search
    /// asks only about reads the model has just refused from `state`; when this answers
    /// true and every operation that may re-enable the read is already placed, no order of
    /// the rest can place the read, so it abandons the node at once instead of trying the
    /// rest. This is a promise (true only when it holds, or verdicts may be wrong); the
    /// default, false, never prunes.
    fn stays_refused(
        &self,
        _state: &Self::State,
        _read_input: &Self::Input,
        _read_output: &Self::Output,
    ) -> bool {
        false
    }

    /// For [`Model::stays_refused`]: whether the operation `input` answered `output` may
    /// lead from a state with that property to one without it (a Put of a value the
    /// read's value starts with), so that the read may become legal again after it. Reads
    /// never change the state and are not asked. The default, true, is always safe.
    fn may_reenable(
        &self,
        _input: &Self::Input,
        _output: &Self::Output,
        _read_input: &Self::Input,
        _read_output: &Self::Output,
    ) -> bool {
        true
    }

    /// The independent part of the history `input` belongs to (its key), or `None` if the
    /// model does not split histories. Operations with different keys must never affect one
    /// another; each part is then checked on its own (P-compositionality), which is far
    /// cheaper than checking the whole. Operations answering `None` form one part of their own.
    fn partition_key(&self, _input: &Self::Input) -> Option<String> {
        None
    }

    /// A short human description of an operation, e.g. `get('k7') -> 'x 1 5 y'`.
    fn describe_operation(&self, input: &Self::Input, output: &Self::Output) -> String {
        format!("{input:?} -> {output:?}")
    }

    /// A short human description of a state.
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }

    /// What the model would have allowed `input` to answer from `state`, in words (e.g.
    /// `get returns 'x 1 5 y x 2 0 y'`), for explanations; `None` if the model cannot say.
    fn describe_allowed(&self, _state: &Self::State, _input: &Self::Input) -> Option<String> {
        None
    }
}
