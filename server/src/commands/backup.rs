//! `cairn backup create | list | verify | restore | prune`.
//!
//! `create` and `restore` open the data directory (so not while a server
//! holds it: a running server backs up on its own schedule); `list`,
//! `verify` and `prune` only talk to the backup location, so they work from
//! any machine — including one whose data directory is gone.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use cairn_engine::Engine;
use cairn_server::backup::{self, retention::Retention, Location};
use cairn_server::catalog::Catalog;
use cairn_server::config::ServeConfig;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{BackupCommand, BackupTarget};

struct Setup {
    config: ServeConfig,
    location: Location,
}

fn setup(data_dir: Option<PathBuf>, target: &BackupTarget) -> anyhow::Result<Setup> {
    let config = ServeConfig::load_for_tool(target.config.as_deref(), data_dir)?;
    let url = target
        .location
        .clone()
        .or_else(|| config.sidecars.backup.location.clone())
        .context("no backup location: pass --location s3://bucket/prefix (or file:///path), or set backup.location in the config")?;
    let location = Location::open(&url, &config.sidecars.backup.s3)?;
    Ok(Setup { config, location })
}

fn bytes_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// Who the audit log names for command-line actions.
fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

async fn catalog(config: &ServeConfig) -> Option<Catalog> {
    let url = config.sidecars.metadata_url(&config.data_dir);
    match Catalog::open(&url).await {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(error = %e, "metadata catalog unavailable; this run is not recorded");
            None
        }
    }
}

pub fn run(data_dir: Option<PathBuf>, cmd: BackupCommand) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(run_async(data_dir, cmd))
}

async fn run_async(data_dir: Option<PathBuf>, cmd: BackupCommand) -> anyhow::Result<()> {
    match cmd {
        BackupCommand::Create {
            target,
            collections,
            all,
            json,
        } => {
            let Setup { config, location } = setup(data_dir, &target)?;
            let engine = Arc::new(open_engine(&config)?);
            let names = if all {
                engine.list_collections()
            } else {
                for name in &collections {
                    engine.collection(name)?;
                }
                collections
            };
            let catalog = catalog(&config).await;
            let bar = bytes_bar();
            let result = backup::run_recorded(
                &engine,
                catalog.as_ref(),
                &location,
                names,
                config.sidecars.backup.multipart_part_bytes,
                "cli",
                &bar,
            )
            .await;
            bar.finish_and_clear();
            let manifest = result?;
            if let Some(c) = &catalog {
                let _ = c.audit(&cli_actor(), "backup", None, &manifest.id).await;
                c.close().await;
            }
            close_engine(engine)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&manifest)?);
            } else {
                println!(
                    "backup {} complete: {} collection(s), {} bytes, at {}",
                    manifest.id,
                    manifest.collections.len(),
                    manifest.size(),
                    location.url
                );
            }
        }
        BackupCommand::List { target, json } => {
            let Setup { location, .. } = setup(data_dir, &target)?;
            let backups = backup::list(&location).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&backups)?);
            } else if backups.is_empty() {
                println!("no backups at {}", location.url);
            } else {
                println!(
                    "{:<24} {:<27} {:>12}  COLLECTIONS",
                    "ID", "CREATED", "BYTES"
                );
                for b in backups {
                    let names: Vec<String> = b
                        .collections
                        .iter()
                        .map(|c| format!("{} ({} points)", c.name, c.points_count))
                        .collect();
                    println!(
                        "{:<24} {:<27} {:>12}  {}",
                        b.id,
                        b.created().format("%Y-%m-%d %H:%M:%S UTC"),
                        b.size(),
                        names.join(", ")
                    );
                }
            }
        }
        BackupCommand::Verify { id, target, json } => {
            let Setup { config, location } = setup(data_dir, &target)?;
            let bar = bytes_bar();
            let report = backup::verify(&location, &id, &bar).await;
            bar.finish_and_clear();
            let report = report?;
            if config.data_dir.exists() {
                if let Some(c) = catalog(&config).await {
                    let _ = c.mark_verified(&id).await;
                    c.close().await;
                }
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                for c in &report.collections {
                    println!(
                        "{}: checksums match, restored {} of {} points",
                        c.name, c.restored_points, c.expected_points
                    );
                }
                println!("backup {id} verified");
            }
        }
        BackupCommand::Restore { id, target, rename } => {
            let Setup { config, location } = setup(data_dir, &target)?;
            let engine = Arc::new(open_engine(&config)?);
            let bar = bytes_bar();
            let restored = backup::restore(&engine, &location, &id, rename.as_deref(), &bar).await;
            bar.finish_and_clear();
            let restored = restored?;
            if let Some(c) = catalog(&config).await {
                for name in &restored {
                    if let Ok(col) = engine.collection(name) {
                        let cfg = col.config();
                        let _ = c
                            .record_collection(name, cfg.dim, &format!("{:?}", cfg.distance))
                            .await;
                    }
                    let _ = c.audit(&cli_actor(), "restore", Some(name), &id).await;
                }
                c.close().await;
            }
            close_engine(engine)?;
            println!("restored {} from backup {id}", restored.join(", "));
        }
        BackupCommand::Prune { target, json } => {
            let Setup { config, location } = setup(data_dir, &target)?;
            let b = &config.sidecars.backup;
            let rules = Retention {
                hourly: b.keep_hourly,
                daily: b.keep_daily,
                weekly: b.keep_weekly,
            };
            let deleted = backup::prune(&location, rules).await?;
            if config.data_dir.exists() {
                if let Some(c) = catalog(&config).await {
                    let _ = c
                        .audit(&cli_actor(), "prune", None, &deleted.join(","))
                        .await;
                    c.close().await;
                }
            }
            if json {
                println!("{}", serde_json::json!({ "deleted": deleted }));
            } else if deleted.is_empty() {
                println!("nothing to prune");
            } else {
                println!("pruned {} backup(s): {}", deleted.len(), deleted.join(", "));
            }
        }
    }
    Ok(())
}

fn open_engine(config: &ServeConfig) -> anyhow::Result<Engine> {
    Engine::open(&config.data_dir)
        .with_context(|| format!("cannot open data directory {}", config.data_dir.display()))
}

fn close_engine(engine: Arc<Engine>) -> anyhow::Result<()> {
    match Arc::try_unwrap(engine) {
        Ok(engine) => engine.close().context("cannot checkpoint on exit"),
        Err(_) => Ok(()),
    }
}
