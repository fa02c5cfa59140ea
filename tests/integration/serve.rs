//! `feedmill serve`: types, validators, 304s, compression, traversal, shutdown, `/metrics`, `/healthz`.
//!
//! Requests go over a raw TCP socket, not an HTTP client library: a client normalizes `..` and
//! `%2e%2e` out of a URL before sending it, and the traversal tests need them sent as written.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::test_server::{Reply, TestServer};
use crate::util::{config, fixture, source, Project};

/// One HTTP response as it came off the wire (the body still encoded).
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A keep-alive HTTP/1.1 connection.
struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Conn { reader: BufReader::new(stream) }
    }

    fn send(&mut self, method: &str, target: &str, headers: &[(&str, &str)]) -> Response {
        let mut req = format!("{method} {target} HTTP/1.1\r\nHost: feedmill.test\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        self.reader.get_mut().write_all(req.as_bytes()).unwrap();
        self.read_response(method == "HEAD")
    }

    fn read_response(&mut self, head: bool) -> Response {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{line:?}"));
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line).unwrap();
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').unwrap();
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
        let mut r = Response { status, headers, body: Vec::new() };
        if head || status == 304 || status == 204 {
            return r;
        }
        if r.header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
            loop {
                line.clear();
                self.reader.read_line(&mut line).unwrap();
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap(), 16).unwrap();
                let mut chunk = vec![0; size + 2];
                self.reader.read_exact(&mut chunk).unwrap();
                if size == 0 {
                    break;
                }
                r.body.extend_from_slice(&chunk[..size]);
            }
        } else if let Some(len) = r.header("content-length") {
            r.body = vec![0; len.parse().unwrap()];
            self.reader.read_exact(&mut r.body).unwrap();
        } else {
            self.reader.read_to_end(&mut r.body).unwrap();
        }
        r
    }
}

/// One request on its own connection.
pub(crate) fn get(addr: SocketAddr, target: &str, headers: &[(&str, &str)]) -> Response {
    Conn::open(addr).send("GET", target, headers)
}

