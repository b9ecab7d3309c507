//! In-process ANN benchmark: Cairn's engine beside `hnsw_rs`, hnswlib, FAISS
//! and usearch, with equal M / ef_construction, in one run.
//!
//! ```text
//! cargo run --release -p cairn-benches --bin ann -- --dataset ../shared/datasets/glove-6b-50d-angular
//! cargo run --release -p cairn-benches --bin ann -- --synthetic 768 --synthetic-n 100000
//! ```
//!
//! Each library runs in a worker process of its own (this binary with
//! `--worker`, or `python/ann_peers.py`), so its peak memory is its own. The
//! workers build one at a time, then their query passes are interleaved
//! round by round (`cairn_benches::ann_worker`), so that the machine's drift
//! falls on every library alike. The parent scores every library's result
//! ids against one ground truth, prints a table with ratios to hnswlib, and
//! writes `ann-<data>.json` and `.png`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use cairn_benches::ann_worker::{interleave, serve, Built, WorkerProcess};
use cairn_benches::cairn_variant::{self, CAIRN_TARGETS};
use cairn_benches::memory::rss;
use cairn_benches::report::LibReport;
use cairn_benches::workload::{read_vectors, upsert_all, MetricName, Workload};
use cairn_benches::{peers, plot, recall::recall_at};
use cairn_datasets::{texmex, Vectors};
use cairn_engine::{CollectionConfig, Engine, SearchRequest};
use clap::Parser;

const PYTHON_PEERS: &[&str] = &["hnswlib", "faiss", "usearch"];
const RUST_PEERS: &[&str] = &["cairn", "cairn-int8", "cairn-int4", "hnsw_rs"];

#[derive(Parser, Debug)]
#[command(
    about = "Recall@k versus single-thread queries/s, build time and memory, Cairn beside its peers"
)]
struct Args {
    /// A folder with base.fvecs, query.fvecs and optionally groundtruth.ivecs.
    #[arg(long, conflicts_with_all = ["base", "synthetic"])]
    dataset: Option<PathBuf>,
    /// Base vectors (.fvecs or .npy), with --queries.
    #[arg(long, requires = "queries")]
    base: Option<PathBuf>,
    #[arg(long)]
    queries: Option<PathBuf>,
    /// Exact top-k ids per query (.ivecs); computed when absent.
    #[arg(long)]
    groundtruth: Option<PathBuf>,
    /// Seeded clustered vectors of this dimension instead of a data set.
    #[arg(long, value_name = "DIM")]
    synthetic: Option<usize>,
    #[arg(long, default_value_t = 100_000)]
    synthetic_n: usize,
    #[arg(long, value_enum, default_value = "cosine")]
    metric: MetricName,
    /// Use only the first N base vectors.
    #[arg(long)]
    max_base: Option<usize>,
    /// Use only the first N queries.
    #[arg(long, default_value_t = 10_000)]
    max_queries: usize,
    #[arg(long, default_value_t = 16)]
    m: usize,
    #[arg(long, default_value_t = 100)]
    ef_construction: usize,
    /// The ef sweep.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "10,16,24,32,48,64,96,128,256"
    )]
    ef: Vec<usize>,
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// Build threads (searches always run on one).
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Rounds of interleaved query passes (one per ef and library each);
    /// each library's fastest pass at an ef counts.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "cairn,cairn-int8,hnsw_rs,hnswlib,faiss,usearch"
    )]
    peers: Vec<String>,
    /// The recall at which throughput is compared.
    #[arg(long, default_value_t = 0.95)]
    target_recall: f64,
    #[arg(long, default_value = "benches/results")]
    out: PathBuf,
    /// Python with the peers installed; by default the bench's own venv
    /// (benches/.venv), created on first use.
    #[arg(long, env = "CAIRN_BENCH_PYTHON")]
    python: Option<PathBuf>,

    #[arg(long, hide = true)]
    worker: Option<String>,
    #[arg(long, hide = true)]
    worker_base: Option<PathBuf>,
    #[arg(long, hide = true)]
    worker_queries: Option<PathBuf>,
    #[arg(long, hide = true)]
    worker_out: Option<PathBuf>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(lib) = &args.worker {
        let report = worker(&args, lib)?;
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    for p in &args.peers {
        if !RUST_PEERS.contains(&p.as_str()) && !PYTHON_PEERS.contains(&p.as_str()) {
            bail!(
                "unknown peer {p:?}; choose from {}",
                [RUST_PEERS, PYTHON_PEERS].concat().join(", ")
            );
        }
    }
    let workload = load(&args)?;
    eprintln!(
        "ann: {} — {} base × {}-d, {} queries, {}; M={} ef_construction={} threads={}",
        workload.name,
        workload.base.len(),
        workload.base.dim,
        workload.queries.len(),
        workload.metric.as_str(),
        args.m,
        args.ef_construction,
        args.threads
    );
    let scratch = tempfile::tempdir()?;
    let (base, queries) = workload.write_to(scratch.path())?;
    // Builds one at a time, so each has the machine to itself; then every
    // worker stays up for the interleaved query rounds (see `ann_worker`).
    let mut workers = Vec::new();
    for peer in &args.peers {
        eprintln!("ann: {peer}: building");
        let w = WorkerProcess::start(
            peer,
            worker_command(&args, peer, &base, &queries, scratch.path())?,
        )?;
        eprintln!("ann: {peer}: built in {:.1} s", w.built.build_secs);
        workers.push(w);
    }
    let efs: Vec<usize> = args.ef.iter().map(|&ef| ef.max(args.k)).collect();
    interleave(&mut workers, &efs, args.repeats)?;
    let mut libs = Vec::new();
    for w in workers {
        let mut report = w.report()?;
        for run in &mut report.runs {
            let found = texmex::read_ivecs(&run.ids)?;
            run.recall = recall_at(args.k, &found, &workload.truth);
            run.ids.clear();
        }
        libs.push(report);
    }
    print_table(&args, &libs);
    write_results(&args, &workload, &libs)
}

