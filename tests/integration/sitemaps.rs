//! Feeds from sitemaps: `kind = "sitemap"` sources (a Google News sitemap, an index with gzipped
//! children, a plain sitemap) and `discover` finding a sitemap through robots.txt, against the fixture
//! site in tests/fixtures/sites/dala/.

use std::io::Write;

use crate::test_server::{Reply, TestServer};
use crate::util::{config, fixture, Project};

const ARTICLES: &[&str] =
    &["kk/news/astana-lrt-synak", "kk/news/ekibastuz-zhylu", "ru/news/tarify-na-vodu-almaty", "kk/news/kuzgi-egin"];

/// A fixture with `{base}` replaced by the test server's address.
fn page(server: &TestServer, name: &str) -> Vec<u8> {
    String::from_utf8_lossy(&fixture(&format!("sites/dala/{name}"))).replace("{base}", &server.url("")).into_bytes()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn serve_dala(server: &TestServer) {
    for name in ["sitemap-index.xml", "sitemap-news.xml"] {
        server.route(&format!("/dala/{name}"), [Reply::ok_as("application/xml", page(server, name))]);
    }
    for month in ["2024-10", "2024-11"] {
        // Gzip content, not a Content-Encoding: the body arrives compressed.
        let body = gzip(&page(server, &format!("sitemap-{month}.xml")));
        server.route(&format!("/dala/sitemap-{month}.xml.gz"), [Reply::ok_as("application/gzip", body)]);
    }
    for path in ARTICLES {
        let file = format!("{}.html", path.rsplit('/').next().unwrap());
        server.route(
            &format!("/dala/{path}"),
            [Reply::ok_as("text/html; charset=utf-8", fixture(&format!("sites/dala/{file}")))],
        );
    }
    server.route("/dala/robots.txt", [Reply::ok_as("text/plain", page(server, "robots.txt"))]);
}

fn dala_source(server: &TestServer, extra: &str) -> String {
    format!(
        "[[sources]]\nname = \"dala\"\nurl = \"{}\"\nkind = \"sitemap\"\nfollow = true\ntimezone = \"Asia/Almaty\"\n\n\
         [sources.sitemap]\nurl_exclude = [\"/tag/\"]\n{extra}",
        server.url("/dala/sitemap-index.xml")
    )
}

fn item<'a>(json: &'a serde_json::Value, url: &str) -> &'a serde_json::Value {
    json["items"].as_array().unwrap().iter().find(|i| i["url"] == url).unwrap_or_else(|| panic!("{url}: {json:#}"))
}

