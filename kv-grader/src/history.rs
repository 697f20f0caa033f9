//! The client history (Go's `OpLog`, spec 5.2): every logged Get and Put with what it asked,
//! what it was told, and when, for the linearizability check and the failure bundle.
//!
//! Times: `call` and `ret` are positions on one logical clock that ticks at every call and
//! every return, in the order they happened, so sequential operations never share a stamp
//! (Go stamps wall-clock nanoseconds; equal stamps would make two sequential operations look
//! concurrent and weaken the check, spec 8.5). `call_us`/`ret_us` are the same moments in
//! microseconds since the test's servers were made (virtual microseconds in virtual time),
//! for people and timelines.
//!
//! As in Go, an operation enters the history when it returns; one that never returns is
//! left out.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use kv_api::{KvError, Version};
use tokio::time::Instant;

use crate::harness::lock;

/// Get or Put.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// Get(key).
    Get,
    /// Put(key, value, version).
    Put,
}

/// One operation of the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    /// Its place in the history (the order of returns), from 0.
    pub id: u64,
    /// Go's `ClientId`: the client index in GenericTest, -1 for the tester's own calls
    /// (PutAtLeastOnce, CheckPutConcurrent's Get), 0 for CheckGet.
    pub client: i64,
    /// Get or Put.
    pub kind: OpKind,
    /// The key.
    pub key: String,
    /// A Put's value (empty for a Get).
    pub value: String,
    /// A Put's version (0 for a Get).
    pub version: Version,
    /// A Get's value.
    pub out_value: String,
    /// A Get's version.
    pub out_version: Version,
    /// The answer: `OK`, `ErrNoKey`, `ErrVersion`, `ErrMaybe`, ...
    pub err: String,
    /// Logical time of the call.
    pub call: u64,
    /// Logical time of the return.
    pub ret: u64,
    /// Microseconds since the servers were made, at the call.
    pub call_us: u64,
    /// Microseconds since the servers were made, at the return.
    pub ret_us: u64,
}

impl Op {
    /// The operation as Go's model describes it: `get('k') -> ('v', '3', 'OK')` or
    /// `put('k', 'v', '2') -> ('OK')`.
    pub fn describe(&self) -> String {
        match self.kind {
            OpKind::Get => format!(
                "get('{}') -> ('{}', '{}', '{}')",
                self.key, self.out_value, self.out_version, self.err
            ),
            OpKind::Put => format!(
                "put('{}', '{}', '{}') -> ('{}')",
                self.key, self.value, self.version, self.err
            ),
        }
    }

    /// The operation as one line of `history.jsonl` (schema in docs/EVENTS.md): its fields
    /// in name order, as a JSON map writes them.
    pub fn json_line(&self) -> String {
        let line = OpLine {
            call: self.call,
            call_us: self.call_us,
            client: self.client,
            err: &self.err,
            id: self.id,
            key: &self.key,
            op: match self.kind {
                OpKind::Get => "get",
                OpKind::Put => "put",
            },
            out_value: &self.out_value,
            out_version: self.out_version,
            ret: self.ret,
            ret_us: self.ret_us,
            value: &self.value,
            version: self.version,
        };
        // Serialising a struct of plain fields and strings cannot fail.
        serde_json::to_string(&line).unwrap_or_default()
    }
}

/// One line of `history.jsonl`, borrowed from its [`Op`] (one per logged operation, written
/// straight out: a JSON map built per operation was most of a Lab 4 run's record cost).
#[derive(serde::Serialize)]
struct OpLine<'a> {
    call: u64,
    call_us: u64,
    client: i64,
    err: &'a str,
    id: u64,
    key: &'a str,
    op: &'static str,
    out_value: &'a str,
    out_version: Version,
    ret: u64,
    ret_us: u64,
    value: &'a str,
    version: Version,
}

/// A call under way: where it started.
#[derive(Clone, Copy, Debug)]
pub struct Call {
    /// Its logical time.
    pub stamp: u64,
    /// Microseconds since the servers were made.
    pub us: u64,
}

/// The history of a test (Go's `OpLog`).
pub struct History {
    t0: Instant,
    clock: AtomicU64,
    ops: Mutex<Vec<Op>>,
}

