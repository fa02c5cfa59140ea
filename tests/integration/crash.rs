//! Crash safety: `kill -9` at any moment leaves a consistent store and complete output files.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::test_server::{Reply, TestServer};
use crate::util::{config, Project};

fn feed(source: usize) -> String {
    let items: String = (1..=20)
        .map(|n| {
            format!(
                "<item><title>Жаңалық {source}-{n}</title><link>https://s{source}.example/{n}</link>\
                 <pubDate>Thu, 11 Jul 2019 {:02}:{:02}:00 +0600</pubDate><description>Мәтін {source} {n}</description></item>",
                n % 24,
                source % 60
            )
        })
        .collect();
    format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>s{source}</title>{items}</channel></rss>")
}

fn assert_consistent(p: &Project) {
    let db = rusqlite::Connection::open(p.path(".feedmill/state.db")).unwrap();
    let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let out = p.path("output/all");
    for f in ["rss.xml", "atom.xml"] {
        if let Ok(bytes) = std::fs::read(out.join(f)) {
            let text = String::from_utf8(bytes).expect("output is UTF-8");
            let feed = feedmill::parse::parse(&text).unwrap_or_else(|e| panic!("{f} is not a feed: {e}"));
            assert!(feed.warnings.is_empty(), "{f} is incomplete: {:?}", feed.warnings);
        }
    }
    if let Ok(text) = std::fs::read_to_string(out.join("feed.json")) {
        serde_json::from_str::<serde_json::Value>(&text).expect("feed.json is complete JSON");
    }
}

#[test]
fn kill_9_at_random_points_never_corrupts_anything() {
    let server = TestServer::start();
    let mut sources = String::new();
    for i in 0..40 {
        let path = format!("/s{i}");
        server.route(&path, [Reply::ok_as("application/rss+xml", feed(i)).delay(Duration::from_millis(20))]);
        sources.push_str(&format!("[[sources]]\nname = \"s{i}\"\nurl = \"{}\"\n\n", server.url(&path)));
    }
    let p = Project::new(&config(&sources));
    let mut rng = fastrand::Rng::with_seed(9);
    for round in 0..8 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_feedmill"))
            .args(["run", "--force", "-q"])
            .current_dir(p.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.u64(20..700)));
        let _ = child.kill();
        let _ = child.wait();
        assert_consistent(&p);
        // Every other round, a feed changes so there is something new to write.
        if round % 2 == 0 {
            server.route("/s0", [Reply::ok_as("application/rss+xml", feed(100 + round))]);
        }
    }
    p.feedmill(&["run", "--force"]).assert_code(0);
    assert_consistent(&p);
    assert_eq!(p.titles("all").len(), 100, "max_items entries after a clean run");
}
