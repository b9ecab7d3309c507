//! One module per command family; each opens the engine, does one job, and
//! closes it cleanly (a checkpoint, so the next start replays nothing).

mod collection;
mod import;
mod search;

use anyhow::Context;
use cairn_engine::Engine;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let engine = Engine::open(&cli.data_dir)
        .with_context(|| format!("cannot open data directory {}", cli.data_dir.display()))?;
    match cli.command {
        Command::Collection(cmd) => collection::run(&engine, cmd)?,
        Command::Import(args) => import::run(&engine, args)?,
        Command::Search(args) => search::run(&engine, args)?,
    }
    engine.close().context("cannot checkpoint on exit")
}
