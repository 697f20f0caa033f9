//! The key/value tests' machinery (Go's `kvtest1` and `kvraft1/test.go`, spec 4.1-4.2, 5):
//! the servers, clerks that count operations, the logged Get and Put, and the helpers every
//! test is written with (`put_at_least_once`, `check_get`, `one_put`, `spawn_clients_and_wait`,
//! the partitioner, the linearizability check).
//!
//! Failures raised in a client task fail the test at once (Go's would hang it, spec 8.3), and
//! every clerk call has a watchdog in virtual time ([`OP_WATCHDOG`], spec 8.4).

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use grader::fail::Fail;
use grader::harness::TestContext;
use grader::trace::Event;
use kv_api::{Clerk, Clnt, KvError, KvLab, ServerArgs, Version};
use lab_api::LabRaft;
use labrpc_sim::Service;
use serde::{Deserialize, Serialize};

use crate::check::{self, Verdict};
use crate::fail::KvFail;
use crate::harness::{Config, Instance, make_config};
use crate::history::{Call, History, Op};

/// How long one clerk call may take before the grader calls it stuck (not in Go, which hangs).
pub const OP_WATCHDOG: Duration = Duration::from_secs(60);
/// Go's `ElectionTimeout` in kvtest: 1 s.
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(1);

/// One key/value server: the server under test on Raft `R`.
pub struct KvInstance<R, S> {
    server: Arc<S>,
    _raft: PhantomData<fn() -> R>,
}

impl<R: LabRaft, S: kv_api::KvServer<R>> Instance for KvInstance<R, S> {
    type Raft = R;
    fn raft(&self) -> Arc<R> {
        self.server.raft()
    }
    fn services(self: Arc<Self>) -> Vec<Service> {
        vec![Arc::clone(&self.server).service()]
    }
    fn kill(&self) {
        self.server.kill();
    }
}

/// The parameters of a key/value test (Go's `MakeTest` arguments).
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// The part string Go puts in the title, verbatim.
    pub part: &'static str,
    /// Clients in GenericTest.
    pub nclients: usize,
    /// Servers.
    pub nservers: usize,
    /// Reliable network.
    pub reliable: bool,
    /// Crash and restart every server after each iteration.
    pub crash: bool,
    /// Partition the servers at random while the clients run.
    pub partitions: bool,
    /// Go's maxraftstate (`None` for -1).
    pub maxraftstate: Option<usize>,
    /// 100 random keys instead of the single key "k".
    pub randomkeys: bool,
}

impl Params {
    /// Go's `makeTitle()` (spec 4.1).
    pub fn title(&self) -> String {
        let mut s = String::from("Test: ");
        if self.crash {
            s.push_str("restarts, ");
        }
        if self.partitions {
            s.push_str("partitions, ");
        }
        if self.maxraftstate.is_some() {
            s.push_str("snapshots, ");
        }
        if self.randomkeys {
            s.push_str("random keys, ");
        }
        s.push_str(if self.nclients > 1 {
            "many clients"
        } else {
            "one client"
        });
        s.push_str(" (");
        s.push_str(self.part);
        s.push(')');
        s
    }
}

/// A clerk as the tests hold it (Go's `TestClerk`): the clerk under test, its client handle,
/// and the op counter.
pub struct TestClerk<C> {
    /// The clerk under test.
    pub ck: C,
    /// Its client handle.
    pub clnt: Clnt,
}

/// Go's `EntryV{Id, V}`, the JSON value GenericTest's clients put: `{"Id":3,"V":7}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryV {
    /// The client that put it.
    #[serde(rename = "Id")]
    pub id: i64,
    /// The version it was put at.
    #[serde(rename = "V")]
    pub v: Version,
}

/// Go's `ClntRes`: a client's OK and ErrMaybe Puts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClntRes {
    /// Puts answered OK.
    pub nok: u64,
    /// Puts answered ErrMaybe.
    pub nmaybe: u64,
}

/// The server instance of layer `K` on Raft `R`.
pub type KvServerOf<R, K> = KvInstance<R, <K as KvLab>::Server<R>>;

