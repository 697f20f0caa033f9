//! Go's checkers (spec 3.7), with its exact timings: checkOneLeader, checkTerms,
//! checkNoLeader, nCommitted, wait and one.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use lab_api::LabRaft;
use tokio::time::{Instant, sleep};

use super::config::Config;
use super::context::lock;
use crate::cmd::Cmd;
use crate::fail::Fail;
use crate::panics::as_peer;
use crate::trace::Event;

/// What [`Config::wait`] saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Waited {
    /// Enough servers applied the index; this is the value (Go's nil is `None`).
    Committed(Option<Cmd>),
    /// Some peer moved past the start term (Go returns -1): the caller retries.
    TermMoved,
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

impl<R: LabRaft> Config<R> {
    fn connected_rafts(&self) -> Vec<(usize, Arc<R>)> {
        self.cluster.connected_rafts()
    }

    fn all_rafts(&self) -> Vec<(usize, Arc<R>)> {
        self.cluster.all_rafts()
    }

    /// Records a checker's result: `ok` renders a success.
    fn note_check<T>(
        &self,
        check: &'static str,
        r: &Result<T, Fail>,
        ok: impl FnOnce(&T) -> String,
    ) {
        let (ok, detail) = match r {
            Ok(v) => (true, ok(v)),
            Err(e) => (false, e.to_string()),
        };
        self.t.note(Event::Check { check, ok, detail });
    }

    /// Go's `checkOneLeader()`: up to 10 rounds, each after a 450-549 ms sleep; fails if a
    /// term has two leaders; returns the leader of the highest term once there is one.
    pub async fn check_one_leader(&self) -> Result<usize, Fail> {
        let r = self.one_leader_rounds().await;
        self.note_check("check_one_leader", &r, |l| format!("leader {l}"));
        r
    }

    async fn one_leader_rounds(&self) -> Result<usize, Fail> {
        for _ in 0..10 {
            let wait = 450 + self.rand_below(100);
            sleep(ms(wait)).await;
            let mut leaders: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
            for (i, rf) in self.connected_rafts() {
                let (term, is_leader) = as_peer(i, || rf.get_state());
                if is_leader {
                    leaders.entry(term).or_default().push(i);
                }
            }
            for (&term, ids) in &leaders {
                if ids.len() > 1 {
                    return Err(Fail::MultipleLeaders {
                        term,
                        count: ids.len(),
                    });
                }
            }
            if let Some((_, ids)) = leaders.last_key_value() {
                return Ok(ids[0]);
            }
        }
        Err(Fail::NoLeader)
    }

    /// Go's `checkTerms()`: every connected server must report the same term; -1 if none is
    /// connected.
    pub fn check_terms(&self) -> Result<i64, Fail> {
        let r = self.terms();
        self.note_check("check_terms", &r, |t| format!("term {t}"));
        r
    }

    fn terms(&self) -> Result<i64, Fail> {
        let mut term: Option<u64> = None;
        for (i, rf) in self.connected_rafts() {
            let (xterm, _) = as_peer(i, || rf.get_state());
            match term {
                None => term = Some(xterm),
                Some(t) if t != xterm => return Err(Fail::TermsDisagree),
                Some(_) => {}
            }
        }
        Ok(term.map_or(-1, |t| i64::try_from(t).unwrap_or(i64::MAX)))
    }

    /// Go's `checkNoLeader()`: no connected server may claim leadership.
    pub fn check_no_leader(&self) -> Result<(), Fail> {
        let r = self.no_leader();
        self.note_check("check_no_leader", &r, |()| "no leader".to_string());
        r
    }

    fn no_leader(&self) -> Result<(), Fail> {
        for (i, rf) in self.connected_rafts() {
            if as_peer(i, || rf.get_state()).1 {
                return Err(Fail::UnexpectedLeader { server: i });
            }
        }
        Ok(())
    }

    /// Go's `nCommitted(index)`: how many servers (connected or not, alive or crashed) have
    /// applied `index`, and the value; fails on an applier error or on disagreement.
    pub fn n_committed(&self, index: u64) -> Result<(usize, Option<Cmd>), Fail> {
        let r = self.committed(index);
        self.note_check("n_committed", &r, |(n, cmd)| {
            format!("index {index}: {n} servers, {}", crate::cmd::go_value(cmd))
        });
        r
    }

