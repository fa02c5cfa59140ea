//! `index.html` in a real browser: headless Chromium, driven by chromedriver over WebDriver.
//!
//! The page promises to render cleanly anywhere with no JavaScript of its own, so the test asks a
//! browser: no console errors (a broken CSP, a blocked or missing resource and a script error all land
//! there), nothing loaded but the page itself, no horizontal scrolling at phone (390×844, mobile
//! emulation, so the viewport meta is honoured) and desktop (1366×900) widths, and a dark background
//! under `prefers-color-scheme: dark`. Full-page screenshots of each case are kept under
//! `$CARGO_TARGET_TMPDIR/browser/` for a person to look at.
//!
//! WebDriver is plain HTTP and JSON, spoken here over std's `TcpStream` (no client crate); chromedriver's
//! `goog/cdp/execute` passes DevTools commands through for viewport and colour-scheme emulation and
//! full-page screenshots. Without `chromium` and `chromedriver` the test is skipped with a message,
//! unless `FEEDMILL_REQUIRE_BROWSER=1` (set by `.ci/run`) makes their absence a failure.

use std::env;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::test_server::{Reply, TestServer};
use crate::util::Project;

/// Name, width, height, mobile emulation.
const VIEWPORTS: [(&str, u32, u32, bool); 2] = [("phone", 390, 844, true), ("desktop", 1366, 900, false)];
const SCHEMES: [&str; 2] = ["light", "dark"];

/// Generous: a cold Chromium start on a loaded CI machine takes seconds.
const TIMEOUT: Duration = Duration::from_secs(90);

#[test]
fn index_page_in_chromium() {
    let Some((chromium, chromedriver)) = browser() else {
        let required = env::var("FEEDMILL_REQUIRE_BROWSER").is_ok_and(|v| !v.is_empty() && v != "0");
        assert!(!required, "FEEDMILL_REQUIRE_BROWSER is set but chromium or chromedriver is not installed");
        eprintln!(
            "SKIPPED browser::index_page_in_chromium: chromium and chromedriver not found \
             (apt-get install chromium chromium-driver)"
        );
        return;
    };
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    fs::create_dir_all(&shots).unwrap();
    let server = TestServer::start();
    serve_feeds(&server);
    let driver = Driver::start(&chromedriver);
    let profile = tempfile::tempdir().unwrap();
    let session = driver.session(&chromium, profile.path());

    canary(&session, &shots);
    for (lang, language) in [("en", ""), ("kk", "language = \"kk\"\n")] {
        let p = Project::new(&planet(&server, language));
        p.run().assert_code(1);
        let page = p.path("output/index.html");
        fs::copy(&page, shots.join(format!("index-{lang}.html"))).unwrap();
        session.open(&page);
        for (name, width, height, mobile) in VIEWPORTS {
            for scheme in SCHEMES {
                let case = format!("{lang}-{name}-{scheme}");
                session.cdp(
                    "Emulation.setDeviceMetricsOverride",
                    json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
                );
                session.cdp(
                    "Emulation.setEmulatedMedia",
                    json!({"features": [{"name": "prefers-color-scheme", "value": scheme}]}),
                );
                check_layout(&session, &case, width, scheme);
                let png = session.screenshot();
                assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000, "{case}: screenshot is no PNG");
                fs::write(shots.join(format!("index-{case}.png")), png).unwrap();
            }
        }
        let errors = session.console_errors();
        assert!(errors.is_empty(), "{lang}: console errors: {errors:#?}");
    }
    eprintln!("screenshots in {}", shots.display());
}

/// A copy of the page with a script in it must leave an error in the console: proves both that the
/// console is read and that the page's Content-Security-Policy blocks scripts.
fn canary(session: &Session, dir: &Path) {
    let html = feedmill::emit::index_html::render(&feedmill::emit::SiteDoc {
        title: "canary",
        description: None,
        categories: &[],
        updated: chrono::DateTime::UNIX_EPOCH,
        language: None,
        sources: &[],
    });
    let path = dir.join("canary.html");
    fs::write(&path, html.replace("</body>", "<script>document.title = 'ran'</script></body>")).unwrap();
    session.open(&path);
    let errors = session.console_errors();
    assert!(errors.iter().any(|e| e.contains("Content Security Policy")), "no CSP error seen: {errors:?}");
    assert_eq!(session.eval("return document.title"), "canary", "the script must not have run");
}

