//! Sites without feeds: html sources with selectors and pagination, article pages, full text for
//! summary-only feeds, autodiscovery — against the fixture sites in tests/fixtures/sites/.

use crate::test_server::{Reply, TestServer};
use crate::util::{config, fixture, Project};

// "пікір" alone is a real word ("opinion"); the counters are "N пікір".
const NOISE: &[&str] =
    &["2534", "3 пікір", "12 пікір", "Үздік материалдар", "Сенбі, 23 Қараша 2024", "Бөлісу", "Facebook"];

fn abai_source(server: &TestServer) -> String {
    format!(
        r#"[[sources]]
name = "abai"
url = "{}"
kind = "html"
follow = true
timezone = "Asia/Almaty"

[sources.html]
item = ".news-list .news-item"
title = "h3.news-title"
link = "h3.news-title a@href"
date = ".news-meta .date"
date_format = "%d %B, %Y сағат %H:%M"
locale = "kk"
summary = ".news-lead"
image = ".news-thumb img"
next = ".pagination a.next"
pages = 2

[sources.article]
title = "h1.post-title"
date = ".post-meta .date"
body = ".post-body"
remove = [".adv-inline"]
"#,
        server.url("/abai/index.html")
    )
}

fn serve_abai(server: &TestServer) {
    for page in ["index.html", "index2.html", "post-95211.html"] {
        server.route(
            &format!("/abai/{page}"),
            [Reply::ok_as("text/html; charset=utf-8", fixture(&format!("sites/abai/{page}")))],
        );
    }
}

