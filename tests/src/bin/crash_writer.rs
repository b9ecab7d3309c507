//! Child process for the crash test: upserts numbered batches into
//! `<dir>` and prints `ack <batch>` after each upsert returns. Every batch
//! rewrites ids `batch*25 .. batch*25+50` (half of them overlap the previous
//! batch), so a half-applied batch would show mixed batch numbers. Each
//! point's `text` is `token<batch>`, in a BM25 text index that must follow.

use cairn_engine::{
    CollectionConfig, Distance, Engine, EngineOptions, PayloadSchemaType, PointStruct,
};
use cairn_tests::{vector_for, BATCH, DIM};
use serde_json::json;
use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: crash_writer DIR")?;
    cairn_tests::init_tracing();
    // Small thresholds so that checkpoints, WAL resets and compactions also
    // happen while the parent is killing us.
    let options = EngineOptions {
        wal_checkpoint_bytes: 64 * 1024,
        compaction_min_tombstones: 400,
        compaction_tombstone_ratio: 0.3,
    };
    let engine = Engine::open_with(&dir, options)?;
    let c = match engine.collection("crash") {
        Ok(c) => c,
        Err(_) => {
            let c =
                engine.create_collection("crash", CollectionConfig::new(DIM, Distance::Euclid))?;
            c.create_payload_index("text", PayloadSchemaType::Text)?;
            c
        }
    };
    // Batches are numbered by stamp, continuing after earlier rounds (and,
    // in the first, after the index creation: see `FIRST_BATCH`).
    let start = c.info().last_seq;
    let mut out = std::io::stdout().lock();
    for batch in start + 1.. {
        let points = (0..BATCH)
            .map(|k| {
                let id = batch * BATCH / 2 + k;
                PointStruct::new(
                    id,
                    vector_for(batch, id, DIM),
                    Some(json!({"batch": batch, "k": k, "text": format!("token{batch}")})),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        c.upsert(points)?;
        writeln!(out, "ack {batch}")?;
        out.flush()?;
    }
    Ok(())
}
