//! HTTP latency benchmark: `cairn serve` (as is, and as `cairn-int8` or
//! `cairn-int4` with scalar quantization) beside PostgreSQL + pgvector and
//! Chroma's server, same
//! vectors, same queries, same HNSW m/ef_construction, in one run.
//!
//! ```text
//! cargo build --release -p cairn-server -p cairn-benches
//! target/release/http --n 100000 --dim 768 --clients 32
//! ```
//!
//! For each target: start it in a temp dir, load the vectors (timed), pick
//! the smallest ef from `--ef-candidates` whose recall@k reaches
//! `--target-recall` (so nobody wins by being inaccurate), warm up, then run
//! each profile closed-loop with `--clients` clients and open-loop at
//! `--rate` requests/s. Prints a table and writes `http-<n>x<dim>.json`.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use cairn_benches::cairn_variant::{self, CAIRN_TARGETS};
use cairn_benches::load::{closed_loop, open_loop, Mode, PhaseResult, Plan, Profile, Target};
use cairn_benches::peers::{self, Tools};
use cairn_benches::recall::recall_at;
use cairn_benches::targets::{Cairn, Chroma, Data, Pgvector, TAGS};
use cairn_benches::workload::exact_neighbors;
use cairn_datasets::{synthetic, Vectors};
use cairn_engine::Distance;
use clap::Parser;
use serde::Serialize;

#[derive(Parser, Debug)]
#[command(
    about = "p50/p99 latency and throughput over HTTP: cairn serve beside pgvector and Chroma"
)]
struct Args {
    /// Points (seeded clustered vectors).
    #[arg(long, default_value_t = 100_000)]
    n: usize,
    #[arg(long, default_value_t = 768)]
    dim: usize,
    /// Distinct queries (held out of the same distribution).
    #[arg(long, default_value_t = 1000)]
    queries: usize,
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// Concurrent clients in the closed loop.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Requests per second in the open loop.
    #[arg(long, default_value_t = 200.0)]
    rate: f64,
    /// Seconds per phase.
    #[arg(long, default_value_t = 15.0)]
    duration: f64,
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "cairn,cairn-int8,pgvector,chroma"
    )]
    targets: Vec<String>,
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "search,filtered,mixed"
    )]
    profiles: Vec<Profile>,
    #[arg(long, default_value_t = 16)]
    m: usize,
    #[arg(long, default_value_t = 100)]
    ef_construction: usize,
    #[arg(long, default_value_t = 0.95)]
    target_recall: f64,
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "10,16,24,32,48,64,96,128,192,256,384,512"
    )]
    ef_candidates: Vec<usize>,
    #[command(flatten)]
    tools: Tools,
}

#[derive(Serialize)]
struct TargetReport {
    target: String,
    version: String,
    load_secs: f64,
    ef: usize,
    /// recall@k of the unfiltered queries at `ef`, one client.
    recall: f64,
    phases: Vec<PhaseReport>,
}

#[derive(Serialize)]
struct PhaseReport {
    #[serde(flatten)]
    result: PhaseResult,
    /// recall@k of the answers in this phase (not for the mixed profile,
    /// whose inserts change the true neighbours).
    recall: Option<f64>,
}

