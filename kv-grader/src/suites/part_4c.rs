//! Part 4C: the key/value service with snapshots (Go's `kvraft1/kvraft_test.go`, spec 4.1,
//! 4.5-4.7): nine tests with maxraftstate 1000. The rsm's own snapshot test, which Go also
//! runs under 4C, is [`super::part_4a::snapshot_4c`].

use grader::fail::Fail;
use grader::harness::TestContext;
use kv_api::KvLab;
use lab_api::LabRaft;

use super::generic::{generic_test, generic_test_speed};
use super::part_4b::params;
use crate::fail::KvFail;
use crate::kvtest::{KvTest, Params};

/// Go's maxraftstate in 4C.
const MAX: usize = 1000;

macro_rules! generic {
    ($(#[$doc:meta])* $name:ident, $body:ident, $params:expr) => {
        $(#[$doc])*
        pub async fn $name<R: LabRaft, K: KvLab>(t: TestContext) -> Result<(), Fail> {
            $body::<R, K>(t, $params).await
        }
    };
}

generic!(
    /// TestSpeed4C: 1000 Puts at 33 ms each at most, with snapshots (GenericTestSpeed).
    speed_4c, generic_test_speed,
    params("4C speed", 1, 3, true, false, false, Some(MAX), false));
generic!(
    /// TestSnapshotRecover4C: one client, restarts, snapshots (GenericTest).
    snapshot_recover_4c, generic_test,
    params("4C restarts, snapshots, one client", 1, 5, true, true, false, Some(MAX), false));
generic!(
    /// TestSnapshotRecoverManyClients4C: twenty clients on one key, restarts, snapshots
    /// (GenericTest).
    snapshot_recover_many_clients_4c, generic_test,
    params("4C restarts, snapshots, many clients ", 20, 5, true, true, false, Some(MAX), false));
generic!(
    /// TestSnapshotUnreliable4C: five clients, unreliable network, snapshots (GenericTest).
    snapshot_unreliable_4c, generic_test,
    params("4C unreliable net, snapshots, many clients", 5, 5, false, false, false, Some(MAX), false));
generic!(
    /// TestSnapshotUnreliableRecover4C: five clients, unreliable, restarts, snapshots
    /// (GenericTest).
    snapshot_unreliable_recover_4c, generic_test,
    params("4C unreliable net, restarts, snapshots, many clients", 5, 5, false, true, false, Some(MAX), false));
generic!(
    /// TestSnapshotUnreliableRecoverConcurrentPartition4C: five clients, unreliable,
    /// restarts, partitions, snapshots (GenericTest).
    snapshot_unreliable_recover_concurrent_partition_4c, generic_test,
    params("4C unreliable net, restarts, partitions, snapshots, many clients", 5, 5, false, true, true, Some(MAX), false));
generic!(
    /// TestSnapshotUnreliableRecoverConcurrentPartitionLinearizable4C: fifteen clients on
    /// 100 random keys, 7 servers, unreliable, restarts, partitions, snapshots (GenericTest).
    snapshot_unreliable_recover_concurrent_partition_linearizable_4c, generic_test,
    params("4C unreliable net, restarts, partitions, snapshots, random keys, many clients", 15, 7, false, true, true, Some(MAX), true));

/// TestSnapshotRPC4C's parameters.
pub const SNAPSHOT_RPC: Params = params(
    "4C SnapshotsRPC",
    0,
    3,
    true,
    false,
    false,
    Some(MAX),
    false,
);
/// TestSnapshotSize4C's parameters.
pub const SNAPSHOT_SIZE: Params = params(
    "4C snapshot size is reasonable",
    0,
    3,
    true,
    false,
    false,
    Some(MAX),
    false,
);

/// TestSnapshotRPC4C: a server cut off while the others snapshot catches up through
/// InstallSnapshot. 3 servers, reliable, maxraftstate 1000. (Go prints this test's MakeTest
/// title and then a second title, with one Passed line.)
///
/// 1. `vera = PutAtLeastOnce(ck, "a", "A", 0)`; `CheckGet(ck, "a", "A", vera)`.
/// 2. Partition `[0 1] | [2]`; 50 Puts of "0".."49" through a clerk to `[0 1]`; sleep 1 s;
///    `verb = PutAtLeastOnce(ck1, "b", "B", 0)`.
/// 3. The largest Raft state is at most 8 x 1000 bytes (`logs were not trimmed`).
/// 4. Partition `[0 2] | [1]`; Puts "c" and "d" through a clerk to `[0 2]`; `CheckGet` of "a",
///    "b", "1" and "49" there (server 2 must have caught up).
/// 5. Heal; `vere = PutAtLeastOnce(ck, "e", "E", 0)`; `CheckGet` of "c", "e" and "1".
pub async fn snapshot_rpc_4c<R: LabRaft, K: KvLab>(t: TestContext) -> Result<(), Fail> {
    let ts = KvTest::<R, K>::make(&t, SNAPSHOT_RPC)?;
    let mut ck = ts.make_clerk();
    ts.cfg.begin("Test: InstallSnapshot RPC (4C)");
    let vera = ts.put_at_least_once(&mut ck, "a", "A", 0, -1).await?;
    ts.check_get(&mut ck, "a", "A", vera).await?;
    ts.cfg.partition(&[0, 1], &[2])?;
    let mut ck1 = ts.make_clerk_to(&[0, 1]);
    for i in 0..50 {
        let k = i.to_string();
        ts.put_at_least_once(&mut ck1, &k, &k, 0, -1).await?;
    }
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let verb = ts.put_at_least_once(&mut ck1, "b", "B", 0, -1).await?;
    let size = ts.cfg.group().raft_size();
    if size > 8 * MAX {
        return Err(KvFail::LogsNotTrimmed { size, max: MAX }.into());
    }
    ts.cfg.partition(&[0, 2], &[1])?;
    let mut ck1 = ts.make_clerk_to(&[0, 2]);
    let verc = ts.put_at_least_once(&mut ck1, "c", "C", 0, -1).await?;
    ts.put_at_least_once(&mut ck1, "d", "D", 0, -1).await?;
    ts.check_get(&mut ck1, "a", "A", vera).await?;
    ts.check_get(&mut ck1, "b", "B", verb).await?;
    ts.check_get(&mut ck1, "1", "1", 1).await?;
    ts.check_get(&mut ck1, "49", "49", 1).await?;
    ts.cfg.partition(&[0, 1, 2], &[])?;
    let vere = ts.put_at_least_once(&mut ck, "e", "E", 0, -1).await?;
    ts.check_get(&mut ck, "c", "C", verc).await?;
    ts.check_get(&mut ck, "e", "E", vere).await?;
    ts.check_get(&mut ck, "1", "1", 1).await?;
    ts.cfg.end()
}

/// TestSnapshotSize4C: the Raft state stays trimmed and the snapshot small. 3 servers,
/// reliable, maxraftstate 1000.
///
/// 1. 200 rounds of Put "x"="0", CheckGet, Put "x"="1", CheckGet.
/// 2. The largest Raft state is at most 8 x 1000 bytes (`logs were not trimmed`), the
///    largest snapshot at most 500 bytes (`snapshot too large`).
pub async fn snapshot_size_4c<R: LabRaft, K: KvLab>(t: TestContext) -> Result<(), Fail> {
    const MAX_SNAPSHOT: usize = 500;
    let ts = KvTest::<R, K>::make(&t, SNAPSHOT_SIZE)?;
    let mut ck = ts.make_clerk();
    let mut ver = 0;
    for _ in 0..200 {
        ver = ts.put_at_least_once(&mut ck, "x", "0", ver, -1).await?;
        ts.check_get(&mut ck, "x", "0", ver).await?;
        ver = ts.put_at_least_once(&mut ck, "x", "1", ver, -1).await?;
        ts.check_get(&mut ck, "x", "1", ver).await?;
    }
    let size = ts.cfg.group().raft_size();
    if size > 8 * MAX {
        return Err(KvFail::LogsNotTrimmed { size, max: MAX }.into());
    }
    let size = ts.cfg.group().snapshot_size();
    if size > MAX_SNAPSHOT {
        return Err(KvFail::SnapshotTooLarge { size }.into());
    }
    ts.cfg.end()
}
