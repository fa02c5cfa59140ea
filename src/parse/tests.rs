//! Tests of the parse stage as a whole: a golden JSON per fixture feed (next to the fixtures, like
//! feed-rs's `fixture/*.serde.json`), then one test per leniency case and per sniffing outcome.

use super::*;
use crate::model::{RawEntry, Text, TextKind};

fn golden(name: &str, text: &str) {
    let feed = parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    insta::with_settings!({
        snapshot_path => "../../tests/fixtures/feeds/golden",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_json_snapshot!(name, feed);
    });
}

macro_rules! golden_tests {
    ($($test:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $test() {
                golden($file, include_str!(concat!("../../tests/fixtures/feeds/", $file)));
            }
        )*
    };
}

golden_tests! {
    golden_rss20_kk => "rss20-kk.xml",
    golden_rss091 => "rss091.xml",
    golden_rss092 => "rss092.xml",
    golden_rss090 => "rss090.xml",
    golden_rss_noversion => "rss-noversion.xml",
    golden_rdf10_ru => "rdf10-ru.xml",
    golden_atom10_en => "atom10-en.xml",
    golden_atom03 => "atom03.xml",
    golden_feed11_ru => "feed11-ru.json",
    golden_feed10 => "feed10.json",
    golden_itunes_podcast => "itunes-podcast.xml",
    golden_broken_ampersand => "broken-ampersand.xml",
    golden_truncated => "truncated.xml",
    golden_billion_laughs => "billion-laughs.xml",
    golden_hostile_html => "hostile-html.xml",
    golden_youtube_atom => "youtube-atom.xml",
    golden_podcast_enclosures => "podcast-enclosures.xml",
    golden_rss_media => "rss-media.xml",
    golden_rss_xhtml_body => "rss-xhtml-body.xml",
    golden_rss_fullitem => "rss-fullitem.xml",
    golden_atom_xml_base => "atom-xml-base.xml",
    golden_atom_svg_content => "atom-svg-content.xml",
    golden_rss_xhtml_doctype => "rss-xhtml-doctype.xml",
    golden_categories => "categories.xml",
}

fn rss(items: &str) -> String {
    format!("<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>c</title>\n{items}\n</channel></rss>")
}

fn one_entry(doc: &str) -> (RawEntry, Vec<String>) {
    let mut feed = parse(doc).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(feed.entries.len(), 1, "{feed:#?}");
    (feed.entries.remove(0), feed.warnings)
}

fn title(e: &RawEntry) -> &str {
    e.title.as_ref().map_or("", |t| t.value.as_str())
}

#[test]
fn billion_laughs_stays_small() {
    let text = include_str!("../../tests/fixtures/feeds/billion-laughs.xml");
    let feed = parse(text).expect("parses");
    let size = serde_json::to_string(&feed).map(|s| s.len()).unwrap_or(usize::MAX);
    assert!(size < 2 * text.len(), "output of {size} bytes from {} bytes of input", text.len());
    assert_eq!(feed.title, Some(Text::plain("&lol9;")));
    assert_eq!(feed.description.map(|d| d.value).as_deref(), Some("&xxe;"));
    assert!(feed.warnings.iter().any(|w| w.contains("never expanded")), "{:?}", feed.warnings);
}

