//! The incremental monitor against the checks of before (the `oracle` module: whole copies,
//! runs, full comparisons), verdict by verdict, on random clusters: mostly Raft-like (elections
//! of the most up-to-date peer, appends, replication, commits, snapshots, restarts) with a few
//! deliberate breaches of every kind, so that sequences pass for hundreds of looks and then
//! fail in every way. Each look goes to the oracle and to the monitor three ways: as a whole
//! view (`observe`, against the oracle's monitor), as a whole view in a change (`observe_change`,
//! against the oracle's harness, which skipped repeated looks), and as a real change since the
//! monitor's mark, from a model of a peer that counts the removals of its log as the reference
//! peer does. Every result must be the same, the first violation's message included.

use std::collections::BTreeMap;
use std::time::Duration;

use lab_api::{LogMark, RaftChange, RaftView, Role};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::oracle;
use super::{ChangeObservation, Intake, Monitor, Observation, Property, Violation};

/// One simulated peer: its state, and the removals of its log (the reference peer's count).
#[derive(Clone, Debug, Default)]
struct Peer {
    incarnation: u64,
    term: u64,
    voted_for: Option<usize>,
    role: Role,
    commit: u64,
    snapshot_index: u64,
    snapshot_term: u64,
    /// Terms of the entries after the snapshot.
    log: Vec<u64>,
    version: u64,
    removals: Vec<(u64, u64)>,
}

impl Peer {
    fn last(&self) -> u64 {
        self.snapshot_index + self.log.len() as u64
    }

    fn term_at(&self, index: u64) -> Option<u64> {
        if index == self.snapshot_index {
            return Some(self.snapshot_term);
        }
        let offset = index.checked_sub(self.snapshot_index + 1)?;
        self.log.get(usize::try_from(offset).ok()?).copied()
    }

    fn last_term(&self) -> u64 {
        self.log.last().copied().unwrap_or(self.snapshot_term)
    }

    /// Removes every entry from `from` on (a removal the peer counts).
    fn truncate(&mut self, from: u64) {
        let keep = from.saturating_sub(self.snapshot_index + 1);
        if (keep as usize) < self.log.len() {
            self.log.truncate(keep as usize);
            self.version += 1;
            self.removals.push((self.version, from));
        }
    }

    fn view(&self) -> RaftView {
        RaftView {
            term: self.term,
            voted_for: self.voted_for,
            role: self.role,
            commit_index: self.commit,
            snapshot_index: self.snapshot_index,
            snapshot_term: self.snapshot_term,
            log_terms: self.log.clone(),
        }
    }

    /// What the reference peer answers to `inspect_since(mark)`.
    fn change_since(&self, mark: Option<LogMark>) -> RaftChange {
        let mut change = RaftChange::from(self.view());
        change.version = self.version;
        let Some(mark) = mark.filter(|mark| mark.version <= self.version) else {
            return change;
        };
        let removed = self
            .removals
            .iter()
            .filter(|(version, _)| *version > mark.version)
            .map(|(_, from)| *from)
            .min();
        let end = mark.last_index + 1;
        let from = removed.map_or(end, |from| from.min(end));
        let kept = from
            .saturating_sub(1)
            .clamp(self.snapshot_index, self.last());
        change.kept = kept;
        change.new_terms = self.log[(kept - self.snapshot_index) as usize..].to_vec();
        change
    }
}

/// The cluster, the oracles and the monitors, fed look by look.
struct Run {
    rng: ChaCha8Rng,
    peers: Vec<Peer>,
    seq: u64,
    ms: u64,
    oracle: oracle::Monitor,
    harness: oracle::Harness,
    whole: Monitor,
    whole_changes: Monitor,
    changes: Monitor,
    /// Every path has failed (identically): the run is over.
    over: bool,
    /// Changes that relied on the monitor's copy (`kept` past the snapshot), and changes the
    /// monitor sent back for the whole view.
    partial: u64,
    refused: u64,
}

impl Run {
    fn new(seed: u64, n: usize) -> Self {
        Run {
            rng: ChaCha8Rng::seed_from_u64(seed),
            peers: vec![Peer::default(); n],
            seq: 0,
            ms: 0,
            oracle: oracle::Monitor::new(n),
            harness: oracle::Harness::new(n),
            whole: Monitor::new(n),
            whole_changes: Monitor::new(n),
            changes: Monitor::new(n),
            over: false,
            partial: 0,
            refused: 0,
        }
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.rng.random_range(0..100) < percent
    }

    fn pick(&mut self) -> usize {
        self.rng.random_range(0..self.peers.len())
    }

    /// The leader of the highest term, if any.
    fn leader(&self) -> Option<usize> {
        (0..self.peers.len())
            .filter(|&p| self.peers[p].role == Role::Leader)
            .max_by_key(|&p| self.peers[p].term)
    }

