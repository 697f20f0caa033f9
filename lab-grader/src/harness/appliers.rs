//! Go's appliers (spec 3.8, 3.9): one task per peer incarnation reads its apply channel,
//! checks every applied command against every other server's, and (the snapshot applier)
//! hands the peer a snapshot every 10 entries, from this very task, as Go does.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use lab_api::{ApplyMsg, ApplyReceiver, LabRaft};

use super::context::{TestContext, lock};
use crate::cmd::{self, Cmd};
use crate::fail::{ApplyError, Fail};
use crate::panics::as_peer;
use crate::trace::Event;

/// Go's `SnapShotInterval`: the snapshot applier snapshots at indices 9, 19, 29, ...
pub const SNAPSHOT_INTERVAL: u64 = 10;

/// The 2D snapshot bytes: bincode of (last included index, `logs[i][0..=index]`).
pub fn encode_snapshot(index: u64, entries: &[Option<Cmd>]) -> Bytes {
    cmd::encode(&(index, entries))
}

/// Decodes [`encode_snapshot`]'s bytes.
pub fn decode_snapshot(bytes: &[u8]) -> Result<(u64, Vec<Option<Cmd>>), ApplyError> {
    cmd::decode("snapshot", bytes).map_err(ApplyError::SnapshotDecode)
}

/// What one server applied, by index (Go's `cfg.logs[i]`, a map): a vector indexed by the
/// log index while indices come in order (every lookup and insert O(1), where the map cost a
/// search per server per apply), and a map for an index far past the end, which only a broken
/// peer applies (so that it cannot make the grader allocate for every index below it).
#[derive(Clone, Debug, Default)]
struct AppliedLog {
    /// `dense[k]`: what was applied at index `k`, if anything (`Some(None)` is Go's nil).
    dense: Vec<Option<Option<Cmd>>>,
    /// Indices at or past `dense.len() + FAR`, when they were applied before the ones below.
    far: BTreeMap<u64, Option<Cmd>>,
}

/// An index this far past the end of the dense part goes to the map.
const FAR: u64 = 1 << 16;

impl AppliedLog {
    /// The log of a snapshot's entries, `0..entries.len()`.
    fn of(entries: Vec<Option<Cmd>>) -> Self {
        AppliedLog {
            dense: entries.into_iter().map(Some).collect(),
            far: BTreeMap::new(),
        }
    }

    fn get(&self, index: u64) -> Option<&Option<Cmd>> {
        match usize::try_from(index).ok().and_then(|k| self.dense.get(k)) {
            Some(slot) => slot.as_ref(),
            None => self.far.get(&index),
        }
    }

    fn contains(&self, index: u64) -> bool {
        self.get(index).is_some()
    }

    fn insert(&mut self, index: u64, value: Option<Cmd>) {
        let len = self.dense.len() as u64;
        if index >= len.saturating_add(FAR) {
            self.far.insert(index, value);
            return;
        }
        let Ok(k) = usize::try_from(index) else {
            self.far.insert(index, value);
            return;
        };
        if k >= self.dense.len() {
            self.dense.resize(k + 1, None);
            if self.far.is_empty() {
                self.dense[k] = Some(value);
                return;
            }
            // Whatever the map held below the new end moves into the vector.
            let moved: Vec<u64> = self.far.range(..=index).map(|(&i, _)| i).collect();
            for i in moved {
                if let Some(v) = self.far.remove(&i) {
                    if let Ok(j) = usize::try_from(i) {
                        self.dense[j] = Some(v);
                    }
                }
            }
        }
        self.dense[k] = Some(value);
    }

    /// As Go's map: every applied index and its value, in index order.
    fn to_map(&self) -> BTreeMap<u64, Option<Cmd>> {
        let mut map: BTreeMap<u64, Option<Cmd>> = (0u64..)
            .zip(&self.dense)
            .filter_map(|(i, slot)| slot.clone().map(|v| (i, v)))
            .collect();
        map.extend(self.far.iter().map(|(&i, v)| (i, v.clone())));
        map
    }
}

