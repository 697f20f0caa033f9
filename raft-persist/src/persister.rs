//! The lab's Persister (spec section 2, 2023+ single `save`).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;

/// The two byte strings, always replaced together. The raft state may be held in pieces (see
/// [`Persister::save_parts`]); it is joined, once, when somebody reads it.
#[derive(Clone, Default)]
struct Saved {
    raft_state: Vec<Bytes>,
    raft_state_len: usize,
    snapshot: Bytes,
}

impl Saved {
    /// The raft state as one `Bytes`, joining the pieces (and keeping the joined form, so a
    /// second read does not join again).
    fn joined_raft_state(&mut self) -> Bytes {
        match self.raft_state.as_slice() {
            [] => Bytes::new(),
            [one] => one.clone(),
            parts => {
                let mut joined = Vec::with_capacity(self.raft_state_len);
                for part in parts {
                    joined.extend_from_slice(part);
                }
                let joined = Bytes::from(joined);
                self.raft_state = vec![joined.clone()];
                joined
            }
        }
    }
}

/// The lab's Persister (spec section 2, 2023+ single `save`). A `Persister` value is a handle:
/// `clone()` shares the same object (the harness and the peer both hold it), while [`copy`]
/// makes a new object, which is how the harness isolates a crashed peer's zombie writes.
///
/// The lab clones byte slices on every save and read so that no caller can change saved state.
/// [`Bytes`] is immutable, so storing and returning it gives the same guarantee without
/// copying the bytes: a save swaps in new `Bytes`, and readers keep whatever they were given.
///
/// [`copy`]: Persister::copy
#[derive(Clone, Default)]
pub struct Persister {
    saved: Arc<Mutex<Saved>>,
    /// Called with every save, under the lock (so in the order the saves took effect).
    hook: Option<SaveHook>,
}

/// What [`Persister::with_save_hook`] calls with every save: the raft state (in pieces, see
/// [`Persister::save_parts`]) and the snapshot.
pub type SaveHook = Arc<dyn Fn(&[Bytes], &Bytes) + Send + Sync>;

impl Persister {
    /// An empty persister.
    pub fn new() -> Self {
        Self::default()
    }

    /// The saved pair, even after a panic elsewhere: a save is one assignment, never half done.
    fn lock(&self) -> MutexGuard<'_, Saved> {
        self.saved.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new, independent persister holding the same state and snapshot.
    pub fn copy(&self) -> Persister {
        let saved = self.lock().clone();
        Persister {
            saved: Arc::new(Mutex::new(saved)),
            hook: None,
        }
    }

    /// This persister (the same object) with `hook` called on every save made through this
    /// handle and its clones, under the persister's lock, after the save took effect. A peer
    /// run in a process of its own uses it to send every save to the grader's process, in
    /// order. A [`copy`](Persister::copy) has no hook.
    pub fn with_save_hook(mut self, hook: SaveHook) -> Persister {
        self.hook = Some(hook);
        self
    }
    /// Replaces the raft state and the snapshot in one atomic step.
    pub fn save(&self, raft_state: Bytes, snapshot: Bytes) {
        self.save_parts(vec![raft_state], snapshot);
    }
    /// [`save`](Persister::save) with the raft state given as the concatenation of `parts`.
    ///
    /// The lab persister stores the whole state on every save. A peer that keeps its encoded
    /// log in immutable pieces (most of them unchanged since the last save) hands over the
    /// pieces instead of copying them into one buffer, so a save costs O(pieces), not
    /// O(state): with many large entries in the log, that copy was most of a peer's CPU.
    /// Readers still get one contiguous `Bytes`, joined on the first read after the save.
    pub fn save_parts(&self, parts: Vec<Bytes>, snapshot: Bytes) {
        let raft_state_len = parts.iter().map(Bytes::len).sum();
        let mut saved = self.lock();
        *saved = Saved {
            raft_state: parts,
            raft_state_len,
            snapshot,
        };
        if let Some(hook) = &self.hook {
            hook(&saved.raft_state, &saved.snapshot);
        }
    }
    /// The last saved raft state (empty if none).
    pub fn read_raft_state(&self) -> Bytes {
        self.lock().joined_raft_state()
    }
    /// The last saved snapshot (empty if none).
    pub fn read_snapshot(&self) -> Bytes {
        self.lock().snapshot.clone()
    }
    /// The raft state and snapshot of one save, read together (two separate reads may straddle
    /// a save). What the harness needs to rebuild a crashed peer's persister.
    pub fn read_state_and_snapshot(&self) -> (Bytes, Bytes) {
        let mut saved = self.lock();
        (saved.joined_raft_state(), saved.snapshot.clone())
    }
    /// Length of the raft state in bytes.
    pub fn raft_state_size(&self) -> usize {
        self.lock().raft_state_len
    }
    /// Length of the snapshot in bytes.
    pub fn snapshot_size(&self) -> usize {
        self.lock().snapshot.len()
    }
}

impl std::fmt::Debug for Persister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let saved = self.lock();
        f.debug_struct("Persister")
            .field("raft_state_size", &saved.raft_state_len)
            .field("snapshot_size", &saved.snapshot.len())
            .finish()
    }
}
