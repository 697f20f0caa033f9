//! The durable store: round trips, crash safety, and every truncation and bit flip of a saved
//! file detected with an error naming the file and the damage.

use std::fs;
use std::path::Path;

use raft_persist::{
    Bytes, FORMAT_VERSION, FileStore, HEADER_LEN, MAGIC, STATE_FILE, StateStore, StoreError,
    TEMP_FILE,
};

const STATE: &[u8] = b"term=7;vote=2;log=[]";
const SNAPSHOT: &[u8] = b"kv:{a=1,b=2}";

/// A directory with one good save of (STATE, SNAPSHOT); returns its file's bytes too.
fn saved_dir() -> (tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FileStore::open(dir.path()).expect("open empty dir");
    store.save(STATE, SNAPSHOT).expect("save");
    let bytes = fs::read(dir.path().join(STATE_FILE)).expect("read state file");
    (dir, bytes)
}

fn assert_good(dir: &Path) {
    let store = FileStore::open(dir).expect("open");
    assert_eq!(&store.read_raft_state().expect("state")[..], STATE);
    assert_eq!(&store.read_snapshot().expect("snapshot")[..], SNAPSHOT);
}

#[test]
fn missing_file_is_empty_state_and_dir_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b");
    let store = FileStore::open(&nested).unwrap();
    assert!(store.read_raft_state().unwrap().is_empty());
    assert!(store.read_snapshot().unwrap().is_empty());
    assert!(nested.is_dir());
    assert_eq!(store.path(), nested.join(STATE_FILE));
}

#[test]
fn round_trip_survives_reopen_and_overwrite() {
    let (dir, bytes) = saved_dir();
    assert_eq!(bytes.len(), HEADER_LEN + STATE.len() + SNAPSHOT.len());
    assert_eq!(bytes[..8], MAGIC);
    assert_good(dir.path());
    let store = FileStore::open(dir.path()).unwrap();
    store.save(b"", b"").unwrap();
    let reopened = FileStore::open(dir.path()).unwrap();
    assert_eq!(
        reopened.read_state_and_snapshot().unwrap(),
        (Bytes::new(), Bytes::new())
    );
    let big_state = vec![0xabu8; 1 << 20];
    let big_snap: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
    reopened.save(&big_state, &big_snap).unwrap();
    let (s, n) = FileStore::open(dir.path())
        .unwrap()
        .read_state_and_snapshot()
        .unwrap();
    assert_eq!((&s[..], &n[..]), (&big_state[..], &big_snap[..]));
    assert!(
        !dir.path().join(TEMP_FILE).exists(),
        "no temp file after a save"
    );
}

#[test]
fn file_store_implements_state_store() {
    let dir = tempfile::tempdir().unwrap();
    let store: Box<dyn StateStore> = Box::new(FileStore::open(dir.path()).unwrap());
    store
        .save(Bytes::from_static(STATE), Bytes::from_static(SNAPSHOT))
        .unwrap();
    assert_eq!(&store.read_raft_state().unwrap()[..], STATE);
    assert_good(dir.path());
}

#[test]
fn truncation_at_every_offset_is_detected() {
    let (dir, bytes) = saved_dir();
    let path = dir.path().join(STATE_FILE);
    for cut in 0..bytes.len() {
        fs::write(&path, &bytes[..cut]).unwrap();
        match FileStore::open(dir.path()) {
            Err(StoreError::Truncated {
                path: p,
                expected,
                found,
            }) => {
                assert_eq!(p, path);
                assert_eq!(found, cut as u64);
                let whole = if cut < HEADER_LEN {
                    HEADER_LEN
                } else {
                    bytes.len()
                };
                assert_eq!(expected, whole as u64, "cut at {cut}");
            }
            other => panic!("cut at {cut}: expected Truncated, got {:?}", other.err()),
        }
    }
    fs::write(&path, &bytes).unwrap();
    assert_good(dir.path());
}

#[test]
fn trailing_bytes_are_detected() {
    let (dir, mut bytes) = saved_dir();
    bytes.push(0);
    fs::write(dir.path().join(STATE_FILE), &bytes).unwrap();
    let err = FileStore::open(dir.path()).expect_err("an error");
    assert!(
        matches!(err, StoreError::TrailingBytes { expected, found, .. }
        if found == expected + 1)
    );
}

