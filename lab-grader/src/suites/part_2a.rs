//! Part 2A: leader election (spec section 5, tests 1-3).

use std::time::Duration;

use lab_api::LabRaft;
use tokio::time::sleep;

use crate::fail::Fail;
use crate::harness::{ELECTION_TIMEOUT, TestContext, make_config};

/// TestInitialElection2A: three peers elect one leader, agree on a term of at least 1, and
/// keep the same leader and term while nothing fails.
///
/// 1. n=3, reliable. check_one_leader; sleep 50 ms; `term1 = check_terms()`, which must be
///    at least 1.
/// 2. Sleep 2 election timeouts; if `check_terms()` changed, print a warning (not a failure).
/// 3. check_one_leader again.
pub async fn initial_election_2a<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 3;
    let cfg = make_config::<R>(&t, servers, false, false)?;
    cfg.begin();
    cfg.check_one_leader().await?;
    sleep(Duration::from_millis(50)).await;
    let term1 = cfg.check_terms()?;
    if term1 < 1 {
        return Err(Fail::TermTooLow { term: term1 });
    }
    sleep(2 * ELECTION_TIMEOUT).await;
    let term2 = cfg.check_terms()?;
    if term1 != term2 {
        t.print("warning: term changed even though there were no failures");
    }
    cfg.check_one_leader().await?;
    cfg.end()
}

/// TestReElection2A: a new leader is elected when the leader is cut off; the old leader
/// rejoining does not disturb it; no leader without a majority.
///
/// 1. n=3, reliable. `L1 = check_one_leader`; disconnect L1; check_one_leader.
/// 2. Connect L1; `L2 = check_one_leader`.
/// 3. Disconnect L2 and L2+1; sleep 2 election timeouts; check_no_leader.
/// 4. Connect L2+1; check_one_leader; connect L2; check_one_leader.
pub async fn re_election_2a<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 3;
    let cfg = make_config::<R>(&t, servers, false, false)?;
    cfg.begin();
    let leader1 = cfg.check_one_leader().await?;
    cfg.disconnect(leader1);
    cfg.check_one_leader().await?;
    cfg.connect(leader1);
    let leader2 = cfg.check_one_leader().await?;
    cfg.disconnect(leader2);
    cfg.disconnect((leader2 + 1) % servers);
    sleep(2 * ELECTION_TIMEOUT).await;
    cfg.check_no_leader()?;
    cfg.connect((leader2 + 1) % servers);
    cfg.check_one_leader().await?;
    cfg.connect(leader2);
    cfg.check_one_leader().await?;
    cfg.end()
}

/// TestManyElections2A: seven peers keep electing a leader while random groups of three
/// are cut off.
///
/// 1. n=7, reliable. check_one_leader.
/// 2. 9 rounds: pick 3 random servers (repeats allowed), disconnect them,
///    check_one_leader, reconnect them.
/// 3. check_one_leader.
pub async fn many_elections_2a<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 7;
    let cfg = make_config::<R>(&t, servers, false, false)?;
    cfg.begin();
    cfg.check_one_leader().await?;
    let iters = 10;
    for _ in 1..iters {
        let i1 = cfg.rand_server();
        let i2 = cfg.rand_server();
        let i3 = cfg.rand_server();
        cfg.disconnect(i1);
        cfg.disconnect(i2);
        cfg.disconnect(i3);
        cfg.check_one_leader().await?;
        cfg.connect(i1);
        cfg.connect(i2);
        cfg.connect(i3);
    }
    cfg.check_one_leader().await?;
    cfg.end()
}
