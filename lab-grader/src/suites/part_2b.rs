//! Part 2B: log replication (spec section 5, tests 4-11, and the 2023 additions), in the
//! 2023+ order.

use std::time::Duration;

use lab_api::LabRaft;
use tokio::time::sleep;

use crate::cmd::Cmd;
use crate::fail::Fail;
use crate::harness::{ELECTION_TIMEOUT, GOB_RPC_OVERHEAD, TestContext, make_config};

/// TestBasicAgree2B: three commands commit, at indices 1, 2, 3.
///
/// 1. n=3, reliable. For index 1..=3: nothing may be committed at `index` before Start;
///    `one(index*100, 3, false)` must return `index`.
pub async fn basic_agree_2b<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 3;
    let cfg = make_config::<R>(&t, servers, false, false)?;
    cfg.begin();
    for index in 1..=3u64 {
        let (nd, _) = cfg.n_committed(index)?;
        if nd > 0 {
            return Err(Fail::CommittedBeforeStart);
        }
        let cmd = Cmd::Int(i64::try_from(index * 100).unwrap_or(i64::MAX));
        let xindex = cfg.one(cmd, servers, false).await?;
        if xindex != index {
            return Err(Fail::WrongIndex {
                got: xindex,
                expected: index,
            });
        }
    }
    cfg.end()
}

/// TestRPCBytes2B: each command is sent to each follower about once.
///
/// 1. n=3, reliable. `one(99, 3, false)`; note the byte total.
/// 2. For index 2..=11: `one(<5000-char random string>, 3, false)` must return `index`.
/// 3. The bytes since step 1 may exceed 3 x 50 000 by at most 50 000, each RPC counted at
///    gob's cost ([`GOB_RPC_OVERHEAD`] on top of its bincode bytes).
pub async fn rpc_bytes_2b<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 3;
    let cfg = make_config::<R>(&t, servers, false, false)?;
    cfg.begin();
    cfg.one(Cmd::Int(99), servers, false).await?;
    let bytes0 = cfg.bytes_total();
    let rpcs0 = cfg.rpc_total();
    let mut sent = 0u64;
    for index in 2..12u64 {
        let cmd = cfg.rand_string(5000);
        let len = u64::try_from(cmd.len()).unwrap_or(u64::MAX);
        let xindex = cfg.one(Cmd::Str(cmd), servers, false).await?;
        if xindex != index {
            return Err(Fail::WrongIndex {
                got: xindex,
                expected: index,
            });
        }
        sent += len;
    }
    let bincode = cfg.bytes_total() - bytes0;
    let rpcs = cfg.rpc_total() - rpcs0;
    let got = bincode + rpcs * GOB_RPC_OVERHEAD;
    let expected = 3 * sent;
    if got > expected + 50_000 {
        return Err(Fail::TooManyBytes {
            got,
            expected,
            bincode,
            rpcs,
        });
    }
    cfg.end()
}

/// TestFollowerFailure2B (2023+): agreement survives one follower's loss; with both
/// followers gone, nothing commits.
///
/// 1. n=3, reliable. `one(101, 3, false)`; `L1 = check_one_leader`; disconnect L1+1.
/// 2. `one(102, 2, false)`; sleep 1 election timeout; `one(103, 2, false)`.
/// 3. `L2 = check_one_leader`; disconnect L2+1 and L2+2.
/// 4. `L2.start(104)` must be accepted at index 4.
/// 5. Sleep 2 election timeouts; index 4 must not be committed.
pub async fn follower_failure_2b<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 3;
    let cfg = make_config::<R>(&t, servers, false, false)?;
    cfg.begin();
    cfg.one(Cmd::Int(101), servers, false).await?;
    let leader1 = cfg.check_one_leader().await?;
    cfg.disconnect((leader1 + 1) % servers);
    cfg.one(Cmd::Int(102), servers - 1, false).await?;
    sleep(ELECTION_TIMEOUT).await;
    cfg.one(Cmd::Int(103), servers - 1, false).await?;
    let leader2 = cfg.check_one_leader().await?;
    cfg.disconnect((leader2 + 1) % servers);
    cfg.disconnect((leader2 + 2) % servers);
    let started = cfg
        .start_on(leader2, &Cmd::Int(104))
        .ok_or(Fail::LeaderRejected)?;
    if started.index != 4 {
        return Err(Fail::ExpectedIndex {
            expected: 4,
            got: started.index,
        });
    }
    sleep(2 * ELECTION_TIMEOUT).await;
    let (n, _) = cfg.n_committed(started.index)?;
    if n > 0 {
        return Err(Fail::CommittedWithoutMajority { count: n });
    }
    cfg.end()
}