fn check_layout(session: &Session, case: &str, width: u32, scheme: &str) {
    let m = session.eval(
        "const wide = [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)
            .map(e => e.tagName + '.' + e.className);
         return {
            inner: innerWidth,
            scroll: document.documentElement.scrollWidth,
            wide: wide.slice(0, 5),
            background: getComputedStyle(document.body).backgroundColor,
            scripts: document.scripts.length,
            loaded: performance.getEntriesByType('resource').map(r => r.name),
            entries: document.querySelectorAll('#all ol li').length,
            h1: document.querySelector('h1').getBoundingClientRect().height,
         };",
    );
    // A phone widens its layout viewport to fit content that is too wide, so on the phone an overflow
    // shows here; on the desktop, in the scroll width.
    assert_eq!(m["inner"], width, "{case}: viewport width (too wide content, or no viewport meta?): {m}");
    assert!(m["scroll"].as_u64().unwrap() <= m["inner"].as_u64().unwrap(), "{case}: horizontal scrolling: {m}");
    assert_eq!(m["wide"], json!([]), "{case}: elements past the right edge: {m}");
    assert_eq!(m["scripts"], 0, "{case}: {m}");
    assert_eq!(m["loaded"], json!([]), "{case}: nothing but the page may load: {m}");
    assert_eq!(m["entries"], 10, "{case}: the latest 10 entries of `all`: {m}");
    assert!(m["h1"].as_f64().unwrap() > 0.0, "{case}: the page has a visible title: {m}");
    let rgb: Vec<u32> = m["background"]
        .as_str()
        .unwrap()
        .trim_start_matches("rgb(")
        .trim_end_matches(')')
        .split(',')
        .map(|c| c.trim().parse().unwrap())
        .collect();
    let light = rgb.iter().sum::<u32>() > 3 * 128;
    assert_eq!(light, scheme == "light", "{case}: background {}", m["background"]);
}

/// Two categories, twelve entries (more than the page lists), words too long for a phone's line, and
/// a source that fails.
fn planet(server: &TestServer, language: &str) -> String {
    format!(
        "[output]\ntitle = \"Steppe planet\"\ndescription = \"Kazakh, Russian and English news about Kazakhstan\"\n\
         base_url = \"https://feeds.example.org/planet-with-a-rather-long-path/\"\n{language}\n\
         [fetch]\ntimeout = \"3s\"\nconnect_timeout = \"1s\"\n\n\
         [categories.kz-news]\ntitle = \"Kazakh news\"\ndescription = \"Қазақ тіліндегі жаңалықтар\"\n\n\
         [categories.ru-news]\ntitle = \"Новости на русском\"\n\n\
         [[sources]]\nname = \"abai\"\nurl = \"{}\"\ncategories = [\"kz-news\"]\n\n\
         [[sources]]\nname = \"vlast\"\nurl = \"{}\"\ncategories = [\"ru-news\"]\n\n\
         [[sources]]\nname = \"gone\"\nurl = \"{}\"\ncategories = [\"ru-news\"]\n",
        server.url("/abai"),
        server.url("/vlast"),
        server.url("/gone/feed-that-moved-away-long-ago.xml"),
    )
}

fn serve_feeds(server: &TestServer) {
    let item = |title: &str, link: &str, day: u32| {
        format!(
            "<item><title>{title}</title><link>{link}</link><pubDate>{day:02} Nov 2026 14:05:00 +0000</pubDate>\
             <description>Мәтін.</description></item>"
        )
    };
    let rss = |title: &str, site: &str, items: Vec<String>| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>{title}</title>\
             <link>{site}</link>{}</channel></rss>",
            items.concat()
        )
    };
    let mut abai: Vec<String> = (1..=10)
        .map(|d| {
            item(&format!("Абай оқулары: {d}-күн, жаңа кітап пен кездесулер"), &format!("https://abai.kz/post/{d}"), d)
        })
        .collect();
    abai.push(item(
        "Қазақстанның_ең_ұзын_сөзі_бөлінбейтін_тақырыпта_телефон_экранынан_асып_кетпеуі_керек_https://abai.kz/very/long/path",
        "https://abai.kz/post/long",
        11,
    ));
    let vlast = vec![
        item("Новости дня: итоги недели в Астане и Алматы", "https://vlast.kz/n/1", 12),
        item("Short &amp; sweet", "https://vlast.kz/n/2", 9),
    ];
    server
        .route("/abai", [Reply::ok_as("application/rss+xml", rss("Abai.kz — әдеби портал", "https://abai.kz/", abai))]);
    server.route("/vlast", [Reply::ok_as("application/rss+xml", rss("Власть", "https://vlast.kz/", vlast))]);
    server.route("/gone/feed-that-moved-away-long-ago.xml", [Reply::status(404)]);
}

