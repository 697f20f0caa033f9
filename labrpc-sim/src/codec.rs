//! bincode helpers (standard configuration), shared by every typed caller and handler, so the
//! wire format and its byte counts are the same everywhere.

use crate::{Bytes, CodecError};

/// Encodes a value with bincode's standard configuration.
pub fn encode<T: serde::Serialize>(value: &T) -> Result<Bytes, CodecError> {
    bincode::serde::encode_to_vec(value, bincode::config::standard())
        .map(Bytes::from)
        .map_err(|source| CodecError::Encode {
            type_name: std::any::type_name::<T>(),
            source,
        })
}

/// Decodes a value; trailing bytes are an error.
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let type_name = std::any::type_name::<T>();
    let (value, consumed) =
        bincode::serde::decode_from_slice::<T, _>(bytes, bincode::config::standard())
            .map_err(|source| CodecError::Decode { type_name, source })?;
    if consumed != bytes.len() {
        return Err(CodecError::TrailingBytes {
            type_name,
            consumed,
            trailing: bytes.len() - consumed,
            total: bytes.len(),
        });
    }
    Ok(value)
}