/// What the appliers saw (Go's `cfg.logs`, `cfg.applyErr`, `cfg.lastApplied`,
/// `cfg.maxIndex`), behind its own lock.
pub(crate) struct Applied {
    /// `logs[i]`: every command server i has applied, by index (`None` is Go's nil).
    logs: Vec<AppliedLog>,
    apply_err: Vec<Option<ApplyError>>,
    last_applied: Vec<u64>,
    max_index: u64,
    /// Snapshots each server delivered on its apply channel, over all its incarnations.
    snapshots: Vec<u64>,
}

impl Applied {
    pub(crate) fn new(n: usize) -> Mutex<Self> {
        Mutex::new(Applied {
            logs: vec![AppliedLog::default(); n],
            apply_err: vec![None; n],
            last_applied: vec![0; n],
            max_index: 0,
            snapshots: vec![0; n],
        })
    }

    /// The highest index any server applied (Go's `maxIndex`).
    pub(crate) fn max_index(&self) -> u64 {
        self.max_index
    }

    /// A new incarnation of server i starts: it has applied nothing yet, then its persisted
    /// snapshot, if any, is ingested (Go's start1).
    pub(crate) fn restart(&mut self, i: usize, snapshot: &[u8]) -> Result<(), ApplyError> {
        self.last_applied[i] = 0;
        if snapshot.is_empty() {
            return Ok(());
        }
        self.ingest_snap(i, snapshot, None)
    }

    /// Go's `ingestSnap(i, snapshot, index)`: replaces `logs[i]` with the snapshot's entries
    /// and sets `lastApplied[i]`. `index` is the message's SnapshotIndex, `None` at restart.
    fn ingest_snap(
        &mut self,
        i: usize,
        snapshot: &[u8],
        index: Option<u64>,
    ) -> Result<(), ApplyError> {
        if snapshot.is_empty() {
            return Err(ApplyError::NilSnapshot);
        }
        let (last_included, entries) = decode_snapshot(snapshot)?;
        if index.is_some_and(|ix| ix != last_included) {
            return Err(ApplyError::SnapshotIndexMismatch { server: i });
        }
        self.logs[i] = AppliedLog::of(entries);
        self.last_applied[i] = last_included;
        Ok(())
    }

    /// Go's `checkLogs(i, m)`: the error if any server applied a different value at `index`;
    /// stores the value; returns the error and whether `index - 1` was applied here.
    fn check_logs(&mut self, i: usize, index: u64, v: Cmd) -> (Option<ApplyError>, bool) {
        let mut err = None;
        for (j, log) in self.logs.iter().enumerate() {
            if let Some(old) = log.get(index) {
                if old.as_ref() != Some(&v) {
                    err = Some(ApplyError::Mismatch {
                        index,
                        server: i,
                        value: v.clone(),
                        other: j,
                        other_value: old.clone(),
                    });
                }
            }
        }
        let prevok = index > 0 && self.logs[i].contains(index - 1);
        self.logs[i].insert(index, Some(v));
        self.max_index = self.max_index.max(index);
        (err, prevok)
    }

    /// checkLogs plus the "apply out of order" rule shared by both appliers.
    fn check_command(&mut self, i: usize, index: u64, bytes: &[u8]) -> Option<ApplyError> {
        let v = match Cmd::from_bytes(bytes) {
            Ok(v) => v,
            Err(source) => {
                return Some(ApplyError::Undecodable {
                    server: i,
                    index,
                    source,
                });
            }
        };
        let (err, prevok) = self.check_logs(i, index, v);
        if index > 1 && !prevok {
            return Some(ApplyError::OutOfOrder { server: i, index });
        }
        err
    }

    /// Go's `applier` for one message: checks commands, ignores snapshots.
    fn apply_plain(&mut self, i: usize, m: ApplyMsg) -> Option<ApplyError> {
        match m {
            ApplyMsg::Command { index, command } => self.check_command(i, index, &command),
            ApplyMsg::Snapshot { .. } => None,
        }
    }

