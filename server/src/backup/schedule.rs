//! Scheduled backups inside `cairn serve`: at each time the cron expression
//! names (UTC), back up every collection, record the run in the catalog,
//! then prune by the retention rules. Runs are sequential, so at most one
//! is ever in flight; a run that overlaps the next tick just delays it.

use std::sync::Arc;

use anyhow::Context;
use cairn_engine::Engine;
use chrono::Utc;
use croner::Cron;

use super::location::Location;
use super::retention::Retention;
use crate::catalog::Catalog;
use crate::config::BackupConfig;

/// Parses a 5-field (or 6-field, with seconds) cron expression.
pub fn parse(expr: &str) -> anyhow::Result<Cron> {
    Cron::new(expr)
        .with_seconds_optional()
        .parse()
        .with_context(|| {
            format!("invalid backup schedule `{expr}` (a cron expression like \"0 * * * *\")")
        })
}

/// Loops until the task is dropped or aborted.
pub async fn run(
    engine: Arc<Engine>,
    catalog: Option<Catalog>,
    config: BackupConfig,
    cron: Cron,
    location: Location,
) {
    loop {
        let now = Utc::now();
        let next = match cron.find_next_occurrence(&now, false) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "backup schedule has no next time; scheduled backups stop");
                return;
            }
        };
        let wait = (next - now).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
        let collections = engine.list_collections();
        if collections.is_empty() {
            continue;
        }
        let hidden = indicatif::ProgressBar::hidden();
        match super::run_recorded(
            &engine,
            catalog.as_ref(),
            &location,
            collections,
            config.multipart_part_bytes,
            "schedule",
            &hidden,
        )
        .await
        {
            Ok(m) => {
                tracing::info!(backup = %m.id, bytes = m.size(), "scheduled backup done");
                if let Some(c) = &catalog {
                    let _ = c.audit("schedule", "backup", None, &m.id).await;
                }
                let rules = Retention {
                    hourly: config.keep_hourly,
                    daily: config.keep_daily,
                    weekly: config.keep_weekly,
                };
                match super::prune(&location, rules).await {
                    Ok(gone) if !gone.is_empty() => {
                        tracing::info!(pruned = gone.len(), "pruned old backups");
                        if let Some(c) = &catalog {
                            let _ = c.audit("schedule", "prune", None, &gone.join(",")).await;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %format!("{e:#}"), "pruning backups failed"),
                }
            }
            Err(e) => tracing::error!(error = %format!("{e:#}"), "scheduled backup failed"),
        }
    }
}
