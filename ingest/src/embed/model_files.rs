//! Finding a sentence-transformers style model on disk and reading how it
//! wants to be run: the ONNX graph, `tokenizer.json`, the maximum sequence
//! length (`sentence_bert_config.json`), the pooling (`1_Pooling/config.json`,
//! found through `modules.json`) and whether it normalises (a `Normalize`
//! module).
//!
//! Models live in one directory, one sub-directory per model, named as
//! collections refer to them: `<models_dir>/all-MiniLM-L6-v2/`.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{IngestError, Result};

/// The model `make setup` fetches and collections get when they name none.
pub const DEFAULT_MODEL: &str = "all-MiniLM-L6-v2";

/// How token vectors become one sentence vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pooling {
    /// Average of the token vectors the attention mask keeps.
    Mean,
    /// The first ([CLS]) token's vector.
    Cls,
    /// Component-wise maximum over kept tokens.
    Max,
    /// Sum of kept token vectors over √(number of tokens).
    MeanSqrtLen,
}

/// A model directory, read and checked.
#[derive(Clone, Debug)]
pub struct ModelFiles {
    pub name: String,
    pub dir: PathBuf,
    pub onnx: PathBuf,
    pub tokenizer: PathBuf,
    /// Tokens per input, special tokens included (longer inputs are cut).
    pub max_seq_length: usize,
    /// Output dimension, when a config says it (the graph decides otherwise).
    pub dim: Option<usize>,
    pub pooling: Pooling,
    pub normalize: bool,
}

fn read_json(path: &Path) -> Result<Option<Value>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| IngestError::load(path, format!("not valid JSON: {e}"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(IngestError::io(path)(e)),
    }
}

impl ModelFiles {
    /// Reads the model in `dir`, named `name`.
    pub fn load(name: &str, dir: &Path) -> Result<ModelFiles> {
        let bad = |reason: String| IngestError::Model {
            dir: dir.to_path_buf(),
            reason,
        };
        let onnx = ["model.onnx", "onnx/model.onnx"]
            .iter()
            .map(|f| dir.join(f))
            .find(|p| p.is_file())
            .ok_or_else(|| bad("no model.onnx (or onnx/model.onnx) here".into()))?;
        let tokenizer = dir.join("tokenizer.json");
        if !tokenizer.is_file() {
            return Err(bad("no tokenizer.json here".into()));
        }
        let st = read_json(&dir.join("sentence_bert_config.json"))?;
        let hf = read_json(&dir.join("config.json"))?;
        let max_seq_length = st
            .as_ref()
            .and_then(|c| c.get("max_seq_length")?.as_u64())
            .or_else(|| hf.as_ref()?.get("max_position_embeddings")?.as_u64())
            .unwrap_or(512) as usize;
        if max_seq_length < 3 {
            return Err(bad(format!("max_seq_length {max_seq_length} is too small")));
        }
        let modules = read_json(&dir.join("modules.json"))?;
        let module_of = |kind: &str| -> Option<String> {
            modules.as_ref()?.as_array()?.iter().find_map(|m| {
                let t = m.get("type")?.as_str()?;
                t.ends_with(kind)
                    .then(|| m.get("path")?.as_str().map(str::to_string))?
            })
        };
        // Without modules.json, assume the common recipe: mean pooling, normalised.
        let normalize = modules.is_none() || module_of("Normalize").is_some();
        let pooling_dir = module_of("Pooling").unwrap_or_else(|| "1_Pooling".into());
        let pooling_cfg = read_json(&dir.join(pooling_dir).join("config.json"))?;
        let flag = |k: &str| {
            pooling_cfg
                .as_ref()
                .and_then(|c| c.get(k)?.as_bool())
                .unwrap_or(false)
        };
        let pooling = if flag("pooling_mode_cls_token") {
            Pooling::Cls
        } else if flag("pooling_mode_max_tokens") {
            Pooling::Max
        } else if flag("pooling_mode_mean_sqrt_len_tokens") {
            Pooling::MeanSqrtLen
        } else {
            Pooling::Mean
        };
        let dim = pooling_cfg
            .as_ref()
            .and_then(|c| c.get("word_embedding_dimension")?.as_u64())
            .or_else(|| hf.as_ref()?.get("hidden_size")?.as_u64())
            .map(|d| d as usize);
        Ok(ModelFiles {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            onnx,
            tokenizer,
            max_seq_length,
            dim,
            pooling,
            normalize,
        })
    }
}

