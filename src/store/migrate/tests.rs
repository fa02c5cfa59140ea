use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::config::{Config, StateUrl};
use crate::fetch::test_server::{Reply, TestServer};
use crate::pipeline::{self, Reparse, RunOptions};
use crate::store::postgres::testing::{self, Param, Seed as _};

type Dump = Vec<(&'static str, Vec<Vec<Value>>)>;

/// Every row of every copied table, sorted (row numbers included where kept).
fn dump(reader: &mut dyn Reader) -> Dump {
    TABLES
        .iter()
        .map(|t| {
            let mut rows = Vec::new();
            reader
                .scan(t, &mut |r| {
                    rows.push(r);
                    Ok(())
                })
                .unwrap();
            rows.sort();
            (t.name, rows)
        })
        .collect()
}

fn sqlite_dump(path: &Path) -> Dump {
    dump(&mut SqliteReader::open(path).unwrap())
}

fn pg_dump(url: &StateUrl) -> Dump {
    dump(&mut PgStore::open(url, testing::RUNTIME.handle().clone()).unwrap().reader().unwrap())
}

fn rows_of<'a>(d: &'a Dump, table: &str) -> &'a [Vec<Value>] {
    &d.iter().find(|(t, _)| *t == table).unwrap().1
}

fn migrate_quietly(from: Place, to: Place) -> Result<Vec<(&'static str, u64)>, MigrateError> {
    migrate(from, to, false, testing::RUNTIME.handle(), &mut |_, _| {})
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap()
}

/// An RSS document of `(guid, title, link)` items, dated an hour apart.
fn feed(title: &str, items: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut out = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{title}</title><link>http://example.org/</link>"
    );
    for (i, (guid, t, link)) in items.iter().enumerate() {
        out.push_str(&format!(
            "<item><guid isPermaLink=\"false\">{guid}</guid><title>{t}</title><link>{link}</link>\
             <pubDate>Mon, 02 Mar 2026 0{}:00:00 +0000</pubDate><description>{t}, told at length.</description></item>",
            i + 1
        ));
    }
    out.push_str("</channel></rss>");
    out.into_bytes()
}

fn config(dir: &Path, server: &TestServer, second: &str) -> Config {
    let text = format!(
        "[output]\ndir = \"out\"\nretention = \"2h\"\n\n[[filters.block]]\ntitle = [\"Advert*\"]\n\n\
         [[sources]]\nname = \"alpha\"\nurl = \"{}\"\n\n[[sources]]\nname = \"{second}\"\nurl = \"{}\"\n",
        server.url("/a.xml"),
        server.url("/b.xml")
    );
    Config::parse(&text, "feeds.toml", dir).unwrap()
}

fn options(now: DateTime<Utc>, out: PathBuf) -> RunOptions {
    RunOptions {
        output_dir: Some(out),
        now,
        force: true,
        reparse: Reparse::None,
        default_interval: None,
        on_source_done: None,
    }
}

fn run(config: &Config, store: &mut impl crate::store::Backend, now: DateTime<Utc>, out: PathBuf) {
    let report = testing::RUNTIME.block_on(pipeline::run(config, store, &options(now, out)));
    assert_eq!(report.exit_code(), 0, "{:?}", report.output_error);
}

/// Every file under `dir`, by its path inside it.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(path.strip_prefix(dir).unwrap().to_owned(), std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

