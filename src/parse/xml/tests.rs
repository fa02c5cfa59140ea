//! The lenient reader alone: namespaces, entities, recovery from broken markup, inner markup, bases.

use super::*;

/// Reads `doc` and renders what a format module would see, as a compact trace.
fn trace(doc: &str) -> (String, Vec<String>) {
    let mut x = XmlReader::new(doc, 1, true, false, Warnings::default());
    let mut out = String::new();
    loop {
        match x.next() {
            Node::Start(el) if el.local() == b"t" => {
                out.push_str(&format!("t={:?} ", x.text().unwrap_or_default()));
            }
            Node::Start(el) => out.push_str(&format!("<{}:{:?}> ", String::from_utf8_lossy(el.local()), el.ns)),
            Node::End => out.push_str("/ "),
            Node::Eof => break,
        }
    }
    (out.trim_end().to_owned(), x.finish().warnings.into_lines())
}

#[test]
fn resolves_namespaces_by_uri_not_prefix() {
    let doc = r#"<r xmlns:x="http://purl.org/dc/elements/1.1/" xmlns:m="http://search.yahoo.com/mrss"><x:a/><m:b/><dc:c/><y:d/></r>"#;
    let (t, w) = trace(doc);
    assert_eq!(t, "<r:None> <a:Dc> / <b:Media> / <c:Dc> / <d:Other> / /");
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("'dc:'"), "{w:?}");
}

#[test]
fn unknown_default_namespace_reads_as_none_and_scopes_end() {
    let doc =
        r#"<rss xmlns="http://backend.userland.com/rss2"><a xmlns="http://www.w3.org/2005/Atom"><b/></a><c/></rss>"#;
    assert_eq!(trace(doc).0, "<rss:None> <a:Atom> <b:Atom> / / <c:None> / /");
}

#[test]
fn decodes_entities_leniently() {
    let doc = "<r><t>AT&T &amp; ?a=1&b=2 &nbsp;&laquo;x&raquo; &#X41;&#65; &lol; &#1;</t></r>";
    let (t, w) = trace(doc);
    assert_eq!(t, "<r:None> t=\"AT&T & ?a=1&b=2 \\u{a0}«x» AA &lol;\" /");
    assert_eq!(w.len(), 4, "{w:?}");
    assert!(w.iter().any(|l| l.contains("bare '&'") && l.contains("(2 times)")), "{w:?}");
    assert!(w.iter().any(|l| l.contains("&nbsp;") && l.contains("(3 times)")), "{w:?}");
}

#[test]
fn cdata_is_verbatim() {
    let (t, _) = trace("<r><t><![CDATA[<b>a &amp; b</b>]]></t></r>");
    assert_eq!(t, "<r:None> t=\"<b>a &amp; b</b>\" /");
}

#[test]
fn mismatched_end_tags_close_what_they_skip() {
    let (t, w) = trace("<r><a><t>x</q></t><b></a><c/></r>");
    assert_eq!(t, "<r:None> <a:None> t=\"x\" <b:None> / / <c:None> / /");
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].contains("</q>") && w[1].contains("<b> is not closed"), "{w:?}");
}

#[test]
fn truncation_ends_without_closing() {
    let (t, w) = trace("<r><a><t>partial");
    assert_eq!(t, "<r:None> <a:None> t=\"partial\"");
    assert!(w[0].contains("ends inside <t>"), "{w:?}");
}

