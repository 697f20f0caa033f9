//! Log replication (5.3), with the accelerated backup of 5.3's closing paragraphs.
//!
//! The leader sends each follower the entries from its `next_index`, with the index and term
//! of the entry just before them. A follower accepts only if its log holds that previous
//! entry with that term (the consistency check); by induction its log then matches the
//! leader's up to there (Log Matching). On a conflict (same index, different term) the
//! follower drops its entry and everything after it; entries it already holds are kept, so
//! a late or duplicated AppendEntries never removes anything. On a rejection the follower
//! reports the conflicting term and the first index it holds of that term (or its log length),
//! and the leader skips back one whole term per round trip.
//!
//! Sending: followers whose position is known are in "replicate" mode and get up to
//! `max_inflight_appends` pipelined messages, `next_index` advancing as they are sent; after
//! a rejection, a failure or an election they are "probed" one message at a time. Heartbeats
//! go to everyone even when the pipeline is full, so a reconnected follower resyncs.
//!
//! Batching: a proposal goes out at once only to followers with nothing in flight; a busy
//! follower gets everything proposed meanwhile in one message (up to
//! `max_entries_per_append`, pipelining several for a larger backlog) when a reply arrives.
//! With `coalesce_appends` "at once" becomes "when the runtime calls `replicate`", so the
//! proposals made until the runtime is ready to send join the message too.

use crate::message::{AppendEntriesArgs, AppendEntriesReply, Request};
use crate::raft::Raft;
use crate::role::{ProgressMode, RoleState};
use crate::types::{LogIndex, PeerId};

impl Raft {
    /// 5.2 heartbeats: every follower gets an AppendEntries now (entries if allowed).
    pub(crate) fn broadcast_heartbeat(&mut self) {
        for peer in self.config.others() {
            self.send_append(peer, true);
        }
    }

    /// 5.3 "the leader issues AppendEntries in parallel to each of the other servers":
    /// send new entries at once to every follower with nothing in flight. Busy followers
    /// get them when a reply frees their pipeline (`handle_append_reply`), so proposals
    /// that arrive during a round trip travel together instead of one message each.
    pub(crate) fn leader_replicate_idle(&mut self) {
        for peer in self.config.others() {
            let idle = match &self.role {
                RoleState::Leader(leader) => leader.progress[peer.0].inflight == 0,
                _ => false,
            };
            if idle {
                self.send_or_defer(peer, false);
            }
        }
    }

    /// New entries for `to`: sent now (one message, or as many as the pipeline takes when
    /// `fill`), or, with `coalesce_appends`, left for the runtime's [`Raft::replicate`] call
    /// (5.3 sets no deadline; the runtime calls it when it is about to send, so proposals
    /// made meanwhile travel in the same AppendEntries).
    fn send_or_defer(&mut self, to: PeerId, fill: bool) {
        if !self.config.coalesce_appends {
            while self.send_append(to, false) && fill {}
        } else if self.has_news_for(to) && !self.pending.replicate.contains(&to) {
            self.pending.replicate.push(to);
        }
    }

    /// Whether `to` lacks entries the leader holds and its pipeline has room for them.
    fn has_news_for(&self, to: PeerId) -> bool {
        let RoleState::Leader(leader) = &self.role else {
            return false;
        };
        let pr = &leader.progress[to.0];
        pr.next_index <= self.log.last_index() && pr.has_room(self.config.max_inflight_appends)
    }

    /// Sends `to` an AppendEntries from its `next_index` (or InstallSnapshot if that entry
    /// is compacted, section 7). Without `heartbeat`, sends only if entries can go. Returns
    /// whether an AppendEntries carrying entries was sent.
    pub(crate) fn send_append(&mut self, to: PeerId, heartbeat: bool) -> bool {
        let RoleState::Leader(leader) = &mut self.role else {
            return false;
        };
        let pr = &mut leader.progress[to.0];
        if pr.next_index <= self.log.snapshot_index() {
            if heartbeat || !pr.snapshot_inflight {
                pr.snapshot_inflight = true;
                self.send_snapshot(to);
            }
            return false;
        }
        let prev = pr.next_index.prev();
        let prev_log_term = self
            .log
            .term_at(prev)
            .expect("invariant: snapshot_index <= next_index - 1 <= last_log_index");
        let available = (self.log.last_index().0 - prev.0) as usize;
        let n = if pr.has_room(self.config.max_inflight_appends) {
            available.min(self.config.max_entries_per_append)
        } else {
            0
        };
        if n == 0 && !heartbeat {
            return false;
        }
        let entries = self.log.slice(pr.next_index, n);
        if n > 0 {
            pr.inflight += 1;
            if pr.mode == ProgressMode::Replicate {
                pr.next_index = prev.plus(n + 1);
            }
        }
        let args = AppendEntriesArgs {
            term: self.current_term,
            leader_id: self.config.id,
            prev_log_index: prev,
            prev_log_term,
            entries,
            leader_commit: self.commit_index,
        };
        self.send(to, Request::Append(args));
        n > 0
    }

