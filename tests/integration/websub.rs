//! WebSub, publisher side: feeds name the hub, and after a run the hub is told which feeds changed.

use crate::test_server::{Reply, TestServer};
use crate::util::Project;

fn rss(site: &str, items: &[(&str, &str)]) -> String {
    let items: String = items
        .iter()
        .map(|(title, date)| {
            format!("<item><title>{title}</title><link>https://{site}.example/{title}</link><pubDate>{date}</pubDate><description>{title} text</description></item>")
        })
        .collect();
    format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{site}</title><link>https://{site}.example/</link>{items}</channel></rss>")
}

/// Two sources in two categories, the hub at `hub`.
fn project(hub: &str) -> Project {
    let p = Project::new(&format!(
        "[output]\nbase_url = \"https://feeds.example.org/\"\nhub = \"{hub}\"\n\n[fetch]\ntimeout = \"2s\"\n\n\
         [[sources]]\nname = \"news\"\nurl = \"news.xml\"\ncategories = [\"news\"]\n\n\
         [[sources]]\nname = \"blog\"\nurl = \"blog.xml\"\ncategories = [\"blog\"]\n"
    ));
    p.write("news.xml", rss("news", &[("first", "Mon, 01 Jul 2024 10:00:00 +0000")]));
    p.write("blog.xml", rss("blog", &[("musing", "Tue, 02 Jul 2024 10:00:00 +0000")]));
    p
}

/// The `hub.url` of each ping, sorted.
fn topics(server: &TestServer) -> Vec<String> {
    let mut topics: Vec<String> = server
        .requests_to("/hub")
        .iter()
        .map(|r| {
            let form: Vec<(String, String)> = url::form_urlencoded::parse(&r.body).into_owned().collect();
            assert_eq!(form[0], ("hub.mode".into(), "publish".into()), "{form:?}");
            assert_eq!(r.method, "POST");
            form[1].1.clone()
        })
        .collect();
    topics.sort();
    topics
}

fn feeds(slugs: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = slugs
        .iter()
        .flat_map(|s| ["rss.xml", "atom.xml", "feed.json"].map(|f| format!("https://feeds.example.org/{s}/{f}")))
        .collect();
    out.sort();
    out
}

#[test]
fn the_hub_hears_of_exactly_the_feeds_that_changed() {
    let server = TestServer::start();
    server.route("/hub", [Reply::status(204)]);
    let p = project(&server.url("/hub"));

    let run = p.run();
    run.assert_code(0);
    assert_eq!(topics(&server), feeds(&["all", "blog", "news"]), "a first run announces every feed");
    assert!(run.stderr.contains("hub told of 9 changed feeds"), "{}", run.stderr);
    let hub = server.url("/hub");
    assert!(p.output("news/rss.xml").contains(&format!("<atom:link rel=\"hub\" href=\"{hub}\"/>")));
    assert!(p.output("news/atom.xml").contains(&format!("<link rel=\"hub\" href=\"{hub}\"/>")));
    assert_eq!(p.json("news/feed.json")["hubs"], serde_json::json!([{"type": "WebSub", "url": hub}]));

    p.run().assert_code(0);
    assert_eq!(server.requests_to("/hub").len(), 9, "nothing changed, nothing announced");

    p.write(
        "news.xml",
        rss("news", &[("second", "Wed, 03 Jul 2024 10:00:00 +0000"), ("first", "Mon, 01 Jul 2024 10:00:00 +0000")]),
    );
    p.run().assert_code(0);
    let all = topics(&server);
    let mut third: Vec<String> = feeds(&["all", "blog", "news"]).into_iter().chain(feeds(&["all", "news"])).collect();
    third.sort();
    assert_eq!(all, third, "one category changed: its feeds and all's, not blog's");
}

#[test]
fn a_hub_that_is_down_is_a_warning_and_is_told_on_the_next_run() {
    let server = TestServer::start();
    // The first ping fails all three tries; every later one succeeds.
    server.route("/hub", [Reply::status(503), Reply::status(503), Reply::status(503), Reply::status(204)]);
    let p = project(&server.url("/hub"));
    let run = p.run();
    run.assert_code(0);
    assert!(
        run.stderr.contains("warning: hub not told of 9 changed feeds, trying again next run: ")
            && run.stderr.contains("HTTP 503 Service Unavailable (after 3 attempts)"),
        "{}",
        run.stderr
    );
    assert_eq!(server.requests_to("/hub").len(), 3, "the first failure ends the announcement");

    let run = p.run();
    run.assert_code(0);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    assert_eq!(server.requests_to("/hub").len(), 12, "the nine left over are announced by the next run");
    assert_eq!(p.run().code, 0);
    assert_eq!(server.requests_to("/hub").len(), 12);
}

#[test]
fn a_hub_without_base_url_is_a_config_error() {
    let p = Project::new("[output]\nhub = \"https://hub.example/\"\n\n[[sources]]\nname = \"a\"\nurl = \"a.xml\"\n");
    let run = p.feedmill(&["check"]);
    run.assert_code(2);
    assert!(run.stderr.contains("error: `hub` needs `base_url`"), "{}", run.stderr);
}

#[test]
fn a_hanging_hub_costs_one_pings_worth_of_time() {
    let server = TestServer::start();
    server.route("/hub", [Reply::status(204).hang()]);
    let p = project(&server.url("/hub"));
    let config = std::fs::read_to_string(p.path("feeds.toml")).unwrap();
    p.write("feeds.toml", config.replace("timeout = \"2s\"", "timeout = \"1s\"\ntries = 2"));
    let started = std::time::Instant::now();
    let run = p.run();
    let took = started.elapsed();
    run.assert_code(0);
    assert!(run.stderr.contains("hub not told of 9 changed feeds"), "{}", run.stderr);
    // `tries = 2`, but a ping that timed out is not sent again in the run: one timeout, then the rest wait.
    assert_eq!(server.requests_to("/hub").len(), 1, "the timed-out ping is not retried");
    // One 1 s attempt, plus the run itself.
    assert!(took < std::time::Duration::from_secs(6), "took {took:?}");
}
