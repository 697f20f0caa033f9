//! The checker against a brute-force one on thousands of small random histories (seeded, so
//! every run checks the same ones), for every built-in model, split by key and whole; and
//! histories made from a real sequential execution with random overlaps, which must pass,
//! and mutated, which must fail.

use linearize::models::{
    Kv, KvErr, KvInput, KvOutput, Register, RegisterOp, VersionedInput, VersionedKv,
    VersionedOutput,
};
use linearize::{Config, ExplainConfig, Model, Next, Operation, Verdict, check, explain};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Whether some order of `history` respects real time and the model: every order tried,
/// nothing cached, nothing pruned.
fn brute_force<M: Model>(model: &M, history: &[Operation<M::Input, M::Output>]) -> bool {
    fn go<M: Model>(
        model: &M,
        history: &[Operation<M::Input, M::Output>],
        placed: &mut Vec<bool>,
        state: &M::State,
    ) -> bool {
        if placed.iter().all(|&p| p) {
            return true;
        }
        for x in 0..history.len() {
            if placed[x] {
                continue;
            }
            // x may come next unless a remaining operation returned before x was called.
            let blocked = (0..history.len())
                .any(|y| !placed[y] && y != x && history[y].precedes(&history[x]));
            if blocked {
                continue;
            }
            let nexts = match model.step(state, &history[x].input, &history[x].output) {
                Next::Illegal => Vec::new(),
                Next::One(s) => vec![s],
                Next::Many(v) => v,
            };
            for next in nexts {
                placed[x] = true;
                let ok = go(model, history, placed, &next);
                placed[x] = false;
                if ok {
                    return true;
                }
            }
        }
        false
    }
    go(
        model,
        history,
        &mut vec![false; history.len()],
        &model.init(),
    )
}

/// Random times: calls in 0..20, durations in 0..8, a tenth never returning.
fn times(rng: &mut ChaCha8Rng) -> (u64, Option<u64>) {
    let call = rng.random_range(0..20);
    let ret = (!rng.random_bool(0.1)).then(|| call + rng.random_range(0..8));
    (call, ret)
}

fn random_kv(rng: &mut ChaCha8Rng) -> Vec<Operation<KvInput, KvOutput>> {
    let n = rng.random_range(1..=7);
    (0..n)
        .map(|_| {
            let key = ["a", "b"][rng.random_range(0..2)];
            let value = ["1", "2"][rng.random_range(0..2)];
            let (call, ret) = times(rng);
            let (input, output) = match rng.random_range(0..4) {
                0 => (KvInput::put(key, value), KvOutput::Done),
                1 => (KvInput::append(key, value), KvOutput::Done),
                _ if ret.is_none() => (KvInput::get(key), KvOutput::Unknown),
                _ => (
                    KvInput::get(key),
                    KvOutput::value(["", "1", "2", "12", "21", "11"][rng.random_range(0..6)]),
                ),
            };
            Operation {
                client: rng.random_range(0..3),
                input,
                output,
                call,
                ret,
            }
        })
        .collect()
}

fn random_versioned(rng: &mut ChaCha8Rng) -> Vec<Operation<VersionedInput, VersionedOutput>> {
    let n = rng.random_range(1..=7);
    (0..n)
        .map(|_| {
            let key = ["a", "b"][rng.random_range(0..2)];
            let (call, ret) = times(rng);
            let (input, output) = if rng.random_bool(0.5) {
                let err = [KvErr::Ok, KvErr::Version, KvErr::Maybe][rng.random_range(0..3)];
                let value = ["x", "y"][rng.random_range(0..2)];
                let output = if ret.is_some() {
                    VersionedOutput::put(err)
                } else {
                    VersionedOutput::unknown()
                };
                (
                    VersionedInput::put(key, value, rng.random_range(0..3)),
                    output,
                )
            } else if ret.is_none() {
                (VersionedInput::get(key), VersionedOutput::unknown())
            } else {
                let value = ["", "x", "y"][rng.random_range(0..3)];
                let err = if value.is_empty() {
                    KvErr::NoKey
                } else {
                    KvErr::Ok
                };
                (
                    VersionedInput::get(key),
                    VersionedOutput::get(value, rng.random_range(0..3), err),
                )
            };
            Operation {
                client: rng.random_range(0..3),
                input,
                output,
                call,
                ret,
            }
        })
        .collect()
}

