use anyhow::Context;
use cairn_engine::{Engine, Filter, SearchRequest};
use serde_json::{json, Value};

use crate::cli::SearchArgs;

pub fn run(engine: &Engine, args: SearchArgs) -> anyhow::Result<()> {
    let collection = engine.collection(&args.collection)?;
    let vector: Vec<f32> = serde_json::from_str(&args.vector)
        .context("--vector must be a JSON array of numbers, e.g. '[0.1, 0.2]'")?;
    let mut req = SearchRequest::new(vector, args.k);
    req.ef = args.ef;
    req.score_threshold = args.score_threshold;
    req.with_payload = true;
    if let Some(f) = &args.filter {
        let value: Value = serde_json::from_str(f).context("--filter is not valid JSON")?;
        req.filter = Some(Filter::from_json(&value)?);
    }
    let hits = collection.search(&req)?;
    if args.json {
        let out: Vec<Value> = hits
            .iter()
            .map(|h| json!({"id": h.id, "score": h.score, "payload": h.payload}))
            .collect();
        println!("{}", serde_json::to_string(&out)?);
    } else if hits.is_empty() {
        println!("no results");
    } else {
        println!("{:<38} {:>10}  payload", "id", "score");
        for h in hits {
            let payload = h
                .payload
                .map(|p| Value::Object(p.0).to_string())
                .unwrap_or_default();
            println!("{:<38} {:>10.4}  {payload}", h.id.to_string(), h.score);
        }
    }
    Ok(())
}
