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
