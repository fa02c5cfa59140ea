//! Sanitizing: active content removed, URLs resolved and checked, deep nesting and tag soup in linear time.

use super::*;

fn base() -> Url {
    Url::parse("https://abai.kz/post/95211").unwrap()
}

#[test]
fn removes_active_content() {
    let dirty = r#"<p onclick="x()">Сәлем<script>alert(1)</script></p><img src="a.jpg" onerror="alert(2)"><a href="javascript:alert(3)">link</a><iframe src="https://evil.example/"></iframe><form action="/x"><input></form><style>p{}</style>"#;
    let clean = sanitize(dirty, Some(&base())).unwrap();
    for bad in ["script", "onclick", "onerror", "javascript:", "iframe", "<form", "<input", "<style", "alert"] {
        assert!(!clean.contains(bad), "{bad} survived in {clean}");
    }
    assert!(clean.contains("Сәлем"));
    assert!(clean.contains(r#"<img src="https://abai.kz/post/a.jpg">"#), "{clean}");
}

#[test]
fn resolves_relative_urls_against_the_base() {
    let clean = sanitize(r#"<a href="/news/1">x</a>"#, Some(&base())).unwrap();
    assert_eq!(clean, r#"<a href="https://abai.kz/news/1" rel="noopener noreferrer">x</a>"#);
}

#[test]
fn without_a_base_relative_urls_are_dropped() {
    assert_eq!(sanitize(r#"<a href="/news/1">x</a>"#, None).unwrap(), r#"<a rel="noopener noreferrer">x</a>"#);
}

/// Found by `cargo fuzz run sanitize`: ammonia checks only single-URL attributes, so a `srcset`
/// kept `javascript:` and `data:` candidates, and its relative URLs stayed relative.
#[test]
fn srcset_candidates_are_resolved_and_checked() {
    let clean = sanitize(r#"<img srcset="a.jpg 1x, javascript:alert(1) 2x">"#, Some(&base())).unwrap();
    assert_eq!(clean, r#"<img srcset="https://abai.kz/post/a.jpg 1x">"#);
    let clean = sanitize(r#"<img srcset="data:image/png;base64,AAAA 1x, /b.jpg 2x">"#, Some(&base())).unwrap();
    assert_eq!(clean, r#"<img srcset="https://abai.kz/b.jpg 2x">"#);
    // A comma inside a URL (image CDNs) does not split it; one ending a URL does.
    let clean =
        sanitize(r#"<img srcset="/w_300,c_fill/a.jpg 300w,/w_600,c_fill/a.jpg 600w, b.jpg,c.jpg">"#, Some(&base()))
            .unwrap();
    assert_eq!(
        clean,
        r#"<img srcset="https://abai.kz/w_300,c_fill/a.jpg 300w, https://abai.kz/w_600,c_fill/a.jpg 600w, https://abai.kz/post/b.jpg,c.jpg">"#
    );
    // Nothing left, or no base for relative candidates: the attribute goes, and the image with
    // nothing left to show with it.
    assert_eq!(sanitize(r#"<img src="/a.jpg" srcset="a.jpg 1x">x"#, None).unwrap(), "x");
    assert_eq!(sanitize(r#"<img srcset="javascript:x 1x">x"#, Some(&base())).unwrap(), "x");
    assert_eq!(sanitize(r#"<img srcset="a.jpg onerror=x">x"#, Some(&base())).unwrap(), "x");
}

#[test]
fn cite_is_resolved_and_checked() {
    let clean = sanitize(r#"<q cite="javascript:alert(1)">a</q><q cite="/src">b</q>"#, Some(&base())).unwrap();
    assert_eq!(clean, r#"<q>a</q><q cite="https://abai.kz/src">b</q>"#);
}

#[test]
fn srcset_and_cite_keep_only_web_urls_made_absolute() {
    let clean = sanitize(
        r#"<img src="a.jpg" srcset="a-2x.jpg 2x, javascript:alert(1) 3x,b.jpg, data:image/png;base64,AA== 4x"><blockquote cite="/source">q</blockquote><q cite="java&#x09;script:alert(1)">q</q>"#,
        Some(&base()),
    )
    .unwrap();
    assert_eq!(
        clean,
        r#"<img src="https://abai.kz/post/a.jpg" srcset="https://abai.kz/post/a-2x.jpg 2x, https://abai.kz/post/b.jpg"><blockquote cite="https://abai.kz/source">q</blockquote><q>q</q>"#
    );
    assert_eq!(
        absolute_srcset(None, "a.jpg 1x, https://x.example/b.jpg 2x"),
        Some("https://x.example/b.jpg 2x".to_owned())
    );
    assert_eq!(absolute_srcset(None, " javascript:alert(1) , vbscript:x 2x"), None);
    assert_eq!(
        absolute_srcset(None, "https://x.example/a,b.jpg 1x,https://x.example/c.jpg"),
        Some("https://x.example/a,b.jpg 1x, https://x.example/c.jpg".to_owned())
    );
}

#[test]
fn deep_nesting_keeps_the_text_only() {
    let deep = |n: usize, tag: &str| format!("{}a < b{}", format!("<{tag}>").repeat(n), format!("</{tag}>").repeat(n));
    assert!(!nests_too_deep(&deep(MAX_HTML_DEPTH, "div")));
    assert!(nests_too_deep(&deep(MAX_HTML_DEPTH + 1, "DIV")));
    // Unclosed paragraphs, list items and void elements are flat; closed siblings do not add up.
    let flat = "<p>x<li>y<br><img src=a.png/>".repeat(1000) + &"<b>z</b>".repeat(1000);
    assert!(!nests_too_deep(&flat));
    assert!(!nests_too_deep(&"<3 <! </ <".repeat(1000)));

    let started = std::time::Instant::now();
    assert_eq!(sanitize(&deep(300_000, "div"), None).as_deref(), Some("<p>a &lt; b</p>"));
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    let kept = sanitize(&deep(20, "div"), None).unwrap_or_default();
    assert_eq!(kept.matches("<div>").count(), 20);
}

#[test]
fn plain_text_matches_the_sanitizer() {
    use proptest::prelude::*;
    let check = |text: &str| -> Result<(), TestCaseError> {
        let sanitized = with_builder(Some(&base()), |b, _| b.clean(text).to_string());
        prop_assert_eq!(plain_text_fragment(text), sanitized, "{:?}", text);
        Ok(())
    };
    for text in ["\u{feff}\u{feff}a\r\n\r\rb\n\r", "a > b\0c\u{a0}\"d' \u{85}\u{1}\t\u{c}", "\r\n", "\u{feff}", "x\r"] {
        check(text).unwrap();
    }
    proptest!(|(text in "[^<&]{0,40}")| { check(&text)?; });
    proptest!(|(text in "[a-z\\x{430}-\\x{44f}\\x{4d9} \\r\\n\\t\\x00\\x0b\\x0c\\x{a0}\\x{feff}>\"'=/;#\\x{1}\\x{85}\\x{300}\\x{2028}]{0,40}")| { check(&text)?; });
}

#[test]
fn what_noscript_holds_is_kept_as_markup() {
    let lazy = r#"<p>Text <img data-src="/a.jpg"><noscript><img src="/a.jpg" alt="pic"></noscript> more</p>"#;
    assert_eq!(
        sanitize(lazy, Some(&base())).as_deref(),
        Some(r#"<p>Text <img src="https://abai.kz/a.jpg" alt="pic"> more</p>"#)
    );
    assert_eq!(unwrap_noscript("<NoScript class=x>a</noscript >b<noscripts>"), "ab<noscripts>");
    assert!(matches!(unwrap_noscript("<p>no fallback</p>"), Cow::Borrowed(_)));
    // The classic noscript mutation stays an attribute's text.
    let mutation = r#"<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>"#;
    assert_eq!(sanitize(mutation, None), None);
}

/// Each tag remover finds each tag's end once: text full of `<` and short of `>` took seconds.
#[test]
fn tag_removal_reads_runs_of_unclosed_tags_in_linear_time() {
    let lts = "a<".repeat(200_000);
    assert!(matches!(unwrap_noscript(&lts), Cow::Borrowed(s) if s == lts));
    let imgs = "x<imgs ".repeat(200_000);
    assert!(matches!(without_empty_images(&imgs), Cow::Borrowed(s) if s == imgs));
    // A tag that runs to the end of the input is still dropped whole.
    assert_eq!(without_empty_images("a<img b<img c"), "a");
    assert_eq!(without_empty_images("a<img b>c<img src=\"/d.jpg\""), "ac<img src=\"/d.jpg\"");
    assert_eq!(unwrap_noscript("a<b<noscript><p>x<"), "a<b<p>x<");
}

#[test]
fn images_with_nothing_to_show_are_dropped() {
    let page = base();
    assert_eq!(sanitize(r#"<img data-src="/a.jpg" alt="x">"#, Some(&page)), None);
    assert_eq!(
        sanitize(
            r#"<p><img class="lazy">a<img srcset="/b.jpg 2x"><IMG SRC="/c.jpg" ALT="&lt;img&gt;"></p>"#,
            Some(&page)
        )
        .as_deref(),
        Some(r#"<p>a<img srcset="https://abai.kz/b.jpg 2x"><img src="https://abai.kz/c.jpg" alt="&lt;img&gt;"></p>"#)
    );
    // Text that reads like the tag is escaped, so it is left alone.
    assert_eq!(sanitize("a &lt;img&gt; b", None).as_deref(), Some("a &lt;img&gt; b"));
}

#[test]
fn svg_and_math_become_their_text_alternative() {
    let cases = [
        ("<svg viewBox=\"0 0 9 9\"><desc>Pie &amp; chart</desc><title>T</title><circle r=\"1\"/></svg>", Some("T")),
        (
            "<p>Chart:</p><svg><text>Astana</text> <text>Almaty</text></svg><p>end</p>",
            Some("<p>Chart:</p>Astana Almaty<p>end</p>"),
        ),
        ("<math alttext='x &lt; 2'><mi>x</mi></math>", Some("x &lt; 2")),
        ("<math display=\"block\"><mi>a</mi><mo>+</mo><mi>b</mi></math>", Some("a+b")),
        ("<svg><title>&lt;script&gt;x()&lt;/script&gt;</title></svg>", Some("&lt;script&gt;x()&lt;/script&gt;")),
        ("<svg><script>alert(1)</script><title><img src=x onerror=alert(1)></title></svg>", None),
        ("<svg><rect/></svg>", None),
        ("<svgx>kept</svgx> <mathematics>too</mathematics>", Some("kept too")),
        ("<svg><title>cut off", Some("cut off")),
    ];
    for (html, expected) in cases {
        assert_eq!(sanitize(html, None).as_deref(), expected, "{html}");
    }
    // Each kind's next candidate is searched once: near-misses by the thousand stay linear.
    let many = format!("{}<math alttext=\"m\"></math>", "<svgx <mat ".repeat(200_000));
    assert!(foreign_as_text(&many).ends_with("<mat m"));
}

#[test]
fn nothing_visible_is_none() {
    assert_eq!(sanitize("  ", None), None);
    assert_eq!(sanitize("<script>alert(1)</script>", None), None);
    assert!(sanitize(r#"<img src="https://x.example/a.png">"#, None).is_some());
}
