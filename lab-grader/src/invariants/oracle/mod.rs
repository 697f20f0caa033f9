//! Today's checks as they were before looks became incremental (issue 28): every look
//! copies the whole log, splits it into runs and compares them whole. Kept, in tests only, as
//! the reference the incremental [`Monitor`](super::Monitor) is compared with, verdict by
//! verdict (see `super::equivalence`), together with the harness's rule of that time that a
//! look identical to the last one at the same incarnation is skipped ([`Harness`]).
#![allow(dead_code)]

use lab_api::{RaftView, Role};

use super::{Observation, Property, Violation};

mod commit_rule;
mod committed;
mod committed_kept;
mod election_safety;
mod leader_append_only;
mod leader_completeness;
mod log_matching;
mod one_vote;
mod runs;
mod term_monotonic;

use runs::Run;

/// Checks Raft's safety properties on a test run's observations, fed in time order. One per
/// test run; after the first [`Violation`] it returns that violation for every observation.
#[derive(Debug)]
pub struct Monitor {
    /// Per peer: its current incarnation and the last look at it.
    tracks: Vec<Track>,
    checks: Checks,
    /// Buffer for the runs of the view being checked (reused).
    spare: Vec<Run>,
    violated: Option<Violation>,
}

impl Monitor {
    /// A monitor for a cluster of `peers` peers, numbered from 0.
    pub fn new(peers: usize) -> Self {
        Monitor {
            tracks: (0..peers).map(|_| Track::default()).collect(),
            checks: Checks::new(peers),
            spare: Vec::new(),
            violated: None,
        }
    }

    /// Checks one look at a peer. Observations of an incarnation older than one already
    /// seen (a killed peer answering late), and looks read before one already observed
    /// (a lower [`Observation::seq`]), are ignored.
    ///
    /// # Errors
    ///
    /// The first violation seen, now or by an earlier call.
    ///
    /// # Panics
    ///
    /// If `obs.peer` is not below the `peers` given to [`Monitor::new`].
    pub fn observe(&mut self, obs: &Observation<'_>) -> Result<(), Violation> {
        if let Some(violation) = &self.violated {
            return Err(violation.clone());
        }
        assert!(
            obs.peer < self.tracks.len(),
            "observation of peer {} in a cluster of {}",
            obs.peer,
            self.tracks.len()
        );
        let track = &mut self.tracks[obs.peer];
        if obs.incarnation < track.incarnation {
            return Ok(());
        }
        if obs.incarnation > track.incarnation {
            track.incarnation = obs.incarnation;
            track.last = None;
        } else if track.last.is_some() && obs.seq <= track.seq {
            return Ok(());
        }
        track.seq = obs.seq;
        runs::split(obs.view, &mut self.spare);
        let step = Step {
            peer: obs.peer,
            incarnation: obs.incarnation,
            revealed: obs.revealed,
            view: obs.view,
            runs: &self.spare,
            prev: track.last.as_ref(),
        };
        if let Err(breach) = self.checks.run(&step) {
            let violation = Violation {
                property: breach.property,
                at: obs.at,
                detail: breach.detail,
            };
            self.violated = Some(violation.clone());
            return Err(violation);
        }
        let runs = std::mem::take(&mut self.spare);
        if let Some(old) = track.last.replace(Seen::new(obs.view, runs)) {
            self.spare = old.runs;
        }
        Ok(())
    }

    /// The first violation seen, if any.
    pub fn violation(&self) -> Option<&Violation> {
        self.violated.as_ref()
    }
}

/// What the monitor keeps of one peer.
#[derive(Debug, Default)]
struct Track {
    incarnation: u64,
    /// The number of the last look observed.
    seq: u64,
    /// The last look at this incarnation.
    last: Option<Seen>,
}

/// The state of every property check.
#[derive(Debug)]
struct Checks {
    leaders: election_safety::Leaders,
    terms: term_monotonic::Terms,
    votes: one_vote::Votes,
    starts: log_matching::RunStarts,
    committed: committed::Committed,
    completeness: leader_completeness::Completeness,
}

impl Checks {
    fn new(peers: usize) -> Self {
        Checks {
            leaders: election_safety::Leaders::default(),
            terms: term_monotonic::Terms::new(peers),
            votes: one_vote::Votes::new(peers),
            starts: log_matching::RunStarts::default(),
            committed: committed::Committed::new(peers),
            completeness: leader_completeness::Completeness::new(peers),
        }
    }

    /// Every property. The checks of one peer against its last look come before those
    /// against other peers, so that a leader rewriting its own log is named as such rather
    /// than as a Log Matching breach.
    fn run(&mut self, step: &Step<'_>) -> Result<(), Breach> {
        self.terms.check(step)?;
        self.votes.check(step)?;
        self.leaders.check(step)?;
        leader_append_only::check(step)?;
        commit_rule::check(step)?;
        committed_kept::check(step, &self.committed)?;
        self.starts.check(step)?;
        self.committed.record(step)?;
        self.completeness.check(step, &self.committed)
    }
}

/// One observation as the property checks see it.
#[derive(Debug)]
struct Step<'a> {
    peer: usize,
    incarnation: u64,
    revealed: bool,
    view: &'a RaftView,
    /// The view's log after its snapshot, as runs of equal terms.
    runs: &'a [Run],
    /// The previous look at the same incarnation.
    prev: Option<&'a Seen>,
}

/// What the checks keep of a look, to compare the next look at the same incarnation with.
#[derive(Debug)]
struct Seen {
    term: u64,
    voted_for: Option<usize>,
    role: Role,
    commit_index: u64,
    snapshot_index: u64,
    runs: Vec<Run>,
}

impl Seen {
    fn new(view: &RaftView, runs: Vec<Run>) -> Self {
        Seen {
            term: view.term,
            voted_for: view.voted_for,
            role: view.role,
            commit_index: view.commit_index,
            snapshot_index: view.snapshot_index,
            runs,
        }
    }

    /// The term this look showed the peer leading, if it was leader.
    fn leading(&self) -> Option<u64> {
        (self.role == Role::Leader).then_some(self.term)
    }
}

/// A property broken, before the monitor stamps it with the time.
#[derive(Debug)]
struct Breach {
    property: Property,
    detail: String,
}

impl Breach {
    fn new(property: Property, detail: String) -> Self {
        Breach { property, detail }
    }
}

/// The harness of that time: the monitor, after the rule that a look identical to the last
/// one looked at the same incarnation (and not newly revealed) is skipped.
#[derive(Debug)]
pub(super) struct Harness {
    pub(super) monitor: Monitor,
    last_look: Vec<Option<(u64, bool, RaftView)>>,
}

impl Harness {
    pub(super) fn new(peers: usize) -> Self {
        Harness {
            monitor: Monitor::new(peers),
            last_look: vec![None; peers],
        }
    }

    /// `Config::look_once` of that time, from the view on.
    pub(super) fn look(&mut self, obs: &Observation<'_>) -> Result<(), Violation> {
        let last = &mut self.last_look[obs.peer];
        let seen = last.as_ref().is_some_and(|(inc, was_revealed, old)| {
            *inc == obs.incarnation && (*was_revealed || !obs.revealed) && old == obs.view
        });
        if seen {
            return Ok(());
        }
        *last = Some((obs.incarnation, obs.revealed, obs.view.clone()));
        self.monitor.observe(obs)
    }
}
