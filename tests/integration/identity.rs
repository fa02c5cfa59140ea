//! Ids that never change and config changes that take effect: renaming, re-pointing and reordering
//! sources keep every published id; a changed setting that shapes entries (or `run --reparse`) reads the
//! source again, from the body kept in the state when there is one.

use std::collections::BTreeSet;

use crate::test_server::{Reply, TestServer};
use crate::util::{config, Project};

/// An item whose guid is not a URL, so its published id is derived from the source's identity.
fn item(n: u32, title: &str) -> String {
    format!(
        "<item><title>{title}</title><link>https://wire.kz/news/{n}</link><guid isPermaLink=\"false\">wire-{n}</guid>\
         <pubDate>Thu, {n:02} Jul 2019 12:00:00 +0600</pubDate><description>Жаңалық мәтіні нөмір {n}, толығырақ.</description></item>"
    )
}

/// An item without a link.
fn bare_item(title: &str) -> String {
    format!("<item><title>{title}</title><guid isPermaLink=\"false\">notice</guid><description>Сілтемесі жоқ хабар: {title}.</description></item>")
}

fn feed(items: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Wire</title><link>https://wire.kz/</link>{}</channel></rss>",
        items.concat()
    )
}

fn rss(body: String) -> Reply {
    Reply::ok_as("application/rss+xml", body)
}

/// Every id published, per feed file of `all`: RSS guids, Atom entry ids and JSON Feed item ids.
fn published_ids(p: &Project) -> BTreeSet<(&'static str, String)> {
    let between = |text: &str, open: &str, close: &str| -> Vec<String> {
        text.split(open).skip(1).filter_map(|s| s.split(close).next()).map(str::to_owned).collect()
    };
    let mut ids = BTreeSet::new();
    for guid in between(&p.output("all/rss.xml"), "<guid", "</guid>") {
        ids.insert(("rss", guid.split_once('>').map(|(_, id)| id.to_owned()).unwrap_or(guid)));
    }
    for entry in between(&p.output("all/atom.xml"), "<entry", "</entry>") {
        ids.extend(between(&entry, "<id>", "</id>").into_iter().map(|id| ("atom", id)));
    }
    for item in p.json("all/feed.json")["items"].as_array().unwrap() {
        ids.insert(("json", item["id"].as_str().unwrap().to_owned()));
    }
    ids
}

/// The `_feedmill.source` of every JSON Feed item of `all`.
fn shown_sources(p: &Project) -> BTreeSet<String> {
    let feed = p.json("all/feed.json");
    feed["items"].as_array().unwrap().iter().map(|i| i["_feedmill"]["source"].as_str().unwrap().to_owned()).collect()
}

/// The number in the `new` column of the run table's row for `name`.
fn new_in_row(stderr: &str, name: &str) -> String {
    let row = stderr.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("{stderr}"));
    row.split_whitespace().nth(4).unwrap_or_default().to_owned()
}

fn two_sources(first: (&str, &str), second: (&str, &str)) -> Project {
    Project::new(&config(&format!(
        "[[sources]]\nname = \"{}\"\nurl = \"{}\"\n\n[[sources]]\nname = \"{}\"\nurl = \"{}\"\n",
        first.0, first.1, second.0, second.1
    )))
}

fn set_config(p: &Project, first: (&str, &str), second: (&str, &str)) {
    p.write(
        "feeds.toml",
        config(&format!(
            "[[sources]]\nname = \"{}\"\nurl = \"{}\"\n\n[[sources]]\nname = \"{}\"\nurl = \"{}\"\n",
            first.0, first.1, second.0, second.1
        )),
    );
}

fn wire_server() -> TestServer {
    let server = TestServer::start();
    let wire = feed(&[item(3, "Үшінші жаңалық"), item(2, "Екінші жаңалық"), bare_item("Хабарландыру")]);
    server.route("/wire", [rss(wire.clone())]);
    server.route("/wire?utm_source=feedmill", [rss(wire.clone())]);
    server.route("/moved/wire", [rss(wire)]);
    server.route("/other", [rss(feed(&[item(5, "Басқа жаңалық")]).replace("wire-5", "other-5"))]);
    server
}

#[test]
fn renaming_a_source_keeps_every_published_id() {
    let server = wire_server();
    let other = ("other", server.url("/other"));
    let p = two_sources(("wire-a", &server.url("/wire")), (other.0, &other.1));
    p.run().assert_code(0);
    let before = published_ids(&p);
    let derived = before.iter().filter(|(_, id)| id.starts_with("urn:feedmill:wire-a:")).count();
    assert_eq!(derived, 3 * 3, "ids derived from the guids: {before:?}");
    assert_eq!(before.len(), 3 * 4, "four entries in three formats: {before:?}");

    // Renamed, and its URL written with a tracking parameter: the same source in canonical form.
    set_config(&p, ("wire-renamed", &server.url("/wire?utm_source=feedmill")), (other.0, &other.1));
    let run = p.feedmill(&["run", "--force"]);
    run.assert_code(0);
    assert_eq!(new_in_row(&run.stderr, "wire-renamed"), "0", "nothing is new: {}", run.stderr);
    assert_eq!(published_ids(&p), before);
    assert_eq!(shown_sources(&p), BTreeSet::from(["other".to_owned(), "wire-renamed".to_owned()]));
    assert!(!p.output("all/atom.xml").contains("wire-a</name>"), "the old name is shown nowhere");

    // The next fetch of the renamed source finds its entries as before.
    let run = p.feedmill(&["run", "--force"]);
    run.assert_code(0);
    assert_eq!(new_in_row(&run.stderr, "wire-renamed"), "0", "{}", run.stderr);
    assert_eq!(published_ids(&p), before);
}

