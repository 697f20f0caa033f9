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
    // An owned type decodes from a borrowed input too (it copies what it keeps).
    decode_borrowed(bytes)
}

/// Decodes a value that may borrow from `bytes` (`&'a [u8]` and `&'a str` fields point into
/// the input instead of being copied); trailing bytes are an error.
///
/// This is the zero-copy path: a handler that holds the message as [`Bytes`] can decode a
/// borrowed mirror of its argument type and turn each borrowed slice into a `Bytes` sharing
/// the message's buffer ([`Bytes::slice_ref`]), with no allocation or copy per field.
pub fn decode_borrowed<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, CodecError> {
    let type_name = std::any::type_name::<T>();
    let (value, consumed) =
        bincode::serde::borrow_decode_from_slice::<T, _>(bytes, bincode::config::standard())
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
