//! The sim's test service (its state is the list of applied commands; its snapshot is that
//! list, bincode-encoded) and per-peer seeds.

use bytes::Bytes;

use crate::output::Apply;
use crate::types::LogIndex;

pub(super) fn peer_seed(seed: u64, peer: usize, incarnation: u64) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ((peer as u64) << 32) ^ incarnation
}

/// One peer's service. An unchecked sim's (for benchmarks) only counts what it applies, so
/// that a long run keeps no commands, and its snapshots carry no state.
#[derive(Debug, Default)]
pub(super) struct Service {
    /// The commands applied, by index - 1 (none when counting only).
    commands: Vec<Bytes>,
    /// Last index applied.
    applied: LogIndex,
    counting_only: bool,
}

impl Service {
    pub(super) fn new(counting_only: bool) -> Self {
        Service {
            counting_only,
            ..Service::default()
        }
    }

    /// A service restored from its snapshot (through `index`).
    pub(super) fn restore(index: LogIndex, data: &[u8]) -> Self {
        let commands = decode(data);
        assert_eq!(commands.len() as u64, index.0, "snapshot through {index:?}");
        Service {
            commands,
            applied: index,
            counting_only: false,
        }
    }

    /// Last index applied.
    pub(super) fn applied(&self) -> LogIndex {
        self.applied
    }

    pub(super) fn commands(&self) -> &[Bytes] {
        &self.commands
    }

    /// Takes a command or an installed snapshot.
    pub(super) fn apply(&mut self, apply: Apply) {
        match apply {
            Apply::Command { index, command, .. } => {
                self.applied = index;
                if !self.counting_only {
                    self.commands.push(command);
                }
            }
            Apply::Snapshot { index, data, .. } => {
                self.applied = index;
                if !self.counting_only {
                    self.commands = decode(&data);
                }
            }
        }
    }

    /// A snapshot of everything applied: its last index and its bytes.
    pub(super) fn snapshot(&self) -> (LogIndex, Bytes) {
        if self.counting_only {
            return (self.applied, Bytes::from_static(b"counted"));
        }
        let bytes = bincode::serde::encode_to_vec(&self.commands, bincode::config::standard())
            .expect("a list of byte strings encodes");
        (self.applied, Bytes::from(bytes))
    }
}

fn decode(data: &[u8]) -> Vec<Bytes> {
    if data.is_empty() {
        return Vec::new();
    }
    bincode::serde::decode_from_slice(data, bincode::config::standard())
        .expect("the service's own snapshot decodes")
        .0
}