#[test]
fn bare_ampersands_in_text_and_attributes_are_text_with_one_counted_warning() {
    let many = "<item><title>AT&T</title><link>https://x.kz/?a=1&b=2</link></item>".repeat(300);
    let feed = parse(&rss(&many)).expect("parses");
    assert_eq!(feed.entries.len(), 300);
    assert_eq!(title(&feed.entries[299]), "AT&T");
    assert_eq!(feed.entries[0].link.as_deref(), Some("https://x.kz/?a=1&b=2"));
    assert_eq!(feed.warnings, ["line 3: bare '&' read as text (600 times)"]);

    let (e, warnings) =
        one_entry(&rss(r#"<item><enclosure url="https://x.kz/i.php?id=1&size=l" type="image/jpeg"/></item>"#));
    assert_eq!(e.enclosures[0].url, "https://x.kz/i.php?id=1&size=l");
    assert_eq!(warnings.len(), 1);
}

#[test]
fn html_named_entities_are_decoded() {
    let (e, warnings) = one_entry(&rss("<item><title>&laquo;Nur&nbsp;Otan&raquo; &mdash; &hellip;</title></item>"));
    assert_eq!(title(&e), "«Nur\u{a0}Otan» — …");
    assert_eq!(
        warnings,
        ["line 3: HTML named entities decoded although XML does not define them (first: &laquo;) (5 times)"]
    );
}

#[test]
fn numeric_references_are_decoded_in_any_case_and_bad_ones_kept() {
    let (e, warnings) = one_entry(&rss("<item><title>&#X41;&#x42;&#67;&#150;&#xZZ;&#0;!</title></item>"));
    assert_eq!(title(&e), "ABC\u{2013}&#xZZ;!");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
}

#[test]
fn unknown_entities_stay_as_text() {
    let (e, warnings) = one_entry(&rss("<item><title>Tom &foo; Jerry</title></item>"));
    assert_eq!(title(&e), "Tom &foo; Jerry");
    assert_eq!(warnings, ["line 3: undefined entities kept as text (first: &foo;)"]);
}

#[test]
fn cdata_is_taken_verbatim_and_html_content_only_trimmed() {
    let doc = rss("<item><description>\n  <![CDATA[ <p>a &amp; b</p>\n<p>&nbsp;</p> ]]>\n</description><link>\n https://x.kz/1 \n</link></item>");
    let (e, warnings) = one_entry(&doc);
    assert_eq!(e.summary, Some(Text::html("<p>a &amp; b</p>\n<p>&nbsp;</p>")));
    assert_eq!(e.link.as_deref(), Some("https://x.kz/1"));
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn truncated_document_keeps_complete_entries_and_a_partial_one_with_a_title() {
    let text = include_str!("../../tests/fixtures/feeds/truncated.xml");
    let feed = parse(text).expect("parses");
    assert_eq!(feed.entries.len(), 3);
    assert_eq!(title(&feed.entries[2]), "Wheat harvest forecast raised");
    assert_eq!(
        feed.entries[2].summary.as_ref().map(|s| s.value.as_str()),
        Some("The ministry now expects a harvest of fifteen mil")
    );
    assert_eq!(feed.warnings.len(), 2, "{:?}", feed.warnings);
    assert!(feed.warnings[0].starts_with("line 23: the document ends inside <description>"), "{:?}", feed.warnings);
    assert!(feed.warnings[1].contains("kept it"), "{:?}", feed.warnings);
}

#[test]
fn truncated_entry_without_title_or_link_is_dropped() {
    let doc = "<rss version=\"2.0\"><channel><title>c</title><item><title>one</title></item><item><description>half";
    let feed = parse(doc).expect("parses");
    assert_eq!(feed.entries.len(), 1);
    assert!(feed.warnings.iter().any(|w| w.contains("dropped it")), "{:?}", feed.warnings);
}

#[test]
fn document_cut_inside_a_tag_still_yields_what_came_before() {
    let feed = parse("<rss version=\"2.0\"><channel><title>c</title><item><title>one</title></item><item><tit")
        .expect("parses");
    assert_eq!(feed.entries.len(), 1);
    assert!(feed.warnings.iter().any(|w| w.contains("stopped reading")), "{:?}", feed.warnings);
}

#[test]
fn nothing_recoverable_is_an_xml_error() {
    match parse("<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><ti") {
        Err(ParseError::Xml { line, message }) => {
            assert_eq!(line, 2);
            assert!(!message.is_empty());
        }
        other => panic!("expected an XML error, got {other:?}"),
    }
}

#[test]
fn mismatched_end_tags_are_recovered() {
    let doc = rss("<item><title>First</titel><link>https://x.kz/1</link></item><item><title>Second</title><description><p>Hi<br></description></item>");
    let feed = parse(&doc).expect("parses");
    let titles: Vec<_> = feed.entries.iter().map(title).collect();
    assert_eq!(titles, ["First", "Second"]);
    assert_eq!(feed.entries[0].link.as_deref(), Some("https://x.kz/1"));
    assert_eq!(feed.entries[1].summary, Some(Text::html("<p>Hi<br></p>")));
    assert_eq!(feed.warnings.len(), 2, "{:?}", feed.warnings);
}

#[test]
fn junk_before_the_root_is_skipped() {
    let doc = format!(
        "<br />\n<b>Warning</b>: date(): timezone not set in feed.php<br />\n{}",
        rss("<item><title>t</title></item>")
    );
    let (e, warnings) = one_entry(&doc);
    assert_eq!(title(&e), "t");
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].starts_with("line 1: ") && warnings[0].contains("bytes of text before the XML skipped"),
        "{warnings:?}"
    );
}

#[test]
fn invalid_xml_characters_are_removed() {
    let (e, warnings) = one_entry(&rss("<item><title>Word\u{b} paste\u{1}d</title></item>"));
    assert_eq!(title(&e), "Word pasted");
    assert_eq!(warnings, ["line 3: control characters XML forbids removed (2 times)"]);
}

#[test]
fn stray_less_than_is_text_and_the_document_is_reread() {
    let doc =
        rss("<item><title>1 < 2 <3 you</title><link>https://x.kz/lt</link></item><item><title>next</title></item>");
    let feed = parse(&doc).expect("parses");
    assert_eq!(feed.entries.len(), 2);
    assert_eq!(title(&feed.entries[0]), "1 < 2 <3 you");
    assert_eq!(feed.entries[0].link.as_deref(), Some("https://x.kz/lt"));
    assert_eq!(feed.warnings, ["line 3: '<' that starts no tag read as text (2 times)"]);
}

#[test]
fn line_ends_are_normalized() {
    let doc = rss("<item><description>a\nb\rc</description></item>").replace('\n', "\r\n");
    let (e, warnings) = one_entry(&doc);
    assert_eq!(e.summary, Some(Text::html("a\nb\nc")));
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn a_leading_bom_is_skipped() {
    let feed = parse(&format!("\u{feff}{}", rss(""))).expect("parses");
    assert_eq!(feed.title, Some(Text::plain("c")));
    assert_eq!(sniff("\u{feff}{\"version\":\"https://jsonfeed.org/version/1.1\"}").ok(), Some(FeedFormat::JsonFeed));
}

#[test]
fn the_prolog_encoding_is_ignored() {
    let doc = "<?xml version=\"1.0\" encoding=\"windows-1251\"?><rss version=\"2.0\"><channel><title>Новости</title></channel></rss>";
    assert_eq!(parse(doc).expect("parses").title, Some(Text::plain("Новости")));
}

#[test]
fn xml_base_is_combined_per_entry() {
    let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://ex.org/blog/">
        <entry xml:base="2019/"><title>a</title><link href="a/"/></entry>
        <entry><title>b</title></entry>
        <entry xml:base="https://other.org/"><title>c</title></entry></feed>"#;
    let feed = parse(doc).expect("parses");
    assert_eq!(feed.base.as_deref(), Some("https://ex.org/blog/"));
    let bases: Vec<_> = feed.entries.iter().map(|e| e.base.as_deref()).collect();
    assert_eq!(bases, [Some("https://ex.org/blog/2019/"), Some("https://ex.org/blog/"), Some("https://other.org/")]);
    assert_eq!(feed.entries[0].link.as_deref(), Some("a/"));
}

#[test]
fn xhtml_titles_become_html_text() {
    let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">A &amp; <b>B</b></div></title></feed>"#;
    let t = parse(doc).expect("parses").title.expect("title");
    assert_eq!((t.kind, t.value.as_str()), (TextKind::Html, "A &amp; <b>B</b>"));
}

#[test]
fn sniffs_each_format_from_content() {
    assert_eq!(sniff("<rss version=\"2.0\"><channel/></rss>").ok(), Some(FeedFormat::Rss));
    assert_eq!(
        sniff("<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"/>").ok(),
        Some(FeedFormat::Rdf)
    );
    assert_eq!(sniff("<feed xmlns=\"http://www.w3.org/2005/Atom\"/>").ok(), Some(FeedFormat::Atom));
    assert_eq!(
        sniff("{\"version\": \"https://jsonfeed.org/version/1\", \"items\": []}").ok(),
        Some(FeedFormat::JsonFeed)
    );
}

#[test]
fn sniffing_rejects_what_is_not_a_feed() {
    let found = |text: &str| match sniff(text) {
        Err(ParseError::NotAFeed { found }) => found,
        other => panic!("expected NotAFeed for {text:?}, got {other:?}"),
    };
    assert_eq!(found("<!doctype html><html lang=\"kk\"><head><title>Abai.kz</title></head></html>"), "an HTML page");
    assert_eq!(found("{\"name\": \"x\", \"version\": \"1.0.0\"}"), "JSON without a 'version' of jsonfeed.org");
    assert_eq!(found("[1, 2, 3]"), "JSON without a 'version' of jsonfeed.org");
    assert!(matches!(sniff(""), Err(ParseError::Empty)));
    assert!(matches!(sniff("\u{feff}  \n"), Err(ParseError::Empty)));
    assert!(matches!(parse("<html><body>no feed</body></html>"), Err(ParseError::NotAFeed { .. })));
    assert!(matches!(sniff("{\"version\": "), Err(ParseError::Json { line: 1, .. })));
}

#[test]
fn errors_read_well() {
    assert_eq!(
        ParseError::NotAFeed { found: "an HTML page".into() }.to_string(),
        "not a feed: the document is an HTML page"
    );
    assert_eq!(ParseError::Xml { line: 3, message: "bad".into() }.to_string(), "unreadable XML at line 3: bad");
}

#[test]
fn refresh_hints_are_read_from_rss() {
    let feed = parse(
        r#"<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><title>t</title>
           <ttl> 60 </ttl><sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>
           <skipHours><hour>0</hour><hour>1</hour><hour>99</hour></skipHours><skipDays><day>Sunday</day></skipDays>
           <item><title>a</title></item></channel></rss>"#,
    )
    .unwrap();
    let h = &feed.hints;
    assert_eq!(h.ttl_minutes, Some(60));
    assert_eq!(h.update_period.as_deref(), Some("hourly"));
    assert_eq!(h.update_frequency, Some(2));
    assert_eq!(h.skip_hours, vec![0, 1]);
    assert_eq!(h.skip_days, vec!["Sunday"]);
    assert_eq!(feed.entries.len(), 1);
}

#[test]
fn entries_past_the_cap_are_skipped_with_one_counted_warning() {
    let over = MAX_ENTRIES + 5;
    let items: String = (0..over).map(|i| format!("<item><title>{i}</title></item>")).collect();
    let entries: String = (0..over).map(|i| format!("<entry><title>{i}</title></entry>")).collect();
    let json_items: Vec<String> = (0..over).map(|i| format!("{{\"id\": \"{i}\", \"title\": \"{i}\"}}")).collect();
    let docs = [
        rss(&items),
        format!("<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>c</title>{entries}</feed>"),
        format!("{{\"version\": \"https://jsonfeed.org/version/1.1\", \"items\": [{}]}}", json_items.join(",")),
    ];
    for doc in docs {
        let feed = parse(&doc).expect("parses");
        assert_eq!(feed.entries.len(), MAX_ENTRIES, "{:?}", feed.format);
        assert_eq!(feed.entries.last().map(title), Some("9999"), "the first ones are kept");
        assert_eq!(feed.warnings.len(), 1, "{:?}", feed.warnings);
        assert!(feed.warnings[0].ends_with("only the first 10000 kept (5 dropped)"), "{:?}", feed.warnings);
    }
}

#[test]
fn authors_categories_and_enclosures_per_entry_are_capped() {
    let over = MAX_VALUES_PER_ENTRY + 50;
    let mut item = String::from("<item><title>t</title>");
    for i in 0..over {
        item.push_str(&format!(
            "<category>c{i}</category><author>a{i}@ex.kz (A{i})</author><enclosure url=\"/{i}.mp3\"/><dc:subject>s{i}</dc:subject><media:content url=\"/m{i}.mp4\"/>"
        ));
    }
    item.push_str("</item>");
    let doc = format!(
        "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:media=\"http://search.yahoo.com/mrss/\"><channel>{item}</channel></rss>"
    );
    let (e, warnings) = one_entry(&doc);
    assert_eq!((e.categories.len(), e.authors.len(), e.enclosures.len()), (100, 100, 100));
    assert_eq!(e.categories[99], "c99");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("more than 100 authors, categories or enclosures"), "{warnings:?}");

    let tags: Vec<String> = (0..over).map(|i| format!("\"t{i}\"")).collect();
    let doc = format!(
        "{{\"version\": \"https://jsonfeed.org/version/1\", \"items\": [{{\"title\": \"t\", \"tags\": [{}]}}]}}",
        tags.join(",")
    );
    let (e, warnings) = one_entry(&doc);
    assert_eq!(e.categories.len(), 100);
    assert!(warnings[0].contains("more than 100 authors, tags or attachments"), "{warnings:?}");
}

#[test]
fn deep_nesting_costs_its_subtree_not_the_feed() {
    let deep = |n: usize| format!("{}x{}", "<b>".repeat(n), "</b>".repeat(n));
    // The description's markup past the depth cap is skipped; the next item is still read.
    let doc = rss(&format!(
        "<item><title>a</title><description>{}</description></item><item><title>b</title></item>",
        deep(400)
    ));
    let feed = parse(&doc).expect("parses");
    assert_eq!(feed.entries.iter().map(title).collect::<Vec<_>>(), ["a", "b"]);
    let description = feed.entries[0].summary.as_ref().map_or("", |s| s.value.as_str());
    assert!(!description.contains('x') && description.matches("<b>").count() < xml::MAX_DEPTH, "{description}");
    assert!(feed.warnings.iter().any(|w| w.contains("nested deeper than 256 levels skipped")), "{:?}", feed.warnings);

    // Nesting on past twice the cap stops the reader; what came before is kept.
    let doc = rss(&format!("<item><title>a</title></item><item><title>b</title>{}</item>", deep(1_000_000)));
    let feed = parse(&doc).expect("parses");
    assert_eq!(feed.entries.iter().map(title).collect::<Vec<_>>(), ["a", "b"]);
    assert!(feed.warnings.iter().any(|w| w.contains("deeper than 512 levels; stopped")), "{:?}", feed.warnings);
}

fn content(e: &RawEntry) -> Option<(&str, Option<&str>)> {
    e.content.as_ref().map(|t| (t.value.as_str(), t.base.as_deref()))
}

#[test]
fn every_body_element_is_read_and_content_encoded_comes_first() {
    let ns = r#"xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:xhtml="http://www.w3.org/1999/xhtml""#;
    let doc = |item: &str| format!("<rss version=\"2.0\" {ns}><channel><item>{item}</item></channel></rss>");
    let cases = [
        ("<xhtml:body><xhtml:p>x <xhtml:b>y</xhtml:b></xhtml:p></xhtml:body>", "<p>x <b>y</b></p>"),
        ("<body><![CDATA[<p>b</p>]]></body>", "<p>b</p>"),
        ("<fullitem>&lt;p&gt;f&lt;/p&gt;</fullitem>", "<p>f</p>"),
        (
            "<fullitem>&lt;p&gt;f&lt;/p&gt;</fullitem><content:encoded>&lt;p&gt;c&lt;/p&gt;</content:encoded>",
            "<p>c</p>",
        ),
        ("<xhtml:body><xhtml:p>x</xhtml:p></xhtml:body><content:encoded>c</content:encoded>", "c"),
    ];
    for (item, expected) in cases {
        let (e, warnings) = one_entry(&doc(item));
        assert_eq!(content(&e), Some((expected, None)), "{item}");
        assert!(warnings.is_empty(), "{item}: {warnings:?}");
    }
    let (e, _) = one_entry(&doc("<xhtml:body>1 &lt; 2</xhtml:body>"));
    assert_eq!(e.content, Some(Text::plain("1 < 2")), "bare text in an XHTML body is text");
}

#[test]
fn media_rss_gives_title_summary_enclosures_and_image_when_the_item_has_none() {
    let doc = r#"<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
        <item><media:group><media:title>Group title</media:title><media:description>Said once.</media:description>
          <media:content url="https://v.kz/720.mp4" type="video/mp4" fileSize="1000" duration="00:01:05"/>
          <media:content url="https://v.kz/360.mp4" type="video/mp4"/>
          <media:thumbnail url="https://v.kz/t.jpg"/></media:group></item>
        <item><title>Own title</title><description>Own text</description><media:title>not this</media:title>
          <media:description>nor this</media:description></item>
        </channel></rss>"#;
    let f = parse(doc).expect("parses");
    let e = &f.entries[0];
    assert_eq!(e.title, Some(Text::plain("Group title")));
    assert_eq!(e.summary, Some(Text::plain("Said once.")));
    let urls: Vec<_> = e.enclosures.iter().map(|x| (x.url.as_str(), x.length, x.duration_secs)).collect();
    assert_eq!(urls, [("https://v.kz/720.mp4", Some(1000), Some(65)), ("https://v.kz/360.mp4", None, None)]);
    assert_eq!(e.image.as_deref(), Some("https://v.kz/t.jpg"));
    assert_eq!(title(&f.entries[1]), "Own title");
    assert_eq!(f.entries[1].summary, Some(Text::html("Own text")));
}

#[test]
fn categories_come_from_every_source_once_each() {
    let doc = r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:media="http://search.yahoo.com/mrss/"><channel>
        <item><title>t</title><category>News</category><category>Sport</category><dc:subject>news</dc:subject>
          <dc:subject>Football</dc:subject><itunes:keywords>a, b ,,c</itunes:keywords><media:keywords>B,d</media:keywords>
          <media:category scheme="urn:x">e/f</media:category><atom:category xmlns:atom="http://www.w3.org/2005/Atom" term="g"/></item></channel></rss>"#;
    let (e, _) = one_entry(doc);
    assert_eq!(e.categories, ["News", "Sport", "Football", "a", "b", "c", "d", "e/f", "g"]);

    let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>t</title>
        <category term="rust" label="Rust"/><category label="Only a label"/><category term="go"></category><category/></entry></feed>"#;
    let (e, _) = one_entry(atom);
    assert_eq!(e.categories, ["rust", "Only a label", "go"], "the term, as feedparser shows it");
}

#[test]
fn xml_base_holds_on_content_summary_links_and_inside_xhtml() {
    let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://ex.org/a/"><entry>
        <title>t</title><link href="p" xml:base="http://links.ex.org/"/>
        <summary type="html" xml:base="s/">x</summary>
        <content type="xhtml" xml:base="http://c.ex.org/"><div xmlns="http://www.w3.org/1999/xhtml">
          <a href="1">one</a><p xml:base="deeper/"><img src="2.png"/><a href="https://abs.ex/">abs</a></p></div></content>
        </entry></feed>"#;
    let (e, _) = one_entry(doc);
    assert_eq!(e.link.as_deref(), Some("http://links.ex.org/p"));
    assert_eq!(e.summary.as_ref().and_then(|s| s.base.as_deref()), Some("http://ex.org/a/s/"));
    // Only URLs under a base declared inside the content are resolved by the parser; the rest resolve
    // against the content's own base in normalize.
    assert_eq!(
        content(&e),
        Some((
            "<a href=\"1\">one</a><p><img src=\"http://c.ex.org/deeper/2.png\"><a href=\"https://abs.ex/\">abs</a></p>",
            Some("http://c.ex.org/")
        ))
    );
}

#[test]
fn a_relative_xml_base_inside_xhtml_makes_its_urls_relative_to_the_field() {
    let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>t</title>
        <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml" xml:base="photos/2005/">
          <img src="tent.jpg"/><a href="/about">about</a><a href="https://ex.org/">ex</a></div></content>
        </entry></feed>"#;
    let (e, _) = one_entry(doc);
    assert_eq!(
        content(&e).map(|c| c.0),
        Some(r#"<img src="photos/2005/tent.jpg"><a href="/about">about</a><a href="https://ex.org/">ex</a>"#)
    );
}

#[test]
fn an_rss_link_or_enclosure_reads_its_own_xml_base() {
    let doc = r#"<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel xml:base="http://ex.org/">
        <item><link xml:base="http://a.ex.org/x/">p</link><enclosure xml:base="http://b.ex.org/" url="e.mp3"/>
          <media:content xml:base="http://c.ex.org/" url="m.mp4"/><enclosure url="rel.mp3"/></item></channel></rss>"#;
    let (e, _) = one_entry(doc);
    assert_eq!(e.link.as_deref(), Some("http://a.ex.org/x/p"));
    let urls: Vec<_> = e.enclosures.iter().map(|x| x.url.as_str()).collect();
    assert_eq!(urls, ["http://b.ex.org/e.mp3", "rel.mp3", "http://c.ex.org/m.mp4"]);
    assert_eq!(e.base.as_deref(), Some("http://ex.org/"));
}

#[test]
fn svg_and_mathml_keep_their_text_alternative() {
    let doc = |inner: &str| {
        format!(
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">{inner}</div></content></entry></feed>"
        )
    };
    let svg = r#"xmlns="http://www.w3.org/2000/svg""#;
    let math = r#"xmlns="http://www.w3.org/1998/Math/MathML""#;
    let cases = [
        (format!("<svg {svg}><desc>A &amp; B</desc><title>T</title><rect/></svg>"), "A &amp; B"),
        (format!("<p>Before</p><svg {svg}><g><text>x</text>\n<text>y</text></g></svg>"), "<p>Before</p>x y"),
        (format!("<math {math} alttext=\"a^2\"><mi>a</mi></math>"), "a^2"),
        (format!("<math {math}><mi>a</mi><mo>+</mo><mi>b</mi></math>"), "a + b"),
        (format!("<svg {svg}><rect/></svg>"), ""),
    ];
    for (inner, expected) in cases {
        let (e, _) = one_entry(&doc(&inner));
        assert_eq!(content(&e).map(|c| c.0).unwrap_or_default(), expected, "{inner}");
    }
}

#[test]
fn an_atom_id_that_is_a_web_address_is_the_link_only_without_an_alternate() {
    let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom">
        <entry><id> HTTPS://ex.org/1 </id><title>a</title></entry>
        <entry><id>https://ex.org/2</id><link href="https://ex.org/page-2"/><title>b</title></entry>
        <entry><id>tag:ex.org,2020:3</id><title>c</title></entry>
        <entry><id>жастарға қолдау көрсету</id><title>d</title></entry></feed>"#;
    let f = parse(doc).expect("parses");
    let links: Vec<_> = f.entries.iter().map(|e| e.link.as_deref()).collect();
    assert_eq!(links, [Some("HTTPS://ex.org/1"), Some("https://ex.org/page-2"), None, None]);
}

#[test]
fn a_feed_after_an_xhtml_doctype_is_read() {
    let doc = "<?xml version=\"1.0\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\n<rss version=\"2.0\"><channel><title>c</title><item><title>t</title></item></channel></rss>";
    let (e, warnings) = one_entry(doc);
    assert_eq!(title(&e), "t");
    assert!(warnings.is_empty(), "{warnings:?}");
}
