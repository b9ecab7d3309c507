//! Cairn's server: the HTTP API speaking Qdrant's REST dialect over the
//! engine (`http`), and its configuration (`config`). The `cairn` binary
//! (`main.rs`) adds the command-line tools.

pub mod backup;
pub mod catalog;
pub mod config;
pub mod health;
pub mod http;
pub mod ingestion;
