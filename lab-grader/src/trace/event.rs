//! The recorded events, kept compact (raw RPC bytes, no text) while a test runs, and their
//! rendering as JSON lines (`events.jsonl`, schema version 1, documented in docs/EVENTS.md)
//! when a bundle is written.

use std::fmt::Write as _;

use bytes::Bytes;
use lab_api::Role;
use labrpc_sim::CallStage;

use crate::cmd::Cmd;

/// The `schema` number of the `test` line.
pub const SCHEMA: u32 = 1;

/// Renders an RPC message of the peer type under test (its [`lab_api::LabRaft::describe`]).
pub type Describe = fn(&str, &[u8], bool) -> Option<String>;

/// What the tester did (`harness` events).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// start1(i).
    Start,
    /// crash1(i).
    Crash,
    /// connect(i).
    Connect,
    /// disconnect(i).
    Disconnect,
    /// setunreliable: `value` is whether the network is reliable.
    Reliable,
    /// setlongreordering.
    LongReordering,
    /// begin().
    Begin,
    /// end().
    End,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Crash => "crash",
            Action::Connect => "connect",
            Action::Disconnect => "disconnect",
            Action::Reliable => "reliable",
            Action::LongReordering => "long_reordering",
            Action::Begin => "begin",
            Action::End => "end",
        }
    }
}

/// One stage of one RPC, as the network observer reported it.
#[derive(Clone, Debug)]
pub struct Rpc {
    /// The network's call number.
    pub call: u64,
    /// The caller's peer.
    pub from: Option<usize>,
    /// The callee's peer.
    pub to: Option<usize>,
    /// Index into the record's method names.
    pub method: u16,
    /// The stage.
    pub stage: CallStage,
    /// The arguments (at `Sent`) or the reply (at `Handled`).
    pub payload: Option<Bytes>,
    /// The delay of `Unreachable` and `Reordered`, in µs.
    pub delay_us: Option<u64>,
}

/// A peer's inspected state, as far as `state` events tell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateKey {
    /// Follower, candidate or leader.
    pub role: Role,
    /// Current term.
    pub term: u64,
    /// Vote in that term.
    pub voted_for: Option<usize>,
    /// Commit index.
    pub commit: u64,
    /// Last log index.
    pub last_index: u64,
    /// Snapshot's last index.
    pub snapshot_index: u64,
}

