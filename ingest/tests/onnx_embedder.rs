//! Cairn's ONNX embeddings against an independent reference: ONNX Runtime's
//! Python package on the same model files, pooled and normalised in numpy
//! (tests/python/embed_reference.py).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use cairn_ingest::embed::{Embedder, ModelRegistry, OnnxEmbedder, OnnxOptions, DEFAULT_MODEL};
use cairn_ingest::IngestError;

fn sentences() -> Vec<String> {
    let long = "Retrieval augmented generation grounds a language model in documents. ".repeat(60);
    vec![
        "A man is eating food.".into(),
        "The quick brown fox jumps over the lazy dog.".into(),
        "0-dimensional biomaterials lack inductive properties.".into(),
        "Vitamin D deficiency is associated with an increased risk of multiple sclerosis.".into(),
        "Cairn stores vectors in an HNSW graph and logs every write before it answers.".into(),
        "Ünïcödé, emoji 🚀 and CJK 漢字 are tokenized too.".into(),
        "x".into(),
        "   leading and trailing spaces   ".into(),
        "Paris is the capital and most populous city of France; it has been one of Europe's major centres of finance, diplomacy, commerce, fashion and science.".into(),
        long, // far past 256 tokens: both sides must truncate the same way
    ]
}

#[test]
fn embeddings_match_the_python_reference() {
    let model = common::minilm();
    let texts = sentences();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let ours = model.embed(&refs).expect("embed");
    assert_eq!(model.dim(), 384);
    assert_eq!(model.max_tokens(), 256);

    let dir = common::models_dir().join(DEFAULT_MODEL);
    let mut child = Command::new(common::python())
        .arg(common::repo().join("tests/python/embed_reference.py"))
        .arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the python reference");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(serde_json::to_string(&texts).expect("json").as_bytes())
        .expect("write sentences");
    let out = child.wait_with_output().expect("python reference");
    assert!(out.status.success(), "the python reference failed");
    let theirs: Vec<Vec<f32>> = serde_json::from_slice(&out.stdout).expect("reference json");

    assert_eq!(theirs.len(), ours.len());
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a.len(), b.len());
        let cos: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!(
            (norm - 1.0).abs() < 1e-4,
            "sentence {i} not normalised: {norm}"
        );
        assert!(cos >= 0.999, "sentence {i}: cosine {cos} to the reference");
    }
}

#[test]
fn batching_and_order_do_not_change_vectors() {
    let model = common::minilm();
    let texts = sentences();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let together = model.embed(&refs).expect("embed");
    for (i, t) in refs.iter().enumerate() {
        let alone = model.embed(&[t]).expect("embed one");
        let cos: f32 = alone[0].iter().zip(&together[i]).map(|(x, y)| x * y).sum();
        assert!(
            cos > 0.9999,
            "sentence {i}: padding changed its vector ({cos})"
        );
    }
    // Meaning, not just numbers: a paraphrase is nearer than an unrelated text.
    let v = model
        .embed(&[
            "A man is eating food.",
            "A man is eating a meal.",
            "The stock market fell.",
        ])
        .expect("embed");
    let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    assert!(dot(&v[0], &v[1]) > dot(&v[0], &v[2]) + 0.3);
    assert!(model.embed(&[]).expect("empty").is_empty());
}

#[test]
fn the_int8_variant_stays_close_to_the_base_model() {
    let dir = common::models_dir_with_int8();
    let registry = ModelRegistry::new(&dir);
    let files = registry
        .resolve("all-MiniLM-L6-v2-int8")
        .expect("int8 model files");
    let runtime = cairn_ingest::embed::default_runtime_path(&dir);
    let int8 = OnnxEmbedder::load(files, &OnnxOptions::new(runtime)).expect("load int8");
    assert_eq!(int8.dim(), 384);
    let texts = sentences();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let base = common::minilm().embed(&refs).expect("embed");
    let quantized = int8.embed(&refs).expect("embed int8");
    let cosines: Vec<f32> = base
        .iter()
        .zip(&quantized)
        .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).sum())
        .collect();
    eprintln!("cosines between the variants: {cosines:?}");
    // Quantization error weighs most on the shortest input ("x", one
    // token), so each sentence gets a looser floor than the mean; what
    // decides whether int8 is worth offering is retrieval quality (the
    // SciFact nDCG@10 in the README), not this check.
    for (i, cos) in cosines.iter().enumerate() {
        assert!(
            *cos >= 0.95,
            "sentence {i}: cosine {cos} between the two variants"
        );
    }
    let mean = cosines.iter().sum::<f32>() / cosines.len() as f32;
    assert!(mean >= 0.985, "mean cosine {mean} between the two variants");
}

#[test]
fn token_spans_cover_the_text_without_truncation() {
    let model = common::minilm();
    let text = "Hello, world! ".repeat(200);
    let spans = model.token_spans(&text).expect("spans");
    assert!(spans.len() > 256, "the span tokenizer must not truncate");
    assert_eq!(&text[spans[0].0..spans[0].1], "Hello");
    assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0));
    assert_eq!(model.special_tokens(), 2);
}

#[test]
fn a_missing_runtime_is_an_error_that_says_what_to_do() {
    // A process loads one runtime; this one never loaded any, so it must
    // fail cleanly and name the path (the other tests run in other
    // processes under nextest; under `cargo test` the library may be loaded
    // already, and then any path works, so only check the message shape).
    let files = ModelRegistry::new(common::models_dir())
        .resolve(DEFAULT_MODEL)
        .expect("files");
    match OnnxEmbedder::load(files, &OnnxOptions::new("/nonexistent/libonnxruntime.so")) {
        Err(e @ IngestError::Runtime { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("/nonexistent/libonnxruntime.so") && msg.contains("make setup"),
                "{msg}"
            );
        }
        Err(other) => panic!("unexpected error: {other}"),
        Ok(_) => {} // the library was already loaded by another test in this process
    }
}
