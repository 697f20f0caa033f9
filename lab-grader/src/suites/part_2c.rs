//! Part 2C: persistence (spec section 5, tests 12-19).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lab_api::LabRaft;
use tokio::time::sleep;

use crate::cmd::Cmd;
use crate::fail::Fail;
use crate::harness::{Config, ELECTION_TIMEOUT, TestContext, Waited, make_config};

/// TestPersist12C: state survives crashing and restarting every peer, the leader, and a
/// follower.
///
/// 1. n=3, reliable. `one(11, 3, true)`.
/// 2. start1 every peer (crash and restart all); disconnect and connect each;
///    `one(12, 3, true)`.
/// 3. `L1 = check_one_leader`; disconnect L1; start1(L1); connect L1; `one(13, 3, true)`.
/// 4. `L2 = check_one_leader`; disconnect L2; `one(14, 2, true)`; start1(L2); connect L2;
///    `wait(4, 3, -1)`.
/// 5. `i3 = check_one_leader + 1`; disconnect i3; `one(15, 2, true)`; start1(i3); connect i3.
/// 6. `one(16, 3, true)`.
pub async fn persist1_2c<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 3;
    let cfg = make_config::<R>(&t, servers, false, false)?;
    cfg.begin();
    cfg.one(Cmd::Int(11), servers, true).await?;
    for i in 0..servers {
        cfg.start1(i)?;
    }
    for i in 0..servers {
        cfg.disconnect(i);
        cfg.connect(i);
    }
    cfg.one(Cmd::Int(12), servers, true).await?;
    let leader1 = cfg.check_one_leader().await?;
    cfg.disconnect(leader1);
    cfg.start1(leader1)?;
    cfg.connect(leader1);
    cfg.one(Cmd::Int(13), servers, true).await?;
    let leader2 = cfg.check_one_leader().await?;
    cfg.disconnect(leader2);
    cfg.one(Cmd::Int(14), servers - 1, true).await?;
    cfg.start1(leader2)?;
    cfg.connect(leader2);
    cfg.wait(4, servers, None).await?;
    let i3 = (cfg.check_one_leader().await? + 1) % servers;
    cfg.disconnect(i3);
    cfg.one(Cmd::Int(15), servers - 1, true).await?;
    cfg.start1(i3)?;
    cfg.connect(i3);
    cfg.one(Cmd::Int(16), servers, true).await?;
    cfg.end()
}

/// TestPersist22C: repeated partitions with crashes and restarts of minorities.
///
/// n=5, reliable, `index` from 1. Five iterations of:
/// 1. `one(10 + index, 5, true)`; index++.
/// 2. `L1 = check_one_leader`; disconnect L1+1 and L1+2; `one(10 + index, 3, true)`; index++.
/// 3. Disconnect L1, L1+3, L1+4; start1(L1+1) and start1(L1+2); connect both; sleep 1
///    election timeout.
/// 4. start1(L1+3); connect it; `one(10 + index, 3, true)`; index++.
/// 5. Connect L1+4 and L1.
///
/// Finally `one(1000, 5, true)`.
pub async fn persist2_2c<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 5;
    let cfg = make_config::<R>(&t, servers, false, false)?;
    cfg.begin();
    let mut index = 1;
    for _ in 0..5 {
        cfg.one(Cmd::Int(10 + index), servers, true).await?;
        index += 1;
        let leader1 = cfg.check_one_leader().await?;
        cfg.disconnect((leader1 + 1) % servers);
        cfg.disconnect((leader1 + 2) % servers);
        cfg.one(Cmd::Int(10 + index), servers - 2, true).await?;
        index += 1;
        cfg.disconnect(leader1 % servers);
        cfg.disconnect((leader1 + 3) % servers);
        cfg.disconnect((leader1 + 4) % servers);
        cfg.start1((leader1 + 1) % servers)?;
        cfg.start1((leader1 + 2) % servers)?;
        cfg.connect((leader1 + 1) % servers);
        cfg.connect((leader1 + 2) % servers);
        sleep(ELECTION_TIMEOUT).await;
        cfg.start1((leader1 + 3) % servers)?;
        cfg.connect((leader1 + 3) % servers);
        cfg.one(Cmd::Int(10 + index), servers - 2, true).await?;
        index += 1;
        cfg.connect((leader1 + 4) % servers);
        cfg.connect(leader1 % servers);
    }
    cfg.one(Cmd::Int(1000), servers, true).await?;
    cfg.end()
}