#[test]
fn a_state_built_by_runs_goes_to_postgresql_and_back_whole_and_publishes_the_same_feeds() {
    let Some(server_url) = testing::server_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start();
    let original = dir.path().join("state.db");

    // Run 1: a filtered advert, and a story told by both sources (one link).
    server.route(
        "/a.xml",
        [Reply::ok(feed(
            "Alpha",
            &[
                ("a1", "Floods in the north", "http://example.org/floods"),
                ("a2", "Advert: buy now", "http://example.org/ad"),
                ("a3", "Harvest", "http://example.org/harvest"),
            ],
        ))],
    );
    server.route(
        "/b.xml",
        [Reply::ok(feed(
            "Beta",
            &[("b1", "Floods up north", "http://example.org/floods"), ("b2", "Roads", "http://example.org/roads")],
        ))],
    );
    let mut store = Store::open(&original, super::super::DEFAULT_BUSY_TIMEOUT).unwrap();
    run(&config(dir.path(), &server, "beta"), &mut store, t0(), dir.path().join("out"));
    // Run 2: `beta` renamed `gamma` (same URL: its ids stay); a1 leaves its feed.
    server.route(
        "/a.xml",
        [Reply::ok(feed(
            "Alpha",
            &[
                ("a3", "Harvest", "http://example.org/harvest"),
                ("a2", "Advert: buy now", "http://example.org/ad"),
                ("a4", "Schools", "http://example.org/schools"),
            ],
        ))],
    );
    let renamed = config(dir.path(), &server, "gamma");
    run(&renamed, &mut store, t0() + Duration::hours(1), dir.path().join("out"));
    // Run 3: a1 unlisted for longer than the retention: purged, a tombstone left.
    run(&renamed, &mut store, t0() + Duration::hours(4), dir.path().join("out"));
    drop(store);

    let before = sqlite_dump(&original);
    for table in ["sources", "entries", "tombstones", "meta", "story_members", "raw_bodies", "filtered"] {
        assert!(!rows_of(&before, table).is_empty(), "the runs left no row in {table}");
    }
    assert!(rows_of(&before, "sources").iter().any(|r| r[1] == Value::Text("gamma".into())));

    let pg_url = testing::state_url(&testing::fresh_schema_url(&server_url));
    let counts = migrate_quietly(Place::Sqlite(&original), Place::Postgres(&pg_url)).unwrap();
    let expected: Vec<(&str, u64)> = before.iter().map(|(t, rows)| (*t, rows.len() as u64)).collect();
    assert_eq!(counts, expected);
    assert_eq!(pg_dump(&pg_url), before, "SQLite → PostgreSQL");
    let copy = dir.path().join("copy/state.db");
    migrate_quietly(Place::Postgres(&pg_url), Place::Sqlite(&copy)).unwrap();
    assert_eq!(sqlite_dump(&copy), before, "PostgreSQL → SQLite");
    // Each backend to its own kind, too.
    let sqlite_twin = dir.path().join("twin.db");
    migrate_quietly(Place::Sqlite(&original), Place::Sqlite(&sqlite_twin)).unwrap();
    assert_eq!(sqlite_dump(&sqlite_twin), before, "SQLite → SQLite");
    let pg_twin = testing::state_url(&testing::fresh_schema_url(&server_url));
    migrate_quietly(Place::Postgres(&pg_url), Place::Postgres(&pg_twin)).unwrap();
    assert_eq!(pg_dump(&pg_twin), before, "PostgreSQL → PostgreSQL");
    let hosts =
        PgStore::open(&pg_url, testing::RUNTIME.handle().clone()).unwrap().texts("SELECT DISTINCT host FROM sources");
    assert_eq!(hosts, ["127.0.0.1"]);

    // Run 4 on each: a1 listed again (the tombstone keeps it out), a new entry; same clock, same feeds.
    server.route(
        "/a.xml",
        [Reply::ok(feed(
            "Alpha",
            &[
                ("a1", "Floods in the north", "http://example.org/floods"),
                ("a3", "Harvest", "http://example.org/harvest"),
                ("a6", "Advert: sale", "http://example.org/sale"),
                ("a5", "Rain", "http://example.org/rain"),
            ],
        ))],
    );
    let now = t0() + Duration::hours(5);
    let mut store = Store::open(&original, super::super::DEFAULT_BUSY_TIMEOUT).unwrap();
    run(&renamed, &mut store, now, dir.path().join("out-original"));
    drop(store);
    let mut store = Store::open(&copy, super::super::DEFAULT_BUSY_TIMEOUT).unwrap();
    run(&renamed, &mut store, now, dir.path().join("out-copy"));
    drop(store);
    let mut pg = PgStore::open(&pg_url, testing::RUNTIME.handle().clone()).unwrap();
    run(&renamed, &mut pg, now, dir.path().join("out-pg"));

    let published = files(&dir.path().join("out-original"));
    assert!(published.keys().any(|p| p.ends_with("feed.json")), "{:?}", published.keys());
    let all = String::from_utf8_lossy(&published[Path::new("all/feed.json")]).into_owned();
    assert!(all.contains("Rain") && !all.contains("Floods in the north") && !all.contains("Advert"), "{all}");
    assert_eq!(files(&dir.path().join("out-copy")), published, "a run on the SQLite copy");
    assert_eq!(files(&dir.path().join("out-pg")), published, "a run on the PostgreSQL copy");
    // The new entry got the number SQLite gives (the largest + 1): the identity sequence was moved
    // past the copied numbers, not left to draw ones a purge freed.
    let ids = |d: &Dump| -> Vec<(Value, Value)> {
        let mut v: Vec<_> = rows_of(d, "entries").iter().map(|r| (r[0].clone(), r[2].clone())).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&pg_dump(&pg_url)), ids(&sqlite_dump(&original)), "entries' row numbers after a run");
    // After a run on each, the states differ only where they name the run's output folder, and in
    // the order of keys in the JSON some meta values hold (written from hash maps): read as JSON.
    let settled = |mut d: Dump| {
        for (table, rows) in &mut d {
            if *table == "meta" {
                rows.retain(|r| !matches!(&r[0], Value::Text(k) if k.starts_with("outputs:")));
                for r in rows.iter_mut() {
                    if let Value::Text(v) = &r[1] {
                        if let Ok(json) = serde_json::from_str::<serde_json::Value>(v) {
                            r[1] = Value::Text(json.to_string());
                        }
                    }
                }
            }
        }
        d
    };
    let (after_copy, after_original) = (settled(sqlite_dump(&copy)), settled(sqlite_dump(&original)));
    for ((table, a), (_, b)) in after_copy.iter().zip(&after_original) {
        let only_copy: Vec<_> = a.iter().filter(|r| !b.contains(r)).collect();
        let only_original: Vec<_> = b.iter().filter(|r| !a.contains(r)).collect();
        assert!(
            only_copy.is_empty() && only_original.is_empty(),
            "after a run on each, {table}: in the copy only {only_copy:?}; in the original only {only_original:?}"
        );
    }
}

