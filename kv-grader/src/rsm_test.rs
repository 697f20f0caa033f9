//! The rsm tests' own machinery (Go's `kvraft1/rsm/test.go` and `server.go`, spec 3.1): a
//! counter state machine ([`Counter`]) replicated by the rsm under test, and the helpers
//! that submit to it directly (`one_partition`, `one_inc`, `check_counter` ...).
//!
//! Go's tester calls Submit on each server's process over a socket: never lost or delayed,
//! not counted in #RPCs, and failing at once on a killed server. Here the harness calls the
//! rsm directly (in process mode from outside, [`crate::process`], over the server process's
//! socket), and a call in flight when its server is crashed fails at once too.

use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use grader::fail::Fail;
use grader::harness::TestContext;
use kv_api::{KvError, ServerArgs};
use lab_api::LabRaft;
use labrpc_sim::Service;
use tokio::time::Instant;

use crate::fail::KvFail;
use crate::harness::{Config, Instance, make_config};

/// Go's `NSRV`: the rsm tests run 3 servers.
pub const NSRV: usize = 3;
/// Go's `NSEC`: `one_partition` gives up after 10 s.
pub const NSEC: Duration = Duration::from_secs(10);
/// How long one Submit may take before the grader calls it stuck (not in Go, which would
/// wait forever).
pub const SUBMIT_WATCHDOG: Duration = Duration::from_secs(60);

pub use lab_peer::counter::{Counter, Rep, Req};

/// One rsm test server: the rsm under test (type `M`, on Raft `R`) and its counter.
pub struct RsmServer<R, M> {
    rsm: Arc<M>,
    counter: Arc<AtomicI64>,
    _raft: PhantomData<fn() -> R>,
}

impl<R: LabRaft, M: kv_api::Rsm<R, Counter>> Instance for RsmServer<R, M> {
    type Raft = R;
    fn raft(&self) -> Arc<R> {
        self.rsm.raft()
    }
    fn services(self: Arc<Self>) -> Vec<Service> {
        Vec::new()
    }
    fn kill(&self) {
        self.rsm.kill();
    }
}

/// Go's rsm `Test`: the configuration and the server believed to lead.
pub struct RsmTest<R: LabRaft, M: kv_api::Rsm<R, Counter>> {
    /// The configuration.
    pub cfg: Arc<Config<RsmServer<R, M>>>,
    leader: AtomicUsize,
}

impl<R: LabRaft, M: kv_api::Rsm<R, Counter>> RsmTest<R, M> {
    /// Go's `makeTest(t, maxraftstate)`: 3 servers on a reliable network, started and
    /// connected. Does not call begin.
    pub fn make(
        t: &TestContext,
        max_raft_state: Option<usize>,
        hints: fn() -> Vec<&'static str>,
    ) -> Result<Arc<Self>, Fail> {
        let boot = Box::new(|args: ServerArgs| {
            let counter = Arc::new(AtomicI64::new(0));
            let sm = Counter::new(args.me, Arc::clone(&counter));
            Arc::new(RsmServer {
                rsm: M::make(args, sm),
                counter,
                _raft: PhantomData,
            })
        });
        let cfg = make_config(t, NSRV, true, max_raft_state, boot, hints)?;
        Ok(Arc::new(RsmTest {
            cfg,
            leader: AtomicUsize::new(0),
        }))
    }

    /// Submits `req` on server i: `None` when i is crashed, or is crashed before Submit
    /// returns (Go's socket call fails at once then).
    pub async fn submit(&self, i: usize, req: Req) -> Option<Result<Rep, KvError>> {
        let handle = self.cfg.group().handle(i)?;
        let mut killed = handle.killed;
        let rsm = Arc::clone(&handle.instance.rsm);
        tokio::select! {
            biased;
            _ = killed.wait_for(|k| *k) => None,
            r = rsm.submit(req) => Some(r),
        }
    }