/// TestPersist32C: a partitioned leader and a follower crash; the leader restarts.
///
/// 1. n=3, reliable. `one(101, 3, true)`; `L = check_one_leader`; disconnect L+2;
///    `one(102, 2, true)`.
/// 2. crash1(L) and crash1(L+1); connect L+2; start1(L); connect L; `one(103, 2, true)`.
/// 3. start1(L+1); connect it; `one(104, 3, true)`.
pub async fn persist3_2c<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 3;
    let cfg = make_config::<R>(&t, servers, false, false)?;
    cfg.begin();
    cfg.one(Cmd::Int(101), 3, true).await?;
    let leader = cfg.check_one_leader().await?;
    cfg.disconnect((leader + 2) % servers);
    cfg.one(Cmd::Int(102), 2, true).await?;
    cfg.crash1(leader % servers);
    cfg.crash1((leader + 1) % servers);
    cfg.connect((leader + 2) % servers);
    cfg.start1(leader % servers)?;
    cfg.connect(leader % servers);
    cfg.one(Cmd::Int(103), 2, true).await?;
    cfg.start1((leader + 1) % servers)?;
    cfg.connect((leader + 1) % servers);
    cfg.one(Cmd::Int(104), servers, true).await?;
    cfg.end()
}

/// Figure 8's sleep: with probability 10 %, U[0, 499] ms; otherwise U[0, 12] ms.
async fn figure8_sleep<R: LabRaft>(cfg: &Config<R>) {
    let half_timeout = u64::try_from(ELECTION_TIMEOUT.as_millis() / 2).unwrap_or(500);
    let ms = if cfg.chance(100, 1000) {
        cfg.rand_below(half_timeout)
    } else {
        cfg.rand_below(13)
    };
    sleep(Duration::from_millis(ms)).await;
}

/// TestFigure82C: the commit rule of the paper's Figure 8 (only entries of the current term
/// commit by counting) under constant leader crashes.
///
/// 1. n=5, reliable. `one(rand, 1, true)`; `nup = 5`.
/// 2. 1000 iterations: Start(rand) on every running peer (the last that accepts is the
///    leader); sleep (10 %: `U[0,499]` ms, else `U[0,12]` ms); crash1 the leader if any (nup--);
///    if nup < 3, start1 and connect a random crashed server (nup++).
/// 3. Restart and connect every crashed server; `one(rand, 5, true)`.
pub async fn figure8_2c<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 5;
    let cfg = make_config::<R>(&t, servers, false, false)?;
    cfg.begin();
    cfg.one(Cmd::Int(cfg.rand_int()), 1, true).await?;
    let mut nup = servers;
    for _ in 0..1000 {
        let mut leader = None;
        for i in 0..servers {
            // Go draws rand.Int() only for a running peer.
            if cfg.raft(i).is_some() && cfg.start_on(i, &Cmd::Int(cfg.rand_int())).is_some() {
                leader = Some(i);
            }
        }
        figure8_sleep(&cfg).await;
        if let Some(l) = leader {
            cfg.crash1(l);
            nup -= 1;
        }
        if nup < 3 {
            let s = cfg.rand_server();
            if cfg.raft(s).is_none() {
                cfg.start1(s)?;
                cfg.connect(s);
                nup += 1;
            }
        }
    }
    for i in 0..servers {
        if cfg.raft(i).is_none() {
            cfg.start1(i)?;
            cfg.connect(i);
        }
    }
    cfg.one(Cmd::Int(cfg.rand_int()), servers, true).await?;
    cfg.end()
}