#[test]
fn a_kazakh_site_without_a_feed_becomes_a_clean_feed() {
    let server = TestServer::start();
    serve_abai(&server);
    let p = Project::new(&config(&abai_source(&server)));
    let run = p.run();
    assert!(run.code <= 1, "{}", run.stderr);
    let json = p.json("all/feed.json");
    let items = json["items"].as_array().unwrap();
    let story = items
        .iter()
        .find(|i| i["title"] == "Бауыржан Байбек «Nur Otan»-ның айтысты қайта қолға алатынын айтты")
        .unwrap_or_else(|| panic!("{json:#}"));
    assert_eq!(story["date_published"], "2019-07-11T06:20:00Z");
    assert_eq!(story["url"], server.url("/abai/post-95211.html"));
    let body = story["content_html"].as_str().unwrap();
    assert!(body.contains("Қызылорда облысына барды"), "{body}");
    assert!(body.contains("айтыс ұйымдастырылады"), "full text from the article page: {body}");
    // Both listing pages were read.
    assert!(server.requests_to("/abai/index2.html").len() == 1);
    assert!(items.len() >= 5, "{} items", items.len());
    for f in ["all/rss.xml", "all/atom.xml", "all/feed.json"] {
        let out = p.output(f);
        for noise in NOISE {
            assert!(!out.contains(noise), "{f} contains the noise {noise:?}");
        }
    }
    // Second run: the article page is not fetched again.
    p.feedmill(&["run", "--force"]);
    assert_eq!(server.requests_to("/abai/post-95211.html").len(), 1);
    assert!(p.json("all/feed.json")["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["content_html"].as_str().is_some_and(|c| c.contains("айтыс ұйымдастырылады"))));
}

#[test]
fn summary_only_feeds_get_full_text_once() {
    let server = TestServer::start();
    let feed = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>QTR</title><link>{0}</link>\
         <item><title>Almaty opens its first public quantum computing lab</title><link>{0}</link>\
         <description>One line only.</description><pubDate>Mon, 18 Nov 2024 09:00:00 +0500</pubDate></item></channel></rss>",
        server.url("/qtr/quantum-lab/")
    );
    server.route("/qtr/feed.xml", [Reply::ok_as("application/rss+xml", feed)]);
    server.route("/qtr/quantum-lab/", [Reply::ok_as("text/html", fixture("sites/summary-only/article-1.html"))]);
    let p = Project::new(&config(&format!(
        "[[sources]]\nname = \"qtr\"\nurl = \"{}\"\nfull_text = true\n",
        server.url("/qtr/feed.xml")
    )));
    p.run().assert_code(0);
    let item = &p.json("all/feed.json")["items"][0];
    assert_eq!(item["summary"], "One line only.");
    let content = item["content_html"].as_str().unwrap();
    assert!(content.len() > 400 && content.contains("<p>"), "{content}");
    p.feedmill(&["run", "--force"]).assert_code(0);
    assert_eq!(server.requests_to("/qtr/quantum-lab/").len(), 1, "the page is fetched once");
    assert_eq!(p.json("all/feed.json")["items"][0]["content_html"].as_str(), Some(content));
}

#[test]
fn a_home_page_is_followed_to_the_feed_it_advertises() {
    let server = TestServer::start();
    let home = "<!DOCTYPE html><html><head><title>Steppe Daily</title>\
                <link rel=\"alternate\" type=\"application/rss+xml\" title=\"All news\" href=\"/feed/rss.xml\"></head>\
                <body><h1>Steppe Daily</h1></body></html>";
    server.route("/", [Reply::ok_as("text/html", home)]);
    server.route("/feed/rss.xml", [Reply::ok_as("application/rss+xml", fixture("feeds/rss20-kk.xml"))]);
    let p = Project::new(&config(&format!("[[sources]]\nname = \"steppe\"\nurl = \"{}\"\n", server.url("/"))));
    p.run().assert_code(0);
    assert!(!p.titles("all").is_empty());
    // Next time the feed is fetched directly.
    p.feedmill(&["run", "--force"]).assert_code(0);
    assert_eq!(server.requests_to("/").len(), 1);
    assert_eq!(server.requests_to("/feed/rss.xml").len(), 2);

    let found = p.feedmill(&["discover", &server.url("/")]);
    found.assert_code(0);
    assert!(
        found.stdout.contains(&server.url("/feed/rss.xml")) && found.stdout.contains("All news"),
        "{}",
        found.stdout
    );
}

/// Each way a page can fail to lead to a feed ends its source with one line naming the page (without
/// the source's password) and, when there is one, the feed and what went wrong with it.
#[test]
fn a_page_that_leads_to_no_feed_fails_its_source_naming_the_page_and_the_feed() {
    let server = TestServer::start();
    let page = |href: &str| {
        format!(
            "<!DOCTYPE html><html><head><title>Steppe Daily</title>{href}</head><body><h1>Steppe Daily</h1></body></html>"
        )
    };
    let link = |href: &str| format!("<link rel=\"alternate\" type=\"application/rss+xml\" href=\"{href}\">");
    server.route("/bare", [Reply::ok_as("text/html", page(""))]);
    server.route("/to-gone", [Reply::ok_as("text/html", page(&link("/gone.xml")))]);
    server.route("/gone.xml", [Reply::status(404)]);
    server.route("/to-page", [Reply::ok_as("text/html", page(&link("/bare")))]);
    let secret = server.url("/bare").replacen("http://", "http://reader:hunter2@", 1);
    let sources = format!(
        "[[sources]]\nname = \"bare\"\nurl = \"{secret}\"\n\n[[sources]]\nname = \"to-gone\"\nurl = \"{}\"\n\n\
         [[sources]]\nname = \"to-page\"\nurl = \"{}\"\n",
        server.url("/to-gone"),
        server.url("/to-page")
    );
    let p = Project::new(&config(&sources));
    let run = p.run();
    run.assert_code(1);
    let error = |name: &str| {
        let prefix = format!("error: {name}: ");
        let line = run.stderr.lines().find(|l| l.starts_with(&prefix));
        line.unwrap_or_else(|| panic!("no error for {name}:\n{}", run.stderr))[prefix.len()..].to_owned()
    };
    let bare = server.url("/bare");
    assert_eq!(
        error("bare"),
        format!(
            "{bare} is an HTML page that advertises no feed; run `feedmill discover {bare}` for a kind = \"html\" config"
        )
    );
    assert_eq!(
        error("to-gone"),
        format!("the feed {} advertises: {}: HTTP 404 Not Found", server.url("/to-gone"), server.url("/gone.xml"))
    );
    assert_eq!(
        error("to-page"),
        format!("the feed {} advertises ({bare}): not a feed: the document is an HTML page", server.url("/to-page"))
    );
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);

    // `parse --source` says the same, after the source's name.
    let parsed = p.feedmill(&["parse", "--source", "to-gone"]);
    assert_ne!(parsed.code, 0);
    let want = format!("source `to-gone`: the feed {} advertises: {}", server.url("/to-gone"), server.url("/gone.xml"));
    assert!(parsed.stderr.contains(&want), "{}", parsed.stderr);
}

#[test]
fn discover_suggests_a_config_when_nothing_is_advertised() {
    let server = TestServer::start();
    server.route("/abai/index.html", [Reply::ok_as("text/html", fixture("sites/abai/index.html"))]);
    let p = Project::new("");
    let run = p.feedmill(&["discover", &server.url("/abai/index.html")]);
    run.assert_code(0);
    assert!(run.stdout.contains("[[sources]]") && run.stdout.contains("[sources.html]"), "{}", run.stdout);
    assert!(run.stdout.contains("item = "), "{}", run.stdout);
}

