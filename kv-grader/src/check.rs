//! The linearizability check of a history (Go's `CheckPorcupine`, spec 6), with the
//! `linearize` crate and the lab's versioned key/value model, under a deterministic budget
//! of steps per key instead of Go's one second of wall clock: the same history gets the same
//! verdict on any machine, and a verdict of Unknown says so (and fails in strict mode)
//! instead of passing silently.
//!
//! When a history is not linearizable, the explanation names the key, the operation that
//! cannot be placed, the key's state after the longest order the search found, and a
//! minimal set of the operations pending then that still cannot be ordered from that state.

use std::fmt::Write as _;

use grader::harness::TestContext;
use linearize::models::{KeyMap, KvErr, Versioned, VersionedInput, VersionedKv, VersionedOutput};
use linearize::{CheckResult, Config, Model, Next, Operation, PartResult};

use crate::history::{Op, OpKind};

/// The step budget per key: [`linearize::Config::DEFAULT_BUDGET`] steps, about Go's one
/// second on the machines the crate was measured on.
pub const BUDGET: u64 = Config::DEFAULT_BUDGET;

/// Operations the explanation shrinks over at most (a greedy shrink re-checks once per
/// operation).
const SHRINK_LIMIT: usize = 64;

/// The check's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Some order of the operations explains every answer.
    Linearizable,
    /// None does: what cannot be explained.
    NotLinearizable {
        /// The key, the operation that cannot be placed, the minimal failing sub-history.
        explanation: String,
    },
    /// The search of some key ran out of its step budget (and none failed).
    Unknown {
        /// The budget.
        budget: u64,
    },
}

/// The verdict, a one-line summary of the search, and the history operations the
/// explanation names (for the timeline).
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The verdict.
    pub verdict: Verdict,
    /// Operations, keys, steps.
    pub summary: String,
    /// The ids ([`Op::id`]) of the operations in the minimal failing sub-history, the one
    /// that cannot be placed first.
    pub failing: Vec<u64>,
}

type History = Vec<Operation<VersionedInput, VersionedOutput>>;

fn err_of(s: &str) -> KvErr {
    match s {
        "OK" => KvErr::Ok,
        "ErrNoKey" => KvErr::NoKey,
        "ErrVersion" => KvErr::Version,
        "ErrMaybe" => KvErr::Maybe,
        "ErrWrongLeader" => KvErr::WrongLeader,
        "ErrWrongGroup" => KvErr::WrongGroup,
        _ => KvErr::Unknown,
    }
}

/// The history in the checker's terms.
fn to_history(ops: &[Op]) -> History {
    ops.iter()
        .map(|op| {
            let (input, output) = match op.kind {
                OpKind::Get => (
                    VersionedInput::get(&op.key),
                    VersionedOutput::get(&op.out_value, op.out_version, err_of(&op.err)),
                ),
                OpKind::Put => (
                    VersionedInput::put(&op.key, &op.value, op.version),
                    VersionedOutput::put(err_of(&op.err)),
                ),
            };
            Operation::new(op.client, input, output, op.call, op.ret)
        })
        .collect()
}

fn config(budget: u64) -> Config {
    Config {
        budget,
        partition: true,
        // The test's own thread only: its CPU time is the test's, and `--jobs` tests at
        // once do not multiply their threads.
        threads: 1,
        stop_at_first_failure: true,
    }
}

/// Checks `ops` (Go's `CheckOperationsVerbose(KvModel, ops, 1s)`).
pub fn check_history(ops: &[Op]) -> Outcome {
    let history = to_history(ops);
    let model = VersionedKv::new();
    let result = linearize::check(&model, &history, &config(BUDGET));
    let keys = result.parts.len();
    let summary = |what: &str| {
        format!(
            "{} operations on {keys} key(s): {what} ({} steps)",
            ops.len(),
            result.steps
        )
    };
    match result.verdict {
        linearize::Verdict::Linearizable => Outcome {
            verdict: Verdict::Linearizable,
            summary: summary("linearizable"),
            failing: Vec::new(),
        },
        linearize::Verdict::Unknown { part, steps } => {
            let key = result
                .parts
                .get(part)
                .and_then(|p| p.key.clone())
                .unwrap_or_default();
            Outcome {
                verdict: Verdict::Unknown { budget: BUDGET },
                summary: summary(&format!(
                    "unknown: the search of key '{key}' spent its budget of {BUDGET} steps \
                     ({steps} steps)"
                )),
                failing: Vec::new(),
            }
        }
        linearize::Verdict::NotLinearizable { part } => {
            let (explanation, failing) = match result.parts.get(part) {
                Some(p) => explain(ops, &history, &model, p),
                None => ("(the checker named no failing key)".to_string(), Vec::new()),
            };
            Outcome {
                verdict: Verdict::NotLinearizable { explanation },
                summary: summary("not linearizable"),
                failing,
            }
        }
    }
}

/// The versioned model from a given state instead of the empty store.
struct FromState {
    inner: VersionedKv,
    init: KeyMap<Versioned>,
}

impl Model for FromState {
    type Input = VersionedInput;
    type Output = VersionedOutput;
    type State = KeyMap<Versioned>;
    fn init(&self) -> Self::State {
        self.init.clone()
    }
    fn step(
        &self,
        state: &Self::State,
        input: &VersionedInput,
        output: &VersionedOutput,
    ) -> Next<Self::State> {
        self.inner.step(state, input, output)
    }
    fn is_read_only(&self, input: &VersionedInput, output: &VersionedOutput) -> bool {
        self.inner.is_read_only(input, output)
    }
}