#[test]
fn a_news_sitemap_index_with_gzipped_children_becomes_a_feed() {
    let server = TestServer::start();
    serve_dala(&server);
    let p = Project::new(&config(&dala_source(&server, "max_sitemaps = 2\n")));
    let run = p.run();
    run.assert_code(0);
    let json = p.json("all/feed.json");

    // The news sitemap's headline, date, language, keywords and image.
    let lrt = item(&json, &server.url("/dala/kk/news/astana-lrt-synak"));
    assert_eq!(lrt["title"], "Астанада жеңіл рельсті көліктің сынақ сапары басталды");
    assert_eq!(lrt["date_published"], "2024-11-18T04:30:00Z");
    assert_eq!(lrt["language"], "kk");
    assert_eq!(lrt["image"], server.url("/dala/img/lrt.jpg"));
    assert!(lrt["tags"].as_array().is_some_and(|t| t.iter().any(|t| t == "LRT")), "{lrt:#}");
    assert!(lrt["content_html"].as_str().is_some_and(|c| c.contains("22,4 шақырым")), "{lrt:#}");
    let tarify = item(&json, &server.url("/dala/ru/news/tarify-na-vodu-almaty"));
    assert_eq!(tarify["language"], "ru");

    // A page of the gzipped monthly sitemap: title, date, author and text from its page.
    let eki = item(&json, &server.url("/dala/kk/news/ekibastuz-zhylu"));
    assert_eq!(eki["title"], "Екібастұзда жылу беру маусымы мерзімінен бұрын басталды");
    assert_eq!(eki["date_published"], "2024-11-16T10:10:00Z", "the page's own date, not lastmod");
    assert_eq!(eki["authors"][0]["name"], "Гүлназ Сейітқызы");
    assert_eq!(eki["image"], server.url("/dala/img/ekibastuz.jpg"));
    let text = eki["content_html"].as_str().unwrap();
    assert!(text.contains("96 пайызына жылу берілді"), "{text}");
    for noise in ["Бөлісу", "1873", "5 пікір", "Үздік материалдар", "Сенбі, 16 Қараша 2024"]
    {
        assert!(!text.contains(noise), "noise {noise:?} in {text}");
    }

    // Excluded by `url_exclude`; the oldest child sitemap is past `max_sitemaps`.
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{json:#}");
    assert!(items.iter().all(|i| !i["url"].as_str().unwrap_or_default().contains("/tag/")));
    assert!(server.requests_to("/dala/sitemap-2024-10.xml.gz").is_empty());
    assert!(server.requests_to("/dala/kk/tag/kolik").is_empty());
    assert_eq!(json["title"], "Test planet");

    // The outputs are feeds feedmill itself reads back.
    for f in ["rss.xml", "atom.xml", "feed.json"] {
        let read = p.feedmill(&["parse", &p.path("output/all").join(f).to_string_lossy()]);
        read.assert_code(0);
        assert!(read.stdout.contains("entries:  3"), "{f}: {}", read.stdout);
    }

    // Nothing changed: no article page is fetched again and the outputs stay byte for byte.
    let before = p.output("all/rss.xml");
    p.feedmill(&["run", "--force"]).assert_code(0);
    assert_eq!(p.output("all/rss.xml"), before);
    for path in ARTICLES.iter().take(3) {
        assert_eq!(server.requests_to(&format!("/dala/{path}")).len(), 1, "{path} fetched once");
    }

    // A new article in the news sitemap: only it is followed.
    let news = String::from_utf8_lossy(&page(&server, "sitemap-news.xml")).replace(
        "</urlset>",
        &format!(
            "<url><loc>{}</loc><news:news><news:publication><news:name>Dala Ақпарат</news:name>\
             <news:language>kk</news:language></news:publication>\
             <news:publication_date>2024-11-19T08:00:00+05:00</news:publication_date>\
             <news:title>Күзгі егін жиналып бітті</news:title></news:news></url></urlset>",
            server.url("/dala/kk/news/kuzgi-egin")
        ),
    );
    server.route("/dala/sitemap-news.xml", [Reply::ok_as("application/xml", news)]);
    server.route(
        "/dala/sitemap-index.xml",
        [Reply::ok_as(
            "application/xml",
            String::from_utf8_lossy(&page(&server, "sitemap-index.xml"))
                .replace("2024-11-18T11:00:00+05:00", "2024-11-19T08:00:00+05:00"),
        )],
    );
    p.feedmill(&["run", "--force"]).assert_code(0);
    assert_eq!(server.requests_to("/dala/kk/news/kuzgi-egin").len(), 1);
    // Only the child sitemap whose `lastmod` moved is fetched again.
    assert_eq!(server.requests_to("/dala/sitemap-news.xml").len(), 2);
    assert_eq!(server.requests_to("/dala/sitemap-2024-11.xml.gz").len(), 1);
    for path in ARTICLES.iter().take(3) {
        assert_eq!(server.requests_to(&format!("/dala/{path}")).len(), 1, "{path} still fetched once");
    }
    let json = p.json("all/feed.json");
    assert_eq!(json["items"][0]["title"], "Күзгі егін жиналып бітті", "newest first");
    assert_eq!(json["items"].as_array().unwrap().len(), 4);
}

#[test]
fn a_plain_sitemap_keeps_its_newest_selected_urls() {
    let server = TestServer::start();
    let mut doc = String::from("<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">");
    for (path, lastmod) in [
        ("/about", "2024-11-30"),
        ("/news/2024/11/10/budget", "2024-11-10T09:00:00+05:00"),
        ("/news/2024/11/12/metro", "2024-11-12T09:00:00+05:00"),
        ("/news/2024/11/11/zerno", "2024-11-11T09:00:00+05:00"),
        ("/news/2024/11/09/teatr", "2024-11-09"),
        ("/news/2024/11/13/foto", "2024-11-13"),
    ] {
        doc.push_str(&format!("<url><loc>{}</loc><lastmod>{lastmod}</lastmod></url>", server.url(path)));
    }
    doc.push_str("</urlset>");
    server.route("/sitemap.xml", [Reply::ok_as("application/xml", doc)]);
    let p = Project::new(&config(&format!(
        "[[sources]]\nname = \"vestnik\"\nurl = \"{}\"\nkind = \"sitemap\"\n\n[sources.sitemap]\n\
         url_include = [\"/news/\"]\nurl_exclude = [\"/foto$\"]\nmax_urls = 3\n",
        server.url("/sitemap.xml")
    )));
    p.run().assert_code(0);
    let json = p.json("all/feed.json");
    let urls: Vec<&str> = json["items"].as_array().unwrap().iter().filter_map(|i| i["url"].as_str()).collect();
    let want: Vec<String> =
        ["/news/2024/11/12/metro", "/news/2024/11/11/zerno", "/news/2024/11/10/budget"].map(|u| server.url(u)).into();
    assert_eq!(urls, want);
    // Without `news:title` and `follow`, a page is titled by its URL, as feed readers show it.
    assert_eq!(json["items"][0]["title"], server.url("/news/2024/11/12/metro"));
    assert_eq!(json["items"][0]["date_published"], "2024-11-12T04:00:00Z", "lastmod dates the page");
    assert!(server.requests_to("/news/2024/11/12/metro").is_empty(), "no page is fetched without follow");
}

#[test]
fn bad_sitemap_patterns_are_config_errors_naming_the_key() {
    let p = Project::new(
        "[[sources]]\nname = \"x\"\nurl = \"https://x.example/sitemap.xml\"\nkind = \"sitemap\"\n\n\
         [sources.sitemap]\nurl_include = [\"/news/(\"]\nmax_urls = 0\n",
    );
    let run = p.feedmill(&["check"]);
    run.assert_code(2);
    assert!(run.stderr.contains("source `x`: `sitemap.url_include` is not a valid regex"), "{}", run.stderr);
    assert!(run.stderr.contains("source `x`: `sitemap.max_urls` must be between 1 and 50000"), "{}", run.stderr);
}

#[test]
fn discover_finds_a_sitemap_through_robots_txt() {
    let server = TestServer::start();
    serve_dala(&server);
    // robots.txt lives at the site's root.
    server.route("/robots.txt", [Reply::ok_as("text/plain", page(&server, "robots.txt"))]);
    server.route("/dala/", [Reply::ok_as("text/html", fixture("sites/dala/home.html"))]);
    let p = Project::new("");
    let run = p.feedmill(&["discover", &server.url("/dala/")]);
    run.assert_code(0);
    assert!(run.stdout.contains(&server.url("/dala/sitemap-index.xml")), "{}", run.stdout);
    let block = format!("url = \"{}\"\nkind = \"sitemap\"", server.url("/dala/sitemap-news.xml"));
    assert!(run.stdout.contains(&block), "the news sitemap is chosen: {}", run.stdout);
    assert!(!run.stdout.contains("[sources.html]"), "{}", run.stdout);

    // The printed block works as it is.
    let q = Project::new(&config(&run.stdout));
    q.run().assert_code(0);
    assert_eq!(q.titles("all").len(), 2);
}

#[test]
fn nested_indexes_are_read_newest_child_first_within_max_sitemaps() {
    let server = TestServer::start();
    let index = |children: &[(&str, &str)]| {
        let mut doc = String::from("<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">");
        for (path, lastmod) in children {
            doc.push_str(&format!("<sitemap><loc>{}</loc><lastmod>{lastmod}</lastmod></sitemap>", server.url(path)));
        }
        doc + "</sitemapindex>"
    };
    let urlset = |path: &str| {
        format!(
            "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"><url><loc>{}</loc>\
             <lastmod>2024-11-20</lastmod></url></urlset>",
            server.url(path)
        )
    };
    server.route(
        "/sitemap.xml",
        [Reply::ok_as("application/xml", index(&[("/inner.xml", "2024-11-20"), ("/c.xml", "2024-11-19")]))],
    );
    server.route("/inner.xml", [Reply::ok_as("application/xml", index(&[("/d.xml", "2024-11-21")]))]);
    server.route("/c.xml", [Reply::ok_as("application/xml", urlset("/news/c"))]);
    server.route("/d.xml", [Reply::ok_as("application/xml", urlset("/news/d"))]);
    let p = Project::new(&config(&format!(
        "[[sources]]\nname = \"nested\"\nurl = \"{}\"\nkind = \"sitemap\"\n\n[sources.sitemap]\nmax_sitemaps = 2\n",
        server.url("/sitemap.xml")
    )));
    p.run().assert_code(0);
    let urls: Vec<String> = p.json("all/feed.json")["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["url"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(urls, [server.url("/news/d")]);
    assert!(server.requests_to("/c.xml").is_empty(), "past max_sitemaps");
}
