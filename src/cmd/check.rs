//! `feedmill check`: reads the config and prints every problem with its place in the file; exit 2 when
//! there are errors. It exists to show problems, so its warnings are printed even with `-q`.

use feedmill::report::{counted, EXIT_FATAL, EXIT_OK};

use crate::cli::ConfigArg;

pub fn execute(args: ConfigArg, quiet: bool) -> anyhow::Result<u8> {
    let path = &args.config;
    let Some(config) = super::load(path, false)? else { return Ok(EXIT_FATAL) };
    if !quiet {
        say!(
            "{}: ok — {}, {}, output to {}",
            path.display(),
            counted(config.sources.len(), "source", "sources"),
            counted(config.categories.len(), "category", "categories"),
            config.output.dir.display()
        );
    }
    Ok(EXIT_OK)
}