struct Truth {
    plain: Vec<Vec<u32>>,
    filtered: Vec<Vec<u32>>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    for t in &args.targets {
        if !(CAIRN_TARGETS.contains(&t.as_str()) || ["pgvector", "chroma"].contains(&t.as_str())) {
            bail!(
                "unknown target {t:?}; choose from {}, pgvector, chroma",
                CAIRN_TARGETS.join(", ")
            );
        }
    }
    eprintln!(
        "http: {} × {}-d clustered, {} queries, k={}, M={} ef_construction={}",
        args.n, args.dim, args.queries, args.k, args.m, args.ef_construction
    );
    let mut base = synthetic::clustered(args.n + args.queries, args.dim, 100, 0.5, 42);
    let queries = base.split_off(args.n);
    let inserts = synthetic::clustered(10_000, args.dim, 100, 0.5, 4242);
    let truth = ground_truth(&base, &queries, args.k);
    let data = Arc::new(Data {
        base,
        queries,
        inserts,
        k: args.k,
    });
    let next_id = Arc::new(AtomicU64::new(args.n as u64));
    let mut reports = Vec::new();
    for t in &args.targets {
        let dir = tempfile::tempdir()?;
        let report = match t.as_str() {
            name if CAIRN_TARGETS.contains(&name) => {
                let quantization = cairn_variant::quantization(name).flatten();
                let bin = args.tools.cairn_bin()?;
                let cairn = Cairn::start(&bin, dir.path(), data.clone(), args.clients).await?;
                let load =
                    timed(cairn.load(args.m, args.ef_construction, quantization.as_ref())).await?;
                let cairn = Arc::new(cairn);
                let (ef, recall) = calibrate(&args, &cairn, &truth, |ef| {
                    let c = cairn.clone();
                    async move { c.set_ef(ef) }
                })
                .await?;
                announce(name, load, ef, recall);
                let phases = run_phases(&args, &cairn, &truth, &next_id, name).await;
                if let Some(c) = Arc::into_inner(cairn) {
                    c.stop().await;
                }
                report(
                    name,
                    env!("CARGO_PKG_VERSION").into(),
                    load,
                    ef,
                    recall,
                    phases,
                )
            }
            "pgvector" => {
                let python = args.tools.python()?;
                let mut pg = Pgvector::start(
                    &python,
                    &peers::script("serve_pgvector.py"),
                    dir.path(),
                    data.clone(),
                )
                .await?;
                let load = timed(pg.load(args.m, args.ef_construction)).await?;
                pg.open_connections(args.clients.max(1)).await?;
                let version = pg.version.clone();
                let pg = Arc::new(pg);
                let (ef, recall) = calibrate(&args, &pg, &truth, |ef| {
                    let p = pg.clone();
                    async move { p.set_ef(ef).await }
                })
                .await?;
                announce("pgvector", load, ef, recall);
                let phases = run_phases(&args, &pg, &truth, &next_id, "pgvector").await;
                if let Some(p) = Arc::into_inner(pg) {
                    p.stop().await;
                }
                report("pgvector", version, load, ef, recall, phases)
            }
            _ => {
                let python = args.tools.python()?;
                let chroma_bin = python.with_file_name("chroma");
                let mut chroma =
                    Chroma::start(&chroma_bin, dir.path(), data.clone(), args.clients).await?;
                let version = chroma.version().await;
                let load = timed(chroma.load(args.m, args.ef_construction)).await?;
                let chroma = Arc::new(chroma);
                let (ef, recall) = calibrate(&args, &chroma, &truth, |ef| {
                    let c = chroma.clone();
                    async move { c.set_ef(ef).await }
                })
                .await?;
                announce("chroma", load, ef, recall);
                let phases = run_phases(&args, &chroma, &truth, &next_id, "chroma").await;
                if let Some(c) = Arc::into_inner(chroma) {
                    c.stop().await;
                }
                report("chroma", version, load, ef, recall, phases)
            }
        };
        reports.push(report);
    }
    print_table(&args, &reports);
    write_json(&args, &reports)
}

async fn timed<F: std::future::Future<Output = Result<()>>>(f: F) -> Result<f64> {
    let t = Instant::now();
    f.await?;
    Ok(t.elapsed().as_secs_f64())
}

/// Says what calibration chose as soon as it is known, before the phases
/// run (the table comes at the end).
fn announce(target: &str, load_secs: f64, ef: usize, recall: f64) {
    eprintln!("http: {target}: loaded in {load_secs:.1} s; ef {ef} gives recall@10 {recall:.3}");
}

fn report(
    target: &str,
    version: String,
    load_secs: f64,
    ef: usize,
    recall: f64,
    phases: Vec<PhaseReport>,
) -> TargetReport {
    TargetReport {
        target: target.into(),
        version,
        load_secs,
        ef,
        recall,
        phases,
    }
}

/// Exact neighbours for every query, and among the points sharing the
/// query's tag (point `i` has tag `i % 10`, query `q` asks for `q % 10`).
fn ground_truth(base: &Vectors, queries: &Vectors, k: usize) -> Truth {
    let plain = exact_neighbors(base, queries, Distance::Cosine, k);
    let mut filtered = vec![Vec::new(); queries.len()];
    for t in 0..TAGS {
        let pick = |v: &Vectors, rows: &[usize]| Vectors {
            dim: v.dim,
            data: rows.iter().flat_map(|&i| v.row(i).to_vec()).collect(),
        };
        let ids: Vec<usize> = (t..base.len()).step_by(TAGS).collect();
        let qs: Vec<usize> = (t..queries.len()).step_by(TAGS).collect();
        let found = exact_neighbors(&pick(base, &ids), &pick(queries, &qs), Distance::Cosine, k);
        for (q, row) in qs.iter().zip(found) {
            filtered[*q] = row.iter().map(|&i| ids[i as usize] as u32).collect();
        }
    }
    Truth { plain, filtered }
}

/// The smallest candidate ef whose single-client recall reaches the target
/// (or the largest candidate).
async fn calibrate<T: Target, F, Fut>(
    args: &Args,
    target: &Arc<T>,
    truth: &Truth,
    set_ef: F,
) -> Result<(usize, f64)>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut last = (0, 0.0);
    for &ef in &args.ef_candidates {
        set_ef(ef).await?;
        let mut found = Vec::with_capacity(args.queries);
        for q in 0..args.queries {
            let ids = target
                .search(0, q, false)
                .await
                .context("calibration query")?;
            found.push(ids.into_iter().map(|i| i as u32).collect());
        }
        let recall = recall_at(args.k, &found, &truth.plain);
        last = (ef, recall);
        if recall >= args.target_recall {
            break;
        }
    }
    Ok(last)
}

