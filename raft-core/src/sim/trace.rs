//! One-line renderings of messages and actions for transcripts.

use crate::message::{Request, Response};
use crate::output::{Apply, PersistDelta};

pub(super) fn request(r: &Request) -> String {
    match r {
        Request::Vote(a) => format!(
            "RequestVote term={} last={}@{}",
            a.term.0, a.last_log_index.0, a.last_log_term.0
        ),
        Request::Append(a) => format!(
            "AppendEntries term={} prev={}@{} entries={} commit={}",
            a.term.0,
            a.prev_log_index.0,
            a.prev_log_term.0,
            a.entries.len(),
            a.leader_commit.0
        ),
        Request::Snapshot(a) => format!(
            "InstallSnapshot term={} last={}@{} bytes={}",
            a.term.0,
            a.last_included_index.0,
            a.last_included_term.0,
            a.data.len()
        ),
    }
}

pub(super) fn response(r: &Response) -> String {
    match r {
        Response::Vote(v) => format!("VoteReply term={} granted={}", v.term.0, v.vote_granted),
        Response::Append(a) if a.success => format!("AppendReply term={} ok", a.term.0),
        Response::Append(a) => format!(
            "AppendReply term={} reject xterm={:?} xindex={} xlen={}",
            a.term.0,
            a.conflict_term.map(|t| t.0),
            a.conflict_index.0,
            a.log_len.0
        ),
        Response::Snapshot(s) => format!("SnapshotReply term={}", s.term.0),
    }
}

pub(super) fn persist(d: &PersistDelta) -> String {
    let mut parts = Vec::new();
    if let Some(h) = d.hard_state {
        parts.push(format!(
            "term={} vote={}",
            h.current_term.0,
            h.voted_for
                .map_or("none".to_string(), |v| format!("p{}", v.0))
        ));
    }
    if let Some((i, t)) = d.snapshot {
        parts.push(format!("snapshot={}@{}", i.0, t.0));
    }
    if let Some(t) = d.truncated_from {
        parts.push(format!("truncate_from={}", t.0));
    }
    if let Some(a) = d.appended_from {
        parts.push(format!("append_from={}", a.0));
    }
    parts.join(" ")
}

pub(super) fn apply(a: &Apply) -> String {
    match a {
        Apply::Command {
            index,
            term,
            command,
        } => format!(
            "command {}@{} {:?}",
            index.0,
            term.0,
            String::from_utf8_lossy(command)
        ),
        Apply::Snapshot { index, term, .. } => format!("snapshot {}@{}", index.0, term.0),
    }
}
