//! The ingestion job: documents in, searchable chunks out.
//!
//! 1. **Load** (in parallel, `rayon`): walk the paths, read each file into
//!    documents.
//! 2. **Plan** (in parallel): hash each document; one whose hash is the only
//!    one the collection holds for its id is *skipped*; the rest are chunked
//!    by the model's tokenizer and become *added* or *updated*.
//! 3. **Embed and write** (pipelined): chunks are embedded a round at a
//!    time on this thread while a writer thread upserts the previous round;
//!    each round is one upsert plus one delete of the chunks past the new
//!    end of documents that shrank. A document is never split across
//!    rounds, so each one is replaced whole.
//! 4. **Prune** (with `--prune`): documents whose file is gone from under
//!    the given folders, or whose record is gone from a JSON-lines file that
//!    loaded, are removed.
//!
//! Errors on single files or records are collected into the summary; only a
//! failure to reach the collection at all ends the run.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Instant;

use cairn_engine::{PointId, PointStruct};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;

use crate::chunk_point::{chunk_payload, chunk_point_id};
use crate::chunker::{chunk, Chunk, ChunkerConfig};
use crate::document::Document;
use crate::embed::Embedder;
use crate::error::Result;
use crate::loader::{self, LoadOptions};
use crate::sink::{DocumentWrite, Sink, StoredDocument, WriteBatch};

/// How an ingestion run behaves.
#[derive(Clone, Debug)]
pub struct IngestOptions {
    pub chunker: ChunkerConfig,
    pub load: LoadOptions,
    /// Remove documents that disappeared from under the given paths.
    pub prune: bool,
    /// Re-embed documents even when their hash is unchanged (after changing
    /// the chunk sizes, say).
    pub force: bool,
    /// One chunk per document, its whole text: BM25 indexes all of it, the
    /// model reads only its first `max_tokens` (BEIR's protocol; fine for
    /// short records).
    pub whole_documents: bool,
    /// Chunks embedded and written per round.
    pub round_chunks: usize,
    /// Draw a progress bar on stderr (only when it is a terminal).
    pub progress: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            chunker: ChunkerConfig::default(),
            load: LoadOptions::default(),
            prune: false,
            force: false,
            whole_documents: false,
            round_chunks: 256,
            progress: false,
        }
    }
}

/// A file or record that could not be ingested, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub source: String,
    pub error: String,
}

/// What a run did (`cairn ingest --json` prints it).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub added: usize,
    pub updated: usize,
    pub skipped: usize,
    pub failed: usize,
    pub removed: usize,
    pub unsupported: usize,
    /// Chunks embedded and written.
    pub chunks: usize,
    pub seconds: f64,
    pub chunks_per_second: f64,
    /// Of `seconds`: spent embedding, and (on the writer thread, overlapping
    /// with embedding) writing to the collection.
    pub embed_seconds: f64,
    pub write_seconds: f64,
    pub failures: Vec<Failure>,
    pub unsupported_files: Vec<String>,
}

impl Summary {
    /// Whether the collection changed.
    pub fn changed(&self) -> bool {
        self.added + self.updated + self.removed > 0
    }

    /// One line for people.
    pub fn line(&self) -> String {
        if !self.changed() && self.failed == 0 {
            return format!(
                "nothing changed: {} documents up to date{}",
                self.skipped,
                match self.unsupported {
                    0 => String::new(),
                    n => format!(", {n} files of unsupported types skipped"),
                }
            );
        }
        format!(
            "{} added, {} updated, {} skipped, {} failed, {} removed; {} chunks in {:.1} s ({:.0} chunks/s){}",
            self.added,
            self.updated,
            self.skipped,
            self.failed,
            self.removed,
            self.chunks,
            self.seconds,
            self.chunks_per_second,
            match self.unsupported {
                0 => String::new(),
                n => format!("; {n} files of unsupported types skipped"),
            }
        )
    }
}

/// A document to (re)write, chunked.
struct Planned {
    document: Document,
    hash: String,
    chunks: Vec<Chunk>,
    /// Chunk ids of the stored version past the new end.
    stale: Vec<PointId>,
}

enum Plan {
    Skip,
    Write(Planned),
    Fail(Failure),
}

