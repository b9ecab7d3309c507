//! `cairn serve` settings, layered: built-in defaults, then the TOML file
//! given by `--config`, then `CAIRN_*` environment variables, then flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
pub struct ServeConfig {
    /// Where collections live.
    pub data_dir: PathBuf,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Largest accepted request body; larger ones get 413.
    pub max_body_bytes: usize,
    /// Full access. With no key at all, the API is open.
    pub api_key: Option<String>,
    /// Reads only: GET, and search/query/scroll/count/retrieve.
    pub read_only_api_key: Option<String>,
    /// Leave `/`, `/healthz`, `/livez`, `/readyz` and `/metrics` open even
    /// when keys are set, for probes and scrapers.
    pub open_health_endpoints: bool,
    /// PEM certificate chain; with `tls_key`, serve HTTPS.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Searches that run at once; more wait their turn, first come first
    /// served. 0 means one per CPU. Running more than the CPUs only makes
    /// them share cores and caches, so every answer in flight is slower.
    pub search_threads: usize,
    /// Threads that read requests and write answers (parsing the JSON,
    /// the sockets). 0 means one per three CPUs, at least one: a 768-d
    /// search spends about a third of its CPU time there, and an idle
    /// spare thread only competes with the search threads for the cores.
    pub http_threads: usize,
    /// The catalog, backups and health thresholds.
    #[serde(flatten)]
    pub sidecars: SidecarConfig,
}

/// Settings of the companion modules.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SidecarConfig {
    /// `sqlite://PATH` or `postgres://…`; default `<data_dir>/meta.db`.
    pub metadata_url: Option<String>,
    pub backup: BackupConfig,
    pub health: HealthConfig,
    pub embedding: EmbeddingSettings,
}

/// Where embedding models and ONNX Runtime are, and how models run.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct EmbeddingSettings {
    /// One sub-directory per model (`make setup` fills `./models`).
    pub models_dir: PathBuf,
    /// The ONNX Runtime library; default `ORT_DYLIB_PATH`, else
    /// `<models_dir>/onnxruntime/libonnxruntime.so`.
    pub onnxruntime: Option<PathBuf>,
    /// Texts per inference call.
    pub batch_size: usize,
    /// ONNX Runtime intra-op threads; 0 = one per CPU.
    pub threads: usize,
}

impl Default for EmbeddingSettings {
    fn default() -> Self {
        EmbeddingSettings {
            models_dir: PathBuf::from("./models"),
            onnxruntime: None,
            batch_size: 32,
            threads: 0,
        }
    }
}

impl EmbeddingSettings {
    /// The process's model cache for these settings.
    pub fn model_cache(&self) -> cairn_ingest::embed::ModelCache {
        use cairn_ingest::embed::{default_runtime_path, ModelCache, ModelRegistry, OnnxOptions};
        let runtime = self
            .onnxruntime
            .clone()
            .unwrap_or_else(|| default_runtime_path(&self.models_dir));
        let mut options = OnnxOptions::new(runtime);
        options.batch_size = self.batch_size.max(1);
        options.threads = self.threads;
        ModelCache::new(ModelRegistry::new(&self.models_dir), options)
    }
}

impl std::fmt::Debug for SidecarConfig {
    /// The database password is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SidecarConfig")
            .field(
                "metadata_url",
                &self.metadata_url.as_deref().map(crate::catalog::redact),
            )
            .field("backup", &self.backup)
            .field("health", &self.health)
            .field("embedding", &self.embedding)
            .finish()
    }
}

impl SidecarConfig {
    pub fn metadata_url(&self, data_dir: &Path) -> String {
        self.metadata_url
            .clone()
            .unwrap_or_else(|| crate::catalog::default_url(data_dir))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct BackupConfig {
    /// `s3://bucket/prefix` or `file:///path`.
    pub location: Option<String>,
    /// When the server backs up every collection, as a cron expression
    /// (`"0 * * * *"`: hourly, on the hour; UTC). Unset: never.
    pub schedule: Option<String>,
    /// Grandfather-father-son retention: the newest good backup of each of
    /// the last N hours, days and ISO weeks is kept; `prune` deletes the rest.
    pub keep_hourly: usize,
    pub keep_daily: usize,
    pub keep_weekly: usize,
    /// Uploads larger than this go in parts of this size.
    pub multipart_part_bytes: usize,
    pub s3: crate::backup::location::S3Settings,
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig {
            location: None,
            schedule: None,
            keep_hourly: 24,
            keep_daily: 30,
            keep_weekly: 12,
            multipart_part_bytes: 8 << 20,
            s3: Default::default(),
        }
    }
}

/// Thresholds of `GET /health/report`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct HealthConfig {
    /// Age of the last good backup that makes the report WARNING / CRITICAL.
    pub backup_warning_secs: u64,
    pub backup_critical_secs: u64,
    /// Free space of the data directory's disk below which it is WARNING /
    /// CRITICAL, in percent.
    pub disk_warning_percent: f64,
    pub disk_critical_percent: f64,
    /// Memory in use (of the machine) above which it is WARNING / CRITICAL.
    pub memory_warning_percent: f64,
    pub memory_critical_percent: f64,
    /// Catalog round trip above which it is WARNING.
    pub metadata_warning_ms: u64,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            backup_warning_secs: 2 * 3600,
            backup_critical_secs: 6 * 3600,
            disk_warning_percent: 15.0,
            disk_critical_percent: 5.0,
            memory_warning_percent: 90.0,
            memory_critical_percent: 97.0,
            metadata_warning_ms: 100,
        }
    }
}

