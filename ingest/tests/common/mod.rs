//! Shared by the ingestion tests: the real model files and Python, set up by
//! the project's own scripts (idempotent, so every test may call them).

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use cairn_ingest::embed::{
    default_runtime_path, ModelRegistry, OnnxEmbedder, OnnxOptions, DEFAULT_MODEL,
};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn script(name: &str) -> PathBuf {
    let out = Command::new(repo().join("scripts").join(name))
        .output()
        .unwrap_or_else(|e| panic!("run scripts/{name}: {e}"));
    assert!(
        out.status.success(),
        "scripts/{name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// `./models`, fetched by scripts/models.sh if it is not there yet.
pub fn models_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| script("models.sh")).clone()
}

/// The project venv's python (tests/python/requirements.txt).
pub fn python() -> PathBuf {
    script("python_env.sh")
}

/// all-MiniLM-L6-v2 on ONNX Runtime, loaded once per test process.
pub fn minilm() -> &'static OnnxEmbedder {
    static MODEL: OnceLock<OnnxEmbedder> = OnceLock::new();
    MODEL.get_or_init(|| {
        let dir = models_dir();
        let files = ModelRegistry::new(&dir)
            .resolve(DEFAULT_MODEL)
            .expect("model files");
        OnnxEmbedder::load(files, &OnnxOptions::new(default_runtime_path(&dir)))
            .expect("load model")
    })
}
