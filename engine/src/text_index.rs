//! Full-text search over one payload field: a `tantivy` index scored with
//! BM25 (k1 = 1.2, b = 0.75), kept in step with the collection's writes.
//!
//! The index is *derived* data: everything in it can be rebuilt from the
//! payloads the checkpoint and WAL hold, so it has no durability of its own
//! to get wrong. Writes go into tantivy's writer at once but are committed
//! lazily — by the next text search (so a search always sees every
//! acknowledged write) or the next checkpoint — because a commit costs
//! milliseconds (segment files, fsyncs, a reader reload) and ingestion
//! writes far more often than it searches. Every commit carries the
//! operation stamp it reflects (the commit payload). On open, an index whose stamp lies between the
//! checkpoint's and the WAL's last is used and the WAL replayed over it —
//! each replayed write re-states the text of the points it touched (delete
//! by id, add), so replaying a write the index already has is harmless.
//! Any other index (missing, damaged, behind the checkpoint, from a
//! snapshot that did not carry it) is rebuilt from the payloads.
//!
//! Analysis (index and query alike): Unicode word split, lower-case, ASCII
//! folding, English stop words removed, Snowball English stemming — what a
//! search engine's `english` analyzer does. A query is analysed into terms
//! and run as a disjunction (any term may match), like a BM25 `match` query;
//! query text is never parsed as syntax, so any user string is safe.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::{MappedMutexGuard, Mutex, MutexGuard};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED, STRING,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer, TokenStream,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::error::{EngineError, Result};
use crate::types::PointId;

const TOKENIZER: &str = "cairn_en";
/// What a commit payload starts with; the stamp follows.
const PAYLOAD_PREFIX: &str = "cairn-text-v1 seq=";
/// tantivy's smallest indexing arena; chunks are small, and a bigger arena
/// would only hold memory per collection.
const WRITER_MEMORY: usize = 15_000_000;

pub struct TextIndex {
    field: String,
    dir: PathBuf,
    /// `None` only while `Drop` closes it.
    writer: Mutex<Option<IndexWriter>>,
    reader: IndexReader,
    id: Field,
    text: Field,
    /// Stamp of the last commit.
    seq: AtomicU64,
    /// Stamp of the last write handed to the writer.
    written: AtomicU64,
    /// The writer holds writes not yet committed.
    dirty: AtomicBool,
    /// A write failed to reach the index: rebuild it at the next checkpoint.
    stale: AtomicBool,
}

/// The directory of the text index on `field`, inside a collection's.
pub fn dir_name(field: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(field.as_bytes());
    format!("text-{}", hex::encode(&digest[..8]))
}

fn analyzer() -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter);
    match StopWordFilter::new(Language::English) {
        Some(stop) => builder
            .filter(stop)
            .filter(Stemmer::new(Language::English))
            .build(),
        None => builder.filter(Stemmer::new(Language::English)).build(),
    }
}

fn schema() -> (Schema, Field, Field) {
    let mut b = Schema::builder();
    let id = b.add_text_field("id", STRING | STORED);
    let text = b.add_text_field(
        "text",
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqs),
        ),
    );
    (b.build(), id, text)
}

fn err(dir: &Path, what: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::corrupt(dir, format!("text index: {what}: {e}"))
}