    /// [`Config::n_committed`] without a record (the pollers in wait and one).
    fn committed(&self, index: u64) -> Result<(usize, Option<Cmd>), Fail> {
        lock(&self.applied).n_committed(index)
    }

    /// Go's `wait(index, n, startTerm)`: up to 30 polls with sleeps of 10, 20, 40 ... ms
    /// (doubling while below 1 s); with a start term, gives up ([`Waited::TermMoved`]) once any
    /// peer's term is above it; fails if fewer than `n` servers applied `index`.
    pub async fn wait(
        &self,
        index: u64,
        n: usize,
        start_term: Option<u64>,
    ) -> Result<Waited, Fail> {
        let r = self.wait_polls(index, n, start_term).await;
        self.note_check("wait", &r, |w| match w {
            Waited::Committed(cmd) => format!(
                "index {index}: at least {n} servers applied {}",
                crate::cmd::go_value(cmd)
            ),
            Waited::TermMoved => format!("index {index}: a term moved past the start term"),
        });
        r
    }

    async fn wait_polls(
        &self,
        index: u64,
        n: usize,
        start_term: Option<u64>,
    ) -> Result<Waited, Fail> {
        let mut to = ms(10);
        for _ in 0..30 {
            let (nd, _) = self.committed(index)?;
            if nd >= n {
                break;
            }
            sleep(to).await;
            if to < Duration::from_secs(1) {
                to *= 2;
            }
            if let Some(start) = start_term {
                let rafts = self.all_rafts();
                if rafts
                    .iter()
                    .any(|(i, rf)| as_peer(*i, || rf.get_state()).0 > start)
                {
                    return Ok(Waited::TermMoved);
                }
            }
        }
        let (nd, cmd) = self.committed(index)?;
        if nd < n {
            return Err(Fail::TooFewDecided {
                got: nd,
                index,
                wanted: n,
            });
        }
        Ok(Waited::Committed(cmd))
    }

    /// Offers `cmd` to the connected peers round-robin (the cursor starts at 0 and is
    /// advanced before each try, so server 1 is tried first); the index of the first one
    /// that accepts.
    fn submit(&self, cmd: &Cmd, cursor: &mut usize) -> Option<u64> {
        for _ in 0..self.n {
            *cursor = (*cursor + 1) % self.n;
            let rf = if self.cluster.is_connected(*cursor) {
                self.cluster.raft(*cursor)
            } else {
                None
            };
            let started = rf.and_then(|rf| {
                let bytes = cmd.to_bytes();
                let started = as_peer(*cursor, || rf.start(bytes.clone()));
                self.note_start(*cursor, bytes, started);
                started
            });
            if let Some(started) = started {
                return Some(started.index);
            }
        }
        None
    }

    /// Go's `one(cmd, expectedServers, retry)`: for up to 10 s (and only while the test is
    /// not finishing), submit `cmd` to a leader and poll every 20 ms for 2 s until at least
    /// `expected` servers applied it at the returned index; without `retry`, one failed
    /// attempt fails the test. Returns the index.
    pub async fn one(&self, cmd: Cmd, expected: usize, retry: bool) -> Result<u64, Fail> {
        let shown = cmd.to_string();
        let r = self.one_attempts(cmd, expected, retry).await;
        self.note_check("one", &r, |index| format!("one({shown}) at index {index}"));
        r
    }

    async fn one_attempts(&self, cmd: Cmd, expected: usize, retry: bool) -> Result<u64, Fail> {
        let t0 = Instant::now();
        let mut cursor = 0;
        while t0.elapsed() < Duration::from_secs(10) && !self.t.finished() {
            match self.submit(&cmd, &mut cursor) {
                Some(index) => {
                    let t1 = Instant::now();
                    while t1.elapsed() < Duration::from_secs(2) {
                        let (nd, cmd1) = self.committed(index)?;
                        if nd > 0 && nd >= expected && cmd1.as_ref() == Some(&cmd) {
                            return Ok(index);
                        }
                        sleep(ms(20)).await;
                    }
                    if !retry {
                        return Err(Fail::NoAgreement { cmd });
                    }
                }
                None => sleep(ms(50)).await,
            }
        }
        if self.t.finished() {
            return Err(Fail::Finishing);
        }
        Err(Fail::NoAgreement { cmd })
    }
}
