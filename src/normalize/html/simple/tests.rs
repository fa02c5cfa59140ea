//! The sanitizer's fast path writes ammonia's bytes exactly, or hands the fragment to ammonia.

use proptest::prelude::*;
use url::Url;

use super::super::{fast_and_ammonia, MAX_HTML_DEPTH};

fn base() -> Url {
    Url::parse("https://abai.kz/post/95211").unwrap()
}

/// The pieces feeds are made of.
const COMMON: &[&str] = &[
    "<p>",
    "</p>",
    "<P class=x>",
    "<div>",
    "</div>",
    "<DIV\tid='d'>",
    "<a href=\"/n/1?a=1&amp;b=2\">",
    "<a href='https://x.example/a b'>",
    "<a title=\"&copy=1&copy;&notit;&amp\" href=\"?x=1&copy=2&lang=kk\">",
    "<a href=mailto:x@y.example rel=me>",
    "<a href=\"//cdn.example/x\" hreflang=kk target=_blank>",
    "<a href=\" /x \">",
    "</a>",
    "<b>",
    "</b>",
    "<strong>",
    "</strong>",
    "<em>",
    "</EM>",
    "<i>",
    "</i>",
    "<ul>",
    "</ul>",
    "<ol start=3>",
    "</ol>",
    "<li>",
    "</li>",
    "<h2>",
    "</h2>",
    "<h3 id=x>",
    "</h3>",
    "<br>",
    "<br/>",
    "<br />",
    "<img src=\"a.jpg\" alt=\"x &quot;y&quot; <z>\" width=1 onerror=x>",
    "<img srcset=\"a.jpg 1x, javascript:x 2x\" src=//cdn.example/a.png>",
    "<img src=a.jpg/>",
    "<img alt title=t src=\"\">",
    "<img src=\"javascript:x\" srcset=\"b.jpg\" alt=a>",
    "<img src='data:image/png;base64,AA' loading=lazy>",
    "<blockquote cite=\"/src\">",
    "</blockquote>",
    "<q cite=javascript:x>",
    "<q cite=\"&#x2F;q\">",
    "</q>",
    "<pre>",
    "</pre>",
    "<hr>",
    "<hr/>",
    "<span style=\"color:red\" title=t lang=kk>",
    "</span>",
    "<font color=red>",
    "</font>",
    "<small>",
    "</small>",
    "<figure>",
    "<figcaption>",
    "</figcaption>",
    "</figure>",
    "<time datetime=2024-07-11>",
    "</time>",
    "<picture>",
    "<source srcset=\"a.jpg 1x, /b.jpg 2x\" type=image/webp media=\"(min-width: 600px)\">",
    "</picture>",
    "<video controls src=/v.mp4 poster=javascript:x width=640>",
    "<video poster=p.jpg>",
    "</video>",
    "<audio controls src=\"a.mp3\">",
    "</audio>",
    "<track kind=captions src=c.vtt srclang=kk label=KK>",
    "<dl>",
    "</dl>",
    "<dt>",
    "</dt>",
    "<dd>",
    "</dd>",
    "<code>",
    "</code>",
    "<sup>",
    "</sup>",
    "<section>",
    "</section>",
    "<center>",
    "<script>alert(1)</script>",
    "<style>p{}</style>",
    "<iframe src=x></iframe>",
    "<!-- c -->",
    "<!--x--!>",
    "<!---->",
    "<p/>",
    "<3",
    "<",
    ">",
    "&",
    "&amp;",
    "&AMP;",
    "&nbsp;",
    "&copy",
    "&copy;",
    "&notit;",
    "&notin;",
    "&#169;",
    "&#x41;",
    "&#X41",
    "&#",
    "&#x;",
    "&#65",
    "&amp",
    "&lt;",
    "&gt",
    "&quot;",
    "&fjlig;",
    "&unknown;",
    "\u{a0}",
    "\"",
    "'",
    "\t",
    "\u{c}",
    "\n",
    "  ",
    "Сәлем",
    "әлем ",
    "x",
];
/// Pieces the tokenizer or the tree builder treats specially, most of which the fast path refuses.
const ODD: &[&str] = &[
    "<A HREF=javascript:alert(1)>",
    "<a href=\"&#106;avascript:x\">",
    "<a href=\"http://[::1\">",
    "</br>",
    "<script><!--x--></script>",
    "<SCRIPT>a</script >",
    "<script>x",
    "<iframe>x</iframe>",
    "<!-->",
    "<!--->",
    "<!x>",
    "<?php x ?>",
    "<table><tr><td>",
    "</td>",
    "<svg><a>",
    "<math>",
    "<noscript>",
    "<textarea>",
    "<select>",
    "<custom-el>",
    "<li><p>",
    "<a/>",
    "< p>",
    "</ 3>",
    "</>",
    "&#128;",
    "&#0;",
    "&#xD800;",
    "&#x110000;",
    "\u{1}",
    "\0",
    "\r\n",
    "\u{feff}",
];

