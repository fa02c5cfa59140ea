//! Several workers on one PostgreSQL state (#21): processes of the real binary sharing the sources
//! through leases, against a real server (`pg.rs`), each test in a fresh schema of its own.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::pg::{ca_file, fresh_schema, query, server_url, state_section, try_query};
use crate::test_server::{Reply, TestServer};
use crate::util::{config, Project};

thread_local! {
    /// The workers this test's thread started and has not waited for yet.
    static RUNNING: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Kills, when the test ends (a failed assertion included), the workers it left running: a `watch`
/// outlives a test that panics otherwise.
struct Reaper;

impl Drop for Reaper {
    fn drop(&mut self) {
        for pid in RUNNING.take() {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
    }
}

/// `feedmill ARGS` in `p` on the state `url`, started (not waited for).
fn spawn(p: &Project, url: &str, args: &[&str]) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_feedmill"))
        .args(args)
        .current_dir(p.dir.path())
        .env("FEEDMILL_STATE_URL", url)
        .env_remove("FEEDMILL_LOG")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start feedmill");
    RUNNING.with_borrow_mut(|r| r.push(child.id()));
    child
}

fn finished(child: Child) -> (i32, String) {
    let pid = child.id();
    let Output { status, stderr, .. } = child.wait_with_output().unwrap();
    RUNNING.with_borrow_mut(|r| r.retain(|p| *p != pid));
    (status.code().unwrap_or(-1), String::from_utf8_lossy(&stderr).into_owned())
}

fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Words enough that no two generated stories look alike to the near-duplicate matcher.
const WORDS: &[&str] = &[
    "ауыл",
    "мектеп",
    "кітап",
    "өзен",
    "тау",
    "дала",
    "қала",
    "жол",
    "бала",
    "ана",
    "әке",
    "күн",
    "ай",
    "жұлдыз",
    "орман",
    "теңіз",
    "көл",
    "құс",
    "ат",
    "түйе",
    "қой",
    "сиыр",
    "нан",
    "сүт",
    "шай",
    "ет",
    "бақ",
    "гүл",
    "ағаш",
    "жапырақ",
    "қар",
    "жаңбыр",
    "жел",
    "бұлт",
    "от",
    "су",
    "жер",
    "тас",
    "темір",
    "алтын",
    "күміс",
    "мыс",
    "ән",
    "күй",
    "домбыра",
    "ақын",
    "жыр",
    "дастан",
    "ертегі",
    "мақал",
    "әріп",
    "сөз",
    "тіл",
    "хат",
    "газет",
    "радио",
];

/// Source `i`'s feed: two items with their own words, dated (rightly: a date whose weekday is wrong is
/// not trusted, and an undated entry is dated when first seen, which differs between workers), guid'd.
fn feed(i: usize) -> String {
    let mut rng = fastrand::Rng::with_seed(i as u64 * 7919 + 17);
    let mut items = String::new();
    for k in 0..2 {
        let words: Vec<&str> = (0..14).map(|_| WORDS[rng.usize(..WORDS.len())]).collect();
        items.push_str(&format!(
            "<item><title>{i}-{k} {}</title><link>https://news{i}.example/{k}</link><guid>g-{i}-{k}</guid>\
             <pubDate>{}, 0{} Dec 2026 1{}:00:00 +0000</pubDate><description>{}</description></item>",
            words[..5].join(" "),
            ["Tue", "Wed"][k],
            1 + k,
            i % 10,
            words.join(" ")
        ));
    }
    format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Source {i}</title>{items}</channel></rss>")
}

/// `n` sources on `server`, each answering after `delay`.
fn sources(server: &TestServer, n: usize, delay: Duration) -> String {
    let mut text = String::new();
    for i in 0..n {
        let path = format!("/f/{i}.xml");
        server.route(&path, [Reply::ok_as("application/rss+xml", feed(i)).delay(delay)]);
        text.push_str(&format!("[[sources]]\nname = \"s{i:03}\"\nurl = \"{}\"\n\n", server.url(&path)));
    }
    text
}

/// A config for the test server's state: `[state]` trusting its CA, with `state` lines, then `sources`.
fn pg_config(sources: &str, state: &str) -> String {
    format!("{}{}", state_section(ca_file().as_deref(), state), config(sources))
}

/// Every file under `dir` (relative path → bytes).
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The ids of the items of `output/all/feed.json`.
fn published_ids(p: &Project) -> Vec<String> {
    p.json("all/feed.json")["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn three_workers_fetch_every_source_once_and_publish_what_one_sqlite_run_does() {
    let _reaper = Reaper;
    let Some(server_pg) = server_url() else { return };
    let url = fresh_schema(&server_pg);
    let server = TestServer::start();
    let n = 300;
    let settings = "[fetch]\nper_host = 6\nconcurrency = 4\n";
    let text = pg_config(&sources(&server, n, Duration::from_millis(15)), "").replace("[fetch]\n", settings);
    let shared = Project::new(&text);
    let workers: Vec<Child> = (0..3).map(|_| spawn(&shared, &url, &["run", "-q"])).collect();
    for (w, child) in workers.into_iter().enumerate() {
        let (code, stderr) = finished(child);
        assert_eq!(code, 0, "worker {w}: {stderr}");
    }
    // Every source fetched by exactly one worker.
    let mut counts: HashMap<String, usize> = HashMap::new();
    for r in server.requests() {
        *counts.entry(r.path.clone()).or_default() += 1;
    }
    assert_eq!(counts.len(), n, "every source fetched");
    let twice: Vec<_> = counts.iter().filter(|(_, c)| **c != 1).collect();
    assert!(twice.is_empty(), "fetched more than once: {twice:?}");
    // Each worker recorded some: the work was shared, not done by whichever started first.
    let by_worker = query(&url, "SELECT count(DISTINCT leased_by) FROM sources");
    assert_eq!(by_worker, ["0"], "every lease given back");

    // The same sources, read by one process on the SQLite file.
    let alone = Project::new(&text);
    alone.run().assert_code(0);
    let (a, b) = (files(&shared.path("output")), files(&alone.path("output")));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    if a["all/feed.json"] != b["all/feed.json"] {
        let ids = |bytes: &[u8]| -> HashSet<String> {
            let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| format!("{} {} {}", i["id"].as_str().unwrap(), i["date_published"], i["title"]))
                .collect()
        };
        let (x, y) = (ids(&a["all/feed.json"]), ids(&b["all/feed.json"]));
        panic!(
            "feed.json: only in PostgreSQL's {:?}, only in SQLite's {:?}",
            x.difference(&y).collect::<Vec<_>>(),
            y.difference(&x).collect::<Vec<_>>()
        );
    }
    for (name, bytes) in &a {
        // index.html shows each source's last fetch time, which differs between any two runs.
        if name == "index.html" {
            continue;
        }
        if bytes != &b[name] {
            let (x, y) = (String::from_utf8_lossy(bytes), String::from_utf8_lossy(&b[name]));
            let at = x.lines().zip(y.lines()).position(|(l, r)| l != r);
            let line = |t: &str| at.and_then(|i| t.lines().nth(i)).unwrap_or_default().to_owned();
            panic!(
                "{name} differs between three PostgreSQL workers and one SQLite run at line {at:?}:\n{}\n{}",
                line(&x),
                line(&y)
            );
        }
    }
    // The feed holds the newest 100 of the 600 entries; the state holds them all, once.
    assert_eq!(published_ids(&shared).len(), 100);
    assert_eq!(query(&url, "SELECT count(*) FROM entries"), [(2 * n).to_string()]);
}

#[test]
fn workers_refuse_another_config_unless_told_to_adopt_it() {
    let _reaper = Reaper;
    let Some(server_pg) = server_url() else { return };
    let url = fresh_schema(&server_pg);
    let server = TestServer::start();
    let first = Project::new(&pg_config(&sources(&server, 2, Duration::ZERO), ""));
    let (code, stderr) = finished(spawn(&first, &url, &["run"]));
    assert_eq!(code, 0, "{stderr}");
    // The same config in another layout, with comments: the same config.
    let relaid = Project::new(&format!(
        "# the same\n{}",
        pg_config(&sources(&server, 2, Duration::ZERO), "").replace(" = ", "=")
    ));
    let (code, stderr) = finished(spawn(&relaid, &url, &["run"]));
    assert_eq!(code, 0, "{stderr}");
    let other = Project::new(&pg_config(&sources(&server, 3, Duration::ZERO), ""));
    let (code, stderr) = finished(spawn(&other, &url, &["run"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("run another config") && stderr.contains("--adopt-config"), "{stderr}");
    assert!(!stderr.contains(&server_pg), "the URL is shown redacted: {stderr}");
    // A worker left running with the first config notices the adoption after its next run, and
    // stops with status 2 rather than record or publish by a config the others no longer run.
    let running = spawn(&first, &url, &["watch", "--every", "1s"]);
    wait_until("the running worker's first run", Duration::from_secs(30), || {
        query(&url, "SELECT count(*) FROM workers") == ["1"]
    });
    let (code, stderr) = finished(spawn(&other, &url, &["run", "--adopt-config"]));
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = finished(running);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("the workers' config changed"), "{stderr}");
    // Now the first config is the odd one out.
    let (code, stderr) = finished(spawn(&first, &url, &["run"]));
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(query(&url, "SELECT count(*) FROM workers"), ["0"], "both stopped workers retired");
}

#[test]
fn a_killed_worker_s_sources_are_taken_over_when_its_leases_expire() {
    let _reaper = Reaper;
    let Some(server_pg) = server_url() else { return };
    let url = fresh_schema(&server_pg);
    let server = TestServer::start();
    let n = 40;
    let text = pg_config(&sources(&server, n, Duration::from_millis(400)), "lease = \"2s\"")
        .replace("[fetch]\n", "[fetch]\nper_host = 8\nconcurrency = 4\n");
    let p = Project::new(&text);
    let victim = spawn(&p, &url, &["watch", "--every", "1h"]);
    // The victim holds leases and is fetching when it dies.
    wait_until("the victim to lease sources", Duration::from_secs(30), || {
        try_query(&url, "SELECT count(*) FROM sources WHERE leased_by IS NOT NULL").is_ok_and(|n| n != ["0"])
    });
    std::thread::sleep(Duration::from_millis(600));
    let status = Command::new("kill").args(["-KILL", &victim.id().to_string()]).status().unwrap();
    assert!(status.success());
    let (code, _) = finished(victim);
    assert_eq!(code, -1, "killed");
    let held = query(&url, "SELECT count(*) FROM sources WHERE leased_by IS NOT NULL AND lease_until > now()");
    let others: Vec<Child> = (0..2).map(|_| spawn(&p, &url, &["watch", "--every", "1h"])).collect();
    wait_until("every source recorded", Duration::from_secs(60), || {
        query(&url, "SELECT count(*) FROM sources WHERE last_fetch IS NOT NULL") == [n.to_string()]
    });
    let start = Instant::now();
    while !(p.path("output/all/feed.json").is_file() && published_ids(&p).len() == 2 * n) {
        if start.elapsed() > Duration::from_secs(30) {
            let published = if p.path("output/all/feed.json").is_file() { published_ids(&p).len() } else { 0 };
            let logs: Vec<String> = others
                .into_iter()
                .map(|c| {
                    Command::new("kill").args(["-TERM", &c.id().to_string()]).status().unwrap();
                    finished(c).1
                })
                .collect();
            panic!(
                "timed out waiting for the outputs of every source: {published} published; workers said:\n{}",
                logs.join("\n---\n")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // `status` lists the three: the two alive with their pids, the victim gone.
    let status = Command::new(env!("CARGO_BIN_EXE_feedmill"))
        .args(["status", "--json"])
        .current_dir(p.dir.path())
        .env("FEEDMILL_STATE_URL", &url)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let listed = json["workers"].as_array().unwrap();
    assert_eq!(listed.len(), 3, "{json}");
    let alive: HashSet<u64> =
        listed.iter().filter(|w| w["alive"] == true).map(|w| w["pid"].as_u64().unwrap()).collect();
    assert_eq!(alive, others.iter().map(|c| u64::from(c.id())).collect(), "{json}");
    for child in others {
        Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        let (code, stderr) = finished(child);
        assert_eq!(code, 0, "{stderr}");
    }
    assert_ne!(held, ["0"], "the victim died holding leases");
    // Nothing lost, nothing twice: two entries per source, each published once.
    assert_eq!(query(&url, "SELECT count(*) FROM entries"), [(2 * n).to_string()]);
    let ids = published_ids(&p);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 2 * n, "{ids:?}");
    // Stopped cleanly, the survivors left no worker behind; the victim's row stays until it is
    // cleaned up, and holds no live lease.
    let rows = query(&url, "SELECT count(*) FROM workers");
    assert_eq!(rows, ["1"], "only the killed worker is still listed");
    // Read again by a run that fetches everything, the published ids stay the same.
    let (code, stderr) = finished(spawn(&p, &url, &["run", "--force"]));
    assert_eq!(code, 0, "{stderr}");
    let again: HashSet<String> = published_ids(&p).into_iter().collect();
    assert_eq!(again, ids.into_iter().collect::<HashSet<_>>());
}

/// A PostgreSQL server of the test's own (`.ci/postgres start`), stopped when dropped: restarting the
/// shared one would break the tests running beside.
struct OwnServer {
    url: String,
    dir: String,
    /// The CA of its TLS certificate.
    ca: Option<String>,
}

impl OwnServer {
    fn start() -> OwnServer {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/postgres");
        let out = Command::new(&script).arg("start").stderr(Stdio::inherit()).output().expect(".ci/postgres start");
        assert!(out.status.success(), ".ci/postgres start failed");
        let text = String::from_utf8_lossy(&out.stdout);
        let var = |name: &str| text.lines().find_map(|l| l.strip_prefix(&format!("export {name}="))).map(str::to_owned);
        let url = var("FEEDMILL_TEST_POSTGRES").unwrap_or_else(|| panic!("no URL in {text}"));
        let dir = var("FEEDMILL_TEST_POSTGRES_DIR").unwrap_or_else(|| panic!("no folder in {text}"));
        OwnServer { url, dir, ca: var("FEEDMILL_TEST_POSTGRES_CA") }
    }

    /// Down for `down`, then up again on the same port.
    fn restart(&self, down: Duration) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/postgres");
        let status = Command::new(&script)
            .args(["restart", &self.dir, &down.as_secs().to_string()])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), ".ci/postgres restart failed");
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/postgres");
        let _ = Command::new(&script).args(["stop", &self.dir]).stdout(Stdio::null()).stderr(Stdio::null()).status();
    }
}

#[test]
fn workers_go_on_after_the_database_restarts_and_the_state_stays_whole() {
    let _reaper = Reaper;
    if server_url().is_none() {
        return;
    }
    let own = OwnServer::start();
    let url = fresh_schema(&own.url);
    let server = TestServer::start();
    // 90 entries: all in the feed, which holds 100.
    let n = 45;
    let text = format!(
        "{}{}",
        state_section(own.ca.as_deref(), "lease = \"3s\""),
        config(&sources(&server, n, Duration::from_millis(300)))
    )
    .replace("[fetch]\n", "[fetch]\nper_host = 8\nconcurrency = 3\n");
    let p = Project::new(&text);
    let workers: Vec<Child> = (0..2).map(|_| spawn(&p, &url, &["watch", "--every", "1h"])).collect();
    wait_until("some sources recorded", Duration::from_secs(60), || {
        try_query(&url, "SELECT count(*) FROM sources WHERE last_fetch IS NOT NULL")
            .is_ok_and(|c| c.first().and_then(|c| c.parse::<usize>().ok()).is_some_and(|c| c >= 6))
    });
    // Down for two seconds in the middle of the run: every connection is cut.
    own.restart(Duration::from_secs(2));
    let recorded = query(&url, "SELECT count(*) FROM sources WHERE last_fetch IS NOT NULL");
    assert_ne!(recorded, [n.to_string()], "the restart came before the end of the run");
    wait_until("every source recorded after the restart", Duration::from_secs(90), || {
        try_query(&url, "SELECT count(*) FROM sources WHERE last_fetch IS NOT NULL").is_ok_and(|c| c == [n.to_string()])
    });
    wait_until("the outputs of every source", Duration::from_secs(60), || {
        p.path("output/all/feed.json").is_file() && published_ids(&p).len() == 2 * n
    });
    let mut logs = Vec::new();
    for child in workers {
        Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        let (code, stderr) = finished(child);
        assert_eq!(code, 0, "a worker went on until stopped: {stderr}");
        logs.push(stderr);
    }
    assert!(logs.iter().any(|l| l.contains("error")), "the outage was noticed: {logs:?}");
    // The state is whole: two entries per source, no duplicate, every entry in a story, no lease left.
    assert_eq!(query(&url, "SELECT count(*) FROM entries"), [(2 * n).to_string()]);
    assert_eq!(query(&url, "SELECT count(DISTINCT (source, id)) FROM entries"), [(2 * n).to_string()]);
    assert_eq!(query(&url, "SELECT count(*) FROM unstoried"), ["0"]);
    assert_eq!(query(&url, "SELECT count(*) FROM sources WHERE leased_by IS NOT NULL"), ["0"]);
    assert_eq!(published_ids(&p).iter().collect::<HashSet<_>>().len(), 2 * n);
}

#[test]
fn serve_instances_give_the_published_bytes_and_every_worker_s_counters() {
    let _reaper = Reaper;
    use crate::serve::{get, Served};
    let Some(server_pg) = server_url() else { return };
    let url = fresh_schema(&server_pg);
    let server = TestServer::start();
    let p = Project::new(&pg_config(&sources(&server, 5, Duration::ZERO), ""));
    let worker = spawn(&p, &url, &["watch", "--every", "1h"]);
    wait_until("the first build", Duration::from_secs(30), || p.path("output/all/feed.json").is_file());
    // Two instances, neither with the worker's folder: what they serve comes from the database.
    let elsewhere = Project::new(&pg_config(&sources(&server, 5, Duration::ZERO), ""));
    let env = [("FEEDMILL_STATE_URL", url.as_str())];
    let (a, b) = (Served::start_with_env(&elsewhere, &[], &env), Served::start_with_env(&elsewhere, &[], &env));
    let (ra, rb) = (get(a.addr, "/all/feed.json", &[]), get(b.addr, "/all/feed.json", &[]));
    assert_eq!((ra.status, rb.status), (200, 200));
    assert_eq!(ra.body, std::fs::read(p.path("output/all/feed.json")).unwrap(), "the worker's build");
    assert_eq!(ra.body, rb.body);
    assert!(ra.header("etag").is_some());
    assert_eq!(ra.header("etag"), rb.header("etag"), "one ETag on every instance");
    assert!(!elsewhere.path("output").exists(), "served from the database, not a folder");
    let metrics = get(a.addr, "/metrics", &[]).text();
    let runs =
        metrics.lines().find(|l| l.starts_with("feedmill_worker_runs_total{")).unwrap_or_else(|| panic!("{metrics}"));
    assert!(runs.contains(&format!(":{}:", worker.id())) && runs.ends_with(" 1"), "{runs}");
    assert!(metrics.contains("feedmill_worker_entries_new_total{"), "{metrics}");
    a.sigterm();
    b.sigterm();
    Command::new("kill").args(["-TERM", &worker.id().to_string()]).status().unwrap();
    let (code, stderr) = finished(worker);
    assert_eq!(code, 0, "{stderr}");
}
