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
    script_with(name, &[])
}

fn script_with(name: &str, args: &[&str]) -> PathBuf {
    let out = Command::new(repo().join("scripts").join(name))
        .args(args)
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

/// `./models` with the int8 variant built too (`scripts/models.sh --int8`).
pub fn models_dir_with_int8() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| script_with("models.sh", &["--int8"]))
        .clone()
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

/// A one-page PDF with `text` on it and `title` in its information
/// dictionary, written with lopdf (what pdf-extract reads with).
pub fn write_pdf(path: &std::path::Path, title: &str, text: &str) {
    use pdf_extract::content::{Content, Operation};
    use pdf_extract::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let content = Content {
        operations: vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 12.into()]),
            Operation::new("Td", vec![72.into(), 700.into()]),
            Operation::new("Tj", vec![Object::string_literal(text)]),
            Operation::new("ET", vec![]),
        ],
    };
    let content_id = doc.add_object(Stream::new(
        dictionary! {},
        content.encode().expect("encode"),
    ));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    let info_id = doc.add_object(dictionary! { "Title" => Object::string_literal(title) });
    doc.trailer.set("Root", catalog_id);
    doc.trailer.set("Info", info_id);
    doc.save(path).expect("save pdf");
}