/// The error a flip of bit `bit` of byte `at` must produce, by header region.
fn check_flip(at: usize, bit: u8, err: &StoreError) {
    let ok = match at {
        0..8 => matches!(err, StoreError::BadMagic { .. }),
        8..12 => matches!(err, StoreError::UnsupportedVersion { found, supported, .. }
            if *supported == FORMAT_VERSION && *found != FORMAT_VERSION),
        12..28 => matches!(
            err,
            StoreError::Truncated { .. } | StoreError::TrailingBytes { .. }
        ),
        _ => matches!(err, StoreError::Checksum { stored, computed, .. } if stored != computed),
    };
    assert!(ok, "bit {bit} of byte {at}: unexpected {err:?}");
}

#[test]
fn every_flipped_bit_is_detected_on_open_and_on_read() {
    let (dir, bytes) = saved_dir();
    let path = dir.path().join(STATE_FILE);
    let store = FileStore::open(dir.path()).unwrap();
    for at in 0..bytes.len() {
        for bit in 0..8u8 {
            let mut damaged = bytes.clone();
            damaged[at] ^= 1 << bit;
            fs::write(&path, &damaged).unwrap();
            let on_open = FileStore::open(dir.path()).expect_err("open must fail");
            check_flip(at, bit, &on_open);
            assert!(
                on_open.to_string().contains(STATE_FILE),
                "{on_open} names the file"
            );
            let on_read = store.read_snapshot().expect_err("read must fail");
            check_flip(at, bit, &on_read);
        }
    }
    fs::write(&path, &bytes).unwrap();
    assert_good(dir.path());
}

#[test]
fn foreign_file_is_bad_magic() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(STATE_FILE), vec![b'x'; 100]).unwrap();
    let err = FileStore::open(dir.path()).expect_err("an error");
    assert!(matches!(err, StoreError::BadMagic { found, .. } if found == [b'x'; 8]));
}

#[test]
fn crash_between_write_and_rename_keeps_the_previous_state() {
    let (dir, bytes) = saved_dir();
    let temp = dir.path().join(TEMP_FILE);
    // A crash mid-write: the temp file holds garbage, or part of a newer valid file.
    for leftover in [
        b"garbage \x00\xff".to_vec(),
        bytes[..bytes.len() / 2].to_vec(),
    ] {
        fs::write(&temp, &leftover).unwrap();
        assert_good(dir.path());
        assert!(!temp.exists(), "open removes the stray temp file");
    }
    // A crash after the temp file was complete but before the rename: still the old state.
    let store = FileStore::open(dir.path()).unwrap();
    store.save(b"newer", b"").unwrap();
    let newer = fs::read(dir.path().join(STATE_FILE)).unwrap();
    fs::write(dir.path().join(STATE_FILE), &bytes).unwrap();
    fs::write(&temp, &newer).unwrap();
    assert_good(dir.path());
    // And the next save works.
    let store = FileStore::open(dir.path()).unwrap();
    store.save(b"after", b"crash").unwrap();
    let reopened = FileStore::open(dir.path()).unwrap();
    assert_eq!(&reopened.read_raft_state().unwrap()[..], b"after");
}

#[test]
fn failed_save_leaves_the_old_file_untouched() {
    let (dir, bytes) = saved_dir();
    let store = FileStore::open(dir.path()).unwrap();
    // A directory where the temp file should go makes the save fail before any rename.
    fs::create_dir(dir.path().join(TEMP_FILE)).unwrap();
    let err = store.save(b"lost", b"lost").expect_err("save must fail");
    assert!(
        matches!(&err, StoreError::Io { path, .. } if path.ends_with(TEMP_FILE)),
        "{err:?}"
    );
    assert_eq!(fs::read(dir.path().join(STATE_FILE)).unwrap(), bytes);
    assert_eq!(&store.read_raft_state().unwrap()[..], STATE);
    fs::remove_dir(dir.path().join(TEMP_FILE)).unwrap();
    store.save(b"kept", b"").unwrap();
    assert_eq!(&store.read_raft_state().unwrap()[..], b"kept");
}
