//! [`VersionedKv`]: the versioned key/value store of the current course's Lab 4 (Put with a
//! version, answered OK, ErrVersion or ErrMaybe; Get answered with a value and a version).
//! The step rules are those of the lab's checker model (kv-lab-spec section 6.1).

use std::fmt;

use crate::model::{Model, Next};
use crate::models::KeyMap;
use crate::models::kv::describe_map;
use crate::text::Text;

/// A call on the versioned key/value store.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum VersionedInput {
    /// `Get(key)`.
    Get {
        /// The key.
        key: Text,
    },
    /// `Put(key, value, version)`: installs `value` if the key is at `version`.
    Put {
        /// The key.
        key: Text,
        /// The new value.
        value: Text,
        /// The version the client believes the key is at.
        version: u64,
    },
}

impl VersionedInput {
    /// `Get(key)`.
    pub fn get(key: &str) -> Self {
        VersionedInput::Get {
            key: Text::new(key),
        }
    }

    /// `Put(key, value, version)`.
    pub fn put(key: &str, value: &str, version: u64) -> Self {
        VersionedInput::Put {
            key: Text::new(key),
            value: Text::new(value),
            version,
        }
    }

    /// The key.
    pub fn key(&self) -> &Text {
        match self {
            VersionedInput::Get { key } | VersionedInput::Put { key, .. } => key,
        }
    }
}

/// The lab's error values (`rpc.Err`), plus [`KvErr::Unknown`] for a call that never
/// returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum KvErr {
    /// `OK`.
    Ok,
    /// `ErrNoKey`.
    NoKey,
    /// `ErrVersion`.
    Version,
    /// `ErrMaybe`: a retried Put whose first attempt may or may not have happened.
    Maybe,
    /// `ErrWrongLeader`.
    WrongLeader,
    /// `ErrWrongGroup`.
    WrongGroup,
    /// Not an answer: the call never returned, its outcome is unknown.
    Unknown,
}

impl fmt::Display for KvErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KvErr::Ok => "OK",
            KvErr::NoKey => "ErrNoKey",
            KvErr::Version => "ErrVersion",
            KvErr::Maybe => "ErrMaybe",
            KvErr::WrongLeader => "ErrWrongLeader",
            KvErr::WrongGroup => "ErrWrongGroup",
            KvErr::Unknown => "unknown",
        })
    }
}

/// What a call on the versioned store answered (a Put's `value` and `version` are unused).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VersionedOutput {
    /// A Get's value.
    pub value: Text,
    /// A Get's version.
    pub version: u64,
    /// The error value.
    pub err: KvErr,
}

impl VersionedOutput {
    /// A Get's answer.
    pub fn get(value: &str, version: u64, err: KvErr) -> Self {
        VersionedOutput {
            value: Text::new(value),
            version,
            err,
        }
    }

    /// A Put's answer.
    pub fn put(err: KvErr) -> Self {
        VersionedOutput {
            value: Text::empty(),
            version: 0,
            err,
        }
    }

    /// The answer of a call that never returned.
    pub fn unknown() -> Self {
        VersionedOutput::put(KvErr::Unknown)
    }
}

/// One key's value and version; the default (`""`, 0) is a key never written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Versioned {
    /// The value.
    pub value: Text,
    /// The version: the number of Puts that took effect.
    pub version: u64,
}

/// The versioned key/value store of Lab 4, by default exactly the lab's checker model
/// (kv-lab-spec section 6.1), per key, from (`""`, 0):
///
/// | call | condition | legal iff | next state |
/// |---|---|---|---|
/// | Get | always | the value equals the state's (version and err are not compared) | unchanged |
/// | Put | versions equal | err is OK or ErrMaybe | (value, version + 1) |
/// | Put | versions differ | err is ErrVersion or ErrMaybe | unchanged |
///
/// Anything else (a Put answered ErrNoKey, say) is illegal. A call that never returned
/// ([`KvErr::Unknown`]) is treated as ErrMaybe (a Put) or as any answer (a Get).
///
/// Two stricter or looser readings are available, off by default:
/// [`VersionedKv::maybe_unapplied`] lets an ErrMaybe Put whose version matches also leave the
/// state unchanged (it may not have happened at all: two next states), and
/// [`VersionedKv::strict_get`] makes Get also compare the version (on OK) and require an
/// unwritten key (on ErrNoKey).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VersionedKv {
    /// An ErrMaybe Put whose version matches may also have had no effect.
    pub maybe_unapplied: bool,
    /// Get compares the version too, and ErrNoKey means the key was never written.
    pub strict_get: bool,
}

impl VersionedKv {
    /// The lab's model, exactly.
    pub fn new() -> Self {
        VersionedKv::default()
    }

