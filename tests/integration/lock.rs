//! The run lock: two `run`s on one state never work at once, and a killed run leaves no lock behind.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use feedmill::store::{LockError, RunLock};

use crate::test_server::{Reply, TestServer};
use crate::util::{config, Project};

const FEED: &str = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>a</title>\
                    <item><title>Бірінші</title><link>https://abai.kz/1</link></item></channel></rss>";

/// How long the source keeps a run waiting for its answer.
const SLOW: Duration = Duration::from_secs(3);

/// A project whose only source answers after [`SLOW`], and a run of it started in the background that
/// is known to hold the lock: its request has reached the server.
fn slow_run(server: &TestServer) -> (Project, Child) {
    server.route("/slow", [Reply::ok_as("application/rss+xml", FEED).delay(SLOW)]);
    let cfg = config(&format!("[[sources]]\nname = \"slow\"\nurl = \"{}\"\n", server.url("/slow")))
        .replace("timeout = \"3s\"", "timeout = \"20s\"");
    let p = Project::new(&cfg);
    let child = Command::new(env!("CARGO_BIN_EXE_feedmill"))
        .args(["run", "-q"])
        .current_dir(p.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while server.requests_to("/slow").is_empty() {
        assert!(start.elapsed() < Duration::from_secs(20), "the first run never fetched");
        std::thread::sleep(Duration::from_millis(20));
    }
    (p, child)
}

#[test]
fn a_second_run_on_the_same_state_fails_fast_naming_the_lock_and_its_holder() {
    let server = TestServer::start();
    let (p, first) = slow_run(&server);
    let started = Instant::now();
    let second = p.run();
    assert!(started.elapsed() < SLOW / 2, "the second run waited {:?}", started.elapsed());
    second.assert_code(2);
    assert_eq!(
        second.stderr.trim_end(),
        format!(
            "error: {} is held by another feedmill (pid {}) working on the same state; let it finish, or pass --wait to wait for it",
            p.path(".feedmill/state.db.lock").display(),
            first.id()
        )
    );

    // Read-only commands do not take the lock.
    p.feedmill(&["status"]).assert_code(0);
    let still_held = RunLock::try_acquire(&p.path(".feedmill/state.db"));
    assert!(matches!(still_held, Err(LockError::Held { .. })), "status ran while the first run held the lock");

    let out = first.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(p.titles("all"), ["Бірінші"]);
    assert_eq!(server.requests_to("/slow").len(), 1, "the second run fetched nothing");
}

#[test]
fn with_wait_the_second_run_starts_when_the_first_is_done() {
    let server = TestServer::start();
    let (p, first) = slow_run(&server);
    let second = Command::new(env!("CARGO_BIN_EXE_feedmill"))
        .args(["run", "--wait"])
        .current_dir(p.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first = first.wait_with_output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", String::from_utf8_lossy(&first.stderr));
    let second = second.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(0), "{stderr}");
    assert!(stderr.starts_with("waiting for the feedmill (pid "), "{stderr}");
    let requests = server.requests_to("/slow");
    assert_eq!(requests.len(), 2);
    assert!(requests[1].at - requests[0].at >= SLOW, "the second run fetched while the first was still running");
}

#[test]
fn a_killed_run_leaves_no_lock_behind() {
    let server = TestServer::start();
    let (p, mut first) = slow_run(&server);
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(p.path(".feedmill/state.db.lock").is_file(), "the file stays");
    server.route("/slow", [Reply::ok_as("application/rss+xml", FEED)]);
    p.run().assert_code(0);
    assert_eq!(p.titles("all"), ["Бірінші"]);
}