/// Paths of Chromium and chromedriver, when both are installed.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let find = |names: &[&str]| {
        let path = env::var_os("PATH").unwrap_or_default();
        names.iter().flat_map(|n| env::split_paths(&path).map(move |d| d.join(n))).find(|p| p.is_file())
    };
    Some((find(&["chromium", "chromium-browser", "google-chrome"])?, find(&["chromedriver"])?))
}

/// A chromedriver process on a port of its own choosing; killed on drop.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(chromedriver: &Path) -> Driver {
        let mut child = Command::new(chromedriver)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        // Reads until chromedriver names its port, then drains its output so it never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("started successfully on port ").nth(1) {
                    let _ = tx.send(rest.trim_end_matches('.').trim().parse::<u16>().ok());
                }
            }
        });
        let port = rx.recv_timeout(TIMEOUT).ok().flatten();
        let Some(port) = port else {
            let _ = child.kill();
            panic!("chromedriver did not report its port");
        };
        Driver { child, port }
    }

    /// One WebDriver command: the response's `value`, or a panic with chromedriver's message.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to chromedriver");
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        )
        .unwrap();
        let mut reader = BufReader::new(stream);
        let mut status_line = String::new();
        reader.read_line(&mut status_line).unwrap();
        let mut length = None;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse::<usize>().ok();
                }
            }
        }
        let mut raw = Vec::new();
        match length {
            Some(n) => {
                raw.resize(n, 0);
                reader.read_exact(&mut raw).unwrap();
            }
            None => {
                reader.read_to_end(&mut raw).unwrap();
            }
        }
        let response: Value = serde_json::from_slice(&raw)
            .unwrap_or_else(|e| panic!("{method} {path}: bad JSON ({e}): {}", String::from_utf8_lossy(&raw)));
        let value = response["value"].clone();
        assert!(
            status_line.split_whitespace().nth(1) == Some("200"),
            "{method} {path}: {} {}",
            status_line.trim(),
            value["message"].as_str().unwrap_or_default().lines().next().unwrap_or_default()
        );
        value
    }

    fn session(&self, chromium: &Path, profile: &Path) -> Session<'_> {
        let args = [
            "--headless=new".to_owned(),
            // Containers run tests as root, where Chromium's sandbox cannot start.
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--hide-scrollbars".to_owned(),
            "--force-color-profile=srgb".to_owned(),
            "--no-first-run".to_owned(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let created = self.call("POST", "/session", Some(&caps));
        let id = created["sessionId"].as_str().expect("session id").to_owned();
        Session { driver: self, id }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser; closed on drop.
struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

impl Session<'_> {
    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        self.driver.call(method, &format!("/session/{}/{path}", self.id), Some(&body))
    }

    fn open(&self, file: &Path) {
        let url = url::Url::from_file_path(file).unwrap();
        self.call("POST", "url", json!({"url": url.as_str()}));
    }

    fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.call("POST", "goog/cdp/execute", json!({"cmd": cmd, "params": params}))
    }

    fn eval(&self, script: &str) -> Value {
        self.call("POST", "execute/sync", json!({"script": script, "args": []}))
    }

    /// A PNG of the whole page, not just the viewport.
    fn screenshot(&self) -> Vec<u8> {
        let shot = self.cdp("Page.captureScreenshot", json!({"format": "png", "captureBeyondViewport": true}));
        base64(shot["data"].as_str().expect("screenshot data"))
    }

    /// Console messages at error level since the last call (reading the log empties it).
    fn console_errors(&self) -> Vec<String> {
        let log = self.call("POST", "se/log", json!({"type": "browser"}));
        log.as_array()
            .unwrap()
            .iter()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let (driver, path) = (self.driver, format!("/session/{}", self.id));
        // Closing is a courtesy (the driver's exit ends the browser too): never a second panic.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| driver.call("DELETE", &path, None)));
    }
}

fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text.bytes().filter(|&c| c != b'=' && !c.is_ascii_whitespace()).map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &d)| n | u32::from(d) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

#[test]
fn base64_decodes() {
    assert_eq!(base64("aGVsbG8="), b"hello");
    assert_eq!(base64("aGk="), b"hi");
    assert_eq!(base64("YWJj"), b"abc");
    assert_eq!(base64(""), b"");
}
