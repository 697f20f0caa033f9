//! Explanations of the corpus's bad histories: the minimal failing sub-history fails, and
//! dropping any one of its operations makes it linearizable; the rendering is pinned for one.

use linearize::edn::parse_kv_history;
use linearize::models::{Kv, KvInput, KvOutput};
use linearize::{Config, ExplainConfig, Operation, TimeUnit, check, explain};

fn corpus(name: &str) -> Vec<Operation<KvInput, KvOutput>> {
    let path = format!("{}/tests/data/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse_kv_history(&source).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn whole(config: &Config) -> Config {
    Config {
        partition: false,
        ..config.clone()
    }
}

/// Whether `history` is linearizable once real time is ignored for its reads.
fn explainable(history: &[Operation<KvInput, KvOutput>]) -> bool {
    let timeless: Vec<_> = history
        .iter()
        .map(|op| match op.input {
            KvInput::Get { .. } => Operation {
                call: 0,
                ret: None,
                ..op.clone()
            },
            _ => op.clone(),
        })
        .collect();
    check(
        &Kv,
        &timeless,
        &Config {
            partition: false,
            ..Config::default()
        },
    )
    .is_linearizable()
}

#[test]
fn minimal_sub_histories_of_the_bad_corpus() {
    let config = Config::default();
    // Key "3" of c50-bad on its own (key "2" fails too, but showing its values explainable
    // takes some 16 million steps with real time ignored for its reads, far beyond the
    // default budget of a check: see the next test).
    let cases = [
        ("c01-bad", corpus("c01-bad")),
        ("c10-bad", corpus("c10-bad")),
        ("c50-bad key 3", c50_bad_key("3")),
    ];
    for (name, history) in cases {
        let result = check(&Kv, &history, &config);
        // Plain minimality: dropping any one operation makes it pass.
        let plain = ExplainConfig {
            explainable_values: false,
            ..ExplainConfig::default()
        };
        let explanation = explain(&Kv, &history, &result, &plain).expect("an explanation");
        assert!(
            explanation.verified_minimal && !explanation.explainable,
            "{name}"
        );
        let sub: Vec<_> = explanation
            .minimal_indices()
            .iter()
            .map(|&i| history[i].clone())
            .collect();
        assert!(
            check(&Kv, &sub, &whole(&config)).is_illegal(),
            "{name}: the minimal sub-history fails"
        );
        for drop in 0..sub.len() {
            let mut rest = sub.clone();
            rest.remove(drop);
            assert!(
                check(&Kv, &rest, &whole(&config)).is_linearizable(),
                "{name}: without operation {drop} it passes"
            );
        }

        // The default: values kept explainable.
        let explanation =
            explain(&Kv, &history, &result, &ExplainConfig::default()).expect("an explanation");
        assert!(
            explanation.verified_minimal && explanation.explainable,
            "{name}: {} checks, {} steps, {} kept, explainable {}",
            explanation.checks,
            explanation.steps,
            explanation.minimal.len(),
            explanation.explainable
        );
        let minimal = explanation.minimal_indices();
        assert!(!minimal.is_empty() && minimal.len() <= explanation.part_ops);
        let sub: Vec<_> = minimal.iter().map(|&i| history[i].clone()).collect();
        assert!(
            check(&Kv, &sub, &whole(&config)).is_illegal(),
            "{name}: the minimal sub-history fails"
        );
        assert!(explainable(&sub), "{name}: its values are explainable");
        for drop in 0..sub.len() {
            let mut rest = sub.clone();
            rest.remove(drop);
            let passes = check(&Kv, &rest, &whole(&config)).is_linearizable();
            assert!(
                passes || !explainable(&rest),
                "{name}: without operation {drop} it passes or is unexplainable"
            );
        }
        let stuck = explanation
            .minimal_stuck
            .as_ref()
            .expect("where the minimal sub-history gets stuck");
        assert!(minimal.contains(&stuck.op.index));
        let text = explanation.render(TimeUnit::Ticks);
        println!("{name}:\n{text}");
        assert!(text.contains("cannot be placed"), "{text}");
    }
}

#[test]
fn no_explanation_for_a_linearizable_history() {
    let history = corpus("c01-ok");
    let result = check(&Kv, &history, &Config::default());
    assert!(explain(&Kv, &history, &result, &ExplainConfig::default()).is_none());
}

/// The operations of one key of c50-bad.
fn c50_bad_key(key: &str) -> Vec<Operation<KvInput, KvOutput>> {
    corpus("c50-bad")
        .into_iter()
        .filter(|op| op.input.key().as_str() == key)
        .collect()
}

#[test]
fn a_part_not_shown_explainable_keeps_to_plain_minimality() {
    let history = c50_bad_key("2");
    let result = check(&Kv, &history, &Config::default());
    assert!(result.is_illegal());
    let explanation =
        explain(&Kv, &history, &result, &ExplainConfig::default()).expect("an explanation");
    assert!(explanation.verified_minimal && !explanation.explainable);
    let sub: Vec<_> = explanation
        .minimal_indices()
        .iter()
        .map(|&i| history[i].clone())
        .collect();
    assert!(check(&Kv, &sub, &whole(&Config::default())).is_illegal());
    for drop in 0..sub.len() {
        let mut rest = sub.clone();
        rest.remove(drop);
        assert!(check(&Kv, &rest, &whole(&Config::default())).is_linearizable());
    }
}