/// The state after placing `order` from the empty store, if every step is legal and
/// deterministic (always so for the lab's model along an order the search found).
fn state_after(
    model: &VersionedKv,
    history: &History,
    order: &[usize],
) -> Option<KeyMap<Versioned>> {
    let mut state = model.init();
    for &i in order {
        let op = history.get(i)?;
        state = match model.step(&state, &op.input, &op.output) {
            Next::One(s) => s,
            _ => return None,
        };
    }
    Some(state)
}

/// Whether `ops` (history indices) cannot be linearized from `init`.
fn fails_from(init: &KeyMap<Versioned>, history: &History, ops: &[usize]) -> bool {
    let model = FromState {
        inner: VersionedKv::new(),
        init: init.clone(),
    };
    let sub: History = ops.iter().map(|&i| history[i].clone()).collect();
    let r: CheckResult = linearize::check(&model, &sub, &config(BUDGET));
    r.is_illegal()
}

/// The explanation of a failing part, and the ids of the operations it names.
fn explain(
    ops: &[Op],
    history: &History,
    model: &VersionedKv,
    part: &PartResult,
) -> (String, Vec<u64>) {
    let key = part.key.clone().unwrap_or_default();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "key '{key}': {} operations; the longest order the checker found places {} of them",
        part.ops.len(),
        part.order.len()
    );
    let Some(stuck) = part.stuck else {
        return (s, Vec::new());
    };
    let state = state_after(model, history, &part.order);
    let state_text = state
        .as_ref()
        .map_or_else(|| "?".to_string(), |st| model.describe_state(st));
    let _ = writeln!(s, "after them the key is {state_text} (value version)");
    let tail: Vec<usize> = part.order.iter().rev().take(3).rev().copied().collect();
    if !tail.is_empty() {
        let _ = writeln!(s, "the last operations placed:");
        for &i in &tail {
            let _ = writeln!(s, "  {}", line(&ops[i]));
        }
    }
    let _ = writeln!(s, "this operation had to come next and cannot:");
    let _ = writeln!(s, "  {}", line(&ops[stuck]));
    if let (Some(st), Some(op)) = (&state, history.get(stuck)) {
        if let Some(allowed) = model.describe_allowed(st, &op.input) {
            let _ = writeln!(s, "  (from that state the model allows {allowed})");
        }
    }
    // The operations not placed that were called before the stuck one returned: one of
    // them would have to go before it. The smallest set of them that still cannot be
    // ordered from the state above is the minimal failing sub-history.
    let placed: std::collections::BTreeSet<usize> = part.order.iter().copied().collect();
    let stuck_ret = ops[stuck].ret;
    let mut pending: Vec<usize> = part
        .ops
        .iter()
        .copied()
        .filter(|i| !placed.contains(i) && ops[*i].call <= stuck_ret)
        .collect();
    let minimal = match &state {
        Some(st) if pending.len() <= SHRINK_LIMIT && fails_from(st, history, &pending) => {
            let mut k = 0;
            while k < pending.len() {
                if pending[k] == stuck {
                    k += 1;
                    continue;
                }
                let mut fewer = pending.clone();
                fewer.remove(k);
                if fails_from(st, history, &fewer) {
                    pending = fewer;
                } else {
                    k += 1;
                }
            }
            true
        }
        _ => false,
    };
    if minimal {
        let _ = writeln!(
            s,
            "minimal failing sub-history (from that state, these {} operation(s) have no \
             valid order):",
            pending.len()
        );
    } else {
        let _ = writeln!(s, "operations pending at that point ({}):", pending.len());
    }
    for &i in pending.iter().take(SHRINK_LIMIT) {
        let _ = writeln!(s, "  {}", line(&ops[i]));
    }
    let mut failing = vec![ops[stuck].id];
    failing.extend(pending.iter().filter(|&&i| i != stuck).map(|&i| ops[i].id));
    (s.trim_end().to_string(), failing)
}

/// One operation for the explanation: id, client, times, what it did.
fn line(op: &Op) -> String {
    format!(
        "#{} client {}: {}   [{:.3} s .. {:.3} s]",
        op.id,
        op.client,
        op.describe(),
        op.call_us as f64 / 1e6,
        op.ret_us as f64 / 1e6
    )
}

/// Whether a verdict of Unknown fails the test (strict mode, the grade command's).
pub fn strict(t: &TestContext) -> bool {
    t.strict()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::History as Log;

    #[tokio::test(start_paused = true)]
    async fn a_stale_read_is_explained() {
        let h = Log::new(tokio::time::Instant::now());
        let a = h.call();
        h.put(1, "k", "a", 0, a, &Ok(()));
        let b = h.call();
        h.put(1, "k", "b", 1, b, &Ok(()));
        let c = h.call();
        h.get(2, "k", c, &Ok(("a".into(), 1)));
        let ops = h.read();
        let out = check_history(&ops);
        let Verdict::NotLinearizable { explanation } = &out.verdict else {
            panic!("{:?}", out.verdict);
        };
        assert!(explanation.contains("key 'k'"), "{explanation}");
        assert!(
            explanation.contains("#2 client 2: get('k') -> ('a', '1', 'OK')"),
            "{explanation}"
        );
        assert!(explanation.contains("{b 2}"), "{explanation}");
        assert!(
            explanation.contains("minimal failing sub-history"),
            "{explanation}"
        );
        assert_eq!(out.failing, vec![2]);
        assert!(check_history(&ops[..2]).verdict == Verdict::Linearizable);
    }
}