impl std::fmt::Debug for ServeConfig {
    /// Keys are never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field(
                "read_only_api_key",
                &self.read_only_api_key.as_ref().map(|_| "<set>"),
            )
            .field("open_health_endpoints", &self.open_health_endpoints)
            .field("tls_cert", &self.tls_cert)
            .field("search_threads", &self.search_threads)
            .field("http_threads", &self.http_threads)
            .field("sidecars", &self.sidecars)
            .finish()
    }
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            data_dir: PathBuf::from("./data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 6333)),
            max_body_bytes: 32 << 20,
            api_key: None,
            read_only_api_key: None,
            open_health_endpoints: true,
            tls_cert: None,
            tls_key: None,
            search_threads: 0,
            http_threads: 0,
            sidecars: SidecarConfig::default(),
        }
    }
}

/// Flags given on the command line; `None` leaves the layer below in force.
#[derive(Debug, Default, Serialize)]
pub struct ServeOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only_api_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
}

impl ServeConfig {
    /// `http_threads`, with 0 resolved to one per three CPUs, at least one.
    pub fn http_thread_count(&self) -> usize {
        match self.http_threads {
            0 => std::thread::available_parallelism().map_or(1, |n| (n.get() / 3).max(1)),
            n => n,
        }
    }

    /// The settings a command-line tool reads: the file, the variables, and
    /// `--data-dir`.
    pub fn load_for_tool(file: Option<&Path>, data_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        ServeConfig::load(
            file,
            ServeOverrides {
                data_dir,
                ..Default::default()
            },
        )
    }

    pub fn load(file: Option<&Path>, overrides: ServeOverrides) -> anyhow::Result<ServeConfig> {
        let mut figment = Figment::from(Serialized::defaults(ServeConfig::default()));
        if let Some(file) = file {
            if !file.exists() {
                anyhow::bail!("config file {} does not exist", file.display());
            }
            figment = figment.merge(Toml::file(file));
        }
        let config = figment
            .merge(Env::prefixed("CAIRN_").split("__"))
            .merge(Serialized::defaults(overrides))
            .extract()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_reach_debug_output() {
        let mut config = ServeConfig {
            api_key: Some("key-one".into()),
            read_only_api_key: Some("key-two".into()),
            ..ServeConfig::default()
        };
        config.sidecars.metadata_url = Some("postgres://cairn:pg-secret@db:5432/meta".into());
        config.sidecars.backup.s3.access_key_id = Some("AKIA-secret".into());
        config.sidecars.backup.s3.secret_access_key = Some("s3-secret".into());
        let printed = format!("{config:?}");
        for secret in [
            "key-one",
            "key-two",
            "pg-secret",
            "AKIA-secret",
            "s3-secret",
        ] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert!(
            printed.contains("postgres://cairn:***@db:5432/meta"),
            "{printed}"
        );
    }

    #[test]
    fn http_threads_come_from_toml_and_zero_means_a_third_of_the_cpus() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("cairn.toml");
        std::fs::write(&file, "http_threads = 3\nsearch_threads = 1\n").expect("write");
        let config = ServeConfig::load_for_tool(Some(&file), None).expect("load");
        assert_eq!((config.http_thread_count(), config.search_threads), (3, 1));
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let auto = ServeConfig::default().http_thread_count();
        assert_eq!(auto, (cpus / 3).max(1));
    }

    #[test]
    fn nested_settings_come_from_toml() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("cairn.toml");
        std::fs::write(
            &file,
            "[backup]\nlocation = \"s3://b/p\"\nkeep_daily = 7\n[health]\ndisk_warning_percent = 20.0\n",
        )
        .expect("write");
        let config = ServeConfig::load_for_tool(Some(&file), None).expect("load");
        let b = &config.sidecars.backup;
        assert_eq!(b.location.as_deref(), Some("s3://b/p"));
        assert_eq!((b.keep_hourly, b.keep_daily, b.keep_weekly), (24, 7, 12));
        assert_eq!(config.sidecars.health.disk_warning_percent, 20.0);
        assert_eq!(config.sidecars.health.backup_critical_secs, 6 * 3600);
    }
}