/// Runs `fut` as a separate task (a Go goroutine); its failure fails the test.
fn go<F>(t: &TestContext, fut: F) -> tokio::task::JoinHandle<()>
where
    F: std::future::Future<Output = Result<(), Fail>> + Send + 'static,
{
    let t = t.clone();
    tokio::spawn(async move {
        if let Err(e) = fut.await {
            t.fail(e);
        }
    })
}

/// TestUnreliableAgree2C: agreement on an unreliable network with concurrent clients.
///
/// 1. n=5, unreliable. For iters 1..=49: start 4 tasks running `one(100*iters + j, 1,
///    true)` (j = 0..3), then `one(iters, 1, true)`.
/// 2. Make the network reliable; wait for the tasks; `one(100, 5, true)`.
pub async fn unreliable_agree_2c<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 5;
    let cfg = make_config::<R>(&t, servers, true, false)?;
    cfg.begin();
    let mut tasks = Vec::new();
    for iters in 1..50 {
        for j in 0..4 {
            let c = cfg.clone();
            tasks.push(go(&t, async move {
                c.one(Cmd::Int(100 * iters + j), 1, true).await.map(|_| ())
            }));
        }
        cfg.one(Cmd::Int(iters), 1, true).await?;
    }
    cfg.set_unreliable(false);
    for task in tasks {
        let _ = task.await;
    }
    cfg.one(Cmd::Int(100), servers, true).await?;
    cfg.end()
}

/// TestFigure8Unreliable2C: Figure 8 on an unreliable network with long reordering, by
/// disconnection instead of crashes.
///
/// 1. n=5, unreliable. `one(rand % 10000, 1, true)`; `nup = 5`.
/// 2. 1000 iterations: at iteration 200 turn long reordering on; Start(rand % 10000) on
///    every peer (the last connected one that accepts is the leader); sleep as in Figure 8;
///    with probability 1/2 disconnect the leader (nup--); if nup < 3, connect a random
///    disconnected server (nup++).
/// 3. Connect everyone; `one(rand % 10000, 5, true)`.
pub async fn figure8_unreliable_2c<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 5;
    let cfg = make_config::<R>(&t, servers, true, false)?;
    cfg.begin();
    cfg.one(Cmd::Int(cfg.rand_int() % 10000), 1, true).await?;
    let mut nup = servers;
    let half_timeout = u64::try_from(ELECTION_TIMEOUT.as_millis() / 2).unwrap_or(500);
    for iters in 0..1000 {
        if iters == 200 {
            cfg.set_long_reordering(true);
        }
        let mut leader = None;
        for i in 0..servers {
            let ok = cfg.start_on(i, &Cmd::Int(cfg.rand_int() % 10000)).is_some();
            if ok && cfg.is_connected(i) {
                leader = Some(i);
            }
        }
        figure8_sleep(&cfg).await;
        if let Some(l) = leader {
            if cfg.chance(half_timeout, 1000) {
                cfg.disconnect(l);
                nup -= 1;
            }
        }
        if nup < 3 {
            let s = cfg.rand_server();
            if !cfg.is_connected(s) {
                cfg.connect(s);
                nup += 1;
            }
        }
    }
    for i in 0..servers {
        if !cfg.is_connected(i) {
            cfg.connect(i);
        }
    }
    cfg.one(Cmd::Int(cfg.rand_int() % 10000), servers, true)
        .await?;
    cfg.end()
}

/// A churn client (Go's `cfn`): until `stop`, Start a random value on every running peer,
/// and if one accepted, poll nCommitted with sleeps of 10, 20, 50, 100, 200 ms, recording
/// the value if it is the one committed; otherwise sleep 79 + 17 * me ms.
async fn churn_client<R: LabRaft>(
    cfg: Arc<Config<R>>,
    me: u64,
    stop: Arc<AtomicBool>,
) -> Result<Vec<i64>, Fail> {
    let mut values = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let x = cfg.rand_int();
        let mut index = None;
        for i in 0..cfg.n() {
            if let Some(s) = cfg.start_on(i, &Cmd::Int(x)) {
                index = Some(s.index);
            }
        }
        let Some(index) = index else {
            sleep(Duration::from_millis(79 + me * 17)).await;
            continue;
        };
        for to in [10, 20, 50, 100, 200] {
            let (nd, cmd) = cfg.n_committed(index)?;
            if nd > 0 {
                match cmd {
                    Some(Cmd::Int(xx)) => {
                        if xx == x {
                            values.push(x);
                        }
                    }
                    _ => return Err(Fail::WrongCommandType),
                }
                break;
            }
            sleep(Duration::from_millis(to)).await;
        }
    }
    Ok(values)
}

