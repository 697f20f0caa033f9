//! Short renderings of the reference peer's RPC messages for the grader's event record
//! ([`lab_api::LabRaft::describe`]): one line each, entries summarized, never listed.

use labrpc_sim::codec;
use raft_core::{
    AppendEntriesArgsRef, AppendEntriesReply, InstallSnapshotArgsRef, InstallSnapshotReply,
    RequestVoteArgs, RequestVoteReply,
};

use crate::transport::{APPEND_ENTRIES, INSTALL_SNAPSHOT, REQUEST_VOTE};

/// The message `bytes` of `method` (arguments, or the reply when `reply`), in one short line;
/// `None` for an unknown method or bytes that do not decode.
pub(crate) fn describe(method: &str, bytes: &[u8], reply: bool) -> Option<String> {
    match (method, reply) {
        (REQUEST_VOTE, false) => {
            let a: RequestVoteArgs = codec::decode(bytes).ok()?;
            Some(format!(
                "RV term={} cand={} last=({},{})",
                a.term.0, a.candidate_id.0, a.last_log_index.0, a.last_log_term.0
            ))
        }
        (REQUEST_VOTE, true) => {
            let r: RequestVoteReply = codec::decode(bytes).ok()?;
            Some(format!(
                "RV reply term={} granted={}",
                r.term.0, r.vote_granted
            ))
        }
        (APPEND_ENTRIES, false) => {
            let a: AppendEntriesArgsRef<'_> = codec::decode_borrowed(bytes).ok()?;
            Some(format!(
                "AE term={} leader={} prev=({},{}) entries={} commit={}",
                a.term.0,
                a.leader_id.0,
                a.prev_log_index.0,
                a.prev_log_term.0,
                a.entries.len(),
                a.leader_commit.0
            ))
        }
        (APPEND_ENTRIES, true) => {
            let r: AppendEntriesReply = codec::decode(bytes).ok()?;
            let mut s = format!("AE reply term={} success={}", r.term.0, r.success);
            if !r.success {
                let xterm = r.conflict_term.map_or("-".to_string(), |t| t.0.to_string());
                s.push_str(&format!(
                    " xterm={xterm} xindex={} xlen={}",
                    r.conflict_index.0, r.log_len.0
                ));
            }
            Some(s)
        }
        (INSTALL_SNAPSHOT, false) => {
            let a: InstallSnapshotArgsRef<'_> = codec::decode_borrowed(bytes).ok()?;
            Some(format!(
                "IS term={} leader={} last=({},{}) data={}B",
                a.term.0,
                a.leader_id.0,
                a.last_included_index.0,
                a.last_included_term.0,
                a.data.len()
            ))
        }
        (INSTALL_SNAPSHOT, true) => {
            let r: InstallSnapshotReply = codec::decode(bytes).ok()?;
            Some(format!("IS reply term={}", r.term.0))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use raft_core::{LogIndex, PeerId, Term};

    use super::*;

    #[test]
    fn vote_and_reply_are_one_short_line() {
        let args = RequestVoteArgs {
            term: Term(3),
            candidate_id: PeerId(1),
            last_log_index: LogIndex(12),
            last_log_term: Term(2),
        };
        let bytes = codec::encode(&args).unwrap();
        assert_eq!(
            describe(REQUEST_VOTE, &bytes, false).as_deref(),
            Some("RV term=3 cand=1 last=(12,2)")
        );
        let reply = codec::encode(&RequestVoteReply {
            term: Term(3),
            vote_granted: true,
        })
        .unwrap();
        assert_eq!(
            describe(REQUEST_VOTE, &reply, true).as_deref(),
            Some("RV reply term=3 granted=true")
        );
        assert_eq!(describe(REQUEST_VOTE, &bytes[1..], false), None);
        assert_eq!(describe("Raft.Nope", &bytes, false), None);
    }
}

#[cfg(test)]
mod via_trait {
    use lab_api::LabRaft;

    #[test]
    fn the_peer_type_describes() {
        let d = <crate::RaftPeer as LabRaft>::describe("Raft.RequestVote", &[1, 0, 0, 0], false);
        assert_eq!(d.as_deref(), Some("RV term=1 cand=0 last=(0,0)"));
    }
}