/// A running `feedmill serve`, stopped by SIGTERM (or killed when dropped).
pub(crate) struct Served {
    child: Option<Child>,
    pub(crate) addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Served {
    pub(crate) fn start(p: &Project, args: &[&str]) -> Served {
        Served::start_with_env(p, args, &[])
    }

    /// [`Served::start`] with more environment (`FEEDMILL_STATE_URL`).
    pub(crate) fn start_with_env(p: &Project, args: &[&str], env: &[(&str, &str)]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_feedmill"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .current_dir(p.dir.path())
            .env_remove("FEEDMILL_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut addr = None;
        for line in lines.by_ref() {
            let line = line.unwrap();
            stderr.lock().unwrap().push_str(&format!("{line}\n"));
            if let Some(a) = line.strip_prefix("listening on http://") {
                addr = Some(a.parse().unwrap());
                break;
            }
        }
        let Some(addr) = addr else {
            let _ = child.kill();
            panic!("no `listening on` line:\n{}", stderr.lock().unwrap());
        };
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        Served { child: Some(child), addr, stderr }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    pub(crate) fn sigterm(&self) {
        let status = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit: its exit code and everything it wrote on stderr.
    pub(crate) fn wait(mut self, limit: Duration) -> (Option<i32>, String) {
        let mut child = self.child.take().unwrap();
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                // Let the reader thread catch the last lines.
                std::thread::sleep(Duration::from_millis(100));
                return (status.code(), self.stderr.lock().unwrap().clone());
            }
            if start.elapsed() > limit {
                let _ = child.kill();
                panic!("still running after {limit:?}:\n{}", self.stderr.lock().unwrap());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A project with two local feeds, run once: `output/` holds every kind of file.
fn built() -> Project {
    let p = Project::new(&config(&(source("abai", "abai.xml") + &source("blog", "blog.xml"))));
    p.write("abai.xml", fixture("feeds/rss20-kk.xml"));
    p.write("blog.xml", fixture("feeds/atom10-en.xml"));
    p.run().assert_code(0);
    p
}

/// Weak: one tag covers the gzip, brotli and identity bodies of a file.
fn etag_of(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"")
}

fn file_bytes(p: &Project, rel: &str) -> Vec<u8> {
    std::fs::read(p.path("output").join(rel)).unwrap()
}

fn last_modified(p: &Project, rel: &str) -> String {
    let modified = std::fs::metadata(p.path("output").join(rel)).unwrap().modified().unwrap();
    httpdate::fmt_http_date(modified)
}

#[test]
fn each_output_goes_out_with_its_type_and_validators() {
    let p = built();
    let served = Served::start(&p, &[]);
    for (target, rel, ty) in [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/index.html", "index.html", "text/html; charset=utf-8"),
        ("/sources.opml", "sources.opml", "text/x-opml; charset=utf-8"),
        ("/all/rss.xml", "all/rss.xml", "application/rss+xml; charset=utf-8"),
        ("/all/atom.xml", "all/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/all/feed.json", "all/feed.json", "application/feed+json; charset=utf-8"),
    ] {
        let r = get(served.addr, target, &[]);
        assert_eq!(r.status, 200, "{target}");
        assert_eq!(r.header("content-type"), Some(ty), "{target}");
        assert_eq!(r.body, file_bytes(&p, rel), "{target}");
        assert_eq!(r.header("etag"), Some(etag_of(&r.body).as_str()), "{target}");
        assert_eq!(r.header("last-modified"), Some(last_modified(&p, rel).as_str()), "{target}");
        assert_eq!(r.header("cache-control"), Some("public, max-age=300"), "{target}");
        assert_eq!(r.header("vary"), Some("accept-encoding"), "{target}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{target}");
        assert_eq!(r.header("content-encoding"), None, "{target}: not asked for");
    }
    assert_eq!(get(served.addr, "/nothing.xml", &[]).status, 404);
    let r = Conn::open(served.addr).send("POST", "/all/rss.xml", &[("Content-Length", "0")]);
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, HEAD")));
}

#[test]
fn conditional_requests_get_304_and_head_gets_the_get_headers() {
    let p = built();
    let served = Served::start(&p, &[]);
    let full = get(served.addr, "/all/atom.xml", &[]);
    let etag = full.header("etag").unwrap().to_owned();
    let modified = full.header("last-modified").unwrap().to_owned();
    let earlier = httpdate::fmt_http_date(httpdate::parse_http_date(&modified).unwrap() - Duration::from_secs(10));

    let r = get(served.addr, "/all/atom.xml", &[("If-None-Match", &etag)]);
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    assert_eq!(r.header("cache-control"), Some("public, max-age=300"));
    // Weak comparison: the tag's strong spelling matches too.
    assert_eq!(get(served.addr, "/all/atom.xml", &[("If-None-Match", &format!("\"x\", {}", &etag[2..]))]).status, 304);
    assert_eq!(get(served.addr, "/all/atom.xml", &[("If-None-Match", "\"stale\"")]).status, 200);
    assert_eq!(get(served.addr, "/all/atom.xml", &[("If-Modified-Since", &modified)]).status, 304);
    assert_eq!(get(served.addr, "/all/atom.xml", &[("If-Modified-Since", &earlier)]).status, 200);
    let r = get(served.addr, "/all/atom.xml", &[("If-None-Match", "\"stale\""), ("If-Modified-Since", &modified)]);
    assert_eq!(r.status, 200, "If-None-Match takes precedence");
    assert_eq!(r.body, full.body);

    // HEAD: the headers of a GET, compressed or not, and no body.
    for enc in ["identity", "gzip"] {
        let mut conn = Conn::open(served.addr);
        let head = conn.send("HEAD", "/all/atom.xml", &[("Accept-Encoding", enc)]);
        let get = conn.send("GET", "/all/atom.xml", &[("Accept-Encoding", enc)]);
        assert_eq!((head.status, get.status), (200, 200));
        for name in ["content-type", "etag", "last-modified", "cache-control", "vary", "content-encoding"] {
            assert_eq!(head.header(name), get.header(name), "{enc}: {name}");
        }
        assert!(head.body.is_empty());
    }
    let r = Conn::open(served.addr).send("HEAD", "/all/atom.xml", &[("If-None-Match", &etag)]);
    assert_eq!(r.status, 304);

    // A rewritten file gets a new ETag at once.
    std::fs::write(p.path("output/all/atom.xml"), "<feed/>").unwrap();
    let r = get(served.addr, "/all/atom.xml", &[("If-None-Match", &etag)]);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"<feed/>"[..]));
    assert_eq!(r.header("etag"), Some(etag_of(b"<feed/>").as_str()));
    // The stand-in is this test's, not feedmill's: put the real file back for the strict readers.
    std::fs::write(p.path("output/all/atom.xml"), &full.body).unwrap();
}

#[test]
fn bodies_are_compressed_as_the_client_asks() {
    let p = built();
    let served = Served::start(&p, &[]);
    let plain = file_bytes(&p, "all/feed.json");

    let r = get(served.addr, "/all/feed.json", &[("Accept-Encoding", "gzip")]);
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(r.header("vary"), Some("accept-encoding"));
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(r.body.as_slice()).read_to_end(&mut decoded).unwrap();
    assert_eq!(decoded, plain);
    assert!(r.body.len() < plain.len());

    let r = get(served.addr, "/all/feed.json", &[("Accept-Encoding", "br")]);
    assert_eq!(r.header("content-encoding"), Some("br"));
    let mut decoded = Vec::new();
    brotli::Decompressor::new(r.body.as_slice(), 4096).read_to_end(&mut decoded).unwrap();
    assert_eq!(decoded, plain);

    let r = get(served.addr, "/all/feed.json", &[("Accept-Encoding", "gzip;q=0, br;q=0")]);
    assert_eq!((r.header("content-encoding"), &r.body), (None, &plain));
    let r = get(served.addr, "/all/feed.json", &[("Accept-Encoding", "gzip;q=0.5, br")]);
    assert_eq!(r.header("content-encoding"), Some("br"));
    // One weak tag for every encoding (a strong one would promise the same bytes), and it revalidates
    // whichever encoding the cache holds.
    assert_eq!(r.header("etag"), Some(etag_of(&plain).as_str()));
    let gz = get(served.addr, "/all/feed.json", &[("Accept-Encoding", "gzip"), ("If-None-Match", &etag_of(&plain))]);
    assert_eq!(gz.status, 304);
}

#[test]
fn a_feed_folder_leads_to_the_index_that_lists_its_files() {
    let p = built();
    let served = Served::start(&p, &[]);
    let r = get(served.addr, "/all", &[]);
    assert_eq!((r.status, r.header("location")), (301, Some("/all/")));
    let r = get(served.addr, "/all/", &[]);
    assert_eq!((r.status, r.header("location")), (302, Some("/")));
    let index = get(served.addr, "/", &[]);
    assert_eq!(index.status, 200);
    assert!(index.text().contains("all/rss.xml"), "the index lists the feed's files");
}

#[test]
fn no_request_path_leads_out_of_the_output_folder() {
    let p = built();
    let secret = "TOP-SECRET-beside-the-output";
    p.write("secret.txt", secret);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(p.path("secret.txt"), p.path("output/leak.txt")).unwrap();
        std::os::unix::fs::symlink(p.dir.path(), p.path("output/up")).unwrap();
        std::os::unix::fs::symlink("/etc", p.path("output/etc")).unwrap();
        // Inside the folder, a symlink is served.
        std::os::unix::fs::symlink(p.path("output/all/rss.xml"), p.path("output/latest.xml")).unwrap();
    }
    let served = Served::start(&p, &[]);
    let absolute = p.path("secret.txt").display().to_string();
    let mut attempts: Vec<String> = [
        "/../secret.txt",
        "/all/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/.%2e/secret.txt",
        "/%2e./secret.txt",
        "/all/%2e%2e/%2e%2e/secret.txt",
        "/%2e%2e%2fsecret.txt",
        "/all%2f..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/all/..%5c..%5csecret.txt",
        "/%5c..%5csecret.txt",
        "/..%255csecret.txt",
        "/%252e%252e/secret.txt",
        "/secret.txt%00.html",
        "/etc/passwd",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/leak.txt",
        "/up/secret.txt",
        "/up/",
        "/etc/hostname",
        "/../../../../../../etc/passwd",
        "http://feedmill.test/../secret.txt",
    ]
    .map(str::to_owned)
    .to_vec();
    attempts.push(absolute.clone());
    attempts.push(format!("/{}", absolute.replace('/', "%2f")));
    for target in &attempts {
        let r = get(served.addr, target, &[]);
        assert!(matches!(r.status, 400 | 404), "{target}: {} {}", r.status, r.text());
        assert!(!r.text().contains(secret) && !r.text().contains("root:"), "{target} leaked: {}", r.text());
    }
    #[cfg(unix)]
    assert_eq!(get(served.addr, "/latest.xml", &[]).body, file_bytes(&p, "all/rss.xml"));
}

#[test]
fn sigterm_stops_serve_promptly_with_a_keep_alive_connection_open() {
    let p = built();
    let served = Served::start(&p, &[]);
    let mut idle = Conn::open(served.addr);
    assert_eq!(idle.send("GET", "/", &[]).status, 200);
    let addr = served.addr;
    let started = Instant::now();
    served.sigterm();
    let (code, stderr) = served.wait(Duration::from_secs(10));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(stderr.trim_end().ends_with("stopped"), "{stderr}");
    assert!(TcpStream::connect(addr).is_err(), "still accepting");
}

/// Parses a `/metrics` page with a Prometheus text-format parser: (name, label `source`) → value.
fn scrape(addr: SocketAddr) -> Vec<(String, Option<String>, f64)> {
    let r = get(addr, "/metrics", &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    let text = r.text();
    let parsed = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
    assert!(parsed.docs.contains_key("feedmill_fetch_duration_seconds"), "{text}");
    parsed
        .samples
        .into_iter()
        .filter_map(|s| {
            let v = match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                prometheus_parse::Value::Histogram(_) | prometheus_parse::Value::Summary(_) => return None,
            };
            Some((s.metric, s.labels.get("source").map(str::to_owned), v))
        })
        .collect()
}

fn value(samples: &[(String, Option<String>, f64)], name: &str, source: Option<&str>) -> Option<f64> {
    samples.iter().find(|(n, s, _)| n == name && s.as_deref() == source).map(|(_, _, v)| *v)
}

#[test]
fn metrics_without_watch_come_from_the_state_and_serve_takes_no_lock() {
    let p = Project::new(&config(&(source("abai", "abai.xml") + &source("gone", "missing.xml"))));
    p.write("abai.xml", fixture("feeds/rss20-kk.xml"));
    let served = Served::start(&p, &[]);
    let r = get(served.addr, "/healthz", &[]);
    assert_eq!(r.status, 503);
    assert!(r.text().starts_with("no index.html in "), "{}", r.text());
    let m = scrape(served.addr);
    assert_eq!(value(&m, "feedmill_sources", None), Some(2.0));
    assert_eq!(value(&m, "feedmill_sources_failing", None), Some(0.0), "no state yet");
    assert!(!p.path(".feedmill/state.db").exists(), "a scrape creates no state");

    // A plain serve leaves the state to cron runs: they neither wait nor fail.
    p.run().assert_code(1);
    p.feedmill(&["run", "--force"]).assert_code(1);
    let r = get(served.addr, "/healthz", &[]);
    assert_eq!((r.status, r.text().as_str()), (200, "ok\n"));
    let m = scrape(served.addr);
    let entries = p.titles("all").len() as f64;
    assert_eq!(value(&m, "feedmill_build_info", None), Some(1.0));
    assert_eq!(value(&m, "feedmill_sources", None), Some(2.0));
    assert_eq!(value(&m, "feedmill_sources_failing", None), Some(1.0));
    assert_eq!(value(&m, "feedmill_source_failures", Some("gone")), Some(2.0));
    assert_eq!(value(&m, "feedmill_source_failures", Some("abai")), Some(0.0));
    assert_eq!(value(&m, "feedmill_source_entries", Some("abai")), Some(entries));
    assert_eq!(value(&m, "feedmill_source_entries", Some("gone")), Some(0.0));
    let last = value(&m, "feedmill_source_last_success_timestamp_seconds", Some("abai")).unwrap();
    let age = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64() - last;
    assert!((0.0..120.0).contains(&age), "last success {age}s ago");
    assert_eq!(value(&m, "feedmill_source_last_success_timestamp_seconds", Some("gone")), None);
    assert_eq!(value(&m, "feedmill_refreshes_total", None), Some(0.0));
    assert_eq!(value(&m, "feedmill_fetch_duration_seconds_count", None), Some(0.0));
    assert_eq!(value(&m, "feedmill_entries_new_total", Some("abai")), Some(0.0), "counts this process's refreshes");
}

const FEED_1: &str = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>a</title>\
                      <item><title>Бірінші</title><link>https://abai.kz/1</link></item></channel></rss>";
const FEED_2: &str = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>a</title>\
                      <item><title>Екінші</title><link>https://abai.kz/2</link></item>\
                      <item><title>Бірінші</title><link>https://abai.kz/1</link></item></channel></rss>";

#[test]
fn serve_watch_refreshes_counts_and_holds_the_lock() {
    let server = TestServer::start();
    server.route(
        "/rss",
        [
            Reply::ok_as("application/rss+xml", FEED_1).header("ETag", "\"1\""),
            Reply::status(304).header("ETag", "\"1\""),
        ],
    );
    let p = Project::new(&config(&source("abai", &server.url("/rss"))));
    let served = Served::start(&p, &["--watch", "--every", "1s"]);
    wait_until("a healthy server", Duration::from_secs(20), || get(served.addr, "/healthz", &[]).status == 200);
    wait_until("a second refresh", Duration::from_secs(20), || server.requests_to("/rss").len() >= 2);
    wait_until("the second refresh counted", Duration::from_secs(20), || {
        value(&scrape(served.addr), "feedmill_refreshes_total", None) >= Some(2.0)
    });

    let m = scrape(served.addr);
    let refreshes = value(&m, "feedmill_refreshes_total", None).unwrap();
    assert_eq!(value(&m, "feedmill_sources", None), Some(1.0));
    assert_eq!(value(&m, "feedmill_sources_failing", None), Some(0.0));
    assert_eq!(value(&m, "feedmill_entries_new_total", Some("abai")), Some(1.0));
    assert_eq!(value(&m, "feedmill_entries_duplicate_total", Some("abai")), Some(0.0));
    assert_eq!(value(&m, "feedmill_source_entries", Some("abai")), Some(1.0));
    assert!(value(&m, "feedmill_source_last_success_timestamp_seconds", Some("abai")).is_some());
    assert!(value(&m, "feedmill_last_refresh_timestamp_seconds", None).is_some());
    let fetched = value(&m, "feedmill_fetch_duration_seconds_count", None).unwrap();
    assert!(fetched >= 2.0 && fetched <= refreshes, "{fetched} fetches in {refreshes} refreshes");
    assert!(value(&m, "feedmill_fetch_duration_seconds_sum", None).unwrap() > 0.0);
    let r = get(served.addr, "/all/feed.json", &[]);
    assert_eq!(r.header("cache-control"), Some("public, max-age=1"), "max-age follows --every");

    // It writes the state, so it holds the run lock.
    let run = p.run();
    run.assert_code(2);
    assert!(run.stderr.contains(&format!("(pid {})", served.pid())), "{}", run.stderr);

    served.sigterm();
    let (code, stderr) = served.wait(Duration::from_secs(20));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.trim_end().ends_with("stopped"), "{stderr}");
    p.run().assert_code(0);
}

#[test]
fn sigterm_during_a_refresh_stops_accepting_then_lets_it_finish() {
    const SLOW: Duration = Duration::from_secs(8);
    let server = TestServer::start();
    server.route(
        "/rss",
        [Reply::ok_as("application/rss+xml", FEED_1), Reply::ok_as("application/rss+xml", FEED_2).delay(SLOW)],
    );
    let cfg = config(&source("abai", &server.url("/rss")))
        .replace("timeout = \"3s\"", "timeout = \"30s\"")
        .replace("read_timeout = \"2s\"", "read_timeout = \"30s\"");
    let p = Project::new(&cfg);
    p.run().assert_code(0);
    let served = Served::start(&p, &["--watch", "--every", "1s"]);
    wait_until("the slow fetch", Duration::from_secs(20), || server.requests_to("/rss").len() >= 2);
    let asked = Instant::now();

    // No refresh finishes within 3 × 1 s: unhealthy, and says why. (The first refresh may have found
    // the source not due yet and finished at once; the slow one is then the second.)
    wait_until("an unhealthy server", Duration::from_secs(5), || get(served.addr, "/healthz", &[]).status == 503);
    let r = get(served.addr, "/healthz", &[]);
    assert!(r.text().contains("s ago: more than 3 × the 1s interval"), "{}", r.text());
    assert!(asked.elapsed() < SLOW - Duration::from_secs(1), "the machine is too slow for this test");

    let addr = served.addr;
    served.sigterm();
    wait_until("the listener closed", Duration::from_secs(3), || TcpStream::connect(addr).is_err());
    let (code, stderr) = served.wait(Duration::from_secs(30));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(asked.elapsed() >= SLOW, "exited before the refresh finished");
    assert!(stderr.trim_end().ends_with("stopped"), "{stderr}");
    assert_eq!(p.titles("all"), ["Екінші", "Бірінші"], "the refresh in flight was written");
}

/// 1,000 conditional requests for unchanged files on one keep-alive connection: every one a 304.
#[test]
fn a_thousand_conditional_requests_are_all_answered_304() {
    let p = built();
    let served = Served::start(&p, &[]);
    let targets = ["/all/rss.xml", "/all/atom.xml", "/all/feed.json", "/sources.opml"];
    let etags: Vec<String> =
        targets.iter().map(|t| get(served.addr, t, &[]).header("etag").unwrap().to_owned()).collect();
    let mut conn = Conn::open(served.addr);
    let started = Instant::now();
    let mut not_modified = 0;
    for i in 0..1000 {
        let n = i % targets.len();
        let r = conn.send("GET", targets[n], &[("If-None-Match", &etags[n]), ("Accept-Encoding", "gzip, br")]);
        if r.status == 304 {
            not_modified += 1;
        }
    }
    let took = started.elapsed();
    eprintln!(
        "serve: {not_modified}/1000 conditional requests answered 304 in {took:?} ({:.0} req/s)",
        1000.0 / took.as_secs_f64()
    );
    assert_eq!(not_modified, 1000);
}
