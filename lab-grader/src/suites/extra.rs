//! The extra suite: targeted scenarios for classic bugs that the Go suite's 28 tests catch
//! rarely or never. Not part of `all` (which stays exactly Go's); run them with
//! `cargo run -p grader -- extra`. Each test drives the cluster into the situation a bug
//! breaks, deterministically by seed, and checks what a correct Raft must show there, through
//! the lab API alone; with `inspect` the continuous safety checks watch as well.

use std::time::Duration;

use lab_api::LabRaft;
use tokio::time::{Instant, sleep};

use crate::cmd::Cmd;
use crate::fail::Fail;
use crate::harness::{ELECTION_TIMEOUT, TestContext, make_config};

/// A vote must survive a restart (Figure 2: `currentTerm` and `votedFor` are persisted before
/// answering). Ten rounds of: the leader is cut off, so one of the two others can only win
/// the new term with the other one's vote; that voter crashes at once and restarts.
///
/// 1. n=3, reliable. `one(1, 3)`.
/// 2. Round r: `L0 = check_one_leader`; disconnect L0; `L = check_one_leader`, term T (L won
///    T with the vote of V, the third peer).
/// 3. Crash V and restart it; its term must be at least T (`get_state`); with `inspect`, its
///    vote in T must still be L.
/// 4. Connect all; `one(r + 2, 3, true)`.
pub async fn vote_survives_restart_x<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 3;
    let cfg = make_config::<R>(&t, servers, false, false)?;
    cfg.begin();
    cfg.one(Cmd::Int(1), servers, true).await?;
    for round in 0..10i64 {
        let old = cfg.check_one_leader().await?;
        cfg.disconnect(old);
        let leader = cfg.check_one_leader().await?;
        let (term, _) = cfg.get_state(leader).unwrap_or((0, false));
        let Some(voter) = (0..servers).find(|&i| i != old && i != leader) else {
            return Err(Fail::NoLeader);
        };
        cfg.crash1(voter);
        cfg.start1(voter)?;
        let (after, _) = cfg.get_state(voter).unwrap_or((0, false));
        if after < term {
            return Err(Fail::ForgotTerm {
                peer: voter,
                before: term,
                after,
            });
        }
        if let Some(view) = cfg.inspect(voter) {
            if view.term == term && view.voted_for != Some(leader) {
                return Err(Fail::ForgotVote {
                    peer: voter,
                    term,
                    leader,
                });
            }
        }
        for i in 0..servers {
            cfg.connect(i);
        }
        cfg.one(Cmd::Int(round + 2), servers, true).await?;
    }
    cfg.end()
}

/// A leader must step down when a reply carries a higher term (§5.1). The old leader is cut
/// off until the others elect a new one; then it may send (and hear replies) but receives no
/// request, so only the replies can tell it about the new term.
///
/// 1. n=3, reliable. `one(1, 3)`; `L1 = check_one_leader`, term T1; disconnect L1.
/// 2. `L2 = check_one_leader` among the others (term T2 > T1); `one(2, 2)`.
/// 3. Enable only L1's links towards the others. Sleep 1 election timeout.
/// 4. L1 must no longer claim to lead term T1: its term is >= T2, or it is not leader.
pub async fn leader_steps_down_on_reply_x<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 3;
    let cfg = make_config::<R>(&t, servers, false, false)?;
    cfg.begin();
    cfg.one(Cmd::Int(1), servers, true).await?;
    let leader1 = cfg.check_one_leader().await?;
    let (term1, _) = cfg.get_state(leader1).unwrap_or((0, false));
    cfg.disconnect(leader1);
    let leader2 = cfg.check_one_leader().await?;
    let (term2, _) = cfg.get_state(leader2).unwrap_or((0, false));
    cfg.one(Cmd::Int(2), servers - 1, true).await?;
    for j in (0..servers).filter(|&j| j != leader1) {
        cfg.set_link(leader1, j, true);
    }
    sleep(ELECTION_TIMEOUT).await;
    if let Some((term, leader)) = cfg.get_state(leader1) {
        if leader && term < term2 {
            return Err(Fail::IgnoredHigherTerm {
                peer: leader1,
                term: term1,
                newer: term2,
            });
        }
    }
    for i in 0..servers {
        cfg.connect(i);
    }
    cfg.one(Cmd::Int(3), servers, true).await?;
    cfg.end()
}

