//! Hostile HTML: every vector of `tests/fixtures/xss/vectors.txt` must come out inert, both from the
//! sanitizer alone and after a whole run (feed in → store → RSS, Atom and JSON Feed out).
//!
//! "Inert" is judged the way a feed reader would meet the HTML: re-parsed by an HTML5 parser (scraper,
//! html5ever underneath, scripting enabled as in a browser), then walked for elements that run or load
//! something, event handler attributes, and URLs with a scheme that executes.

use feedmill::normalize::html::sanitize;
use url::Url;

use crate::test_server::{Reply, TestServer};
use crate::util::{fixture, Project};

/// Elements that run code, load another document, submit data, or change how the page resolves URLs.
/// `svg` and `math` are here whole: their namespaces bring scripts, animations that set `href`, and
/// parsing rules that mutation XSS plays on.
const FORBIDDEN_ELEMENTS: &[&str] = &[
    "script",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "param",
    "portal",
    "form",
    "input",
    "button",
    "textarea",
    "select",
    "option",
    "isindex",
    "keygen",
    "base",
    "link",
    "style",
    "meta",
    "svg",
    "math",
    "template",
    "noscript",
    "noembed",
    "noframes",
    "xmp",
    "plaintext",
    "xml",
    "layer",
    "bgsound",
];

/// Attributes whose value a browser loads or navigates to (`xlink:href` has the local name `href`).
const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "action",
    "formaction",
    "srcset",
    "poster",
    "background",
    "cite",
    "data",
    "codebase",
    "dynsrc",
    "lowsrc",
    "longdesc",
    "usemap",
    "ping",
    "srcdoc",
];

/// Schemes that run code or carry a whole document. `data:` would be fine for an `img` if the sanitizer
/// allowed it; it does not, so it is refused everywhere.
const ACTIVE_SCHEMES: &[&str] = &["javascript:", "vbscript:", "livescript:", "data:"];

/// The vectors, one per line, with `\xHH` escapes decoded (the file's header explains the format).
fn vectors() -> Vec<String> {
    let text = String::from_utf8(fixture("xss/vectors.txt")).unwrap();
    text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).map(unescape).collect()
}