fn random_register(rng: &mut ChaCha8Rng) -> Vec<Operation<RegisterOp<u8>, Option<u8>>> {
    let n = rng.random_range(1..=7);
    (0..n)
        .map(|_| {
            let (call, ret) = times(rng);
            let (input, output) = if rng.random_bool(0.4) {
                (RegisterOp::Write(rng.random_range(0..3)), None)
            } else {
                (RegisterOp::Read, ret.map(|_| rng.random_range(0..3)))
            };
            Operation {
                client: rng.random_range(0..3),
                input,
                output,
                call,
                ret,
            }
        })
        .collect()
}

/// Checks `count` random histories of `make` both ways against the brute force; returns how
/// many were linearizable.
fn against_brute_force<M: Model>(
    model: &M,
    seed: u64,
    count: usize,
    make: impl Fn(&mut ChaCha8Rng) -> Vec<Operation<M::Input, M::Output>>,
) -> usize {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut linearizable = 0;
    for i in 0..count {
        let history = make(&mut rng);
        let expected = brute_force(model, &history);
        linearizable += usize::from(expected);
        for partition in [true, false] {
            for stop_at_first_failure in [true, false] {
                let config = Config {
                    partition,
                    threads: 1,
                    stop_at_first_failure,
                    ..Config::default()
                };
                let result = check(model, &history, &config);
                assert_eq!(
                    result.is_linearizable(),
                    expected,
                    "history {i} (partition {partition}): {history:#?}"
                );
                assert_eq!(
                    result.is_illegal(),
                    !expected,
                    "history {i}: {:?}",
                    result.verdict
                );
            }
        }
    }
    linearizable
}

#[test]
fn kv_agrees_with_brute_force() {
    let ok = against_brute_force(&Kv, 1, 3000, random_kv);
    assert!(
        (300..2700).contains(&ok),
        "both verdicts are exercised: {ok} of 3000 linearizable"
    );
}

#[test]
fn versioned_agrees_with_brute_force() {
    let ok = against_brute_force(&VersionedKv::new(), 2, 3000, random_versioned);
    assert!(
        (300..2700).contains(&ok),
        "both verdicts are exercised: {ok} of 3000 linearizable"
    );
}

#[test]
fn versioned_with_two_next_states_agrees_with_brute_force() {
    let model = VersionedKv {
        maybe_unapplied: true,
        strict_get: true,
    };
    let ok = against_brute_force(&model, 3, 3000, random_versioned);
    assert!(
        (300..2700).contains(&ok),
        "both verdicts are exercised: {ok} of 3000 linearizable"
    );
}

#[test]
fn register_agrees_with_brute_force() {
    let ok = against_brute_force(&Register::new(0u8), 4, 3000, random_register);
    assert!(
        (300..2700).contains(&ok),
        "both verdicts are exercised: {ok} of 3000 linearizable"
    );
}

/// `n` operations that really ran one at a time in some order, each at a distinct point
/// inside its interval (intervals overlap at random); `run(i, rng)` gives the i-th
/// operation of that order and what it answered.
fn executed<I, O>(
    rng: &mut ChaCha8Rng,
    n: usize,
    mut run: impl FnMut(&mut ChaCha8Rng) -> (I, O),
) -> Vec<Operation<I, O>> {
    (0..n)
        .map(|i| {
            let point = 10 * i as u64 + 5;
            let call = point.saturating_sub(rng.random_range(0..40));
            let ret = point + rng.random_range(0..40);
            let (input, output) = run(rng);
            Operation {
                client: rng.random_range(0..8),
                input,
                output,
                call,
                ret: Some(ret),
            }
        })
        .collect()
}

