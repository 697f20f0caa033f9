//! The peer's tasks, Go style: a ticker that starts elections, one replicator per other peer
//! (it writes to that peer when kicked or when a heartbeat is due), one short task per RPC,
//! and the applier. Also the candidate's and the leader's handling of replies.

use std::sync::Arc;

use lab_api::ApplyMsg;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::{Instant, sleep, sleep_until};

use crate::peer::{Backup, HEARTBEAT, MAX_BATCH, Raft, Role, State};
use crate::wire::{self, Ballot, BallotReply, Batch, BatchReply, REPLICATE, SNAP, Transfer};
use crate::wire::{TransferReply, VOTE};

/// Starts the ticker, the applier and one replicator per other peer.
pub(crate) fn spawn_all(raft: &Arc<Raft>) {
    tokio::spawn(ticker(Arc::clone(raft)));
    tokio::spawn(applier(Arc::clone(raft)));
    for peer in (0..raft.peers.len()).filter(|&p| p != raft.me) {
        tokio::spawn(replicator(Arc::clone(raft), peer));
    }
}

/// Sleeps until the election deadline (a leader has none: it looks again later) and starts
/// an election if the deadline has passed by then and was not moved.
async fn ticker(raft: Arc<Raft>) {
    loop {
        let wake = {
            let st = raft.lock();
            if st.role == Role::Leader {
                Instant::now() + 3 * HEARTBEAT
            } else {
                st.deadline
            }
        };
        tokio::select! {
            biased;
            () = raft.stopped() => return,
            () = sleep_until(wake) => {}
        }
        raft.campaign_if_due();
    }
}

/// Writes to `peer` while this peer leads: when kicked (new entries, a new term) and when
/// a heartbeat is due. Each write is its own task, which follows up on the reply at once (a
/// refusal, or more to send): a lost request never holds up another.
async fn replicator(raft: Arc<Raft>, peer: usize) {
    loop {
        tokio::select! {
            biased;
            () = raft.stopped() => return,
            () = raft.kicks[peer].notified() => {}
            () = sleep(HEARTBEAT) => {}
        }
        if let Some(message) = raft.message_for(peer) {
            tokio::spawn(exchange(Arc::clone(&raft), peer, message));
        }
    }
}

/// Sends `message` to `peer`, then each follow-up the reply calls for.
async fn exchange(raft: Arc<Raft>, peer: usize, mut message: Message) {
    loop {
        let follow_up = match message {
            Message::Batch(b) => {
                let Some(reply) = raft.call(peer, REPLICATE, &b).await else {
                    return;
                };
                raft.on_batch_reply(peer, &b, reply)
            }
            Message::Transfer(s) => {
                let Some(reply) = raft.call(peer, SNAP, &s).await else {
                    return;
                };
                raft.on_transfer_reply(peer, &s, reply)
            }
        };
        match follow_up {
            Some(next) => message = next,
            None => return,
        }
    }
}

/// Delivers committed entries (after a snapshot from a leader, if one is waiting) in
/// order, each once. The state is locked only to pick the next batch, never while sending.
async fn applier(raft: Arc<Raft>) {
    loop {
        tokio::select! {
            biased;
            () = raft.stopped() => return,
            () = raft.apply_signal.notified() => {}
        }
        loop {
            let batch = raft.next_batch();
            if batch.is_empty() {
                break;
            }
            if raft.apply_ch.send_all(batch).await.is_err() {
                return;
            }
        }
    }
}

/// What a leader sends a follower.
enum Message {
    Batch(Batch),
    Transfer(Transfer),
}

impl Raft {
    /// Sends one request and waits for its reply; `None` if it was lost (or the peer was
    /// killed meanwhile).
    async fn call<A: Serialize, R: DeserializeOwned>(
        &self,
        peer: usize,
        method: &str,
        args: &A,
    ) -> Option<R> {
        if self.killed() {
            return None;
        }
        let bytes = wire::encode(args)
            .map_err(|e| tracing::error!("not sent: {e}"))
            .ok()?;
        let reply = self.peers.get(peer)?.call(method, bytes).await.ok()?;
        if self.killed() {
            return None;
        }
        wire::decode(&reply).ok()
    }

    /// A follower or candidate whose deadline has passed starts an election (5.2).
    fn campaign_if_due(self: &Arc<Self>) {
        let ballot = {
            let mut st = self.lock();
            if self.killed() || st.role == Role::Leader || Instant::now() < st.deadline {
                return;
            }
            st.term += 1;
            st.voted_for = Some(self.me);
            st.role = Role::Candidate { votes: 1 };
            st.reset_deadline();
            self.persist(&st);
            tracing::debug!(term = st.term, "campaigning");
            self.win_if_elected(&mut st);
            Ballot {
                term: st.term,
                candidate: u32::try_from(self.me).unwrap_or(u32::MAX),
                last_index: st.log.last_index(),
                last_term: st.log.last_term(),
            }
        };
        for peer in (0..self.peers.len()).filter(|&p| p != self.me) {
            let (raft, ballot) = (Arc::clone(self), ballot.clone());
            tokio::spawn(async move {
                if let Some(reply) = raft.call(peer, VOTE, &ballot).await {
                    raft.on_ballot_reply(&ballot, reply);
                }
            });
        }
    }

