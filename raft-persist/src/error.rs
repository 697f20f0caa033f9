//! Errors of the durable store. Each names the file and what is wrong with it, so a torn or
//! corrupt file is a clear error and never silently read as some state.

use std::path::PathBuf;

/// Errors of the durable store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An I/O error on a named file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is shorter than its header says (a torn write, or a cut-off copy).
    #[error("{path}: truncated: expected {expected} bytes, found {found}")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes needed: the header, or the header plus the payload lengths it records.
        expected: u64,
        /// Bytes in the file.
        found: u64,
    },
    /// The file is longer than its header says.
    #[error("{path}: {found} bytes, but the header accounts for only {expected}")]
    TrailingBytes {
        /// The file.
        path: PathBuf,
        /// Bytes the header accounts for.
        expected: u64,
        /// Bytes in the file.
        found: u64,
    },
    /// The file does not start with the store's magic bytes: it is not a raft-lab state file.
    #[error("{path}: not a raft-lab state file (magic {found:02x?}, expected {expected:02x?})")]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The first eight bytes found.
        found: [u8; 8],
        /// The magic bytes of this format.
        expected: [u8; 8],
    },
    /// The file was written in a format version this build does not read.
    #[error("{path}: format version {found} is not supported (this build reads {supported})")]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// The contents do not match their checksum: the file was damaged after it was written.
    #[error("{path}: checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum {
        /// The file.
        path: PathBuf,
        /// The CRC32 recorded in the header.
        stored: u32,
        /// The CRC32 of the contents as read.
        computed: u32,
    },
}
