//! The fetcher against a local test server: bodies and validators, redirects, the guard, retries and
//! timeouts, body caps, per-host limits, files, a source's request settings and their secrets.

use std::io::Write as _;
use std::time::Instant as StdInstant;

use super::test_server::{Reply, TestServer};
use super::*;

const MIB: u64 = 1024 * 1024;

/// Short timeouts and backoff so failures are fast; the defaults are tested separately.
fn settings() -> FetchSettings {
    FetchSettings {
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(2),
        backoff_base: Duration::from_millis(10),
        ..FetchSettings::default()
    }
}

async fn get(
    settings: FetchSettings,
    server: &TestServer,
    path: &str,
    validators: &Validators,
) -> Result<Fetched, FetchError> {
    let fetcher = Fetcher::new(settings).unwrap();
    let url = Url::parse(&server.url(path)).unwrap();
    fetcher.fetch(&Location::Http(url), validators).await
}

fn body(result: Result<Fetched, FetchError>) -> Body {
    match result {
        Ok(Fetched::Body(body)) => body,
        other => panic!("expected a body, got {other:?}"),
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn defaults_match_the_design() {
    let s = FetchSettings::default();
    assert_eq!(s.connect_timeout, Duration::from_secs(10));
    assert_eq!(s.timeout, Duration::from_secs(30));
    assert_eq!(s.max_body_bytes, 20 * MIB);
    assert_eq!((s.tries, s.max_redirects), (3, 10));
    assert!(s.user_agent.starts_with("feedmill/0.1"));
    assert!(s.allow_private_networks, "local sources work out of the box");
}

#[tokio::test]
async fn ok_body_with_validators_and_caching_headers() {
    let server = TestServer::start();
    server.route(
        "/feed",
        [Reply::ok("<rss/>")
            .header("Content-Type", "application/rss+xml; charset=utf-8")
            .header("ETag", "\"v1\"")
            .header("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT")
            .header("Cache-Control", "public, max-age=600")
            .header("Expires", "Wed, 21 Oct 2015 07:38:00 GMT")],
    );
    let got = body(get(settings(), &server, "/feed", &Validators::default()).await);
    assert_eq!(got.bytes, b"<rss/>");
    assert_eq!(got.content_type.as_deref(), Some("application/rss+xml; charset=utf-8"));
    assert_eq!(got.validators.etag.as_deref(), Some("\"v1\""));
    assert_eq!(got.validators.last_modified.as_deref(), Some("Wed, 21 Oct 2015 07:28:00 GMT"));
    assert_eq!((got.meta.status, got.meta.attempts, got.meta.redirected_permanently), (Some(200), 1, false));
    assert_eq!(got.meta.final_url.map(String::from), Some(server.url("/feed")));
    assert_eq!(got.meta.cache_control_max_age, Some(Duration::from_secs(600)));
    assert_eq!(got.meta.expires.as_deref(), Some("Wed, 21 Oct 2015 07:38:00 GMT"));

    let requests = server.requests_to("/feed");
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "GET");
    assert_eq!(request.header("user-agent"), Some(USER_AGENT));
    assert!(request.header("accept").is_some_and(|a| a.starts_with("application/rss+xml, application/atom+xml")));
    assert!(request.header("accept-encoding").is_some_and(|a| a.contains("gzip") && a.contains("br")));
    assert_eq!(request.header("if-none-match"), None);
}

#[tokio::test]
async fn not_modified_is_an_outcome_and_refreshes_validators() {
    let server = TestServer::start();
    server.route("/feed", [Reply::status(304).header("ETag", "\"v2\"")]);
    let sent =
        Validators { etag: Some("\"v1\"".to_owned()), last_modified: Some("Wed, 21 Oct 2015 07:28:00 GMT".to_owned()) };
    match get(settings(), &server, "/feed", &sent).await {
        Ok(Fetched::NotModified { validators, meta }) => {
            assert_eq!(validators.etag.as_deref(), Some("\"v2\""));
            assert_eq!(validators.last_modified, sent.last_modified);
            assert_eq!((meta.status, meta.attempts), (Some(304), 1));
        }
        other => panic!("expected NotModified, got {other:?}"),
    }
    let request = &server.requests_to("/feed")[0];
    assert_eq!(request.header("if-none-match"), Some("\"v1\""));
    assert_eq!(request.header("if-modified-since"), Some("Wed, 21 Oct 2015 07:28:00 GMT"));
}

#[tokio::test]
async fn gzip_body_is_decoded() {
    let server = TestServer::start();
    let feed = "<rss>".to_owned() + &"<item>Новости</item>".repeat(500) + "</rss>";
    server.route("/feed", [Reply::ok(gzip(feed.as_bytes())).header("Content-Encoding", "gzip")]);
    let got = body(get(settings(), &server, "/feed", &Validators::default()).await);
    assert_eq!(got.bytes, feed.as_bytes());
}

#[tokio::test]
async fn redirects_are_followed_and_reported() {
    let server = TestServer::start();
    server.route("/old", [Reply::redirect(301, "/new")]);
    server.route("/new", [Reply::ok("moved")]);
    server.route("/temp", [Reply::redirect(302, "/old")]);

    let got = body(get(settings(), &server, "/old", &Validators::default()).await);
    assert_eq!(got.bytes, b"moved");
    assert_eq!(got.meta.final_url.map(String::from), Some(server.url("/new")));
    assert!(got.meta.redirected_permanently);

    let got = body(get(settings(), &server, "/temp", &Validators::default()).await);
    assert_eq!(got.meta.final_url.map(String::from), Some(server.url("/new")));
    assert!(!got.meta.redirected_permanently, "one temporary hop makes the chain temporary");
}

#[tokio::test]
async fn redirect_loops_stop_at_the_limit() {
    let server = TestServer::start();
    server.route("/loop", [Reply::redirect(302, "/loop")]);
    let settings = FetchSettings { max_redirects: 3, ..settings() };
    let err = get(settings, &server, "/loop", &Validators::default()).await.unwrap_err();
    assert!(matches!(err.kind(), FetchErrorKind::TooManyRedirects { limit: 3, .. }) && err.attempts() == 1, "{err:?}");
    assert_eq!(server.requests_to("/loop").len(), 4);
}

#[tokio::test]
async fn redirect_to_a_file_url_is_refused() {
    let server = TestServer::start();
    server.route("/evil", [Reply::redirect(302, "file:///etc/passwd")]);
    let err = get(settings(), &server, "/evil", &Validators::default()).await.unwrap_err();
    assert!(matches!(err.kind(), FetchErrorKind::BadRedirect { .. }), "{err:?}");
    assert_eq!(server.requests_to("/evil").len(), 1, "not retried");
}

fn guarded() -> FetchSettings {
    FetchSettings { allow_private_networks: false, ..settings() }
}

#[tokio::test]
async fn guard_refuses_a_loopback_target_before_connecting() {
    let server = TestServer::start();
    server.route("/feed", [Reply::ok("secret")]);
    let err = get(guarded(), &server, "/feed", &Validators::default()).await.unwrap_err();
    assert!(matches!(err.kind(), FetchErrorKind::Refused { .. }) && err.attempts() == 1, "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: refused: 127.0.0.1 is a loopback address and [fetch] allow_private_networks = false",
            server.url("/feed")
        )
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn guard_refuses_localhost_in_the_resolver() {
    let server = TestServer::start();
    server.route("/feed", [Reply::ok("secret")]);
    let port = Url::parse(&server.url("/")).unwrap().port().unwrap();
    let url = Url::parse(&format!("http://localhost:{port}/feed")).unwrap();
    let fetcher = Fetcher::new(guarded()).unwrap();
    let err = fetcher.fetch(&Location::Http(url), &Validators::default()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("http://localhost:{port}/feed: refused: localhost is this machine and [fetch] allow_private_networks = false")
    );
    assert_eq!(err.attempts(), 1, "not retried");
    assert!(server.requests().is_empty());
}

/// Every test server is on 127.0.0.1, so the guard here lets exactly that address through: what the
/// test shows is that each redirect hop is checked on its own.
#[tokio::test]
async fn guard_checks_every_redirect_hop() {
    let server = TestServer::start();
    let port = Url::parse(&server.url("/")).unwrap().port().unwrap();
    server.route("/feed", [Reply::ok("public")]);
    server.route("/metadata", [Reply::redirect(302, "http://169.254.169.254/latest/meta-data/")]);
    server.route("/mapped", [Reply::redirect(301, &format!("http://[::ffff:127.0.0.2]:{port}/feed"))]);
    server.route("/named", [Reply::redirect(302, &format!("http://localhost:{port}/feed"))]);
    let guard = guard::Guard { exempt: vec!["127.0.0.1".parse().unwrap()] };
    let fetcher = Fetcher::with_guard(guarded(), guard).unwrap();
    let fetch = |path: &str| {
        let location = Location::Http(Url::parse(&server.url(path)).unwrap());
        let fetcher = &fetcher;
        async move { fetcher.fetch(&location, &Validators::default()).await }
    };
    assert_eq!(body(fetch("/feed").await).bytes, b"public");
    for (path, refused) in [
        ("/metadata", "http://169.254.169.254/latest/meta-data/: refused: 169.254.169.254 is a link-local address"),
        ("/mapped", &format!("http://[::ffff:7f00:2]:{port}/feed: refused: ::ffff:127.0.0.2 is a loopback address")),
        ("/named", &format!("http://localhost:{port}/feed: refused: localhost is this machine")),
    ] {
        let err = fetch(path).await.unwrap_err();
        assert!(matches!(err.kind(), FetchErrorKind::Refused { .. }) && err.attempts() == 1, "{path}: {err:?}");
        assert!(err.to_string().starts_with(refused), "{path}: {err}");
    }
    assert_eq!(server.requests_to("/feed").len(), 1, "no redirect reached the server again");
}

#[tokio::test]
async fn server_error_then_success_is_retried() {
    let server = TestServer::start();
    server.route("/feed", [Reply::status(500), Reply::ok("fine")]);
    let got = body(get(settings(), &server, "/feed", &Validators::default()).await);
    assert_eq!(got.bytes, b"fine");
    assert_eq!(got.meta.attempts, 2);
    assert_eq!(server.requests_to("/feed").len(), 2);
}

#[tokio::test]
async fn persistent_server_error_gives_up_after_all_tries() {
    let server = TestServer::start();
    server.route("/feed", [Reply::status(503)]);
    let err = get(settings(), &server, "/feed", &Validators::default()).await.unwrap_err();
    assert!(matches!(err.kind(), FetchErrorKind::Status { status: 503, .. }) && err.attempts() == 3, "{err:?}");
    assert_eq!(err.to_string(), format!("{}: HTTP 503 Service Unavailable (after 3 attempts)", server.url("/feed")));
    assert_eq!(server.requests_to("/feed").len(), 3);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = TestServer::start();
    server.route("/feed", [Reply::status(429).header("Retry-After", "1"), Reply::ok("later")]);
    let got = body(get(settings(), &server, "/feed", &Validators::default()).await);
    assert_eq!((got.bytes.as_slice(), got.meta.attempts), (b"later".as_slice(), 2));
    let requests = server.requests_to("/feed");
    let gap = requests[1].at.duration_since(requests[0].at);
    assert!(gap >= Duration::from_secs(1), "retried after {gap:?}");
}

#[tokio::test]
async fn retry_after_above_the_cap_gives_up_at_once() {
    let server = TestServer::start();
    server.route("/feed", [Reply::status(503).header("Retry-After", "3600")]);
    let started = StdInstant::now();
    let err = get(settings(), &server, "/feed", &Validators::default()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    match err.kind() {
        FetchErrorKind::RetryAfterTooLong { wait, cap } => {
            assert_eq!((*wait, *cap, err.attempts()), (Duration::from_secs(3600), Duration::from_secs(60), 1));
        }
        other => panic!("expected RetryAfterTooLong, got {other:?}"),
    }
    assert!(err.to_string().contains("retry in 3600s"), "{err}");
    assert_eq!(server.requests_to("/feed").len(), 1);
}

#[tokio::test]
async fn silent_server_times_out_within_the_timeout() {
    let server = TestServer::start();
    server.route("/feed", [Reply::ok("never").hang()]);
    let settings = FetchSettings { timeout: Duration::from_secs(1), tries: 1, ..settings() };
    let started = StdInstant::now();
    let err = get(settings, &server, "/feed", &Validators::default()).await.unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err.kind(), FetchErrorKind::Timeout { after, .. } if *after == Duration::from_secs(1)), "{err:?}");
    assert!(took >= Duration::from_secs(1) && took < Duration::from_millis(2500), "took {took:?}");
}

/// A host that accepts and never answers costs one timeout, not `tries` of them: the attempt that
/// timed out is not repeated in this run.
#[tokio::test]
async fn a_hung_server_is_asked_once_per_run() {
    let server = TestServer::start();
    server.route("/feed", [Reply::ok("never").hang()]);
    let settings = FetchSettings { timeout: Duration::from_secs(1), tries: 3, ..settings() };
    let err = get(settings, &server, "/feed", &Validators::default()).await.unwrap_err();
    assert!(matches!(err.kind(), FetchErrorKind::Timeout { .. }) && err.attempts() == 1, "{err:?}");
    assert_eq!(err.to_string(), format!("{}: no complete response within 1s", server.url("/feed")));
    assert_eq!(server.requests_to("/feed").len(), 1, "a timed-out attempt is not retried");
}

/// The same for the two other timeouts: silence mid-body, and a body that trickles past the whole-request
/// budget.
#[tokio::test]
async fn stalled_and_slowloris_bodies_are_not_retried() {
    let server = TestServer::start();
    server.route("/stall", [Reply::ok(vec![b'x'; 1000]).stall(10, Duration::from_secs(5))]);
    server.route("/slow", [Reply::ok(vec![b'x'; 1000]).trickle(Duration::from_millis(200))]);
    let settings = FetchSettings {
        timeout: Duration::from_millis(1500),
        read_timeout: Duration::from_millis(300),
        tries: 3,
        ..settings()
    };
    let err = get(settings.clone(), &server, "/stall", &Validators::default()).await.unwrap_err();
    assert!(matches!(err.kind(), FetchErrorKind::Stalled { .. }) && err.attempts() == 1, "{err:?}");
    let settings = FetchSettings { read_timeout: Duration::from_secs(1), ..settings };
    let err = get(settings, &server, "/slow", &Validators::default()).await.unwrap_err();
    assert!(matches!(err.kind(), FetchErrorKind::Timeout { .. }) && err.attempts() == 1, "{err:?}");
    assert_eq!(server.requests_to("/stall").len(), 1);
    assert_eq!(server.requests_to("/slow").len(), 1);
}

/// A connect timeout cannot be staged on 127.0.0.1 (the kernel accepts at once), so the classification
/// is checked on the error reqwest gives for a timeout: `send_failure` must not ask for a retry.
#[tokio::test]
async fn a_reqwest_timeout_is_not_retried() {
    let server = TestServer::start();
    server.route("/feed", [Reply::ok("never").hang()]);
    let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_millis(100)).build().unwrap();
    let url = Url::parse(&server.url("/feed")).unwrap();
    let source = client.get(url.clone()).send().await.unwrap_err();
    assert!(source.is_timeout(), "{source:?}");
    assert_eq!(http::send_failure(&url, source).retry, retry::Retry::No);
}