/// A start tag with attributes of every kind, values of every sort, quoted every way.
fn attributed() -> impl Strategy<Value = String> {
    let tag = prop::sample::select(&["a", "img", "q", "blockquote", "span", "P", "time", "ol", "br", "hr"][..]);
    let name = prop::sample::select(
        &[
            "href",
            "src",
            "srcset",
            "cite",
            "title",
            "lang",
            "alt",
            "class",
            "onclick",
            "HREF",
            "datetime",
            "start",
            "width",
            "rel",
            "hreflang",
            "xlink:href",
            "data-x",
        ][..],
    );
    let value =
        "[a-z:/.?=&;#0-9 \"'<>\u{a0},-]{0,14}|(https?|javascript|mailto|tel|magnet|ftp|data|x):[a-z/.?=&;#0-9,]{0,10}";
    let attribute = (name, value, 0..4u8).prop_map(|(name, value, quoting)| match quoting {
        0 => format!(" {name}=\"{}\"", value.replace('"', "&quot;")),
        1 => format!(" {name}='{}'", value.replace('\'', "&#39;")),
        2 => format!(" {name}={value}"),
        _ => format!(" {name}"),
    });
    (tag, prop::collection::vec(attribute, 0..4), any::<bool>())
        .prop_map(|(tag, attributes, slash)| format!("<{tag}{}{}>", attributes.concat(), if slash { "/" } else { "" }))
}

fn fragment() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        6 => prop::sample::select(COMMON).prop_map(str::to_owned),
        1 => prop::sample::select(ODD).prop_map(str::to_owned),
        2 => "[a-zа-яә &<>;#\"'=/\\n]{0,6}",
        2 => attributed(),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

#[test]
fn the_fast_path_agrees_with_ammonia() {
    let config = ProptestConfig { cases: 5000, failure_persistence: None, ..ProptestConfig::default() };
    let page = base();
    let taken = std::sync::atomic::AtomicUsize::new(0);
    proptest!(config, |(html in fragment(), with_base in any::<bool>())| {
        if let Some((fast, slow)) = fast_and_ammonia(&html, with_base.then_some(&page)) {
            taken.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            prop_assert_eq!(fast, slow, "{:?}", html);
        }
    });
    // The pieces include many the fast path refuses; enough fragments must still take it.
    let taken = taken.into_inner();
    assert!(taken > config.cases as usize / 10, "{taken} of {} took the fast path", config.cases);
}

#[test]
fn hostile_vectors_give_what_ammonia_gives() {
    let vectors = include_str!("../../../../tests/fixtures/xss/vectors.txt");
    let mut fast_path = 0;
    for line in vectors.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        for base in [None, Some(base())] {
            if let Some((fast, slow)) = fast_and_ammonia(line, base.as_ref()) {
                fast_path += 1;
                assert_eq!(fast, slow, "{line:?}");
            }
        }
    }
    // Most of them are tricks the fast path leaves to ammonia; some are plain enough for it.
    assert!(fast_path > 20, "{fast_path}");
}

