//! [`Kv`]: the 6.824 key/value store with Put, Append and Get (the Raft-era kvraft lab; the
//! model of the Porcupine key/value corpus).

use crate::model::{Model, Next};
use crate::models::KeyMap;
use crate::text::Text;

/// A call on the 6.824 key/value store.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum KvInput {
    /// `Get(key)`.
    Get {
        /// The key.
        key: Text,
    },
    /// `Put(key, value)`: replaces the value.
    Put {
        /// The key.
        key: Text,
        /// The new value.
        value: Text,
    },
    /// `Append(key, value)`: appends to the value (to "" for a missing key).
    Append {
        /// The key.
        key: Text,
        /// What to append.
        value: Text,
    },
}

impl KvInput {
    /// `Get(key)`.
    pub fn get(key: &str) -> Self {
        KvInput::Get {
            key: Text::new(key),
        }
    }

    /// `Put(key, value)`.
    pub fn put(key: &str, value: &str) -> Self {
        KvInput::Put {
            key: Text::new(key),
            value: Text::new(value),
        }
    }

    /// `Append(key, value)`.
    pub fn append(key: &str, value: &str) -> Self {
        KvInput::Append {
            key: Text::new(key),
            value: Text::new(value),
        }
    }

    /// The key.
    pub fn key(&self) -> &Text {
        match self {
            KvInput::Get { key } | KvInput::Put { key, .. } | KvInput::Append { key, .. } => key,
        }
    }
}

/// What a call on the 6.824 key/value store answered.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum KvOutput {
    /// A Get's value ("" for a missing key).
    Value(Text),
    /// A Put or Append returned.
    Done,
    /// The call never returned: a Get may have seen anything.
    Unknown,
}

impl KvOutput {
    /// A Get's answer.
    pub fn value(value: &str) -> Self {
        KvOutput::Value(Text::new(value))
    }
}

/// The 6.824 key/value store: Get returns the value ("" if missing), Put replaces it, Append
/// appends to it; Put and Append always succeed. The state is a map from key to value
/// ([`KeyMap`]); [`Model::partition_key`] is the key, so each key is checked on its own and
/// its state holds one value.
///
/// A Get answered [`KvOutput::Done`] is illegal; one answered [`KvOutput::Unknown`] is legal
/// from any state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Kv;

impl Model for Kv {
    type Input = KvInput;
    type Output = KvOutput;
    type State = KeyMap<Text>;

    fn init(&self) -> Self::State {
        KeyMap::Empty
    }

    fn step(&self, state: &Self::State, input: &KvInput, output: &KvOutput) -> Next<Self::State> {
        match input {
            KvInput::Get { key } => match output {
                KvOutput::Value(got) => {
                    let current = state.get(key).map_or("", Text::as_str);
                    if got.as_str() == current {
                        Next::One(state.clone())
                    } else {
                        Next::Illegal
                    }
                }
                KvOutput::Unknown => Next::One(state.clone()),
                KvOutput::Done => Next::Illegal,
            },
            KvInput::Put { key, value } => Next::One(state.set(key, value.clone())),
            KvInput::Append { key, value } => {
                let next = match state.get(key) {
                    Some(current) => current.append(value.as_str()),
                    None => value.clone(),
                };
                Next::One(state.set(key, next))
            }
        }
    }

    fn is_read_only(&self, input: &KvInput, _output: &KvOutput) -> bool {
        matches!(input, KvInput::Get { .. })
    }

    /// A Get of `v` refused from a value that is not a prefix of `v`: appends only lengthen
    /// the value, so only a Put of a prefix of `v` (to this key) can make it legal again.
    fn stays_refused(&self, state: &Self::State, read: &KvInput, output: &KvOutput) -> bool {
        match (read, output) {
            (KvInput::Get { key }, KvOutput::Value(got)) => {
                let current = state.get(key).map_or("", Text::as_str);
                !got.as_str().starts_with(current)
            }
            _ => false,
        }
    }

    fn may_reenable(
        &self,
        input: &KvInput,
        _output: &KvOutput,
        read: &KvInput,
        read_output: &KvOutput,
    ) -> bool {
        match (input, read, read_output) {
            (KvInput::Append { .. }, _, _) => false,
            (KvInput::Put { key, value }, KvInput::Get { key: read_key }, KvOutput::Value(got)) => {
                key == read_key && got.as_str().starts_with(value.as_str())
            }
            _ => true,
        }
    }

    fn partition_key(&self, input: &KvInput) -> Option<String> {
        Some(input.key().as_str().to_owned())
    }

    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        match (input, output) {
            (KvInput::Get { key }, KvOutput::Value(v)) => format!("get('{key}') -> '{v}'"),
            (KvInput::Get { key }, _) => format!("get('{key}') -> ?"),
            (KvInput::Put { key, value }, _) => format!("put('{key}', '{value}')"),
            (KvInput::Append { key, value }, _) => format!("append('{key}', '{value}')"),
        }
    }

    fn describe_state(&self, state: &Self::State) -> String {
        describe_map(state, |v| format!("'{v}'"))
    }

    fn describe_allowed(&self, state: &Self::State, input: &KvInput) -> Option<String> {
        match input {
            KvInput::Get { key } => Some(format!(
                "get('{key}') -> '{}'",
                state.get(key).map_or("", Text::as_str)
            )),
            KvInput::Put { .. } | KvInput::Append { .. } => Some("it always succeeds".to_owned()),
        }
    }
}

/// A map state in words: the value alone for one key, `key: value` pairs otherwise.
pub(crate) fn describe_map<V: Clone + Default + PartialEq>(
    state: &KeyMap<V>,
    value: impl Fn(&V) -> String,
) -> String {
    match state {
        KeyMap::Empty => value(&V::default()),
        KeyMap::One(_, v) => value(v),
        KeyMap::Many(_) => {
            let pairs: Vec<String> = state
                .iter()
                .map(|(k, v)| format!("'{k}': {}", value(v)))
                .collect();
            format!("{{{}}}", pairs.join(", "))
        }
    }
}