    fn step_get(&self, current: &Versioned, output: &VersionedOutput) -> bool {
        if output.err == KvErr::Unknown {
            return true;
        }
        if !self.strict_get {
            return output.value == current.value;
        }
        match output.err {
            KvErr::Ok => output.value == current.value && output.version == current.version,
            KvErr::NoKey => current.version == 0,
            _ => false,
        }
    }
}

impl Model for VersionedKv {
    type Input = VersionedInput;
    type Output = VersionedOutput;
    type State = KeyMap<Versioned>;

    fn init(&self) -> Self::State {
        KeyMap::Empty
    }

    fn step(
        &self,
        state: &Self::State,
        input: &VersionedInput,
        output: &VersionedOutput,
    ) -> Next<Self::State> {
        let unwritten = Versioned::default();
        match input {
            VersionedInput::Get { key } => {
                let current = state.get(key).unwrap_or(&unwritten);
                if self.step_get(current, output) {
                    Next::One(state.clone())
                } else {
                    Next::Illegal
                }
            }
            VersionedInput::Put {
                key,
                value,
                version,
            } => {
                let current = state.get(key).unwrap_or(&unwritten);
                let maybe = matches!(output.err, KvErr::Maybe | KvErr::Unknown);
                if current.version == *version {
                    let applied = || {
                        state.set(
                            key,
                            Versioned {
                                value: value.clone(),
                                version: version + 1,
                            },
                        )
                    };
                    match output.err {
                        KvErr::Ok => Next::One(applied()),
                        _ if maybe && self.maybe_unapplied => {
                            Next::Many(vec![applied(), state.clone()])
                        }
                        _ if maybe => Next::One(applied()),
                        _ => Next::Illegal,
                    }
                } else if maybe || output.err == KvErr::Version {
                    Next::One(state.clone())
                } else {
                    Next::Illegal
                }
            }
        }
    }

    fn is_read_only(&self, input: &VersionedInput, output: &VersionedOutput) -> bool {
        matches!(input, VersionedInput::Get { .. }) || output.err == KvErr::Version
    }

    /// A refused Get stays refused: with [`VersionedKv::strict_get`] when the key's version
    /// has reached the one it read (versions only grow, and an equal version with another
    /// value can change only by growing) or when it answered anything but OK; otherwise
    /// (only the value compared) until a Put of the value it read.
    fn stays_refused(
        &self,
        state: &Self::State,
        read: &VersionedInput,
        output: &VersionedOutput,
    ) -> bool {
        let VersionedInput::Get { key } = read else {
            return false;
        };
        if output.err == KvErr::Unknown {
            return false;
        }
        if !self.strict_get {
            return true;
        }
        let version = state.get(key).map_or(0, |current| current.version);
        output.err != KvErr::Ok || version >= output.version
    }

    fn may_reenable(
        &self,
        input: &VersionedInput,
        _output: &VersionedOutput,
        read: &VersionedInput,
        read_output: &VersionedOutput,
    ) -> bool {
        match (input, read) {
            (VersionedInput::Put { key, value, .. }, VersionedInput::Get { key: read_key }) => {
                !self.strict_get && key == read_key && *value == read_output.value
            }
            _ => true,
        }
    }

    fn partition_key(&self, input: &VersionedInput) -> Option<String> {
        Some(input.key().as_str().to_owned())
    }

    fn describe_operation(&self, input: &VersionedInput, output: &VersionedOutput) -> String {
        match input {
            VersionedInput::Get { key } => {
                format!(
                    "get('{key}') -> ('{}', '{}', '{}')",
                    output.value, output.version, output.err
                )
            }
            VersionedInput::Put {
                key,
                value,
                version,
            } => {
                format!("put('{key}', '{value}', '{version}') -> ('{}')", output.err)
            }
        }
    }

    fn describe_state(&self, state: &Self::State) -> String {
        describe_map(state, |v: &Versioned| {
            format!("{{{} {}}}", v.value, v.version)
        })
    }

    fn describe_allowed(&self, state: &Self::State, input: &VersionedInput) -> Option<String> {
        let unwritten = Versioned::default();
        let current = state.get(input.key()).unwrap_or(&unwritten);
        Some(match input {
            VersionedInput::Get { key } => {
                format!(
                    "get('{key}') -> ('{}', '{}', ...)",
                    current.value, current.version
                )
            }
            VersionedInput::Put { version, .. } if *version == current.version => {
                format!("OK or ErrMaybe (the key is at version {version})")
            }
            VersionedInput::Put { .. } => {
                format!(
                    "ErrVersion or ErrMaybe (the key is at version {})",
                    current.version
                )
            }
        })
    }
}
