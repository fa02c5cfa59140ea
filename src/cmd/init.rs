//! `feedmill init`: writes the commented starter config (`feedmill::init`), never over an existing file,
//! and says what to do next.

use feedmill::error::error_chain;
use feedmill::report::{EXIT_FATAL, EXIT_OK};

use crate::cli::ConfigArg;

pub fn execute(args: ConfigArg, quiet: bool) -> anyhow::Result<u8> {
    let path = &args.config;
    if let Err(e) = feedmill::init::write(path) {
        eprintln!("error: {}", error_chain(&e));
        return Ok(EXIT_FATAL);
    }
    if !quiet {
        eprintln!("wrote {}: edit it, then `feedmill check` and `feedmill run`", path.display());
    }
    Ok(EXIT_OK)
}
