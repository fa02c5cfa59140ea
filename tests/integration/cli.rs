//! The command line: `check`, `parse`, config errors, help.

use crate::util::{fixture, Project};

#[test]
fn check_reports_every_problem_and_writes_nothing() {
    let p = Project::new("[output]\ndirr = \"x\"\n\n[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\ntimezone = \"Mars/Olympus\"\n\n[[sources]]\nname = \"a\"\nurl = \"https://b.example/\"\n");
    let run = p.feedmill(&["check"]);
    run.assert_code(2);
    assert!(run.stderr.contains("error: unknown key `dirr` in [output]"), "{}", run.stderr);
    assert!(run.stderr.contains(" --> feeds.toml:2:1"), "{}", run.stderr);
    assert!(run.stderr.contains("did you mean `dir`?"));
    // The semantic errors of the same file come with the unknown key, not after it is fixed.
    assert!(run.stderr.contains("unknown time zone `Mars/Olympus`"), "{}", run.stderr);
    assert!(run.stderr.contains("duplicate source name `a`"), "{}", run.stderr);
    assert!(run.stderr.contains("3 errors found"), "{}", run.stderr);
    let p = Project::new("[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\ntimezone = \"Mars/Olympus\"\n\n[[sources]]\nname = \"a\"\nurl = \"https://b.example/\"\n");
    let run = p.feedmill(&["run"]);
    run.assert_code(2);
    assert!(run.stderr.contains("unknown time zone `Mars/Olympus`"), "{}", run.stderr);
    assert!(run.stderr.contains("duplicate source name `a`"), "{}", run.stderr);
    assert!(run.stderr.contains("2 errors found"), "{}", run.stderr);
    assert!(!p.path("output").exists(), "a config error must write nothing");
}

#[test]
fn check_accepts_a_good_config() {
    let p = Project::new("[[sources]]\nname = \"a\"\nurl = \"feeds/a.xml\"\n");
    let run = p.feedmill(&["check"]);
    run.assert_code(0);
    assert!(run.stdout.contains("ok — 1 source, 0 categories, output to"), "{}", run.stdout);
}

#[test]
fn every_takes_the_durations_the_config_takes() {
    let p = Project::new("");
    // The value is read before the config: a missing config, not a refused `1d`, ends the command.
    for every in ["1d", "90", "1.5h"] {
        let run = p.feedmill(&["watch", "-c", "nope.toml", "--every", every]);
        run.assert_code(2);
        assert!(run.stderr.contains("cannot read config file nope.toml"), "{every}: {}", run.stderr);
    }
    let run = p.feedmill(&["watch", "-c", "nope.toml", "--every", "1y"]);
    run.assert_code(2);
    assert!(run.stderr.contains("unknown unit `y`"), "{}", run.stderr);
}

#[test]
fn an_empty_document_is_named() {
    let p = Project::new("[[sources]]\nname = \"a\"\nurl = \"empty.xml\"\n");
    p.write("empty.xml", "");
    let run = p.feedmill(&["run", "--summary", "json"]);
    run.assert_code(1);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let error = v["sources"][0]["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("file://") && error.ends_with("/empty.xml: the document is empty"), "{error}");
}

#[test]
fn a_missing_config_file_is_a_clear_error() {
    let p = Project::new("");
    let run = p.feedmill(&["run", "-c", "nope.toml"]);
    run.assert_code(2);
    assert!(run.stderr.contains("cannot read config file nope.toml"), "{}", run.stderr);
}

#[test]
fn parse_shows_how_a_kazakh_feed_is_understood() {
    let p = Project::new("");
    p.write("abai.xml", fixture("feeds/rss20-kk.xml"));
    let run = p.feedmill(&["parse", "abai.xml", "--timezone", "Asia/Almaty"]);
    run.assert_code(0);
    assert!(run.stdout.starts_with("format:   rss 2.0\nencoding: UTF-8"), "{}", run.stdout);
    assert!(run.stdout.contains("Байбек"), "{}", run.stdout);
    let json = p.feedmill(&["parse", "abai.xml", "--json"]);
    json.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["format"], "rss 2.0");
    assert!(v["entries"].as_array().unwrap().len() >= 3);
}

#[test]
fn parse_says_what_a_non_feed_is() {
    let p = Project::new("");
    p.write("page.html", "<!DOCTYPE html><html><head><title>x</title></head><body>hi</body></html>");
    let run = p.feedmill(&["parse", "page.html"]);
    run.assert_code(2);
    assert!(run.stderr.contains("page.html: not a feed feedmill can read"), "{}", run.stderr);
}

#[test]
fn help_explains_each_command() {
    let run = Project::new("").feedmill(&["--help"]);
    run.assert_code(0);
    for cmd in ["run", "check", "parse", "--quiet", "--verbose", "Exit status"] {
        assert!(run.stdout.contains(cmd), "--help lacks {cmd}");
    }
}