/// Which stored documents a pruning run may remove.
struct PruneScope {
    roots: Vec<PathBuf>,
    /// Every document id the given paths hold now (skipped ones included).
    present: HashSet<String>,
    /// Files that were read completely: a record missing from one of them
    /// was deleted from it. A file that failed to read protects its documents.
    complete_files: HashSet<String>,
    /// Files found under the roots at all.
    files: HashSet<String>,
}

pub struct Ingest<'a> {
    embedder: &'a dyn Embedder,
    sink: &'a dyn Sink,
    options: IngestOptions,
}

impl<'a> Ingest<'a> {
    pub fn new(embedder: &'a dyn Embedder, sink: &'a dyn Sink, options: IngestOptions) -> Self {
        Ingest {
            embedder,
            sink,
            options,
        }
    }

    /// Ingests files and folders.
    pub fn paths(&self, paths: &[PathBuf]) -> Result<Summary> {
        let started = Instant::now();
        let found = loader::discover(paths)?;
        let loaded: Vec<(String, Result<loader::Loaded>)> = found
            .files
            .par_iter()
            .map(|(path, kind)| {
                (
                    path.to_string_lossy().into_owned(),
                    loader::load(path, *kind, &self.options.load),
                )
            })
            .collect();
        let mut failures = Vec::new();
        let mut documents = Vec::new();
        let mut scope = PruneScope {
            roots: found.roots.clone(),
            present: HashSet::new(),
            complete_files: HashSet::new(),
            files: found
                .files
                .iter()
                .map(|(p, _)| p.to_string_lossy().into_owned())
                .collect(),
        };
        for (source, result) in loaded {
            match result {
                Ok(l) => {
                    if l.errors.is_empty() {
                        scope.complete_files.insert(source);
                    }
                    failures.extend(
                        l.errors
                            .into_iter()
                            .map(|(source, error)| Failure { source, error }),
                    );
                    documents.extend(l.documents);
                }
                Err(e) => failures.push(Failure {
                    source,
                    error: e.to_string(),
                }),
            }
        }
        scope.present = documents.iter().map(|d| d.id.clone()).collect();
        let mut summary = self.run(documents, failures, self.options.prune.then_some(scope))?;
        summary.unsupported = found.unsupported.len();
        summary.unsupported_files = found
            .unsupported
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        summary.seconds = started.elapsed().as_secs_f64();
        summary.chunks_per_second = summary.chunks as f64 / summary.seconds.max(1e-9);
        Ok(summary)
    }

    /// Ingests documents given directly (the server's documents endpoint).
    pub fn documents(&self, documents: Vec<Document>) -> Result<Summary> {
        let started = Instant::now();
        let mut summary = self.run(documents, Vec::new(), None)?;
        summary.seconds = started.elapsed().as_secs_f64();
        summary.chunks_per_second = summary.chunks as f64 / summary.seconds.max(1e-9);
        Ok(summary)
    }

    fn plan(&self, doc: Document, stored: Option<&StoredDocument>, config: ChunkerConfig) -> Plan {
        let hash = doc.content_hash();
        let unchanged = stored.is_some_and(|s| s.hashes.len() == 1 && s.hashes.contains(&hash));
        if unchanged && !self.options.force {
            return Plan::Skip;
        }
        let fail = |error: String| {
            Plan::Fail(Failure {
                source: if doc.file_type == "jsonl" {
                    format!("{} ({})", doc.source, doc.id)
                } else {
                    doc.source.clone()
                },
                error,
            })
        };
        let chunks = if self.options.whole_documents {
            let text = doc.text.trim();
            match text.is_empty() {
                true => Vec::new(),
                false => vec![Chunk {
                    index: 0,
                    text: text.to_string(),
                    tokens: 0, // not counted: the model truncates, BM25 reads all
                }],
            }
        } else {
            match self.embedder.token_spans(&doc.text) {
                Ok(spans) => chunk(&doc.text, &spans, config),
                Err(e) => return fail(e.to_string()),
            }
        };
        if chunks.is_empty() {
            return fail("no text to index (empty, or a PDF without a text layer)".into());
        }
        let stale = stored
            .map(|s| {
                (chunks.len()..=s.max_index)
                    .map(|i| chunk_point_id(&doc.id, i))
                    .collect()
            })
            .unwrap_or_default();
        Plan::Write(Planned {
            document: doc,
            hash,
            chunks,
            stale,
        })
    }

