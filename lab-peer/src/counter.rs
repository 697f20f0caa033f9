//! The rsm tests' server (Go's `kvraft1/rsm/server.go`, spec 3.1): a counter replicated by
//! the rsm under test. It is here, in the peer's crate, because in process mode it runs where
//! the course runs it, in the server's process, under the submission's rsm; the grader's
//! in-process runs use the same type.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use kv_api::StateMachine;
use labrpc_sim::codec;
use serde::{Deserialize, Serialize};

/// A request to the counter (Go's `Inc`, `Dec`, `Null`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Req {
    /// Increment; the reply is the new count.
    Inc,
    /// Never to be executed: the rsm tests submit it only on a leader cut off from the
    /// majority, which must never commit it.
    Dec,
    /// Nothing.
    Null,
}

/// The counter's reply (Go's `IncRep{N}` and `NullRep{}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rep {
    /// `IncRep{N}`.
    Inc(i64),
    /// `NullRep{}`.
    Null,
}

/// Told every new value of a counter (a process-mode server tells the grader).
pub type OnChange = Arc<dyn Fn(i64) + Send + Sync>;

/// The rsm tests' state machine (Go's `rsmSrv`): a counter shared with whoever reads it as
/// Go's `GetCounter` does.
pub struct Counter {
    me: usize,
    counter: Arc<AtomicI64>,
    on_change: Option<OnChange>,
}

impl Counter {
    /// Server `me`'s counter, kept in `counter`.
    pub fn new(me: usize, counter: Arc<AtomicI64>) -> Self {
        Counter {
            me,
            counter,
            on_change: None,
        }
    }

    /// The same, telling `on_change` every value it takes.
    pub fn reporting(me: usize, counter: Arc<AtomicI64>, on_change: OnChange) -> Self {
        Counter {
            me,
            counter,
            on_change: Some(on_change),
        }
    }

    /// Where the count is kept.
    pub fn shared(&self) -> Arc<AtomicI64> {
        Arc::clone(&self.counter)
    }

    fn changed(&self, n: i64) {
        if let Some(tell) = &self.on_change {
            tell(n);
        }
    }
}

impl StateMachine for Counter {
    type Req = Req;
    type Rep = Rep;

    fn do_op(&mut self, req: Req) -> Rep {
        match req {
            Req::Inc => {
                let n = self.counter.fetch_add(1, Ordering::SeqCst) + 1;
                self.changed(n);
                Rep::Inc(n)
            }
            Req::Null => Rep::Null,
            // Go's log.Fatalf kills the server's process; the grader reports the panic.
            Req::Dec => panic!("DoOp should execute only Inc and not rsm.Dec"),
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        let n = self.counter.load(Ordering::SeqCst);
        codec::encode(&n).map_or_else(|_| Vec::new(), |b| b.to_vec())
    }

    fn restore(&mut self, snapshot: &[u8]) {
        match codec::decode::<i64>(snapshot) {
            Ok(n) => {
                self.counter.store(n, Ordering::SeqCst);
                self.changed(n);
            }
            Err(_) => panic!("{} couldn't decode counter", self.me),
        }
    }
}