#[test]
fn inner_markup_is_serialized_as_html() {
    let doc = r#"<r><t>Hi <p class="a&amp;b" xmlns:z="u">x &lt; y<br/><img src="i.png"/></p> &amp; bye</t></r>"#;
    let mut x = XmlReader::new(doc, 1, true, false, Warnings::default());
    assert!(matches!(x.next(), Node::Start(_)));
    assert!(matches!(x.next(), Node::Start(_)));
    assert_eq!(
        x.content(false),
        Some((r#"Hi <p class="a&amp;b">x &lt; y<br><img src="i.png"></p> &amp; bye"#.into(), true))
    );
}

#[test]
fn xhtml_drops_the_wrapper_div() {
    let doc =
        r#"<c type="xhtml"> <div xmlns="http://www.w3.org/1999/xhtml"><p>A &amp; <b>B</b></p><div>in</div></div> </c>"#;
    let mut x = XmlReader::new(doc, 1, true, false, Warnings::default());
    assert!(matches!(x.next(), Node::Start(_)));
    assert_eq!(x.content(true), Some(("<p>A &amp; <b>B</b></p><div>in</div>".into(), true)));
}

#[test]
fn tracks_xml_base_and_lang_per_scope() {
    let doc = r#"<f xml:base="http://ex.org/a/" xml:lang="en"><e xml:base="b/"><l/></e><e xml:base="/c/"/><e/></f>"#;
    let mut x = XmlReader::new(doc, 1, true, false, Warnings::default());
    let mut seen = Vec::new();
    loop {
        match x.next() {
            Node::Start(_) => seen.push(format!("{:?}/{:?}", x.base(), x.lang())),
            Node::End => {}
            Node::Eof => break,
        }
    }
    assert_eq!(
        seen,
        [
            r#"Some("http://ex.org/a/")/Some("en")"#,
            r#"Some("http://ex.org/a/b/")/Some("en")"#,
            r#"Some("http://ex.org/a/b/")/Some("en")"#,
            r#"Some("http://ex.org/c/")/Some("en")"#,
            r#"Some("http://ex.org/a/")/Some("en")"#,
        ]
    );
}

#[test]
fn combines_bases_textually_when_the_parent_is_relative() {
    let combine = |parent: Option<&str>, child: &str| {
        let parent = parent.and_then(|p| url::Url::parse(p).ok());
        combine_base(parent.as_ref(), child).0
    };
    assert_eq!(combine(None, "/x/"), "/x/");
    assert_eq!(combine(Some("/x/"), "y/"), "y/");
    assert_eq!(combine(Some("http://a/x/"), "y/"), "http://a/x/y/");
    assert_eq!(combine(Some("http://a/x/"), "https://b/"), "https://b/");
    assert_eq!(combine(Some("http://a/x/"), "c:d"), "c:d");
    assert!(has_scheme("HTTP://a") && !has_scheme("/a:b") && !has_scheme("1a:b") && !has_scheme("a/b:c"));
}

#[test]
fn joins_a_reference_to_a_relative_base_textually() {
    assert_eq!(join_relative("photos/", "a.jpg"), "photos/a.jpg");
    assert_eq!(join_relative("photos/index.html?x=1", "a.jpg"), "photos/a.jpg");
    assert_eq!(join_relative("/p/q", "../a.jpg"), "/p/../a.jpg");
    assert_eq!(join_relative("p/", "/root.jpg"), "/root.jpg");
    assert_eq!(join_relative("p/", "https://ex.org/x"), "https://ex.org/x");
    assert_eq!(join_relative("p/q?x#y", "#z"), "p/q?x#z");
    assert_eq!(join_relative("p/q?x", "?w"), "p/q?w");
    assert_eq!(join_relative("name", "a.jpg"), "a.jpg");
    assert_eq!(join_relative("p/", ""), "p/");
}

#[test]
fn reads_attributes_leniently_and_by_namespace() {
    let doc = r#"<r xmlns:R="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><i R:about=" http://x/1 " href=a?b=1&c=2 dup="1" dup="2"/></r>"#;
    let mut x = XmlReader::new(doc, 1, true, false, Warnings::default());
    assert!(matches!(x.next(), Node::Start(_)));
    let Node::Start(el) = x.next() else { panic!("no <i>") };
    assert_eq!(x.attr_ns(&el, Ns::Rdf, b"about").as_deref(), Some("http://x/1"));
    assert_eq!(x.attr(&el, b"href").as_deref(), Some("a?b=1&c=2"));
    assert_eq!(x.attr(&el, b"dup").as_deref(), Some("1"));
    assert_eq!(x.attr(&el, b"missing"), None);
}

#[test]
fn namespace_declarations_in_scope_are_capped() {
    let (depth, per_element) = (10, 300);
    let decls: String = (0..per_element).map(|i| format!(" xmlns:p{i}=\"urn:x{i}\"")).collect();
    let doc = format!("{}<p7:x/>{}", format!("<a{decls}>").repeat(depth), "</a>".repeat(depth));
    let mut x = XmlReader::new(&doc, 1, true, false, Warnings::default());
    let mut starts = 0;
    loop {
        match x.next() {
            Node::Start(_) => starts += 1,
            Node::End => {}
            Node::Eof => break,
        }
    }
    assert_eq!(starts, depth + 1);
    let warnings = x.finish().warnings.into_lines();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("namespace declarations"), "{warnings:?}");
}

#[test]
fn elements_past_the_depth_cap_are_skipped_with_their_text() {
    let deep = |n: usize| format!("{}x{}", "<d>".repeat(n), "</d>".repeat(n));
    let (t, w) = trace(&format!("<r>{}<t>after</t></r>", deep(MAX_DEPTH + 10)));
    assert_eq!(t.matches("<d:None>").count(), MAX_DEPTH - 1, "the root is one level");
    assert!(t.ends_with("t=\"after\" /"), "{t}");
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("deeper than 256 levels skipped") && !w[0].contains("times"), "{w:?}");

    // A skipped subtree that nests on past twice the cap ends the reading: quick-xml's own
    // stack of open names would otherwise grow with it.
    let doc = format!("<r>{}", deep(3 * MAX_DEPTH));
    let mut x = XmlReader::new(&doc, 1, true, false, Warnings::default());
    while !matches!(x.next(), Node::Eof) {}
    let outcome = x.finish();
    assert!(outcome.broken.is_some_and(|(_, m)| m.contains("deeper than 512 levels")));
}

#[test]
fn asks_for_repair_on_a_stray_less_than() {
    let mut x = XmlReader::new("<r><t>1 < 2</t><u/></r>", 1, true, false, Warnings::default());
    while !matches!(x.next(), Node::Eof) {}
    assert!(x.finish().needs_repair);
}

#[test]
fn dtd_entities_are_never_expanded() {
    let doc = "<!DOCTYPE r [<!ENTITY a \"AAAA\"><!ENTITY b \"&a;&a;\">]><r><t>&b;</t></r>";
    let (t, w) = trace(doc);
    assert_eq!(t, "<r:None> t=\"&b;\" /");
    assert!(w.iter().any(|l| l.contains("never expanded")), "{w:?}");
}
