//! [`check`]: split a history into its independent parts, search each, and combine the
//! verdicts.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::history::Operation;
use crate::model::Model;
use crate::search::{Outcome, PartSearch, Relax};

/// How to check: the step budget, partitioning and threads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The most calls of [`Model::step`] the search of one part may make before giving up
    /// with [`Verdict::Unknown`]. A budget in steps, not seconds, so that a verdict never
    /// depends on the machine or its load.
    pub budget: u64,
    /// Whether to split the history by [`Model::partition_key`] (true) or to check it whole.
    pub partition: bool,
    /// Threads to search parts with: 0 for one per core, 1 for none. Verdicts and counts are
    /// the same with any number.
    pub threads: usize,
    /// Whether to stop searching the other parts once one is shown not to be linearizable
    /// (they end as [`PartOutcome::Stopped`]). The parts advance in rounds of steps that
    /// grow by a quarter (every part runs to 1024 steps, then 1280, 1600, ...), and the
    /// search stops after the round in which a part failed, so where it stops is the same on
    /// any machine.
    pub stop_at_first_failure: bool,
}

impl Config {
    /// The default budget: [`Config::budget`] steps per part. On the 2-vCPU machines of
    /// BENCHMARKS.md a step takes well under a microsecond, so this is about the Go tester's
    /// one-second limit.
    pub const DEFAULT_BUDGET: u64 = 5_000_000;
}

impl Default for Config {
    fn default() -> Self {
        Config {
            budget: Config::DEFAULT_BUDGET,
            partition: true,
            threads: 0,
            stop_at_first_failure: true,
        }
    }
}

/// The verdict on a whole history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Some order of all operations respects real time and the model.
    Linearizable,
    /// No order does, in part `part` (the first such part).
    NotLinearizable {
        /// Index into [`CheckResult::parts`].
        part: usize,
    },
    /// Not decided within the budget: no part failed, but part `part` (the first such) spent
    /// its whole budget without a verdict. This is not a pass: nothing was shown about that
    /// part. The caller decides what it means (a larger budget, a shorter history, a
    /// failure); [`CheckResult::strict`] treats it as a failure.
    Unknown {
        /// Index into [`CheckResult::parts`].
        part: usize,
        /// The steps it spent.
        steps: u64,
        /// The budget it had ([`Config::budget`]).
        budget: u64,
    },
}

/// Why [`CheckResult::strict`] did not pass a history.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotPassed {
    /// Shown not to be linearizable.
    #[error("not linearizable (part {part})")]
    NotLinearizable {
        /// Index into [`CheckResult::parts`].
        part: usize,
    },
    /// Not decided within the budget.
    #[error(
        "not decided: part {part} spent {steps} steps of its budget of {budget} without a verdict"
    )]
    Unknown {
        /// Index into [`CheckResult::parts`].
        part: usize,
        /// The steps it spent.
        steps: u64,
        /// The budget it had.
        budget: u64,
    },
}

/// How the search of one part ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum PartOutcome {
    /// A linearization was found ([`PartResult::order`]).
    Linearizable,
    /// None exists.
    NotLinearizable,
    /// The budget ran out first.
    OutOfBudget,
    /// Not searched to the end: another part had failed
    /// ([`Config::stop_at_first_failure`]).
    Stopped,
}

/// The search of one independent part of a history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartResult {
    /// The part's key ([`Model::partition_key`]); `None` for the operations without one, or
    /// for the whole history when it is not split.
    pub key: Option<String>,
    /// Its operations, as indices into the history, in history order.
    pub ops: Vec<usize>,
    /// How its search ended.
    pub outcome: PartOutcome,
    /// Calls of [`Model::step`] made.
    pub steps: u64,
    /// (placed operations, state) pairs explored.
    pub states: u64,
    /// For a linearizable part, the order found; otherwise the longest prefix of a
    /// linearization that the search reached (the first one of that length). History
    /// indices.
    pub order: Vec<usize>,
    /// For a part that is not linearizable: the operation that had to come right after
    /// [`PartResult::order`] (its return was reached) and could not (history index).
    pub stuck: Option<usize>,
    /// For a part that is not linearizable: the state after [`PartResult::order`], in
    /// words ([`Model::describe_state`]).
    pub state_after: Option<String>,
}

/// The result of [`check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckResult {
    /// The verdict on the whole history.
    pub verdict: Verdict,
    /// Each part's search, in key order (the part without a key first).
    pub parts: Vec<PartResult>,
    /// Steps spent over all parts.
    pub steps: u64,
}

impl CheckResult {
    /// Whether the history is shown to be linearizable (false for [`Verdict::Unknown`]).
    pub fn is_linearizable(&self) -> bool {
        self.verdict == Verdict::Linearizable
    }

    /// The strict reading: `Ok` only if the history is shown to be linearizable; a history
    /// shown not to be, or not decided within the budget ([`Verdict::Unknown`]), is an
    /// error that says which. A test that must never pass silently uses this (or
    /// [`CheckResult::is_linearizable`]), never `!is_illegal()`.
    pub fn strict(&self) -> Result<(), NotPassed> {
        match self.verdict {
            Verdict::Linearizable => Ok(()),
            Verdict::NotLinearizable { part } => Err(NotPassed::NotLinearizable { part }),
            Verdict::Unknown {
                part,
                steps,
                budget,
            } => Err(NotPassed::Unknown {
                part,
                steps,
                budget,
            }),
        }
    }

    /// Whether the history is shown not to be linearizable. False for [`Verdict::Unknown`]
    /// too, so `!is_illegal()` is no pass: it lets an undecided history through.
    pub fn is_illegal(&self) -> bool {
        matches!(self.verdict, Verdict::NotLinearizable { .. })
    }