#[tokio::test]
async fn trickling_body_trips_the_idle_timeout() {
    let server = TestServer::start();
    server.route("/feed", [Reply::ok(vec![b'x'; 1000]).stall(10, Duration::from_secs(5))]);
    let settings = FetchSettings { read_timeout: Duration::from_millis(300), tries: 1, ..settings() };
    let started = StdInstant::now();
    let err = get(settings, &server, "/feed", &Validators::default()).await.unwrap_err();
    assert!(matches!(err.kind(), FetchErrorKind::Stalled { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
}

// Multi-threaded: `wait_idle` blocks, and the client's connection task must run to hang up.
#[tokio::test(flavor = "multi_thread")]
async fn oversized_stream_stops_at_the_cap() {
    let server = TestServer::start();
    let total = 64 * MIB;
    server.route("/big", [Reply::status(200).zeros(total).until_close()]);
    let settings = FetchSettings { max_body_bytes: MIB, ..settings() };
    let err = get(settings, &server, "/big", &Validators::default()).await.unwrap_err();
    assert!(
        matches!(err.kind(), FetchErrorKind::TooLarge { limit } if *limit == MIB) && err.attempts() == 1,
        "{err:?}"
    );
    assert!(server.wait_idle(Duration::from_secs(5)));
    let requests = server.requests_to("/big");
    assert_eq!(requests.len(), 1, "not retried");
    // The client hung up near the cap; what was written beyond it sits in socket buffers.
    assert!(requests[0].body_bytes_sent < total / 4, "server wrote {}", requests[0].body_bytes_sent);
}

#[tokio::test]
async fn declared_oversized_body_is_refused_before_reading() {
    let server = TestServer::start();
    server.route("/big", [Reply::status(200).zeros(64 * MIB)]);
    let settings = FetchSettings { max_body_bytes: MIB, ..settings() };
    let err = get(settings, &server, "/big", &Validators::default()).await.unwrap_err();
    assert!(matches!(err.kind(), FetchErrorKind::TooLarge { .. }), "{err:?}");
}

#[tokio::test]
async fn gzip_bomb_is_capped_on_decoded_bytes() {
    let server = TestServer::start();
    let bomb = gzip(&vec![0; 50 * MIB as usize]);
    assert!(bomb.len() < MIB as usize);
    server.route("/bomb", [Reply::ok(bomb).header("Content-Encoding", "gzip")]);
    let settings = FetchSettings { max_body_bytes: MIB, ..settings() };
    let err = get(settings, &server, "/bomb", &Validators::default()).await.unwrap_err();
    assert!(matches!(err.kind(), FetchErrorKind::TooLarge { .. }), "{err:?}");
}

#[tokio::test]
async fn truncated_body_is_an_error() {
    let server = TestServer::start();
    server.route("/cut", [Reply::ok("only this").content_length(1000)]);
    let settings = FetchSettings { tries: 1, ..settings() };
    let err = get(settings, &server, "/cut", &Validators::default()).await.unwrap_err();
    assert!(matches!(err.kind(), FetchErrorKind::Body { .. }), "{err:?}");
}

#[tokio::test]
async fn content_length_shorter_than_the_body_is_believed() {
    let server = TestServer::start();
    server.route("/short", [Reply::ok("<rss>the rest is never read</rss>").content_length(5)]);
    let got = body(get(settings(), &server, "/short", &Validators::default()).await);
    // The framing says five bytes: the parser gets those and judges the truncated document.
    assert_eq!(got.bytes, b"<rss>");
}

#[tokio::test]
async fn connection_reset_mid_body_is_a_body_error_and_retried() {
    let server = TestServer::start();
    server.route("/reset", [Reply::ok(vec![b'x'; 100_000]).reset_after(1000)]);
    let settings = FetchSettings { tries: 2, ..settings() };
    let err = get(settings, &server, "/reset", &Validators::default()).await.unwrap_err();
    assert!(matches!(err.kind(), FetchErrorKind::Body { .. }) && err.attempts() == 2, "{err:?}");
    let chain = crate::error::error_chain(&err);
    assert!(
        chain.starts_with(&format!("{}: reading the body failed (after 2 attempts): ", server.url("/reset"))),
        "{chain}"
    );
    assert!(chain.contains("reset"), "{chain}");
    assert_eq!(server.requests_to("/reset").len(), 2, "a reset may be transient: retried");
}

/// A slowloris body: one byte every 200 ms is never idle for the 1 s read timeout, so only the
/// whole-request timeout (1.5 s) ends it (the same shape as one byte a second, scaled to keep it fast).
#[tokio::test]
async fn slowloris_body_is_cut_by_the_whole_request_timeout() {
    let server = TestServer::start();
    server.route("/slow", [Reply::ok(vec![b'x'; 1000]).trickle(Duration::from_millis(200))]);
    let settings = FetchSettings {
        timeout: Duration::from_millis(1500),
        read_timeout: Duration::from_secs(1),
        tries: 1,
        ..settings()
    };
    let started = StdInstant::now();
    let err = get(settings, &server, "/slow", &Validators::default()).await.unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(err.kind(), FetchErrorKind::Timeout { after, .. } if *after == Duration::from_millis(1500)),
        "{err:?}"
    );
    assert_eq!(err.to_string(), format!("{}: no complete response within 1.5s", server.url("/slow")));
    assert!(took >= Duration::from_millis(1500) && took < Duration::from_millis(2500), "took {took:?}");
}

// Multi-threaded: `wait_idle` blocks, and the client's connection task must run to hang up.
#[tokio::test(flavor = "multi_thread")]
async fn endless_chunked_body_stops_at_the_cap() {
    let server = TestServer::start();
    server.route("/endless", [Reply::status(200).endless_chunked()]);
    let settings = FetchSettings { max_body_bytes: MIB, ..settings() };
    let err = get(settings, &server, "/endless", &Validators::default()).await.unwrap_err();
    assert!(
        matches!(err.kind(), FetchErrorKind::TooLarge { limit } if *limit == MIB) && err.attempts() == 1,
        "{err:?}"
    );
    assert_eq!(err.to_string(), format!("{}: body larger than the 1048576-byte limit", server.url("/endless")));
    assert!(server.wait_idle(Duration::from_secs(5)), "the server was still writing: the client never hung up");
    let requests = server.requests_to("/endless");
    assert_eq!(requests.len(), 1, "not retried");
    assert!(requests[0].body_bytes_sent < 16 * MIB, "server wrote {}", requests[0].body_bytes_sent);
}

#[tokio::test]
async fn https_to_a_plain_http_port_is_named_and_not_retried() {
    let server = TestServer::start();
    let url = Url::parse(&server.url("/feed").replacen("http://", "https://", 1)).unwrap();
    let fetcher = Fetcher::new(settings()).unwrap();
    let started = StdInstant::now();
    let err = fetcher.fetch(&Location::Http(url.clone()), &Validators::default()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
    assert!(matches!(err.kind(), FetchErrorKind::NotTls) && err.attempts() == 1, "{err:?}");
    assert_eq!(
        crate::error::error_chain(&err),
        format!("{url}: the server does not speak TLS on this port (plain HTTP? try http://)")
    );
    let requests = server.requests();
    assert_eq!(requests.iter().map(|r| r.method.as_str()).collect::<Vec<_>>(), ["TLS"]);
}

/// `.invalid` (RFC 2606) never resolves, and feedmill's resolver answers that itself, so this test
/// sends no DNS query (and the test client ignores proxies): nothing leaves the machine.
#[tokio::test]
async fn an_invalid_host_name_fails_at_once_and_is_not_retried() {
    let url = Url::parse("http://feed.invalid/rss").unwrap();
    let fetcher = Fetcher::new(settings()).unwrap();
    let err = fetcher.fetch(&Location::Http(url), &Validators::default()).await.unwrap_err();
    assert!(matches!(err.kind(), FetchErrorKind::Connect { .. }) && err.attempts() == 1, "{err:?}");
    let chain = crate::error::error_chain(&err);
    assert!(chain.starts_with("http://feed.invalid/rss: cannot connect: "), "{chain}");
    assert!(chain.ends_with("feed.invalid: no such host (names under .invalid never resolve, RFC 6761)"), "{chain}");
}

#[tokio::test]
async fn redirects_to_other_schemes_are_refused() {
    let server = TestServer::start();
    server.route("/ftp", [Reply::redirect(301, "ftp://example.org/feed.xml")]);
    server.route("/data", [Reply::redirect(302, "data:application/rss+xml,<rss/>")]);
    for (path, location, scheme) in
        [("/ftp", "ftp://example.org/feed.xml", "ftp"), ("/data", "data:application/rss+xml,<rss/>", "data")]
    {
        let err = get(settings(), &server, path, &Validators::default()).await.unwrap_err();
        assert!(matches!(err.kind(), FetchErrorKind::BadRedirect { .. }) && err.attempts() == 1, "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("{}: bad redirect: Location `{location}`: scheme `{scheme}:` is not followed", server.url(path))
        );
        assert_eq!(server.requests_to(path).len(), 1, "not retried");
    }
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = TestServer::start();
    server.route("/gone", [Reply::status(404)]);
    let err = get(settings(), &server, "/gone", &Validators::default()).await.unwrap_err();
    assert!(matches!(err.kind(), FetchErrorKind::Status { status: 404, .. }) && err.attempts() == 1, "{err:?}");
    assert_eq!(err.to_string(), format!("{}: HTTP 404 Not Found", server.url("/gone")));
    assert_eq!(server.requests_to("/gone").len(), 1);
}

#[tokio::test]
async fn refused_connection_is_retried_then_reported() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = Url::parse(&format!("http://127.0.0.1:{port}/feed")).unwrap();
    let fetcher = Fetcher::new(settings()).unwrap();
    let err = fetcher.fetch(&Location::Http(url), &Validators::default()).await.unwrap_err();
    assert!(matches!(err.kind(), FetchErrorKind::Connect { .. }) && err.attempts() == 3, "{err:?}");
    assert!(err.to_string().contains(&format!("127.0.0.1:{port}/feed: cannot connect")), "{err}");
}

#[tokio::test]
async fn per_host_limit_is_respected() {
    let server = TestServer::start();
    server.route("/slow", [Reply::ok("done").delay(Duration::from_millis(200))]);
    let fetcher = Arc::new(Fetcher::new(FetchSettings { per_host: 2, ..settings() }).unwrap());
    let location = Location::Http(Url::parse(&server.url("/slow")).unwrap());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (fetcher, location) = (Arc::clone(&fetcher), location.clone());
        tasks.spawn(async move { fetcher.fetch(&location, &Validators::default()).await });
    }
    while let Some(joined) = tasks.join_next().await {
        assert_eq!(body(joined.unwrap()).bytes, b"done");
    }
    assert_eq!(server.requests_to("/slow").len(), 6);
    assert_eq!(server.max_in_flight(), 2);
}

#[tokio::test]
async fn files_by_path_and_by_file_url() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("feed.xml"), "<rss/>").unwrap();
    let fetcher = Fetcher::new(FetchSettings { max_body_bytes: 10, ..settings() }).unwrap();
    let file_url = Url::from_file_path(dir.path().join("feed.xml")).unwrap().to_string();
    for input in ["feed.xml", file_url.as_str()] {
        let location = Location::parse(input, dir.path()).unwrap();
        assert_eq!(location, Location::File(dir.path().join("feed.xml")));
        let got = body(fetcher.fetch(&location, &Validators::default()).await);
        assert_eq!(got.bytes, b"<rss/>");
        assert_eq!((got.meta.status, got.content_type, got.meta.final_url), (None, None, None));
    }

    std::fs::write(dir.path().join("big.xml"), "<rss>too long</rss>").unwrap();
    let err = fetcher.fetch(&Location::File(dir.path().join("big.xml")), &Validators::default()).await;
    assert!(
        matches!(err.as_ref().map_err(FetchError::kind), Err(FetchErrorKind::FileTooLarge { limit: 10 })),
        "{err:?}"
    );

    let missing = dir.path().join("missing.xml");
    let err = fetcher.fetch(&Location::File(missing.clone()), &Validators::default()).await.unwrap_err();
    assert!(matches!(err.kind(), FetchErrorKind::File { .. }), "{err:?}");
    assert_eq!(err.target(), Some(&Location::File(missing)));
    assert!(err.to_string().contains("missing.xml"));
}

