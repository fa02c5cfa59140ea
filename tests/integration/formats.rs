//! Every input format, served over HTTP, ends up in every output.

use crate::test_server::{Reply, TestServer};
use crate::util::{config, fixture, source, Project};

/// (fixture, content type it is served with)
const FEEDS: &[(&str, &str)] = &[
    ("feeds/rss20-kk.xml", "application/rss+xml; charset=utf-8"),
    ("feeds/rss091.xml", "text/xml"),
    ("feeds/rss092.xml", "application/xml"),
    ("feeds/rss090.xml", "application/rdf+xml"),
    ("feeds/rss-noversion.xml", "text/xml"),
    ("feeds/rdf10-ru.xml", "application/rdf+xml"),
    ("feeds/atom10-en.xml", "application/atom+xml"),
    ("feeds/atom03.xml", "application/xml"),
    ("feeds/feed11-ru.json", "application/feed+json"),
    ("feeds/feed10.json", "application/json"),
    ("feeds/itunes-podcast.xml", "application/rss+xml"),
    ("feeds/youtube-atom.xml", "application/atom+xml; charset=UTF-8"),
    ("feeds/podcast-enclosures.xml", "application/rss+xml"),
    ("feeds/rss-media.xml", "application/rss+xml"),
    ("feeds/rss-xhtml-body.xml", "text/xml"),
    ("feeds/rss-fullitem.xml", "application/rss+xml; charset=utf-8"),
    ("feeds/atom-xml-base.xml", "application/atom+xml"),
    ("feeds/atom-svg-content.xml", "application/atom+xml"),
    ("feeds/rss-xhtml-doctype.xml", "text/html"),
    ("feeds/categories.xml", "application/rss+xml"),
];

#[test]
fn every_format_is_read_and_written_to_every_output() {
    let server = TestServer::start();
    let mut sources = String::new();
    for (i, (name, ctype)) in FEEDS.iter().enumerate() {
        let path = format!("/f{i}");
        server.route(&path, vec![Reply::ok_as(ctype, fixture(name))]);
        sources.push_str(&source(&format!("s{i}"), &server.url(&path)));
    }
    let p = Project::new(&config(&sources));
    let run = p.run();
    run.assert_code(0);
    for (i, (name, _)) in FEEDS.iter().enumerate() {
        let row = run
            .stderr
            .lines()
            .find(|l| l.starts_with(&format!("s{i} ")))
            .unwrap_or_else(|| panic!("no row for {name}:\n{}", run.stderr));
        assert!(row.contains(" ok ") || row.contains(" warn "), "{name}: {row}");
    }
    let json = p.json("all/feed.json");
    let items = json["items"].as_array().unwrap();
    for (i, (name, _)) in FEEDS.iter().enumerate() {
        let n = items.iter().filter(|it| it["_feedmill"]["source"] == format!("s{i}")).count()
            + items
                .iter()
                .filter(|it| {
                    it["_feedmill"]["via"].as_array().is_some_and(|v| v.iter().any(|x| x["source"] == format!("s{i}")))
                })
                .count();
        assert!(n > 0, "{name}: no entry in all/feed.json");
    }
    let rss = p.output("all/rss.xml");
    let atom = p.output("all/atom.xml");
    for item in items {
        let title = item["title"].as_str().unwrap();
        let escaped = title.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        assert!(rss.contains(&escaped), "RSS lacks {title}");
        assert!(atom.contains(&escaped), "Atom lacks {title}");
    }
}

#[test]
fn lenient_parsing_recovers_entries_with_a_warning() {
    let server = TestServer::start();
    server.route("/amp", vec![Reply::ok_as("text/xml", fixture("feeds/broken-ampersand.xml"))]);
    server.route("/cut", vec![Reply::ok_as("text/xml", fixture("feeds/truncated.xml"))]);
    let p = Project::new(&config(&(source("amp", &server.url("/amp")) + &source("cut", &server.url("/cut")))));
    let run = p.run();
    run.assert_code(0);
    let amp_row = run.stderr.lines().find(|l| l.starts_with("amp ")).unwrap();
    let cut_row = run.stderr.lines().find(|l| l.starts_with("cut ")).unwrap();
    assert!(amp_row.contains("warn"), "{amp_row}");
    assert!(cut_row.contains("warn"), "{cut_row}");
    let json = p.json("all/feed.json");
    let from = |s: &str| json["items"].as_array().unwrap().iter().filter(|i| i["_feedmill"]["source"] == s).count();
    assert!(from("amp") >= 2, "{json:#}");
    assert!(from("cut") >= 2, "{json:#}");
    // &nbsp; became a real no-break space (then collapsed), not the literal entity.
    assert!(!p.output("all/feed.json").contains("&nbsp;"));
}

#[test]
fn billion_laughs_is_not_expanded() {
    let server = TestServer::start();
    server.route("/lol", vec![Reply::ok_as("text/xml", fixture("feeds/billion-laughs.xml"))]);
    let p = Project::new(&config(&source("lol", &server.url("/lol"))));
    let run = p.run();
    assert!(run.code <= 1, "{}", run.stderr);
    for f in ["all/rss.xml", "all/atom.xml", "all/feed.json"] {
        let len = std::fs::metadata(p.path("output").join(f)).map(|m| m.len()).unwrap_or(0);
        assert!(len < 64 * 1024, "{f} is {len} bytes: entities were expanded");
    }
    assert!(!p.output("all/feed.json").contains("lollollol"));
}