    /// Go's 2023 `applierSnap` for one message: the error, if any, and the snapshot to hand
    /// the peer (every [`SNAPSHOT_INTERVAL`] commands), which the caller does outside the
    /// lock. `beyond_go`: also fail a snapshot behind what the server applied since it last
    /// started ([`ApplyError::SnapshotBehind`]; Go's applier accepts it).
    fn apply_snap(
        &mut self,
        i: usize,
        m: ApplyMsg,
        beyond_go: bool,
    ) -> (Option<ApplyError>, Option<(u64, Bytes)>) {
        match m {
            ApplyMsg::Snapshot { index, data, .. } => {
                self.snapshots[i] += 1;
                let applied = self.last_applied[i];
                if beyond_go && index < applied {
                    let server = i;
                    return (
                        Some(ApplyError::SnapshotBehind {
                            server,
                            index,
                            applied,
                        }),
                        None,
                    );
                }
                (self.ingest_snap(i, &data, Some(index)).err(), None)
            }
            ApplyMsg::Command { index, command } => {
                let expected = self.last_applied[i] + 1;
                let err = if index == expected {
                    self.check_command(i, index, &command)
                } else {
                    Some(ApplyError::OutOfOrderExpected {
                        server: i,
                        expected,
                        got: index,
                    })
                };
                self.last_applied[i] = index;
                let snapshot = ((index + 1) % SNAPSHOT_INTERVAL == 0).then(|| {
                    let entries: Vec<Option<Cmd>> = (0..=index)
                        .map(|j| self.logs[i].get(j).cloned().flatten())
                        .collect();
                    (index, encode_snapshot(index, &entries))
                });
                (err, snapshot)
            }
        }
    }

    /// What server i has applied (Go's `cfg.logs[i]`), by index.
    pub(crate) fn log(&self, i: usize) -> BTreeMap<u64, Option<Cmd>> {
        self.logs[i].to_map()
    }

    /// How many snapshots server i delivered on its apply channel (all incarnations).
    pub(crate) fn snapshots(&self, i: usize) -> u64 {
        self.snapshots[i]
    }

    /// Go's `nCommitted(index)`: how many servers (connected or not, alive or crashed) have
    /// applied `index`, and the value; fails on an applier error or on disagreement.
    pub(crate) fn n_committed(&self, index: u64) -> Result<(usize, Option<Cmd>), Fail> {
        let mut count = 0;
        let mut cmd: Option<Cmd> = None;
        for (err, log) in self.apply_err.iter().zip(&self.logs) {
            if let Some(e) = err {
                return Err(Fail::Apply(e.clone()));
            }
            if let Some(cmd1) = log.get(index) {
                if count > 0 && cmd != *cmd1 {
                    return Err(Fail::CommittedMismatch {
                        index,
                        first: cmd,
                        second: cmd1.clone(),
                    });
                }
                count += 1;
                cmd = cmd1.clone();
            }
        }
        Ok((count, cmd))
    }
}