/// The Figure 8 commit rule, made deterministic (§5.4.2): a new leader holds an entry of an
/// older term that is now on a majority; it must not commit it by counting replicas before
/// an entry of its own term commits, because a peer that never saw it could still win an
/// election and overwrite it.
///
/// 1. n=5, reliable. `one(1, 5)`; `L1 = check_one_leader`. Only L1 and P2 = L1+1 connected.
/// 2. `L1.start(2)` reaches P2 only (index 2, term T1, not committed). Crash L1.
/// 3. Connect P3, P4, P5 among themselves; `L5 = check_one_leader`; `L5.start(3)`, then
///    crash L5 at once (index 2 of term T5 > T1 exists only in L5's log).
/// 4. Restart L1; connect L1, P2 and one of P3-P5 that is not L5: their leader (L1 or P2, the
///    only logs that can win) replicates index 2 of term T1 to the third peer, a majority.
///    Sleep 2 election timeouts: index 2 must not be committed by anyone yet.
/// 5. Connect all; `one(4, 5, true)`; every peer agrees (the appliers check).
pub async fn figure8_commit_rule_x<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 5;
    let cfg = make_config::<R>(&t, servers, false, false)?;
    cfg.begin();
    cfg.one(Cmd::Int(1), servers, true).await?;
    let leader1 = cfg.check_one_leader().await?;
    let p2 = (leader1 + 1) % servers;
    for i in 0..servers {
        if i != leader1 && i != p2 {
            cfg.disconnect(i);
        }
    }
    if cfg.start_on(leader1, &Cmd::Int(2)).is_none() {
        return Err(Fail::LeaderRejected);
    }
    sleep(ELECTION_TIMEOUT / 4).await;
    cfg.crash1(leader1);
    cfg.disconnect(p2);
    let rest: Vec<usize> = (0..servers).filter(|&i| i != leader1 && i != p2).collect();
    for &i in &rest {
        cfg.connect(i);
    }
    let leader5 = cfg.check_one_leader().await?;
    if cfg.start_on(leader5, &Cmd::Int(3)).is_none() {
        return Err(Fail::LeaderRejected);
    }
    cfg.crash1(leader5);
    for &i in &rest {
        cfg.disconnect(i);
    }
    let third = rest
        .iter()
        .copied()
        .find(|&i| i != leader5)
        .unwrap_or(rest[0]);
    cfg.start1(leader1)?;
    for i in [leader1, p2, third] {
        cfg.connect(i);
    }
    sleep(2 * ELECTION_TIMEOUT).await;
    let (n, _) = cfg.n_committed(2)?;
    if n > 0 {
        return Err(Fail::OldTermCommitted { index: 2, count: n });
    }
    cfg.start1(leader5)?;
    for i in 0..servers {
        cfg.connect(i);
    }
    cfg.one(Cmd::Int(4), servers, true).await?;
    cfg.end()
}

/// A stale InstallSnapshot must change nothing (§7: a snapshot that does not go past what
/// the follower has is ignored). A follower catches up through InstallSnapshot, moves on, and
/// then receives again, late, every request that brought it back (delayed duplicates, as the
/// paper's network may deliver), the InstallSnapshot among them.
///
/// The grader does not know what a peer names its RPCs or how it encodes them (the lab
/// leaves both to the peer): it records every request sent to F while F catches up, whatever
/// its method, and knows a snapshot was installed because one reached F's apply channel.
///
/// 1. n=3, reliable, snapshots. 12 x `one(k, 3)`; `L = check_one_leader`; disconnect F = L+1.
/// 2. 30 x `one(k, 2)` (the leader snapshots past F's log). Record the requests sent to F;
///    connect F; `one(k, 3)`: F caught up, and a snapshot must have reached its apply channel
///    (the leader no longer has the entries F lacks).
/// 3. 25 x `one(k, 3)` (F applies and snapshots beyond it).
/// 4. Deliver the recorded requests to F again, in order; sleep 1 election timeout. F's term
///    must not drop; with `inspect`, its commit index, last log index and snapshot index must
///    not drop either.
/// 5. 5 x `one(k, 3)` (the appliers fail a re-apply or a gap on F).
pub async fn stale_install_snapshot_x<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 3;
    let cfg = make_config::<R>(&t, servers, false, true)?;
    cfg.begin();
    let mut k = 0i64;
    let mut one = |expected| {
        k += 1;
        let cfg = &cfg;
        async move { cfg.one(Cmd::Int(k), expected, true).await }
    };
    for _ in 0..12 {
        one(servers).await?;
    }
    let leader = cfg.check_one_leader().await?;
    let follower = (leader + 1) % servers;
    cfg.disconnect(follower);
    for _ in 0..30 {
        one(servers - 1).await?;
    }
    let snapshots0 = cfg.snapshots_applied(follower);
    cfg.record_requests_to(follower);
    cfg.connect(follower);
    one(servers).await?;
    let stale = cfg.recorded_requests_to(follower);
    if cfg.snapshots_applied(follower) == snapshots0 {
        return Err(Fail::NoInstallSnapshot { peer: follower });
    }
    for _ in 0..25 {
        one(servers).await?;
    }
    let before = cfg.inspect(follower);
    let (term, _) = cfg.get_state(follower).unwrap_or((0, false));
    for (method, args) in stale {
        let _ = cfg.redeliver(follower, &method, args).await;
    }
    sleep(ELECTION_TIMEOUT).await;
    let (after, _) = cfg.get_state(follower).unwrap_or((0, false));
    if after < term {
        return Err(Fail::StaleSnapshotChanged {
            peer: follower,
            what: format!("its term went from {term} to {after}"),
        });
    }
    if let (Some(b), Some(a)) = (before, cfg.inspect(follower)) {
        let dropped = [
            ("commit index", b.commit_index, a.commit_index),
            ("last log index", b.last_index(), a.last_index()),
            ("snapshot index", b.snapshot_index, a.snapshot_index),
        ];
        if let Some((what, from, to)) = dropped.into_iter().find(|(_, from, to)| to < from) {
            return Err(Fail::StaleSnapshotChanged {
                peer: follower,
                what: format!("its {what} went from {from} to {to}"),
            });
        }
    }
    for _ in 0..5 {
        one(servers).await?;
    }
    cfg.end()
}

