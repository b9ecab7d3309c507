//! Where backups (and remote snapshots) live: `s3://bucket/prefix` or
//! `file:///path`, opened as an `object_store` with a key prefix.
//!
//! S3 credentials and endpoint come from the standard variables
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
//! `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`), overridden by `[backup]` settings.
//! They are never logged: `S3Settings`' `Debug` hides the secret.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};
use serde::{Deserialize, Serialize};

/// S3 connection settings; unset fields fall back to the `AWS_*` variables.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct S3Settings {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Allow `http://` endpoints (a local S3-compatible server).
    pub allow_http: Option<bool>,
    /// Per-request timeout, seconds (default 60).
    pub timeout_secs: Option<u64>,
    /// Retries of a failed request (default 3).
    pub max_retries: Option<usize>,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field(
                "access_key_id",
                &self.access_key_id.as_ref().map(|_| "<set>"),
            )
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<set>"),
            )
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

/// An opened location: the store, and the prefix every key goes under.
#[derive(Clone)]
pub struct Location {
    pub store: Arc<dyn ObjectStore>,
    pub prefix: ObjectPath,
    pub url: String,
}

impl Location {
    pub fn open(url: &str, s3: &S3Settings) -> anyhow::Result<Location> {
        if let Some(path) = url.strip_prefix("file://") {
            if !path.starts_with('/') {
                bail!("file locations need an absolute path, like file:///var/backups/cairn");
            }
            std::fs::create_dir_all(path)
                .with_context(|| format!("cannot create backup directory {path}"))?;
            let store = LocalFileSystem::new_with_prefix(path)?;
            return Ok(Location {
                store: Arc::new(store),
                prefix: ObjectPath::default(),
                url: url.to_string(),
            });
        }
        let Some(rest) = url.strip_prefix("s3://") else {
            bail!("unsupported location `{url}`: use s3://bucket/prefix or file:///path");
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            bail!("location `{url}` names no bucket");
        }
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(v) = &s3.endpoint {
            builder = builder.with_endpoint(v);
        }
        if let Some(v) = &s3.region {
            builder = builder.with_region(v);
        }
        if let Some(v) = &s3.access_key_id {
            builder = builder.with_access_key_id(v);
        }
        if let Some(v) = &s3.secret_access_key {
            builder = builder.with_secret_access_key(v);
        }
        // A custom endpoint (MinIO, moto, s3s) is addressed by path, not
        // by a bucket subdomain.
        builder = builder.with_virtual_hosted_style_request(false);
        let mut client = ClientOptions::new()
            .with_timeout(Duration::from_secs(s3.timeout_secs.unwrap_or(60)))
            .with_connect_timeout(Duration::from_secs(5));
        // Our client options replace the ones `from_env` read, so the
        // standard variable is honoured here.
        let allow_http = s3.allow_http.unwrap_or_else(|| {
            std::env::var("AWS_ALLOW_HTTP").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
        });
        client = client.with_allow_http(allow_http);
        let retry = RetryConfig {
            max_retries: s3.max_retries.unwrap_or(3),
            retry_timeout: Duration::from_secs(s3.timeout_secs.unwrap_or(60) * 2),
            backoff: BackoffConfig::default(),
        };
        let store = builder
            .with_client_options(client)
            .with_retry(retry)
            .build()
            .with_context(|| format!("cannot configure S3 for {url}"))?;
        Ok(Location {
            store: Arc::new(store),
            prefix: ObjectPath::from(prefix.trim_matches('/')),
            url: url.to_string(),
        })
    }

    /// The key of `name` under this location's prefix.
    pub fn key(&self, name: &str) -> ObjectPath {
        let mut key = self.prefix.clone();
        for part in name.split('/').filter(|p| !p.is_empty()) {
            key = key.child(part);
        }
        key
    }
}