    fn run(
        &self,
        documents: Vec<Document>,
        mut failures: Vec<Failure>,
        prune: Option<PruneScope>,
    ) -> Result<Summary> {
        let config = match self.options.whole_documents {
            true => self.options.chunker,
            false => self
                .options
                .chunker
                .fitted(self.embedder.max_tokens(), self.embedder.special_tokens())?,
        };
        let stored = self.sink.stored_documents()?;
        let mut summary = Summary::default();

        // One document per id: a later duplicate is an error, not an overwrite.
        let mut seen = HashSet::new();
        let mut unique = Vec::with_capacity(documents.len());
        for doc in documents {
            if seen.insert(doc.id.clone()) {
                unique.push(doc);
            } else {
                failures.push(Failure {
                    source: doc.source.clone(),
                    error: format!("duplicate document id `{}`", doc.id),
                });
            }
        }
        let plans: Vec<Plan> = unique
            .into_par_iter()
            .map(|doc| {
                let s = stored.get(&doc.id);
                self.plan(doc, s, config)
            })
            .collect();
        let mut work = Vec::new();
        for plan in plans {
            match plan {
                Plan::Skip => summary.skipped += 1,
                Plan::Write(p) => work.push(p),
                Plan::Fail(f) => failures.push(f),
            }
        }

        let mut removed = Vec::new();
        let mut removed_points = Vec::new();
        if let Some(scope) = &prune {
            for (id, doc) in &stored {
                let under_root = scope
                    .roots
                    .iter()
                    .any(|r| std::path::Path::new(&doc.source).starts_with(r));
                let gone = if scope.files.contains(&doc.source) {
                    scope.complete_files.contains(&doc.source) && !scope.present.contains(id)
                } else {
                    true
                };
                if under_root && gone {
                    removed.push(id.clone());
                    removed_points.extend((0..=doc.max_index).map(|i| chunk_point_id(id, i)));
                }
            }
            removed.sort();
        }

        let total_chunks: usize = work.iter().map(|p| p.chunks.len()).sum();
        let bar = self.progress_bar(total_chunks as u64);
        let created_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);

        let mut removal = Removal {
            documents: removed,
            points: removed_points,
        };
        let mut feed = Feed {
            bar: &bar,
            created_at: &created_at,
            total_docs: work.len(),
            failures: &mut failures,
            embed_seconds: 0.0,
        };
        let mut outcomes: Vec<(WriteBatch, Result<()>)> = Vec::new();
        let mut write_seconds = 0.0;
        let mut write = |batch: WriteBatch| {
            let t = Instant::now();
            let result = self.sink.write(&batch);
            write_seconds += t.elapsed().as_secs_f64();
            outcomes.push((batch, result));
        };
        if self.sink.shares_cpu() {
            // Writing here, between rounds: overlapping a CPU-bound write
            // with inference on the same cores slowed both (on 2 cores the
            // write of 5,000 chunks took 10–12 s overlapped against 1.5 s
            // alone, and inference 21 s against 17.6 s).
            self.embed_rounds(work, &mut removal, &mut feed, &mut |b| {
                write(b);
                true
            });
        } else {
            // A remote collection: the next round embeds while the server writes.
            let (to_writer, from_embedder) = mpsc::sync_channel::<WriteBatch>(1);
            std::thread::scope(|scope| {
                scope.spawn(move || from_embedder.into_iter().for_each(&mut write));
                self.embed_rounds(work, &mut removal, &mut feed, &mut |b| {
                    to_writer.send(b).is_ok() // false: the writer is gone
                });
                drop(to_writer);
            });
        }
        summary.embed_seconds = feed.embed_seconds;
        summary.write_seconds = write_seconds;
        let write_results = outcomes;
        bar.finish_and_clear();