#[test]
fn bad_selectors_are_config_errors_naming_the_key() {
    let p = Project::new("[[sources]]\nname = \"x\"\nurl = \"https://x.example/\"\nkind = \"html\"\n\n[sources.html]\nitem = \"div[\"\ntitle = \"h3 >> a\"\n");
    let run = p.feedmill(&["check"]);
    run.assert_code(2);
    assert!(run.stderr.contains("source `x`: `html.item` is not a valid selector"), "{}", run.stderr);
    assert!(run.stderr.contains("source `x`: `html.title` is not a valid selector"), "{}", run.stderr);
    assert!(run.stderr.contains("feeds.toml:7:8"), "{}", run.stderr);
}

#[test]
fn a_windows_1251_russian_site_is_read_through_its_meta_charset() {
    let server = TestServer::start();
    // No charset in the header: the page's <meta charset="windows-1251"> decides.
    server.route("/ru/", [Reply::ok_as("text/html", fixture("sites/ru-cp1251/index.html"))]);
    let p = Project::new(&config(&format!(
        "[[sources]]\nname = \"vestnik\"\nurl = \"{}\"\ntimezone = \"Asia/Almaty\"\n\n[sources.html]\nitem = \"li.news-feed__item\"\n",
        server.url("/ru/")
    )));
    let run = p.run();
    run.assert_code(0);
    let json = p.json("all/feed.json");
    let zerno = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"] == "Урожай зерна в Акмолинской области превысит прошлогодний")
        .unwrap_or_else(|| panic!("{json:#}"));
    assert_eq!(zerno["url"], server.url("/ru/zerno.html"), "relative links resolve against the page");
    assert_eq!(zerno["date_published"], "2019-07-11T06:20:00Z");
    assert_eq!(zerno["language"], "ru");
}

#[test]
fn a_listing_page_that_changed_around_its_stories_reuses_them() {
    let server = TestServer::start();
    let page = fixture("sites/ru-cp1251/index.html");
    server.route("/ru/", [Reply::ok_as("text/html", page.clone())]);
    let p = Project::new(&config(&format!(
        "[[sources]]\nname = \"vestnik\"\nurl = \"{}\"\ntimezone = \"Asia/Almaty\"\n\n[sources.html]\nitem = \"li.news-feed__item\"\n",
        server.url("/ru/")
    )));
    p.run().assert_code(0);
    let db = rusqlite::Connection::open(p.path(".feedmill/state.db")).unwrap();
    let marked = db
        .execute(
            "UPDATE entries SET entry = json_set(entry, '$.title', 'Урожай (stored)') WHERE id = ?1",
            [server.url("/ru/zerno.html")],
        )
        .unwrap();
    assert_eq!(marked, 1);

    // A view counter ticked: the page's bytes changed, its stories did not.
    let mut ticked = page;
    ticked.extend_from_slice(b"<!-- 2535 -->");
    server.route("/ru/", [Reply::ok_as("text/html", ticked)]);
    p.run().assert_code(0);
    let json = p.json("all/feed.json");
    let titles: Vec<&str> = json["items"].as_array().unwrap().iter().filter_map(|i| i["title"].as_str()).collect();
    assert!(titles.contains(&"Урожай (stored)"), "the story was taken from the store: {titles:?}");
}

#[test]
fn a_changed_article_rule_fetches_the_article_pages_again() {
    let server = TestServer::start();
    serve_abai(&server);
    let p = Project::new(&config(&abai_source(&server)));
    assert!(p.run().code <= 1);
    let has_text = |p: &Project, text: &str| {
        p.json("all/feed.json")["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["content_html"].as_str().is_some_and(|c| c.contains(text)))
    };
    assert!(has_text(&p, "айтыс ұйымдастырылады"));
    let ids = |p: &Project| p.output("all/feed.json").lines().filter(|l| l.contains("\"id\"")).count();
    let before = ids(&p);

    // The body now without its paragraphs: the page is fetched again (its HTML is not kept), the
    // listing is read from the body kept.
    let cut =
        abai_source(&server).replace("remove = [\".adv-inline\"]", "remove = [\".adv-inline\", \".post-body p\"]");
    p.write("feeds.toml", config(&cut));
    let run = p.run();
    assert!(run.code <= 1, "{}", run.stderr);
    assert_eq!(server.requests_to("/abai/post-95211.html").len(), 2);
    assert_eq!(server.requests_to("/abai/index.html").len(), 1, "the listing kept is read again");
    assert!(!has_text(&p, "айтыс ұйымдастырылады"), "the old body is gone");
    assert!(has_text(&p, "Қызылорда жастарымен кездесуде"), "the figure stays");
    assert_eq!(ids(&p), before, "updated in place");
}