#[test]
fn a_target_holding_a_state_is_refused_and_left_unchanged() {
    let Some(server_url) = testing::server_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.db");
    let store = Store::open(&source, super::super::DEFAULT_BUSY_TIMEOUT).unwrap();
    store.exec("INSERT INTO sources (name, configured_url) VALUES ('a', 'https://a.example/feed')", &[]);
    store.exec("INSERT INTO meta (key, value) VALUES ('content_version', '7')", &[]);
    drop(store);

    // A SQLite file holding one tombstone.
    let file = dir.path().join("taken.db");
    let store = Store::open(&file, super::super::DEFAULT_BUSY_TIMEOUT).unwrap();
    store.exec("INSERT INTO tombstones (source, key, purged_at) VALUES ('x', $1, 5)", &[Param::Text("k")]);
    drop(store);
    let before = std::fs::read(&file).unwrap();
    let err = migrate_quietly(Place::Sqlite(&source), Place::Sqlite(&file)).unwrap_err();
    assert!(matches!(err, MigrateError::NotEmpty { table: "tombstones", .. }), "{err:?}");
    assert!(err.to_string().contains(&file.display().to_string()), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), before);

    // A PostgreSQL schema holding a copy already.
    let pg_url = testing::state_url(&testing::fresh_schema_url(&server_url));
    migrate_quietly(Place::Sqlite(&source), Place::Postgres(&pg_url)).unwrap();
    let pg = PgStore::open(&pg_url, testing::RUNTIME.handle().clone()).unwrap();
    pg.exec("UPDATE meta SET value = '8' WHERE key = 'content_version'", &[]);
    let held = pg_dump(&pg_url);
    let err = migrate_quietly(Place::Sqlite(&source), Place::Postgres(&pg_url)).unwrap_err();
    assert!(matches!(err, MigrateError::NotEmpty { table: "sources", .. }), "{err:?}");
    assert!(err.to_string().contains(pg_url.shown()), "{err}");
    assert_eq!(pg_dump(&pg_url), held);

    // A run holding the source: no snapshot to take until it ends.
    let running = RunLock::try_acquire(&source).unwrap();
    let other = dir.path().join("other.db");
    let err = migrate_quietly(Place::Sqlite(&source), Place::Sqlite(&other)).unwrap_err();
    assert!(matches!(err, MigrateError::Lock(LockError::Held { .. })), "{err:?}");
    drop(running);
    migrate_quietly(Place::Sqlite(&source), Place::Sqlite(&other)).unwrap();

    // The source itself.
    let err = migrate_quietly(Place::Sqlite(&source), Place::Sqlite(&source)).unwrap_err();
    assert!(matches!(err, MigrateError::SameState { .. }), "{err:?}");
}

