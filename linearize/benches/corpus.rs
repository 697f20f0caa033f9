//! The Porcupine key/value corpus, checked split by key and whole (the cases Porcupine's own
//! benchmarks time): `cargo bench -p linearize`. One thread, so that the figures compare
//! with Porcupine's, which are per history on one core per part; see BENCHMARKS.md.

use criterion::{Criterion, criterion_group, criterion_main};
use linearize::edn::parse_kv_history;
use linearize::models::{Kv, KvInput, KvOutput};
use linearize::{Config, Operation, check};

fn corpus(name: &str) -> Vec<Operation<KvInput, KvOutput>> {
    let path = format!("{}/tests/data/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse_kv_history(&source).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn bench(c: &mut Criterion) {
    let cases = [
        ("Kv1ClientOk", "c01-ok", true, true),
        ("Kv10ClientsOk", "c10-ok", true, true),
        ("Kv50ClientsOk", "c50-ok", true, true),
        ("Kv50ClientsBad", "c50-bad", true, false),
        ("KvNoPartition10ClientsOk", "c10-ok", false, true),
        ("KvNoPartition10ClientsBad", "c10-bad", false, false),
    ];
    for threads in [1, 2] {
        let mut group = c.benchmark_group(format!("threads{threads}"));
        group.sample_size(10);
        for (name, file, partition, linearizable) in cases {
            let history = corpus(file);
            let config = Config {
                partition,
                threads,
                ..Config::default()
            };
            let result = check(&Kv, &history, &config);
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
            group.bench_function(name, |b| b.iter(|| check(&Kv, &history, &config)));
        }
        group.finish();
    }
}

/// `criterion_group!` makes a public function without docs; it lives here.
mod group {
    #![allow(missing_docs)]
    use super::*;
    criterion_group!(benches, bench);
}

criterion_main!(group::benches);