/// TestLeaderFailure2B (2023+): a new leader takes over when the leader is lost; with two
/// leaders gone, nothing commits.
///
/// 1. n=3, reliable. `one(101, 3, false)`; `L1 = check_one_leader`; disconnect L1.
/// 2. `one(102, 2, false)`; sleep 1 election timeout; `one(103, 2, false)`.
/// 3. `L2 = check_one_leader`; disconnect L2; `start(104)` on all three.
/// 4. Sleep 2 election timeouts; index 4 must not be committed.
pub async fn leader_failure_2b<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 3;
    let cfg = make_config::<R>(&t, servers, false, false)?;
    cfg.begin();
    cfg.one(Cmd::Int(101), servers, false).await?;
    let leader1 = cfg.check_one_leader().await?;
    cfg.disconnect(leader1);
    cfg.one(Cmd::Int(102), servers - 1, false).await?;
    sleep(ELECTION_TIMEOUT).await;
    cfg.one(Cmd::Int(103), servers - 1, false).await?;
    let leader2 = cfg.check_one_leader().await?;
    cfg.disconnect(leader2);
    for i in 0..servers {
        cfg.start_on(i, &Cmd::Int(104));
    }
    sleep(2 * ELECTION_TIMEOUT).await;
    let (n, _) = cfg.n_committed(4)?;
    if n > 0 {
        return Err(Fail::CommittedWithoutMajority { count: n });
    }
    cfg.end()
}

/// TestFailAgree2B: a disconnected follower catches up after it reconnects.
///
/// 1. n=3, reliable. `one(101, 3, false)`; `L = check_one_leader`; disconnect L+1.
/// 2. `one(102, 2, false)`; `one(103, 2, false)`; sleep 1 election timeout;
///    `one(104, 2, false)`; `one(105, 2, false)`.
/// 3. Connect L+1; `one(106, 3, true)`; sleep 1 election timeout; `one(107, 3, true)`.
pub async fn fail_agree_2b<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 3;
    let cfg = make_config::<R>(&t, servers, false, false)?;
    cfg.begin();
    cfg.one(Cmd::Int(101), servers, false).await?;
    let leader = cfg.check_one_leader().await?;
    cfg.disconnect((leader + 1) % servers);
    cfg.one(Cmd::Int(102), servers - 1, false).await?;
    cfg.one(Cmd::Int(103), servers - 1, false).await?;
    sleep(ELECTION_TIMEOUT).await;
    cfg.one(Cmd::Int(104), servers - 1, false).await?;
    cfg.one(Cmd::Int(105), servers - 1, false).await?;
    cfg.connect((leader + 1) % servers);
    cfg.one(Cmd::Int(106), servers, true).await?;
    sleep(ELECTION_TIMEOUT).await;
    cfg.one(Cmd::Int(107), servers, true).await?;
    cfg.end()
}