/// A key/value test (Go's `kvraft1.Test` with its `kvtest.Test`).
pub struct KvTest<R: LabRaft, K: KvLab> {
    /// The configuration.
    pub cfg: Arc<Config<KvServerOf<R, K>>>,
    /// The parameters.
    pub params: Params,
    /// The history of logged operations.
    pub oplog: History,
}

impl<R: LabRaft, K: KvLab> KvTest<R, K> {
    /// Go's `MakeTest`: the servers (started and connected on a reliable network, then the
    /// network made unreliable if asked), an empty history, and `Begin(makeTitle())`.
    pub fn make(t: &TestContext, params: Params) -> Result<Arc<Self>, Fail> {
        let boot = Box::new(|args: ServerArgs| {
            Arc::new(KvInstance {
                server: <K::Server<R> as kv_api::KvServer<R>>::start(args),
                _raft: PhantomData,
            })
        });
        let cfg = make_config(
            t,
            params.nservers,
            params.reliable,
            params.maxraftstate,
            boot,
            K::missing,
        )?;
        let oplog = History::new(tokio::time::Instant::now());
        let ts = Arc::new(KvTest { cfg, params, oplog });
        ts.cfg.begin(&params.title());
        Ok(ts)
    }

    /// Go's `MakeClerk()`: a clerk that may reach every server.
    pub fn make_clerk(&self) -> TestClerk<K::Clerk> {
        self.clerk_to(None)
    }

    /// Go's `MakeClerkTo(to)`: a clerk whose calls to servers outside `to` fail.
    pub fn make_clerk_to(&self, to: &[usize]) -> TestClerk<K::Clerk> {
        self.clerk_to(Some(to))
    }

    fn clerk_to(&self, to: Option<&[usize]>) -> TestClerk<K::Clerk> {
        let clnt = self.cfg.make_client(to);
        let ck = <K::Clerk as Clerk>::make(clnt.clone(), self.cfg.group().names());
        TestClerk { ck, clnt }
    }

    /// Go's `DeleteClerk(ck)`.
    pub fn delete_clerk(&self, ck: &TestClerk<K::Clerk>) {
        self.cfg.delete_client(&ck.clnt);
    }

    /// A clerk call under the watchdog.
    async fn watched<T>(
        &self,
        what: impl FnOnce() -> String,
        call: impl Future<Output = T>,
    ) -> Result<T, Fail> {
        tokio::time::timeout(OP_WATCHDOG, call).await.map_err(|_| {
            KvFail::Stuck {
                what: what(),
                after: OP_WATCHDOG,
            }
            .into()
        })
    }

    /// `TestClerk.Get`: counts one op; not logged.
    pub async fn clerk_get(
        &self,
        ck: &mut TestClerk<K::Clerk>,
        key: &str,
    ) -> Result<Result<(String, Version), KvError>, Fail> {
        self.cfg.op_inc();
        let client = ck.clnt.id();
        self.watched(|| format!("Get({key}) by clerk {client}"), ck.ck.get(key))
            .await
    }

    /// `TestClerk.Put`: counts one op; not logged.
    pub async fn clerk_put(
        &self,
        ck: &mut TestClerk<K::Clerk>,
        key: &str,
        value: &str,
        version: Version,
    ) -> Result<Result<(), KvError>, Fail> {
        self.cfg.op_inc();
        let client = ck.clnt.id();
        self.watched(
            || format!("Put({key}, {value}, {version}) by clerk {client}"),
            ck.ck.put(key, value, version),
        )
        .await
    }

    /// Go's logged Get (`kvtest.Get`, `Test.Get`): counts two ops (the wrapper's and the
    /// clerk's) and appends the operation to the history.
    pub async fn get(
        &self,
        ck: &mut TestClerk<K::Clerk>,
        key: &str,
        cli: i64,
    ) -> Result<Result<(String, Version), KvError>, Fail> {
        self.cfg.op_inc();
        let call = self.oplog.call();
        self.note_call(cli, call, format!("get('{key}')"));
        let result = self.clerk_get(ck, key).await?;
        let op = self.oplog.get(cli, key, call, &result);
        self.note_return(&op);
        Ok(result)
    }

