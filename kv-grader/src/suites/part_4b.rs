//! Part 4B: the fault-tolerant key/value service without snapshots (Go's
//! `kvraft1/kvraft_test.go`, spec 4.1-4.4): thirteen tests, most of them [`generic_test`]
//! with the parameters of the spec's table.

use std::time::Duration;

use grader::fail::Fail;
use grader::harness::TestContext;
use kv_api::{Clerk, KvLab, Version};
use lab_api::LabRaft;
use tokio::time::sleep;

use super::generic::{generic_test, generic_test_speed};
use crate::fail::KvFail;
use crate::fail_now;
use crate::kvtest::{KvTest, Params};

/// A test's parameters, Go's `MakeTest` arguments in the spec table's order.
#[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)]
pub(crate) const fn params(
    part: &'static str,
    nclients: usize,
    nservers: usize,
    reliable: bool,
    crash: bool,
    partitions: bool,
    maxraftstate: Option<usize>,
    randomkeys: bool,
) -> Params {
    Params {
        part,
        nclients,
        nservers,
        reliable,
        crash,
        partitions,
        maxraftstate,
        randomkeys,
    }
}

macro_rules! generic {
    ($(#[$doc:meta])* $name:ident, $body:ident, $params:expr) => {
        $(#[$doc])*
        pub async fn $name<R: LabRaft, K: KvLab>(t: TestContext) -> Result<(), Fail> {
            $body::<R, K>(t, $params).await
        }
    };
}

/// TestBasic4B's parameters.
pub const BASIC: Params = params("4B basic", 1, 5, true, false, false, None, false);

generic!(
    /// TestBasic4B: one client, reliable network, 5 servers (GenericTest).
    basic_4b, generic_test, BASIC);
generic!(
    /// TestSpeed4B: 1000 Puts at 33 ms each at most (GenericTestSpeed), 3 servers.
    speed_4b, generic_test_speed,
    params("4B speed", 1, 3, true, false, false, None, false));
generic!(
    /// TestConcurrent4B: five clients on one key, reliable network (GenericTest).
    concurrent_4b, generic_test,
    params("4B many clients", 5, 5, true, false, false, None, false));
generic!(
    /// TestUnreliable4B: five clients, unreliable network (GenericTest).
    unreliable_4b, generic_test,
    params("4B many clients", 5, 5, false, false, false, None, false));
generic!(
    /// TestManyPartitionsOneClient4B: one client, random partitions (GenericTest).
    many_partitions_one_client_4b, generic_test,
    params("4B partitions, one client", 1, 5, true, false, true, None, false));
generic!(
    /// TestManyPartitionsManyClients4B: five clients, random partitions (GenericTest).
    many_partitions_many_clients_4b, generic_test,
    params("4B partitions, many clients (4B)", 5, 5, true, false, true, None, false));
generic!(
    /// TestPersistOneClient4B: one client, every server restarts after each iteration
    /// (GenericTest).
    persist_one_client_4b, generic_test,
    params("4B restarts, one client 4B ", 1, 5, true, true, false, None, false));
generic!(
    /// TestPersistConcurrent4B: five clients, restarts (GenericTest).
    persist_concurrent_4b, generic_test,
    params("4B restarts, many clients", 5, 5, true, true, false, None, false));
generic!(
    /// TestPersistConcurrentUnreliable4B: five clients, restarts, unreliable (GenericTest).
    persist_concurrent_unreliable_4b, generic_test,
    params("4B restarts, many clients ", 5, 5, false, true, false, None, false));
generic!(
    /// TestPersistPartition4B: five clients, restarts, partitions (GenericTest).
    persist_partition_4b, generic_test,
    params("4B restarts, partitions, many clients", 5, 5, true, true, true, None, false));
generic!(
    /// TestPersistPartitionUnreliable4B: five clients, restarts, partitions, unreliable
    /// (GenericTest).
    persist_partition_unreliable_4b, generic_test,
    params("4B restarts, partitions, many clients", 5, 5, false, true, true, None, false));
generic!(
    /// TestPersistPartitionUnreliableLinearizable4B: fifteen clients on 100 random keys, 7
    /// servers, restarts, partitions, unreliable (GenericTest).
    persist_partition_unreliable_linearizable_4b, generic_test,
    params("4B restarts, partitions, random keys, many clients", 15, 7, false, true, true, None, true));

/// TestOnePartition4B's parameters.
pub const ONE_PARTITION: Params = params(
    "4B progress in majority",
    0,
    5,
    false,
    false,
    false,
    None,
    false,
);

/// TestOnePartition4B: a majority makes progress, a minority does not, and the minority's
/// requests complete after the heal. 5 servers, unreliable network.
///
/// 1. `ver0 = PutAtLeastOnce(ck, "1", "13", 0)`; `l = ck.Leader()`.
/// 2. Partition: a majority p1 without l, a minority p2 with l (`MakePartition(l)`); clerks
///    `ckp1` to p1, `ckp2a` and `ckp2b` to p2.
/// 3. `ver1 = PutAtLeastOnce(ckp1, "1", "14", ver0)`; `CheckGet(ckp1, "1", "14", ver1)`.
///    End of phase 1.
/// 4. Phase 2, `no progress in minority`: in the background, `PutAtLeastOnce(ckp2a, "1",
///    "15", ver1)` and `Get(ckp2b, "1")`. Neither may complete within 1 s.
/// 5. `CheckGet(ckp1, "1", "14", ver1)`; `ver2 = PutAtLeastOnce(ckp1, "1", "16", ver1)`;
///    `CheckGet(ckp1, "1", "16", ver2)`.
/// 6. Phase 3, `completion after heal`: reconnect everything; 1 s later, the minority's Put
///    must complete within 3 s (`Put did not complete`); its Get is not waited for (Go's
///    `default` branch). `CheckGet(ck, "1", "15", ver15)`.
pub async fn one_partition_4b<R: LabRaft, K: KvLab>(t: TestContext) -> Result<(), Fail> {
    let ts = KvTest::<R, K>::make(&t, ONE_PARTITION)?;
    let mut ck = ts.make_clerk();
    let ver0 = ts.put_at_least_once(&mut ck, "1", "13", 0, -1).await?;
    let l = ck.ck.leader();
    let (p1, p2) = ts.cfg.group().make_partition(l);
    ts.cfg.partition(&p1, &p2)?;
    let mut ckp1 = ts.make_clerk_to(&p1);
    let mut ckp2a = ts.make_clerk_to(&p2);
    let mut ckp2b = ts.make_clerk_to(&p2);
    let clnt2a = ckp2a.clnt.clone();
    let clnt2b = ckp2b.clnt.clone();
    let ver1 = ts.put_at_least_once(&mut ckp1, "1", "14", ver0, -1).await?;
    ts.check_get(&mut ckp1, "1", "14", ver1).await?;
    ts.cfg.end()?;

    ts.cfg.begin("Test: no progress in minority (4B)");
    let (done0_tx, mut done0) = tokio::sync::oneshot::channel::<Version>();
    let (done1_tx, mut done1) = tokio::sync::oneshot::channel::<Version>();
    {
        let ts = std::sync::Arc::clone(&ts);
        tokio::spawn(async move {
            let r = ts.put_at_least_once(&mut ckp2a, "1", "15", ver1, -1).await;
            if let Ok(ver) = fail_now(ts.cfg.t(), r) {
                let _ = done0_tx.send(ver);
            }
        });
    }
    {
        let ts = std::sync::Arc::clone(&ts);
        tokio::spawn(async move {
            let r = ts.get(&mut ckp2b, "1", -1).await;
            if let Ok(result) = fail_now(ts.cfg.t(), r) {
                let ver = result.map_or(0, |(_, ver)| ver);
                let _ = done1_tx.send(ver);
            }
        });
    }
    tokio::select! {
        biased;
        Ok(ver) = &mut done0 => return Err(KvFail::MinorityPutCompleted { ver }.into()),
        Ok(ver) = &mut done1 => return Err(KvFail::MinorityGetCompleted { ver }.into()),
        () = sleep(Duration::from_secs(1)) => {}
    }
    ts.check_get(&mut ckp1, "1", "14", ver1).await?;
    let ver2 = ts.put_at_least_once(&mut ckp1, "1", "16", ver1, -1).await?;
    ts.check_get(&mut ckp1, "1", "16", ver2).await?;
    ts.cfg.end()?;

    ts.cfg.begin("Test: completion after heal (4B)");
    ts.cfg.connect_all()?;
    clnt2a.connect_all();
    clnt2b.connect_all();
    sleep(Duration::from_secs(1)).await;
    let ver15 = tokio::select! {
        biased;
        Ok(ver) = &mut done0 => ver,
        () = sleep(Duration::from_millis(30 * 100)) => {
            return Err(KvFail::PutDidNotComplete.into());
        }
    };
    // Go's `select` on the Get has a `default` branch: it never waits, never fails.
    let _ = done1.try_recv();
    ts.check_get(&mut ck, "1", "15", ver15).await?;
    ts.cfg.end()
}
