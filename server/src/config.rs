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
    pub fn load(file: Option<&Path>, overrides: ServeOverrides) -> anyhow::Result<ServeConfig> {
        let mut figment = Figment::from(Serialized::defaults(ServeConfig::default()));
        if let Some(file) = file {
            if !file.exists() {
                anyhow::bail!("config file {} does not exist", file.display());
            }
            figment = figment.merge(Toml::file(file));
        }
        let config = figment
            .merge(Env::prefixed("CAIRN_"))
            .merge(Serialized::defaults(overrides))
            .extract()?;
        Ok(config)
    }
}
