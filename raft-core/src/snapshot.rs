//! Log compaction and InstallSnapshot (section 7).
//!
//! The service snapshots its state through an applied index; the log before it is dropped
//! and only the last included index and term are kept, for the consistency check. A leader
//! whose follower needs a compacted entry sends its snapshot instead. A follower installs a
//! snapshot only if it covers more than it has applied (commit and apply never go
//! backwards); it keeps the entries after the snapshot if its log agrees at the last included
//! index, else discards the whole log, and hands the snapshot to the service in order with
//! its commands.

use bytes::Bytes;

use crate::message::{InstallSnapshotArgs, InstallSnapshotReply, Request};
use crate::output::Apply;
use crate::raft::Raft;
use crate::role::{ProgressMode, RoleState};
use crate::types::{LogIndex, PeerId};

impl Raft {
    /// Section 7, the service side: compact through `index` unless it is not above the
    /// current snapshot or not yet applied.
    pub(crate) fn take_service_snapshot(&mut self, index: LogIndex, data: Bytes) {
        if index <= self.log.snapshot_index() || index > self.last_applied {
            return;
        }
        let term = self
            .log
            .term_at(index)
            .expect("invariant: applied entries above the snapshot are in the log");
        self.log.compact_to(index, term);
        self.snapshot_data = data;
        let last = self.log.last_index();
        self.pending.persist.note_snapshot(index, term, last);
    }

    /// Section 7, leader: send the snapshot to a follower that needs compacted entries.
    pub(crate) fn send_snapshot(&mut self, to: PeerId) {
        let args = InstallSnapshotArgs {
            term: self.current_term,
            leader_id: self.config.id,
            last_included_index: self.log.snapshot_index(),
            last_included_term: self.log.snapshot_term(),
            data: self.snapshot_data.clone(),
        };
        self.send(to, Request::Snapshot(args));
    }

    /// InstallSnapshot receiver (Figure 13): reply with currentTerm; ignore an older term;
    /// ignore a snapshot that does not go past what was applied; otherwise keep the log
    /// after it if the log agrees at the last included entry, else discard the log.
    pub(crate) fn handle_install_snapshot(
        &mut self,
        args: InstallSnapshotArgs,
    ) -> InstallSnapshotReply {
        if args.term >= self.current_term {
            self.observe_term(args.term);
            self.become_follower();
            self.leader_hint = Some(args.leader_id);
            self.reset_election_timer();
            let stale_too = self.config.bug == Some(crate::Bug::InstallStaleSnapshot);
            if args.last_included_index > self.last_applied || stale_too {
                self.install_snapshot(args);
            }
        }
        InstallSnapshotReply {
            term: self.current_term,
        }
    }

    fn install_snapshot(&mut self, args: InstallSnapshotArgs) {
        let index = args.last_included_index;
        let term = args.last_included_term;
        let kept = self.log.compact_to(index, term);
        if !kept {
            // Whatever the store holds after the snapshot is gone too.
            self.pending.persist.note_truncate(index.next());
        }
        self.snapshot_data = args.data.clone();
        let last = self.log.last_index();
        self.pending.persist.note_snapshot(index, term, last);
        self.commit_index = self.commit_index.max(index);
        self.last_applied = index;
        self.pending.apply.push(Apply::Snapshot {
            index,
            term,
            data: args.data,
        });
    }

    /// Leader, on an InstallSnapshot reply in its term: the follower now holds everything
    /// through the snapshot.
    pub(crate) fn handle_snapshot_reply(&mut self, from: PeerId, args: &InstallSnapshotArgs) {
        if args.term != self.current_term {
            return;
        }
        let RoleState::Leader(leader) = &mut self.role else {
            return;
        };
        let pr = &mut leader.progress[from.0];
        pr.snapshot_inflight = false;
        pr.match_index = pr.match_index.max(args.last_included_index);
        pr.next_index = pr.next_index.max(pr.match_index.next());
        pr.mode = ProgressMode::Replicate;
        pr.inflight = 0;
        self.leader_advance_commit();
        while self.send_append(from, false) {}
    }

    /// InstallSnapshot lost: allow the next heartbeat to resend it.
    pub(crate) fn handle_snapshot_failure(&mut self, to: PeerId, args: &InstallSnapshotArgs) {
        if args.term != self.current_term {
            return;
        }
        if let RoleState::Leader(leader) = &mut self.role {
            leader.progress[to.0].snapshot_inflight = false;
        }
    }
}