impl History {
    /// An empty history whose microseconds count from `t0`.
    pub fn new(t0: Instant) -> Self {
        History {
            t0,
            clock: AtomicU64::new(0),
            ops: Mutex::new(Vec::new()),
        }
    }

    fn now_us(&self) -> u64 {
        u64::try_from(self.t0.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// Stamps a call.
    pub fn call(&self) -> Call {
        Call {
            stamp: self.clock.fetch_add(1, Ordering::SeqCst),
            us: self.now_us(),
        }
    }

    /// Appends a returned Get.
    pub fn get(
        &self,
        client: i64,
        key: &str,
        call: Call,
        result: &Result<(String, Version), KvError>,
    ) -> Op {
        let (out_value, out_version) = match result {
            Ok((v, ver)) => (v.clone(), *ver),
            Err(_) => (String::new(), 0),
        };
        self.push(Op {
            id: 0,
            client,
            kind: OpKind::Get,
            key: key.to_string(),
            value: String::new(),
            version: 0,
            out_value,
            out_version,
            err: KvError::go_name(result),
            call: call.stamp,
            ret: 0,
            call_us: call.us,
            ret_us: 0,
        })
    }

    /// Appends a returned Put.
    pub fn put(
        &self,
        client: i64,
        key: &str,
        value: &str,
        version: Version,
        call: Call,
        result: &Result<(), KvError>,
    ) -> Op {
        self.push(Op {
            id: 0,
            client,
            kind: OpKind::Put,
            key: key.to_string(),
            value: value.to_string(),
            version,
            out_value: String::new(),
            out_version: 0,
            err: KvError::go_name(result),
            call: call.stamp,
            ret: 0,
            call_us: call.us,
            ret_us: 0,
        })
    }

    fn push(&self, mut op: Op) -> Op {
        op.ret = self.clock.fetch_add(1, Ordering::SeqCst);
        op.ret_us = self.now_us();
        let mut ops = lock(&self.ops);
        op.id = u64::try_from(ops.len()).unwrap_or(u64::MAX);
        ops.push(op.clone());
        op
    }

    /// A copy of the history so far (Go's `OpLog.Read`).
    pub fn read(&self) -> Vec<Op> {
        lock(&self.ops).clone()
    }

    /// The history as JSON lines, one operation per line.
    pub fn jsonl(&self) -> String {
        let mut out = String::new();
        for op in lock(&self.ops).iter() {
            let _ = writeln!(out, "{}", op.json_line());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line is what a JSON map of the same fields prints (keys in name order), strings
    /// escaped alike.
    #[test]
    fn a_json_line_is_the_map_of_its_fields() {
        let op = Op {
            id: 7,
            client: -1,
            kind: OpKind::Put,
            key: "k\"1\\\u{e9}\n".into(),
            value: "v \u{1f600}\t".into(),
            version: 3,
            out_value: String::new(),
            out_version: 0,
            err: "ErrMaybe".into(),
            call: 11,
            ret: 12,
            call_us: 1_000,
            ret_us: u64::MAX,
        };
        let map = serde_json::json!({
            "id": op.id,
            "client": op.client,
            "op": "put",
            "key": op.key,
            "value": op.value,
            "version": op.version,
            "out_value": op.out_value,
            "out_version": op.out_version,
            "err": op.err,
            "call": op.call,
            "ret": op.ret,
            "call_us": op.call_us,
            "ret_us": op.ret_us,
        });
        assert_eq!(op.json_line(), map.to_string());
    }

    #[tokio::test(start_paused = true)]
    async fn stamps_order_calls_and_returns() {
        let h = History::new(Instant::now());
        let a = h.call();
        let b = h.call();
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        let pa = h.put(1, "k", "v", 0, a, &Ok(()));
        let gb = h.get(2, "k", b, &Ok(("v".into(), 1)));
        assert_eq!((pa.call, pa.ret, gb.call, gb.ret), (0, 2, 1, 3));
        assert_eq!((pa.id, gb.id, pa.ret_us), (0, 1, 3000));
        assert_eq!(pa.describe(), "put('k', 'v', '0') -> ('OK')");
        assert_eq!(gb.describe(), "get('k') -> ('v', '1', 'OK')");
        let line = pa.json_line();
        assert!(line.starts_with("{\"call\":0,"), "{line}");
        assert_eq!(h.jsonl().lines().count(), 2);
    }
}
