//! Go's appliers (spec 3.8, 3.9): one task per peer incarnation reads its apply channel,
//! checks every applied command against every other server's, and (the snapshot applier)
//! hands the peer a snapshot every 10 entries, from this very task, as Go does.

use std::sync::Arc;

use bytes::Bytes;
use lab_api::{ApplyMsg, ApplyReceiver, LabRaft};

use super::config::{Config, SNAPSHOT_INTERVAL, State};
use super::context::lock;
use crate::cmd::{self, Cmd};
use crate::fail::{ApplyError, Fail};

/// The 2D snapshot bytes: bincode of (last included index, `logs[i][0..=index]`).
pub fn encode_snapshot(index: u64, entries: &[Option<Cmd>]) -> Bytes {
    cmd::encode(&(index, entries))
}

/// Decodes [`encode_snapshot`]'s bytes.
pub fn decode_snapshot(bytes: &[u8]) -> Result<(u64, Vec<Option<Cmd>>), ApplyError> {
    cmd::decode("snapshot", bytes).map_err(ApplyError::SnapshotDecode)
}

/// Go's `ingestSnap(i, snapshot, index)`: replaces `logs[i]` with the snapshot's entries and
/// sets `lastApplied[i]`. `index` is the message's SnapshotIndex, `None` at restart.
pub(crate) fn ingest_snap<R>(
    st: &mut State<R>,
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
    st.logs[i] = (0u64..).zip(entries).collect();
    st.last_applied[i] = last_included;
    Ok(())
}

/// Go's `checkLogs(i, m)`: records the error if any server applied a different value at
/// `index`; stores the value; returns the error and whether `index - 1` was applied here.
fn check_logs<R>(st: &mut State<R>, i: usize, index: u64, v: Cmd) -> (Option<ApplyError>, bool) {
    let mut err = None;
    for (j, log) in st.logs.iter().enumerate() {
        if let Some(old) = log.get(&index) {
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
    let prevok = index > 0 && st.logs[i].contains_key(&(index - 1));
    st.logs[i].insert(index, Some(v));
    st.max_index = st.max_index.max(index);
    (err, prevok)
}

/// checkLogs plus the "apply out of order" rule shared by both appliers.
fn check_command<R>(st: &mut State<R>, i: usize, index: u64, bytes: &[u8]) -> Option<ApplyError> {
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
    let (err, prevok) = check_logs(st, i, index, v);
    if index > 1 && !prevok {
        return Some(ApplyError::OutOfOrder { server: i, index });
    }
    err
}

impl<R: LabRaft> Config<R> {
    /// Go's `applier`: checks commands, ignores snapshots.
    fn apply_plain(&self, i: usize, m: ApplyMsg) -> Option<ApplyError> {
        match m {
            ApplyMsg::Command { index, command } => {
                check_command(&mut lock(&self.st), i, index, &command)
            }
            ApplyMsg::Snapshot { .. } => None,
        }
    }

    /// Go's 2023 `applierSnap` for one message.
    fn apply_snap(&self, i: usize, rf: &Arc<R>, m: ApplyMsg) -> Option<ApplyError> {
        match m {
            ApplyMsg::Snapshot { index, data, .. } => {
                ingest_snap(&mut lock(&self.st), i, &data, Some(index)).err()
            }
            ApplyMsg::Command { index, command } => {
                let (err, snapshot) = {
                    let mut st = lock(&self.st);
                    let expected = st.last_applied[i] + 1;
                    let err = if index == expected {
                        check_command(&mut st, i, index, &command)
                    } else {
                        Some(ApplyError::OutOfOrderExpected {
                            server: i,
                            expected,
                            got: index,
                        })
                    };
                    st.last_applied[i] = index;
                    let snapshot = ((index + 1) % SNAPSHOT_INTERVAL == 0).then(|| {
                        let entries: Vec<Option<Cmd>> = (0..=index)
                            .map(|j| st.logs[i].get(&j).cloned().flatten())
                            .collect();
                        encode_snapshot(index, &entries)
                    });
                    (err, snapshot)
                };
                if let Some(snapshot) = snapshot {
                    rf.snapshot(index, snapshot);
                }
                err
            }
        }
    }

    /// Records an applier error: `applyErr[i]`, and the test fails at once.
    fn apply_failed(&self, i: usize, e: ApplyError) {
        lock(&self.st).apply_err[i] = Some(e.clone());
        self.t.fail(Fail::Apply(e));
    }
}

/// The applier task of one peer incarnation. It keeps reading after an error, so that a
/// peer is never left blocked on its apply channel.
pub(crate) async fn run_applier<R: LabRaft>(
    cfg: Arc<Config<R>>,
    i: usize,
    rx: ApplyReceiver,
    rf: Arc<R>,
) {
    while let Some(m) = rx.recv().await {
        let err = if cfg.snapshot {
            cfg.apply_snap(i, &rf, m)
        } else {
            cfg.apply_plain(i, m)
        };
        if let Some(e) = err {
            cfg.apply_failed(i, e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