#[test]
fn real_executions_pass_and_mutated_ones_fail() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for round in 0..300 {
        // The 6.824 store: appends of unique values, gets reading the value.
        let mut state = std::collections::BTreeMap::<String, String>::new();
        let mut next_value = 0;
        let mut history = executed(&mut rng, 40, |rng| {
            let key = ["a", "b", "c"][rng.random_range(0..3)].to_owned();
            if rng.random_bool(0.5) {
                next_value += 1;
                let value = format!("x{next_value}y");
                state.entry(key.clone()).or_default().push_str(&value);
                (KvInput::append(&key, &value), KvOutput::Done)
            } else {
                let value = state.get(&key).cloned().unwrap_or_default();
                (KvInput::get(&key), KvOutput::value(&value))
            }
        });
        let config = Config::default();
        assert!(
            check(&Kv, &history, &config).is_linearizable(),
            "round {round}"
        );
        assert!(
            check(
                &Kv,
                &history,
                &Config {
                    partition: false,
                    ..config.clone()
                }
            )
            .is_linearizable()
        );
        // A get that returns what was never written cannot be placed anywhere.
        if let Some(op) = history
            .iter_mut()
            .find(|op| matches!(op.input, KvInput::Get { .. }))
        {
            op.output = KvOutput::value("never written");
            assert!(check(&Kv, &history, &config).is_illegal(), "round {round}");
        }

        // Lab 4's store: puts at the version read, gets.
        let mut versions = std::collections::BTreeMap::<String, (String, u64)>::new();
        let mut history = executed(&mut rng, 40, |rng| {
            let key = ["a", "b"][rng.random_range(0..2)].to_owned();
            let (value, version) = versions.get(&key).cloned().unwrap_or_default();
            if rng.random_bool(0.5) {
                let guess = version.saturating_sub(rng.random_range(0..2));
                let new = format!("v{}", rng.random_range(0..1000));
                let err = if guess == version {
                    versions.insert(key.clone(), (new.clone(), version + 1));
                    if rng.random_bool(0.2) {
                        KvErr::Maybe
                    } else {
                        KvErr::Ok
                    }
                } else {
                    KvErr::Version
                };
                (
                    VersionedInput::put(&key, &new, guess),
                    VersionedOutput::put(err),
                )
            } else {
                let err = if version == 0 {
                    KvErr::NoKey
                } else {
                    KvErr::Ok
                };
                (
                    VersionedInput::get(&key),
                    VersionedOutput::get(&value, version, err),
                )
            }
        });
        let strict = VersionedKv {
            strict_get: true,
            ..VersionedKv::new()
        };
        assert!(
            check(&strict, &history, &config).is_linearizable(),
            "round {round}"
        );
        assert!(
            check(&VersionedKv::new(), &history, &config).is_linearizable(),
            "round {round}"
        );
        // A put that claims success at a version the key never had.
        if let Some(op) = history
            .iter_mut()
            .find(|op| matches!(op.input, VersionedInput::Put { .. }))
        {
            let key = op.input.key().clone();
            op.input = VersionedInput::put(key.as_str(), "late", 1000);
            op.output = VersionedOutput::put(KvErr::Ok);
            let result = check(&VersionedKv::new(), &history, &config);
            assert!(
                matches!(result.verdict, Verdict::NotLinearizable { .. }),
                "round {round}"
            );
        }
    }
}

/// `history` with real time ignored for its reads.
fn reads_timeless<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
) -> Vec<Operation<M::Input, M::Output>>
where
    M::Input: Clone,
    M::Output: Clone,
{
    history
        .iter()
        .map(|op| {
            if model.is_read_only(&op.input, &op.output) {
                Operation {
                    call: 0,
                    ret: None,
                    ..op.clone()
                }
            } else {
                op.clone()
            }
        })
        .collect()
}