/// What feeds carry takes the fast path, and gives what ammonia gives.
#[test]
fn common_feed_html_takes_the_fast_path() {
    let page = base();
    for html in [
        "<p>Абай – <a href=\"/tag/abai\" class=\"tag\">ақын</a>, <strong>ойшыл</strong>&nbsp;&mdash; «Қара сөздер».</p>\n<p><img src=\"/wp-content/uploads/a.jpg\" alt=\"Абай\" width=\"640\" height=\"360\" class=\"aligncenter\" srcset=\"/a-300.jpg 300w, /a.jpg 640w\" sizes=\"(max-width: 640px) 100vw\" /></p>",
        "<!-- wp:paragraph --><p>Текст&#8230; <em>курсив</em><br />\nжол</p><!-- /wp:paragraph --><ul><li>бір</li><li>екі</li></ul><h2 id=\"s\">Тақырып</h2><blockquote><p>дәйексөз</p></blockquote>",
        "<figure class=\"wp-block-image\"><img src=\"https://abai.kz/a.png\" alt=\"\"/><figcaption>Сурет: <span style=\"color:#333\">abai.kz</span></figcaption></figure><hr/><pre>\nfn main() {}\n</pre>",
        "<p onclick=\"track(1)\">Сөз</p><script>window.dataLayer = [];</script><iframe src=\"https://www.youtube.com/embed/x\" width=\"560\"></iframe><p>Tom &amp; Jerry & co, 3 < 5 > 2</p>",
        "<div class=\"entry\"><p>Бір<p>Екі</div><ul><li>a<li><p>b</ul><h2><p>c</h2>",
        "<picture><source srcset=\"/a.webp\" type=\"image/webp\"><img src=\"/a.jpg\" alt=\"\"></picture><video controls src=\"/v.mp4\" poster=\"/p.jpg\"><track src=\"/kk.vtt\" srclang=\"kk\"></video><dl><dt>Күні<dd>11 шілде<dt>Орны</dl>",
    ] {
        for base in [None, Some(&page)] {
            let (fast, slow) = fast_and_ammonia(html, base).unwrap_or_else(|| panic!("refused: {html}"));
            assert_eq!(fast, slow, "{html}");
        }
    }
}

/// Scans that restart for each comment or attribute would make these quadratic (minutes at this
/// size): the comments are read in one pass, and a tag with very many attributes goes to ammonia.
#[test]
fn runs_of_comments_and_attributes_are_read_in_linear_time() {
    let policy = super::Policy::of(&super::super::builder(None), None);
    let comments = format!("a{}b<!-- - -- --!> c", "<!-- x - -->".repeat(200_000));
    assert_eq!(super::sanitize(&comments, &policy).as_deref(), Some("ab c"));
    let attributes: String = (0..100_000).map(|i| format!(" a{i}")).collect();
    assert_eq!(super::sanitize(&format!("<p{attributes}>x</p>"), &policy), None);
    let repeated = format!("<p{}>x</p>", " title=t".repeat(100_000));
    assert_eq!(super::sanitize(&repeated, &policy).as_deref(), Some("<p title=\"t\">x</p>"));
}

/// Fragments the tree builder would rearrange, or the tokenizer read specially, go to ammonia.
#[test]
fn what_the_tree_builder_rearranges_goes_to_ammonia() {
    let page = base();
    for html in [
        "<p>a<div>b</div></p>",
        "<b><i>x</b></i>",
        "<a href=/1>a<a href=/2>b</a></a>",
        "<table><tr><td>x</td></tr></table>",
        "<li>x</li>",
        "<ul><li>a<div>b<li>c</ul>",
        "<h2>a<h3>b</h3></h2>",
        "<svg><title>x</title></svg>",
        "<p>&#128;</p>",
        "<p>a\0b</p>",
        "<pre>&#10;x</pre>",
        "<script><!--<script></script>-->alert(1)</script>",
        "<iframe><img src=x onerror=alert(1)></iframe>",
        "<a href=x=y>z</a>",
        "<!--><img src=x onerror=alert(1)>-->",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    ] {
        assert_eq!(fast_and_ammonia(html, Some(&page)), None, "{html}");
    }
    let deep = "<div>".repeat(MAX_HTML_DEPTH / 2);
    assert_eq!(fast_and_ammonia(&deep, None), None);
}
