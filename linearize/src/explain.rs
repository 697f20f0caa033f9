//! Why a history is not linearizable: [`explain`] and the [`Explanation`] it returns.
//!
//! For the first failing part: the longest prefix of a linearization the search found, the
//! operation that could not come after it (the one whose return the search reached), the
//! state there and what the model would have allowed; and a *minimal failing sub-history*.
//!
//! A sub-history that fails only because it lost the writes its reads saw (one Get of a
//! value nobody wrote) explains nothing, so the minimization keeps the values explainable:
//!
//! 1. the operations called after the stuck operation returned are dropped, if the rest
//!    still fails;
//! 2. reads ([`Model::is_read_only`]) are dropped by delta debugging, whole clients first,
//!    while the rest fails (dropping a read never makes a value unexplainable);
//! 3. the other operations (the writes) likewise, but only while the rest stays
//!    *explainable*: linearizable once real time is ignored for its reads, so that every
//!    value read was written by what is left, and what fails is when the reads happened;
//! 4. every operation left is tried once more, to a fixpoint, so that dropping any one of
//!    them makes the rest linearizable or unexplainable.
//!
//! If the part is not explainable to begin with (a read of a value nobody wrote, say, or
//! writes that real time alone puts in an impossible order), step 3 keeps to the plain rule
//! (the rest fails); so it does if that cannot be shown within the budget. Every check has its own step budget and a check that runs out
//! counts as "not shown to fail", so what is kept always fails.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::check::CheckResult;
use crate::history::{ClientId, Operation};
use crate::model::Model;
use crate::search::{Outcome, PartSearch, Relax};

/// Budgets for [`explain`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExplainConfig {
    /// Steps allowed to each check of a sub-history.
    pub budget: u64,
    /// Checks allowed to the minimization in all.
    pub max_checks: usize,
    /// Keep the values of the minimal sub-history explainable (see the module
    /// documentation; the default). When false, the sub-history is minimal in the plain
    /// sense: dropping any one operation makes it linearizable, even if what is left is one
    /// Get of a value nobody wrote.
    pub explainable_values: bool,
}

impl Default for ExplainConfig {
    fn default() -> Self {
        ExplainConfig {
            budget: 200_000,
            max_checks: 4_000,
            explainable_values: true,
        }
    }
}

/// One operation, described for people.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct OpView {
    /// Its index in the history.
    pub index: usize,
    /// Its client.
    pub client: ClientId,
    /// When it was called.
    pub call: u64,
    /// When it returned, if it did.
    pub ret: Option<u64>,
    /// [`Model::describe_operation`].
    pub text: String,
}

impl OpView {
    fn new<M: Model>(model: &M, history: &[Operation<M::Input, M::Output>], index: usize) -> Self {
        let op = &history[index];
        OpView {
            index,
            client: op.client,
            call: op.call,
            ret: op.ret,
            text: model.describe_operation(&op.input, &op.output),
        }
    }
}

/// Where a search of some operations got stuck.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Stuck {
    /// The longest prefix of a linearization found (history indices, in order).
    pub prefix: Vec<usize>,
    /// The operation that had to come next and could not.
    pub op: OpView,
    /// The state after the prefix ([`Model::describe_state`]).
    pub state: String,
    /// What the model would have allowed that operation from there
    /// ([`Model::describe_allowed`]).
    pub allowed: Option<String>,
}

/// Why a history is not linearizable (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Explanation {
    /// The failing part's key.
    pub key: Option<String>,
    /// How many operations the part has.
    pub part_ops: usize,
    /// Where the search of the whole part got stuck.
    pub part: Stuck,
    /// The minimal failing sub-history, in history order.
    pub minimal: Vec<OpView>,
    /// Where a search of the minimal sub-history gets stuck.
    pub minimal_stuck: Option<Stuck>,
    /// Whether dropping any one operation of [`Explanation::minimal`] was checked to make it
    /// linearizable or, with [`ExplainConfig::explainable_values`], leave a value no order
    /// explains (false if the budgets ran out first).
    pub verified_minimal: bool,
    /// Whether [`Explanation::minimal`] was kept explainable (linearizable once real time is
    /// ignored for its reads: every value read was written by the operations shown); false
    /// if not asked, or if the part itself is not.
    pub explainable: bool,
    /// Checks made by the minimization.
    pub checks: usize,
    /// Steps spent by them.
    pub steps: u64,
}