/// One event of a test run (see docs/EVENTS.md for each kind).
#[derive(Clone, Debug)]
pub enum Event {
    /// What the tester did; `value` for reliable / long_reordering.
    Harness {
        /// What.
        action: Action,
        /// To which peer (`None`: network-wide).
        peer: Option<usize>,
        /// The setting, for reliable / long_reordering.
        value: Option<bool>,
    },
    /// The harness called Start on a peer: `(index, term)`, or `None` when refused.
    Start {
        /// The peer.
        peer: usize,
        /// The command bytes.
        cmd: Bytes,
        /// Where it went.
        started: Option<(u64, u64)>,
    },
    /// A checker's result.
    Check {
        /// `check_one_leader`, `one`, ...
        check: &'static str,
        /// Whether it passed.
        ok: bool,
        /// What it found, or its failure message.
        detail: String,
    },
    /// One stage of one RPC.
    Rpc(Rpc),
    /// A command (`Some(bytes)`) or snapshot (`None`) the harness received at `index`.
    Apply {
        /// The peer.
        peer: usize,
        /// The index (the snapshot's last index for a snapshot).
        index: u64,
        /// The command's bytes; `None` for a snapshot.
        cmd: Option<Bytes>,
    },
    /// A peer's inspected state changed.
    State {
        /// The peer.
        peer: usize,
        /// What it shows now.
        state: StateKey,
    },
    /// An invariant broke.
    Violation {
        /// The property's name.
        property: &'static str,
        /// The paper's section.
        section: &'static str,
        /// What was seen.
        detail: String,
        /// The failure message.
        message: String,
    },
    /// A peer (or the harness) panicked.
    Panic {
        /// The peer, when known.
        peer: Option<usize>,
        /// `file:line:column`.
        location: String,
        /// The panic message.
        message: String,
    },
    /// A peer's own line: a `tracing` event, or a line it printed (level `PRINT`), or the
    /// grader's note that some were left out (level `NOTE`).
    Log {
        /// The peer, when known.
        peer: Option<usize>,
        /// "ERROR" .. "TRACE", "PRINT" (printed to stdout or stderr), "NOTE".
        level: &'static str,
        /// The tracing target (module path), `print` for a printed line.
        target: &'static str,
        /// The message and fields.
        message: String,
        /// The event's `topic` field, if it has one (`tracing::debug!(topic = "vote", ...)`).
        topic: Option<String>,
    },
    /// The test's failure message.
    Failure {
        /// The message as printed.
        message: String,
    },
    /// A client's operation (Lab 4), recorded at its call and at its return.
    Client {
        /// The client (its lane; -1 for the tester's own calls).
        client: i64,
        /// The operation's call stamp, which pairs its call with its return.
        call: u64,
        /// What it asked (at the call), or asked and was told (at the return).
        text: String,
        /// At the return: the operation's history record, a JSON object (see docs/EVENTS.md);
        /// `None` at the call.
        record: Option<String>,
    },
    /// A linearizability check's verdict (Lab 4).
    Linearizability {
        /// `linearizable`, `not linearizable` or `unknown`.
        verdict: &'static str,
        /// A one-line summary, or the explanation of a failure.
        detail: String,
        /// The history ids of the operations the explanation names (the one that cannot be
        /// placed first).
        ops: Vec<u64>,
    },
}

impl Event {
    /// The peer whose lane the event is in, if any.
    pub fn peer(&self) -> Option<usize> {
        match self {
            Event::Harness { peer, .. } | Event::Panic { peer, .. } | Event::Log { peer, .. } => {
                *peer
            }
            Event::Start { peer, .. } | Event::Apply { peer, .. } | Event::State { peer, .. } => {
                Some(*peer)
            }
            Event::Rpc(r) => rpc_lane(r),
            Event::Check { .. }
            | Event::Violation { .. }
            | Event::Failure { .. }
            | Event::Client { .. }
            | Event::Linearizability { .. } => None,
        }
    }

    /// The bytes the event carries (an RPC's payload, a command), taken out of it; `None`
    /// (and the event unchanged) if it carries none.
    pub(crate) fn take_bytes(&mut self) -> Option<Bytes> {
        match self {
            Event::Rpc(r) => r.payload.take(),
            Event::Apply { cmd, .. } => cmd.take(),
            Event::Start { cmd, .. } => Some(std::mem::take(cmd)),
            _ => None,
        }
    }

    /// Gives back the bytes [`Event::take_bytes`] took.
    pub(crate) fn put_bytes(&mut self, bytes: Bytes) {
        match self {
            Event::Rpc(r) => r.payload = Some(bytes),
            Event::Apply { cmd, .. } => *cmd = Some(bytes),
            Event::Start { cmd, .. } => *cmd = bytes,
            _ => {}
        }
    }

    /// Roughly what the event holds in memory, for the record's cap.
    pub(crate) fn cost(&self) -> usize {
        let heap = match self {
            Event::Start { cmd, .. } => cmd.len(),
            Event::Check { detail, .. } => detail.len(),
            Event::Rpc(r) => r.payload.as_ref().map_or(0, Bytes::len),
            Event::Apply { cmd, .. } => cmd.as_ref().map_or(0, Bytes::len),
            Event::Violation {
                detail, message, ..
            } => detail.len() + message.len(),
            Event::Panic {
                location, message, ..
            } => location.len() + message.len(),
            Event::Log { message, topic, .. } => {
                message.len() + topic.as_ref().map_or(0, String::len)
            }
            Event::Failure { message } => message.len(),
            Event::Client { text, record, .. } => {
                text.len() + record.as_ref().map_or(0, String::len)
            }
            Event::Linearizability { detail, ops, .. } => detail.len() + 8 * ops.len(),
            Event::Harness { .. } | Event::State { .. } => 0,
        };
        std::mem::size_of::<(u64, Event)>() + heap
    }
}

