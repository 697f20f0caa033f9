//! `codec/append_entries`: encode + decode of one AppendEntries through the codec every RPC
//! uses (`labrpc_sim::codec`, bincode's standard configuration over serde).
//!
//! Four variants per size, so the figure can be read against its anchors:
//! - `zero_copy`: the real path of a peer's AppendEntries handler: encode raft-core's
//!   `AppendEntriesArgs` (commands are `Bytes`, serialized with `serialize_bytes`), decode its
//!   borrowed view (`codec::decode_borrowed`) and turn that into the owned arguments whose
//!   commands share the message's buffer (no allocation or copy per entry);
//! - `serde_bytes`: the owned decode of the same type (`deserialize_byte_buf`: one allocation
//!   and copy per command, no element-by-element loop);
//! - `native`: the same shape with bincode's own `Encode`/`Decode` derives (the anchor);
//! - `serde_vec`: the same shape with commands as `Vec<u8>` through serde, the slow path that
//!   `Bytes` avoids (serde sees a sequence of `u8` and bincode handles each byte separately).
//!
//! The setup checks that all three produce the same bytes, so the comparison is fair.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use labrpc_sim::codec;
use raft_core::{AppendEntriesArgs, AppendEntriesArgsRef, Entry, LogIndex, PeerId, Term};

/// The native mirror of an entry.
#[derive(bincode::Encode, bincode::Decode)]
struct NativeEntry {
    term: u64,
    command: Vec<u8>,
}

/// The native mirror of `AppendEntriesArgs` (same field order, same encoding).
#[derive(bincode::Encode, bincode::Decode)]
struct NativeArgs {
    term: u64,
    leader_id: u64,
    prev_log_index: u64,
    prev_log_term: u64,
    entries: Vec<NativeEntry>,
    leader_commit: u64,
}

/// The serde mirror with `Vec<u8>` commands.
#[derive(serde::Serialize, serde::Deserialize)]
struct VecEntry {
    term: u64,
    command: Vec<u8>,
}

/// The serde mirror of `AppendEntriesArgs` with `Vec<u8>` commands.
#[derive(serde::Serialize, serde::Deserialize)]
struct VecArgs {
    term: u64,
    leader_id: u64,
    prev_log_index: u64,
    prev_log_term: u64,
    entries: Vec<VecEntry>,
    leader_commit: u64,
}

/// A command of `size` bytes whose content depends on `i`.
fn command(i: usize, size: usize) -> Vec<u8> {
    (0..size).map(|b| (i.wrapping_mul(31) + b) as u8).collect()
}

fn real_args(n: usize, size: usize) -> AppendEntriesArgs {
    AppendEntriesArgs {
        term: Term(7),
        leader_id: PeerId(1),
        prev_log_index: LogIndex(1000),
        prev_log_term: Term(7),
        entries: (0..n)
            .map(|i| Entry {
                term: Term(7),
                command: Bytes::from(command(i, size)),
            })
            .collect(),
        leader_commit: LogIndex(990),
    }
}

fn native_args(n: usize, size: usize) -> NativeArgs {
    NativeArgs {
        term: 7,
        leader_id: 1,
        prev_log_index: 1000,
        prev_log_term: 7,
        entries: (0..n)
            .map(|i| NativeEntry {
                term: 7,
                command: command(i, size),
            })
            .collect(),
        leader_commit: 990,
    }
}

fn vec_args(n: usize, size: usize) -> VecArgs {
    VecArgs {
        term: 7,
        leader_id: 1,
        prev_log_index: 1000,
        prev_log_term: 7,
        entries: (0..n)
            .map(|i| VecEntry {
                term: 7,
                command: command(i, size),
            })
            .collect(),
        leader_commit: 990,
    }
}

fn cfg() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// The three encodings must be byte-identical, or the comparison means nothing.
fn check_same_bytes(n: usize, size: usize) {
    let real = codec::encode(&real_args(n, size)).expect("encode real");
    let native = bincode::encode_to_vec(native_args(n, size), cfg()).expect("encode native");
    let vec = codec::encode(&vec_args(n, size)).expect("encode vec");
    assert_eq!(
        &real[..],
        &native[..],
        "native mirror differs ({n} x {size} B)"
    );
    assert_eq!(
        &real[..],
        &vec[..],
        "Vec<u8> mirror differs ({n} x {size} B)"
    );
}

fn append_entries(c: &mut Criterion) {
    let mut group = c.benchmark_group("codec/append_entries");
    group.sample_size(30);
    group.warm_up_time(std::time::Duration::from_millis(300));
    group.measurement_time(std::time::Duration::from_millis(800));
    for (n, size) in [(1, 16), (64, 16), (1024, 16), (64, 4096)] {
        check_same_bytes(n, size);
        let label = format!("{n}x{size}B");
        group.throughput(Throughput::Elements(n as u64));

        let real = real_args(n, size);
        group.bench_with_input(BenchmarkId::new("zero_copy", &label), &real, |b, args| {
            b.iter(|| {
                let bytes = codec::encode(black_box(args)).expect("encode");
                let view: AppendEntriesArgsRef<'_> =
                    codec::decode_borrowed(&bytes).expect("decode");
                black_box(view.into_owned(&bytes))
            })
        });

        group.bench_with_input(BenchmarkId::new("serde_bytes", &label), &real, |b, args| {
            b.iter(|| {
                let bytes = codec::encode(black_box(args)).expect("encode");
                let back: AppendEntriesArgs = codec::decode(&bytes).expect("decode");
                black_box(back)
            })
        });

        let native = native_args(n, size);
        group.bench_with_input(BenchmarkId::new("native", &label), &native, |b, args| {
            b.iter(|| {
                let bytes = bincode::encode_to_vec(black_box(args), cfg()).expect("encode");
                let (back, _): (NativeArgs, usize) =
                    bincode::decode_from_slice(&bytes, cfg()).expect("decode");
                black_box(back)
            })
        });

        let vec = vec_args(n, size);
        group.bench_with_input(BenchmarkId::new("serde_vec", &label), &vec, |b, args| {
            b.iter(|| {
                let bytes = codec::encode(black_box(args)).expect("encode");
                let back: VecArgs = codec::decode(&bytes).expect("decode");
                black_box(back)
            })
        });
    }
    group.finish();
}

/// `criterion_group!` makes a public function without docs; it lives here.
mod group {
    #![allow(missing_docs)]
    use super::*;
    criterion::criterion_group!(benches, append_entries);
}
criterion_main!(group::benches);