#[test]
fn a_copy_that_fails_midway_leaves_the_target_empty() {
    let Some(server_url) = testing::server_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.db");
    let store = Store::open(&source, super::super::DEFAULT_BUSY_TIMEOUT).unwrap();
    store.exec("INSERT INTO sources (name, configured_url) VALUES ('a', 'https://a.example/feed')", &[]);
    // SQLite's INTEGER holds it, PostgreSQL's does not: the entries fail after the sources were written.
    store.exec(
        "INSERT INTO entries (source, id, first_seen, last_seen, in_feed, entry) VALUES ('a', 'e', 1, 1, 4294967296, '{}')",
        &[],
    );
    drop(store);
    let pg_url = testing::state_url(&testing::fresh_schema_url(&server_url));
    let err = migrate_quietly(Place::Sqlite(&source), Place::Postgres(&pg_url)).unwrap_err();
    assert!(matches!(err, MigrateError::Value { table: "entries", column: "in_feed", .. }), "{err:?}");
    assert!(pg_dump(&pg_url).iter().all(|(_, rows)| rows.is_empty()), "rows were left behind");
    // Empty, it takes the next copy.
    let store = Store::open(&source, super::super::DEFAULT_BUSY_TIMEOUT).unwrap();
    store.exec("UPDATE entries SET in_feed = 1", &[]);
    drop(store);
    migrate_quietly(Place::Sqlite(&source), Place::Postgres(&pg_url)).unwrap();
    assert_eq!(pg_dump(&pg_url), sqlite_dump(&source));
}

/// What PostgreSQL's schema has beyond SQLite's, on purpose: the workers' runtime state, not copied.
const PG_ONLY: &[(&str, &[&str])] = &[
    ("sources", &["host", "leased_by", "lease_until", "claimed_in", "offered", "offered_url", "offered_digest"]),
    ("workers", &["id", "host", "pid", "started", "heartbeat", "counters", "run_id", "round_clock"]),
    ("published", &["path", "bytes", "etag", "published_at"]),
    ("schema_version", &["version"]),
    ("offer", &["digest"]),
];

#[test]
fn every_column_of_both_schemas_is_copied_with_its_type_or_named_as_not_copied() {
    let listed: BTreeMap<&str, Vec<(&str, Kind)>> = TABLES.iter().map(|t| (t.name, t.columns.to_vec())).collect();

    let sqlite = Store::in_memory().unwrap();
    let tables = sqlite.texts("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
    let mut found = BTreeMap::new();
    for table in &tables {
        let mut stmt = sqlite.conn.prepare(&format!("SELECT name, type FROM pragma_table_info('{table}')")).unwrap();
        let columns: Vec<(String, String)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap();
        found.insert(table.clone(), columns);
    }
    assert_eq!(found.keys().map(String::as_str).collect::<Vec<_>>(), listed.keys().copied().collect::<Vec<_>>());
    for (table, columns) in &found {
        let kinds: Vec<(&str, &str)> = listed[table.as_str()]
            .iter()
            .map(|(c, k)| {
                (
                    *c,
                    if matches!(k, Kind::Int | Kind::Int4) {
                        "INTEGER"
                    } else if *k == Kind::Text {
                        "TEXT"
                    } else {
                        "BLOB"
                    },
                )
            })
            .collect();
        let columns: Vec<(&str, &str)> = columns.iter().map(|(c, t)| (c.as_str(), t.as_str())).collect();
        assert_eq!(columns, kinds, "SQLite's {table}");
    }

    let Some(pg) = testing::fresh() else { return };
    let rows = pg.texts(
        "SELECT table_name || ' ' || column_name || ' ' || data_type FROM information_schema.columns
         WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
    );
    let mut expected = Vec::new();
    let mut tables: Vec<&str> = listed.keys().copied().chain(PG_ONLY.iter().map(|(t, _)| *t)).collect();
    tables.sort_unstable();
    tables.dedup();
    for table in tables {
        let spec = TABLES.iter().find(|t| t.name == table);
        let mut columns: Vec<String> = Vec::new();
        if let Some(spec) = spec {
            if let Some(rowid) = spec.rowid {
                columns.push(format!("{table} {rowid} bigint"));
            }
            for (c, k) in spec.columns {
                let ty = match k {
                    Kind::Int => "bigint",
                    Kind::Int4 => "integer",
                    Kind::Text => "text",
                    Kind::Bytes => "bytea",
                };
                columns.push(format!("{table} {c} {ty}"));
            }
        }
        for (_, extra) in PG_ONLY.iter().filter(|(t, _)| *t == table) {
            columns.extend(extra.iter().map(|c| format!("{table} {c}")));
        }
        expected.extend(columns);
    }
    // The PostgreSQL-only columns are named without their types.
    let found: Vec<String> = rows
        .iter()
        .map(|r| {
            let mut parts = r.splitn(3, ' ');
            let (t, c) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
            if PG_ONLY.iter().any(|(pt, cols)| *pt == t && cols.contains(&c)) {
                format!("{t} {c}")
            } else {
                r.clone()
            }
        })
        .collect();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    let mut found_sorted = found.clone();
    found_sorted.sort();
    assert_eq!(found_sorted, expected_sorted);
}