    /// Go's logged Put: `kvtest.Put` (`wrapper`, counts two ops: PutJson) or `Test.Put`
    /// (counts one: PutAtLeastOnce).
    pub async fn put(
        &self,
        ck: &mut TestClerk<K::Clerk>,
        key: &str,
        value: &str,
        version: Version,
        cli: i64,
        wrapper: bool,
    ) -> Result<Result<(), KvError>, Fail> {
        if wrapper {
            self.cfg.op_inc();
        }
        let call = self.oplog.call();
        self.note_call(cli, call, format!("put('{key}', '{value}', '{version}')"));
        let result = self.clerk_put(ck, key, value, version).await?;
        let op = self.oplog.put(cli, key, value, version, call, &result);
        self.note_return(&op);
        Ok(result)
    }

    /// Records a logged operation's call (the timeline draws it from here).
    fn note_call(&self, client: i64, call: Call, text: String) {
        self.cfg.t().note(Event::Client {
            client,
            call: call.stamp,
            text,
            record: None,
        });
    }

    /// Records a logged operation's return, with its history record.
    fn note_return(&self, op: &Op) {
        self.cfg.t().note(Event::Client {
            client: op.client,
            call: op.call,
            text: op.describe(),
            record: Some(op.json_line()),
        });
    }

    /// Go's `PutAtLeastOnce`: puts until a Put takes effect, moving the version on after
    /// `ErrVersion`/`ErrMaybe` (one writer per key assumed); returns the new version.
    pub async fn put_at_least_once(
        &self,
        ck: &mut TestClerk<K::Clerk>,
        key: &str,
        value: &str,
        mut ver: Version,
        me: i64,
    ) -> Result<Version, Fail> {
        loop {
            match self.put(ck, key, value, ver, me, false).await? {
                Ok(()) => return Ok(ver + 1),
                Err(KvError::Maybe | KvError::Version) => ver += 1,
                Err(err) => {
                    if ver != 0 {
                        return Err(KvFail::PutAtLeastOnce {
                            key: key.into(),
                            ver,
                            err,
                        }
                        .into());
                    }
                }
            }
        }
    }

    /// Go's `CheckGet`: a logged Get must return `value` at `version`.
    pub async fn check_get(
        &self,
        ck: &mut TestClerk<K::Clerk>,
        key: &str,
        value: &str,
        version: Version,
    ) -> Result<(), Fail> {
        match self.get(ck, key, 0).await? {
            Err(err) => Err(KvFail::CheckGetError {
                key: key.into(),
                err,
            }
            .into()),
            Ok((v, ver)) if v != value || ver != version => Err(KvFail::CheckGetMismatch {
                key: key.into(),
                value: v,
                version: ver,
                want_value: value.into(),
                want_version: version,
            }
            .into()),
            Ok(_) => Ok(()),
        }
    }

    /// Go's `GetJson`: a logged Get whose value must be an [`EntryV`].
    pub async fn get_json(
        &self,
        ck: &mut TestClerk<K::Clerk>,
        key: &str,
        me: i64,
    ) -> Result<(EntryV, Version), Fail> {
        match self.get(ck, key, me).await? {
            Ok((value, ver)) => match serde_json::from_str::<EntryV>(&value) {
                Ok(e) => Ok((e, ver)),
                Err(_) => Err(KvFail::Unmarshal { ver }.into()),
            },
            Err(err) => Err(KvFail::GetJson {
                me,
                key: key.into(),
                err,
            }
            .into()),
        }
    }

    /// Go's `PutJson`: a logged Put of `v` as JSON.
    pub async fn put_json(
        &self,
        ck: &mut TestClerk<K::Clerk>,
        key: &str,
        v: EntryV,
        ver: Version,
        me: i64,
    ) -> Result<Result<(), KvError>, Fail> {
        let value = format!("{{\"Id\":{},\"V\":{}}}", v.id, v.v);
        self.put(ck, key, &value, ver, me, true).await
    }

