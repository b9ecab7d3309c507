use std::fs::File;
use std::io::{BufRead, BufReader};

use anyhow::{bail, Context};
use cairn_engine::{Collection, Engine, Payload, PointId, PointStruct};
use serde_json::Value;

use crate::cli::ImportArgs;

pub fn run(engine: &Engine, args: ImportArgs) -> anyhow::Result<()> {
    let collection = engine.collection(&args.collection)?;
    let batch_size = args.batch_size.max(1);
    let is_fvecs = args.file.extension().is_some_and(|e| e == "fvecs");
    let imported = if is_fvecs {
        import_fvecs(&collection, &args, batch_size)?
    } else {
        import_jsonl(&collection, &args, batch_size)?
    };
    println!("imported {imported} points into {}", args.collection);
    Ok(())
}

fn import_fvecs(c: &Collection, args: &ImportArgs, batch_size: usize) -> anyhow::Result<usize> {
    let vectors = cairn_datasets::texmex::read_fvecs(&args.file)?;
    let mut done = 0;
    let rows: Vec<&[f32]> = vectors.rows().collect();
    for chunk in rows.chunks(batch_size) {
        let batch = chunk
            .iter()
            .enumerate()
            .map(|(i, row)| PointStruct {
                id: PointId::Num((done + i) as u64),
                vector: row.to_vec(),
                payload: None,
            })
            .collect();
        c.upsert(batch)
            .with_context(|| format!("row {}: {done} points were imported before it", done + 1))?;
        done += chunk.len();
    }
    Ok(done)
}

fn parse_line(line: &str) -> anyhow::Result<PointStruct> {
    let value: Value = serde_json::from_str(line).context("not valid JSON")?;
    let Value::Object(mut obj) = value else {
        bail!("expected an object with id, vector and payload");
    };
    let id = PointId::from_json(obj.get("id").context("missing `id`")?)?;
    let vector: Vec<f32> = match obj.remove("vector") {
        Some(v) => serde_json::from_value(v).context("`vector` must be an array of numbers")?,
        None => bail!("missing `vector`"),
    };
    let payload = match obj.remove("payload") {
        None | Some(Value::Null) => None,
        Some(p) => Some(Payload::from_json(p)?),
    };
    Ok(PointStruct {
        id,
        vector,
        payload,
    })
}

fn import_jsonl(c: &Collection, args: &ImportArgs, batch_size: usize) -> anyhow::Result<usize> {
    let file =
        File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
    let mut done = 0;
    let mut batch = Vec::new();
    let mut first_line = 1;
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", args.file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let point = parse_line(&line).with_context(|| {
            format!(
                "{} line {}: {done} points were imported before this batch",
                args.file.display(),
                i + 1
            )
        })?;
        batch.push(point);
        if batch.len() == batch_size {
            flush(c, &mut batch, &mut done, first_line, i + 1)?;
            first_line = i + 2;
        }
    }
    flush(c, &mut batch, &mut done, first_line, 0)?;
    Ok(done)
}

fn flush(
    c: &Collection,
    batch: &mut Vec<PointStruct>,
    done: &mut usize,
    from: usize,
    to: usize,
) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let n = batch.len();
    c.upsert(std::mem::take(batch)).with_context(|| {
        let to = if to == 0 {
            "end".to_string()
        } else {
            to.to_string()
        };
        format!("batch of lines {from}..{to} was refused; {done} points were imported before it")
    })?;
    *done += n;
    Ok(())
}
