//! The Porcupine key/value corpus (tests/data, MIT licence in tests/data/LICENSE.md): every
//! history gets its known verdict, split by key and whole, serially and in parallel with the
//! same counts.

use linearize::edn::parse_kv_history;
use linearize::models::{Kv, KvInput, KvOutput};
use linearize::{CheckResult, Config, NotPassed, Operation, PartOutcome, Verdict, check};

fn corpus(name: &str) -> Vec<Operation<KvInput, KvOutput>> {
    let path = format!("{}/tests/data/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse_kv_history(&source).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn run(name: &str, partition: bool, threads: usize) -> CheckResult {
    let config = Config {
        partition,
        threads,
        ..Config::default()
    };
    check(&Kv, &corpus(name), &config)
}

#[test]
fn operation_counts() {
    for (name, ops) in [
        ("c01-ok", 58),
        ("c01-bad", 38),
        ("c10-ok", 337),
        ("c10-bad", 405),
        ("c50-ok", 1712),
        ("c50-bad", 2024),
    ] {
        let history = corpus(name);
        assert_eq!(history.len(), ops, "{name}");
        assert!(
            history.iter().all(|op| op.ret.is_some()),
            "{name}: every call returned"
        );
    }
}

#[test]
fn split_by_key() {
    for name in ["c01-ok", "c10-ok", "c50-ok"] {
        let result = run(name, true, 1);
        assert_eq!(result.verdict, Verdict::Linearizable, "{name}");
        assert_eq!(result.parts.len(), 10, "{name}: one part per key");
        for part in &result.parts {
            assert_eq!(part.outcome, PartOutcome::Linearizable);
            assert_eq!(
                part.order.len(),
                part.ops.len(),
                "{name}: the order found places every operation"
            );
        }
    }
    for name in ["c01-bad", "c10-bad", "c50-bad"] {
        let result = run(name, true, 1);
        assert!(result.is_illegal(), "{name}: {:?}", result.verdict);
        let failing = result.failing_part().expect("a failing part");
        assert!(failing.order.len() < failing.ops.len());
        assert!(
            failing.stuck.is_some(),
            "{name}: the operation that cannot be placed"
        );
    }
}

#[test]
fn whole_histories() {
    // c50 checked whole is far beyond any budget (Porcupine's own tests skip it too).
    for (name, linearizable) in [
        ("c01-ok", true),
        ("c01-bad", false),
        ("c10-ok", true),
        ("c10-bad", false),
    ] {
        let result = run(name, false, 1);
        assert_eq!(result.parts.len(), 1);
        assert_eq!(
            result.is_linearizable(),
            linearizable,
            "{name}: {:?}",
            result.verdict
        );
        assert_eq!(
            result.is_illegal(),
            !linearizable,
            "{name}: {:?}",
            result.verdict
        );
    }
}

#[test]
fn parallel_gives_the_serial_result() {
    for name in ["c10-ok", "c10-bad", "c50-ok", "c50-bad"] {
        let serial = run(name, true, 1);
        let parallel = run(name, true, 4);
        assert_eq!(serial, parallel, "{name}");
        assert!(serial.steps > 0);
    }
}

#[test]
fn a_small_budget_gives_unknown_with_its_part_and_steps() {
    let config = Config {
        budget: 100,
        partition: false,
        threads: 1,
        stop_at_first_failure: true,
    };
    let result = check(&Kv, &corpus("c10-ok"), &config);
    assert_eq!(
        result.verdict,
        Verdict::Unknown {
            part: 0,
            steps: 100,
            budget: 100
        }
    );
    assert_eq!(result.parts[0].outcome, PartOutcome::OutOfBudget);
    // Neither a pass nor a failure, and the strict reading fails on it.
    assert!(!result.is_linearizable() && !result.is_illegal());
    assert_eq!(
        result.strict(),
        Err(NotPassed::Unknown {
            part: 0,
            steps: 100,
            budget: 100
        })
    );
}
