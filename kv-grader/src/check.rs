//! The linearizability check of a history (Go's `CheckPorcupine`, spec 6), with the
//! `linearize` crate and the lab's versioned key/value model, under a deterministic budget
//! of steps per key instead of Go's one second of wall clock: the same history gets the same
//! verdict on any machine, and a verdict of Unknown says so (and fails in strict mode)
//! instead of passing silently.
//!
//! When a history is not linearizable, the explanation (from [`linearize::explain`]) names
//! the key, a minimal failing sub-history (every value read in it written by what it
//! shows), the operation that cannot be placed, the key's state then and what the model
//! would have allowed.

use std::fmt::Write as _;

use grader::harness::TestContext;
use linearize::models::{KvErr, VersionedInput, VersionedKv, VersionedOutput};
use linearize::{CheckResult, Config, ExplainConfig, Operation};

use crate::history::{Op, OpKind};

/// The step budget per key: [`linearize::Config::DEFAULT_BUDGET`] steps, about Go's one
/// second on the machines the crate was measured on.
pub const BUDGET: u64 = Config::DEFAULT_BUDGET;

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

/// Operations of the minimal failing sub-history the explanation lists at most (the events
/// of the bundle name them all).
const SHOWN: usize = 14;
/// Of those, the first ones of the sub-history (the rest are its last ones).
const HEAD: usize = 3;

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
        linearize::Verdict::Unknown { part, steps, .. } => {
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
        linearize::Verdict::NotLinearizable { .. } => {
            let (explanation, failing) = explain(ops, &history, &model, &result);
            Outcome {
                verdict: Verdict::NotLinearizable { explanation },
                summary: summary("not linearizable"),
                failing,
            }
        }
    }
}

/// The explanation of a failing history, from [`linearize::explain`] (its minimal failing
/// sub-history keeps every value read explainable by the writes shown), written with the
/// history's own ids, clients and times; and the ids of the operations it names, the one
/// that cannot be placed first.
fn explain(
    ops: &[Op],
    history: &History,
    model: &VersionedKv,
    result: &CheckResult,
) -> (String, Vec<u64>) {
    let Some(e) = linearize::explain(model, history, result, &ExplainConfig::default()) else {
        return ("(the checker named no failing key)".to_string(), Vec::new());
    };
    let mut s = String::new();
    let key = e.key.as_deref().unwrap_or("");
    let _ = writeln!(
        s,
        "key '{key}': no order of its {} operations respects both real time and the model",
        e.part_ops
    );
    let clients: std::collections::BTreeSet<i64> = e.minimal.iter().map(|o| o.client).collect();
    let certainty = match (e.verified_minimal, e.explainable) {
        (true, true) => {
            "every value read is written by these; dropping any one makes the rest linearizable or leaves a read no write explains"
        }
        (true, false) => "dropping any one of them makes the rest linearizable",
        (false, _) => "not shown to be minimal: the checks ran out of budget",
    };
    let _ = writeln!(
        s,
        "minimal failing sub-history: {} operation(s) from {} client(s) ({certainty}):",
        e.minimal.len(),
        clients.len()
    );
    let focus = e.minimal_stuck.as_ref().unwrap_or(&e.part);
    // A long one (a version chain: each Put's version needs every earlier Put) is shown by
    // its ends: the first operations and the last ones, next to the one that fails.
    let n = e.minimal.len();
    for (k, o) in e.minimal.iter().enumerate() {
        if n > SHOWN && k == HEAD {
            let _ = writeln!(s, "  ... {} more ...", n - SHOWN);
        }
        if n > SHOWN && k >= HEAD && k < n - (SHOWN - HEAD) {
            continue;
        }
        let mark = if o.index == focus.op.index {
            "   <- cannot be placed"
        } else {
            ""
        };
        let _ = writeln!(s, "  {}{mark}", line(&ops[o.index]));
    }
    let _ = writeln!(
        s,
        "the longest order of these found places {} of {}, leaving the key at {} (value \
         version); then #{} cannot come next{}",
        focus.prefix.len(),
        e.minimal.len(),
        focus.state,
        ops[focus.op.index].id,
        focus
            .allowed
            .as_ref()
            .map_or_else(String::new, |a| format!(": the model allows {a} there"))
    );
    let mut failing = vec![ops[focus.op.index].id];
    failing.extend(
        e.minimal
            .iter()
            .filter(|o| o.index != focus.op.index)
            .map(|o| ops[o.index].id),
    );
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
            explanation.contains("#2 client 2: get('k') -> ('a', '1', 'OK')   [0.000 s .. 0.000 s]   <- cannot be placed"),
            "{explanation}"
        );
        assert!(
            explanation.contains("minimal failing sub-history: 3 operation(s)"),
            "{explanation}"
        );
        // The one that cannot be placed first, then the writes that explain its value.
        assert_eq!(out.failing, vec![2, 0, 1]);
        assert!(check_history(&ops[..2]).verdict == Verdict::Linearizable);
    }
}