    /// One random event in the cluster.
    fn step(&mut self) {
        let roll = self.rng.random_range(0..1000);
        match roll {
            0..100 => self.elect(),
            100..400 => self.append(),
            400..700 => self.replicate(),
            700..850 => self.commit(),
            850..900 => self.snapshot(),
            900..980 => self.restart(),
            980..990 => {}
            _ => self.breach(),
        }
    }

    fn elect(&mut self) {
        let n = self.peers.len();
        let best = (0..n)
            .max_by_key(|&p| (self.peers[p].last_term(), self.peers[p].last(), p))
            .unwrap_or(0);
        let winner = if self.chance(90) { best } else { self.pick() };
        let term = self.peers.iter().map(|p| p.term).max().unwrap_or(0) + 1;
        for p in 0..n {
            if p == winner || self.chance(60) {
                let peer = &mut self.peers[p];
                peer.term = term;
                peer.voted_for = Some(winner);
                peer.role = if p == winner {
                    Role::Leader
                } else {
                    Role::Follower
                };
            }
        }
        if self.chance(20) {
            self.peers[winner].role = Role::Candidate;
        }
    }

    fn append(&mut self) {
        let Some(leader) = self.leader() else { return };
        let count = self.rng.random_range(1..6);
        let peer = &mut self.peers[leader];
        let term = peer.term;
        peer.log.extend(std::iter::repeat_n(term, count));
    }

    fn replicate(&mut self) {
        let Some(leader) = self.leader() else { return };
        let to = self.pick();
        if to == leader {
            return;
        }
        let source = self.peers[leader].clone();
        let upto = if self.chance(70) {
            source.last()
        } else {
            self.rng.random_range(0..=source.last())
        };
        let follower = &mut self.peers[to];
        if follower.term < source.term {
            follower.term = source.term;
            follower.voted_for = None;
        }
        follower.role = Role::Follower;
        if upto <= follower.snapshot_index {
            return;
        }
        // Figure 2: keep matching entries, cut at the first conflict, append the rest.
        for index in follower.snapshot_index + 1..=upto {
            let Some(term) = source.term_at(index) else {
                return; // inside the leader's snapshot: an InstallSnapshot's business
            };
            match follower.term_at(index) {
                Some(held) if held == term => {}
                Some(_) => {
                    follower.truncate(index);
                    follower.log.push(term);
                }
                None => follower.log.push(term),
            }
        }
        follower.commit = follower.commit.max(source.commit.min(upto));
    }

    fn commit(&mut self) {
        let Some(leader) = self.leader() else { return };
        let by_the_rule = self.chance(90);
        let peer = &self.peers[leader];
        let to = if by_the_rule {
            (peer.commit + 1..=peer.last())
                .rev()
                .find(|&i| peer.term_at(i) == Some(peer.term))
        } else {
            Some(peer.last())
        };
        if let Some(to) = to {
            let peer = &mut self.peers[leader];
            peer.commit = peer.commit.max(to);
        }
    }

    fn snapshot(&mut self) {
        let p = self.pick();
        let peer = &self.peers[p];
        if peer.commit <= peer.snapshot_index {
            return;
        }
        let index = self.rng.random_range(peer.snapshot_index + 1..=peer.commit);
        let peer = &mut self.peers[p];
        let Some(term) = peer.term_at(index) else {
            return;
        };
        let drop = (index - peer.snapshot_index) as usize;
        peer.log.drain(..drop.min(peer.log.len()));
        peer.snapshot_index = index;
        peer.snapshot_term = term;
    }

    fn restart(&mut self) {
        let p = self.pick();
        let keep_vote = self.chance(95);
        let peer = &mut self.peers[p];
        *peer = Peer {
            incarnation: peer.incarnation + 1,
            term: peer.term,
            voted_for: if keep_vote { peer.voted_for } else { None },
            commit: peer.snapshot_index,
            snapshot_index: peer.snapshot_index,
            snapshot_term: peer.snapshot_term,
            log: peer.log.clone(),
            ..Peer::default()
        };
    }

    /// Something a correct Raft never does.
    fn breach(&mut self) {
        let p = self.pick();
        let kind = self.rng.random_range(0..8);
        let cut = self.rng.random_range(0..=self.peers[p].last() + 1);
        let other = self.pick();
        let peer = &mut self.peers[p];
        match kind {
            0 => peer.term = peer.term.saturating_sub(1),
            1 => peer.voted_for = Some(other),
            2 => peer.role = Role::Leader,
            3 => peer.truncate(cut.max(peer.snapshot_index + 1)),
            4 => {
                // Overwrite one entry in place: a removal and an append, as the peer counts.
                let index = cut.max(peer.snapshot_index + 1);
                if let Some(term) = peer.term_at(index) {
                    let rest: Vec<u64> =
                        peer.log[(index - peer.snapshot_index) as usize..].to_vec();
                    peer.truncate(index);
                    peer.log.push(term + 1);
                    peer.log.extend(rest);
                }
            }
            5 => peer.commit = peer.last() + 1,
            6 => {
                // A stale snapshot: back to an earlier index, the log after it discarded.
                let index = cut.min(peer.snapshot_index).saturating_sub(1);
                peer.truncate(peer.snapshot_index + 1);
                peer.version += 1;
                peer.removals.push((peer.version, index + 1));
                peer.snapshot_index = index;
                peer.snapshot_term = peer.snapshot_term.saturating_sub(1);
                peer.commit = peer.commit.min(index);
            }
            _ => {
                if let Some(last) = peer.log.last_mut() {
                    *last += 1; // a term out of nowhere, counted as a removal
                    let from = peer.snapshot_index + peer.log.len() as u64;
                    peer.version += 1;
                    peer.removals.push((peer.version, from));
                }
            }
        }
    }

