//! Load generation for the HTTP benchmark: closed loop (N clients, each
//! sending its next request when the last one answered) and open loop
//! (requests sent on a fixed schedule whatever the server does, latency
//! counted from the *scheduled* send time, so a stalled server cannot hide
//! its queue: no coordinated omission). Latencies go into `hdrhistogram`s.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use parking_lot::Mutex;
use serde::Serialize;

/// What the clients send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Top-k queries, no filter.
    Search,
    /// Top-k queries with a keyword filter matching 10% of the points.
    Filtered,
    /// 90% searches, 10% single-point upserts (acknowledged = durable).
    Mixed,
}

#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "lowercase", tag = "mode")]
pub enum Mode {
    Closed { clients: usize },
    Open { rate: f64 },
}

/// One request the generator can send; implemented by every target.
pub trait Target: Send + Sync + 'static {
    /// Top-k ids for query `query` (an index into the prepared query set),
    /// with the 10% filter when `filtered`. `client` picks a connection.
    fn search(
        &self,
        client: usize,
        query: usize,
        filtered: bool,
    ) -> impl Future<Output = Result<Vec<u64>>> + Send;
    /// Inserts one new point (vector `seed` of the insert set) with id `id`.
    fn insert(
        &self,
        client: usize,
        id: u64,
        seed: usize,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// Latency percentiles in milliseconds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Latency {
    pub count: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    fn of(h: &Histogram<u64>) -> Latency {
        let ms = |us: u64| us as f64 / 1000.0;
        Latency {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p95_ms: ms(h.value_at_quantile(0.95)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct PhaseResult {
    pub profile: Profile,
    #[serde(flatten)]
    pub mode: Mode,
    pub seconds: f64,
    /// Completed requests per second (reads and writes).
    pub throughput: f64,
    pub errors: u64,
    pub reads: Latency,
    pub writes: Option<Latency>,
    /// First answer per query, for recall (search and filtered profiles).
    #[serde(skip)]
    pub answers: Vec<Option<Vec<u64>>>,
}

/// Shared state of one phase's clients.
struct Recorder {
    reads: Mutex<Histogram<u64>>,
    writes: Mutex<Histogram<u64>>,
    answers: Mutex<Vec<Option<Vec<u64>>>>,
    errors: AtomicU64,
    done: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Recorder {
    fn new(queries: usize) -> Recorder {
        let hist = || Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds");
        Recorder {
            reads: Mutex::new(hist()),
            writes: Mutex::new(hist()),
            answers: Mutex::new(vec![None; queries]),
            errors: AtomicU64::new(0),
            done: AtomicU64::new(0),
            first_error: Mutex::new(None),
        }
    }

    /// Sends request number `i` and records it; latency is measured from
    /// `since` (the send time, or the scheduled time in an open loop).
    async fn request<T: Target>(&self, t: &T, p: &Plan, client: usize, i: usize, since: Instant) {
        let write = p.profile == Profile::Mixed && i % 10 == 9;
        let outcome = if write {
            let id = p.next_id.fetch_add(1, Relaxed);
            t.insert(client, id, i / 10).await.map(|()| None)
        } else {
            let q = i % p.queries;
            t.search(client, q, p.profile == Profile::Filtered)
                .await
                .map(|ids| Some((q, ids)))
        };
        let us = since.elapsed().as_micros().max(1) as u64;
        match outcome {
            Ok(answer) => {
                let hist = if write { &self.writes } else { &self.reads };
                hist.lock().saturating_record(us);
                if let Some((q, ids)) = answer {
                    let mut answers = self.answers.lock();
                    answers[q].get_or_insert(ids);
                }
                self.done.fetch_add(1, Relaxed);
            }
            Err(e) => {
                self.errors.fetch_add(1, Relaxed);
                self.first_error.lock().get_or_insert(format!("{e:#}"));
            }
        }
    }

    fn finish(&self, plan: &Plan, mode: Mode, seconds: f64) -> PhaseResult {
        if let Some(e) = self.first_error.lock().take() {
            eprintln!(
                "http: warning: {} errors, the first: {e}",
                self.errors.load(Relaxed)
            );
        }
        let writes = self.writes.lock();
        PhaseResult {
            profile: plan.profile,
            mode,
            seconds,
            throughput: self.done.load(Relaxed) as f64 / seconds,
            errors: self.errors.load(Relaxed),
            reads: Latency::of(&self.reads.lock()),
            writes: (plan.profile == Profile::Mixed).then(|| Latency::of(&writes)),
            answers: std::mem::take(&mut self.answers.lock()),
        }
    }
}

/// A phase to run: profile, how many distinct queries, and where new ids
/// for inserts start (shared across phases so ids never collide).
pub struct Plan {
    pub profile: Profile,
    pub queries: usize,
    pub duration: Duration,
    pub next_id: Arc<AtomicU64>,
    pub label: String,
}

fn progress(plan: &Plan, rec: &Arc<Recorder>) -> (ProgressBar, tokio::task::JoinHandle<()>) {
    let bar = ProgressBar::new(plan.duration.as_millis() as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>32} [{bar:30}] {elapsed:>3} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(plan.label.clone());
    let (b, r, started) = (bar.clone(), rec.clone(), Instant::now());
    let ticker = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let secs = started.elapsed().as_secs_f64().max(1e-3);
            b.set_position(started.elapsed().as_millis() as u64);
            b.set_message(format!(
                "{:.0} req/s, {} errors",
                r.done.load(Relaxed) as f64 / secs,
                r.errors.load(Relaxed)
            ));
        }
    });
    (bar, ticker)
}

/// `clients` concurrent clients, each with one request in flight.
pub async fn closed_loop<T: Target>(target: Arc<T>, plan: Plan, clients: usize) -> PhaseResult {
    let rec = Arc::new(Recorder::new(plan.queries));
    let plan = Arc::new(plan);
    let (bar, ticker) = progress(&plan, &rec);
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let (t, p, r, next, stop) = (
                target.clone(),
                plan.clone(),
                rec.clone(),
                next.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                while !stop.load(Relaxed) {
                    let i = next.fetch_add(1, Relaxed);
                    r.request(&*t, &p, client, i, Instant::now()).await;
                }
            })
        })
        .collect();
    tokio::time::sleep(plan.duration).await;
    stop.store(true, Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let seconds = started.elapsed().as_secs_f64();
    ticker.abort();
    bar.finish_and_clear();
    rec.finish(&plan, Mode::Closed { clients }, seconds)
}

