//! `cairn db migrate | status | rollback`.

use std::path::PathBuf;

use anyhow::Context;
use cairn_server::catalog::{redact, Catalog};
use cairn_server::config::ServeConfig;

use crate::cli::{DbCommand, DbTarget};

fn url(data_dir: Option<PathBuf>, target: &DbTarget) -> anyhow::Result<String> {
    if let Some(url) = &target.metadata_url {
        return Ok(url.clone());
    }
    let config = ServeConfig::load_for_tool(target.config.as_deref(), data_dir)?;
    Ok(config.sidecars.metadata_url(&config.data_dir))
}

pub fn run(data_dir: Option<PathBuf>, cmd: DbCommand) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let target = match &cmd {
            DbCommand::Migrate { target }
            | DbCommand::Status { target, .. }
            | DbCommand::Rollback { target, .. } => target.clone(),
        };
        let url = url(data_dir, &target)?;
        let catalog = Catalog::connect(&url)
            .await
            .with_context(|| format!("cannot connect to {}", redact(&url)))?;
        match cmd {
            DbCommand::Migrate { .. } => {
                catalog.migrate().await?;
                println!("migrated {}", redact(&url));
            }
            DbCommand::Status { json, .. } => {
                let status = catalog.status().await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&status)?);
                } else {
                    for m in status {
                        let state = if m.applied { "applied" } else { "pending" };
                        println!("{:>4}  {state:<8} {}", m.version, m.description);
                    }
                }
            }
            DbCommand::Rollback { steps, .. } => {
                let reverted = catalog.rollback(steps).await?;
                if reverted.is_empty() {
                    println!("nothing to roll back");
                } else {
                    println!("rolled back migrations {reverted:?}");
                }
            }
        }
        catalog.close().await;
        Ok(())
    })
}
