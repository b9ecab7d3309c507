//! The health report: one status per component — engine, metadata
//! database, backups (S3), disk, memory — each with the figure it was judged
//! on and the threshold that judged it; the overall status is the worst.
//! `GET /health/report` serves it, `cairn health` prints it (exit 0/1/2),
//! and `/metrics` exports the same figures as gauges.

use std::path::Path;
use std::time::Duration;

use cairn_engine::Engine;
use serde::{Deserialize, Serialize};

use crate::backup::Location;
use crate::catalog::Catalog;
use crate::config::{HealthConfig, SidecarConfig};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Healthy,
    Warning,
    Critical,
}

impl Status {
    /// `cairn health`'s exit code, and the gauge value.
    pub fn code(self) -> i32 {
        self as i32
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Component {
    pub name: String,
    pub status: Status,
    /// What was measured, e.g. `free 42.1%` or `last good backup 1.2 h ago`.
    pub figure: String,
    /// The rule that turned the figure into the status.
    pub threshold: String,
    /// Named numbers behind the figure, exported as gauges.
    pub values: Vec<(String, f64)>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub status: Status,
    pub components: Vec<Component>,
}

fn component(
    name: &str,
    status: Status,
    figure: String,
    threshold: String,
    values: Vec<(&str, f64)>,
) -> Component {
    Component {
        name: name.to_string(),
        status,
        figure,
        threshold,
        values: values
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    }
}

/// Grades `value` where higher is worse.
fn grade_high(value: f64, warning: f64, critical: f64) -> Status {
    if value >= critical {
        Status::Critical
    } else if value >= warning {
        Status::Warning
    } else {
        Status::Healthy
    }
}

pub async fn report(
    engine: Option<&Engine>,
    catalog: Option<&Catalog>,
    sidecars: &SidecarConfig,
    data_dir: &Path,
) -> Report {
    let h = &sidecars.health;
    let mut components = vec![engine_component(engine)];
    components.push(match catalog {
        Some(c) => metadata_component(c, h).await,
        None => component(
            "metadata",
            Status::Critical,
            "not connected".into(),
            "reachable".into(),
            vec![("reachable", 0.0)],
        ),
    });
    components.push(backup_component(catalog, sidecars).await);
    components.push(disk_component(data_dir, h));
    components.push(memory_component(h));
    let status = components
        .iter()
        .map(|c| c.status)
        .max()
        .unwrap_or(Status::Healthy);
    Report { status, components }
}

fn engine_component(engine: Option<&Engine>) -> Component {
    let Some(engine) = engine else {
        return component(
            "engine",
            Status::Warning,
            "collections still loading".into(),
            "loaded".into(),
            vec![("collections", 0.0)],
        );
    };
    let names = engine.list_collections();
    // Writes go to each collection's WAL in `collections/`: prove the
    // directory takes a new file.
    let probe = engine.root().join("collections").join(".health-probe");
    let writable = std::fs::write(&probe, b"ok").is_ok();
    let _ = std::fs::remove_file(&probe);
    let segments = names.len(); // one segment per collection
    component(
        "engine",
        if writable {
            Status::Healthy
        } else {
            Status::Critical
        },
        format!(
            "{} collections loaded, {segments} segments, WAL {}",
            names.len(),
            if writable { "writable" } else { "NOT writable" }
        ),
        "WAL directory writable".into(),
        vec![
            ("collections", names.len() as f64),
            ("segments", segments as f64),
            ("wal_writable", writable as u8 as f64),
        ],
    )
}

async fn metadata_component(catalog: &Catalog, h: &HealthConfig) -> Component {
    let (open, idle, max) = catalog.pool_use();
    let in_use = open as f64 - idle as f64;
    match tokio::time::timeout(Duration::from_secs(5), catalog.ping()).await {
        Ok(Ok(latency)) => {
            let ms = latency.as_secs_f64() * 1000.0;
            component(
                "metadata",
                if ms > h.metadata_warning_ms as f64 {
                    Status::Warning
                } else {
                    Status::Healthy
                },
                format!(
                    "{:?} reachable, {ms:.1} ms, pool {in_use}/{max} in use",
                    catalog.backend()
                ),
                format!("round trip ≤ {} ms", h.metadata_warning_ms),
                vec![
                    ("reachable", 1.0),
                    ("latency_ms", ms),
                    ("pool_in_use", in_use),
                    ("pool_max", max as f64),
                ],
            )
        }
        Ok(Err(e)) => component(
            "metadata",
            Status::Critical,
            format!("unreachable: {e}"),
            "reachable".into(),
            vec![("reachable", 0.0)],
        ),
        Err(_) => component(
            "metadata",
            Status::Critical,
            "no answer within 5 s".into(),
            "reachable".into(),
            vec![("reachable", 0.0)],
        ),
    }
}

async fn backup_component(catalog: Option<&Catalog>, sidecars: &SidecarConfig) -> Component {
    let h = &sidecars.health;
    let threshold = format!(
        "last good backup < {} h (WARNING), < {} h (CRITICAL)",
        h.backup_warning_secs as f64 / 3600.0,
        h.backup_critical_secs as f64 / 3600.0
    );
    let Some(url) = &sidecars.backup.location else {
        return component(
            "backup",
            Status::Warning,
            "no backup location configured".into(),
            threshold,
            vec![("configured", 0.0)],
        );
    };
    let reachable = match Location::open(url, &sidecars.backup.s3) {
        Ok(location) => {
            let probe = location.store.list_with_delimiter(Some(&location.prefix));
            matches!(
                tokio::time::timeout(Duration::from_secs(5), probe).await,
                Ok(Ok(_))
            )
        }
        Err(_) => false,
    };
    let last_good = match catalog {
        Some(c) => c.last_good_backup_ms().await.ok().flatten(),
        None => None,
    };
    let age_secs = last_good.map(|ms| (crate::catalog::now_ms() - ms).max(0) as f64 / 1000.0);
    let by_age = match age_secs {
        Some(age) => grade_high(
            age,
            h.backup_warning_secs as f64,
            h.backup_critical_secs as f64,
        ),
        None => Status::Critical,
    };
    let status = if reachable { by_age } else { Status::Critical };
    let age_text = age_secs.map_or("no good backup yet".to_string(), |a| {
        format!("last good backup {:.2} h ago", a / 3600.0)
    });
    let mut values = vec![("configured", 1.0), ("reachable", reachable as u8 as f64)];
    if let Some(age) = age_secs {
        values.push(("last_good_age_seconds", age));
    }
    component(
        "backup",
        status,
        format!(
            "{url} {}, {age_text}",
            if reachable {
                "reachable"
            } else {
                "UNREACHABLE"
            }
        ),
        threshold,
        values,
    )
}

fn disk_component(data_dir: &Path, h: &HealthConfig) -> Component {
    let threshold = format!(
        "free ≥ {}% (WARNING below), ≥ {}% (CRITICAL below)",
        h.disk_warning_percent, h.disk_critical_percent
    );
    match rustix::fs::statvfs(data_dir) {
        Ok(s) => {
            let total = s.f_blocks as f64 * s.f_frsize as f64;
            let free = s.f_bavail as f64 * s.f_frsize as f64;
            let percent = if total > 0.0 {
                100.0 * free / total
            } else {
                0.0
            };
            // Lower is worse: grade the negated figure.
            let status = grade_high(-percent, -h.disk_warning_percent, -h.disk_critical_percent);
            component(
                "disk",
                status,
                format!(
                    "{:.1}% free ({:.1} GiB of {:.1} GiB) at {}",
                    percent,
                    free / (1u64 << 30) as f64,
                    total / (1u64 << 30) as f64,
                    data_dir.display()
                ),
                threshold,
                vec![
                    ("free_percent", percent),
                    ("free_bytes", free),
                    ("total_bytes", total),
                ],
            )
        }
        Err(e) => component(
            "disk",
            Status::Critical,
            format!("cannot read free space of {}: {e}", data_dir.display()),
            threshold,
            vec![],
        ),
    }
}

/// `(MemTotal, MemAvailable)` in bytes, from /proc/meminfo.
fn meminfo() -> Option<(f64, f64)> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024.0)
    };
    Some((field("MemTotal:")?, field("MemAvailable:")?))
}

