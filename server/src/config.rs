//! `cairn serve` settings, layered: built-in defaults, then the TOML file
//! given by `--config`, then `CAIRN_*` environment variables, then flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServeConfig {
    /// Where collections live.
    pub data_dir: PathBuf,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Largest accepted request body; larger ones get 413.
    pub max_body_bytes: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            data_dir: PathBuf::from("./data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 6333)),
            max_body_bytes: 32 << 20,
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
