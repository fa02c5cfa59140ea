//! Output: categorized stories → the files under `output/`, through the emitters and the one atomic
//! writer. Rendering is pure; `emit::write` decides what actually touches the disk. Every file is staged
//! before any is put in place, so an output folder that cannot be written (read-only, full, a file where
//! a folder should be) fails the run with every published file as it was.
//!
//! Once the folder holds the build, every file of it (changed or not) goes to the store
//! ([`Publish::publish`]): a PostgreSQL state keeps them for its `serve` instances.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use url::Url;

use super::select::Build;
use super::RunError;
use crate::config::{Config, ALL};
use crate::emit::write::{Staged, WriteError};
use crate::emit::{self, CategoryRef, EntryRef, FeedDoc, FeedUrls, SiteDoc, SourceHealth, SourceRef};
use crate::error::error_chain;
use crate::model::Entry;
use crate::redact;
use crate::report::RunReport;
use crate::store::{Outputs, Publish, PublishedFile, SourceState};

/// The step "write": writes the build's files, publishes them under `lock`, then records in the store
/// what the folder now holds. Returns the public URLs of the feed files it changed (none without
/// `base_url`).
pub(super) fn write<S: Outputs + Publish>(
    config: &Config,
    store: &S,
    lock: &mut S::PublishLock,
    build: Build,
    report: &mut RunReport,
) -> Result<Vec<String>, RunError> {
    let Build { out_dir, build_key, states, feeds } = build;
    let (changed, files) = write_outputs(config, &out_dir, &feeds, &states, report)?;
    tracing::debug!("outputs built: {} files written, {} unchanged", report.files_written, report.files_unchanged);
    // Not recorded as built when this fails: the next run builds and publishes again.
    store.publish(lock, &files)?;
    if let Err(e) = store.set_built(&out_dir, &build_key) {
        // Harmless: the next run rebuilds and finds every file unchanged.
        tracing::warn!("cannot record the output build: {}", error_chain(&e));
    }
    Ok(changed)
}