    /// Go's `OnePut`: puts this client's entry at `ver` until it is answered OK or ErrMaybe,
    /// reading the key back after each attempt; returns the version read and whether the
    /// Put was OK.
    pub async fn one_put(
        &self,
        me: i64,
        ck: &mut TestClerk<K::Clerk>,
        key: &str,
        mut ver: Version,
    ) -> Result<(Version, bool), Fail> {
        loop {
            let err = self
                .put_json(ck, key, EntryV { id: me, v: ver }, ver, me)
                .await?;
            if let Err(e) = err {
                if !matches!(e, KvError::Version | KvError::Maybe) {
                    return Err(KvFail::WrongError { err: e }.into());
                }
            }
            let (e, ver0) = self.get_json(ck, key, me).await?;
            // Go's check, `&&` and all (spec 8.7: nearly vacuous).
            if err.is_ok() && ver0 == ver + 1 && e.id != me && e.v != ver {
                return Err(KvFail::WrongValue { id: e.id, v: e.v }.into());
            }
            ver = ver0;
            match err {
                Ok(()) => return Ok((ver, true)),
                Err(KvError::Maybe) => return Ok((ver, false)),
                Err(_) => {}
            }
        }
    }

    /// Go's `OneClientPut`: until told to stop, puts on one of `keys`, from version 0 of a
    /// per-call map, counting OK and ErrMaybe Puts.
    pub async fn one_client_put(
        &self,
        cli: usize,
        ck: &mut TestClerk<K::Clerk>,
        keys: &[String],
        done: &flume::Receiver<()>,
    ) -> Result<ClntRes, Fail> {
        let mut res = ClntRes::default();
        let mut verm: std::collections::BTreeMap<&str, Version> =
            keys.iter().map(|k| (k.as_str(), 0)).collect();
        let me = i64::try_from(cli).unwrap_or(i64::MAX);
        loop {
            if done.try_recv().is_ok() {
                return Ok(res);
            }
            let k = if self.params.randomkeys {
                let i = self.cfg.rand_int().unsigned_abs() % keys.len() as u64;
                keys[usize::try_from(i).unwrap_or(0)].as_str()
            } else {
                keys[0].as_str()
            };
            let ver = verm.get(k).copied().unwrap_or(0);
            let (ver, ok) = self.one_put(me, ck, k, ver).await?;
            verm.insert(k, ver);
            if ok {
                res.nok += 1;
            } else {
                res.nmaybe += 1;
            }
        }
    }

    /// Go's `CheckPutConcurrent`: the key's version (read as JSON) against the OK and ErrMaybe
    /// Puts counted so far (`res`, cumulative): exactly the OK count when `reliable`, else at
    /// most OK + Maybe.
    pub async fn check_put_concurrent(
        &self,
        ck: &mut TestClerk<K::Clerk>,
        key: &str,
        rs: &[ClntRes],
        res: &mut ClntRes,
        reliable: bool,
    ) -> Result<(), Fail> {
        let (_, ver0) = self.get_json(ck, key, -1).await?;
        for r in rs {
            res.nok += r.nok;
            res.nmaybe += r.nmaybe;
        }
        let wrong = if reliable {
            ver0 != res.nok
        } else {
            ver0 > res.nok + res.nmaybe
        };
        if wrong {
            return Err(KvFail::WrongNumberOfPuts {
                reliable,
                server: ver0,
                nok: res.nok,
                nmaybe: res.nmaybe,
            }
            .into());
        }
        Ok(())
    }

