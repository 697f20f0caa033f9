//! The sim's test service (its state is the list of applied commands; its snapshot is
//! that list, bincode-encoded) and per-peer seeds.

use bytes::Bytes;

pub(super) fn peer_seed(seed: u64, peer: usize, incarnation: u64) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ((peer as u64) << 32) ^ incarnation
}

/// The test service's snapshot: its applied commands.
pub(super) fn encode_service(service: &[Bytes]) -> Bytes {
    let bytes = bincode::serde::encode_to_vec(service, bincode::config::standard())
        .expect("a list of byte strings encodes");
    Bytes::from(bytes)
}

pub(super) fn decode_service(data: &[u8]) -> Vec<Bytes> {
    if data.is_empty() {
        return Vec::new();
    }
    bincode::serde::decode_from_slice(data, bincode::config::standard())
        .expect("the service's own snapshot decodes")
        .0
}
