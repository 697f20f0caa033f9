//! Log Matching (5.3): if two logs contain an entry with the same index and term, the logs
//! are identical in all entries up through that index. Checked pairwise over the entries
//! both peers still hold (compacted prefixes are committed and covered by state machine
//! safety instead).

use super::SafetyViolation;
use crate::raft::Raft;
use crate::types::LogIndex;

pub(super) fn check(peers: &[&Raft]) -> Result<(), SafetyViolation> {
    for (i, a) in peers.iter().enumerate() {
        for b in &peers[i + 1..] {
            check_pair(a, b)?;
        }
    }
    Ok(())
}

fn check_pair(a: &Raft, b: &Raft) -> Result<(), SafetyViolation> {
    let lo = a.snapshot_index().max(b.snapshot_index()).0 + 1;
    let hi = a.last_log_index().min(b.last_log_index()).0;
    let Some(agree) = (lo..=hi)
        .rev()
        .find(|i| a.term_at(LogIndex(*i)) == b.term_at(LogIndex(*i)))
    else {
        return Ok(());
    };
    for i in lo..=agree {
        let index = LogIndex(i);
        if a.entry(index) != b.entry(index) {
            return Err(SafetyViolation::LogMismatch {
                a: a.config().id,
                b: b.config().id,
                agree_at: LogIndex(agree),
                differ_at: index,
            });
        }
    }
    Ok(())
}
