//! `cargo bench -p bench-compare [-- FILTER... --reps N --warmup S --window S --side SIDE]`:
//! our reference peer (through the lab API) and openraft on the same closed-loop workloads,
//! alternated (a fresh cluster of ours, then a fresh cluster of openraft, `reps` times per
//! workload), then one table: each side's median commands/s with its spread over the
//! repetitions, and the ratio of the medians. FILTER keeps the workloads of that name; SIDE is `all` (default), `ours` (the lab API), `native` (`RaftPeer::make_native`) or
//! `openraft`; `--eager` turns our peers' coalesced AppendEntries off (for A/B runs).

use std::time::Duration;

use bench_compare::closed_loop::{Load, Sample};
use bench_compare::ours::Path;
use bench_compare::stats::{median, spread};
use bench_compare::{baseline, ours};
use raft_rpc::PeerOptions;

/// One row of the table.
#[derive(Clone, Copy)]
struct Workload {
    name: &'static str,
    peers: usize,
    proposers: usize,
    batch: usize,
    payload: usize,
    /// Applied entries between snapshots (ours: the service's; openraft: its policy).
    snapshot_every: u64,
}

const WORKLOADS: &[Workload] = &[
    w("3p_c1", 3, 1, 1, 16, 1000),
    w("3p_c64", 3, 64, 1, 16, 1000),
    w("3p_c256", 3, 256, 1, 16, 1000),
    w("3p_c1024", 3, 1024, 1, 16, 1000),
    w("5p_c256", 5, 256, 1, 16, 1000),
    w("3p_batch64_c16", 3, 16, 64, 16, 1000),
    w("3p_batch4_c1024", 3, 1024, 4, 16, 1000),
    w("3p_4KiB_c256", 3, 256, 1, 4096, 16),
];

const fn w(
    name: &'static str,
    peers: usize,
    proposers: usize,
    batch: usize,
    payload: usize,
    snapshot_every: u64,
) -> Workload {
    Workload {
        name,
        peers,
        proposers,
        batch,
        payload,
        snapshot_every,
    }
}

struct Options {
    filters: Vec<String>,
    reps: usize,
    warmup: Duration,
    window: Duration,
    workers: usize,
    /// `PeerOptions::coalesce_appends` for our peers (`--eager`: off).
    coalesce: bool,
    ours: bool,
    native: bool,
    openraft: bool,
}

fn options() -> Options {
    let mut o = Options {
        filters: Vec::new(),
        reps: 5,
        warmup: Duration::from_secs(1),
        window: Duration::from_secs(2),
        workers: 2,
        coalesce: true,
        ours: true,
        native: true,
        openraft: true,
    };
    let mut args = std::env::args().skip(1);
    let secs = |v: Option<String>| {
        Duration::from_secs_f64(v.and_then(|v| v.parse().ok()).expect("seconds"))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bench" => {}
            "--eager" => o.coalesce = false,
            "--reps" => o.reps = args.next().and_then(|v| v.parse().ok()).expect("--reps N"),
            "--warmup" => o.warmup = secs(args.next()),
            "--window" => o.window = secs(args.next()),
            "--workers" => {
                o.workers = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--workers N")
            }
            "--side" => match args.next().as_deref() {
                Some("ours") => (o.native, o.openraft) = (false, false),
                Some("native") => (o.ours, o.openraft) = (false, false),
                Some("openraft") => (o.ours, o.native) = (false, false),
                Some("all") => {}
                other => panic!("--side ours|native|openraft|all, not {other:?}"),
            },
            flag if flag.starts_with("--") => panic!("unknown option {flag}"),
            filter => o.filters.push(filter.to_owned()),
        }
    }
    o
}

/// Repeated samples of one side.
#[derive(Default)]
struct Series {
    samples: Vec<Sample>,
}

