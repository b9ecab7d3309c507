//! The ANN bench's worker protocol: every library is built in a process of
//! its own, and then the parent interleaves their query passes.
//!
//! Why interleave: this machine is shared, and its speed drifts by ±15%
//! over tens of seconds. Sweeping one library after another puts each in a
//! different window, so the ratio between them carries that drift. Passes
//! taken in turn — round 1: A@ef1, B@ef1, A@ef2, B@ef2 …; round 2 again,
//! starting from the next library — give every library the same windows,
//! and the best pass of each (ef, library) is compared.
//!
//! The protocol is one JSON object or command per line:
//! 1. worker → parent: [`Built`], once the index is built (builds run one at
//!    a time, each with the stated threads, so build times are not shared);
//! 2. parent → worker: `pass EF`; worker → parent: [`Pass`] — one timed pass
//!    over every query on one thread (the worker writes its ids the first
//!    time it runs an ef);
//! 3. parent → worker: `report`; worker → parent: [`LibReport`], then exit.
//!
//! `python/ann_peers.py` speaks the same protocol for hnswlib, FAISS and
//! usearch; [`serve`] is the Rust workers' side.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use cairn_datasets::{texmex, Vectors};
use serde::{Deserialize, Serialize};

use crate::memory::rss;
use crate::report::{percentile, EfRun, LibReport};

/// What a worker says once its index is built.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Built {
    pub lib: String,
    pub version: String,
    pub build_secs: f64,
    pub threads: usize,
    /// Resident memory after loading the dataset, before building.
    pub loaded_rss_bytes: u64,
}

/// The answer to `pass EF`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Pass {
    pub qps: f64,
}

/// The parent's handle on one worker process.
pub struct WorkerProcess {
    pub built: Built,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl WorkerProcess {
    /// Starts `cmd` (its stderr goes to ours) and waits until it has built
    /// its index.
    pub fn start(lib: &str, mut cmd: Command) -> Result<Self> {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting the {lib} worker"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            bail!("the {lib} worker has no pipes");
        };
        let mut stdout = BufReader::new(stdout);
        let built: Built = read_message(lib, &mut stdout)?;
        Ok(WorkerProcess {
            built,
            child,
            stdin,
            stdout,
        })
    }

    /// One timed pass over the queries at `ef`; returns its queries/s.
    pub fn pass(&mut self, ef: usize) -> Result<f64> {
        self.send(&format!("pass {ef}"))?;
        let pass: Pass = read_message(&self.built.lib, &mut self.stdout)?;
        Ok(pass.qps)
    }

    /// Asks for the final report and waits for the worker to exit.
    pub fn report(mut self) -> Result<LibReport> {
        self.send("report")?;
        let report: LibReport = read_message(&self.built.lib, &mut self.stdout)?;
        let status = self.child.wait()?;
        if !status.success() {
            bail!("the {} worker failed ({status})", self.built.lib);
        }
        Ok(report)
    }

    fn send(&mut self, line: &str) -> Result<()> {
        writeln!(self.stdin, "{line}")
            .and_then(|()| self.stdin.flush())
            .with_context(|| format!("the {} worker stopped listening", self.built.lib))
    }
}

fn read_message<T: serde::de::DeserializeOwned>(
    lib: &str,
    stdout: &mut BufReader<ChildStdout>,
) -> Result<T> {
    let mut line = String::new();
    if stdout.read_line(&mut line)? == 0 {
        bail!("the {lib} worker exited early (its error is above)");
    }
    serde_json::from_str(&line).with_context(|| format!("reading the {lib} worker's {line:?}"))
}

/// Runs `repeats` rounds of one pass per (ef, worker), each round starting
/// from the next worker, so no library always goes first.
pub fn interleave(workers: &mut [WorkerProcess], efs: &[usize], repeats: usize) -> Result<()> {
    let n = workers.len();
    for round in 0..repeats.max(1) {
        eprintln!("ann: round {}/{}: ef {efs:?}", round + 1, repeats.max(1));
        for &ef in efs {
            for i in 0..n {
                workers[(round + i) % n].pass(ef)?;
            }
        }
    }
    Ok(())
}

/// The Rust workers' side of the protocol: announces `built`, then answers
/// commands on stdin until `report`, whose answer it returns. `search(q, ef)`
/// returns the top-k ids of one query.
pub fn serve(
    built: Built,
    queries: &Vectors,
    out: &Path,
    mut search: impl FnMut(&[f32], usize) -> Vec<u32>,
) -> Result<LibReport> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", serde_json::to_string(&built)?)?;
    stdout.flush()?;
    // Per ef: the best pass's queries/s and latencies, and the ids file.
    let mut best: BTreeMap<usize, (f64, Vec<f64>, String)> = BTreeMap::new();
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("pass"), Some(ef)) => {
                let ef: usize = ef.parse().with_context(|| format!("bad ef in {line:?}"))?;
                let mut lat = Vec::with_capacity(queries.len());
                let mut ids = Vec::with_capacity(queries.len());
                let started = Instant::now();
                for q in queries.rows() {
                    let t = Instant::now();
                    ids.push(search(q, ef));
                    lat.push(t.elapsed().as_secs_f64() * 1e6);
                }
                let qps = queries.len() as f64 / started.elapsed().as_secs_f64();
                let path = out.join(format!("{}-ef{ef}.ivecs", built.lib));
                match best.get_mut(&ef) {
                    None => {
                        texmex::write_ivecs(&path, &ids)?;
                        let path = path.to_string_lossy().into_owned();
                        best.insert(ef, (qps, lat, path));
                    }
                    Some(b) if qps > b.0 => (b.0, b.1) = (qps, lat),
                    Some(_) => {}
                }
                writeln!(stdout, "{}", serde_json::to_string(&Pass { qps })?)?;
                stdout.flush()?;
            }
            (Some("report"), None) => {
                let runs = best
                    .into_iter()
                    .map(|(ef, (qps, mut lat, ids))| {
                        lat.sort_by(f64::total_cmp);
                        EfRun {
                            ef,
                            qps,
                            p50_us: percentile(&lat, 50.0),
                            p99_us: percentile(&lat, 99.0),
                            ids,
                            recall: 0.0,
                        }
                    })
                    .collect();
                return Ok(LibReport {
                    lib: built.lib,
                    version: built.version,
                    build_secs: built.build_secs,
                    threads: built.threads,
                    peak_rss_bytes: rss().1,
                    loaded_rss_bytes: built.loaded_rss_bytes,
                    runs,
                });
            }
            _ => bail!("unknown command {line:?}"),
        }
    }
    bail!("stdin closed before `report`")
}