    /// AppendEntries receiver (Figure 2, 5.3).
    pub(crate) fn handle_append_entries(&mut self, args: AppendEntriesArgs) -> AppendEntriesReply {
        // 1. Reply false if term < currentTerm.
        if args.term < self.current_term {
            return self.append_reply(false, None, LogIndex(0));
        }
        self.observe_term(args.term);
        // A valid leader for this term: candidates step down, everyone resets the timer.
        debug_assert!(
            !self.is_leader(),
            "two leaders in term {:?}",
            self.current_term
        );
        self.become_follower();
        self.leader_hint = Some(args.leader_id);
        self.reset_election_timer();

        let AppendEntriesArgs {
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit,
            ..
        } = args;
        let last_new = prev_log_index.plus(entries.len());
        let snapshot_index = self.log.snapshot_index();
        // Entries at or below the snapshot are committed and match by definition (section 7).
        let skip = (snapshot_index.0.saturating_sub(prev_log_index.0)) as usize;
        let start = prev_log_index.max(snapshot_index);
        if skip == 0 {
            // 2. Reply false if the log has no entry at prev_log_index with prev_log_term.
            match self.log.term_at(prev_log_index) {
                None => return self.append_reply(false, None, LogIndex(0)),
                Some(t) if t != prev_log_term => {
                    let first = self.log.first_index_of_term(t).unwrap_or(prev_log_index);
                    return self.append_reply(false, Some(t), first);
                }
                Some(_) => {}
            }
        }
        self.merge_entries(start, entries.into_iter().skip(skip));
        // 5. If leaderCommit > commitIndex, commitIndex = min(leaderCommit, last new entry).
        let new_commit = leader_commit.min(last_new).min(self.log.last_index());
        if new_commit > self.commit_index {
            self.commit_index = new_commit;
        }
        self.append_reply(true, None, LogIndex(0))
    }

    /// Figure 2 receiver steps 3 and 4: an existing entry that conflicts with a new one (same
    /// index, different term) is deleted with all that follow it; new entries not already in
    /// the log are appended. Entries that already match are left alone.
    fn merge_entries(&mut self, after: LogIndex, entries: impl Iterator<Item = crate::Entry>) {
        let mut index = after;
        let mut appending = false;
        for entry in entries {
            index = index.next();
            if !appending {
                let truncate_all = self.config.bug == Some(crate::Bug::TruncateOnEveryAppend);
                match self.log.term_at(index) {
                    Some(t) if t == entry.term && !truncate_all => continue,
                    Some(_) => self.truncate_log(index),
                    None => {}
                }
                appending = true;
            }
            self.append_entry(entry);
        }
    }

    /// A reply in the accelerated-backup shape; XLen is always this log's length.
    fn append_reply(
        &self,
        success: bool,
        conflict_term: Option<crate::Term>,
        conflict_index: LogIndex,
    ) -> AppendEntriesReply {
        AppendEntriesReply {
            term: self.current_term,
            success,
            conflict_term,
            conflict_index,
            log_len: self.log.last_index().next(),
        }
    }

    /// Leader, on an AppendEntries reply in its own term (Figure 2 "rules for leaders"):
    /// on success update match_index/next_index and send more; on failure back up.
    pub(crate) fn handle_append_reply(
        &mut self,
        from: PeerId,
        args: &AppendEntriesArgs,
        reply: &AppendEntriesReply,
    ) {
        if args.term != self.current_term {
            return;
        }
        let RoleState::Leader(leader) = &mut self.role else {
            return;
        };
        let pr = &mut leader.progress[from.0];
        if !args.entries.is_empty() {
            pr.inflight = pr.inflight.saturating_sub(1);
        }
        if reply.success {
            // Old or duplicated replies never move match_index backwards.
            let matched = args.prev_log_index.plus(args.entries.len());
            pr.match_index = pr.match_index.max(matched);
            pr.next_index = pr.next_index.max(pr.match_index.next());
            pr.mode = ProgressMode::Replicate;
            self.leader_advance_commit();
            self.send_or_defer(from, true);
            return;
        }
        let stale = args.prev_log_index <= pr.match_index
            || (pr.mode == ProgressMode::Probe && args.prev_log_index != pr.next_index.prev());
        if stale {
            return;
        }
        let target = if self.config.bug == Some(crate::Bug::BackupOneEntry) {
            args.prev_log_index
        } else {
            backup_target(&self.log, reply)
        };
        let next = target.min(args.prev_log_index).max(pr.match_index.next());
        pr.probe_from(next);
        self.send_append(from, false);
    }

    /// An AppendEntries got no reply: the follower's position is unknown again, so probe
    /// from just after what it is known to hold. The next heartbeat (or proposal) resends.
    pub(crate) fn handle_append_failure(&mut self, to: PeerId, args: &AppendEntriesArgs) {
        if args.term != self.current_term {
            return;
        }
        let RoleState::Leader(leader) = &mut self.role else {
            return;
        };
        let pr = &mut leader.progress[to.0];
        if !args.entries.is_empty() {
            pr.inflight = pr.inflight.saturating_sub(1);
        }
        let next = pr.match_index.next();
        pr.probe_from(next);
    }
}

/// 5.3 accelerated backup, the lab's rule: no entry at prev (XTerm absent) -> the follower's
/// log length; the leader holds XTerm -> just after its last entry of XTerm; else XIndex.
fn backup_target(log: &crate::log::RaftLog, reply: &AppendEntriesReply) -> LogIndex {
    match reply.conflict_term {
        None => reply.log_len,
        Some(term) => match log.last_index_of_term(term) {
            Some(last) => last.next(),
            None => reply.conflict_index,
        },
    }
}
