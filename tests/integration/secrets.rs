//! Private feeds: credentials reach the server and nowhere else. A canary string stands for every
//! secret a config can hold (URL userinfo, a `token=` parameter, an `auth` password from the
//! environment, a header from the environment); every command that prints, and every file feedmill
//! writes, is searched for it. Also the per-source keys: `publish_url`, `enabled`, `title`,
//! `user_agent`, `proxy`.

use std::path::Path;
use std::time::Duration;

use crate::serve::{get, Served};
use crate::test_server::{Reply, TestServer};
use crate::util::{config, Project, Run};

const CANARY: &str = "CANARY-s3cr3t-7f1e";

/// An RSS feed whose links are relative: resolved against the source's URL, they must not pick up
/// its credentials.
fn feed(title: &str, n: u32) -> String {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{title}</title><link>./</link>\
         <item><title>{title} story {n}</title><link>post/{n}</link><guid isPermaLink=\"false\">{title}-{n}</guid>\
         <pubDate>Thu, 0{n} Jul 2019 12:00:00 +0000</pubDate><description>Text {n}.</description></item>\
         </channel></rss>"
    )
}

fn base64(input: &str) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = input.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Every file under `dir` whose name does not start with `state.db` (the database must keep the
/// configured URL to fetch it) nor is the config itself, with its content.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if name != "feeds.toml" && !(name.starts_with("state.db") && name != "state.db.lock") {
                out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

fn assert_no_canary(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert!(!text.contains(CANARY), "the canary is in {what}:\n{text}");
}

fn assert_clean(what: &str, run: &Run) {
    assert_no_canary(&format!("the stdout of {what}"), run.stdout.as_bytes());
    assert_no_canary(&format!("the stderr of {what}"), run.stderr.as_bytes());
}

/// `GET /metrics` from a `feedmill serve` started for the occasion, and everything it wrote on stderr.
fn metrics(p: &Project) -> (String, String) {
    let served = Served::start(p, &[]);
    let page = get(served.addr, "/metrics", &[]).text();
    served.sigterm();
    let (_, stderr) = served.wait(Duration::from_secs(10));
    assert!(page.contains("feedmill_source_failures{source=\"closed\"}"), "{page}");
    (page, stderr)
}

#[test]
fn the_canary_secret_never_leaves_the_process() {
    std::env::set_var("FEEDMILL_IT_CANARY_PASSWORD", CANARY);
    std::env::set_var("FEEDMILL_IT_CANARY_HEADER", CANARY);
    let server = TestServer::start();
    let at = server.url("").replacen("http://", "", 1);
    server.route(&format!("/a.xml?token={CANARY}&page=1"), [Reply::ok_as("application/rss+xml", feed("A", 1))]);
    server.route("/b.xml", [Reply::ok_as("application/rss+xml", feed("B", 2))]);
    server.route(&format!("/broken.xml?api_key={CANARY}"), [Reply::status(500)]);
    server.route(&format!("/moved?sig={CANARY}"), [Reply::redirect(302, &format!("/nowhere?token={CANARY}"))]);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let p = Project::new(&config(&format!(
        "[[sources]]\nname = \"urlauth\"\nurl = \"http://reader:{CANARY}@{at}/a.xml?token={CANARY}&page=1\"\n\n\
         [[sources]]\nname = \"envauth\"\nurl = \"http://{at}/b.xml\"\n\
         auth = {{ username = \"bob\", password_env = \"FEEDMILL_IT_CANARY_PASSWORD\" }}\n\
         headers = {{ \"X-Api-Key\" = {{ env = \"FEEDMILL_IT_CANARY_HEADER\" }} }}\n\n\
         [[sources]]\nname = \"broken\"\nurl = \"http://u:{CANARY}@{at}/broken.xml?api_key={CANARY}\"\n\n\
         [[sources]]\nname = \"closed\"\nurl = \"http://u:{CANARY}@127.0.0.1:{closed}/f?token={CANARY}\"\n\n\
         [[sources]]\nname = \"moved\"\nurl = \"http://{at}/moved?sig={CANARY}\"\n"
    )));

    let mut runs = vec![("run", p.run())];
    runs[0].1.assert_code(1);
    for args in [&["run", "--force", "-v"][..], &["run", "--force", "-vv"], &["run", "--force", "--summary", "json"]] {
        runs.push((args.join(" ").leak(), p.feedmill(args)));
    }
    // The credentials did reach the server.
    let a = &server.requests_to(&format!("/a.xml?token={CANARY}&page=1"))[0];
    assert_eq!(a.header("authorization"), Some(format!("Basic {}", base64(&format!("reader:{CANARY}"))).as_str()));
    let b = &server.requests_to("/b.xml")[0];
    assert_eq!(b.header("authorization"), Some(format!("Basic {}", base64(&format!("bob:{CANARY}"))).as_str()));
    assert_eq!(b.header("x-api-key"), Some(CANARY));
    assert_eq!(server.requests_to(&format!("/nowhere?token={CANARY}")).len(), 4, "the redirect was followed");

    let json: serde_json::Value = serde_json::from_str(&runs[3].1.stdout).unwrap();
    let rows = json["sources"].as_array().unwrap();
    assert_eq!(rows[0]["url"], format!("http://***@{at}/a.xml?token=***&page=1"));
    assert_eq!(rows[2]["status"], "failed");
    assert_eq!(
        rows[2]["error"],
        format!("http://***@{at}/broken.xml?api_key=***: HTTP 500 Internal Server Error (after 3 attempts)")
    );
    assert!(rows[3]["error"]
        .as_str()
        .unwrap()
        .starts_with(&format!("http://***@127.0.0.1:{closed}/f?token=***: cannot connect")));
    assert_eq!(rows[4]["error"], format!("http://{at}/nowhere?token=***: HTTP 404 Not Found"));
    let index = p.output("index.html");
    assert!(index.contains(&format!("http://***@{at}/a.xml?token=***&amp;page=1")), "{index}");
    assert!(
        p.output("all/feed.json").contains(&format!("\"url\": \"http://{at}/post/1\"")),
        "links lose the credentials"
    );

    runs.push(("status", p.feedmill(&["status"])));
    runs.push(("check", p.feedmill(&["check"])));
    runs.push(("explain", p.feedmill(&["explain", &format!("http://{at}/post/1")])));
    runs[runs.len() - 1].1.assert_code(0);
    runs.push(("parse", p.feedmill(&["parse", &format!("http://reader:{CANARY}@{at}/a.xml?token={CANARY}&page=1")])));
    runs[runs.len() - 1].1.assert_code(0);
    let (page, serve_stderr) = metrics(&p);
    assert_no_canary("/metrics", page.as_bytes());
    assert_no_canary("the stderr of serve", serve_stderr.as_bytes());
    for (what, run) in &runs {
        assert_clean(what, run);
    }
    assert!(runs[4].1.stdout.contains("http://***@"), "status shows the errors, redacted:\n{}", runs[4].1.stdout);
    assert!(runs[2].1.stderr.contains("redirect"), "-vv logs the redirect:\n{}", runs[2].1.stderr);
    for (path, bytes) in files(p.dir.path()) {
        assert_no_canary(&path, &bytes);
    }
    let db = rusqlite::Connection::open(p.path(".feedmill/state.db")).unwrap();
    let errors: String = db.query_row("SELECT group_concat(last_error, ' | ') FROM sources", [], |r| r.get(0)).unwrap();
    assert!(errors.contains("***") && !errors.contains(CANARY), "{errors}");
}

#[test]
fn a_private_url_is_not_published_and_a_title_replaces_the_feeds() {
    let server = TestServer::start();
    server.route("/private.xml", [Reply::ok_as("application/rss+xml", feed("Private", 1))]);
    server.route("/public.xml", [Reply::ok_as("application/rss+xml", feed("Public", 2))]);
    let p = Project::new(&config(&format!(
        "[[sources]]\nname = \"private\"\nurl = \"{}\"\npublish_url = false\ntitle = \"My hidden feed\"\n\n\
         [[sources]]\nname = \"public\"\nurl = \"{}\"\ntitle = \"Renamed public\"\n",
        server.url("/private.xml"),
        server.url("/public.xml")
    )));
    p.run().assert_code(0);
    let index = p.output("index.html");
    let opml = p.output("sources.opml");
    for text in [&index, &opml] {
        assert!(!text.contains("/private.xml"), "{text}");
        assert!(text.contains(&server.url("/public.xml")), "{text}");
    }
    assert!(index.contains("My hidden feed") && index.contains("Renamed public"), "{index}");
    assert!(!index.contains(">Private<") && !opml.contains("\"Public\""), "the feeds' own titles are replaced");
    assert!(opml.contains("text=\"Renamed public\" title=\"Renamed public\""), "{opml}");
    assert!(!opml.contains("feedmillName=\"private\""), "no outline without an xmlUrl:\n{opml}");
    assert_eq!(p.titles("all").len(), 2, "its entries are published all the same");
}

#[test]
fn a_disabled_source_is_not_fetched_and_keeps_its_entries() {
    let server = TestServer::start();
    server.route("/a.xml", [Reply::ok_as("application/rss+xml", feed("A", 1))]);
    let cfg = |enabled: bool| {
        config(&format!("[[sources]]\nname = \"a\"\nurl = \"{}\"\nenabled = {enabled}\n", server.url("/a.xml")))
    };
    let p = Project::new(&cfg(true));
    p.run().assert_code(0);
    p.write("feeds.toml", cfg(false));
    let run = p.feedmill(&["run", "--force", "--summary", "json"]);
    run.assert_code(0);
    assert_eq!(server.requests_to("/a.xml").len(), 1, "not fetched while disabled");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["sources"][0]["status"], "disabled");
    assert!(run.stderr.contains("0 of 1 source ok, 1 disabled"), "{}", run.stderr);
    assert_eq!(p.titles("all"), ["A story 1"]);
    let status = p.feedmill(&["status"]);
    assert!(status.stdout.lines().nth(1).is_some_and(|l| l.contains("disabled")), "{}", status.stdout);
}

