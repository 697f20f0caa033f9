//! The lab API: what the grader needs from a Raft peer (spec section 4, 2023+ form, without
//! CondInstallSnapshot). The reference peer and a student's peer implement [`LabRaft`] and are
//! graded by the same harness.

use std::sync::Arc;

use bytes::Bytes;
use labrpc_sim::{ClientEnd, Service};
use raft_persist::Persister;

/// What a peer delivers on its apply channel, in log order, each committed entry exactly once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyMsg {
    /// A committed command (Go: `CommandValid`). The log is 1-indexed.
    Command {
        /// Its log index.
        index: u64,
        /// The command bytes exactly as given to [`LabRaft::start`].
        command: Bytes,
    },
    /// A snapshot received from the leader, to be installed by the service (Go:
    /// `SnapshotValid`). The bytes are the ones some service passed to
    /// [`LabRaft::snapshot`], unchanged.
    Snapshot {
        /// Term of the last entry the snapshot covers.
        term: u64,
        /// Index of the last entry the snapshot covers.
        index: u64,
        /// The service's snapshot bytes.
        data: Bytes,
    },
}

/// The apply channel has no receiver any more (the harness dropped it, e.g. after a crash).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the apply channel is closed")]
pub struct ApplyClosed;

/// The sending side of an apply channel. The channel is a rendezvous (capacity 0), like the
/// lab's unbuffered Go channel: `send` completes only when the harness has taken the message,
/// so a peer that holds a lock while sending can deadlock exactly as in Go.
#[derive(Clone, Debug)]
pub struct ApplySender(flume::Sender<ApplyMsg>);

/// The receiving side of an apply channel.
#[derive(Clone, Debug)]
pub struct ApplyReceiver(flume::Receiver<ApplyMsg>);

/// A new rendezvous apply channel.
pub fn apply_channel() -> (ApplySender, ApplyReceiver) {
    let (tx, rx) = flume::bounded(0);
    (ApplySender(tx), ApplyReceiver(rx))
}

impl ApplySender {
    /// Waits until the receiver takes `msg`.
    pub async fn send(&self, msg: ApplyMsg) -> Result<(), ApplyClosed> {
        self.0.send_async(msg).await.map_err(|_| ApplyClosed)
    }
}

impl ApplyReceiver {
    /// The next message, or `None` once every sender is gone.
    pub async fn recv(&self) -> Option<ApplyMsg> {
        self.0.recv_async().await.ok()
    }
}

/// Where `start` put a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Started {
    /// The index the command will have if it is ever committed.
    pub index: u64,
    /// The leader's current term.
    pub term: u64,
}

/// Everything a peer is made from (Go's `Make(peers, me, persister, applyCh)`, plus a seed).
pub struct PeerArgs {
    /// Client ends to every peer, in the same order on every peer; `peers[me]` is this one.
    pub peers: Vec<ClientEnd>,
    /// This peer's index in `peers`.
    pub me: usize,
    /// The persister holding this peer's last saved state (empty on first start).
    pub persister: Persister,
    /// Where committed commands and installed snapshots go.
    pub apply_ch: ApplySender,
    /// Seed for every random choice the peer makes (election timeouts), so that a grader run
    /// is a function of its seed.
    pub seed: u64,
}

/// A Raft peer the grader can test (spec 4.1). All methods but `make` may be called
/// concurrently, and all must return promptly, even after `kill`.
pub trait LabRaft: Send + Sync + 'static {
    /// Creates a peer and starts its background tasks on the current tokio runtime. Must
    /// return quickly: the harness reads the apply channel only after `make` returns.
    fn make(args: PeerArgs) -> Arc<Self>
    where
        Self: Sized;

    /// The RPC service ("Raft" with its methods) the harness registers on the network.
    fn service(self: Arc<Self>) -> Service;

    /// Starts agreement on `command`. Returns at once: `Some` with the index and term when
    /// this peer believes it is the leader, `None` otherwise.
    fn start(&self, command: Bytes) -> Option<Started>;

    /// The current term, and whether this peer believes it is the leader.
    fn get_state(&self) -> (u64, bool);

    /// The service has a snapshot of everything up to and including `index`; the peer may
    /// discard its log through `index` (2D). Called from the task that reads the apply channel.
    fn snapshot(&self, index: u64, snapshot: Bytes);

    /// Stops the peer: it never sends, applies or persists again.
    fn kill(&self);

    /// The parts of this implementation that are still to be written, in the student's words
    /// (for example "2A: the election ticker"). The grader adds them to a failing test's
    /// message, so an unfinished peer fails with a hint instead of a bare timeout. Finished
    /// implementations, like the reference peer, keep the default: nothing missing.
    fn missing(&self) -> Vec<&'static str> {
        Vec::new()
    }
}