/// How [`Explanation::render`] writes times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    /// Times are nanoseconds: written as seconds (`1.40 s`).
    Nanoseconds,
    /// Times are event numbers or other ticks: written as they are (`t=17`).
    Ticks,
}

impl TimeUnit {
    /// One time, written in this unit.
    pub fn format(self, t: u64) -> String {
        match self {
            TimeUnit::Nanoseconds => format!("{:.2} s", t as f64 / 1e9),
            TimeUnit::Ticks => format!("t={t}"),
        }
    }

    fn interval(self, call: u64, ret: Option<u64>) -> String {
        match ret {
            Some(ret) => format!("[{}, {}]", self.format(call), self.format(ret)),
            None => format!("[{}, never returned]", self.format(call)),
        }
    }
}

/// A search of the operations `ops` (history indices) with `budget` steps.
fn search_ops<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    ops: &[usize],
    budget: u64,
    relax: Relax,
) -> (Option<Outcome>, u64, Option<Stuck>) {
    let local = ops.iter().map(|&i| &history[i]).collect();
    let mut search = PartSearch::new(model, local, relax);
    let outcome = search.resume(budget);
    let found = search.found();
    let stuck = (outcome == Some(Outcome::Illegal) && relax == Relax::Nothing).then(|| {
        let prefix: Vec<usize> = found.order.iter().map(|&i| ops[i]).collect();
        // The search names the operation whose return it reached; failing that, the
        // remaining operation that returned first.
        let op = found.stuck.map(|i| ops[i]).unwrap_or_else(|| {
            let placed: BTreeSet<usize> = prefix.iter().copied().collect();
            ops.iter()
                .copied()
                .filter(|i| !placed.contains(i))
                .min_by_key(|&i| (history[i].ret.unwrap_or(u64::MAX), i))
                .unwrap_or(ops[0])
        });
        Stuck {
            prefix,
            op: OpView::new(model, history, op),
            state: model.describe_state(&found.state),
            allowed: model.describe_allowed(&found.state, &history[op].input),
        }
    });
    (outcome, found.steps, stuck)
}

/// The minimization: checks sub-histories within the budgets.
struct Minimizer<'a, M: Model> {
    model: &'a M,
    history: &'a [Operation<M::Input, M::Output>],
    config: &'a ExplainConfig,
    /// Whether a kept sub-history must also have some order, real time ignored.
    explainable: bool,
    checks: usize,
    steps: u64,
    /// Whether some check ran out of budget (or the checks did).
    exhausted: bool,
}