/// TestFailNoAgree2B: nothing commits when 3 of 5 followers are gone; after they return,
/// the log converges.
///
/// 1. n=5, reliable. `one(10, 5, false)`; `L = check_one_leader`; disconnect L+1, L+2, L+3.
/// 2. `L.start(20)` must be accepted at index 2. Sleep 2 election timeouts; index 2 must not
///    be committed.
/// 3. Reconnect the three; `L2 = check_one_leader`; `L2.start(30)` must be accepted at an
///    index in [2, 3].
/// 4. `one(1000, 5, true)`.
pub async fn fail_no_agree_2b<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 5;
    let cfg = make_config::<R>(&t, servers, false, false)?;
    cfg.begin();
    cfg.one(Cmd::Int(10), servers, false).await?;
    let leader = cfg.check_one_leader().await?;
    for k in 1..=3 {
        cfg.disconnect((leader + k) % servers);
    }
    let started = cfg
        .start_on(leader, &Cmd::Int(20))
        .ok_or(Fail::LeaderRejected)?;
    if started.index != 2 {
        return Err(Fail::ExpectedIndex {
            expected: 2,
            got: started.index,
        });
    }
    sleep(2 * ELECTION_TIMEOUT).await;
    let (n, _) = cfg.n_committed(started.index)?;
    if n > 0 {
        return Err(Fail::CommittedWithoutMajority { count: n });
    }
    for k in 1..=3 {
        cfg.connect((leader + k) % servers);
    }
    let leader2 = cfg.check_one_leader().await?;
    let started2 = cfg
        .start_on(leader2, &Cmd::Int(30))
        .ok_or(Fail::Leader2Rejected)?;
    if !(2..=3).contains(&started2.index) {
        return Err(Fail::UnexpectedIndex {
            index: started2.index,
        });
    }
    cfg.one(Cmd::Int(1000), servers, true).await?;
    cfg.end()
}

/// TestConcurrentStarts2B: five concurrent Starts in one term all commit.
///
/// Up to 5 tries, each after the first preceded by a 3 s sleep:
/// 1. `L = check_one_leader`; `L.start(1)` must be accepted (else next try) in term `term`.
/// 2. Five concurrent tasks call `L.start(100 + i)`; keep the indices accepted in `term`.
/// 3. If any peer's term is no longer `term`, next try.
/// 4. `wait(index, 3, term)` for each index; a term change means next try; a non-int fails.
/// 5. All of 100..=104 must be among the committed values.
///
/// If no try completes: "term changed too often".
pub async fn concurrent_starts_2b<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 3;
    let cfg = make_config::<R>(&t, servers, false, false)?;
    cfg.begin();
    let mut success = false;
    'tries: for attempt in 0..5 {
        if attempt > 0 {
            sleep(Duration::from_secs(3)).await;
        }
        let leader = cfg.check_one_leader().await?;
        let Some(first) = cfg.start_on(leader, &Cmd::Int(1)) else {
            continue;
        };
        let term = first.term;
        let iters = 5;
        let mut tasks = Vec::new();
        for i in 0..iters {
            let cfg = cfg.clone();
            tasks.push(tokio::spawn(async move {
                let s = cfg.start_on(leader, &Cmd::Int(100 + i))?;
                (s.term == term).then_some(s.index)
            }));
        }
        let mut indices = Vec::new();
        for task in tasks {
            if let Ok(Some(index)) = task.await {
                indices.push(index);
            }
        }
        for j in 0..servers {
            if cfg.get_state(j).is_some_and(|(t, _)| t != term) {
                continue 'tries;
            }
        }
        let mut cmds = Vec::new();
        for index in indices {
            match cfg.wait(index, servers, Some(term)).await? {
                crate::harness::Waited::TermMoved => continue 'tries,
                crate::harness::Waited::Committed(Some(Cmd::Int(x))) => cmds.push(x),
                crate::harness::Waited::Committed(value) => {
                    return Err(Fail::NotAnIntValue { value });
                }
            }
        }
        for x in 100..100 + iters {
            if !cmds.contains(&x) {
                return Err(Fail::CmdMissing {
                    cmd: x,
                    committed: cmds,
                });
            }
        }
        success = true;
        break;
    }
    if !success {
        return Err(Fail::TermChangedTooOften);
    }
    cfg.end()
}

