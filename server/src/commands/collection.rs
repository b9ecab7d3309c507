use cairn_engine::{CollectionConfig, Distance, Engine};
use serde_json::json;

use crate::cli::{CollectionCommand, DistanceArg};

pub fn run(engine: &Engine, cmd: CollectionCommand) -> anyhow::Result<()> {
    match cmd {
        CollectionCommand::Create {
            name,
            dim,
            distance,
            m,
            ef_construct,
            ef,
        } => {
            let distance = match distance {
                DistanceArg::Cosine => Distance::Cosine,
                DistanceArg::Dot => Distance::Dot,
                DistanceArg::Euclid => Distance::Euclid,
            };
            let mut config = CollectionConfig::new(dim, distance);
            config.hnsw.m = m.unwrap_or(config.hnsw.m);
            config.hnsw.ef_construct = ef_construct.unwrap_or(config.hnsw.ef_construct);
            config.hnsw.ef = ef.unwrap_or(config.hnsw.ef);
            engine.create_collection(&name, config)?;
            println!("created collection {name} (dim {dim}, {distance})");
        }
        CollectionCommand::List { json } => {
            let names = engine.list_collections();
            if json {
                println!("{}", serde_json::to_string(&names)?);
            } else if names.is_empty() {
                println!("no collections");
            } else {
                names.iter().for_each(|n| println!("{n}"));
            }
        }
        CollectionCommand::Info { name, json } => {
            let info = engine.collection(&name)?.info();
            if json {
                println!("{}", serde_json::to_string_pretty(&json!(info))?);
            } else {
                let h = &info.config.hnsw;
                println!("collection    {}", info.name);
                println!("dimension     {}", info.config.dim);
                println!("distance      {}", info.config.distance);
                println!("points        {}", info.points_count);
                println!("tombstones    {}", info.tombstones);
                println!(
                    "hnsw          m={} ef_construct={} ef={}",
                    h.m, h.ef_construct, h.ef
                );
                for (field, kind) in &info.payload_indexes {
                    println!("index         {field} ({kind:?})");
                }
            }
        }
        CollectionCommand::Drop { name } => {
            engine.drop_collection(&name)?;
            println!("dropped collection {name}");
        }
    }
    Ok(())
}
