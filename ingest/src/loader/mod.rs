//! From paths to [`Document`]s: walking folders, and one loader per file
//! type, chosen by extension. Unknown types are reported, not fatal.

mod html;
mod jsonl;
mod markdown;
mod pdf;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::document::Document;
use crate::error::{IngestError, Result};

pub use jsonl::JsonlFields;

/// The file types Cairn reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileKind {
    Text,
    Markdown,
    Html,
    Pdf,
    Jsonl,
}

impl FileKind {
    pub fn of(path: &Path) -> Option<FileKind> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "txt" | "text" => FileKind::Text,
            "md" | "markdown" => FileKind::Markdown,
            "html" | "htm" | "xhtml" => FileKind::Html,
            "pdf" => FileKind::Pdf,
            "jsonl" | "ndjson" => FileKind::Jsonl,
            _ => return None,
        })
    }

    /// The payload's `file_type`.
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Text => "txt",
            FileKind::Markdown => "md",
            FileKind::Html => "html",
            FileKind::Pdf => "pdf",
            FileKind::Jsonl => "jsonl",
        }
    }
}

/// What walking the given paths found.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Readable files, sorted, as canonical paths.
    pub files: Vec<(PathBuf, FileKind)>,
    /// Files of a type Cairn does not read.
    pub unsupported: Vec<PathBuf>,
    /// The canonical roots: documents whose source lies under one of them
    /// and was not seen are what `--prune` removes.
    pub roots: Vec<PathBuf>,
}

/// Walks `paths` (files or folders; hidden entries under a folder are
/// skipped; symbolic links are not followed).
pub fn discover(paths: &[PathBuf]) -> Result<Discovery> {
    let mut found = Discovery::default();
    for path in paths {
        let root = path.canonicalize().map_err(|e| {
            IngestError::load(path, format!("{e} (give an existing file or folder)"))
        })?;
        let walker = walkdir::WalkDir::new(&root)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
        for entry in walker {
            let entry = entry.map_err(|e| IngestError::load(&root, e))?;
            if !entry.file_type().is_file() {
                continue;
            }
            let file = entry.into_path();
            match FileKind::of(&file) {
                Some(kind) => found.files.push((file, kind)),
                None => found.unsupported.push(file),
            }
        }
        found.roots.push(root);
    }
    found.files.sort();
    found.files.dedup();
    found.unsupported.sort();
    found.unsupported.dedup();
    Ok(found)
}

/// How files become documents.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    pub jsonl: JsonlFields,
    /// Tags every document gets (payload `tags`).
    pub tags: Vec<String>,
}

/// One file's documents, and the records of it that could not be read.
#[derive(Debug, Default)]
pub struct Loaded {
    pub documents: Vec<Document>,
    /// (where, why): a JSON-lines file may have bad lines among good ones.
    pub errors: Vec<(String, String)>,
}

/// Reads one file (a canonical path from [`discover`]).
pub fn load(path: &Path, kind: FileKind, options: &LoadOptions) -> Result<Loaded> {
    let source = path.to_string_lossy().into_owned();
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let whole = |title: Option<String>, text: String| Document {
        id: source.clone(),
        source: source.clone(),
        title: title
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| stem.clone()),
        text,
        file_type: kind.name(),
        tags: options.tags.clone(),
        metadata: None,
    };
    let read_text = || -> Result<String> {
        let bytes = std::fs::read(path).map_err(IngestError::io(path))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    let documents = match kind {
        FileKind::Text => vec![whole(None, read_text()?)],
        FileKind::Markdown => {
            let (title, text) = markdown::extract(&read_text()?);
            vec![whole(title, text)]
        }
        FileKind::Html => {
            let (title, text) = html::extract(&read_text()?);
            vec![whole(title, text)]
        }
        FileKind::Pdf => {
            let bytes = std::fs::read(path).map_err(IngestError::io(path))?;
            let (title, text) = pdf::extract(&bytes).map_err(|e| IngestError::load(path, e))?;
            vec![whole(title, text)]
        }
        FileKind::Jsonl => {
            return jsonl::load(path, &source, &options.jsonl, &options.tags);
        }
    };
    Ok(Loaded {
        documents,
        errors: Vec::new(),
    })
}

/// A JSON value as text for ids and titles (strings bare, others as JSON).
pub(crate) fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(crate) type Metadata = Map<String, Value>;
