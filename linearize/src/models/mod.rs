//! Ready-made models: a register, the 6.824 key/value store, and Lab 4's versioned store.

mod keymap;
pub(crate) mod kv;
mod register;
mod versioned;

pub use keymap::KeyMap;
pub use kv::{Kv, KvInput, KvOutput};
pub use register::{Register, RegisterOp};
pub use versioned::{KvErr, Versioned, VersionedInput, VersionedKv, VersionedOutput};