#[test]
fn hostile_html_is_removed_from_every_output() {
    let server = TestServer::start();
    server.route("/evil", vec![Reply::ok_as("application/rss+xml", fixture("feeds/hostile-html.xml"))]);
    let p = Project::new(&config(&source("evil", &server.url("/evil"))));
    p.run().assert_code(0);
    for f in ["all/rss.xml", "all/atom.xml", "all/feed.json"] {
        // RSS/Atom carry HTML escaped as text: unescape before looking.
        let out = p
            .output(f)
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .to_lowercase();
        for bad in ["<script", "onerror", "onclick", "javascript:", "<iframe", "<form", "<style"] {
            assert!(!out.contains(bad), "{f} contains {bad}");
        }
    }
}

/// Issue #18: entries whose only visible part is an enclosure, a Media RSS title, an `xhtml:body`, a
/// `<fullitem>` or an SVG reach the outputs, with URLs resolved against the `xml:base` of their own
/// element and categories from every element that carries them.
#[test]
fn what_a_reader_can_see_reaches_the_outputs() {
    let server = TestServer::start();
    let fixtures = [
        ("pod", "feeds/podcast-enclosures.xml", 5),
        ("yt", "feeds/youtube-atom.xml", 2),
        ("photo", "feeds/rss-media.xml", 3),
        ("body", "feeds/rss-xhtml-body.xml", 2),
        ("full", "feeds/rss-fullitem.xml", 2),
        ("base", "feeds/atom-xml-base.xml", 3),
        ("svg", "feeds/atom-svg-content.xml", 3),
        ("doctype", "feeds/rss-xhtml-doctype.xml", 1),
        ("cats", "feeds/categories.xml", 3),
    ];
    let mut sources = String::new();
    for (name, file, _) in fixtures {
        server.route(&format!("/{name}"), vec![Reply::ok_as("application/xml", fixture(file))]);
        sources.push_str(&source(name, &server.url(&format!("/{name}"))));
    }
    let p = Project::new(&config(&sources));
    let run = p.run();
    run.assert_code(0);
    let json = p.json("all/feed.json");
    let items = json["items"].as_array().unwrap();
    let from = |s: &str| items.iter().filter(|i| i["_feedmill"]["source"] == s).collect::<Vec<_>>();
    for (name, _, expected) in fixtures {
        assert_eq!(from(name).len(), expected, "{name}: {json:#}");
    }

    let pod = from("pod");
    // A relative enclosure resolves against the document's URL, here the test server's.
    let news = server.url("/archive/1972-09-01-news.mp3");
    let archive = pod.iter().find(|i| i["title"] == news.as_str());
    assert!(archive.is_some_and(|i| i["attachments"][0]["mime_type"] == "audio/mpeg"), "{pod:#?}");
    assert!(p.output("all/rss.xml").contains(&format!("url=\"{news}\"")));
    assert!(pod.iter().any(|i| i["title"] == "Abai's words, read by Nurmukhan Zhanturin"), "{pod:#?}");

    let yt = from("yt");
    let canyon = yt.iter().find(|i| i["title"] == "Charyn canyon at sunrise (timelapse)").expect("media:title");
    assert_eq!(canyon["summary"], "Four hours in ninety seconds.");
    assert_eq!(canyon["image"], "https://i3.ytimg.com/vi/Zp3cW9nL0qA/hqdefault.jpg");

    let full = serde_json::to_string(&from("full")).unwrap_or_default();
    assert!(full.contains("В Оренбурге открылся") && full.contains(&server.url("/news/10450")), "{full}");
    let body = serde_json::to_string(&from("body")).unwrap_or_default();
    assert!(body.contains("The mine museum reopened today."), "{body}");

    let base = serde_json::to_string(&from("base")).unwrap_or_default();
    for url in [
        "http://media.example.org/photos/tent.jpg",
        "http://media.example.org/maps/route.html",
        "http://cdn.example.org/2005/img/stove.png",
        "http://elsewhere.example.net/x/y.html",
        "http://photos.example.org/2005/three.jpg",
        "http://example.org/entries/three",
    ] {
        assert!(base.contains(url), "{url} missing: {base}");
    }
    // JSON Feed's summary is plain text; Atom keeps the summary's HTML.
    assert!(p.output("all/atom.xml").contains("http://summaries.example.org/s/sum.html"));

    let svg = serde_json::to_string(&from("svg")).unwrap_or_default();
    assert!(svg.contains("Energy mix of Kazakhstan, 2020") && svg.contains("E = m c squared"), "{svg}");

    let cats = from("cats");
    let saiga = cats.iter().find(|i| i["title"] == "Saiga numbers recover").expect("saiga");
    assert_eq!(
        saiga["tags"],
        serde_json::json!(["Ecology", "Wildlife", "Saiga", "science/biology", "antelope", "steppe", "conservation"])
    );
    let podcast = cats.iter().find(|i| i["title"] == "Episode 12: Meteorites of the Betpak-Dala").expect("episode");
    assert_eq!(podcast["tags"], serde_json::json!(["Podcast", "meteorites", "Betpak-Dala", "geology", "space"]));
}
