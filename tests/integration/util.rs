//! Test helpers: a temporary project (config + output folder), running the real binary, reading outputs;
//! every RSS and Atom output is read back by strict third-party readers (`strict.rs`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

pub struct Project {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Project {
    /// A folder with `feeds.toml` holding `config`. Short timeouts and backoff keep failing tests fast.
    pub fn new(config: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("feeds.toml"), config).unwrap();
        Project { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, bytes).unwrap();
    }

    pub fn feedmill(&self, args: &[&str]) -> Run {
        let out: Output = Command::new(env!("CARGO_BIN_EXE_feedmill"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("FEEDMILL_LOG")
            // Every test server is on 127.0.0.1: a proxy from the environment must not carry a request
            // (or a `.invalid` lookup) anywhere else.
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .env_remove("ALL_PROXY")
            .env_remove("all_proxy")
            .output()
            .expect("run feedmill");
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        self.check_feeds();
        run
    }

    /// Has the strict third-party readers read every `rss.xml` and `atom.xml` in the project (any output
    /// folder), failing the test on the first they reject. Called after each command and when the
    /// project is dropped, so outputs written by a `watch` or `serve` child are read too.
    pub fn check_feeds(&self) -> usize {
        crate::strict::check_tree(self.dir.path()).unwrap_or_else(|e| panic!("a strict reader rejects an output: {e}"))
    }

    pub fn run(&self) -> Run {
        self.feedmill(&["run"])
    }

    pub fn output(&self, rel: &str) -> String {
        let p = self.path("output").join(rel);
        fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    pub fn json(&self, rel: &str) -> serde_json::Value {
        serde_json::from_str(&self.output(rel)).unwrap()
    }

    /// Titles of the items of `output/<slug>/feed.json`, in order.
    pub fn titles(&self, slug: &str) -> Vec<String> {
        self.json(&format!("{slug}/feed.json"))["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["title"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        // A test that already failed keeps its own message.
        if !std::thread::panicking() {
            self.check_feeds();
        }
    }
}

impl Run {
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "exit code\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }
}

/// A config with fast-failing fetch settings and the given `[[sources]]` blocks.
pub fn config(sources: &str) -> String {
    format!(
        "[output]\ntitle = \"Test planet\"\nbase_url = \"https://feeds.example.org/\"\n\n[fetch]\ntimeout = \"3s\"\nconnect_timeout = \"1s\"\nread_timeout = \"2s\"\nretry_after_cap = \"5s\"\n\n{sources}"
    )
}

pub fn source(name: &str, url: &str) -> String {
    format!("[[sources]]\nname = \"{name}\"\nurl = \"{url}\"\n\n")
}
