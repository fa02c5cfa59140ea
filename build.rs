//! Build script: the version `feedmill --version` prints, `0.1.0 (1a2b3c4)` in a git checkout.
//!
//! The revision comes from `git rev-parse --short HEAD` when the crate sits in its own checkout and git
//! is installed; anywhere else (a crates.io package, a tarball, no git) it is the bare version. Nothing
//! here can fail the build: every problem falls back to the bare version.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    // Only our own checkout: a package unpacked inside some other repository must not take its revision.
    let revision = if manifest_dir.join(".git").exists() { revision(&manifest_dir) } else { None };
    let full = match revision {
        Some(rev) => format!("{version} ({rev})"),
        None => version,
    };
    println!("cargo:rustc-env=FEEDMILL_VERSION={full}");
}

/// The short revision of HEAD, and a rebuild of this script whenever HEAD or the branch it names moves.
fn revision(dir: &Path) -> Option<String> {
    let head = git(dir, &["rev-parse", "--git-path", "HEAD"]).map(|p| dir.join(p))?;
    watch(&head);
    // HEAD names a branch; a commit moves the branch, not HEAD (in a worktree the branch lives in the
    // common folder, which `--git-path` knows). Packed refs move on `git gc` and fetches.
    if let Some(branch) =
        std::fs::read_to_string(&head).ok().and_then(|h| h.strip_prefix("ref: ").map(|r| r.trim().to_owned()))
    {
        for path in [branch.as_str(), "packed-refs"] {
            if let Some(p) = git(dir, &["rev-parse", "--git-path", path]).map(|p| dir.join(p)) {
                // A branch only in packed-refs gets its own file on the next commit, in this folder.
                match (p.exists(), p.parent()) {
                    (false, Some(parent)) if path == branch => watch(parent),
                    _ => watch(&p),
                }
            }
        }
    }
    git(dir, &["rev-parse", "--short", "HEAD"])
}

fn watch(path: &Path) {
    // A missing file would make cargo rerun this script on every build.
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).current_dir(dir).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}