/// Whether two model names mean the same model: case is ignored, and so is
/// an organisation prefix (`sentence-transformers/all-MiniLM-L6-v2` is
/// `all-MiniLM-L6-v2`).
pub fn same_model(a: &str, b: &str) -> bool {
    let short = |m: &str| m.rsplit('/').next().unwrap_or(m).to_ascii_lowercase();
    short(a) == short(b)
}

/// The directory of models, and how a model's name finds its files.
#[derive(Clone, Debug)]
pub struct ModelRegistry {
    dir: PathBuf,
}

impl ModelRegistry {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ModelRegistry { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The canonical name of `name`: an organisation prefix such as
    /// `sentence-transformers/` is dropped, and case is ignored, so the names
    /// Qdrant's and Hugging Face's clients use find the same directory.
    pub fn resolve(&self, name: &str) -> Result<ModelFiles> {
        let part_ok = |p: &str| {
            !p.is_empty()
                && p != "."
                && p != ".."
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        };
        let (valid, short) = match name.split_once('/') {
            Some((org, short)) => (part_ok(org) && part_ok(short), short),
            None => (part_ok(name), name),
        };
        if !valid {
            return Err(IngestError::Invalid(format!(
                "`{name}` is not a model name (use e.g. `{DEFAULT_MODEL}`)"
            )));
        }
        let found = self
            .available()
            .into_iter()
            .find(|m| m.eq_ignore_ascii_case(short));
        match found {
            Some(dir_name) => ModelFiles::load(&dir_name, &self.dir.join(&dir_name)),
            None => Err(IngestError::UnknownModel {
                name: name.to_string(),
                dir: self.dir.clone(),
                available: match self.available().join(", ") {
                    s if s.is_empty() => "none".to_string(),
                    s => s,
                },
            }),
        }
    }

    /// Names of the sub-directories holding a tokenizer (sorted).
    pub fn available(&self) -> Vec<String> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("tokenizer.json").is_file())
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .collect();
        names.sort();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, text).expect("write");
    }

    #[test]
    fn reads_sentence_transformers_configs_and_resolves_names() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("Tiny-Model");
        write(&dir.join("model.onnx"), "");
        write(&dir.join("tokenizer.json"), "{}");
        write(
            &dir.join("sentence_bert_config.json"),
            r#"{"max_seq_length": 128}"#,
        );
        write(
            &dir.join("modules.json"),
            r#"[{"type": "sentence_transformers.models.Transformer", "path": ""},
                {"type": "sentence_transformers.models.Pooling", "path": "pool"}]"#,
        );
        write(
            &dir.join("pool/config.json"),
            r#"{"word_embedding_dimension": 32, "pooling_mode_cls_token": true}"#,
        );
        let reg = ModelRegistry::new(root.path());
        let m = reg.resolve("org/tiny-model").expect("resolve");
        assert_eq!(
            (m.max_seq_length, m.dim, m.pooling),
            (128, Some(32), Pooling::Cls)
        );
        assert!(!m.normalize, "no Normalize module listed");
        for bad in ["../etc", "a/b/c", "", "x y"] {
            assert!(
                matches!(reg.resolve(bad), Err(IngestError::Invalid(_))),
                "{bad}"
            );
        }
        let missing = reg.resolve("other").expect_err("missing").to_string();
        assert!(missing.contains("available: Tiny-Model"), "{missing}");
    }
}