#[test]
fn a_sources_user_agent_and_proxy_are_used() {
    let server = TestServer::start();
    server.route("/a.xml", [Reply::ok_as("application/rss+xml", feed("A", 1))]);
    let proxy = TestServer::start();
    proxy.route("http://feed.invalid/b.xml", [Reply::ok_as("application/rss+xml", feed("B", 2))]);
    let p = Project::new(&config(&format!(
        "[[sources]]\nname = \"a\"\nurl = \"{}\"\nuser_agent = \"PrivateReader/1.0\"\n\n\
         [[sources]]\nname = \"b\"\nurl = \"http://feed.invalid/b.xml\"\nproxy = \"{}\"\n",
        server.url("/a.xml"),
        proxy.url("").replacen("http://", "http://puser:ppass-2b@", 1)
    )));
    let run = p.run();
    run.assert_code(0);
    assert_eq!(server.requests_to("/a.xml")[0].header("user-agent"), Some("PrivateReader/1.0"));
    let via = &proxy.requests_to("http://feed.invalid/b.xml")[0];
    assert_eq!(via.header("proxy-authorization"), Some(format!("Basic {}", base64("puser:ppass-2b")).as_str()));
    assert_eq!(p.titles("all"), ["B story 2", "A story 1"]);
}

/// `feedmill ARGS` in `p` with `FEEDMILL_STATE_URL` set to `state_url`.
fn with_state_url(p: &Project, args: &[&str], state_url: &str) -> Run {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_feedmill"))
        .args(args)
        .current_dir(p.dir.path())
        .env_remove("FEEDMILL_LOG")
        .env("FEEDMILL_STATE_URL", state_url)
        .output()
        .expect("run feedmill");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_postgresql_state_password_never_leaves_the_process() {
    std::env::set_var("FEEDMILL_IT_CANARY_PG_PASSWORD", CANARY);
    let p = Project::new(&config(&format!(
        "[state]\nurl = \"postgresql://feedmill@127.0.0.1:1/feedmill\"\npassword_env = \"FEEDMILL_IT_CANARY_PG_PASSWORD\"\n\n{}",
        crate::util::source("a", "http://127.0.0.1:1/feed.xml")
    )));
    // From the config, with the password from the environment; and from FEEDMILL_STATE_URL, in the URL.
    for args in [&["check"][..], &["run", "-vv"], &["status"]] {
        let run = p.feedmill(args);
        assert_clean(&args.join(" "), &run);
        if args[0] != "check" {
            run.assert_code(2);
            // Userinfo is masked whole, as in every URL shown.
            assert!(run.stderr.contains("state database postgresql://***@127.0.0.1:1/feedmill"), "{}", run.stderr);
        }
    }
    let in_url = format!("postgresql://feedmill:{CANARY}@127.0.0.1:1/feedmill");
    for args in [&["check"][..], &["run", "-vv"], &["serve", "--listen", "127.0.0.1:0"]] {
        let run = with_state_url(&p, args, &in_url);
        assert_clean(&format!("{} with FEEDMILL_STATE_URL", args.join(" ")), &run);
    }
    let run = with_state_url(&p, &["run"], &in_url);
    run.assert_code(2);
    assert!(run.stderr.contains("postgresql://***@127.0.0.1:1/feedmill"), "{}", run.stderr);
    // A URL the client refuses: the message says why, without the password.
    let run = with_state_url(&p, &["check"], &format!("{in_url}?sslmode=sometimes"));
    assert_clean("check with a bad sslmode", &run);
    assert!(run.stderr.contains("invalid value for option `sslmode`"), "{}", run.stderr);
    assert_ne!(run.code, 0);
}
