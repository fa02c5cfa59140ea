//! `feedmill import-opml`: adds the feeds of another reader's OPML export to the config as sources
//! (folders as categories), editing the file in place so its comments and layout stay
//! (`feedmill::import`). Each addition is listed on stderr; `--dry-run` prints the new config on stdout
//! and writes nothing. A result that would not be a valid config is never written.

use feedmill::import::{import_file, ImportError};
use feedmill::redact;
use feedmill::report::{counted, EXIT_FATAL, EXIT_OK};

use crate::cli::ImportOpmlArgs;

pub fn execute(args: ImportOpmlArgs, quiet: bool) -> anyhow::Result<u8> {
    let config = args.config.config.as_path();
    let dry_run = args.dry_run;
    let imported = match import_file(&args.file, config, dry_run) {
        Ok(imported) => imported,
        Err(ImportError::Invalid(errors)) => {
            eprintln!("error: the config with the imported sources would not be valid; nothing written\n{errors}");
            return Ok(EXIT_FATAL);
        }
        Err(e) => return Err(e.into()),
    };
    if !quiet {
        for a in &imported.added {
            let cats = if a.categories.is_empty() { String::new() } else { format!(" [{}]", a.categories.join(", ")) };
            eprintln!("+ {} {}{cats}", a.name, redact::url(&a.url));
        }
        for (slug, title) in &imported.categories {
            eprintln!("+ category {slug} ({title})");
        }
        for (url, name) in &imported.present {
            eprintln!("= {}: already there as `{name}`", redact::url(url));
        }
    }
    for (url, why) in &imported.skipped {
        eprintln!("warning: {} skipped: {why}", redact::url(url));
    }
    if !quiet {
        let what = if dry_run { "would add" } else { "added" };
        eprintln!(
            "{}: {what} {} and {}; {} already there, {} skipped{}",
            config.display(),
            counted(imported.added.len(), "source", "sources"),
            counted(imported.categories.len(), "category", "categories"),
            imported.present.len(),
            imported.skipped.len(),
            if dry_run { " (dry run: nothing written)" } else { "" }
        );
    }
    if dry_run {
        say_raw!("{}", imported.text);
    }
    Ok(EXIT_OK)
}