    fn on_ballot_reply(&self, b: &Ballot, r: BallotReply) {
        let mut st = self.lock();
        if r.term > st.term {
            st.adopt(r.term);
            self.persist(&st);
            return;
        }
        if st.term != b.term || !r.granted {
            return;
        }
        if let Role::Candidate { votes } = &mut st.role {
            *votes += 1;
        }
        self.win_if_elected(&mut st);
    }

    /// A candidate with a majority of votes (its own included) leads its term, and every
    /// replicator is kicked for the first heartbeat.
    fn win_if_elected(&self, st: &mut State) {
        let Role::Candidate { votes } = st.role else {
            return;
        };
        if 2 * votes <= self.peers.len() {
            return;
        }
        st.role = Role::Leader;
        let next = st.log.last_index() + 1;
        st.next.fill(next);
        st.matched.fill(0);
        tracing::debug!(term = st.term, "leading");
        for kick in &self.kicks {
            kick.notify_one();
        }
    }

    /// What the leader sends `peer` now (nothing if it does not lead).
    fn message_for(&self, peer: usize) -> Option<Message> {
        let st = self.lock();
        if self.killed() || st.role != Role::Leader {
            return None;
        }
        self.message(&st, peer)
    }

    /// The entries from `peer`'s next index (none for a heartbeat), or the snapshot if those
    /// entries are gone (7).
    fn message(&self, st: &State, peer: usize) -> Option<Message> {
        let leader = u32::try_from(self.me).unwrap_or(u32::MAX);
        let next = st.next[peer];
        let message = if next <= st.log.base_index {
            Message::Transfer(Transfer {
                term: st.term,
                leader,
                last_index: st.log.base_index,
                last_term: st.log.base_term,
                data: st.snapshot.clone(),
            })
        } else {
            Message::Batch(Batch {
                term: st.term,
                leader,
                prev_index: next - 1,
                prev_term: st.log.term_at(next - 1)?,
                commit: st.commit,
                entries: st.log.from(next, MAX_BATCH),
            })
        };
        Some(message)
    }

    /// Whether the leader of `term` may act on a reply carrying `reply_term`; a newer term
    /// deposes this peer.
    fn settle(&self, st: &mut State, term: u64, reply_term: u64) -> bool {
        if reply_term > st.term {
            st.adopt(reply_term);
            self.persist(st);
            return false;
        }
        st.role == Role::Leader && st.term == term
    }

    /// The leader learns where `peer` stands (Figure 2, rules for leaders; 5.3), and sends
    /// what follows: more entries, or a probe further back after a refusal.
    fn on_batch_reply(&self, peer: usize, b: &Batch, r: BatchReply) -> Option<Message> {
        let mut st = self.lock();
        if !self.settle(&mut st, b.term, r.term) {
            return None;
        }
        if r.accepted {
            let matched = b.prev_index + b.entries.len() as u64;
            if matched > st.matched[peer] {
                st.matched[peer] = matched;
                self.advance_commit(&mut st);
            }
            st.next[peer] = st.next[peer].max(matched + 1);
            if st.next[peer] <= st.log.last_index() {
                return self.message(&st, peer);
            }
        } else if st.next[peer] == b.prev_index + 1 && b.prev_index > st.matched[peer] {
            // Only the refusal of the current probe moves `next`: a late or repeated one
            // must not move it twice.
            let back = match self.backup {
                Backup::CommitPoint => r.commit + 1,
                Backup::OneEntry => b.prev_index,
            };
            st.next[peer] = back.min(b.prev_index).max(st.matched[peer] + 1);
            return self.message(&st, peer);
        }
        None
    }

    fn on_transfer_reply(&self, peer: usize, s: &Transfer, r: TransferReply) -> Option<Message> {
        let mut st = self.lock();
        if !self.settle(&mut st, s.term, r.term) {
            return None;
        }
        st.matched[peer] = st.matched[peer].max(s.last_index);
        st.next[peer] = st.next[peer].max(s.last_index + 1);
        if st.next[peer] <= st.log.last_index() {
            return self.message(&st, peer);
        }
        None
    }

    /// Commits the highest index stored on a majority, if it is of the leader's own term
    /// (5.4.2: an older term's entry is committed only under one of the current term).
    pub(crate) fn advance_commit(&self, st: &mut State) {
        if st.role != Role::Leader {
            return;
        }
        let mut matched = st.matched.clone();
        matched[self.me] = st.log.last_index();
        matched.sort_unstable_by(|a, b| b.cmp(a));
        let majority_has = matched[self.peers.len() / 2];
        if majority_has > st.commit && st.log.term_at(majority_has) == Some(st.term) {
            st.commit = majority_has;
            self.apply_signal.notify_one();
        }
    }

    /// The next messages for the applier, marked applied as they are picked (only the
    /// applier sends, so they go out in this order).
    fn next_batch(&self) -> Vec<ApplyMsg> {
        let mut st = self.lock();
        let mut out = Vec::new();
        if self.killed() {
            return out;
        }
        if std::mem::take(&mut st.snapshot_pending) {
            out.push(ApplyMsg::Snapshot {
                term: st.log.base_term,
                index: st.log.base_index,
                data: st.snapshot.clone(),
            });
            st.applied = st.applied.max(st.log.base_index);
        }
        while st.applied < st.commit {
            let index = st.applied + 1;
            let Some(entry) = st.log.get(index) else {
                break;
            };
            let command = entry.command.clone();
            out.push(ApplyMsg::Command { index, command });
            st.applied = index;
        }
        out
    }
}