/// One of the 20 churn steps: with probability 20 % disconnect a random server; with 50 %
/// (re)start and connect one; with 20 % crash one; then sleep 0.7 election timeouts.
async fn churn_step<R: LabRaft>(cfg: &Arc<Config<R>>) -> Result<(), Fail> {
    if cfg.chance(200, 1000) {
        cfg.disconnect(cfg.rand_server());
    }
    if cfg.chance(500, 1000) {
        let i = cfg.rand_server();
        if cfg.raft(i).is_none() {
            cfg.start1(i)?;
        }
        cfg.connect(i);
    }
    if cfg.chance(200, 1000) {
        let i = cfg.rand_server();
        if cfg.raft(i).is_some() {
            cfg.crash1(i);
        }
    }
    sleep(ELECTION_TIMEOUT * 7 / 10).await;
    Ok(())
}

/// Go's `internalChurn(t, unreliable)`: see [`reliable_churn_2c`].
async fn internal_churn<R: LabRaft>(t: TestContext, unreliable: bool) -> Result<(), Fail> {
    let servers = 5;
    let cfg = make_config::<R>(&t, servers, unreliable, false)?;
    cfg.begin();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..3)
        .map(|me| {
            let (t, client) = (t.clone(), churn_client(cfg.clone(), me, stop.clone()));
            tokio::spawn(async move { client.await.map_err(|e| t.fail(e)).ok() })
        })
        .collect();
    for _ in 0..20 {
        churn_step(&cfg).await?;
    }
    sleep(ELECTION_TIMEOUT).await;
    cfg.set_unreliable(false);
    for i in 0..servers {
        if cfg.raft(i).is_none() {
            cfg.start1(i)?;
        }
        cfg.connect(i);
    }
    stop.store(true, Ordering::SeqCst);
    let mut values = Vec::new();
    for client in clients {
        match client.await {
            Ok(Some(vv)) => values.extend(vv),
            _ => return Err(Fail::ClientFailed),
        }
    }
    sleep(ELECTION_TIMEOUT).await;
    let last_index = cfg.one(Cmd::Int(cfg.rand_int()), servers, true).await?;
    let mut really = Vec::new();
    for index in 1..=last_index {
        match cfg.wait(index, servers, None).await? {
            Waited::Committed(Some(Cmd::Int(v))) => really.push(v),
            _ => return Err(Fail::NotAnInt),
        }
    }
    if values.iter().any(|v1| !really.contains(v1)) {
        return Err(Fail::ValueNotFound);
    }
    cfg.end()
}

/// TestReliableChurn2C: random disconnects, restarts and crashes while 3 clients submit;
/// everything a client saw committed must still be in the final log.
///
/// 1. n=5, reliable. 3 client tasks loop: Start(rand) on every running peer; if one
///    accepted, poll nCommitted with sleeps of 10, 20, 50, 100, 200 ms and record the value
///    if it committed; otherwise sleep 79 + 17 * me ms.
/// 2. 20 steps: 20 % disconnect a random server; 50 % (re)start and connect a random server;
///    20 % crash a random server; sleep 0.7 election timeouts.
/// 3. Sleep 1 election timeout; reliable; restart and connect every server; stop the
///    clients and collect their values ("client failed" if one is missing).
/// 4. Sleep 1 election timeout; `last = one(rand, 5, true)`; every index 1..=last must be an
///    int committed on all 5; every recorded client value must be among them.
pub async fn reliable_churn_2c<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    internal_churn::<R>(t, false).await
}

/// TestUnreliableChurn2C: [`reliable_churn_2c`] on an unreliable network (made reliable in
/// step 3).
pub async fn unreliable_churn_2c<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    internal_churn::<R>(t, true).await
}
