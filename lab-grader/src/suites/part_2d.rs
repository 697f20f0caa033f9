//! Part 2D: log compaction (spec section 5, tests 20-26, 2023+ forms).

use lab_api::LabRaft;

use crate::cmd::Cmd;
use crate::fail::Fail;
use crate::harness::{MAX_LOG_SIZE, SNAPSHOT_INTERVAL, TestContext, make_config};

/// The faults one snapcommon iteration applies to its victim.
#[derive(Clone, Copy)]
struct SnapFaults {
    disconnect: bool,
    reliable: bool,
    crash: bool,
}

/// Go's `snapcommon(t, name, disconnect, reliable, crash)`, shared by the first five 2D tests.
///
/// n=3 (unreliable unless `reliable`), snapshot applier. `one(rand, 3, true)`;
/// `L1 = check_one_leader`. Then 30 iterations of:
/// 1. `victim = L1+1`, `sender = L1`; swapped when `i % 3 == 1`.
/// 2. If disconnect: disconnect victim; `one(rand, 2, true)`.
/// 3. If crash: crash1(victim); `one(rand, 2, true)`.
/// 4. `nn = 5 + rand % 10` Starts of rand on the sender (perhaps enough for a snapshot).
/// 5. `one(rand, 3, true)` when neither disconnect nor crash (so that Basic needs no
///    InstallSnapshot), else `one(rand, 2, true)`.
/// 6. The largest persisted Raft state must be under 2000 bytes ("Log size too large").
/// 7. If disconnect: connect victim; `one(rand, 3, true)`; `L1 = check_one_leader`.
/// 8. If crash: start1(victim); connect it; `one(rand, 3, true)`; `L1 = check_one_leader`.
async fn snapcommon<R: LabRaft>(t: TestContext, f: SnapFaults) -> Result<(), Fail> {
    let iters = 30;
    let servers = 3;
    let cfg = make_config::<R>(&t, servers, !f.reliable, true)?;
    cfg.begin();
    let rand = || Cmd::Int(cfg.rand_int());
    cfg.one(rand(), servers, true).await?;
    let mut leader1 = cfg.check_one_leader().await?;
    for i in 0..iters {
        let (mut victim, mut sender) = ((leader1 + 1) % servers, leader1);
        if i % 3 == 1 {
            sender = (leader1 + 1) % servers;
            victim = leader1;
        }
        if f.disconnect {
            cfg.disconnect(victim);
            cfg.one(rand(), servers - 1, true).await?;
        }
        if f.crash {
            cfg.crash1(victim);
            cfg.one(rand(), servers - 1, true).await?;
        }
        let nn = SNAPSHOT_INTERVAL / 2 + cfg.rand_below(SNAPSHOT_INTERVAL);
        for _ in 0..nn {
            cfg.start_on(sender, &rand());
        }
        if !f.disconnect && !f.crash {
            cfg.one(rand(), servers, true).await?;
        } else {
            cfg.one(rand(), servers - 1, true).await?;
        }
        if cfg.log_size() >= MAX_LOG_SIZE {
            return Err(Fail::LogTooLarge);
        }
        if f.disconnect {
            cfg.connect(victim);
            cfg.one(rand(), servers, true).await?;
            leader1 = cfg.check_one_leader().await?;
        }
        if f.crash {
            cfg.start1(victim)?;
            cfg.connect(victim);
            cfg.one(rand(), servers, true).await?;
            leader1 = cfg.check_one_leader().await?;
        }
    }
    cfg.end()
}

/// TestSnapshotBasic2D: snapcommon with no faults: peers snapshot and trim their logs.
pub async fn snapshot_basic_2d<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let f = SnapFaults {
        disconnect: false,
        reliable: true,
        crash: false,
    };
    snapcommon::<R>(t, f).await
}

/// TestSnapshotInstall2D: snapcommon disconnecting a victim each iteration, so a lagging
/// follower needs InstallSnapshot.
pub async fn snapshot_install_2d<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let f = SnapFaults {
        disconnect: true,
        reliable: true,
        crash: false,
    };
    snapcommon::<R>(t, f).await
}

/// TestSnapshotInstallUnreliable2D: as [`snapshot_install_2d`] on an unreliable network.
pub async fn snapshot_install_unreliable_2d<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let f = SnapFaults {
        disconnect: true,
        reliable: false,
        crash: false,
    };
    snapcommon::<R>(t, f).await
}

/// TestSnapshotInstallCrash2D: snapcommon crashing and restarting a victim each iteration,
/// so a restarted follower recovers from its persisted snapshot.
pub async fn snapshot_install_crash_2d<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let f = SnapFaults {
        disconnect: false,
        reliable: true,
        crash: true,
    };
    snapcommon::<R>(t, f).await
}

/// TestSnapshotInstallUnCrash2D: as [`snapshot_install_crash_2d`] on an unreliable network.
pub async fn snapshot_install_uncrash_2d<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let f = SnapFaults {
        disconnect: false,
        reliable: false,
        crash: true,
    };
    snapcommon::<R>(t, f).await
}

/// TestSnapshotAllCrash2D (2022+): the log index never goes backwards across a crash of
/// every peer.
///
/// 1. n=3, reliable, snapshot applier. `one(rand, 3, true)`.
/// 2. 5 iterations: `nn = 5 + rand % 10` x `one(rand, 3, true)`;
///    `index1 = one(rand, 3, true)`; crash1 all; start1 and connect all;
///    `index2 = one(rand, 3, true)` must be at least `index1 + 1`.
pub async fn snapshot_all_crash_2d<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 3;
    let iters = 5;
    let cfg = make_config::<R>(&t, servers, false, true)?;
    cfg.begin();
    let rand = || Cmd::Int(cfg.rand_int());
    cfg.one(rand(), servers, true).await?;
    for _ in 0..iters {
        let nn = SNAPSHOT_INTERVAL / 2 + cfg.rand_below(SNAPSHOT_INTERVAL);
        for _ in 0..nn {
            cfg.one(rand(), servers, true).await?;
        }
        let index1 = cfg.one(rand(), servers, true).await?;
        for i in 0..servers {
            cfg.crash1(i);
        }
        for i in 0..servers {
            cfg.start1(i)?;
            cfg.connect(i);
        }
        let index2 = cfg.one(rand(), servers, true).await?;
        if index2 < index1 + 1 {
            return Err(Fail::IndexDecreased {
                from: index1,
                to: index2,
            });
        }
    }
    cfg.end()
}

/// TestSnapshotInit2D (2023+): a restarted peer keeps its snapshot, so later saves do not
/// drop it.
///
/// 1. n=3, reliable, snapshot applier. `one(rand, 3, true)`; 11 x `one(rand, 3, true)`
///    (enough for a snapshot).
/// 2. crash1 all; start1 and connect all; `one(rand, 3, true)` (something to persist).
/// 3. crash1 all; start1 and connect all; `one(rand, 3, true)`.
pub async fn snapshot_init_2d<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 3;
    let cfg = make_config::<R>(&t, servers, false, true)?;
    cfg.begin();
    let rand = || Cmd::Int(cfg.rand_int());
    cfg.one(rand(), servers, true).await?;
    for _ in 0..SNAPSHOT_INTERVAL + 1 {
        cfg.one(rand(), servers, true).await?;
    }
    for _ in 0..2 {
        for i in 0..servers {
            cfg.crash1(i);
        }
        for i in 0..servers {
            cfg.start1(i)?;
            cfg.connect(i);
        }
        cfg.one(rand(), servers, true).await?;
    }
    cfg.end()
}
