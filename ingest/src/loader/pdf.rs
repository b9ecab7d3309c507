//! PDF: the text layer, page by page (`pdf-extract`, over `lopdf`), and the
//! title from the document information dictionary. A scanned PDF without a
//! text layer yields no text and is reported as such by the pipeline.
//! `pdf-extract` can panic on malformed files; a panic here becomes this
//! file's error, not the run's end.

pub fn extract(bytes: &[u8]) -> Result<(Option<String>, String), String> {
    let pages = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem_by_pages(bytes))
        .map_err(|_| "not a readable PDF (the parser gave up on it)".to_string())?
        .map_err(|e| format!("not a readable PDF: {e}"))?;
    let text = pages
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    Ok((title(bytes), text))
}

fn title(bytes: &[u8]) -> Option<String> {
    let doc = std::panic::catch_unwind(|| pdf_extract::Document::load_mem(bytes))
        .ok()?
        .ok()?;
    let info = doc.trailer.get(b"Info").ok()?;
    let info = match info {
        pdf_extract::Object::Reference(id) => doc.get_object(*id).ok()?,
        other => other,
    };
    let title = info.as_dict().ok()?.get(b"Title").ok()?;
    let bytes = title.as_str().ok()?;
    // UTF-16BE with a byte-order mark, or PDFDocEncoding (close to Latin-1).
    let text = if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        bytes.iter().map(|&b| b as char).collect()
    };
    let text = text.trim().to_string();
    (!text.is_empty()).then_some(text)
}
