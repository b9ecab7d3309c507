//! Fetching a snapshot named by a URL to a local file: `file://` (used in
//! place), `http(s)://` and `s3://bucket/key` (streamed to a temp file).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use futures::StreamExt;
use object_store::path::Path as ObjectPath;
use tokio::io::AsyncWriteExt;

use super::location::{Location, S3Settings};

/// A fetched snapshot: the caller's own file, or a temp file removed on drop.
pub enum Fetched {
    Local(PathBuf),
    Temp(tempfile::TempPath),
}

impl Fetched {
    pub fn path(&self) -> &Path {
        match self {
            Fetched::Local(p) => p,
            Fetched::Temp(p) => p,
        }
    }
}

/// A temp file in `dir` (the data directory's snapshot area, so a large
/// download lands on the same disk as the data, not in /tmp).
pub fn temp_file(dir: &Path) -> anyhow::Result<tempfile::NamedTempFile> {
    std::fs::create_dir_all(dir)?;
    tempfile::Builder::new()
        .prefix(".download-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temp file in {}", dir.display()))
}

pub async fn fetch(url: &str, s3: &S3Settings, temp_dir: &Path) -> anyhow::Result<Fetched> {
    if let Some(path) = url.strip_prefix("file://") {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!("no snapshot file at {}", path.display());
        }
        return Ok(Fetched::Local(path));
    }
    let temp = temp_file(temp_dir)?;
    let (file, temp_path) = temp.into_parts();
    let mut out = tokio::fs::File::from_std(file);
    if url.starts_with("http://") || url.starts_with("https://") {
        let mut response = reqwest::get(url)
            .await
            .with_context(|| format!("cannot download {url}"))?;
        if !response.status().is_success() {
            bail!("downloading {url} answered {}", response.status());
        }
        while let Some(chunk) = response
            .chunk()
            .await
            .with_context(|| format!("download of {url} broke off"))?
        {
            out.write_all(&chunk).await?;
        }
    } else if let Some(rest) = url.strip_prefix("s3://") {
        let (bucket, key) = rest
            .split_once('/')
            .with_context(|| format!("`{url}` names a bucket but no object"))?;
        let location = Location::open(&format!("s3://{bucket}"), s3)?;
        let mut stream = location
            .store
            .get(&ObjectPath::from(key))
            .await
            .with_context(|| format!("cannot read {url}"))?
            .into_stream();
        while let Some(chunk) = stream.next().await {
            out.write_all(&chunk.with_context(|| format!("reading {url} broke off"))?)
                .await?;
        }
    } else {
        bail!("unsupported snapshot location `{url}`: use file://, http(s):// or s3://");
    }
    out.flush().await?;
    out.sync_all().await?;
    Ok(Fetched::Temp(temp_path))
}
