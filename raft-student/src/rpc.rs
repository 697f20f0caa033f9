//! The RPCs: the "Raft" service the grader registers on the network (the receiving side, one
//! handler per method) and the helpers that send them (the calling side).
//!
//! Handlers are plain functions: take the lock, apply the paper's rules, persist if anything
//! persistent changed (2C), release the lock, return the reply. They never await, so they
//! cannot hold the lock across an `.await` by accident.
//!
//! A rule that applies to every handler and every reply you receive: a term above
//! `current_term` makes this peer adopt it, step down to follower and forget its vote.

use std::sync::Arc;

use labrpc_sim::Service;

use crate::Raft;
use crate::messages::{
    AppendEntriesArgs, AppendEntriesReply, InstallSnapshotArgs, InstallSnapshotReply,
    RequestVoteArgs, RequestVoteReply,
};

/// The "Raft" service with its three methods, each decoding its args, calling the handler
/// below and encoding the reply. Undecodable args get an error for the caller, never a panic.
pub(crate) fn service(raft: Arc<Raft>) -> Service {
    let vote = Arc::clone(&raft);
    let append = Arc::clone(&raft);
    let install = raft;
    Service::new("Raft")
        .typed_method("RequestVote", move |args: RequestVoteArgs| {
            let raft = Arc::clone(&vote);
            async move { raft.request_vote(args) }
        })
        .typed_method("AppendEntries", move |args: AppendEntriesArgs| {
            let raft = Arc::clone(&append);
            async move { raft.append_entries(args) }
        })
        .typed_method("InstallSnapshot", move |args: InstallSnapshotArgs| {
            let raft = Arc::clone(&install);
            async move { raft.install_snapshot(args) }
        })
}

impl Raft {
    /// Handles a vote request (2A; the log check from 2B on).
    pub fn request_vote(&self, args: RequestVoteArgs) -> RequestVoteReply {
        // TODO(2A): under the lock:
        // - args.term < current_term: refuse, and reply with your term.
        // - args.term > current_term: adopt it, become follower, voted_for = None.
        // - Grant the vote if voted_for is None or already the candidate, and (2B) the
        //   candidate's log is at least as up to date as yours: its last term is higher, or the
        //   same with an index at least as high. When granting, set voted_for and reset your
        //   election deadline.
        // - 2C: persist before returning if current_term or voted_for changed.
        let _ = args;
        RequestVoteReply::default()
    }

    /// Handles a heartbeat or a batch of entries from a leader (2A: heartbeats; 2B: entries).
    pub fn append_entries(&self, args: AppendEntriesArgs) -> AppendEntriesReply {
        // TODO(2A): args.term < current_term: refuse, reply with your term. Otherwise this is
        // the leader of args.term: adopt the term, become (or stay) follower, and reset the
        // election deadline.
        // TODO(2B): refuse unless your log holds an entry at prev_log_index with term
        // prev_log_term (optionally fill the x_* hints). Then, for each entry in args.entries,
        // if your log already has an entry at that index with a different term, cut your log
        // there; append whatever you do not already have. Do NOT cut entries that match: an
        // old, reordered AppendEntries must never shorten your log. Finally, set commit_index
        // to min(leader_commit, index of the last new entry) if that is higher, and wake the
        // applier (`self.apply_wakeup.notify_one()`).
        // 2C: persist before returning if the term, vote or log changed.
        let _ = args;
        AppendEntriesReply::default()
    }

    /// Handles a snapshot from a leader (2D).
    pub fn install_snapshot(&self, args: InstallSnapshotArgs) -> InstallSnapshotReply {
        // TODO(2D): the term rules as for append_entries. Ignore a snapshot that does not go
        // past what you have already committed/applied. Otherwise keep the log entries after
        // last_included_index if your log has that entry with the same term, else drop the
        // whole log; store the snapshot, persist state and snapshot together, and have the
        // applier send ApplyMsg::Snapshot on the apply channel (not from here: this handler
        // must not await, and must never hold the lock while sending).
        let _ = args;
        InstallSnapshotReply::default()
    }

    /// Sends RequestVote to `server` and waits for the reply; `None` when the network lost the
    /// request or reply (the lab's `Call` returning false). Call it from a spawned task, never
    /// with the state lock held. Retrying is your choice: a lost vote request is usually best
    /// left to the next election.
    pub async fn send_request_vote(
        &self,
        server: usize,
        args: &RequestVoteArgs,
    ) -> Option<RequestVoteReply> {
        self.peers
            .get(server)?
            .call_typed("Raft.RequestVote", args)
            .await
            .ok()
    }

    /// Sends AppendEntries to `server`; as [`Raft::send_request_vote`].
    pub async fn send_append_entries(
        &self,
        server: usize,
        args: &AppendEntriesArgs,
    ) -> Option<AppendEntriesReply> {
        self.peers
            .get(server)?
            .call_typed("Raft.AppendEntries", args)
            .await
            .ok()
    }

    /// Sends InstallSnapshot to `server`; as [`Raft::send_request_vote`].
    pub async fn send_install_snapshot(
        &self,
        server: usize,
        args: &InstallSnapshotArgs,
    ) -> Option<InstallSnapshotReply> {
        self.peers
            .get(server)?
            .call_typed("Raft.InstallSnapshot", args)
            .await
            .ok()
    }
}