fn unescape(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find("\\x") {
        out.push_str(&rest[..at]);
        match rest.get(at + 2..at + 4).and_then(|h| u8::from_str_radix(h, 16).ok()).filter(u8::is_ascii) {
            Some(b) => {
                out.push(char::from(b));
                rest = &rest[at + 4..];
            }
            None => {
                out.push_str("\\x");
                rest = &rest[at + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// What in `html` could run or load something once a browser parses it; empty when it is inert.
fn dangers(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_fragment(html);
    let mut found = Vec::new();
    for node in doc.tree.nodes() {
        let Some(el) = node.value().as_element() else { continue };
        let name = el.name();
        if FORBIDDEN_ELEMENTS.contains(&name) {
            found.push(format!("<{name}> element"));
        } else if &*el.name.ns != "http://www.w3.org/1999/xhtml" {
            found.push(format!("<{name}> in namespace {}", &*el.name.ns));
        }
        for (attr, value) in el.attrs() {
            let attr = attr.to_ascii_lowercase();
            if attr.starts_with("on") {
                found.push(format!("{attr} handler on <{name}>"));
            }
            // Browsers skip whitespace and control characters inside a scheme, and ignore case.
            let folded: String =
                value.chars().filter(|c| *c > ' ' && !c.is_control()).collect::<String>().to_lowercase();
            if URL_ATTRIBUTES.contains(&attr.as_str()) {
                let urls: Vec<&str> = if attr == "srcset" { folded.split(',').collect() } else { vec![&folded] };
                if urls.iter().any(|u| ACTIVE_SCHEMES.iter().any(|s| u.starts_with(s))) {
                    found.push(format!("{attr}={value:?} on <{name}>"));
                }
            }
            if attr == "style"
                && ["expression", "javascript:", "url(", "behavior", "binding", "@import"]
                    .iter()
                    .any(|s| folded.contains(s))
            {
                found.push(format!("style={value:?} on <{name}>"));
            }
        }
    }
    found
}

/// The checker has teeth: it flags most raw vectors. The rest are inert to an HTML5 parser as they
/// stand: aimed at old browsers (`DATASRC`, `expr/**/ession`, a NUL inside `javascript:`), or ignored in a
/// fragment (`<body onload>`, `<frameset>`), or cut short at the end of input.
#[test]
fn the_checker_flags_raw_vectors() {
    let vectors = vectors();
    assert!(vectors.len() >= 100, "only {} vectors", vectors.len());
    let missed: Vec<&String> = vectors.iter().filter(|v| dangers(v).is_empty()).collect();
    assert!(
        missed.len() * 5 < vectors.len(),
        "{} of {} raw vectors look inert: {missed:#?}",
        missed.len(),
        vectors.len()
    );
    assert!(!dangers(r#"<img src=x onerror=alert(1)>"#).is_empty());
    assert!(!dangers("<a href=\" java\tscript:alert(1)\">x</a>").is_empty());
    assert!(!dangers(r#"<noscript><p title="</noscript><img src=x onerror=alert(1)>">"#).is_empty());
    assert!(dangers(
        r#"<p>Сәлем <a href="https://abai.kz/" rel="noopener">link</a><img src="https://x.example/a.png"></p>"#
    )
    .is_empty());
}

#[test]
fn the_sanitizer_leaves_every_vector_inert() {
    let base = Url::parse("https://abai.kz/post/1").unwrap();
    let mut failures = Vec::new();
    for v in vectors() {
        for base in [Some(&base), None] {
            let Some(clean) = sanitize(&v, base) else { continue };
            let found = dangers(&clean);
            if !found.is_empty() {
                failures.push(format!("{v}\n  → {clean}\n  → {found:?}"));
            }
            // A second pass finds nothing more to remove: what the sanitizer wrote parses back to itself.
            let again = sanitize(&clean, base);
            if again.as_deref() != Some(clean.as_str()) {
                failures.push(format!("{v}\n  → {clean}\n  → not stable: {again:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n\n"));
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn rss(vectors: &[String]) -> String {
    let items: String = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "<item><title>rss vector {i}</title><link>https://xss.example/rss/{i}</link><guid>rss-{i}</guid>\
                 <description>{0}</description><content:encoded>{0}</content:encoded></item>\n",
                xml_escape(v)
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">\
         <channel><title>rss</title><link>https://xss.example/</link>\n{items}</channel></rss>"
    )
}

fn atom(vectors: &[String]) -> String {
    let entries: String = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "<entry><id>urn:xss:atom:{i}</id><title>atom vector {i}</title><updated>2024-05-01T10:00:00Z</updated>\
                 <link href=\"https://xss.example/atom/{i}\"/><summary type=\"html\">{0}</summary><content type=\"html\">{0}</content></entry>\n",
                xml_escape(v)
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>atom</title>\
         <id>urn:xss:atom</id><updated>2024-05-01T10:00:00Z</updated>\n{entries}</feed>"
    )
}

fn json_feed(vectors: &[String]) -> String {
    let items: Vec<_> = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::json!({
                "id": format!("json-{i}"),
                "url": format!("https://xss.example/json/{i}"),
                "title": format!("json vector {i}"),
                "summary": v,
                "content_html": v,
            })
        })
        .collect();
    serde_json::json!({"version": "https://jsonfeed.org/version/1.1", "title": "json", "items": items}).to_string()
}

/// The text of every `<tag …>…</tag>` in `xml`, entity-decoded: the HTML a reader would render. The
/// emitters escape HTML rather than wrap it in CDATA, so the payload cannot hold the closing tag.
fn payloads(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(at) = rest.find(&open) {
        rest = &rest[at + open.len()..];
        if !rest.starts_with(['>', ' ']) {
            continue;
        }
        let start = rest.find('>').unwrap() + 1;
        let end = rest.find(&close).unwrap_or_else(|| panic!("unclosed <{tag}>"));
        out.push(quick_xml::escape::unescape(&rest[start..end]).unwrap().into_owned());
        rest = &rest[end..];
    }
    out
}

fn assert_well_formed(name: &str, xml: &str) {
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{name} is not well-formed at {}: {e}", reader.buffer_position()),
        }
    }
}

#[test]
fn every_output_of_a_run_is_inert() {
    let vectors = vectors();
    let server = TestServer::start();
    server.route("/rss", [Reply::ok_as("application/rss+xml", rss(&vectors))]);
    server.route("/atom", [Reply::ok_as("application/atom+xml", atom(&vectors))]);
    server.route("/json", [Reply::ok_as("application/feed+json", json_feed(&vectors))]);
    let p = Project::new(&format!(
        "[output]\nmax_items = 10000\nbase_url = \"https://feeds.example.org/\"\n\n[dedup]\nmode = \"off\"\n\n\
         [[sources]]\nname = \"rss\"\nurl = \"{}\"\n\n[[sources]]\nname = \"atom\"\nurl = \"{}\"\n\n\
         [[sources]]\nname = \"json\"\nurl = \"{}\"\n",
        server.url("/rss"),
        server.url("/atom"),
        server.url("/json")
    ));
    p.run().assert_code(0);

    let mut failures = Vec::new();
    let mut check = |output: &str, html: &str| {
        let found = dangers(html);
        if !found.is_empty() {
            failures.push(format!("{output}: {html}\n  → {found:?}"));
        }
    };

    let feed = p.json("all/feed.json");
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), 3 * vectors.len(), "every vector became an entry in each source");
    let mut html_items = 0;
    for item in items {
        if let Some(html) = item["content_html"].as_str() {
            html_items += 1;
            check("feed.json content_html", html);
        }
    }
    // Only vectors with nothing visible left (a lone script, an iframe) have no HTML at all.
    assert!(html_items * 2 > items.len(), "{html_items} of {} items have content_html", items.len());

    let rss = p.output("all/rss.xml");
    assert_well_formed("rss.xml", &rss);
    let mut rss_payloads = payloads(&rss, "description");
    rss_payloads.extend(payloads(&rss, "content:encoded"));
    assert!(rss_payloads.len() > items.len(), "{} RSS payloads", rss_payloads.len());
    for html in &rss_payloads {
        check("rss.xml", html);
    }

    let atom = p.output("all/atom.xml");
    assert_well_formed("atom.xml", &atom);
    let mut atom_payloads = payloads(&atom, "summary");
    atom_payloads.extend(payloads(&atom, "content"));
    assert!(atom_payloads.len() > items.len(), "{} Atom payloads", atom_payloads.len());
    for html in &atom_payloads {
        check("atom.xml", html);
    }

    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n\n"));
}
