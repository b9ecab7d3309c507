//! Cairn's server: the HTTP API speaking Qdrant's REST dialect over the
//! engine (`http`), and its configuration (`config`). The `cairn` binary
//! (`main.rs`) adds the command-line tools.

pub mod config;
pub mod http;