    /// The first part that is not linearizable.
    pub fn failing_part(&self) -> Option<&PartResult> {
        match self.verdict {
            Verdict::NotLinearizable { part } => self.parts.get(part),
            _ => None,
        }
    }
}

/// Splits the history into its parts: `(key, history indices)` in key order.
pub(crate) fn split<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    partition: bool,
) -> Vec<(Option<String>, Vec<usize>)> {
    if !partition {
        return if history.is_empty() {
            Vec::new()
        } else {
            vec![(None, (0..history.len()).collect())]
        };
    }
    let mut parts: BTreeMap<Option<String>, Vec<usize>> = BTreeMap::new();
    for (i, op) in history.iter().enumerate() {
        parts
            .entry(model.partition_key(&op.input))
            .or_default()
            .push(i);
    }
    parts.into_iter().collect()
}

/// Steps every part runs in the first round; each round raises it by a quarter (finer
/// rounds stop sooner after a failure; each costs one pass over the open parts).
const FIRST_ROUND: u64 = 1024;

/// Rounds below this many steps run on the calling thread (threads cost more than they
/// save on small parts).
const PARALLEL_FROM: u64 = 1 << 12;

/// The result of one part's search, in history indices.
fn part_result<M: Model>(
    model: &M,
    search: PartSearch<'_, M>,
    key: Option<String>,
    ops: Vec<usize>,
    stopped: bool,
) -> PartResult {
    let found = search.found();
    let outcome = match found.outcome {
        Outcome::Linearizable => PartOutcome::Linearizable,
        Outcome::Illegal => PartOutcome::NotLinearizable,
        Outcome::OutOfBudget if stopped => PartOutcome::Stopped,
        Outcome::OutOfBudget => PartOutcome::OutOfBudget,
    };
    PartResult {
        key,
        order: found.order.iter().map(|&i| ops[i]).collect(),
        stuck: found
            .stuck
            .filter(|_| outcome == PartOutcome::NotLinearizable)
            .map(|i| ops[i]),
        ops,
        outcome,
        steps: found.steps,
        states: found.states,
        state_after: (outcome == PartOutcome::NotLinearizable)
            .then(|| model.describe_state(&found.state)),
    }
}

/// Checks whether `history` is linearizable with respect to `model`.
///
/// Each independent part (see [`Model::partition_key`], [`Config::partition`]) is searched
/// on its own with its own budget of [`Config::budget`] steps, on up to
/// [`Config::threads`] threads. The parts advance in rounds (see
/// [`Config::stop_at_first_failure`]), so the verdict and every count are the same on any
/// machine, serial or parallel. The history is not linearizable if some part is not;
/// otherwise it is unknown if some part ran out of budget; an empty history is
/// linearizable.
pub fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    config: &Config,
) -> CheckResult {
    let parts = split(model, history, config.partition);
    let threads = match config.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let mut searches: Vec<Mutex<PartSearch<'_, M>>> = parts
        .iter()
        .map(|(_, ops)| {
            Mutex::new(PartSearch::new(
                model,
                ops.iter().map(|&i| &history[i]).collect(),
                Relax::Nothing,
            ))
        })
        .collect();
    let mut limit = FIRST_ROUND.min(config.budget);
    let mut stopped = false;
    loop {
        let open: Vec<usize> = (0..searches.len())
            .filter(|&p| outcome(&searches[p]).is_none())
            .collect();
        if open.is_empty() {
            break;
        }
        if config.stop_at_first_failure
            && searches
                .iter()
                .any(|s| outcome(s) == Some(Outcome::Illegal))
        {
            stopped = true;
            break;
        }
        run_round(
            &searches,
            &open,
            limit,
            if limit < PARALLEL_FROM { 1 } else { threads },
        );
        if limit >= config.budget {
            break;
        }
        limit = limit.saturating_add(limit / 4).min(config.budget);
    }
    let results = parts
        .into_iter()
        .zip(searches.drain(..))
        .map(|((key, ops), search)| {
            let search = search
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            part_result(model, search, key, ops, stopped)
        })
        .collect();
    combine(results, config.budget)
}

fn outcome<M: Model>(search: &Mutex<PartSearch<'_, M>>) -> Option<Outcome> {
    lock(search).outcome()
}

fn lock<'m, 'a, M: Model>(
    search: &'m Mutex<PartSearch<'a, M>>,
) -> std::sync::MutexGuard<'m, PartSearch<'a, M>> {
    search
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs the `open` parts up to `limit` steps each, on up to `threads` scoped threads (the
/// parts with the most steps still allowed first).
fn run_round<M: Model>(
    searches: &[Mutex<PartSearch<'_, M>>],
    open: &[usize],
    limit: u64,
    threads: usize,
) {
    let threads = threads.min(open.len());
    if threads <= 1 {
        for &p in open {
            lock(&searches[p]).resume(limit);
        }
        return;
    }
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some(&p) = open.get(next.fetch_add(1, Ordering::Relaxed)) {
                    lock(&searches[p]).resume(limit);
                }
            });
        }
    });
}

fn combine(parts: Vec<PartResult>, budget: u64) -> CheckResult {
    let steps = parts.iter().map(|p| p.steps).sum();
    let failing = parts
        .iter()
        .position(|p| p.outcome == PartOutcome::NotLinearizable);
    let unknown = parts
        .iter()
        .position(|p| p.outcome == PartOutcome::OutOfBudget);
    let verdict = match (failing, unknown) {
        (Some(part), _) => Verdict::NotLinearizable { part },
        (None, Some(part)) => Verdict::Unknown {
            part,
            steps: parts[part].steps,
            budget,
        },
        (None, None) => Verdict::Linearizable,
    };
    CheckResult {
        verdict,
        parts,
        steps,
    }
}