fn write_outputs(
    config: &Config,
    out_dir: &Path,
    feeds: &BTreeMap<String, Vec<Entry>>,
    states: &HashMap<String, SourceState>,
    report: &mut RunReport,
) -> Result<(Vec<String>, Vec<PublishedFile>), WriteError> {
    // Dropped on an early return, the files staged so far are removed unpublished.
    let mut staged: Vec<Staged> = Vec::new();
    let mut unchanged = 0;
    // The public URLs of the feed files this build changes: the topics a WebSub hub is told about.
    let mut changed = Vec::new();
    let mut files = Vec::new();
    let mut write = |path: PathBuf, bytes: String, url: Option<&String>| -> Result<(), WriteError> {
        match emit::write::stage(&path, bytes.as_bytes())? {
            Some(file) => {
                staged.push(file);
                changed.extend(url.cloned());
            }
            None => unchanged += 1,
        }
        files.push(PublishedFile { path: relative(out_dir, &path), bytes: bytes.into_bytes() });
        Ok(())
    };

    let all_sources: Vec<SourceRef> = config
        .sources
        .iter()
        .map(|s| {
            let state = states.get(&s.name);
            // A source whose URL is private shows none, not even inside its last error.
            let error = |e: &str| if s.publish_url { redact::text(e) } else { redact::hide_urls(e) };
            SourceRef {
                name: s.name.clone(),
                title: s.title.clone().or_else(|| state.and_then(|st| st.title.clone())),
                feed_url: s.publish_url.then(|| redact::url(&s.url)),
                site_url: state.and_then(|st| st.site_url.clone()),
                health: state.map_or_else(SourceHealth::default, |st| SourceHealth {
                    last_success: st.last_success,
                    failures: st.failures,
                    last_error: st.last_error.as_deref().map(error),
                }),
            }
        })
        .collect();
    // Entries name their source by its configured name; readers know it by its feed's title.
    let shown_name: HashMap<&str, &str> =
        all_sources.iter().map(|s| (s.name.as_str(), s.title.as_deref().unwrap_or(&s.name))).collect();
    let source_index: emit::SourceIndex = all_sources.iter().map(|s| (s.name.as_str(), s)).collect();

    let mut categories = Vec::new();
    let mut newest = DateTime::<Utc>::UNIX_EPOCH;
    for (slug, entries) in feeds {
        let (title, description) = match config.category(slug) {
            Some(c) => (c.title.as_str(), c.description.as_deref()),
            None => (config.output.title.as_str(), config.output.description.as_deref()),
        };
        let urls = config.output.base_url.as_ref().map(|base| FeedUrls {
            rss: join(base, &format!("{slug}/rss.xml")),
            atom: join(base, &format!("{slug}/atom.xml")),
            json: join(base, &format!("{slug}/feed.json")),
        });
        let id = match &urls {
            Some(u) => u.atom.clone(),
            None => format!("urn:feedmill:feed:{slug}"),
        };
        let updated = entries.iter().map(Entry::last_modified).max().unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        newest = newest.max(updated);
        let language = config.output.language.clone().or_else(|| common_language(entries));
        let doc = FeedDoc {
            slug,
            title,
            description,
            home_url: config.output.base_url.as_ref().map(Url::as_str),
            urls: urls.as_ref(),
            hub: config.output.hub.as_ref().filter(|_| urls.is_some()).map(Url::as_str),
            language: language.as_deref(),
            updated,
            id: &id,
            entries,
            sources: Some(&source_index),
        };
        let dir = out_dir.join(slug);
        write(dir.join("rss.xml"), emit::rss::render(&doc), urls.as_ref().map(|u| &u.rss))?;
        write(dir.join("atom.xml"), emit::atom::render(&doc), urls.as_ref().map(|u| &u.atom))?;
        write(dir.join("feed.json"), emit::json_feed::render(&doc), urls.as_ref().map(|u| &u.json))?;

        let sources = config
            .sources
            .iter()
            .zip(&all_sources)
            .filter(|(s, _)| slug == ALL || s.categories.iter().any(|c| c == slug))
            .map(|(_, source)| source.clone())
            .collect();
        let latest = entries
            .iter()
            .take(emit::index_html::LATEST)
            .map(|e| EntryRef {
                title: e.title.clone(),
                url: e.url.clone(),
                source: shown_name.get(e.source.as_str()).copied().unwrap_or(&e.source).to_owned(),
                date: e.published.or(e.updated),
            })
            .collect();
        categories.push(CategoryRef {
            slug: slug.clone(),
            title: title.to_owned(),
            description: description.map(str::to_owned),
            rss_path: format!("{slug}/rss.xml"),
            atom_path: format!("{slug}/atom.xml"),
            json_path: format!("{slug}/feed.json"),
            urls,
            entry_count: entries.len(),
            latest,
            sources,
        });
    }
    // `all` first, then the categories in slug order (the BTreeMap already sorted them).
    categories.sort_by_key(|c| c.slug != ALL);
    let site = SiteDoc {
        title: &config.output.title,
        description: config.output.description.as_deref(),
        categories: &categories,
        updated: newest,
        language: config.output.language.as_deref(),
        sources: &all_sources,
    };
    write(out_dir.join("index.html"), emit::index_html::render(&site), None)?;
    write(out_dir.join("sources.opml"), emit::opml::render(&site), None)?;
    report.files_unchanged += unchanged;
    report.files_written += emit::write::commit(staged)?;
    Ok((changed, files))
}

