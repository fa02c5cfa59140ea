//! Fetch behaviour seen from the outside: compression, redirects, retries, Retry-After, hangs, caps.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::test_server::{Reply, TestServer};
use crate::util::{config, fixture, source, Project};

fn kk_feed() -> Vec<u8> {
    fixture("feeds/rss20-kk.xml")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_redirect_and_a_retried_500() {
    let server = TestServer::start();
    server.route("/gz", vec![Reply::ok_as("application/rss+xml", gzip(&kk_feed())).header("Content-Encoding", "gzip")]);
    server.route("/old", vec![Reply::status(301).header("Location", "/new")]);
    server.route("/new", vec![Reply::ok_as("application/atom+xml", fixture("feeds/atom10-en.xml"))]);
    server.route("/flaky", vec![Reply::status(500), Reply::ok_as("application/json", fixture("feeds/feed11-ru.json"))]);
    let sources = source("gz", &server.url("/gz"))
        + &source("moved", &server.url("/old"))
        + &source("flaky", &server.url("/flaky"));
    let p = Project::new(&config(&sources));
    let run = p.run();
    run.assert_code(0);
    // The gzip request advertised compression.
    assert!(server.requests_to("/gz")[0].header("accept-encoding").is_some_and(|v| v.contains("gzip")));
    assert_eq!(server.requests_to("/new").len(), 1);
    assert_eq!(server.requests_to("/flaky").len(), 2, "one 500, one retry");
    let sources_seen: Vec<String> = p.json("all/feed.json")["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["_feedmill"]["source"].as_str().unwrap().to_owned())
        .collect();
    for s in ["gz", "moved", "flaky"] {
        assert!(sources_seen.iter().any(|x| x == s), "{s} missing: {sources_seen:?}");
    }
    assert!(server.requests_to("/gz")[0].header("user-agent").is_some_and(|ua| ua.starts_with("feedmill/")));
}

#[test]
fn retry_after_is_honoured() {
    let server = TestServer::start();
    server.route(
        "/busy",
        vec![Reply::status(429).header("Retry-After", "1"), Reply::ok_as("application/rss+xml", kk_feed())],
    );
    let p = Project::new(&config(&source("busy", &server.url("/busy"))));
    p.run().assert_code(0);
    let reqs = server.requests_to("/busy");
    assert_eq!(reqs.len(), 2);
    let gap = reqs[1].at - reqs[0].at;
    assert!(gap >= Duration::from_millis(950), "retried after {gap:?}, before Retry-After");
}

#[test]
fn a_retry_after_beyond_the_cap_fails_the_source_without_waiting() {
    let server = TestServer::start();
    server.route("/later", vec![Reply::status(503).header("Retry-After", "3600")]);
    server.route("/fine", vec![Reply::ok_as("application/rss+xml", kk_feed())]);
    let p = Project::new(&config(&(source("later", &server.url("/later")) + &source("fine", &server.url("/fine")))));
    let started = Instant::now();
    let run = p.run();
    run.assert_code(1);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(server.requests_to("/later").len(), 1);
    assert!(run.stderr.contains("error: later:") && run.stderr.contains("3600"), "{}", run.stderr);
}

#[test]
fn a_hanging_source_does_not_hold_up_the_others() {
    let server = TestServer::start();
    server.route("/hang", vec![Reply::status(200).hang()]);
    server.route("/ok", vec![Reply::ok_as("application/rss+xml", kk_feed())]);
    let cfg = config(&(source("hang", &server.url("/hang")) + &source("ok", &server.url("/ok"))))
        .replace("[fetch]\n", "[fetch]\ntries = 1\n");
    let p = Project::new(&cfg);
    let started = Instant::now();
    let run = p.run();
    let took = started.elapsed();
    run.assert_code(1);
    // timeout = 3 s in the test config; allow for process start and a loaded machine.
    assert!(took < Duration::from_secs(8), "run took {took:?}");
    assert!(run.stderr.contains("error: hang:"), "{}", run.stderr);
    assert!(!p.titles("all").is_empty(), "the healthy source was emitted");
}

/// With the default three tries, a host that accepts and never answers is asked once (one timeout, then
/// the source fails and backs off), while quick failures (5xx, a reset mid-body) are still retried.
#[test]
fn a_hung_source_is_asked_once_while_quick_failures_are_retried() {
    let server = TestServer::start();
    server.route("/hang", vec![Reply::status(200).hang()]);
    server.route("/busy", vec![Reply::status(503)]);
    server.route("/reset", vec![Reply::ok(vec![b'x'; 100_000]).reset_after(1000)]);
    server.route("/ok", vec![Reply::ok_as("application/rss+xml", kk_feed())]);
    let sources = source("hang", &server.url("/hang"))
        + &source("busy", &server.url("/busy"))
        + &source("reset", &server.url("/reset"))
        + &source("ok", &server.url("/ok"));
    let p = Project::new(&config(&sources));
    let run = p.run();
    run.assert_code(1);
    assert_eq!(server.requests_to("/hang").len(), 1, "a timed-out attempt is not retried");
    assert_eq!(server.requests_to("/busy").len(), 3, "a 503 is retried up to tries");
    assert_eq!(server.requests_to("/reset").len(), 3, "a reset is retried up to tries");
    let hang = run.stderr.lines().find(|l| l.starts_with("error: hang:")).unwrap_or_default();
    assert!(hang.ends_with("no complete response within 3s"), "{}", run.stderr);
    assert!(!p.titles("all").is_empty(), "the healthy source was emitted");
}

#[test]
fn an_oversized_body_is_cut_at_the_cap_with_a_clear_error() {
    let server = TestServer::start();
    let mut big = b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>big</title>".to_vec();
    while big.len() < 3 * 1024 * 1024 {
        big.extend_from_slice(b"<item><title>padding padding padding</title></item>");
    }
    big.extend_from_slice(b"</channel></rss>");
    server.route("/big", vec![Reply::ok_as("application/rss+xml", big)]);
    server.route("/ok", vec![Reply::ok_as("application/rss+xml", kk_feed())]);
    let cfg = config(&(source("big", &server.url("/big")) + &source("ok", &server.url("/ok"))))
        .replace("[fetch]\n", "[fetch]\nmax_body_size = \"1MiB\"\n");
    let p = Project::new(&cfg);
    let run = p.run();
    run.assert_code(1);
    assert!(run.stderr.contains("error: big:") && run.stderr.contains("1048576-byte limit"), "{}", run.stderr);
}

#[test]
fn a_failing_source_leaves_the_others_and_exit_code_1() {
    let server = TestServer::start();
    server.route("/ok", vec![Reply::ok_as("application/rss+xml", kk_feed())]);
    let p = Project::new(&config(&(source("gone", &server.url("/missing")) + &source("ok", &server.url("/ok")))));
    let run = p.run();
    run.assert_code(1);
    assert!(run.stderr.contains("error: gone:") && run.stderr.contains("404"), "{}", run.stderr);
    assert_eq!(server.requests_to("/missing").len(), 1, "a 404 is not retried");
    assert!(!p.titles("all").is_empty());
}

#[test]
fn the_ssrf_guard_refuses_a_private_source_and_leaves_files_alone() {
    let server = TestServer::start();
    server.route("/feed", vec![Reply::ok_as("application/rss+xml", kk_feed())]);
    let cfg = config(&(source("internal", &server.url("/feed")) + &source("file", "feed.xml")))
        .replace("[fetch]\n", "[fetch]\nallow_private_networks = false\n");
    let p = Project::new(&cfg);
    p.write("feed.xml", kk_feed());
    let run = p.run();
    run.assert_code(1);
    let expected = format!(
        "{}: refused: 127.0.0.1 is a loopback address and [fetch] allow_private_networks = false",
        server.url("/feed")
    );
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
    assert!(server.requests().is_empty(), "nothing reached the server");
    assert!(!p.titles("all").is_empty(), "the file source was read");
}

/// One run against a row of hostile servers: each fails its own source with a message that says what
/// went wrong, the healthy source is published, and the run ends with exit 1 well within the timeouts.
#[test]
fn hostile_servers_each_fail_their_own_source_with_a_clear_error() {
    let server = TestServer::start();
    server.route("/reset", vec![Reply::ok_as("application/rss+xml", kk_feed()).reset_after(200)]);
    server.route("/endless", vec![Reply::status(200).endless_chunked()]);
    server.route("/ftp", vec![Reply::redirect(302, "ftp://example.org/rss")]);
    server.route("/short", vec![Reply::ok_as("application/rss+xml", kk_feed()).content_length(40)]);
    server.route("/ok", vec![Reply::ok_as("application/rss+xml", kk_feed())]);
    let https = server.url("/tls").replacen("http://", "https://", 1);
    let sources = source("reset", &server.url("/reset"))
        + &source("endless", &server.url("/endless"))
        + &source("ftp", &server.url("/ftp"))
        + &source("short", &server.url("/short"))
        + &source("tls", &https)
        + &source("nxdomain", "http://feeds.example.invalid/rss")
        + &source("ok", &server.url("/ok"));
    let cfg = config(&sources).replace("[fetch]\n", "[fetch]\ntries = 1\nmax_body_size = \"1MiB\"\n");
    let p = Project::new(&cfg);
    let started = Instant::now();
    let run = p.run();
    assert!(started.elapsed() < Duration::from_secs(8), "took {:?}", started.elapsed());
    run.assert_code(1);
    let error = |name: &str| {
        let prefix = format!("error: {name}: ");
        let line = run.stderr.lines().find(|l| l.starts_with(&prefix));
        line.unwrap_or_else(|| panic!("no error for {name}:\n{}", run.stderr))[prefix.len()..].to_owned()
    };
    let url = |path: &str| server.url(path);
    assert!(
        error("reset").starts_with(&format!("{}: reading the body failed: ", url("/reset")))
            && error("reset").contains("reset by peer"),
        "{}",
        error("reset")
    );
    assert_eq!(error("endless"), format!("{}: body larger than the 1048576-byte limit", url("/endless")));
    assert_eq!(
        error("ftp"),
        format!("{}: bad redirect: Location `ftp://example.org/rss`: scheme `ftp:` is not followed", url("/ftp"))
    );
    assert_eq!(error("tls"), format!("{https}: the server does not speak TLS on this port (plain HTTP? try http://)"));
    assert!(
        error("nxdomain")
            .ends_with("feeds.example.invalid: no such host (names under .invalid never resolve, RFC 6761)"),
        "{}",
        error("nxdomain")
    );
    // Content-Length: 40 cuts the feed inside its prolog; what arrived is judged as a document.
    assert_eq!(error("short"), format!("{}: not a feed: the document is text with broken markup", url("/short")));
    assert!(!run.stderr.contains("error: ok:"), "{}", run.stderr);
    assert!(!p.titles("all").is_empty(), "the healthy source was published");
}