/// The `test` line's fields (the first line of every events file).
#[derive(Clone, Debug)]
pub struct Header {
    /// The Rust test name.
    pub name: String,
    /// The Go test name.
    pub go_name: String,
    /// begin()'s title.
    pub title: String,
    /// The run seed.
    pub seed: u64,
    /// The test's own seed.
    pub test_seed: u64,
    /// Number of peers (0 if the test made no cluster).
    pub peers: usize,
    /// Whether the clock was real.
    pub real_time: bool,
    /// Events dropped from the start of the record because it reached its cap.
    pub truncated: u64,
}

/// What rendering needs besides the event: method names and the peer type's describer.
pub(crate) struct Context<'a> {
    pub(crate) methods: &'a [String],
    pub(crate) describe: Option<Describe>,
}

/// A JSON string literal.
pub(crate) fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\r' => q.push_str("\\r"),
            '\t' => q.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(q, "\\u{:04x}", u32::from(c));
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// One JSON object being written, fields in the order given.
struct Line(String);

impl Line {
    fn new(t: u64, kind: &str, peer: Option<usize>) -> Line {
        let mut l = Line(format!("{{\"t\":{t},\"kind\":\"{kind}\""));
        l = l.opt("peer", peer);
        l
    }
    fn raw(mut self, key: &str, json: &str) -> Line {
        let _ = write!(self.0, ",\"{key}\":{json}");
        self
    }
    fn str(self, key: &str, v: &str) -> Line {
        let q = quote(v);
        self.raw(key, &q)
    }
    fn opt_str(self, key: &str, v: Option<&str>) -> Line {
        match v {
            Some(v) => self.str(key, v),
            None => self.raw(key, "null"),
        }
    }
    fn num(self, key: &str, v: impl std::fmt::Display) -> Line {
        let v = v.to_string();
        self.raw(key, &v)
    }
    fn opt(self, key: &str, v: Option<impl std::fmt::Display>) -> Line {
        match v {
            Some(v) => self.num(key, v),
            None => self.raw(key, "null"),
        }
    }
    fn end(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

/// A command as Go prints it (`%v`), or its size when it is not a harness command.
pub(crate) fn go_cmd(bytes: &[u8]) -> String {
    match Cmd::from_bytes(bytes) {
        Ok(c) => c.to_string(),
        Err(_) => format!("<{} bytes>", bytes.len()),
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Follower => "follower",
        Role::Candidate => "candidate",
        Role::Leader => "leader",
    }
}

/// The schema's name of a call stage.
pub fn stage_name(stage: CallStage) -> &'static str {
    match stage {
        CallStage::Sent => "sent",
        CallStage::Unreachable => "unreachable",
        CallStage::RequestDropped => "request_dropped",
        CallStage::NoMethod => "no_method",
        CallStage::Dispatched => "dispatched",
        CallStage::Detached => "detached",
        CallStage::Handled => "handled",
        CallStage::Panicked => "panicked",
        CallStage::ServerDead => "server_dead",
        CallStage::ReplyDropped => "reply_dropped",
        CallStage::Reordered => "reordered",
        CallStage::Delivered => "delivered",
    }
}

/// The peer whose lane a stage belongs to: the server's for what happens at the server.
fn rpc_lane(r: &Rpc) -> Option<usize> {
    match r.stage {
        CallStage::Dispatched | CallStage::Detached | CallStage::Handled | CallStage::Panicked => {
            r.to
        }
        _ => r.from,
    }
}

/// The `test` line.
pub fn header_line(h: &Header) -> String {
    Line::new(0, "test", None)
        .str("name", &h.name)
        .str("go_name", &h.go_name)
        .str("title", &h.title)
        .num("seed", h.seed)
        .num("test_seed", h.test_seed)
        .num("peers", h.peers)
        .num("real_time", h.real_time)
        .num("schema", SCHEMA)
        .num("truncated", h.truncated)
        .end()
}

/// One event as a JSON line (without the newline).
pub(crate) fn line(t: u64, event: &Event, cx: &Context<'_>) -> String {
    match event {
        Event::Harness {
            action,
            peer,
            value,
        } => Line::new(t, "harness", *peer)
            .str("action", action.name())
            .opt("value", *value)
            .end(),
        Event::Start { peer, cmd, started } => Line::new(t, "start", Some(*peer))
            .str("cmd", &go_cmd(cmd))
            .opt("index", started.map(|s| s.0))
            .opt("term", started.map(|s| s.1))
            .end(),
        Event::Check { check, ok, detail } => Line::new(t, "check", None)
            .str("check", check)
            .num("ok", ok)
            .str("detail", detail)
            .end(),
        Event::Rpc(r) => rpc_line(t, r, cx),
        Event::Apply { peer, index, cmd } => {
            let l = Line::new(t, "apply", Some(*peer)).num("index", index);
            match cmd {
                Some(c) => l.str("cmd", &go_cmd(c)).end(),
                None => l.num("snapshot_index", index).end(),
            }
        }
        Event::State { peer, state: s } => Line::new(t, "state", Some(*peer))
            .str("role", role_name(s.role))
            .num("term", s.term)
            .opt("voted_for", s.voted_for)
            .num("commit", s.commit)
            .num("last_index", s.last_index)
            .num("snapshot_index", s.snapshot_index)
            .end(),
        Event::Violation {
            property,
            section,
            detail,
            message,
        } => Line::new(t, "violation", None)
            .str("property", property)
            .str("section", section)
            .str("detail", detail)
            .str("message", message)
            .end(),
        Event::Panic {
            peer,
            location,
            message,
        } => Line::new(t, "panic", *peer)
            .str("location", location)
            .str("message", message)
            .end(),
        Event::Log {
            peer,
            level,
            target,
            message,
            topic,
        } => {
            let l = Line::new(t, "log", *peer)
                .str("level", level)
                .str("target", target);
            let l = match topic {
                Some(topic) => l.str("topic", topic),
                None => l,
            };
            l.str("message", message).end()
        }
        Event::Failure { message } => Line::new(t, "failure", None).str("message", message).end(),
        Event::Client {
            client,
            call,
            text,
            record,
        } => Line::new(t, "client", None)
            .num("client", client)
            .num("call", call)
            .str("stage", if record.is_some() { "return" } else { "call" })
            .str("text", text)
            .raw("op", record.as_deref().unwrap_or("null"))
            .end(),
        Event::Linearizability {
            verdict,
            detail,
            ops,
        } => {
            let ops: Vec<String> = ops.iter().map(u64::to_string).collect();
            Line::new(t, "linearizability", None)
                .str("verdict", verdict)
                .str("detail", detail)
                .raw("ops", &format!("[{}]", ops.join(",")))
                .end()
        }
    }
}

fn rpc_line(t: u64, r: &Rpc, cx: &Context<'_>) -> String {
    let method = cx
        .methods
        .get(usize::from(r.method))
        .map_or("?", String::as_str);
    let reply = r.stage == CallStage::Handled;
    let text = match (&r.payload, cx.describe) {
        (Some(p), Some(d)) if !p.is_empty() => d(method, p, reply),
        _ => None,
    };
    Line::new(t, "rpc", rpc_lane(r))
        .num("call", r.call)
        .opt("from", r.from)
        .opt("to", r.to)
        .str("method", method)
        .str("stage", stage_name(r.stage))
        .opt("bytes", r.payload.as_ref().map(Bytes::len))
        .opt_str("text", text.as_deref())
        .opt("delay_us", r.delay_us)
        .end()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe(method: &str, bytes: &[u8], reply: bool) -> Option<String> {
        Some(format!("{method} {} bytes reply={reply}", bytes.len()))
    }

    /// One event of every kind, as the schema (docs/EVENTS.md) writes it.
    #[test]
    fn every_kind_as_a_json_line() {
        let methods = vec!["Raft.AppendEntries".to_string()];
        let cx = Context {
            methods: &methods,
            describe: Some(describe),
        };
        let header = Header {
            name: "backup_2b".into(),
            go_name: "TestBackup2B".into(),
            title: "Test (2B): leader backs up quickly over incorrect follower logs".into(),
            seed: 42,
            test_seed: 7,
            peers: 5,
            real_time: false,
            truncated: 0,
        };
        let rpc = |stage, payload: Option<&'static [u8]>, delay_us| {
            Event::Rpc(Rpc {
                call: 9,
                from: Some(1),
                to: Some(3),
                method: 0,
                stage,
                payload: payload.map(Bytes::from_static),
                delay_us,
            })
        };
        let events = [
            Event::Harness {
                action: Action::Disconnect,
                peer: Some(2),
                value: None,
            },
            Event::Harness {
                action: Action::Reliable,
                peer: None,
                value: Some(false),
            },
            Event::Start {
                peer: 1,
                cmd: Cmd::Int(101).to_bytes(),
                started: Some((3, 2)),
            },
            Event::Start {
                peer: 0,
                cmd: Cmd::Str("x\"y".into()).to_bytes(),
                started: None,
            },
            Event::Check {
                check: "one",
                ok: true,
                detail: "one(101) at index 3".into(),
            },
            rpc(CallStage::Sent, Some(b"abcd"), None),
            rpc(CallStage::Handled, Some(b"ab"), None),
            rpc(CallStage::Unreachable, None, Some(20_000)),
            Event::Apply {
                peer: 3,
                index: 3,
                cmd: Some(Cmd::Int(101).to_bytes()),
            },
            Event::Apply {
                peer: 4,
                index: 9,
                cmd: None,
            },
            Event::State {
                peer: 1,
                state: StateKey {
                    role: Role::Leader,
                    term: 2,
                    voted_for: Some(1),
                    commit: 3,
                    last_index: 4,
                    snapshot_index: 0,
                },
            },
            Event::Violation {
                property: "Election Safety",
                section: "§5.2",
                detail: "peers 1 and 2 lead term 2".into(),
                message: "Election Safety (§5.2) broken: peers 1 and 2 lead term 2".into(),
            },
            Event::Panic {
                peer: Some(2),
                location: "raft-student/src/raft.rs:10:5".into(),
                message: "boom".into(),
            },
            Event::Log {
                peer: None,
                level: "INFO",
                target: "raft_student::raft",
                message: "line\twith\ncontrol \u{1}".into(),
                topic: None,
            },
            Event::Failure {
                message: "expected one leader, got none".into(),
            },
            Event::Client {
                client: 2,
                call: 17,
                text: "put('k', 'v', '0')".into(),
                record: None,
            },
            Event::Client {
                client: 2,
                call: 17,
                text: "put('k', 'v', '0') -> ('OK')".into(),
                record: Some(r#"{"id":4,"op":"put"}"#.into()),
            },
            Event::Linearizability {
                verdict: "not linearizable",
                detail: "key 'k': ...".into(),
                ops: vec![4, 2],
            },
        ];
        let mut out = header_line(&header);
        out.push('\n');
        for (t, e) in (0u64..).map(|k| k * 1500).zip(&events) {
            let l = line(t, e, &cx);
            let v: serde_json::Value = serde_json::from_str(&l).expect("valid JSON");
            assert!(v.get("t").is_some() && v.get("kind").is_some() && v.get("peer").is_some());
            out.push_str(&l);
            out.push('\n');
        }
        insta::assert_snapshot!(out);
    }
}
