//! Criterion's medians, read back so a bench can print ratios between functions measured in one run.
//!
//! In: criterion's output folder and the time the run started. Out: the median time per iteration of a
//! benchmark, from the `new/estimates.json` criterion writes for it. Criterion compares a function only
//! with its own past runs; the issue wants feedmill against baselines measured side by side, so the
//! bench reads the numbers back. Files older than the run are ignored: a benchmark filtered out of this
//! run must not lend a stale figure to today's ratio.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Where criterion writes: `$CRITERION_HOME`, else `<target dir>/criterion` (criterion's own default).
/// The target folder is found from the running bench executable (`<target>/release/deps/<bench>-<hash>`).
pub fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    exe.ancestors().nth(3).unwrap_or(Path::new("target")).join("criterion")
}

/// The results of one bench run.
#[derive(Debug, Clone)]
pub struct Estimates {
    dir: PathBuf,
    since: SystemTime,
}

impl Estimates {
    pub fn new(dir: &Path, since: SystemTime) -> Estimates {
        Estimates { dir: dir.to_owned(), since }
    }

    /// The median time per iteration of `group/function` if it was measured in this run.
    pub fn median(&self, group: &str, function: &str) -> Option<Duration> {
        let path = self.dir.join(group).join(function).join("new/estimates.json");
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok()?;
        if modified < self.since {
            return None;
        }
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
        let nanos = json["median"]["point_estimate"].as_f64()?;
        Some(Duration::from_secs_f64(nanos / 1e9))
    }
}