#[test]
fn re_pointing_a_source_keeps_every_published_id() {
    let server = wire_server();
    let other = ("other", server.url("/other"));
    let p = two_sources(("wire-a", &server.url("/wire")), (other.0, &other.1));
    p.run().assert_code(0);
    let before = published_ids(&p);

    set_config(&p, ("wire-a", &server.url("/moved/wire")), (other.0, &other.1));
    let run = p.run();
    run.assert_code(0);
    assert_eq!(server.requests_to("/moved/wire").len(), 1, "the new URL is fetched");
    assert_eq!(new_in_row(&run.stderr, "wire-a"), "0", "{}", run.stderr);
    assert_eq!(published_ids(&p), before);

    // Renamed and re-pointed at once: a new source, whose derived ids are its own.
    set_config(&p, ("wire-b", &server.url("/wire")), (other.0, &other.1));
    let run = p.run();
    run.assert_code(0);
    assert_eq!(new_in_row(&run.stderr, "wire-b"), "3", "{}", run.stderr);
    let after = published_ids(&p);
    assert!(after.iter().any(|(_, id)| id.starts_with("urn:feedmill:wire-b:")), "{after:?}");
    assert!(!after.iter().any(|(_, id)| id.starts_with("urn:feedmill:wire-a:")), "{after:?}");
}

#[test]
fn reordering_sources_keeps_every_published_id() {
    // Two sources carry the same story (same link, same text, same date), first met in the same run:
    // the merge keeps one copy, chosen on a tie by the order the sources were first met in.
    let server = TestServer::start();
    server.route("/alpha", [rss(feed(&[item(3, "Ортақ жаңалық"), item(4, "Альфа ғана")]))]);
    server.route("/beta", [rss(feed(&[item(3, "Ортақ жаңалық"), item(6, "Бета ғана")]).replace("wire-", "beta-"))]);
    let (alpha, beta) = (("alpha", server.url("/alpha")), ("beta", server.url("/beta")));
    let p = two_sources((alpha.0, &alpha.1), (beta.0, &beta.1));
    p.run().assert_code(0);
    let before = published_ids(&p);
    assert_eq!(before.len(), 3 * 3, "the shared story is published once: {before:?}");

    let explained = p.feedmill(&["explain", "https://wire.kz/news/3"]);
    explained.assert_code(0);
    assert!(explained.stdout.contains("from alpha (https://wire.kz/news/3)"), "{}", explained.stdout);

    set_config(&p, (beta.0, &beta.1), (alpha.0, &alpha.1));
    p.run().assert_code(0);
    assert_eq!(published_ids(&p), before);
    let explained_after = p.feedmill(&["explain", "https://wire.kz/news/3"]);
    assert_eq!(explained_after.stdout, explained.stdout, "explain tells the same story");
    assert!(p.output("all/feed.json").contains("\"via\""), "the other copy is listed as via");
}

/// An html source read with selectors; `title` is the selector for its titles.
fn html_config(page: &str, title: &str, timezone: &str) -> String {
    config(&format!(
        "[[sources]]\nname = \"site\"\nurl = \"{page}\"\ntimezone = \"{timezone}\"\n\n[sources.html]\nitem = \".news-item\"\ntitle = \"{title}\"\nlink = \"a@href\"\ndate = \".date\"\ndate_format = \"%d.%m.%Y %H:%M\"\n"
    ))
}

const PAGE: &str = "<html><body><div class=\"news\">\
    <div class=\"news-item\"><h3><a href=\"/news/1\">Бірінші тақырып</a></h3><p class=\"lead\">Бірінші лид</p><span class=\"date\">11.07.2019 12:20</span></div>\
    <div class=\"news-item\"><h3><a href=\"/news/2\">Екінші тақырып</a></h3><p class=\"lead\">Екінші лид</p><span class=\"date\">10.07.2019 09:00</span></div>\
    </div></body></html>";

