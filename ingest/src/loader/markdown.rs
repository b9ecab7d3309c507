//! Markdown: kept as written (its markup reads fine to an embedding model
//! and to a person looking at a chunk), minus YAML front matter. The title
//! is front matter's `title:`, else the first `# ` heading.

pub fn extract(source: &str) -> (Option<String>, String) {
    let mut title = None;
    let mut body = source;
    if let Some(rest) = source
        .strip_prefix("---\n")
        .or_else(|| source.strip_prefix("---\r\n"))
    {
        if let Some(end) = rest.find("\n---") {
            for line in rest[..end].lines() {
                if let Some(t) = line.strip_prefix("title:") {
                    title = Some(t.trim().trim_matches(|c| c == '"' || c == '\'').to_string());
                }
            }
            body = rest[end + 4..].trim_start_matches(['-', '\r', '\n']);
        }
    }
    if title.is_none() {
        title = body
            .lines()
            .find_map(|l| l.strip_prefix("# ").map(|t| t.trim().to_string()));
    }
    (title, body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_come_from_front_matter_or_the_first_heading() {
        let (t, body) = extract("---\ntitle: \"Setup guide\"\ntags: [a]\n---\n# Heading\nText.");
        assert_eq!(t.as_deref(), Some("Setup guide"));
        assert_eq!(body, "# Heading\nText.");
        let (t, _) = extract("Intro\n\n# Real title\n\n## Sub");
        assert_eq!(t.as_deref(), Some("Real title"));
        assert_eq!(extract("no heading").0, None);
    }
}