impl Series {
    fn ops(&self) -> Vec<f64> {
        self.samples.iter().map(|s| s.ops_per_sec).collect()
    }
    fn cell(&self, payload: usize) -> String {
        if self.samples.is_empty() {
            return "-".to_owned();
        }
        let ops = self.ops();
        let lo = ops.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ops.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let p50 = median(&self.samples.iter().map(|s| s.p50_us).collect::<Vec<_>>());
        let mut cell = format!(
            "{} ({}-{}, ±{:.0}%) p50 {:.1}us",
            k(median(&ops)),
            k(lo),
            k(hi),
            spread(&ops) * 50.0,
            p50
        );
        if payload >= 1024 {
            cell += &format!(" = {:.2} GB/s", median(&ops) * payload as f64 / 1e9);
        }
        cell
    }
}

fn ours_setup(w: &Workload, o: &Options, path: Path) -> ours::Setup {
    ours::Setup {
        peers: w.peers,
        workers: o.workers,
        snapshot_every: w.snapshot_every,
        path,
        options: PeerOptions {
            coalesce_appends: o.coalesce,
            ..PeerOptions::default()
        },
    }
}

fn ratio(a: &Series, b: &Series) -> String {
    if a.samples.is_empty() || b.samples.is_empty() {
        return "-".to_owned();
    }
    format!("{:.2}x", median(&a.ops()) / median(&b.ops()))
}

fn k(ops: f64) -> String {
    if ops >= 1e6 {
        format!("{:.2}M", ops / 1e6)
    } else {
        format!("{:.0}k", ops / 1e3)
    }
}

fn main() {
    let o = options();
    let selected: Vec<Workload> = WORKLOADS
        .iter()
        .copied()
        .filter(|w| o.filters.is_empty() || o.filters.iter().any(|f| w.name == f.as_str()))
        .collect();
    println!(
        "bench-compare: {} reps per side, warm-up {:?}, window {:?}, {} tokio workers per cluster, coalesced appends {}, openraft 0.9.25",
        o.reps, o.warmup, o.window, o.workers, o.coalesce
    );
    let mut rows = Vec::new();
    for w in &selected {
        let load = Load {
            proposers: w.proposers,
            batch: w.batch,
            payload: w.payload,
            warmup: o.warmup,
            window: o.window,
        };
        let (mut mine, mut native, mut theirs) =
            (Series::default(), Series::default(), Series::default());
        for rep in 0..o.reps {
            if o.ours {
                let s = ours::measure(ours_setup(w, &o, Path::Lab), load);
                eprintln!(
                    "{} rep {rep}: ours {:.0}/s p50 {:.1}us p99 {:.1}us {}",
                    w.name, s.ops_per_sec, s.p50_us, s.p99_us, s.note
                );
                mine.samples.push(s);
            }
            if o.native {
                let s = ours::measure(ours_setup(w, &o, Path::Native), load);
                eprintln!(
                    "{} rep {rep}: native {:.0}/s p50 {:.1}us p99 {:.1}us {}",
                    w.name, s.ops_per_sec, s.p50_us, s.p99_us, s.note
                );
                native.samples.push(s);
            }
            if o.openraft {
                let s = baseline::measure(w.peers, o.workers, w.snapshot_every, load);
                eprintln!(
                    "{} rep {rep}: openraft {:.0}/s p50 {:.1}us p99 {:.1}us",
                    w.name, s.ops_per_sec, s.p50_us, s.p99_us
                );
                theirs.samples.push(s);
            }
        }
        rows.push((w, mine, native, theirs));
    }
    println!();
    println!(
        "Medians of commands/s over the repetitions (min-max, ±half the spread), median p50 latency."
    );
    println!(
        "| workload | ours (lab API) | ours (native apply) | openraft | lab / openraft | native / openraft |"
    );
    println!("|---|---|---|---|---|---|");
    for (w, mine, native, theirs) in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            w.name,
            mine.cell(w.payload),
            native.cell(w.payload),
            theirs.cell(w.payload),
            ratio(mine, theirs),
            ratio(native, theirs)
        );
    }
}