/// TestRejoin2B: a partitioned leader's uncommitted entries are replaced after it rejoins.
///
/// 1. n=3, reliable. `one(101, 3, true)`; `L1 = check_one_leader`; disconnect L1.
/// 2. `L1.start(102)`, `start(103)`, `start(104)` (they cannot commit).
/// 3. `one(103, 2, true)`; `L2 = check_one_leader`; disconnect L2; connect L1;
///    `one(104, 2, true)`.
/// 4. Connect L2; `one(105, 3, true)`.
pub async fn rejoin_2b<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 3;
    let cfg = make_config::<R>(&t, servers, false, false)?;
    cfg.begin();
    cfg.one(Cmd::Int(101), servers, true).await?;
    let leader1 = cfg.check_one_leader().await?;
    cfg.disconnect(leader1);
    for x in [102, 103, 104] {
        cfg.start_on(leader1, &Cmd::Int(x));
    }
    cfg.one(Cmd::Int(103), 2, true).await?;
    let leader2 = cfg.check_one_leader().await?;
    cfg.disconnect(leader2);
    cfg.connect(leader1);
    cfg.one(Cmd::Int(104), 2, true).await?;
    cfg.connect(leader2);
    cfg.one(Cmd::Int(105), servers, true).await?;
    cfg.end()
}

/// TestBackup2B: a leader backs up quickly over long runs of conflicting follower entries.
///
/// 1. n=5, reliable. `one(rand, 5, true)`; `L1 = check_one_leader`; disconnect L1+2, L1+3,
///    L1+4.
/// 2. 50 x `L1.start(rand)` (they cannot commit); sleep half an election timeout.
/// 3. Disconnect L1 and L1+1; connect L1+2, L1+3, L1+4; 50 x `one(rand, 3, true)`.
/// 4. `L2 = check_one_leader`; `other = L1+2`, or `L2+1` if that is L2; disconnect other.
/// 5. 50 x `L2.start(rand)`; sleep half an election timeout.
/// 6. Disconnect all; connect L1, L1+1 and other; 50 x `one(rand, 3, true)`.
/// 7. Connect all; `one(rand, 5, true)`.
pub async fn backup_2b<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 5;
    let cfg = make_config::<R>(&t, servers, false, false)?;
    cfg.begin();
    cfg.one(Cmd::Int(cfg.rand_int()), servers, true).await?;
    let leader1 = cfg.check_one_leader().await?;
    for k in 2..=4 {
        cfg.disconnect((leader1 + k) % servers);
    }
    for _ in 0..50 {
        cfg.start_on(leader1, &Cmd::Int(cfg.rand_int()));
    }
    sleep(ELECTION_TIMEOUT / 2).await;
    cfg.disconnect(leader1 % servers);
    cfg.disconnect((leader1 + 1) % servers);
    for k in 2..=4 {
        cfg.connect((leader1 + k) % servers);
    }
    for _ in 0..50 {
        cfg.one(Cmd::Int(cfg.rand_int()), 3, true).await?;
    }
    let leader2 = cfg.check_one_leader().await?;
    let mut other = (leader1 + 2) % servers;
    if leader2 == other {
        other = (leader2 + 1) % servers;
    }
    cfg.disconnect(other);
    for _ in 0..50 {
        cfg.start_on(leader2, &Cmd::Int(cfg.rand_int()));
    }
    sleep(ELECTION_TIMEOUT / 2).await;
    for i in 0..servers {
        cfg.disconnect(i);
    }
    cfg.connect(leader1 % servers);
    cfg.connect((leader1 + 1) % servers);
    cfg.connect(other);
    for _ in 0..50 {
        cfg.one(Cmd::Int(cfg.rand_int()), 3, true).await?;
    }
    for i in 0..servers {
        cfg.connect(i);
    }
    cfg.one(Cmd::Int(cfg.rand_int()), servers, true).await?;
    cfg.end()
}

/// What one try of TestCount2B's agreement phase concluded.
enum CountTry {
    /// The term changed or Start was refused: try again.
    Retry,
    /// Agreement done; the delivered-RPC total after it.
    Done(u64),
}

