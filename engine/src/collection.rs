//! A collection: one directory, one [`Segment`], one [`Wal`].
//!
//! Write path (serialised by the writer mutex, so stamps are in log order):
//! validate and resolve against the segment under a read lock → reserve
//! space → append + fsync to the WAL → apply to the segment under its write
//! lock → acknowledge. Searches hold the segment's read lock, so they wait
//! only while a batch is being applied, never while it is logged.
//!
//! Every `wal_checkpoint_bytes` of log, the segment is checkpointed (under a
//! read lock: searches go on) and the WAL emptied. When tombstones pass the
//! compaction threshold, the segment is rebuilt from its live points first.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::{Mutex, RwLock};

use crate::checkpoint::{self, CheckpointMeta};
use crate::engine::EngineOptions;
use crate::error::{EngineError, Result};
use crate::filter::Filter;
use crate::operation::Operation;
use crate::segment::Segment;
use crate::snapshot::SourceFile;
use crate::types::{
    CollectionConfig, CollectionInfo, Payload, PayloadSchemaType, PointId, PointStruct, Record,
    ScoredPoint, ScrollRequest, ScrollResult, SearchRequest, TextSearchRequest, UpdateResult,
};
use crate::vector_storage::VectorStorage;
use crate::wal::Wal;

const WAL_FILE: &str = "wal.log";

/// Which points a write applies to.
#[derive(Clone, Debug)]
pub enum PointSelector {
    Ids(Vec<PointId>),
    Filter(Filter),
}

/// When an upsert answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteMode {
    /// Once it is durable (fsync'd to the WAL) and visible to searches.
    Applied,
    /// Once it is durable; it becomes visible at the next write, checkpoint
    /// or [`Collection::apply_pending`], whichever comes first.
    Logged,
}

struct Writer {
    wal: Wal,
    /// A logged write not yet applied, with its stamp (at most one: every
    /// write applies the previous one first, so validation always sees
    /// every earlier write).
    pending: Option<(u64, Operation)>,
    next_seq: u64,
    generation: u64,
    vectors_file: String,
    /// Rows of the vector file covered by the last checkpoint, and their CRC.
    checkpointed_rows: usize,
    checkpointed_crc: u32,
}

pub struct Collection {
    name: String,
    dir: PathBuf,
    options: EngineOptions,
    writer: Mutex<Writer>,
    segment: RwLock<Segment>,
    dropped: AtomicBool,
}

fn vectors_file(generation: u64) -> String {
    format!("vectors-{generation}.bin")
}

impl Collection {
    /// Lays out a new, empty collection in `dir` (which must not exist yet).
    pub(crate) fn create_files(dir: &Path, config: &CollectionConfig) -> Result<()> {
        fs::create_dir_all(dir).map_err(EngineError::io(dir))?;
        let vectors = vectors_file(0);
        let segment = Segment::create(config.clone(), &dir.join(&vectors))?;
        let meta = CheckpointMeta {
            generation: 0,
            applied_seq: 0,
            config: config.clone(),
            payload_indexes: Vec::new(),
            vectors_file: vectors,
            vectors_len: 0,
            vectors_crc: 0,
        };
        checkpoint::write(
            dir,
            &meta,
            &segment.graph.to_bytes(),
            &segment.points_data(),
        )?;
        Wal::create(&dir.join(WAL_FILE))?;
        Ok(())
    }

    /// Gives an unpacked snapshot (checkpoint files only) its empty WAL.
    pub(crate) fn create_empty_wal(dir: &Path) -> Result<()> {
        Wal::create(&dir.join(WAL_FILE)).map(drop)
    }