impl TextIndex {
    fn from_index(field: &str, dir: &Path, index: Index, seq: u64) -> Result<TextIndex> {
        let (_, id, text) = schema();
        index.tokenizers().register(TOKENIZER, analyzer());
        let writer: IndexWriter = index
            .writer_with_num_threads(1, WRITER_MEMORY)
            .map_err(|e| err(dir, "open writer", e))?;
        // A process killed inside a commit leaves files the committed meta
        // does not name — among them delete files called by the opstamp
        // they were written at. The WAL replay brings the writer back to
        // that same opstamp, and tantivy refuses to create a file that
        // exists, so the first commit after the crash would fail. Its
        // garbage collector only runs after a commit; run it before one.
        writer
            .garbage_collect_files()
            .wait()
            .map_err(|e| err(dir, "remove files of an unfinished commit", e))?;
        // tantivy starts a reopened writer's stamper at the last commit's
        // opstamp, so the first write after a restart would share its stamp
        // with that commit — and tantivy's delete bookkeeping (merges skip a
        // segment whose deletes are "already at" the target opstamp) can
        // then drop that write's delete, leaving a point with its old text
        // beside the new. Spend the shared stamp on a delete that matches
        // nothing (no point has an empty id).
        writer.delete_term(Term::from_field_text(id, ""));
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| err(dir, "open reader", e))?;
        Ok(TextIndex {
            field: field.to_string(),
            dir: dir.to_path_buf(),
            writer: Mutex::new(Some(writer)),
            reader,
            id,
            text,
            seq: AtomicU64::new(seq),
            written: AtomicU64::new(seq),
            dirty: AtomicBool::new(false),
            stale: AtomicBool::new(false),
        })
    }

    /// Opens the index in `dir` if it was committed at a stamp in
    /// `min_seq..=max_seq`; `None` (after a log line) when it must be rebuilt.
    pub fn open(field: &str, dir: &Path, min_seq: u64, max_seq: u64) -> Option<TextIndex> {
        let opened = (|| -> Result<(TextIndex, u64)> {
            let index = Index::open_in_dir(dir).map_err(|e| err(dir, "open", e))?;
            let seq = index
                .load_metas()
                .map_err(|e| err(dir, "read metas", e))?
                .payload
                .as_deref()
                .and_then(|p| p.strip_prefix(PAYLOAD_PREFIX))
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| err(dir, "commit", "no Cairn stamp"))?;
            index
                .validate_checksum()
                .map_err(|e| err(dir, "checksums", e))
                .and_then(|bad| match bad.is_empty() {
                    true => Ok(()),
                    false => Err(err(dir, "checksums", format!("damaged files {bad:?}"))),
                })?;
            Ok((TextIndex::from_index(field, dir, index, seq)?, seq))
        })();
        match opened {
            Ok((index, seq)) if (min_seq..=max_seq).contains(&seq) => {
                tracing::debug!(dir = %dir.display(), seq, min_seq, max_seq, "text index opened");
                Some(index)
            }
            Ok((_, seq)) => {
                tracing::info!(dir = %dir.display(), seq, min_seq, max_seq, "text index is out of step; rebuilding it");
                None
            }
            Err(e) => {
                if dir.exists() {
                    tracing::warn!(error = %e, "text index unusable; rebuilding it");
                }
                None
            }
        }
    }

    /// Builds a fresh index in `dir` (replacing whatever is there) from
    /// `docs`, committed at `seq`.
    pub fn create(
        field: &str,
        dir: &Path,
        docs: impl Iterator<Item = (PointId, String)>,
        seq: u64,
    ) -> Result<TextIndex> {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).map_err(EngineError::io(dir))?;
        let (schema, _, _) = schema();
        let index = Index::create_in_dir(dir, schema).map_err(|e| err(dir, "create", e))?;
        let text = TextIndex::from_index(field, dir, index, 0)?;
        {
            let writer = text.writer()?;
            for (id, body) in docs {
                writer
                    .add_document(text.document(id, &body))
                    .map_err(|e| err(dir, "add", e))?;
            }
        }
        text.commit(seq)?;
        Ok(text)
    }

    pub fn field(&self) -> &str {
        &self.field
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn document(&self, id: PointId, body: &str) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        doc.add_text(self.id, id.to_string());
        doc.add_text(self.text, body);
        doc
    }

    fn writer(&self) -> Result<MappedMutexGuard<'_, IndexWriter>> {
        MutexGuard::try_map(self.writer.lock(), Option::as_mut)
            .map_err(|_| err(&self.dir, "writer", "closed"))
    }

    fn commit(&self, seq: u64) -> Result<()> {
        let mut writer = self.writer()?;
        self.commit_locked(&mut writer, seq)
    }

    fn commit_locked(&self, writer: &mut IndexWriter, seq: u64) -> Result<()> {
        let mut prepared = writer
            .prepare_commit()
            .map_err(|e| err(&self.dir, "prepare commit", e))?;
        prepared.set_payload(&format!("{PAYLOAD_PREFIX}{seq}"));
        let opstamp = prepared.commit().map_err(|e| err(&self.dir, "commit", e))?;
        tracing::debug!(field = %self.field, seq, opstamp, "text index committed");
        self.seq.store(seq, Ordering::SeqCst);
        self.dirty.store(false, Ordering::SeqCst);
        self.reader
            .reload()
            .map_err(|e| err(&self.dir, "reload", e))
    }

    /// Stamp of the last commit.
    pub fn seq(&self) -> u64 {
        self.seq.load(Ordering::SeqCst)
    }

    pub fn is_stale(&self) -> bool {
        self.stale.load(Ordering::SeqCst)
    }

    pub fn mark_stale(&self) {
        self.stale.store(true, Ordering::SeqCst);
    }

    /// Re-states the text of the points a write at `seq` touched: `None`
    /// removes a point, `Some(text)` replaces its text. Committed later.
    pub fn update(&self, seq: u64, changes: &[(PointId, Option<String>)]) -> Result<()> {
        let writer = self.writer()?;
        for (id, body) in changes {
            writer.delete_term(Term::from_field_text(self.id, &id.to_string()));
            if let Some(body) = body {
                writer
                    .add_document(self.document(*id, body))
                    .map_err(|e| err(&self.dir, "add", e))?;
            }
        }
        self.written.store(seq, Ordering::SeqCst);
        self.dirty.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Commits what the writer holds, so searches see it.
    fn refresh(&self) -> Result<()> {
        if !self.dirty.load(Ordering::SeqCst) {
            return Ok(());
        }
        let mut writer = self.writer()?;
        if self.dirty.load(Ordering::SeqCst) {
            let seq = self.written.load(Ordering::SeqCst);
            self.commit_locked(&mut writer, seq)?;
        }
        Ok(())
    }

    /// Commits everything at stamp `seq` (a checkpoint's), even if the
    /// last writes did not touch this field, so the next open knows the
    /// index is current.
    pub fn stamp(&self, seq: u64) -> Result<()> {
        if self.dirty.load(Ordering::SeqCst) || self.seq() < seq {
            self.written.fetch_max(seq, Ordering::SeqCst);
            self.commit(seq)?;
        }
        Ok(())
    }

    /// The analysed terms of `text`, deduplicated, in order.
    fn terms(&self, text: &str) -> Vec<Term> {
        let mut analyzer = analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut terms: Vec<Term> = Vec::new();
        while stream.advance() {
            let term = Term::from_field_text(self.text, &stream.token().text);
            if !terms.contains(&term) {
                terms.push(term);
            }
        }
        terms
    }

    /// The `want` best BM25 matches of `query` among points `accept` keeps,
    /// best first. Filtering happens on the ranked list, widened until
    /// enough points pass or every match has been seen.
    pub fn search(
        &self,
        query: &str,
        want: usize,
        accept: &dyn Fn(PointId) -> bool,
    ) -> Result<Vec<(PointId, f32)>> {
        self.refresh()?;
        let terms = self.terms(query);
        if terms.is_empty() || want == 0 {
            return Ok(Vec::new());
        }
        let clauses: Vec<(Occur, Box<dyn Query>)> = terms
            .into_iter()
            .map(|t| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs));
                (Occur::Should, q)
            })
            .collect();
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let total = searcher.num_docs() as usize;
        let mut fetch = want.saturating_mul(4).max(64).min(total.max(1));
        loop {
            let top = searcher
                .search(&query, &TopDocs::with_limit(fetch).order_by_score())
                .map_err(|e| err(&self.dir, "search", e))?;
            let exhausted = top.len() < fetch;
            let mut hits = Vec::with_capacity(want);
            for (score, address) in &top {
                let doc: TantivyDocument = searcher
                    .doc(*address)
                    .map_err(|e| err(&self.dir, "read hit", e))?;
                let id = doc
                    .get_first(self.id)
                    .and_then(|v| v.as_str())
                    .and_then(|s| s.parse::<PointId>().ok());
                if let Some(id) = id.filter(|id| accept(*id)) {
                    hits.push((id, *score));
                    if hits.len() == want {
                        return Ok(hits);
                    }
                }
            }
            if exhausted || fetch >= total {
                return Ok(hits);
            }
            fetch = fetch.saturating_mul(4).min(total);
        }
    }

    /// Documents in the index, every write included.
    pub fn documents(&self) -> Result<u64> {
        self.refresh()?;
        Ok(self.reader.searcher().num_docs())
    }
}

