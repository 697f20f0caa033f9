//! [`EntryByEntry`]: the same peer with the slowest correct backup.

use std::sync::Arc;

use bytes::Bytes;
use lab_api::{LabRaft, PeerArgs, RaftView, Started};
use labrpc_sim::Service;

use crate::peer::{Backup, Raft};

/// [`Raft`] with one change: a leader moves a refusing follower back one entry per refusal
/// instead of to its commit point. It is as safe as `Raft` and much slower to repair a long
/// divergence, so the grader may fail it only for slowness: the tests that require a fast
/// backup (`backup_by_term_x`, and the unreliable Figure 8 test, which the lab's handout says
/// needs one) must say so, and no safety check may ever fire on it.
pub struct EntryByEntry(Arc<Raft>);

impl LabRaft for EntryByEntry {
    fn make(args: PeerArgs) -> Arc<Self> {
        Arc::new(EntryByEntry(Raft::create(args, Backup::OneEntry)))
    }

    fn service(self: Arc<Self>) -> Service {
        Arc::clone(&self.0).service()
    }

    fn start(self: &Arc<Self>, command: Bytes) -> Option<Started> {
        self.0.start(command)
    }

    fn get_state(&self) -> (u64, bool) {
        self.0.get_state()
    }

    fn snapshot(self: &Arc<Self>, index: u64, snapshot: Bytes) {
        self.0.snapshot(index, snapshot);
    }

    fn kill(&self) {
        self.0.kill();
    }

    fn inspect(&self) -> Option<RaftView> {
        self.0.inspect()
    }

    fn describe(method: &str, bytes: &[u8], reply: bool) -> Option<String> {
        Raft::describe(method, bytes, reply)
    }
}
