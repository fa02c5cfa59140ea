//! `feedmill migrate-state --to URL|FILE`: the config's state copied whole into a new, empty one
//! (`store::migrate`), SQLite ↔ PostgreSQL. Rows per table go to stderr; every name printed is
//! redacted, so the target's password never shows.

use std::path::PathBuf;

use anyhow::{anyhow, bail};

use feedmill::config::StateUrl;
use feedmill::redact;
use feedmill::report::{EXIT_FATAL, EXIT_OK};
use feedmill::store::migrate::{self, Place};

use crate::cli::MigrateStateArgs;

pub fn execute(args: MigrateStateArgs, quiet: bool) -> anyhow::Result<u8> {
    let Some(config) = super::load(&args.config.config, quiet)? else { return Ok(EXIT_FATAL) };
    let (url, path);
    let to = if args.to.starts_with("postgresql://") || args.to.starts_with("postgres://") {
        let password = match &args.to_password_env {
            None => None,
            Some(var) => Some(
                std::env::var(var)
                    .ok()
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| anyhow!("--to-password-env: environment variable `{var}` is not set or empty"))?,
            ),
        };
        url = StateUrl::from_arg(&args.to, "--to", password, args.to_ca_file.as_deref()).map_err(anyhow::Error::msg)?;
        Place::Postgres(&url)
    } else if args.to.contains("://") {
        redact::register_url_secrets(&args.to);
        bail!("--to must be a postgresql:// URL or a SQLite file, not {}", redact::url(&args.to));
    } else {
        if args.to_password_env.is_some() {
            bail!("--to-password-env is for a PostgreSQL target; {} is a SQLite file", args.to);
        }
        path = PathBuf::from(&args.to);
        Place::Sqlite(&path)
    };
    let from = match &config.state_url {
        Some(url) => Place::Postgres(url),
        None => Place::Sqlite(&config.state_path),
    };
    let runtime = super::runtime()?;
    if !quiet {
        eprintln!("copying the state {} to {}", from.shown(), to.shown());
    }
    let counts = migrate::migrate(from, to, args.wait, runtime.handle(), &mut |table, rows| {
        if !quiet {
            eprintln!("  {table:<14} {rows:>10} rows");
        }
    })?;
    if !quiet {
        let rows: u64 = counts.iter().map(|(_, n)| n).sum();
        eprintln!("copied {rows} rows in {} tables to {}", counts.len(), to.shown());
    }
    Ok(EXIT_OK)
}