/// Waits for the writer's background merges before the index closes.
/// Dropping a tantivy writer only stops them from being recorded: a merge
/// still running ends with a garbage collection that knows nothing of
/// later sessions, and deletes the segment files the next session to open
/// this directory committed (seen as "file does not exist" on open, and a
/// rebuild).
impl Drop for TextIndex {
    fn drop(&mut self) {
        if let Some(writer) = self.writer.get_mut().take() {
            if let Err(e) = writer.wait_merging_threads() {
                tracing::warn!(field = %self.field, error = %e, "text index merge failed at close");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(range: std::ops::Range<u64>, word: &str) -> Vec<(PointId, Option<String>)> {
        range
            .map(|i| (PointId::Num(i), Some(format!("{word} {i}"))))
            .collect()
    }

    /// Recreates what `kill -9` inside a commit leaves: the files of a
    /// commit whose `meta.json` was never written. The same write replayed
    /// over the index (as the WAL replay does) must commit and be found.
    #[test]
    fn a_commit_interrupted_before_its_meta_is_replayed_cleanly() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("text");
        let docs = (0..20u64).map(|i| (PointId::Num(i), format!("alpha {i}")));
        drop(TextIndex::create("body", &path, docs, 1).expect("create"));
        let committed_meta = std::fs::read(path.join("meta.json")).expect("meta");
        // The write that the crash interrupts, by a process that opened the
        // index as the replaying one will: it deletes from the committed
        // segment, so its commit writes a `<segment>.<opstamp>.del` file.
        let index = TextIndex::open("body", &path, 1, 2).expect("reopen");
        index.update(2, &texts(0..10, "beta")).expect("update");
        assert_eq!(index.documents().expect("commit"), 20);
        drop(index);
        std::fs::write(path.join("meta.json"), committed_meta).expect("roll back meta");

        let index = TextIndex::open("body", &path, 1, 2).expect("stamp 1 is in range");
        assert_eq!(index.seq(), 1);
        index.update(2, &texts(0..10, "beta")).expect("replay");
        let hits = index
            .search("beta", 100, &|_| true)
            .expect("search after replay");
        assert_eq!(hits.len(), 10);
        assert_eq!(
            index.search("alpha", 100, &|_| true).expect("alpha").len(),
            10
        );
    }

    /// Sessions as the crash test runs them: open, a few overlapping
    /// batches each committed, close; many small segments, so tantivy
    /// merges while later writes delete from the segments it merges. (The
    /// lost-delete race behind the spent opstamp in `from_index` needs a
    /// merge to race the first commit and shows only under the SIGKILL
    /// test; this guards the ordinary path around it.)
    #[test]
    fn every_point_keeps_one_document_across_sessions_and_merges() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("text");
        drop(TextIndex::create("body", &path, std::iter::empty(), 0).expect("create"));
        let mut seq = 0u64;
        for session in 0..60 {
            let index = TextIndex::open("body", &path, seq, seq).expect("open");
            for _ in 0..(session % 4 + 1) {
                seq += 1;
                let first = seq * 25;
                index
                    .update(seq, &texts(first..first + 50, &format!("token{seq}")))
                    .expect("update");
                index.stamp(seq).expect("commit");
            }
            let live = seq * 25 + 25; // ids 25..25·seq+50
            let all: Vec<String> = (1..=seq).map(|b| format!("token{b}")).collect();
            let hits = index
                .search(&all.join(" "), live as usize + 10, &|_| true)
                .expect("search");
            let mut ids: Vec<PointId> = hits.iter().map(|h| h.0).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(
                (
                    hits.len() as u64,
                    ids.len() as u64,
                    index.documents().expect("docs")
                ),
                (live, live, live),
                "session {session}"
            );
        }
    }
}