/// The applier task of one peer incarnation (Go's `applier`, or `applierSnap` when
/// `snapshots`). An error is recorded (`applyErr[i]`) and fails the test at once; the task
/// keeps reading, so that a peer is never left blocked on its apply channel. `after_each`
/// runs after every message (the harness looks at the peer then).
pub(crate) async fn run_applier<R: LabRaft>(
    applied: Arc<Mutex<Applied>>,
    t: TestContext,
    snapshots: bool,
    (i, rx, rf): (usize, ApplyReceiver, Arc<R>),
    after_each: impl Fn(&Arc<R>) + Send + 'static,
) {
    while let Some(m) = rx.recv().await {
        t.note(match &m {
            ApplyMsg::Command { index, command } => Event::Apply {
                peer: i,
                index: *index,
                cmd: Some(command.clone()),
            },
            ApplyMsg::Snapshot { index, .. } => Event::Apply {
                peer: i,
                index: *index,
                cmd: None,
            },
        });
        let err = if snapshots {
            let (err, snapshot) = lock(&applied).apply_snap(i, m, t.invariants());
            if let Some((index, snapshot)) = snapshot {
                as_peer(i, || rf.snapshot(index, snapshot));
            }
            err
        } else {
            lock(&applied).apply_plain(i, m)
        };
        if let Some(e) = err {
            lock(&applied).apply_err[i] = Some(e.clone());
            t.fail(Fail::Apply(e));
        }
        after_each(&rf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_applied_log_is_a_map_by_index_even_far_past_its_end() {
        let mut log = AppliedLog::default();
        log.insert(0, None);
        log.insert(1, Some(Cmd::Int(1)));
        log.insert(u64::MAX, Some(Cmd::Int(9)));
        log.insert(FAR + 5, Some(Cmd::Int(5)));
        assert!(log.dense.len() < 10, "far indices are not allocated for");
        assert_eq!(log.get(1), Some(&Some(Cmd::Int(1))));
        assert_eq!(log.get(0), Some(&None));
        assert_eq!(log.get(2), None);
        assert_eq!(log.get(FAR + 5), Some(&Some(Cmd::Int(5))));
        for index in 2..=FAR {
            log.insert(index, Some(Cmd::Int(2)));
        }
        // The vector grew past FAR + 5: that entry moved into it.
        log.insert(FAR + 6, Some(Cmd::Int(6)));
        assert_eq!(log.far.len(), 1);
        assert_eq!(log.get(FAR + 5), Some(&Some(Cmd::Int(5))));
        let map = log.to_map();
        assert_eq!(map.len() as u64, FAR + 4);
        assert_eq!(map.get(&u64::MAX), Some(&Some(Cmd::Int(9))));
        assert!(!map.contains_key(&(FAR + 1)));
    }

    fn snapshot_msg(index: u64) -> ApplyMsg {
        let entries: Vec<Option<Cmd>> = (0..=index).map(|k| Some(Cmd::Int(k as i64))).collect();
        ApplyMsg::Snapshot {
            index,
            term: 1,
            data: encode_snapshot(index, &entries),
        }
    }

    fn command(index: u64) -> ApplyMsg {
        ApplyMsg::Command {
            index,
            command: Cmd::Int(index as i64).to_bytes(),
        }
    }

    #[test]
    fn a_snapshot_behind_what_was_applied_fails_but_not_one_after_a_restart() {
        let applied = Applied::new(1);
        let mut a = applied.lock().unwrap();
        for k in 1..=12 {
            assert!(a.apply_snap(0, command(k), true).0.is_none());
        }
        // At or past what was applied: fine.
        assert!(a.apply_snap(0, snapshot_msg(12), true).0.is_none());
        assert!(a.apply_snap(0, snapshot_msg(15), true).0.is_none());
        // Behind it: the state went back in time.
        let (err, _) = a.apply_snap(0, snapshot_msg(9), true);
        assert!(
            matches!(
                err,
                Some(ApplyError::SnapshotBehind {
                    server: 0,
                    index: 9,
                    applied: 15
                })
            ),
            "{err:?}"
        );
        // Go's applier alone accepts it.
        assert!(a.apply_snap(0, snapshot_msg(9), false).0.is_none());
        // After a restart from the snapshot at 9, a later one at 12 and then commands go on.
        let nine: Vec<Option<Cmd>> = (0..10).map(|_| None).collect();
        a.restart(0, &encode_snapshot(9, &nine)).unwrap();
        assert!(a.apply_snap(0, snapshot_msg(12), true).0.is_none());
        assert!(a.apply_snap(0, command(13), true).0.is_none());
    }

    #[test]
    fn snapshot_round_trip() {
        let entries = vec![None, Some(Cmd::Int(5)), Some(Cmd::Str("x".into()))];
        let b = encode_snapshot(2, &entries);
        assert_eq!(decode_snapshot(&b).unwrap(), (2, entries));
        assert!(matches!(
            decode_snapshot(&b[..b.len() - 1]),
            Err(ApplyError::SnapshotDecode(_))
        ));
    }
}