/// Most requests the new leader may send a divergent follower to bring it back over one
/// term's worth of conflicting entries, in [`backup_by_term_x`]. Where it comes from: with
/// the backup by conflicting term that §5.3 describes (its last paragraphs; the lab's hints
/// call the reply fields `XTerm`, `XIndex`, `XLen`), "one AppendEntries RPC will be required
/// for each term with conflicting entries, rather than one RPC per entry". Here one term
/// conflicts, so about 3 probes (past the follower's end, at the conflicting term, then the
/// entries), 1-2 RequestVotes of the election, and heartbeats at most 10 a second (the lab's
/// guidance) until the follower has applied the next command: fewer than 10. Backing up one
/// entry per round trip needs over 50.
pub const BACKUP_REQUESTS_LIMIT: u64 = 10;

/// A performance expectation, not a safety check: a leader backs up over a divergent follower
/// log by conflicting term, not by entry (the accelerated backup at the end of §5.3, the
/// lab's `XTerm`/`XIndex`/`XLen` hints): a follower holding 50 uncommitted entries of an old
/// term must be brought back in a few round trips. A Raft that backs up one entry per round
/// trip is correct but slow (50 round trips here), and the lab's timing tests (`backup_2b`,
/// `figure8_unreliable_2c`) can then run out of time; this test says so directly.
///
/// Requests are counted whatever their RPC method (the lab leaves names to the peer): the
/// requests F receives from each peer after its reconnection, and the count of the peer that
/// sent the most (the new leader).
///
/// 1. n=5, reliable. `one(1, 5)`; `L1 = check_one_leader`; only L1 and F = L1+1 connected;
///    50 x `L1.start(...)` reach F only (term T1, indices 2-51, never committed).
/// 2. Crash L1 and F; connect the other three; 50 x `one(k, 3)` (term T2, indices 2-51);
///    `L2 = check_one_leader`.
/// 3. Disconnect L2; restart F and connect it: the two others and F elect a new leader (not
///    F: its log is behind), which starts by probing F at the end of its log. Count the
///    requests F receives from its reconnection.
/// 4. `one(k, 3, true)`; F must have applied it within 3 s of its reconnection, having
///    received at most [`BACKUP_REQUESTS_LIMIT`] requests from any one peer.
pub async fn backup_by_term_x<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 5;
    let cfg = make_config::<R>(&t, servers, false, false)?;
    cfg.begin();
    cfg.one(Cmd::Int(1), servers, true).await?;
    let leader1 = cfg.check_one_leader().await?;
    let follower = (leader1 + 1) % servers;
    for i in 0..servers {
        if i != leader1 && i != follower {
            cfg.disconnect(i);
        }
    }
    for k in 0..50 {
        cfg.start_on(leader1, &Cmd::Int(1000 + k));
    }
    sleep(ELECTION_TIMEOUT / 2).await;
    cfg.crash1(leader1);
    cfg.crash1(follower);
    let others: Vec<usize> = (0..servers)
        .filter(|&i| i != leader1 && i != follower)
        .collect();
    for &i in &others {
        cfg.connect(i);
    }
    for k in 0..50 {
        cfg.one(Cmd::Int(2000 + k), 3, true).await?;
    }
    let leader2 = cfg.check_one_leader().await?;
    cfg.disconnect(leader2);
    cfg.start1(follower)?;
    let requests0 = cfg.requests_to(follower);
    let reconnected = Instant::now();
    cfg.connect(follower);
    let index = cfg.one(Cmd::Int(3000), 3, true).await?;
    let limit = Duration::from_secs(3);
    while !cfg.applied_log(follower).contains_key(&index) && reconnected.elapsed() <= limit {
        sleep(Duration::from_millis(10)).await;
    }
    let requests = cfg
        .requests_to(follower)
        .iter()
        .zip(&requests0)
        .map(|(now, before)| now - before)
        .max()
        .unwrap_or(0);
    let took = reconnected.elapsed();
    if requests > BACKUP_REQUESTS_LIMIT || took > limit {
        return Err(Fail::SlowBackup {
            peer: follower,
            requests,
            limit: BACKUP_REQUESTS_LIMIT,
            millis: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
        });
    }
    cfg.start1(leader1)?;
    for i in 0..servers {
        cfg.connect(i);
    }
    cfg.one(Cmd::Int(4000), servers, true).await?;
    cfg.end()
}