    /// Loads the checkpoint and replays the WAL after it.
    pub(crate) fn open(name: &str, dir: &Path, options: EngineOptions) -> Result<Collection> {
        let (meta, graph, points) = checkpoint::read(dir)?;
        let vectors = VectorStorage::open(
            &dir.join(&meta.vectors_file),
            meta.config.dim,
            meta.vectors_len as usize,
            meta.vectors_crc,
        )?;
        let (wal, records) = Wal::open(&dir.join(WAL_FILE))?;
        // A text index may stand anywhere from the checkpoint to the log's
        // last write: replaying over it is harmless (see `text_index`).
        let logged = records.last().map_or(0, |(seq, _)| *seq);
        let mut segment = Segment::load(
            meta.config.clone(),
            vectors,
            graph,
            points,
            &meta.payload_indexes,
            (meta.applied_seq, logged.max(meta.applied_seq)),
        )?;
        let mut last = meta.applied_seq;
        let mut replayed = 0;
        for (seq, op) in records {
            if seq <= meta.applied_seq {
                continue; // already in the checkpoint
            }
            segment.reserve_for(&op)?;
            segment.apply(seq, op);
            last = seq;
            replayed += 1;
        }
        if replayed > 0 {
            tracing::info!(collection = name, replayed, "replayed WAL records");
        }
        remove_leftovers(dir, &meta)?;
        Ok(Collection {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            options,
            writer: Mutex::new(Writer {
                wal,
                pending: None,
                next_seq: last + 1,
                generation: meta.generation,
                vectors_file: meta.vectors_file,
                checkpointed_rows: meta.vectors_len as usize,
                checkpointed_crc: meta.vectors_crc,
            }),
            segment: RwLock::new(segment),
            dropped: AtomicBool::new(false),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn config(&self) -> CollectionConfig {
        self.segment.read().config().clone()
    }

    pub fn info(&self) -> CollectionInfo {
        let w = self.writer.lock();
        let s = self.segment.read();
        CollectionInfo {
            name: self.name.clone(),
            config: s.config().clone(),
            points_count: s.live_count(),
            tombstones: s.tombstones(),
            payload_indexes: s.payload_schema(),
            wal_bytes: w.wal.bytes(),
            last_seq: w.next_seq - 1,
        }
    }

    pub(crate) fn mark_dropped(&self) {
        self.dropped.store(true, Ordering::SeqCst);
    }

    /// The write path shared by every mutation: `plan` validates against the
    /// current state and returns the operation to log (or `None`: no-op).
    fn write(
        &self,
        plan: impl FnOnce(&Segment) -> Result<Option<Operation>>,
    ) -> Result<UpdateResult> {
        self.write_with(WriteMode::Applied, plan)
    }

    fn write_with(
        &self,
        mode: WriteMode,
        plan: impl FnOnce(&Segment) -> Result<Option<Operation>>,
    ) -> Result<UpdateResult> {
        let mut w = self.writer.lock();
        if self.dropped.load(Ordering::SeqCst) {
            return Err(EngineError::CollectionNotFound(self.name.clone()));
        }
        self.apply_pending_locked(&mut w);
        let Some(op) = plan(&self.segment.read())? else {
            return Ok(UpdateResult {
                operation_id: w.next_seq - 1,
            });
        };
        self.segment.write().reserve_for(&op)?;
        let seq = w.next_seq;
        w.wal.append(seq, &op)?;
        w.next_seq += 1;
        match mode {
            WriteMode::Applied => {
                self.segment.write().apply(seq, op);
                self.maintain_logged(&mut w);
            }
            WriteMode::Logged => w.pending = Some((seq, op)),
        }
        Ok(UpdateResult { operation_id: seq })
    }

    /// The write is durable already; a failed checkpoint must not turn it
    /// into an error (the WAL still holds it), so it is logged instead.
    fn maintain_logged(&self, w: &mut Writer) {
        if let Err(e) = self.maintain(w) {
            tracing::error!(collection = %self.name, error = %e, "checkpoint failed; the WAL keeps every write");
        }
    }

    fn apply_pending_locked(&self, w: &mut Writer) {
        if let Some((seq, op)) = w.pending.take() {
            self.segment.write().apply(seq, op);
            self.maintain_logged(w);
        }
    }

    /// Makes a [`WriteMode::Logged`] write visible now.
    pub fn apply_pending(&self) {
        let mut w = self.writer.lock();
        self.apply_pending_locked(&mut w);
    }

    fn resolve(segment: &Segment, selector: PointSelector) -> Vec<PointId> {
        match selector {
            // Only live ids: a write that touches nothing is not logged.
            PointSelector::Ids(ids) => segment.live_ids(ids),
            PointSelector::Filter(f) => segment.matching_ids(&f),
        }
    }

    /// Inserts or replaces points. The batch is atomic: after a crash it is
    /// either entirely present or entirely absent.
    pub fn upsert(&self, points: Vec<PointStruct>) -> Result<UpdateResult> {
        self.upsert_with(points, WriteMode::Applied)
    }

    /// [`Collection::upsert`], answering per `mode`.
    pub fn upsert_with(&self, points: Vec<PointStruct>, mode: WriteMode) -> Result<UpdateResult> {
        self.write_with(mode, |s| {
            if points.is_empty() {
                return Ok(None);
            }
            Ok(Some(Operation::Upsert(s.prepare_upsert(points)?)))
        })
    }

    pub fn delete(&self, selector: PointSelector) -> Result<UpdateResult> {
        self.write(|s| {
            let ids = Self::resolve(s, selector);
            Ok((!ids.is_empty()).then_some(Operation::Delete(ids)))
        })
    }

    /// Merges `payload`'s keys into each selected point's payload.
    pub fn set_payload(&self, selector: PointSelector, payload: Payload) -> Result<UpdateResult> {
        self.write(|s| {
            let ids = Self::resolve(s, selector);
            Ok((!ids.is_empty()).then_some(Operation::SetPayload { ids, payload }))
        })
    }

    /// Replaces each selected point's payload with `payload`.
    pub fn overwrite_payload(
        &self,
        selector: PointSelector,
        payload: Payload,
    ) -> Result<UpdateResult> {
        self.write(|s| {
            let ids = Self::resolve(s, selector);
            Ok((!ids.is_empty()).then_some(Operation::OverwritePayload { ids, payload }))
        })
    }

    pub fn delete_payload_keys(
        &self,
        selector: PointSelector,
        keys: Vec<String>,
    ) -> Result<UpdateResult> {
        self.write(|s| {
            let ids = Self::resolve(s, selector);
            Ok((!ids.is_empty()).then_some(Operation::DeletePayloadKeys { ids, keys }))
        })
    }

    pub fn clear_payload(&self, selector: PointSelector) -> Result<UpdateResult> {
        self.write(|s| {
            let ids = Self::resolve(s, selector);
            Ok((!ids.is_empty()).then_some(Operation::ClearPayload { ids }))
        })
    }

    pub fn create_payload_index(
        &self,
        field: &str,
        kind: PayloadSchemaType,
    ) -> Result<UpdateResult> {
        if field.is_empty() {
            return Err(EngineError::InvalidRequest("field name is empty".into()));
        }
        let result = self.write(|_| {
            Ok(Some(Operation::CreateFieldIndex {
                field: field.to_string(),
                kind,
            }))
        })?;
        if kind == PayloadSchemaType::Text && !self.segment.read().has_text_index(field) {
            // Applying cannot fail, so a text index that could not be built
            // is reported here (its cause is in the log); the logged
            // operation builds it again on the next open.
            return Err(EngineError::InvalidRequest(format!(
                "the text index on `{field}` could not be built (see the server log)"
            )));
        }
        Ok(result)
    }

    pub fn delete_payload_index(&self, field: &str) -> Result<UpdateResult> {
        self.write(|s| {
            if !s.has_field_index(field) {
                return Err(EngineError::InvalidRequest(format!(
                    "no payload index on `{field}`"
                )));
            }
            Ok(Some(Operation::DeleteFieldIndex {
                field: field.to_string(),
            }))
        })
    }

    /// Changes HNSW parameters. `ef`, `ef_construct` and
    /// `full_scan_threshold` apply at once; a new `m` rebuilds the graph.
    pub fn update_hnsw(&self, hnsw: crate::types::HnswConfig) -> Result<UpdateResult> {
        let mut probe = self.config();
        let rebuild = probe.hnsw.m != hnsw.m;
        probe.hnsw = hnsw.clone();
        probe.validate()?;
        let result = self.write(|_| Ok(Some(Operation::UpdateHnsw(hnsw))))?;
        if rebuild {
            self.compact()?;
        }
        Ok(result)
    }

    /// Turns scalar quantization (int8 or int4) on, re-tunes it, or (with
    /// `None`) turns it off. The codes are rebuilt from the stored vectors at
    /// once.
    pub fn update_quantization(
        &self,
        quantization: Option<crate::types::ScalarQuantization>,
    ) -> Result<UpdateResult> {
        let mut probe = self.config();
        probe.quantization = quantization.clone();
        probe.validate()?;
        self.write(|_| Ok(Some(Operation::SetQuantization(quantization))))
    }

    /// Bytes of quantized codes this collection holds in RAM.
    pub fn quantized_bytes(&self) -> usize {
        self.segment.read().quantized_bytes()
    }

    pub fn get(&self, ids: &[PointId], with_payload: bool, with_vector: bool) -> Vec<Record> {
        self.segment.read().get(ids, with_payload, with_vector)
    }

    pub fn search(&self, req: &SearchRequest) -> Result<Vec<ScoredPoint>> {
        self.segment.read().search(req)
    }

    /// BM25 search over a text-indexed payload field.
    pub fn search_text(&self, req: &TextSearchRequest) -> Result<Vec<ScoredPoint>> {
        self.segment.read().search_text(req)
    }

    pub fn scroll(&self, req: &ScrollRequest) -> ScrollResult {
        self.segment.read().scroll(req)
    }

    /// Exact count of live points passing `filter`.
    pub fn count(&self, filter: Option<&Filter>) -> usize {
        self.segment.read().count(filter)
    }

    /// Writes a checkpoint now and empties the WAL.
    pub fn checkpoint(&self) -> Result<()> {
        let mut w = self.writer.lock();
        self.checkpoint_locked(&mut w)
    }

    /// Checkpoints, then puts that checkpoint's files into `staging` (hard
    /// links where the file system allows, copies otherwise) while the writer
    /// lock keeps the next checkpoint from replacing them. Returns what to
    /// archive (the vector file only up to the checkpointed rows), the config
    /// and the live point count at that stamp.
    pub(crate) fn snapshot_sources(
        &self,
        staging: &Path,
    ) -> Result<(Vec<SourceFile>, CollectionConfig, u64)> {
        let mut w = self.writer.lock();
        if self.dropped.load(Ordering::SeqCst) {
            return Err(EngineError::CollectionNotFound(self.name.clone()));
        }
        self.checkpoint_locked(&mut w)?;
        let segment = self.segment.read();
        let vectors_len = segment.vectors.bytes_for_rows(w.checkpointed_rows);
        let files = [
            (checkpoint::META_FILE.to_string(), None),
            (checkpoint::graph_file(w.generation), None),
            (checkpoint::points_file(w.generation), None),
            (w.vectors_file.clone(), Some(vectors_len)),
        ];
        let mut sources = Vec::with_capacity(files.len());
        for (name, len) in files {
            let from = self.dir.join(&name);
            let to = staging.join(&name);
            if fs::hard_link(&from, &to).is_err() {
                fs::copy(&from, &to).map_err(EngineError::io(&to))?;
            }
            let len = match len {
                Some(len) => len,
                None => fs::metadata(&to).map_err(EngineError::io(&to))?.len(),
            };
            sources.push(SourceFile {
                name,
                path: to,
                len,
            });
        }
        Ok((
            sources,
            segment.config().clone(),
            segment.live_count() as u64,
        ))
    }

    /// Rebuilds the segment without tombstones, then checkpoints.
    pub fn compact(&self) -> Result<()> {
        let mut w = self.writer.lock();
        self.compact_locked(&mut w)
    }

    fn maintain(&self, w: &mut Writer) -> Result<()> {
        let (tombstones, total) = {
            let s = self.segment.read();
            (s.tombstones(), s.total())
        };
        if tombstones >= self.options.compaction_min_tombstones
            && tombstones as f64 >= self.options.compaction_tombstone_ratio * total as f64
        {
            self.compact_locked(w)
        } else if w.wal.bytes() >= self.options.wal_checkpoint_bytes {
            self.checkpoint_locked(w)
        } else {
            Ok(())
        }
    }

    fn compact_locked(&self, w: &mut Writer) -> Result<()> {
        if let Some((seq, op)) = w.pending.take() {
            self.segment.write().apply(seq, op);
        }
        let generation = w.generation + 1;
        let file = vectors_file(generation);
        let path = self.dir.join(&file);
        let _ = fs::remove_file(&path); // a leftover of a crashed compaction
        let fresh = self.segment.read().compacted(&path)?;
        fresh.vectors.flush()?;
        let old = std::mem::replace(&mut *self.segment.write(), fresh);
        let old_file = std::mem::replace(&mut w.vectors_file, file);
        w.checkpointed_rows = 0;
        w.checkpointed_crc = 0;
        tracing::info!(collection = %self.name, removed = old.tombstones(), "compacted");
        drop(old);
        self.checkpoint_locked(w)?;
        let _ = fs::remove_file(self.dir.join(old_file));
        Ok(())
    }

    fn checkpoint_locked(&self, w: &mut Writer) -> Result<()> {
        // The checkpoint claims every logged stamp, so apply them all first.
        if let Some((seq, op)) = w.pending.take() {
            self.segment.write().apply(seq, op);
        }
        self.segment.write().checkpoint_texts(w.next_seq - 1)?;
        let segment = self.segment.read();
        segment.vectors.flush()?;
        let rows = segment.vectors.len();
        let crc = segment
            .vectors
            .crc_of_rows(w.checkpointed_rows, rows, w.checkpointed_crc);
        let meta = CheckpointMeta {
            generation: w.generation + 1,
            applied_seq: w.next_seq - 1,
            config: segment.config().clone(),
            payload_indexes: segment.payload_schema(),
            vectors_file: w.vectors_file.clone(),
            vectors_len: rows as u64,
            vectors_crc: crc,
        };
        checkpoint::write(
            &self.dir,
            &meta,
            &segment.graph.to_bytes(),
            &segment.points_data(),
        )?;
        drop(segment);
        w.generation = meta.generation;
        w.checkpointed_rows = rows;
        w.checkpointed_crc = crc;
        w.wal.reset()?;
        remove_leftovers(&self.dir, &meta)
    }
}

/// Removes files of other checkpoint generations and interrupted writes.
fn remove_leftovers(dir: &Path, meta: &CheckpointMeta) -> Result<()> {
    let keep = [
        checkpoint::META_FILE.to_string(),
        checkpoint::graph_file(meta.generation),
        checkpoint::points_file(meta.generation),
        meta.vectors_file.clone(),
        WAL_FILE.to_string(),
    ];
    for entry in fs::read_dir(dir).map_err(EngineError::io(dir))? {
        let entry = entry.map_err(EngineError::io(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !keep.contains(&name) {
            let _ = fs::remove_file(entry.path());
        }
    }
    Ok(())
}