/// One try of TestCount2B's agreement phase (steps 2.1-2.5 of [`count_2b`]).
async fn count_try<R: LabRaft>(
    cfg: &crate::harness::Config<R>,
    rpcs: impl Fn() -> u64,
) -> Result<CountTry, Fail> {
    let servers = cfg.n();
    let leader = cfg.check_one_leader().await?;
    let total1 = rpcs();
    let iters = 10u64;
    let Some(first) = cfg.start_on(leader, &Cmd::Int(1)) else {
        return Ok(CountTry::Retry);
    };
    let (starti, term) = (first.index, first.term);
    let mut cmds = Vec::new();
    for i in 1..iters + 2 {
        let x = cfg.rand_int() >> 32; // Go's int(rand.Int31())
        cmds.push(x);
        match cfg.start_on(leader, &Cmd::Int(x)) {
            Some(s) if s.term == term => {
                if starti + i != s.index {
                    return Err(Fail::StartFailed);
                }
            }
            _ => return Ok(CountTry::Retry),
        }
    }
    for i in 1..iters + 1 {
        let expected = cmds[usize::try_from(i - 1).unwrap_or(0)];
        match cfg.wait(starti + i, servers, Some(term)).await? {
            crate::harness::Waited::Committed(Some(Cmd::Int(x))) if x == expected => {}
            crate::harness::Waited::TermMoved => return Ok(CountTry::Retry),
            crate::harness::Waited::Committed(value) => {
                return Err(Fail::WrongValue {
                    value,
                    index: starti + i,
                    expected: cmds,
                });
            }
        }
    }
    let mut failed = false;
    for j in 0..servers {
        if cfg.get_state(j).is_some_and(|(t, _)| t != term) {
            failed = true;
        }
    }
    let total2 = rpcs();
    if failed {
        return Ok(CountTry::Retry);
    }
    if total2 - total1 > (iters + 1 + 3) * 3 {
        return Err(Fail::AgreementRpcs {
            count: total2 - total1,
            entries: iters,
        });
    }
    Ok(CountTry::Done(total2))
}

/// TestCount2B: elections, agreement and idleness each use few RPCs. `rpcs()` is the sum of
/// RPCs delivered to the three servers.
///
/// 1. n=3, reliable. `check_one_leader`; `rpcs()` must be in [1, 30].
/// 2. Up to 5 tries, each after the first preceded by a 3 s sleep:
///    1. `L = check_one_leader`; `total1 = rpcs()`; `L.start(1)` must be accepted (else
///       next try) at `starti` in term `term`.
///    2. 11 more Starts of random ints must be accepted in `term` (else next try) at
///       `starti + i` (else "Start() failed").
///    3. `wait(starti + i, 3, term)` must be the i-th command for i = 1..=10; a term change
///       means next try.
///    4. `total2 = rpcs()`; if any term changed, next try.
///    5. `total2 - total1` must be at most (10 + 1 + 3) x 3 = 42.
/// 3. If no try completes: "term changed too often".
/// 4. Sleep 1 election timeout; at most 3 x 20 = 60 RPCs in that idle second.
pub async fn count_2b<R: LabRaft>(t: TestContext) -> Result<(), Fail> {
    let servers = 3;
    let cfg = make_config::<R>(&t, servers, false, false)?;
    cfg.begin();
    let rpcs = || (0..servers).map(|j| cfg.rpc_count(j)).sum::<u64>();
    cfg.check_one_leader().await?;
    let total1 = rpcs();
    if !(1..=30).contains(&total1) {
        return Err(Fail::ElectionRpcs { count: total1 });
    }
    let mut total2 = None;
    for attempt in 0..5 {
        if attempt > 0 {
            sleep(Duration::from_secs(3)).await;
        }
        if let CountTry::Done(total) = count_try(&cfg, rpcs).await? {
            total2 = Some(total);
            break;
        }
    }
    let Some(total2) = total2 else {
        return Err(Fail::TermChangedTooOften);
    };
    sleep(ELECTION_TIMEOUT).await;
    let total3 = rpcs();
    if total3 - total2 > 3 * 20 {
        return Err(Fail::IdleRpcs {
            count: total3 - total2,
        });
    }
    cfg.end()
}