#[test]
fn run_summary_json_is_the_report_for_scripts() {
    let p = Project::new(
        "[[sources]]\nname = \"abai\"\nurl = \"abai.xml\"\n\n[[sources]]\nname = \"gone\"\nurl = \"missing.xml\"\n",
    );
    p.write("abai.xml", fixture("feeds/rss20-kk.xml"));
    let run = p.feedmill(&["run", "--summary", "json"]);
    run.assert_code(1);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["exit_code"], 1);
    let sources = v["sources"].as_array().unwrap();
    assert_eq!(sources[0]["name"], "abai");
    assert_eq!(sources[0]["status"], "ok");
    assert_eq!(sources[0]["format"], "rss 2.0");
    assert!(sources[0]["new"].as_u64().unwrap() >= 3);
    assert!(sources[0]["elapsed_ms"].is_u64());
    assert_eq!(sources[1]["status"], "failed");
    assert!(sources[1]["error"].as_str().unwrap().contains("missing.xml"), "{}", sources[1]);
    assert!(v["files_written"].as_u64().unwrap() > 0);
    assert!(run.stderr.contains("1 of 2 sources ok"), "the table still goes to stderr: {}", run.stderr);
}

#[test]
fn completions_cover_the_subcommands() {
    for shell in ["bash", "zsh", "fish"] {
        let run = Project::new("").feedmill(&["completions", shell]);
        run.assert_code(0);
        assert!(!run.stdout.is_empty(), "{shell}: empty script");
        for cmd in ["run", "watch", "check", "import-opml", "completions"] {
            assert!(run.stdout.contains(cmd), "{shell} completions lack {cmd}");
        }
    }
    Project::new("").feedmill(&["completions", "tcsh"]).assert_code(2);
}

#[test]
fn version_names_the_package_version() {
    let run = Project::new("").feedmill(&["--version"]);
    run.assert_code(0);
    let line = run.stdout.trim();
    assert!(line.starts_with(&format!("feedmill {}", env!("CARGO_PKG_VERSION"))), "{line}");
    // In a git checkout the revision follows in parentheses; elsewhere the bare version.
    let rest = &line[format!("feedmill {}", env!("CARGO_PKG_VERSION")).len()..];
    assert!(rest.is_empty() || (rest.starts_with(" (") && rest.ends_with(')')), "{line}");
}

#[test]
fn quiet_runs_keep_config_warnings_to_check() {
    let p = Project::new(
        "[categories.unused]\n\n[categories.kz]\n\n[[sources]]\nname = \"a\"\nurl = \"a.xml\"\ncategories = [\"kz\"]\n",
    );
    p.write("a.xml", fixture("feeds/atom10-en.xml"));
    let quiet = p.feedmill(&["-q", "run"]);
    quiet.assert_code(0);
    assert!(!quiet.stderr.contains("unused"), "cron would mail this every run: {}", quiet.stderr);
    let loud = p.feedmill(&["run"]);
    assert!(loud.stderr.contains("category `unused` is declared but no source uses it"), "{}", loud.stderr);
    let check = p.feedmill(&["-q", "check"]);
    assert!(check.stderr.contains("category `unused` is declared"), "{}", check.stderr);
}

/// The README's exit status paragraph: a `run` interrupted by SIGINT is ended by the signal (a shell
/// shows 130); stopped while fetching, it has published nothing.
#[cfg(unix)]
#[test]
fn a_run_stopped_by_sigint_ends_by_the_signal_and_writes_nothing() {
    use std::os::unix::process::ExitStatusExt as _;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    use crate::test_server::{Reply, TestServer};

    let server = TestServer::start();
    server.route("/rss", [Reply::ok_as("application/rss+xml", "<rss/>").hang()]);
    let p = Project::new(&crate::util::config(&crate::util::source("slow", &server.url("/rss"))));
    let child = Command::new(env!("CARGO_BIN_EXE_feedmill"))
        .arg("run")
        .current_dir(p.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while server.requests_to("/rss").is_empty() {
        assert!(start.elapsed() < Duration::from_secs(20), "the run never fetched");
        std::thread::sleep(Duration::from_millis(20));
    }
    // A shell without job control starts background commands with SIGINT ignored (POSIX), and the
    // child inherits that: under `nohup cmd &` Ctrl-C cannot reach the run, so SIGTERM stands in for it.
    let (signal, number) = if sigint_ignored() { ("-TERM", 15) } else { ("-INT", 2) };
    assert!(Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        (out.status.code(), out.status.signal()),
        (None, Some(number)),
        "ended by {signal}: 128 + {number} in a shell"
    );
    assert!(!p.path("output").exists(), "nothing published");
}

/// Whether this process ignores SIGINT (`SigIgn` in /proc/self/status: bit 1 is signal 2).
fn sigint_ignored() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let mask = status.lines().find_map(|l| l.strip_prefix("SigIgn:")).map(str::trim).unwrap_or("0");
    u64::from_str_radix(mask, 16).is_ok_and(|m| m & (1 << 1) != 0)
}

/// `feedmill parse x | head`: a reader that goes away stops the listing quietly, without a panic.
#[test]
fn parse_stops_quietly_when_stdout_is_closed() {
    use std::process::{Command, Stdio};

    let p = Project::new("");
    p.write("abai.xml", fixture("feeds/rss20-kk.xml"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_feedmill"))
        .args(["parse", "abai.xml"])
        .current_dir(p.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closed before the child has read its input, so its first line already meets a closed pipe.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