/// `path`'s place under `out_dir`, `/` separated whatever the platform: `all/rss.xml`.
fn relative(out_dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(out_dir).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

fn join(base: &Url, path: &str) -> String {
    base.join(path).map_or_else(|_| format!("{base}{path}"), String::from)
}

/// The language every entry shares, if they all state the same one.
fn common_language(entries: &[Entry]) -> Option<String> {
    let first = entries.first()?.language.as_ref()?;
    entries.iter().all(|e| e.language.as_ref() == Some(first)).then(|| first.clone())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::{TimeZone, Utc};

    use super::super::{run, Reparse, RunOptions};
    use crate::config::Config;
    use crate::report::RunReport;
    use crate::store::postgres::testing::{fresh, fresh_schema_url, server_url, RUNTIME};
    use crate::store::postgres::PgStore;
    use crate::store::{Backend, Publish, Store};

    const FEED: &str = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Abai</title>
<link>https://abai.example/</link>
<item><title>One</title><link>https://abai.example/1</link><guid>1</guid><pubDate>Sat, 23 Nov 2024 08:00:00 GMT</pubDate></item>
<item><title>Two</title><link>https://abai.example/2</link><guid>2</guid><pubDate>Sat, 23 Nov 2024 09:00:00 GMT</pubDate></item>
</channel></rss>"#;

    /// Every file under `dir`, by its path under it (`all/rss.xml`), with its bytes.
    fn folder(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_owned()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    out.push((super::relative(dir, &path), std::fs::read(&path).unwrap()));
                }
            }
        }
        out.sort();
        out
    }

    /// A config of one source, a local feed file, in `dir`.
    fn one_feed(dir: &Path) -> Config {
        #[allow(clippy::disallowed_methods)]
        std::fs::write(dir.join("feed.xml"), FEED).unwrap();
        let toml = "[[sources]]\nname = \"abai\"\nurl = \"feed.xml\"\n";
        Config::parse(toml, "feeds.toml", dir).unwrap()
    }

    fn run_into(config: &Config, store: &mut impl Backend, out: &Path) -> RunReport {
        let opts = RunOptions {
            output_dir: Some(out.to_owned()),
            now: Utc.with_ymd_and_hms(2024, 11, 23, 10, 0, 0).unwrap(),
            force: true,
            reparse: Reparse::None,
            default_interval: None,
            on_source_done: None,
        };
        let report = RUNTIME.block_on(run(config, store, &opts));
        assert!(report.output_error.is_none(), "{:?}", report.output_error);
        report
    }

    #[test]
    fn a_run_publishes_every_file_of_its_build_as_the_folder_holds_it() {
        let Some(mut pg) = fresh() else { return };
        let dir = tempfile::tempdir().unwrap();
        let config = one_feed(dir.path());
        let (sqlite_out, pg_out) = (dir.path().join("sqlite"), dir.path().join("pg"));
        run_into(&config, &mut Store::in_memory().unwrap(), &sqlite_out);
        run_into(&config, &mut pg, &pg_out);

        let written = folder(&pg_out);
        assert!(
            written.iter().any(|(p, _)| p == "all/rss.xml"),
            "{:?}",
            written.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
        assert_eq!(folder(&sqlite_out), written, "both backends build the same bytes");
        let stored: Vec<(String, Vec<u8>)> = RUNTIME
            .block_on(pg.published())
            .unwrap()
            .into_iter()
            .inspect(|row| assert_eq!(row.etag, crate::serve::etag_of(&row.bytes)))
            .map(|row| (row.path, row.bytes))
            .collect();
        assert_eq!(stored, written, "the rows are the folder's files");
    }

    #[test]
    fn a_run_waits_for_the_publisher_holding_the_lock_and_the_next_finds_its_build_made() {
        let Some(server) = server_url() else { return };
        let url = crate::store::postgres::testing::state_url(&fresh_schema_url(&server));
        let (holder, mut worker) = (
            PgStore::open(&url, RUNTIME.handle().clone()).unwrap(),
            PgStore::open(&url, RUNTIME.handle().clone()).unwrap(),
        );
        let dir = tempfile::tempdir().unwrap();
        let config = one_feed(dir.path());
        let out = dir.path().join("out");
        let lock = holder.lock_publish().unwrap();
        let (done_tx, done) = std::sync::mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(|| {
                run_into(&config, &mut worker, &out);
                done_tx.send(()).unwrap();
            });
            // The run records, then waits at "select" for the lock another publisher holds.
            assert!(done.recv_timeout(std::time::Duration::from_millis(1500)).is_err(), "the run did not wait");
            assert!(!out.join("index.html").exists(), "nothing written while the other publisher holds the lock");
            drop(lock);
            done.recv().unwrap();
        });
        let written = folder(&out);
        let stored: Vec<(String, Vec<u8>)> =
            RUNTIME.block_on(holder.published()).unwrap().into_iter().map(|row| (row.path, row.bytes)).collect();
        assert_eq!(stored, written);
        let mut holder = holder;
        let again = run_into(&config, &mut holder, &out);
        assert!(again.outputs_current, "the build key recorded under the lock says the folder is current");
    }
}