fn private_request(server: &TestServer) -> RequestSettings {
    let mut key = HeaderValue::from_static("key-3e1f");
    key.set_sensitive(true);
    RequestSettings {
        user_agent: Some(HeaderValue::from_static("PrivateReader/1.0")),
        headers: vec![(header::HeaderName::from_static("x-api-key"), key)],
        auth: Some(BasicAuth { username: "alice".into(), password: crate::redact::Secret::new("pw-9d2c".into()) }),
        proxy: None,
        credentials_host: Url::parse(&server.url("/")).unwrap().host_str().map(str::to_owned),
    }
}

#[tokio::test]
async fn a_sources_user_agent_headers_and_auth_reach_the_server() {
    let server = TestServer::start();
    server.route("/private", [Reply::ok("<rss/>")]);
    let fetcher = Fetcher::new(settings()).unwrap();
    let location = Location::Http(Url::parse(&server.url("/private")).unwrap());
    let got = fetcher.fetch_with(&location, &Validators::default(), &private_request(&server)).await;
    assert_eq!(body(got).bytes, b"<rss/>");
    let request = &server.requests_to("/private")[0];
    assert_eq!(request.header("user-agent"), Some("PrivateReader/1.0"));
    assert_eq!(request.header("x-api-key"), Some("key-3e1f"));
    // base64("alice:pw-9d2c")
    assert_eq!(request.header("authorization"), Some("Basic YWxpY2U6cHctOWQyYw=="));
    assert!(request.header("accept").is_some(), "the shared client's defaults stay");

    // The shared client is unchanged for everyone else.
    body(fetcher.fetch(&location, &Validators::default()).await);
    let plain = &server.requests_to("/private")[1];
    assert_eq!((plain.header("user-agent"), plain.header("authorization")), (Some(USER_AGENT), None));
}