/// Requests sent at a fixed `rate` per second for the plan's duration, each
/// on its own task; `connections` bounds the client connections they share.
///
/// The schedule is kept by a blocking thread with `std::thread::sleep`, not
/// by `tokio::time::sleep_until`: tokio's timer wheel ticks in whole
/// milliseconds and rounds every deadline up, so each request would leave up
/// to a millisecond late, and since latency counts from the scheduled time
/// that lateness, the generator's own, would be charged to the server.
pub async fn open_loop<T: Target>(
    target: Arc<T>,
    plan: Plan,
    rate: f64,
    connections: usize,
) -> PhaseResult {
    let rec = Arc::new(Recorder::new(plan.queries));
    let plan = Arc::new(plan);
    let (bar, ticker) = progress(&plan, &rec);
    let total = (rate * plan.duration.as_secs_f64()) as usize;
    let started = Instant::now();
    let runtime = tokio::runtime::Handle::current();
    let schedule = {
        let rec = rec.clone();
        let plan = plan.clone();
        tokio::task::spawn_blocking(move || {
            let mut tasks = Vec::with_capacity(total);
            for i in 0..total {
                let at = started + Duration::from_secs_f64(i as f64 / rate);
                if let Some(wait) = at.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let (t, p, r) = (target.clone(), plan.clone(), rec.clone());
                tasks.push(runtime.spawn(async move {
                    r.request(&*t, &p, i % connections.max(1), i, at).await;
                }));
            }
            tasks
        })
    };
    for t in schedule
        .await
        .expect("the open-loop schedule thread panicked")
    {
        let _ = t.await;
    }
    let seconds = started.elapsed().as_secs_f64();
    ticker.abort();
    bar.finish_and_clear();
    rec.finish(&plan, Mode::Open { rate }, seconds)
}
