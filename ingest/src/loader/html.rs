//! HTML: the `<title>`, and the visible text of the body — scripts, styles
//! and other non-content elements dropped, block elements separated by
//! blank lines so the chunker sees paragraphs, runs of whitespace folded.

use scraper::{Html, Node, Selector};

const SKIP: &[&str] = &[
    "script", "style", "noscript", "template", "head", "svg", "iframe", "object",
];
const BLOCK: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "main",
    "aside",
    "nav",
    "li",
    "ul",
    "ol",
    "table",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "blockquote",
    "br",
    "hr",
    "dd",
    "dt",
    "figcaption",
    "details",
    "summary",
];

pub fn extract(source: &str) -> (Option<String>, String) {
    let doc = Html::parse_document(source);
    let title = Selector::parse("title").ok().and_then(|s| {
        doc.select(&s)
            .next()
            .map(|t| fold(&t.text().collect::<String>()))
    });
    let mut out = String::new();
    walk(doc.tree.root(), &mut out);
    let paragraphs: Vec<String> = out
        .split("\n\n")
        .map(fold)
        .filter(|p| !p.is_empty())
        .collect();
    (title.filter(|t| !t.is_empty()), paragraphs.join("\n\n"))
}

fn walk(node: ego_tree::NodeRef<'_, Node>, out: &mut String) {
    match node.value() {
        Node::Text(t) => out.push_str(t),
        Node::Element(e) => {
            let name = e.name();
            if SKIP.contains(&name) {
                return;
            }
            let block = BLOCK.contains(&name);
            if block {
                out.push_str("\n\n");
            }
            for child in node.children() {
                walk(child, out);
            }
            if block {
                out.push_str("\n\n");
            } else if matches!(name, "td" | "th") {
                out.push(' ');
            }
        }
        _ => {
            for child in node.children() {
                walk(child, out);
            }
        }
    }
}

fn fold(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_visible_text_in_paragraphs() {
        let (title, text) = extract(
            "<html><head><title> The  Page </title><style>p{}</style></head>
             <body><h1>Heading</h1><p>First <b>bold</b>\n paragraph.</p>
             <script>alert('x')</script><ul><li>one</li><li>two</li></ul></body></html>",
        );
        assert_eq!(title.as_deref(), Some("The Page"));
        assert_eq!(text, "Heading\n\nFirst bold paragraph.\n\none\n\ntwo");
    }
}