impl<M: Model> Minimizer<'_, M> {
    /// One check: `Some(true)` if `ops` is shown to have no linearization (relaxed as
    /// `relax` says), `Some(false)` if it has one, `None` if unknown.
    fn run(&mut self, ops: &[usize], relax: Relax) -> Option<bool> {
        if self.checks >= self.config.max_checks {
            self.exhausted = true;
            return None;
        }
        self.checks += 1;
        let (outcome, steps, _) =
            search_ops(self.model, self.history, ops, self.config.budget, relax);
        self.steps += steps;
        match outcome {
            Some(Outcome::Illegal) => Some(true),
            Some(_) => Some(false),
            None => {
                self.exhausted = true;
                None
            }
        }
    }

    /// Whether `ops` may be kept: shown to fail (and, when asked, shown to have some order
    /// with real time ignored).
    fn keeps(&mut self, ops: &[usize]) -> bool {
        if ops.is_empty() || self.run(ops, Relax::Nothing) != Some(true) {
            return false;
        }
        !self.explainable || self.run(ops, Relax::Reads) == Some(false)
    }

    /// Delta debugging over `groups` (removable) beside `fixed` (kept): the smallest set of
    /// groups found such that they and `fixed` are kept.
    fn ddmin(&mut self, fixed: &[usize], mut groups: Vec<Vec<usize>>) -> Vec<Vec<usize>> {
        let with = |gs: &[Vec<usize>]| -> Vec<usize> {
            let mut ops: Vec<usize> = fixed.iter().chain(gs.iter().flatten()).copied().collect();
            ops.sort_unstable();
            ops
        };
        if self.keeps(&with(&[])) {
            return Vec::new();
        }
        let mut n = 2;
        while groups.len() >= 2 && !self.exhausted_checks() {
            let size = groups.len().div_ceil(n);
            let chunks: Vec<Vec<Vec<usize>>> = groups.chunks(size).map(<[_]>::to_vec).collect();
            let mut reduced = false;
            for chunk in &chunks {
                if self.keeps(&with(chunk)) {
                    groups = chunk.clone();
                    n = 2;
                    reduced = true;
                    break;
                }
            }
            if !reduced && chunks.len() > 2 {
                for k in 0..chunks.len() {
                    let rest: Vec<Vec<usize>> = chunks
                        .iter()
                        .enumerate()
                        .filter(|&(j, _)| j != k)
                        .flat_map(|(_, c)| c.iter().cloned())
                        .collect();
                    if self.keeps(&with(&rest)) {
                        groups = rest;
                        n = (n - 1).max(2);
                        reduced = true;
                        break;
                    }
                }
            }
            if !reduced {
                if n >= groups.len() {
                    break;
                }
                n = (2 * n).min(groups.len());
            }
        }
        groups
    }

    fn exhausted_checks(&self) -> bool {
        self.checks >= self.config.max_checks
    }

    /// Drops single operations while the rest is kept, until none can be dropped; true if
    /// every operation left was checked (no check ran out).
    fn fixpoint(&mut self, ops: &mut Vec<usize>) -> bool {
        self.exhausted = false;
        loop {
            let mut dropped = false;
            let mut k = 0;
            while k < ops.len() {
                let mut rest = ops.clone();
                rest.remove(k);
                if self.keeps(&rest) {
                    *ops = rest;
                    dropped = true;
                } else {
                    k += 1;
                }
            }
            if !dropped {
                return !self.exhausted;
            }
        }
    }

    /// Delta debugging of `ops` (in `fixed`'s company) by whole clients, then single
    /// operations.
    fn by_clients_then_ops(&mut self, fixed: &[usize], ops: &[usize]) -> Vec<usize> {
        let mut clients: Vec<ClientId> = ops.iter().map(|&i| self.history[i].client).collect();
        clients.sort_unstable();
        clients.dedup();
        let by_client: Vec<Vec<usize>> = clients
            .iter()
            .map(|&c| {
                ops.iter()
                    .copied()
                    .filter(|&i| self.history[i].client == c)
                    .collect()
            })
            .collect();
        let kept: Vec<usize> = self.ddmin(fixed, by_client).into_iter().flatten().collect();
        self.ddmin(fixed, kept.into_iter().map(|i| vec![i]).collect())
            .into_iter()
            .flatten()
            .collect()
    }
}