        for (batch, result) in write_results {
            match result {
                Ok(()) => {
                    for d in &batch.documents {
                        summary.chunks += d.points.len();
                        if stored.contains_key(&d.document.id) {
                            summary.updated += 1;
                        } else {
                            summary.added += 1;
                        }
                    }
                    summary.removed += batch.removed.len();
                }
                Err(e) => {
                    for d in &batch.documents {
                        failures.push(Failure {
                            source: d.document.source.clone(),
                            error: format!("write failed: {e}"),
                        });
                    }
                    for id in &batch.removed {
                        failures.push(Failure {
                            source: id.clone(),
                            error: format!("remove failed: {e}"),
                        });
                    }
                }
            }
        }
        summary.failed = failures.len();
        summary.failures = failures;
        Ok(summary)
    }

    /// Embeds the documents round by round and hands each round's batch to
    /// `deliver` (which answers `false` to stop); the removals ride with
    /// the last round, or go alone when nothing was embedded.
    fn embed_rounds(
        &self,
        work: Vec<Planned>,
        removal: &mut Removal,
        feed: &mut Feed<'_>,
        deliver: &mut dyn FnMut(WriteBatch) -> bool,
    ) {
        let mut done_docs = 0;
        let mut rounds = rounds(work, self.options.round_chunks.max(1))
            .into_iter()
            .peekable();
        while let Some(round) = rounds.next() {
            let texts: Vec<&str> = round
                .iter()
                .flat_map(|p| p.chunks.iter().map(|c| c.text.as_str()))
                .collect();
            let t = Instant::now();
            let embedded = self.embed_with_progress(&texts, feed.bar);
            feed.embed_seconds += t.elapsed().as_secs_f64();
            let vectors = match embedded {
                Ok(v) => v,
                Err(e) => {
                    feed.failures.extend(round.into_iter().map(|p| Failure {
                        source: p.document.source,
                        error: format!("embedding failed: {e}"),
                    }));
                    continue;
                }
            };
            let mut vectors = vectors.into_iter();
            let mut batch = WriteBatch::default();
            for p in round {
                let points = p
                    .chunks
                    .iter()
                    .map(|c| PointStruct {
                        id: chunk_point_id(&p.document.id, c.index),
                        vector: vectors.next().unwrap_or_default(),
                        payload: Some(chunk_payload(&p.document, &p.hash, c, feed.created_at)),
                    })
                    .collect();
                batch.stale.extend(p.stale);
                batch.documents.push(DocumentWrite {
                    document: p.document,
                    content_hash: p.hash,
                    points,
                });
            }
            if rounds.peek().is_none() {
                batch.stale.append(&mut removal.points);
                batch.removed = std::mem::take(&mut removal.documents);
            }
            done_docs += batch.documents.len();
            feed.bar
                .set_message(format!("{done_docs}/{} documents", feed.total_docs));
            if !deliver(batch) {
                return;
            }
        }
        if !removal.points.is_empty() {
            deliver(WriteBatch {
                documents: Vec::new(),
                stale: std::mem::take(&mut removal.points),
                removed: std::mem::take(&mut removal.documents),
            });
        }
    }

    /// Embeds `texts` in slices, advancing the bar after each; the slices
    /// follow token length so each is padded little.
    fn embed_with_progress(&self, texts: &[&str], bar: &ProgressBar) -> Result<Vec<Vec<f32>>> {
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out = vec![Vec::new(); texts.len()];
        for slice in order.chunks(64) {
            let batch: Vec<&str> = slice.iter().map(|&i| texts[i]).collect();
            for (&i, v) in slice.iter().zip(self.embedder.embed(&batch)?) {
                out[i] = v;
            }
            bar.inc(slice.len() as u64);
        }
        Ok(out)
    }

    fn progress_bar(&self, total: u64) -> ProgressBar {
        if !self.options.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg:>22} [{bar:30}] {pos}/{len} chunks  {per_sec}  eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar
    }
}

/// Documents to remove, and their chunk points.
struct Removal {
    documents: Vec<String>,
    points: Vec<PointId>,
}

/// What embedding rounds report into.
struct Feed<'a> {
    bar: &'a ProgressBar,
    created_at: &'a str,
    total_docs: usize,
    failures: &'a mut Vec<Failure>,
    embed_seconds: f64,
}

/// Groups documents into rounds of at least `size` chunks (the last may be
/// smaller), never splitting a document.
fn rounds(work: Vec<Planned>, size: usize) -> Vec<Vec<Planned>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut chunks = 0;
    for p in work {
        chunks += p.chunks.len();
        current.push(p);
        if chunks >= size {
            out.push(std::mem::take(&mut current));
            chunks = 0;
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}