/// For every failing random history: the minimal sub-history fails, and dropping any one of
/// its operations makes it linearizable (plain) or linearizable or unexplainable (default),
/// all by the brute force.
fn minimal_sub_histories<M: Model>(
    model: &M,
    seed: u64,
    count: usize,
    make: impl Fn(&mut ChaCha8Rng) -> Vec<Operation<M::Input, M::Output>>,
) -> usize
where
    M::Input: Clone,
    M::Output: Clone,
{
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut failing = 0;
    for i in 0..count {
        let history = make(&mut rng);
        let result = check(model, &history, &Config::default());
        if !result.is_illegal() {
            continue;
        }
        failing += 1;
        for explainable_values in [false, true] {
            let config = ExplainConfig {
                explainable_values,
                ..ExplainConfig::default()
            };
            let explanation = explain(model, &history, &result, &config).expect("an explanation");
            assert!(explanation.verified_minimal, "history {i}");
            let sub: Vec<_> = explanation
                .minimal_indices()
                .iter()
                .map(|&k| history[k].clone())
                .collect();
            assert!(
                !brute_force(model, &sub),
                "history {i}: the minimal sub-history fails"
            );
            for drop in 0..sub.len() {
                let mut rest = sub.clone();
                rest.remove(drop);
                let passes = brute_force(model, &rest);
                if explanation.explainable {
                    assert!(
                        passes || !brute_force(model, &reads_timeless(model, &rest)),
                        "history {i}, drop {drop}"
                    );
                } else {
                    assert!(passes, "history {i}: without operation {drop} it passes");
                }
            }
        }
    }
    failing
}

#[test]
fn minimal_sub_histories_are_minimal() {
    assert!(minimal_sub_histories(&Kv, 6, 1500, random_kv) > 300);
    assert!(minimal_sub_histories(&VersionedKv::new(), 7, 1500, random_versioned) > 300);
}

/// Key/value histories built to test the "stays refused" pruning ([`Model::stays_refused`]):
/// values made of a few letters, so that one is often a prefix of another; Puts of prefixes
/// (and of "", the missing key) that can make a refused Get legal again; long-pending writes.
fn random_prefix_kv(rng: &mut ChaCha8Rng) -> Vec<Operation<KvInput, KvOutput>> {
    let n = rng.random_range(2..=8);
    (0..n)
        .map(|_| {
            let key = ["a", "a", "b"][rng.random_range(0..3)];
            let call = rng.random_range(0..12);
            let ret = (!rng.random_bool(0.15)).then(|| call + rng.random_range(0..14));
            let (input, output) = match rng.random_range(0..6) {
                0 => (
                    KvInput::put(key, ["", "x", "xy", "y"][rng.random_range(0..4)]),
                    KvOutput::Done,
                ),
                1 | 2 => (
                    KvInput::append(key, ["x", "y", "yx"][rng.random_range(0..3)]),
                    KvOutput::Done,
                ),
                _ if ret.is_none() => (KvInput::get(key), KvOutput::Unknown),
                _ => (
                    KvInput::get(key),
                    KvOutput::value(
                        ["", "x", "y", "xy", "yx", "xyx", "xxy", "yxy"][rng.random_range(0..8)],
                    ),
                ),
            };
            Operation {
                client: rng.random_range(0..4),
                input,
                output,
                call,
                ret,
            }
        })
        .collect()
}

#[test]
fn kv_with_prefixes_agrees_with_brute_force() {
    let ok = against_brute_force(&Kv, 11, 3000, random_prefix_kv);
    assert!(
        (300..2700).contains(&ok),
        "both verdicts are exercised: {ok} of 3000 linearizable"
    );
}

