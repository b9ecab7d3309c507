//! One module per command family; each opens the engine, does one job, and
//! closes it cleanly (a checkpoint, so the next start replays nothing).

mod backup;
mod collection;
mod db;
mod eval;
mod health;
mod import;
mod ingest;
mod search;
mod serve;

use anyhow::Context;
use cairn_engine::Engine;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let command = match cli.command {
        Command::Serve(args) => return serve::run(cli.data_dir, args),
        Command::Backup(cmd) => return backup::run(cli.data_dir, cmd),
        Command::Db(cmd) => return db::run(cli.data_dir, cmd),
        Command::Health(args) => return health::run(args),
        Command::Ingest(args) => return ingest::run(cli.data_dir, args),
        Command::Eval(cmd) => return eval::run(cmd),
        other => other,
    };
    let data_dir = cli.data_dir.unwrap_or_else(|| "./data".into());
    let engine = Engine::open(&data_dir)
        .with_context(|| format!("cannot open data directory {}", data_dir.display()))?;
    match command {
        Command::Serve(_)
        | Command::Backup(_)
        | Command::Db(_)
        | Command::Health(_)
        | Command::Ingest(_)
        | Command::Eval(_) => {
            unreachable!("handled above")
        }
        Command::Collection(cmd) => collection::run(&engine, cmd)?,
        Command::Import(args) => import::run(&engine, args)?,
        Command::Search(args) => search::run(&engine, args)?,
    }
    engine.close().context("cannot checkpoint on exit")
}
