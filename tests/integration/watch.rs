//! `feedmill watch`: refreshes when sources are due and stops cleanly on SIGTERM.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::test_server::{Reply, TestServer};
use crate::util::{config, Project};

fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn watch_refreshes_then_stops_cleanly_on_sigterm() {
    let server = TestServer::start();
    let feed = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>a</title>\
                <item><title>Бірінші</title><link>https://abai.kz/1</link></item></channel></rss>";
    server.route(
        "/rss",
        [Reply::ok_as("application/rss+xml", feed).header("ETag", "\"1\""), Reply::status(304).header("ETag", "\"1\"")],
    );
    let p = Project::new(&config(&format!("[[sources]]\nname = \"abai\"\nurl = \"{}\"\n", server.url("/rss"))));
    let child = Command::new(env!("CARGO_BIN_EXE_feedmill"))
        .args(["watch", "--every", "1s"])
        .current_dir(p.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("the first output", Duration::from_secs(20), || p.path("output/all/feed.json").is_file());
    // A second, conditional fetch about a second later: the loop is alive and polite.
    wait_until("a second fetch", Duration::from_secs(20), || server.requests_to("/rss").len() >= 2);
    let reqs = server.requests_to("/rss");
    assert_eq!(reqs[1].header("if-none-match"), Some("\"1\""));
    assert!(reqs[1].at - reqs[0].at >= Duration::from_millis(900), "refetched too soon");

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.trim_end().ends_with("stopped"), "{stderr}");
    assert_eq!(p.titles("all"), ["Бірінші"]);
}

#[test]
fn watch_says_when_outputs_cannot_be_written_and_keeps_going() {
    let server = TestServer::start();
    let feed = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>a</title>\
                <item><title>Бірінші</title><link>https://abai.kz/1</link></item></channel></rss>";
    server.route("/rss", [Reply::ok_as("application/rss+xml", feed)]);
    let p = Project::new(&config(&format!("[[sources]]\nname = \"abai\"\nurl = \"{}\"\n", server.url("/rss"))));
    // /proc refuses new folders even to root: every build fails to write.
    let child = Command::new(env!("CARGO_BIN_EXE_feedmill"))
        .args(["watch", "--every", "1s", "--output", "/proc/feedmill-out"])
        .current_dir(p.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("a second fetch", Duration::from_secs(20), || server.requests_to("/rss").len() >= 2);
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error: ") && stderr.contains("/proc/feedmill-out"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "the loop went on until SIGTERM: {stderr}");
}