#[tokio::test]
async fn credentials_are_not_sent_to_another_host_after_a_redirect() {
    let server = TestServer::start();
    let port = Url::parse(&server.url("/")).unwrap().port().unwrap();
    // `localhost` and 127.0.0.1 are one server, but two hosts to the fetcher.
    server.route("/private", [Reply::redirect(302, &format!("http://localhost:{port}/elsewhere"))]);
    server.route("/elsewhere", [Reply::ok("<rss/>")]);
    let fetcher = Fetcher::new(settings()).unwrap();
    let location = Location::Http(Url::parse(&server.url("/private")).unwrap());
    body(fetcher.fetch_with(&location, &Validators::default(), &private_request(&server)).await);
    let first = &server.requests_to("/private")[0];
    assert!(first.header("authorization").is_some() && first.header("x-api-key").is_some());
    let hop = &server.requests_to("/elsewhere")[0];
    assert_eq!((hop.header("authorization"), hop.header("x-api-key")), (None, None));
    assert_eq!(hop.header("user-agent"), Some("PrivateReader/1.0"), "the user agent is no secret");
}

/// The test server plays the proxy: a request for an http:// URL through a proxy is sent to the proxy
/// with the whole URL as its target. `.invalid` never resolves, so only the proxy can answer it.
#[tokio::test]
async fn requests_go_through_the_sources_proxy_or_the_global_one() {
    let proxy = TestServer::start();
    proxy.route("http://feed.invalid/rss", [Reply::ok("<rss>via proxy</rss>")]);
    let location = Location::Http(Url::parse("http://feed.invalid/rss").unwrap());
    let proxy_url = proxy.url("").replacen("http://", "http://puser:ppass-61@", 1);

    let fetcher = Fetcher::new(settings()).unwrap();
    let request = RequestSettings { proxy: Some(crate::redact::Secret::new(proxy_url.clone())), ..Default::default() };
    let got = fetcher.fetch_with(&location, &Validators::default(), &request).await;
    assert_eq!(body(got).bytes, b"<rss>via proxy</rss>");
    let seen = &proxy.requests_to("http://feed.invalid/rss")[0];
    assert_eq!(seen.header("host"), Some("feed.invalid"));
    // base64("puser:ppass-61")
    assert_eq!(seen.header("proxy-authorization"), Some("Basic cHVzZXI6cHBhc3MtNjE="));
    // Direct, the same fetcher cannot reach the name at all.
    let direct = fetcher.fetch(&location, &Validators::default()).await.unwrap_err();
    assert!(matches!(direct.kind(), FetchErrorKind::Connect { .. }), "{direct:?}");

    let global = FetchSettings { proxy: Some(crate::redact::Secret::new(proxy_url)), ..settings() };
    let fetcher = Fetcher::new(global).unwrap();
    assert_eq!(body(fetcher.fetch(&location, &Validators::default()).await).bytes, b"<rss>via proxy</rss>");
    assert_eq!(proxy.requests_to("http://feed.invalid/rss").len(), 2);
}