/// Histories made to catch a pruning that forgets what can make a refused Get legal again.
#[test]
fn stays_refused_respects_what_can_reenable_a_read() {
    let op = |input, output, call, ret| Operation {
        client: 0,
        input,
        output,
        call,
        ret: Some(ret),
    };
    let whole = Config {
        partition: false,
        threads: 1,
        ..Config::default()
    };
    // After append "y" the Get of "xy" is refused and "y" is no prefix of "xy"; only the
    // pending Put of "x" (then the pending append) makes it legal.
    let with = |put: KvInput| {
        vec![
            op(KvInput::append("k", "y"), KvOutput::Done, 0, 1),
            op(KvInput::get("k"), KvOutput::value("xy"), 2, 10),
            op(put, KvOutput::Done, 2, 10),
            op(KvInput::append("k", "y"), KvOutput::Done, 2, 10),
        ]
    };
    for (put, linearizable) in [
        (KvInput::put("k", "x"), true),
        // The missing key: a prefix of everything.
        (KvInput::put("k", ""), false),
        (KvInput::put("k", "z"), false),
        // Another key's Put changes nothing here.
        (KvInput::put("j", "x"), false),
    ] {
        let history = with(put.clone());
        assert_eq!(brute_force(&Kv, &history), linearizable, "{put:?}");
        for config in [Config::default(), whole.clone()] {
            assert_eq!(
                check(&Kv, &history, &config).is_linearizable(),
                linearizable,
                "{put:?}"
            );
        }
    }
    // A Put of "" re-enables a Get of "xy" through two appends.
    let history = vec![
        op(KvInput::append("k", "y"), KvOutput::Done, 0, 1),
        op(KvInput::get("k"), KvOutput::value("xy"), 2, 10),
        op(KvInput::put("k", ""), KvOutput::Done, 2, 10),
        op(KvInput::append("k", "x"), KvOutput::Done, 2, 10),
        op(KvInput::append("k", "y"), KvOutput::Done, 2, 10),
    ];
    assert!(brute_force(&Kv, &history));
    assert!(check(&Kv, &history, &whole).is_linearizable());
    // A Get that never returned is legal anywhere: never pruned.
    let mut history = with(KvInput::put("k", "z"));
    history[1].output = KvOutput::Unknown;
    history[1].ret = None;
    assert!(check(&Kv, &history, &whole).is_linearizable());
}

#[test]
fn versioned_other_readings_agree_with_brute_force() {
    for (seed, maybe_unapplied, strict_get) in [(12, false, true), (13, true, false)] {
        let model = VersionedKv {
            maybe_unapplied,
            strict_get,
        };
        let ok = against_brute_force(&model, seed, 2000, random_versioned);
        assert!(
            (200..1800).contains(&ok),
            "both verdicts are exercised: {ok} of 2000 linearizable"
        );
    }
}

/// Lab 4's store: a refused Get stays refused until a Put of its value (only the value
/// compared), or for good once the version has reached its own (`strict_get`).
#[test]
fn versioned_stays_refused_respects_what_can_reenable_a_read() {
    let op = |input, output, call, ret| Operation {
        client: 0,
        input,
        output,
        call,
        ret: Some(ret),
    };
    let ok = VersionedOutput::put(KvErr::Ok);
    // "y" is installed first; the Get of "x" needs the pending Put of "x" at version 1.
    let with = |put: VersionedInput| {
        vec![
            op(VersionedInput::put("k", "y", 0), ok.clone(), 0, 1),
            op(
                VersionedInput::get("k"),
                VersionedOutput::get("x", 2, KvErr::Ok),
                2,
                10,
            ),
            op(put, ok.clone(), 2, 10),
        ]
    };
    for (put, linearizable) in [
        (VersionedInput::put("k", "x", 1), true),
        (VersionedInput::put("k", "z", 1), false),
        (VersionedInput::put("j", "x", 0), false),
    ] {
        let history = with(put.clone());
        for strict_get in [false, true] {
            let model = VersionedKv {
                strict_get,
                ..VersionedKv::new()
            };
            assert_eq!(brute_force(&model, &history), linearizable, "{put:?}");
            for partition in [true, false] {
                let config = Config {
                    partition,
                    threads: 1,
                    ..Config::default()
                };
                assert_eq!(
                    check(&model, &history, &config).is_linearizable(),
                    linearizable,
                    "{put:?} strict {strict_get} partition {partition}"
                );
            }
        }
    }
    // Strict: a Get of version 1 after the key reached version 2 is refused for good, while
    // the value compared alone can come back.
    let history = vec![
        op(VersionedInput::put("k", "x", 0), ok.clone(), 0, 1),
        op(VersionedInput::put("k", "y", 1), ok.clone(), 2, 3),
        op(
            VersionedInput::get("k"),
            VersionedOutput::get("x", 1, KvErr::Ok),
            4,
            10,
        ),
        op(VersionedInput::put("k", "x", 2), ok.clone(), 4, 10),
    ];
    for (strict_get, linearizable) in [(false, true), (true, false)] {
        let model = VersionedKv {
            strict_get,
            ..VersionedKv::new()
        };
        assert_eq!(brute_force(&model, &history), linearizable);
        assert_eq!(
            check(&model, &history, &Config::default()).is_linearizable(),
            linearizable
        );
    }
}