/// Explains why `history` is not linearizable, from the `result` of [`crate::check`] on it
/// with the same model; `None` if the result does not say it is not.
pub fn explain<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    result: &CheckResult,
    config: &ExplainConfig,
) -> Option<Explanation> {
    let part = result.failing_part()?;
    let (_, _, whole) = search_ops(model, history, &part.ops, part.steps.max(1), Relax::Nothing);
    let whole = whole?;
    let mut min = Minimizer {
        model,
        history,
        config,
        explainable: false,
        checks: 0,
        steps: 0,
        exhausted: false,
    };
    // 1. Nothing called after the stuck operation returned.
    let mut ops: Vec<usize> = part.ops.clone();
    if let Some(end) = history[whole.op.index].ret {
        let window: Vec<usize> = ops
            .iter()
            .copied()
            .filter(|&i| history[i].call <= end)
            .collect();
        if window.len() < ops.len() && min.keeps(&window) {
            ops = window;
        }
    }
    // 2. Reads.
    let (reads, writes): (Vec<usize>, Vec<usize>) = ops
        .iter()
        .partition(|&&i| model.is_read_only(&history[i].input, &history[i].output));
    let reads = min.by_clients_then_ops(&writes, &reads);
    // 3. The rest, keeping the values explainable if they are at all.
    min.explainable = config.explainable_values && min.run(&ops, Relax::Reads) == Some(false);
    let writes = min.by_clients_then_ops(&reads, &writes);
    // 4. To a fixpoint.
    let mut ops: Vec<usize> = reads.into_iter().chain(writes).collect();
    ops.sort_unstable();
    let verified_minimal = min.fixpoint(&mut ops);
    let (_, _, minimal_stuck) = search_ops(model, history, &ops, config.budget, Relax::Nothing);
    Some(Explanation {
        key: part.key.clone(),
        part_ops: part.ops.len(),
        part: whole,
        minimal: ops
            .iter()
            .map(|&i| OpView::new(model, history, i))
            .collect(),
        minimal_stuck,
        verified_minimal,
        explainable: min.explainable,
        checks: min.checks,
        steps: min.steps,
    })
}

impl Explanation {
    /// The minimal failing sub-history's operations, as history indices.
    pub fn minimal_indices(&self) -> Vec<usize> {
        self.minimal.iter().map(|op| op.index).collect()
    }

    /// A few lines a student can read.
    pub fn render(&self, unit: TimeUnit) -> String {
        let mut out = String::new();
        let key = self
            .key
            .as_deref()
            .map_or_else(String::new, |k| format!(" for key {k:?}"));
        let _ = writeln!(
            out,
            "not linearizable{key}: no order of its {} operations respects both real time and the model.",
            self.part_ops
        );
        let clients: BTreeSet<ClientId> = self.minimal.iter().map(|o| o.client).collect();
        let certainty = match (self.verified_minimal, self.explainable) {
            (true, true) => {
                "every value read is written by these; dropping any one makes the rest linearizable or \
                leaves a read no write explains"
            }
            (true, false) => "dropping any one of them makes the rest linearizable",
            (false, _) => "not shown to be minimal: the checks ran out of budget",
        };
        let _ = writeln!(
            out,
            "a minimal failing sub-history: {} operations from {} client{} ({certainty}):",
            self.minimal.len(),
            clients.len(),
            if clients.len() == 1 { "" } else { "s" },
        );
        let focus = self.minimal_stuck.as_ref().unwrap_or(&self.part);
        for o in &self.minimal {
            let mark = if o.index == focus.op.index {
                "   <- cannot be placed"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  client {:>3}  {:<26} {}{mark}",
                o.client,
                unit.interval(o.call, o.ret),
                o.text
            );
        }
        Self::render_stuck(&mut out, focus, "these", self.minimal.len(), unit);
        if self.minimal_stuck.is_some() && self.part_ops > self.minimal.len() {
            Self::render_stuck(
                &mut out,
                &self.part,
                "the whole part's",
                self.part_ops,
                unit,
            );
        }
        out
    }

    fn render_stuck(out: &mut String, stuck: &Stuck, whose: &str, total: usize, unit: TimeUnit) {
        let op = &stuck.op;
        let returned = match op.ret {
            Some(ret) => format!("returned at {}", unit.format(ret)),
            None => "never returned".to_owned(),
        };
        let _ = writeln!(
            out,
            "the longest order of {whose} operations found places {} of {total}, leaving the state {}; then client {}'s \
             {} (called at {}, {returned}) cannot come next{}.",
            stuck.prefix.len(),
            stuck.state,
            op.client,
            op.text,
            unit.format(op.call),
            stuck
                .allowed
                .as_ref()
                .map_or_else(String::new, |a| format!(": the model allows {a} there")),
        );
    }
}