#[tokio::test]
async fn errors_never_show_the_urls_credentials() {
    let server = TestServer::start();
    server.route("/feed?token=tok-c0ffee", [Reply::status(500)]);
    let url = server.url("/feed?token=tok-c0ffee").replacen("http://", "http://bob:pw-c0ffee@", 1);
    let fetcher = Fetcher::new(FetchSettings { tries: 1, ..settings() }).unwrap();
    let err = fetcher.fetch(&Location::Http(Url::parse(&url).unwrap()), &Validators::default()).await.unwrap_err();
    let chain = crate::error::error_chain(&err);
    assert_eq!(
        chain,
        format!(
            "{}: HTTP 500 Internal Server Error",
            server.url("/feed?token=***").replacen("http://", "http://***@", 1)
        )
    );
    assert_eq!(
        server.requests_to("/feed?token=tok-c0ffee")[0].header("authorization"),
        Some("Basic Ym9iOnB3LWMwZmZlZQ==")
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let closed = Url::parse(&format!("http://bob:pw-c0ffee@127.0.0.1:{port}/f?key=tok-c0ffee")).unwrap();
    let err = fetcher.fetch(&Location::Http(closed), &Validators::default()).await.unwrap_err();
    let chain = crate::error::error_chain(&err);
    assert!(chain.starts_with(&format!("http://***@127.0.0.1:{port}/f?key=***: cannot connect")), "{chain}");
    assert!(!chain.contains("c0ffee"), "{chain}");
}

#[test]
fn locations_parse() {
    let base = Path::new("/etc/feedmill");
    let http = Location::parse(" https://example.org/rss ", base).unwrap();
    assert_eq!(http, Location::Http(Url::parse("https://example.org/rss").unwrap()));
    assert_eq!(http.to_string(), "https://example.org/rss");
    assert_eq!(Location::parse("feeds/a.xml", base).unwrap(), Location::File(base.join("feeds/a.xml")));
    assert_eq!(Location::parse("/srv/a.xml", base).unwrap(), Location::File(PathBuf::from("/srv/a.xml")));
    assert_eq!(Location::parse("file:///srv/a%20b.xml", base).unwrap(), Location::File(PathBuf::from("/srv/a b.xml")));

    let err = Location::parse("ftp://example.org/rss", base).unwrap_err();
    assert!(matches!(&err, LocationError::UnsupportedScheme { scheme, .. } if scheme == "ftp"), "{err:?}");
    assert!(err.to_string().contains("ftp:"));
    assert!(matches!(Location::parse("http://exa mple.org/", base), Err(LocationError::InvalidUrl { .. })));
    assert!(matches!(Location::parse("file://remote-host/a.xml", base), Err(LocationError::NotALocalPath { .. })));
    assert!(matches!(Location::parse("  ", base), Err(LocationError::Empty)));
}
