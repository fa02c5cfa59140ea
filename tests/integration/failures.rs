//! Failures around the run rather than in a source: an output folder that cannot be written, a state
//! database another program holds locked. Each ends with a clear error and a non-zero exit, leaves what
//! was published and what was stored as it was, and the next run works.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::test_server::{Reply, TestServer};
use crate::util::{config, Project};

fn item(n: u32) -> String {
    format!(
        "<item><title>Жаңалық {n}</title><link>https://abai.kz/post/{n}</link>\
         <pubDate>Thu, {n:02} Jul 2019 12:00:00 +0600</pubDate><description>Мәтін {n}.</description></item>"
    )
}

fn feed(items: &[u32]) -> String {
    let items: String = items.iter().map(|n| item(*n)).collect();
    format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Abai</title>{items}</channel></rss>")
}

/// One source in two categories, `kz` and `zz` (`zz` sorts last, so it is the last folder written).
fn project(server: &TestServer, extra: &str) -> Project {
    server.route("/rss", [Reply::ok_as("application/rss+xml", feed(&[1]))]);
    let cfg = config(&format!(
        "[[sources]]\nname = \"abai\"\nurl = \"{}\"\ncategories = [\"kz\", \"zz\"]\n",
        server.url("/rss")
    ));
    Project::new(&format!("{extra}{cfg}"))
}

/// Every file under `dir` (temp files included), with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

fn integrity_ok(p: &Project) -> bool {
    let db = rusqlite::Connection::open(p.path(".feedmill/state.db")).unwrap();
    db.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)).unwrap() == "ok"
}

fn error_line(stderr: &str) -> &str {
    stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or_else(|| panic!("no error line:\n{stderr}"))
}

/// A folder of the output that cannot be written, found only after others were: nothing published
/// changes, the run says which path failed and exits 2, and the next run publishes everything.
///
/// Made unwritable in a way root cannot get around, since CI runs the tests as root and root ignores
/// permission bits: when a probe shows `chmod 0555` holds (an ordinary user), `output/zz` is made
/// read-only; when it does not (root), `output/zz` is replaced by a plain file, which no one can create
/// files inside. `zz/*` is then no longer "previously published", and is left out of the comparison.
#[cfg(unix)]
#[test]
fn an_output_folder_that_cannot_be_written_changes_nothing_published() {
    use std::os::unix::fs::PermissionsExt as _;

    let server = TestServer::start();
    let p = project(&server, "");
    p.run().assert_code(0);
    let out = p.path("output");
    let zz = out.join("zz");
    std::fs::set_permissions(&zz, std::fs::Permissions::from_mode(0o555)).unwrap();
    let root = std::fs::File::create(zz.join(".probe")).is_ok();
    if root {
        std::fs::set_permissions(&zz, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::remove_dir_all(&zz).unwrap();
        std::fs::write(&zz, "not a folder").unwrap();
    }
    let before = snapshot(&out);
    assert!(before.contains_key("all/rss.xml") && before.contains_key("kz/feed.json"), "{:?}", before.keys());

    // A new entry: every feed and the index would change.
    server.route("/rss", [Reply::ok_as("application/rss+xml", feed(&[2, 1]))]);
    let run = p.run();
    run.assert_code(2);
    let expected = if root {
        format!("error: cannot create folder {}: ", zz.display())
    } else {
        format!("error: cannot write {}: Permission denied", zz.join("rss.xml").display())
    };
    assert!(error_line(&run.stderr).starts_with(&expected), "{}", run.stderr);
    assert_eq!(snapshot(&out), before, "published files changed, or a temp file was left behind");
    assert!(integrity_ok(&p));

    // Fixed, the next run publishes the new entry everywhere.
    if root {
        std::fs::remove_file(&zz).unwrap();
    } else {
        std::fs::set_permissions(&zz, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    p.run().assert_code(0);
    for slug in ["all", "kz", "zz"] {
        assert_eq!(p.titles(slug), ["Жаңалық 2", "Жаңалық 1"], "{slug}");
    }
}

/// `/proc` refuses new folders even to root: an output folder there fails clearly and costs nothing.
#[cfg(target_os = "linux")]
#[test]
fn an_output_folder_on_a_read_only_file_system_fails_and_the_next_run_works() {
    let server = TestServer::start();
    let p = project(&server, "");
    let run = p.feedmill(&["run", "--output", "/proc/feedmill-out"]);
    run.assert_code(2);
    assert!(error_line(&run.stderr).starts_with("error: cannot create folder /proc/feedmill-out/"), "{}", run.stderr);
    assert!(integrity_ok(&p));
    p.run().assert_code(0);
    assert_eq!(p.titles("all"), ["Жаңалық 1"]);
}

/// Holds a write transaction on the state database, as a `sqlite3` shell in the middle of one would.
fn hold_lock(p: &Project) -> rusqlite::Connection {
    let other = rusqlite::Connection::open(p.path(".feedmill/state.db")).unwrap();
    other
        .execute_batch("BEGIN EXCLUSIVE; INSERT INTO meta (key, value) VALUES ('other program', 'was here');")
        .unwrap();
    other
}

#[test]
fn a_state_database_locked_by_another_program_fails_after_the_busy_timeout() {
    let server = TestServer::start();
    let p = project(&server, "[state]\nbusy_timeout = \"1s\"\n\n");
    p.run().assert_code(0);
    let before = snapshot(&p.path("output"));

    server.route("/rss", [Reply::ok_as("application/rss+xml", feed(&[2, 1]))]);
    let other = hold_lock(&p);
    let started = Instant::now();
    let run = p.run();
    let took = started.elapsed();
    run.assert_code(2);
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(6), "took {took:?}");
    assert_eq!(
        error_line(&run.stderr),
        format!(
            "error: state database {} is locked by another program; gave up after 1s (let it finish, or raise [state] busy_timeout)",
            p.path(".feedmill/state.db").display()
        )
    );
    assert_eq!(snapshot(&p.path("output")), before, "nothing is published from a run that could not be stored");

    other.execute_batch("ROLLBACK").unwrap();
    drop(other);
    assert!(integrity_ok(&p));
    p.run().assert_code(0);
    assert_eq!(p.titles("all"), ["Жаңалық 2", "Жаңалық 1"]);
}

#[test]
fn a_short_lock_by_another_program_is_waited_out() {
    let server = TestServer::start();
    let p = project(&server, "[state]\nbusy_timeout = \"5s\"\n\n");
    p.run().assert_code(0);
    server.route("/rss", [Reply::ok_as("application/rss+xml", feed(&[2, 1]))]);
    let other = hold_lock(&p);
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        other.execute_batch("ROLLBACK").unwrap();
    });
    let started = Instant::now();
    let run = p.run();
    let took = started.elapsed();
    release.join().unwrap();
    run.assert_code(0);
    assert!(took >= Duration::from_millis(1000), "the run cannot have written while the lock was held: {took:?}");
    assert_eq!(p.titles("all"), ["Жаңалық 2", "Жаңалық 1"]);
}