fn load(args: &Args) -> Result<Workload> {
    let max_q = Some(args.max_queries);
    if let Some(dim) = args.synthetic {
        return Ok(Workload::synthetic(
            args.synthetic_n,
            args.max_queries,
            dim,
            args.metric,
            args.k,
        ));
    }
    if let Some(dir) = &args.dataset {
        return Workload::from_dir(dir, args.metric, args.k, args.max_base, max_q);
    }
    match (&args.base, &args.queries) {
        (Some(b), Some(q)) => Workload::from_files(
            b,
            q,
            args.groundtruth.as_deref(),
            args.metric,
            args.k,
            args.max_base,
            max_q,
        ),
        _ => bail!("say what to measure: --dataset DIR, --base F --queries F, or --synthetic DIM"),
    }
}

/// The command line of one library's worker: this binary with `--worker`
/// for the Rust libraries, `python/ann_peers.py` for the Python ones.
fn worker_command(
    args: &Args,
    lib: &str,
    base: &Path,
    queries: &Path,
    out: &Path,
) -> Result<Command> {
    let common = [
        format!("--m={}", args.m),
        format!("--ef-construction={}", args.ef_construction),
        format!("--k={}", args.k),
        format!("--threads={}", args.threads),
        format!("--metric={}", args.metric.as_str()),
    ];
    let mut cmd = if RUST_PEERS.contains(&lib) {
        let mut c = Command::new(std::env::current_exe()?);
        c.arg(format!("--worker={lib}"))
            .arg("--worker-base")
            .arg(base)
            .arg("--worker-queries")
            .arg(queries)
            .arg("--worker-out")
            .arg(out);
        c
    } else {
        let python = match &args.python {
            Some(p) => p.clone(),
            None => peers::bench_python()?,
        };
        let mut c = Command::new(python);
        c.arg(peers::script("ann_peers.py"))
            .arg(format!("--lib={lib}"))
            .arg("--base")
            .arg(base)
            .arg("--queries")
            .arg(queries)
            .arg("--out")
            .arg(out);
        c
    };
    cmd.args(common);
    Ok(cmd)
}

// ---- workers ---------------------------------------------------------------

fn worker(args: &Args, lib: &str) -> Result<LibReport> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build_global()?;
    let path = |p: &Option<PathBuf>, what: &str| {
        p.clone()
            .with_context(|| format!("--worker needs --worker-{what}"))
    };
    let base = read_vectors(&path(&args.worker_base, "base")?)?;
    let queries = read_vectors(&path(&args.worker_queries, "queries")?)?;
    let out = path(&args.worker_out, "out")?;
    match lib {
        name if CAIRN_TARGETS.contains(&name) => cairn(args, &base, &queries, &out, name),
        "hnsw_rs" => hnsw_rs(args, &base, &queries, &out),
        _ => bail!("no in-process worker for {lib}"),
    }
}