    /// Looks at peer `p` every way; returns the oracle's result.
    fn look(&mut self, p: usize, revealed: bool, stale: bool) -> Result<(), Violation> {
        self.ms += 10;
        self.seq += 1;
        let seq = if stale {
            self.seq.saturating_sub(3)
        } else {
            self.seq
        };
        let peer = &self.peers[p];
        let view = peer.view();
        let obs = Observation {
            peer: p,
            seq,
            incarnation: peer.incarnation,
            at: Duration::from_millis(self.ms),
            revealed,
            view: &view,
        };
        let want = self.oracle.observe(&obs);
        assert_eq!(self.whole.observe(&obs), want, "whole view, look {seq}");
        if stale {
            // Only `observe` sees looks out of order: the harness reads one look of a peer at
            // a time, in order (`looks.rs`).
            return want;
        }
        let want_skipping = self.harness.look(&obs);
        let whole = RaftChange::from(view.clone());
        let change_obs = |change| ChangeObservation {
            peer: p,
            seq,
            incarnation: peer.incarnation,
            at: obs.at,
            revealed,
            change,
        };
        let got = self.whole_changes.observe_change(&change_obs(&whole));
        assert_eq!(
            got.map(|_| ()),
            want_skipping,
            "whole view as a change, look {seq}"
        );
        let mark = self.changes.mark(p, peer.incarnation);
        let change = peer.change_since(mark);
        self.partial += u64::from(!change.is_whole());
        let got = match self.changes.observe_change(&change_obs(&change)) {
            Ok(Intake::WholeViewNeeded) => {
                self.refused += 1;
                self.changes.observe_change(&change_obs(&whole))
            }
            other => other,
        };
        assert_eq!(
            got.map(|_| ()),
            want_skipping,
            "change since {mark:?}: {change:?}, look {seq}"
        );
        if want.is_err() && want_skipping.is_err() {
            self.over = true;
        }
        want.and(want_skipping)
    }
}

/// Runs random clusters until `runs` have ended in a violation or a step limit; returns how
/// many looks were compared and the violations seen, by property.
fn compare(seeds: std::ops::Range<u64>) -> (u64, u64, BTreeMap<Property, u64>) {
    let (mut looks, mut partial) = (0, 0);
    let mut seen = BTreeMap::new();
    for seed in seeds {
        let n = if seed % 2 == 0 { 3 } else { 5 };
        let mut run = Run::new(seed, n);
        for _ in 0..3000 {
            run.step();
            let count = run.rng.random_range(1..=2);
            for _ in 0..count {
                let p = run.pick();
                let revealed = run.chance(30);
                let stale = run.chance(2);
                looks += 1;
                if let Err(violation) = run.look(p, revealed, stale) {
                    *seen.entry(violation.property).or_insert(0) += 1;
                }
                if run.over {
                    break;
                }
            }
            if run.over {
                break;
            }
            if run.chance(10) {
                // The same look again: skipped by the harness, checked by `observe`.
                let p = run.pick();
                looks += 1;
                if let Err(violation) = run.look(p, false, false) {
                    *seen.entry(violation.property).or_insert(0) += 1;
                    break;
                }
            }
        }
        partial += run.partial;
        assert_eq!(run.refused, 0, "the model peer's changes always fit");
    }
    (looks, partial, seen)
}

#[test]
fn incremental_checks_give_the_verdicts_of_whole_copies() {
    let (looks, partial, seen) = compare(0..400);
    // Not vacuous: many looks, most of them real changes, and every property seen broken.
    assert!(looks > 50_000, "{looks} looks");
    assert!(
        partial > looks / 2,
        "{partial} of {looks} looks were changes"
    );
    for property in [
        Property::ElectionSafety,
        Property::TermMonotonic,
        Property::OneVotePerTerm,
        Property::LeaderAppendOnly,
        Property::LogMatching,
        Property::LeaderCompleteness,
        Property::CommitRule,
        Property::CommittedKept,
    ] {
        assert!(
            seen.get(&property).copied().unwrap_or(0) > 0,
            "{property:?} never broken: {seen:?}"
        );
    }
}
