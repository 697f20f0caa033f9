//! [`Register`]: a single read/write register.

use std::fmt::Debug;
use std::hash::Hash;

use crate::model::{Model, Next};

/// A call on a register.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum RegisterOp<T> {
    /// Read the value (the output is `Some(value read)`, or `None` if the read never
    /// returned).
    Read,
    /// Write a value (the output is ignored).
    Write(T),
}

/// A read/write register holding a `T`, starting at `initial`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Register<T> {
    /// The value before any write.
    pub initial: T,
}

impl<T> Register<T> {
    /// A register starting at `initial`.
    pub fn new(initial: T) -> Self {
        Register { initial }
    }
}

impl<T: Clone + Eq + Hash + Debug + Send + Sync> Model for Register<T> {
    type Input = RegisterOp<T>;
    type Output = Option<T>;
    type State = T;

    fn init(&self) -> T {
        self.initial.clone()
    }

    fn step(&self, state: &T, input: &RegisterOp<T>, output: &Option<T>) -> Next<T> {
        match (input, output) {
            (RegisterOp::Write(value), _) => Next::One(value.clone()),
            (RegisterOp::Read, Some(read)) if read != state => Next::Illegal,
            (RegisterOp::Read, _) => Next::One(state.clone()),
        }
    }

    fn is_read_only(&self, input: &RegisterOp<T>, _output: &Option<T>) -> bool {
        matches!(input, RegisterOp::Read)
    }

    fn describe_operation(&self, input: &RegisterOp<T>, output: &Option<T>) -> String {
        match (input, output) {
            (RegisterOp::Read, Some(v)) => format!("read() -> {v:?}"),
            (RegisterOp::Read, None) => "read() -> ?".to_owned(),
            (RegisterOp::Write(v), _) => format!("write({v:?})"),
        }
    }

    fn describe_allowed(&self, state: &T, input: &RegisterOp<T>) -> Option<String> {
        match input {
            RegisterOp::Read => Some(format!("read() -> {state:?}")),
            RegisterOp::Write(_) => Some("a write always succeeds".to_owned()),
        }
    }
}
