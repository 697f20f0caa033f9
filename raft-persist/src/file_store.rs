//! The durable store: one file, `raft.state`, replaced atomically on every save.
//!
//! Format (integers little-endian):
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `RAFTLAB1` |
//! | 4 | format version (1) |
//! | 8 | raft state length |
//! | 8 | snapshot length |
//! | 4 | CRC32 of the version, the two lengths and both payloads |
//! | .. | raft state, then snapshot |
//!
//! A save writes a temporary file in the same directory, fsyncs it, renames it over
//! `raft.state` and fsyncs the directory, so a crash at any point leaves either the old file
//! or the new one. A failed save never touches the old file.

use std::fs::{self, File};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;

use crate::{StateStore, StoreError};

/// The state file's name inside the store's directory.
pub const STATE_FILE: &str = "raft.state";
/// The temporary file a save writes before renaming it over [`STATE_FILE`].
pub const TEMP_FILE: &str = "raft.state.tmp";
/// The first eight bytes of every state file.
pub const MAGIC: [u8; 8] = *b"RAFTLAB1";
/// The format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// Bytes before the payloads: magic, version, two lengths, checksum.
pub const HEADER_LEN: usize = 8 + 4 + 8 + 8 + 4;

/// Durable on-disk store of (raft state, snapshot): atomic replace, versioned header, checksum.
///
/// One `FileStore` per directory: saves through it are serialised, but two stores (or two
/// processes) on one directory would race on the temporary file.
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    path: PathBuf,
    temp: PathBuf,
    /// Serialises saves, which share the temporary file.
    save_lock: Mutex<()>,
}

impl FileStore {
    /// Opens (creating if needed) a store in `dir`. Removes a temporary file left by a crash
    /// during a save, and checks the state file, so a damaged file is reported here.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        fs::create_dir_all(dir).map_err(|source| io_error(dir, source))?;
        let store = FileStore {
            dir: dir.to_path_buf(),
            path: dir.join(STATE_FILE),
            temp: dir.join(TEMP_FILE),
            save_lock: Mutex::new(()),
        };
        match fs::remove_file(&store.temp) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(source) => return Err(io_error(&store.temp, source)),
        }
        store.read_state_and_snapshot()?;
        Ok(store)
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Atomically replaces both.
    pub fn save(&self, raft_state: &[u8], snapshot: &[u8]) -> Result<(), StoreError> {
        let _serial = self
            .save_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let contents = encode(raft_state, snapshot);
        if let Err(e) = self.write_temp(&contents) {
            // Best effort: the old state file is untouched either way, and open() cleans up.
            let _ = fs::remove_file(&self.temp);
            return Err(e);
        }
        fs::rename(&self.temp, &self.path).map_err(|source| io_error(&self.path, source))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|source| io_error(&self.dir, source))
    }

    /// Writes and fsyncs the temporary file.
    fn write_temp(&self, contents: &[u8]) -> Result<(), StoreError> {
        let mut file = File::create(&self.temp).map_err(|source| io_error(&self.temp, source))?;
        file.write_all(contents)
            .and_then(|()| file.sync_all())
            .map_err(|source| io_error(&self.temp, source))
    }

    /// The last saved raft state (empty if none).
    pub fn read_raft_state(&self) -> Result<Bytes, StoreError> {
        Ok(self.read_state_and_snapshot()?.0)
    }
    /// The last saved snapshot (empty if none).
    pub fn read_snapshot(&self) -> Result<Bytes, StoreError> {
        Ok(self.read_state_and_snapshot()?.1)
    }

    /// The raft state and snapshot of the last save, from one read of the file. Both empty
    /// when nothing was ever saved (no file); any damage to the file is an error.
    pub fn read_state_and_snapshot(&self) -> Result<(Bytes, Bytes), StoreError> {
        match fs::read(&self.path) {
            Ok(contents) => decode(&self.path, Bytes::from(contents)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok((Bytes::new(), Bytes::new())),
            Err(source) => Err(io_error(&self.path, source)),
        }
    }
}

impl StateStore for FileStore {
    fn save(&self, raft_state: Bytes, snapshot: Bytes) -> Result<(), StoreError> {
        FileStore::save(self, &raft_state, &snapshot)
    }
    fn read_raft_state(&self) -> Result<Bytes, StoreError> {
        FileStore::read_raft_state(self)
    }
    fn read_snapshot(&self) -> Result<Bytes, StoreError> {
        FileStore::read_snapshot(self)
    }
}

fn io_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `usize` to `u64`: lossless on every platform Rust supports.
fn len64(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

/// The whole file for one save.
fn encode(raft_state: &[u8], snapshot: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + raft_state.len() + snapshot.len());
    let version = FORMAT_VERSION.to_le_bytes();
    let state_len = len64(raft_state.len()).to_le_bytes();
    let snap_len = len64(snapshot.len()).to_le_bytes();
    let mut crc = crc32fast::Hasher::new();
    for part in [&version[..], &state_len, &snap_len, raft_state, snapshot] {
        crc.update(part);
    }
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&version);
    out.extend_from_slice(&state_len);
    out.extend_from_slice(&snap_len);
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(raft_state);
    out.extend_from_slice(snapshot);
    out
}

/// Fixed-size field `N` bytes from `at`; the caller has checked the header is complete.
fn field<const N: usize>(contents: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&contents[at..at + N]);
    out
}

/// Checks a whole file and splits it into (raft state, snapshot), checking in the order
/// that names the damage best: length of header, magic, version, lengths, checksum.
fn decode(path: &Path, contents: Bytes) -> Result<(Bytes, Bytes), StoreError> {
    let found = len64(contents.len());
    if contents.len() < HEADER_LEN {
        let expected = len64(HEADER_LEN);
        return Err(StoreError::Truncated {
            path: path.to_path_buf(),
            expected,
            found,
        });
    }
    let magic: [u8; 8] = field(&contents, 0);
    if magic != MAGIC {
        return Err(StoreError::BadMagic {
            path: path.to_path_buf(),
            found: magic,
            expected: MAGIC,
        });
    }
    let version = u32::from_le_bytes(field(&contents, 8));
    if version != FORMAT_VERSION {
        let supported = FORMAT_VERSION;
        return Err(StoreError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: version,
            supported,
        });
    }
    let state_len = u64::from_le_bytes(field(&contents, 12));
    let snap_len = u64::from_le_bytes(field(&contents, 20));
    let stored = u32::from_le_bytes(field(&contents, 28));
    let expected = len64(HEADER_LEN)
        .saturating_add(state_len)
        .saturating_add(snap_len);
    if found < expected {
        return Err(StoreError::Truncated {
            path: path.to_path_buf(),
            expected,
            found,
        });
    }
    if found > expected {
        return Err(StoreError::TrailingBytes {
            path: path.to_path_buf(),
            expected,
            found,
        });
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&contents[8..28]);
    crc.update(&contents[HEADER_LEN..]);
    let computed = crc.finalize();
    if computed != stored {
        return Err(StoreError::Checksum {
            path: path.to_path_buf(),
            stored,
            computed,
        });
    }
    // The lengths sum to the file's length, which fits in usize: both fit.
    let split = HEADER_LEN + usize::try_from(state_len).unwrap_or(usize::MAX);
    Ok((contents.slice(HEADER_LEN..split), contents.slice(split..)))
}