#[test]
fn a_new_selector_takes_effect_while_the_server_answers_304() {
    let server = TestServer::start();
    server.route(
        "/news",
        [
            Reply::ok_as("text/html; charset=utf-8", PAGE).header("ETag", "\"p1\""),
            Reply::status(304).header("ETag", "\"p1\""),
        ],
    );
    let p = Project::new(&html_config(&server.url("/news"), "h3", "UTC"));
    p.run().assert_code(0);
    assert_eq!(p.titles("all"), ["Бірінші тақырып", "Екінші тақырып"]);
    let ids = published_ids(&p);
    p.run().assert_code(0);
    assert_eq!(server.requests_to("/news").len(), 2, "the second run asked and got a 304");

    p.write("feeds.toml", html_config(&server.url("/news"), ".lead", "UTC"));
    let run = p.run();
    run.assert_code(0);
    assert_eq!(server.requests_to("/news").len(), 2, "the body kept is read again, the server is not asked");
    assert_eq!(p.titles("all"), ["Бірінші лид", "Екінші лид"], "{}", run.stderr);
    assert_eq!(published_ids(&p), ids, "edited in place");
    assert_eq!(new_in_row(&run.stderr, "site"), "0");

    // Read under the new selector, the source is back to conditional requests.
    p.run().assert_code(0);
    assert_eq!(server.requests_to("/news")[2].header("if-none-match"), Some("\"p1\""));
    assert_eq!(p.titles("all"), ["Бірінші лид", "Екінші лид"]);
}

/// A feed whose dates carry no zone: the source's `timezone` places them.
fn zoneless_feed() -> String {
    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Zones</title><link>https://zones.kz/</link>\
     <item><title>Таңғы жаңалық</title><link>https://zones.kz/1</link><pubDate>2019-07-11 12:00:00</pubDate>\
     <description>Таңғы жаңалықтың мәтіні, ұзағырақ.</description></item></channel></rss>"
        .to_owned()
}

fn zone_config(url: &str, timezone: &str) -> String {
    config(&format!("[[sources]]\nname = \"zones\"\nurl = \"{url}\"\ntimezone = \"{timezone}\"\n"))
}

fn published(p: &Project) -> String {
    p.json("all/feed.json")["items"][0]["date_published"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn a_new_timezone_takes_effect_on_a_byte_identical_body() {
    let server = TestServer::start();
    // No validators, the same bytes on every request.
    server.route("/zones", [rss(zoneless_feed())]);
    let p = Project::new(&zone_config(&server.url("/zones"), "UTC"));
    p.run().assert_code(0);
    assert_eq!(published(&p), "2019-07-11T12:00:00Z");
    let run = p.run();
    run.assert_code(0);
    assert!(run.stderr.lines().any(|l| l.starts_with("zones ") && l.contains(" unchanged ")), "{}", run.stderr);

    p.write("feeds.toml", zone_config(&server.url("/zones"), "Asia/Almaty"));
    p.run().assert_code(0);
    assert_eq!(server.requests_to("/zones").len(), 2, "read from the body kept");
    assert_eq!(published(&p), "2019-07-11T06:00:00Z");
}

#[test]
fn a_changed_source_with_no_body_kept_is_fetched_whole() {
    let server = TestServer::start();
    server.route("/zones", [rss(zoneless_feed()).header("ETag", "\"z1\"")]);
    let p = Project::new(&zone_config(&server.url("/zones"), "UTC"));
    p.run().assert_code(0);
    // As a store written before bodies were kept.
    let db = rusqlite::Connection::open(p.path(".feedmill/state.db")).unwrap();
    assert_eq!(db.execute("DELETE FROM raw_bodies", []).unwrap(), 1);
    drop(db);

    p.write("feeds.toml", zone_config(&server.url("/zones"), "Asia/Almaty"));
    p.run().assert_code(0);
    let requests = server.requests_to("/zones");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].header("if-none-match"), None, "asked without validators, so no 304 can stand for it");
    assert_eq!(published(&p), "2019-07-11T06:00:00Z");
}

#[test]
fn run_reparse_reads_a_source_again_from_the_body_kept() {
    let server = TestServer::start();
    server.route("/zones", [rss(zoneless_feed()).header("ETag", "\"z1\""), Reply::status(304)]);
    let p = Project::new(&zone_config(&server.url("/zones"), "UTC"));
    p.run().assert_code(0);
    // Marks the stored entry: reading the body again gives the feed's title back.
    let db = rusqlite::Connection::open(p.path(".feedmill/state.db")).unwrap();
    db.execute("UPDATE entries SET entry = json_set(entry, '$.title', 'stored')", []).unwrap();
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('content_version', '999')", []).unwrap();
    drop(db);
    p.run().assert_code(0);
    assert_eq!(p.titles("all"), ["stored"], "a 304 reads nothing");

    let run = p.feedmill(&["run", "--reparse", "zones"]);
    run.assert_code(0);
    assert_eq!(server.requests_to("/zones").len(), 2, "no request: the body kept is read");
    assert_eq!(p.titles("all"), ["Таңғы жаңалық"]);

    let run = p.feedmill(&["run", "--reparse", "zones", "nosuch"]);
    run.assert_code(2);
    assert!(run.stderr.contains("nosuch"), "{}", run.stderr);
    assert!(!run.stderr.contains("zones,"), "only the unknown name is named: {}", run.stderr);
}