async fn run_phases<T: Target>(
    args: &Args,
    target: &Arc<T>,
    truth: &Truth,
    next_id: &Arc<AtomicU64>,
    name: &str,
) -> Vec<PhaseReport> {
    let plan = |profile: Profile, secs: f64, label: String| Plan {
        profile,
        queries: args.queries,
        duration: Duration::from_secs_f64(secs),
        next_id: next_id.clone(),
        label,
    };
    closed_loop(
        target.clone(),
        plan(Profile::Search, args.warmup, format!("{name} warm-up")),
        args.clients,
    )
    .await;
    let mut out = Vec::new();
    for &profile in &args.profiles {
        let p = format!("{profile:?}").to_lowercase();
        for mode in [
            Mode::Closed {
                clients: args.clients,
            },
            Mode::Open { rate: args.rate },
        ] {
            let result = match mode {
                Mode::Closed { clients } => {
                    let label = format!("{name} {p} closed×{clients}");
                    closed_loop(target.clone(), plan(profile, args.duration, label), clients).await
                }
                Mode::Open { rate } => {
                    let label = format!("{name} {p} open@{rate}/s");
                    open_loop(
                        target.clone(),
                        plan(profile, args.duration, label),
                        rate,
                        args.clients,
                    )
                    .await
                }
            };
            let recall = match profile {
                Profile::Search => Some(&truth.plain),
                Profile::Filtered => Some(&truth.filtered),
                Profile::Mixed => None,
            }
            .map(|t| answered_recall(args.k, &result.answers, t));
            out.push(PhaseReport { result, recall });
        }
    }
    out
}

/// Recall over the queries that were answered in a phase.
fn answered_recall(k: usize, answers: &[Option<Vec<u64>>], truth: &[Vec<u32>]) -> f64 {
    let (found, expected): (Vec<Vec<u32>>, Vec<Vec<u32>>) = answers
        .iter()
        .zip(truth)
        .filter_map(|(a, t)| {
            a.as_ref()
                .map(|a| (a.iter().map(|&i| i as u32).collect(), t.clone()))
        })
        .unzip();
    recall_at(k, &found, &expected)
}

fn print_table(args: &Args, reports: &[TargetReport]) {
    println!(
        "{:<9} {:<9} {:<12} {:>4} {:>9} {:>7} {:>7} {:>7} {:>8} {:>7} {:>6}",
        "target",
        "profile",
        "load",
        "ef",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "p99.9 ms",
        "recall",
        "errors"
    );
    for r in reports {
        for p in &r.phases {
            let load = match p.result.mode {
                Mode::Closed { clients } => format!("closed×{clients}"),
                Mode::Open { rate } => format!("open@{rate:.0}/s"),
            };
            println!(
                "{:<9} {:<9} {:<12} {:>4} {:>9.0} {:>7.2} {:>7.2} {:>7.2} {:>8.2} {:>7} {:>6}",
                r.target,
                format!("{:?}", p.result.profile).to_lowercase(),
                load,
                r.ef,
                p.result.throughput,
                p.result.reads.p50_ms,
                p.result.reads.p95_ms,
                p.result.reads.p99_ms,
                p.result.reads.p999_ms,
                p.recall.map_or("—".into(), |r| format!("{r:.3}")),
                p.result.errors
            );
        }
    }
    let closed_search = |name: &str| {
        reports.iter().find(|r| r.target == name).and_then(|r| {
            r.phases.iter().find(|p| {
                p.result.profile == Profile::Search && matches!(p.result.mode, Mode::Closed { .. })
            })
        })
    };
    for &ours in CAIRN_TARGETS {
        let Some(c) = closed_search(ours) else {
            continue;
        };
        println!();
        println!(
            "{ours} search, {} clients: p99 {:.2} ms (goal ≤ 5 ms)",
            args.clients, c.result.reads.p99_ms
        );
        for peer in ["pgvector", "chroma"] {
            if let Some(p) = closed_search(peer) {
                println!(
                    "{ours} / {peer} throughput, closed loop, search: {:.2}×",
                    c.result.throughput / p.result.throughput.max(f64::MIN_POSITIVE)
                );
            }
        }
    }
}

fn write_json(args: &Args, reports: &[TargetReport]) -> Result<()> {
    std::fs::create_dir_all(&args.tools.out)?;
    let path = args
        .tools
        .out
        .join(format!("http-{}x{}.json", args.n, args.dim));
    let tmp = path.with_extension("json.tmp");
    let json = serde_json::json!({
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "n": args.n, "dim": args.dim, "queries": args.queries, "k": args.k,
        "m": args.m, "ef_construction": args.ef_construction,
        "clients": args.clients, "rate": args.rate, "duration_secs": args.duration,
        "target_recall": args.target_recall,
        "targets": reports,
    });
    std::fs::write(&tmp, serde_json::to_vec_pretty(&json)?)?;
    std::fs::rename(&tmp, &path)?;
    eprintln!("http: wrote {}", path.display());
    Ok(())
}