    /// Go's `onePartition(p, req)`: tries the connected servers (of `p`, if given), from
    /// the last leader on, until one Submit returns OK; sleeps 50 ms after each round;
    /// gives up after 10 s (`None`).
    pub async fn one_partition(&self, p: Option<&[usize]>, req: Req) -> Result<Option<Rep>, Fail> {
        let t0 = Instant::now();
        while t0.elapsed() < NSEC {
            let mut index = self.leader.load(Ordering::Relaxed);
            for _ in 0..NSRV {
                let group = self.cfg.group();
                if group.is_connected(index) && p.is_none_or(|p| p.contains(&index)) {
                    let reply = tokio::time::timeout(SUBMIT_WATCHDOG, self.submit(index, req))
                        .await
                        .map_err(|_| KvFail::Stuck {
                            what: format!("Submit({req:?}) on server {index}"),
                            after: SUBMIT_WATCHDOG,
                        })?;
                    if let Some(Ok(rep)) = reply {
                        self.leader.store(index, Ordering::Relaxed);
                        self.cfg.op_inc();
                        return Ok(Some(rep));
                    }
                }
                index = (index + 1) % NSRV;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(None)
    }

    /// Go's `oneInc()`: the new count, or 0 when no server committed it within 10 s.
    pub async fn one_inc(&self) -> Result<i64, Fail> {
        match self.one_partition(None, Req::Inc).await? {
            None => Ok(0),
            Some(Rep::Inc(n)) => Ok(n),
            Some(other) => Err(KvFail::WrongReply {
                req: "Inc".into(),
                rep: format!("{other:?}"),
            }
            .into()),
        }
    }

    /// Go's `oneInc()`, except that giving up fails the test ([`KvFail::IncGaveUp`]) instead
    /// of going on with the zero reply: for the tests where that reply would pass vacuously.
    pub async fn one_inc_answered(&self) -> Result<i64, Fail> {
        match self.one_partition(None, Req::Inc).await? {
            None => Err(KvFail::IncGaveUp { after: NSEC }.into()),
            Some(Rep::Inc(n)) => Ok(n),
            Some(other) => Err(KvFail::WrongReply {
                req: "Inc".into(),
                rep: format!("{other:?}"),
            }
            .into()),
        }
    }

    /// Go's `oneNull()`.
    pub async fn one_null(&self) -> Result<(), Fail> {
        match self.one_partition(None, Req::Null).await? {
            None | Some(Rep::Null) => Ok(()),
            Some(other) => Err(KvFail::WrongReply {
                req: "Null".into(),
                rep: format!("{other:?}"),
            }
            .into()),
        }
    }

    /// Go's `checkCounter(v, nsrv)`: waits (up to 30 rounds, 10 ms doubling to 1.28 s) until
    /// at least `nsrv` servers' counters are `v`.
    pub async fn check_counter(&self, v: i64, nsrv: usize) -> Result<(), Fail> {
        let mut to = Duration::from_millis(10);
        let mut n = 0;
        for _ in 0..30 {
            n = self
                .cfg
                .group()
                .running()
                .iter()
                .filter(|(_, s)| s.counter.load(Ordering::SeqCst) == v)
                .count();
            if n >= nsrv {
                return Ok(());
            }
            tokio::time::sleep(to).await;
            if to < Duration::from_secs(1) {
                to *= 2;
            }
        }
        Err(KvFail::CheckCounter { n, v, nsrv }.into())
    }

    /// Crashes the servers in `list`.
    pub fn kill(&self, list: &[usize]) -> Result<(), Fail> {
        self.cfg.kill(list)
    }

    /// Restarts the servers in `list` and connects every server.
    pub fn restart(&self, list: &[usize]) -> Result<(), Fail> {
        self.cfg.start(list)?;
        self.cfg.connect_all()
    }

    /// Go's `disconnectLeader()`: cuts the last leader off; returns it.
    pub fn disconnect_leader(&self) -> Result<usize, Fail> {
        let l = self.leader();
        self.cfg.disconnect_all(l)?;
        Ok(l)
    }

    /// Go's `connect(i)`.
    pub fn connect(&self, i: usize) -> Result<(), Fail> {
        self.cfg.connect_one(i)
    }

    /// The server that last answered OK.
    pub fn leader(&self) -> usize {
        self.leader.load(Ordering::Relaxed)
    }
}