fn memory_component(h: &HealthConfig) -> Component {
    let threshold = format!(
        "used < {}% (WARNING), < {}% (CRITICAL)",
        h.memory_warning_percent, h.memory_critical_percent
    );
    let rss = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map(|pages| pages * 4096.0);
    match meminfo() {
        Some((total, available)) => {
            let used = 100.0 * (total - available) / total.max(1.0);
            let mut values = vec![("used_percent", used), ("total_bytes", total)];
            if let Some(rss) = rss {
                values.push(("process_resident_bytes", rss));
            }
            component(
                "memory",
                grade_high(used, h.memory_warning_percent, h.memory_critical_percent),
                format!(
                    "{used:.1}% of {:.1} GiB used; Cairn resident {:.0} MiB",
                    total / (1u64 << 30) as f64,
                    rss.unwrap_or(0.0) / (1u64 << 20) as f64
                ),
                threshold,
                values,
            )
        }
        None => component(
            "memory",
            Status::Healthy,
            "not measurable on this system".into(),
            threshold,
            vec![],
        ),
    }
}

/// Renders a report as a fixed-width table.
pub fn table(report: &Report) -> String {
    let mut out = format!("overall: {:?}\n", report.status).to_uppercase();
    out.push_str(&format!(
        "{:<10} {:<9} {:<70} {}\n",
        "COMPONENT", "STATUS", "FIGURE", "THRESHOLD"
    ));
    for c in &report.components {
        out.push_str(&format!(
            "{:<10} {:<9} {:<70} {}\n",
            c.name,
            format!("{:?}", c.status).to_uppercase(),
            c.figure,
            c.threshold
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_and_the_worst_wins() {
        assert_eq!(grade_high(1.0, 2.0, 6.0), Status::Healthy);
        assert_eq!(grade_high(2.5, 2.0, 6.0), Status::Warning);
        assert_eq!(grade_high(7.0, 2.0, 6.0), Status::Critical);
        // Disk: 10% free is under the 15% warning line, over the 5% one.
        assert_eq!(grade_high(-10.0, -15.0, -5.0), Status::Warning);
        assert_eq!(grade_high(-3.0, -15.0, -5.0), Status::Critical);
        assert_eq!(grade_high(-50.0, -15.0, -5.0), Status::Healthy);
        assert!(Status::Critical > Status::Warning && Status::Warning > Status::Healthy);
        assert_eq!(Status::Critical.code(), 2);
        let json = serde_json::to_string(&Status::Healthy).expect("json");
        assert_eq!(json, "\"HEALTHY\"");
    }
}