    /// Go's `SpawnClientsAndWait(n, d, OneClientPut)`: `n` clients, each with a fresh clerk,
    /// run for `d`; then each is told to stop (one stop at a time, each taken by a client at
    /// the top of its loop) and their results are collected in client order.
    pub async fn spawn_clients_and_wait(
        self: &Arc<Self>,
        n: usize,
        d: Duration,
        keys: &Arc<Vec<String>>,
    ) -> Result<Vec<ClntRes>, Fail> {
        let (done_tx, done_rx) = flume::bounded::<()>(0);
        let clients: Vec<_> = (0..n)
            .map(|cli| {
                let ts = Arc::clone(self);
                let done = done_rx.clone();
                let keys = Arc::clone(keys);
                tokio::spawn(async move {
                    let mut ck = ts.make_clerk();
                    let r = ts.one_client_put(cli, &mut ck, &keys, &done).await;
                    ts.delete_clerk(&ck);
                    crate::fail_now(ts.cfg.t(), r)
                })
            })
            .collect();
        drop(done_rx);
        tokio::time::sleep(d).await;
        for _ in 0..n {
            if done_tx.send_async(()).await.is_err() {
                break;
            }
        }
        let mut rs = Vec::with_capacity(n);
        for c in clients {
            rs.push(crate::join(c).await?);
        }
        Ok(rs)
    }

    /// Go's `Partitioner`: until `stop` is received (checked between rounds), puts each
    /// server on a random side, partitions, and sleeps 1 s + up to 199 ms.
    pub async fn partitioner(self: Arc<Self>, stop: flume::Receiver<()>) {
        let n = self.cfg.group().n();
        loop {
            if stop.try_recv().is_ok() {
                return;
            }
            let sides: Vec<u64> = (0..n)
                .map(|_| self.cfg.rand_int().unsigned_abs() % 2)
                .collect();
            let side = |s: u64| -> Vec<usize> { (0..n).filter(|&i| sides[i] == s).collect() };
            let (pa, pb) = (side(0), side(1));
            if let Err(f) = self.cfg.partition(&pa, &pb) {
                self.cfg.t().fail(f);
                return;
            }
            let ms = 1000 + self.cfg.rand_int().unsigned_abs() % 200;
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }

    /// Go's `CheckPorcupine`: checks the whole history so far for linearizability.
    pub fn check_porcupine(&self) -> Result<(), Fail> {
        let ops = self.oplog.read();
        let t = self.cfg.t();
        // The checker's CPU is the grader's, not the peers' (the CPU warning leaves it out).
        let outcome = t.grader_work(|| check::check_history(&ops));
        match outcome.verdict {
            Verdict::Linearizable => {
                t.note(Event::Linearizability {
                    verdict: "linearizable",
                    detail: outcome.summary,
                    ops: Vec::new(),
                });
                Ok(())
            }
            Verdict::Unknown { budget } => {
                t.print("info: linearizability check timed out, assuming history is ok\n");
                t.print(&format!(
                    "info: (the check ran out of its budget of {budget} steps on {} \
                     operations: this history was not fully checked)\n",
                    ops.len()
                ));
                t.note(Event::Linearizability {
                    verdict: "unknown",
                    detail: outcome.summary,
                    ops: Vec::new(),
                });
                if check::strict(t) {
                    return Err(KvFail::CheckUnknown { budget }.into());
                }
                t.note_unchecked();
                Ok(())
            }
            Verdict::NotLinearizable { explanation } => {
                t.note(Event::Linearizability {
                    verdict: "not linearizable",
                    detail: explanation.clone(),
                    ops: outcome.failing,
                });
                Err(KvFail::NotLinearizable { explanation }.into())
            }
        }
    }
}

/// Go's `MakeKeys(n)`: `k0` ... `k<n-1>`.
pub fn make_keys(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("k{i}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_as_go() {
        let p = Params {
            part: "4B restarts, partitions, random keys, many clients",
            nclients: 15,
            nservers: 7,
            reliable: false,
            crash: true,
            partitions: true,
            maxraftstate: None,
            randomkeys: true,
        };
        assert_eq!(
            p.title(),
            "Test: restarts, partitions, random keys, many clients (4B restarts, partitions, random keys, many clients)"
        );
        let e = EntryV { id: 3, v: 7 };
        assert_eq!(serde_json::to_string(&e).unwrap(), "{\"Id\":3,\"V\":7}");
    }
}