/// Cairn through its public `Collection` API, as an embedding application
/// would use it: upserts in batches (WAL-logged), searches without payload.
/// `name` picks the quantization (see `cairn_variant`), searched with the
/// default rescoring.
fn cairn(
    args: &Args,
    base: &Vectors,
    queries: &Vectors,
    out: &Path,
    name: &str,
) -> Result<LibReport> {
    let dir = tempfile::tempdir()?;
    let engine = Engine::open(dir.path())?;
    let mut config = CollectionConfig::new(base.dim, args.metric.distance());
    config.hnsw.m = args.m;
    config.hnsw.ef_construct = args.ef_construction;
    config.quantization = cairn_variant::quantization(name).flatten();
    let collection = engine.create_collection("bench", config)?;
    let (loaded, _) = rss();
    let started = Instant::now();
    upsert_all(&collection, base)?;
    let built = Built {
        lib: name.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        build_secs: started.elapsed().as_secs_f64(),
        threads: args.threads,
        loaded_rss_bytes: loaded,
    };
    serve(built, queries, out, |q, ef| {
        let mut req = SearchRequest::new(q.to_vec(), args.k);
        req.ef = Some(ef);
        collection
            .search(&req)
            .map(|hits| {
                hits.iter()
                    .map(|h| match h.id {
                        cairn_engine::PointId::Num(n) => n as u32,
                        cairn_engine::PointId::Uuid(_) => u32::MAX,
                    })
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// The `hnsw_rs` crate: cosine as `DistDot` on normalised vectors (its
/// fastest cosine), L2 as `DistL2`.
fn hnsw_rs(args: &Args, base: &Vectors, queries: &Vectors, out: &Path) -> Result<LibReport> {
    use hnsw_rs::prelude::{DistDot, DistL2, Hnsw};
    let normalize = args.metric == MetricName::Cosine;
    let prepare = |v: &[f32]| {
        let mut v = v.to_vec();
        if normalize {
            let n = v
                .iter()
                .map(|x| x * x)
                .sum::<f32>()
                .sqrt()
                .max(f32::MIN_POSITIVE);
            v.iter_mut().for_each(|x| *x /= n);
        }
        v
    };
    let data: Vec<Vec<f32>> = base.rows().map(prepare).collect();
    let refs: Vec<(&Vec<f32>, usize)> = data.iter().zip(0..).collect();
    let (loaded, _) = rss();
    let layers = 16;
    macro_rules! run {
        ($dist:expr) => {{
            let started = Instant::now();
            let index =
                Hnsw::<f32, _>::new(args.m, data.len(), layers, args.ef_construction, $dist);
            index.parallel_insert(&refs);
            let built = Built {
                lib: "hnsw_rs".into(),
                version: "0.3.5".into(),
                build_secs: started.elapsed().as_secs_f64(),
                threads: args.threads,
                loaded_rss_bytes: loaded,
            };
            serve(built, queries, out, |q, ef| {
                index
                    .search(&prepare(q), args.k, ef)
                    .iter()
                    .map(|n| n.d_id as u32)
                    .collect()
            })
        }};
    }
    match args.metric {
        MetricName::Cosine => run!(DistDot {}),
        MetricName::L2 => run!(DistL2 {}),
        MetricName::Dot => bail!("hnsw_rs has no unnormalised inner-product distance"),
    }
}

// ---- output ----------------------------------------------------------------

fn print_table(args: &Args, libs: &[LibReport]) {
    println!(
        "{:<10} {:>5} {:>8} {:>10} {:>9} {:>9}",
        "lib", "ef", "recall", "qps", "p50 µs", "p99 µs"
    );
    for l in libs {
        for r in &l.runs {
            println!(
                "{:<10} {:>5} {:>8.4} {:>10.0} {:>9.1} {:>9.1}",
                l.lib, r.ef, r.recall, r.qps, r.p50_us, r.p99_us
            );
        }
    }
    println!();
    let target = args.target_recall;
    println!(
        "{:<10} {:>9} {:>12} {:>12}   (build threads {}, queries/s on 1 thread at recall@{} = {target}, interpolated)",
        "lib", "build s", "index MiB", "qps@target", args.threads, args.k
    );
    for l in libs {
        println!(
            "{:<10} {:>9.2} {:>12.1} {:>12}",
            l.lib,
            l.build_secs,
            l.index_bytes() as f64 / (1 << 20) as f64,
            l.qps_at(target).map_or("—".into(), |q| format!("{q:.0}"))
        );
    }
    let find = |name: &str| libs.iter().find(|l| l.lib == name);
    if let Some(c) = find("cairn") {
        println!();
        for peer in libs.iter().filter(|l| l.lib != "cairn") {
            match (c.qps_at(target), peer.qps_at(target)) {
                (Some(a), Some(b)) => println!(
                    "cairn / {}: {:.2}× queries/s at recall {target}, {:.2}× build time",
                    peer.lib,
                    a / b,
                    c.build_secs / peer.build_secs
                ),
                _ => println!(
                    "cairn / {}: one of them never reached recall {target}",
                    peer.lib
                ),
            }
        }
    }
}

fn write_results(args: &Args, workload: &Workload, libs: &[LibReport]) -> Result<()> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let stem = args.out.join(format!("ann-{}", workload.name));
    let json = serde_json::json!({
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "workload": {
            "name": workload.name,
            "base": workload.base.len(),
            "dim": workload.base.dim,
            "queries": workload.queries.len(),
            "metric": workload.metric.as_str(),
        },
        "params": {
            "m": args.m,
            "ef_construction": args.ef_construction,
            "k": args.k,
            "build_threads": args.threads,
            "search_threads": 1,
            "repeats": args.repeats,
        },
        "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "target_recall": args.target_recall,
        "qps_at_target_recall": libs
            .iter()
            .map(|l| (l.lib.clone(), serde_json::json!(l.qps_at(args.target_recall))))
            .collect::<serde_json::Map<_, _>>(),
        "libs": libs,
    });
    let json_path = stem.with_extension("json");
    let tmp = stem.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&json)?)?;
    std::fs::rename(&tmp, &json_path)?;
    let png = stem.with_extension("png");
    let title = format!(
        "{} ({}×{}d), M={} efC={}",
        workload.name,
        workload.base.len(),
        workload.base.dim,
        args.m,
        args.ef_construction
    );
    plot::recall_vs_qps(&png, &title, args.k, libs)?;
    eprintln!("ann: wrote {} and {}", json_path.display(), png.display());
    Ok(())
}
