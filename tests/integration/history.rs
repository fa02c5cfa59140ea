//! Memory across runs: the store keeps history, ids and first-seen times; conditional GET and politeness.

use std::time::Duration;

use crate::test_server::{Reply, TestServer};
use crate::util::{config, Project};

fn item(n: u32, title: &str) -> String {
    format!(
        "<item><title>{title}</title><link>https://abai.kz/post/{n}</link><guid>https://abai.kz/post/{n}</guid>\
         <pubDate>Thu, {n:02} Jul 2019 12:00:00 +0600</pubDate><description>Мақала мәтіні нөмір {n}.</description></item>"
    )
}

fn feed(items: &[String], extra: &str) -> String {
    format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Abai</title><link>https://abai.kz/</link>{extra}{}</channel></rss>", items.concat())
}

fn one_source(server: &TestServer, path: &str) -> Project {
    Project::new(&config(&format!("[[sources]]\nname = \"abai\"\nurl = \"{}\"\n", server.url(path))))
}

#[test]
fn entries_that_leave_the_feed_stay_and_edits_update_in_place() {
    let server = TestServer::start();
    server.route(
        "/rss",
        [Reply::ok_as("application/rss+xml", feed(&[item(3, "Үшінші"), item(2, "Екінші"), item(1, "Бірінші")], ""))],
    );
    let p = one_source(&server, "/rss");
    p.run().assert_code(0);
    let first = p.json("all/feed.json");
    assert_eq!(p.titles("all"), ["Үшінші", "Екінші", "Бірінші"]);

    // Run 2: entry 1 dropped off, entry 2 corrected, entry 4 is new.
    server.route(
        "/rss",
        [Reply::ok_as(
            "application/rss+xml",
            feed(&[item(4, "Төртінші"), item(3, "Үшінші"), item(2, "Екінші (түзетілген)")], ""),
        )],
    );
    let run = p.run();
    run.assert_code(0);
    let row = run.stderr.lines().find(|l| l.starts_with("abai ")).unwrap();
    assert_eq!(row.split_whitespace().nth(4), Some("1"), "one new entry: {row}");
    assert_eq!(p.titles("all"), ["Төртінші", "Үшінші", "Екінші (түзетілген)", "Бірінші"]);
    let second = p.json("all/feed.json");
    // Same ids for the same stories, and no duplicate for the edited one.
    let ids = |v: &serde_json::Value| {
        v["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(&ids(&second)[1..], &ids(&first)[..]);
}

#[test]
fn a_changed_feed_reuses_the_entries_it_still_lists_unchanged() {
    let server = TestServer::start();
    let build = |date: &str| format!("<lastBuildDate>{date}</lastBuildDate>");
    server.route(
        "/rss",
        [Reply::ok_as(
            "application/rss+xml",
            feed(
                &[item(3, "Үшінші"), item(2, "Екінші"), item(1, "Бірінші")],
                &build("Thu, 04 Jul 2019 12:00:00 +0600"),
            ),
        )],
    );
    let p = one_source(&server, "/rss");
    p.run().assert_code(0);
    // Marks the stored copy of entry 3: normalizing its raw entry again would give the feed's title back.
    let db = rusqlite::Connection::open(p.path(".feedmill/state.db")).unwrap();
    let marked = db
        .execute(
            "UPDATE entries SET entry = json_set(entry, '$.title', 'Үшінші (stored)') WHERE id = 'https://abai.kz/post/3'",
            [],
        )
        .unwrap();
    assert_eq!(marked, 1);

    // The feed is rebuilt: a new build date, entry 4 new, entry 2 corrected, entries 3 and 1 as they were.
    server.route(
        "/rss",
        [Reply::ok_as(
            "application/rss+xml",
            feed(
                &[item(4, "Төртінші"), item(3, "Үшінші"), item(2, "Екінші (түзетілген)"), item(1, "Бірінші")],
                &build("Thu, 04 Jul 2019 13:00:00 +0600"),
            ),
        )],
    );
    let run = p.run();
    run.assert_code(0);
    let row = run.stderr.lines().find(|l| l.starts_with("abai ")).unwrap();
    assert_eq!(row.split_whitespace().nth(4), Some("1"), "one new entry: {row}");
    assert_eq!(
        p.titles("all"),
        ["Төртінші", "Үшінші (stored)", "Екінші (түзетілген)", "Бірінші"],
        "entry 3 was taken from the store, entry 2 normalized again"
    );
    let digests: i64 = db
        .query_row("SELECT count(DISTINCT raw_digest) FROM entries WHERE raw_digest IS NOT NULL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(digests, 4, "every entry is stored with its raw digest");
}

#[test]
fn conditional_get_and_unchanged_bodies_cost_no_parse_and_no_write() {
    let server = TestServer::start();
    let body = feed(&[item(1, "Бірінші")], "");
    server.route(
        "/etag",
        [
            Reply::ok_as("application/rss+xml", body.clone()).header("ETag", "\"v1\""),
            Reply::status(304).header("ETag", "\"v1\""),
        ],
    );
    // A server with no validators that sends the same bytes again.
    server.route("/plain", [Reply::ok_as("application/rss+xml", feed(&[item(2, "Екінші")], ""))]);
    let p = Project::new(&config(&format!(
        "[[sources]]\nname = \"etag\"\nurl = \"{}\"\n\n[[sources]]\nname = \"plain\"\nurl = \"{}\"\n",
        server.url("/etag"),
        server.url("/plain")
    )));
    p.run().assert_code(0);
    let run = p.run();
    run.assert_code(0);
    assert_eq!(server.requests_to("/etag")[1].header("if-none-match"), Some("\"v1\""));
    assert!(
        run.stderr.lines().any(|l| l.starts_with("etag ") && l.contains(" unchanged ") && l.contains(" 304 ")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.lines().any(|l| l.starts_with("plain ") && l.contains(" unchanged ")),
        "same body counts as not modified: {}",
        run.stderr
    );
    assert!(run.stderr.contains("outputs up to date"), "{}", run.stderr);
    assert_eq!(p.titles("all"), ["Екінші", "Бірінші"], "entries of unchanged sources stay");
}

#[test]
fn a_failing_source_keeps_its_entries_and_backs_off() {
    let server = TestServer::start();
    server.route("/rss", [Reply::ok_as("application/rss+xml", feed(&[item(1, "Бірінші")], "")), Reply::status(500)]);
    let p = Project::new(
        &config(&format!("[[sources]]\nname = \"abai\"\nurl = \"{}\"\n", server.url("/rss")))
            .replace("[fetch]\n", "[fetch]\ntries = 1\n"),
    );
    p.run().assert_code(0);
    let run = p.run();
    run.assert_code(1);
    assert_eq!(p.titles("all"), ["Бірінші"], "history survives a failure");
    // Backing off: the third run does not ask again, and says so.
    let run = p.run();
    run.assert_code(0);
    assert!(run.stderr.contains("skipped"), "{}", run.stderr);
    assert_eq!(server.requests_to("/rss").len(), 2);
    let status = p.feedmill(&["status"]);
    status.assert_code(0);
    let row = status.stdout.lines().find(|l| l.starts_with("abai")).unwrap();
    assert!(row.contains(" 1 ") && row.contains("HTTP 500"), "{}", status.stdout);
    // --force ignores the backoff.
    p.feedmill(&["run", "--force"]);
    assert_eq!(server.requests_to("/rss").len(), 3);
}

#[test]
fn feed_schedules_are_honoured_and_no_signal_means_always_due() {
    let server = TestServer::start();
    server.route("/ttl", [Reply::ok_as("application/rss+xml", feed(&[item(1, "Бірінші")], "<ttl>60</ttl>"))]);
    server.route(
        "/maxage",
        [Reply::ok_as("application/rss+xml", feed(&[item(2, "Екінші")], ""))
            .header("Cache-Control", "public, max-age=600")],
    );
    server.route("/free", [Reply::ok_as("application/rss+xml", feed(&[item(3, "Үшінші")], ""))]);
    let sources: String = ["ttl", "maxage", "free"]
        .iter()
        .map(|n| format!("[[sources]]\nname = \"{n}\"\nurl = \"{}\"\n\n", server.url(&format!("/{n}"))))
        .collect();
    let p = Project::new(&config(&sources));
    p.run().assert_code(0);
    p.run().assert_code(0);
    assert_eq!(server.requests_to("/ttl").len(), 1, "<ttl>60</ttl>: not due for an hour");
    assert_eq!(server.requests_to("/maxage").len(), 1, "max-age=600: not due for 10 minutes");
    assert_eq!(server.requests_to("/free").len(), 2, "no signal: always due");
}

#[test]
fn retention_purges_old_entries_for_good() {
    let server = TestServer::start();
    server.route("/rss", [Reply::ok_as("application/rss+xml", feed(&[item(2, "Екінші"), item(1, "Бірінші")], ""))]);
    let cfg = config(&format!("[[sources]]\nname = \"abai\"\nurl = \"{}\"\n", server.url("/rss")))
        .replace("[output]\n", "[output]\nretention = \"1s\"\n");
    let p = Project::new(&cfg);
    p.run().assert_code(0);
    server.route("/rss", [Reply::ok_as("application/rss+xml", feed(&[item(2, "Екінші")], ""))]);
    std::thread::sleep(Duration::from_millis(2100));
    p.run().assert_code(0);
    assert_eq!(p.titles("all"), ["Екінші"], "entry 1 was not seen for longer than the retention");
    // The source lists entry 1 again: its tombstone keeps it out.
    server.route("/rss", [Reply::ok_as("application/rss+xml", feed(&[item(2, "Екінші"), item(1, "Бірінші")], ""))]);
    p.run().assert_code(0);
    assert_eq!(p.titles("all"), ["Екінші"]);
}

#[test]
fn a_gone_source_is_marked_dead_keeps_its_entries_and_is_not_asked_again() {
    let server = TestServer::start();
    server.route(
        "/rss",
        [Reply::ok_as("application/rss+xml", feed(&[item(2, "Екінші"), item(1, "Бірінші")], "")), Reply::status(410)],
    );
    server.route("/other", [Reply::ok_as("application/rss+xml", feed(&[item(3, "Үшінші")], ""))]);
    let sources = |abai: &str| {
        config(&format!(
            "[[sources]]\nname = \"abai\"\nurl = \"{}\"\n\n[[sources]]\nname = \"other\"\nurl = \"{}\"\n",
            server.url(abai),
            server.url("/other")
        ))
    };
    let p = Project::new(&sources("/rss"));
    p.run().assert_code(0);
    assert_eq!(p.titles("all"), ["Үшінші", "Екінші", "Бірінші"]);

    // The 410: a failure this once (exit 1), said plainly, and the source is dead from now on.
    let run = p.run();
    run.assert_code(1);
    let row = run.stderr.lines().find(|l| l.starts_with("abai ")).unwrap();
    assert_eq!(row.split_whitespace().take(3).collect::<Vec<_>>(), ["abai", "GONE", "410"], "{row}");
    // Said once: the status is GONE, the error the server's answer.
    let gone = format!("{}: HTTP 410 Gone", server.url("/rss"));
    assert!(
        run.stderr.contains(&format!(
            "\nerror: abai: {gone}; not fetched again until its url changes in the config (run --force to ask again)"
        )),
        "{}",
        run.stderr
    );
    assert_eq!(p.titles("all"), ["Үшінші", "Екінші", "Бірінші"], "its entries stay published");
    let status = p.feedmill(&["status"]);
    status.assert_code(0);
    let row = status.stdout.lines().find(|l| l.starts_with("abai ")).unwrap();
    assert!(row.contains(" dead ") && row.ends_with(&gone), "{}", status.stdout);

    // Later runs do not ask again and do not fail for it.
    let run = p.run();
    run.assert_code(0);
    assert!(run.stderr.lines().any(|l| l.starts_with("abai ") && l.contains(" dead ")), "{}", run.stderr);
    assert!(run.stderr.contains("1 of 2 sources ok, 1 dead (HTTP 410)"), "{}", run.stderr);
    assert_eq!(server.requests_to("/rss").len(), 2, "a dead source is not fetched");
    assert_eq!(p.titles("all"), ["Үшінші", "Екінші", "Бірінші"]);

    // A new URL in the config is a new source as far as being dead goes; the history stays.
    server.route("/moved", [Reply::ok_as("application/rss+xml", feed(&[item(4, "Төртінші"), item(2, "Екінші")], ""))]);
    std::fs::write(p.path("feeds.toml"), sources("/moved")).unwrap();
    p.run().assert_code(0);
    assert_eq!(server.requests_to("/moved").len(), 1);
    assert_eq!(p.titles("all"), ["Төртінші", "Үшінші", "Екінші", "Бірінші"]);
    let status = p.feedmill(&["status"]);
    let row = status.stdout.lines().find(|l| l.starts_with("abai ")).unwrap();
    assert!(!row.contains("dead") && row.ends_with(" -"), "{}", status.stdout);
}

#[test]
fn a_dead_sources_entries_leave_with_retention() {
    let server = TestServer::start();
    server.route("/rss", [Reply::ok_as("application/rss+xml", feed(&[item(1, "Бірінші")], "")), Reply::status(410)]);
    server.route("/other", [Reply::ok_as("application/rss+xml", feed(&[item(3, "Үшінші")], ""))]);
    let cfg = config(&format!(
        "[[sources]]\nname = \"abai\"\nurl = \"{}\"\n\n[[sources]]\nname = \"other\"\nurl = \"{}\"\n",
        server.url("/rss"),
        server.url("/other")
    ))
    .replace("[output]\n", "[output]\nretention = \"2s\"\n");
    let p = Project::new(&cfg);
    p.run().assert_code(0);
    p.run().assert_code(1);
    assert_eq!(p.titles("all"), ["Үшінші", "Бірінші"], "within the retention, the dead source's entry stays");
    std::thread::sleep(Duration::from_millis(3000));
    p.run().assert_code(0);
    assert_eq!(p.titles("all"), ["Үшінші"], "not seen for longer than the retention: purged");
    assert_eq!(server.requests_to("/rss").len(), 2);
}

#[test]
fn run_force_asks_a_dead_source_again_and_a_success_revives_it() {
    let server = TestServer::start();
    server.route("/rss", [Reply::status(410)]);
    let p = one_source(&server, "/rss");
    p.run().assert_code(1);
    p.run().assert_code(0);
    assert_eq!(server.requests_to("/rss").len(), 1);
    server.route("/rss", [Reply::ok_as("application/rss+xml", feed(&[item(1, "Бірінші")], ""))]);
    p.feedmill(&["run", "--force"]).assert_code(0);
    assert_eq!(p.titles("all"), ["Бірінші"]);
    p.run().assert_code(0);
    assert_eq!(server.requests_to("/rss").len(), 3, "alive again: fetched on every run");
}
