//! Loading ONNX Runtime. `ort` is built with `load-dynamic`: the shared
//! library is opened at run time from a path Cairn chooses, so a missing or
//! wrong library is an error that says where it looked, not a panic, and no
//! build step downloads anything.

use std::path::{Path, PathBuf};

use ort::environment::Environment;
use parking_lot::Mutex;

use crate::error::{IngestError, Result};

static ENVIRONMENT: Mutex<Option<Environment>> = Mutex::new(None);

/// Where ONNX Runtime is looked for: `ORT_DYLIB_PATH` if set, else the
/// library `make setup` puts under `<models_dir>/onnxruntime/`.
pub fn default_runtime_path(models_dir: &Path) -> PathBuf {
    match std::env::var_os("ORT_DYLIB_PATH") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => models_dir.join("onnxruntime").join("libonnxruntime.so"),
    }
}

/// The process's ONNX Runtime environment, loading the library from `path`
/// on first use. A process loads one library: later calls reuse it whatever
/// path they name. A failed load can be retried.
pub fn init_runtime(path: &Path) -> Result<Environment> {
    let mut env = ENVIRONMENT.lock();
    if let Some(env) = env.as_ref() {
        return Ok(env.clone());
    }
    let fail = |reason: String| IngestError::Runtime {
        path: path.to_path_buf(),
        reason,
    };
    if !path.exists() {
        return Err(fail("no such file".into()));
    }
    let built = ort::init_from(path)
        .map_err(|e| fail(e.to_string()))?
        .with_name("cairn")
        .build()
        .map_err(|e| fail(e.to_string()))?;
    *env = Some(built.clone());
    Ok(built)
}
