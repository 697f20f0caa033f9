//! `cargo bench -p bench-compare [-- WORKLOAD... --reps N --warmup S --window S --side SIDE]`
//! (`-- --help` lists them):
//! our reference peer (through the lab API) and openraft on the same closed-loop workloads,
//! alternated (a fresh cluster of ours, then a fresh cluster of openraft, `reps` times per
//! workload), then one table: each side's median commands/s with its spread over the
//! repetitions, and the ratio of the medians. Each WORKLOAD named runs (default: all); SIDE
//! is `all` (default), `ours` (the lab API), `native` (`RaftPeer::make_native`) or
//! `openraft`; `--eager` turns our peers' coalesced AppendEntries off (for A/B runs).

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

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

/// `cargo bench -p bench-compare -- [WORKLOAD...] [OPTIONS]`
#[derive(Parser)]
#[command(
    name = "bench-compare",
    bin_name = "cargo bench -p bench-compare --",
    about = "Our reference peer (lab API and native apply) beside openraft 0.9.25 on the same \
             closed-loop workloads, alternated, one table of medians, spreads and ratios.",
    after_help = "Workloads: 3p_c1 3p_c64 3p_c256 3p_c1024 5p_c256 3p_batch64_c16 \
                  3p_batch4_c1024 3p_4KiB_c256 (NpX: N peers; cK: K closed-loop proposers; \
                  batchB: B commands per submission; 4KiB: command size, else 16 bytes)."
)]
struct Args {
    /// Workloads to run, by name (default: all; see below).
    workloads: Vec<String>,
    /// Repetitions per side; each is a fresh cluster on a fresh runtime.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    reps: u32,
    /// Seconds of warm-up before the measured window.
    #[arg(long, default_value_t = 1.0, value_parser = positive_seconds)]
    warmup: f64,
    /// Seconds of the measured window.
    #[arg(long, default_value_t = 2.0, value_parser = positive_seconds)]
    window: f64,
    /// Tokio worker threads of each cluster's runtime (the same for every side).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    workers: u16,
    /// Which sides to run.
    #[arg(long, value_enum, default_value_t = Side::All)]
    side: Side,
    /// Our peers without coalesced AppendEntries (for A/B runs).
    #[arg(long)]
    eager: bool,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// The sides of the comparison.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Side {
    /// Our peer through the lab API, our native path and openraft.
    All,
    /// Our peer through the lab API only.
    Ours,
    /// Our peer's native batch-apply path only.
    Native,
    /// openraft only.
    Openraft,
}

fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("expected a positive number of seconds, got {s:?}")),
    }
}

struct Options {
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

/// The options and the selected workloads, or a usage error naming the unknown workloads.
fn options() -> Result<(Options, Vec<Workload>), String> {
    let args = Args::parse();
    let unknown: Vec<&str> = args
        .workloads
        .iter()
        .map(String::as_str)
        .filter(|name| WORKLOADS.iter().all(|w| w.name != *name))
        .collect();
    if !unknown.is_empty() {
        let names: Vec<&str> = WORKLOADS.iter().map(|w| w.name).collect();
        return Err(format!(
            "unknown workload {}; the workloads are: {}",
            unknown.join(", "),
            names.join(" ")
        ));
    }
    let selected = WORKLOADS
        .iter()
        .copied()
        .filter(|w| args.workloads.is_empty() || args.workloads.iter().any(|f| w.name == f))
        .collect();
    let side = args.side;
    let options = Options {
        reps: args.reps as usize,
        warmup: Duration::from_secs_f64(args.warmup),
        window: Duration::from_secs_f64(args.window),
        workers: usize::from(args.workers),
        coalesce: !args.eager,
        ours: matches!(side, Side::All | Side::Ours),
        native: matches!(side, Side::All | Side::Native),
        openraft: matches!(side, Side::All | Side::Openraft),
    };
    Ok((options, selected))
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

/// One repetition's figures, on stderr as they come.
fn progress(w: &Workload, rep: usize, side: &str, s: &Sample) {
    eprintln!(
        "{} rep {rep}: {side} {:.0}/s p50 {:.1}us p99 {:.1}us {}",
        w.name, s.ops_per_sec, s.p50_us, s.p99_us, s.note
    );
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

fn main() -> ExitCode {
    let (o, selected) = match options() {
        Ok(selected) => selected,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
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
                progress(w, rep, "ours", &s);
                mine.samples.push(s);
            }
            if o.native {
                let s = ours::measure(ours_setup(w, &o, Path::Native), load);
                progress(w, rep, "native", &s);
                native.samples.push(s);
            }
            if o.openraft {
                let s = baseline::measure(w.peers, o.workers, w.snapshot_every, load);
                progress(w, rep, "openraft", &s);
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
    ExitCode::SUCCESS
}
