use chrono::TimeZone;

use super::recorder::SIGN_BATCH;
use super::*;
use std::collections::{HashMap, HashSet};

use crate::dedup;
use crate::dedup::near::Signature;
use crate::fetch::Validators;
use crate::model::Entry;
use crate::pipeline::Steps as _;

fn at(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 11, 23, h, 0, 0).unwrap()
}

fn entry(id: &str, url: &str, title: &str) -> Entry {
    Entry {
        id: id.into(),
        source: "abai".into(),
        url: Some(url.into()),
        title: title.into(),
        summary_html: Some("<p>Бауыржан Байбек Қызылорда облысына барды.</p>".into()),
        content_html: None,
        authors: vec![],
        categories: vec![],
        published: None,
        updated: None,
        first_seen: at(0),
        language: None,
        enclosures: vec![],
        image: None,
        via: vec![],
    }
}

fn parsed(entries: Vec<Entry>) -> SourceUpdate {
    SourceUpdate {
        name: "abai".into(),
        configured_url: "https://abai.kz/rss".into(),
        state: SourceState::default(),
        entries: EntriesUpdate::Parsed(entries.into_iter().map(dedup::Listed::from).collect()),
        filtered: None,
    }
}

#[test]
fn ids_and_first_seen_survive_edits_and_id_scheme_changes() {
    for (backend, mut store) in postgres::testing::backends() {
        let r = store
            .record(at(1), &[parsed(vec![entry("urn:feedmill:abai:1", "https://abai.kz/post/1", "Бірінші")])])
            .unwrap();
        assert_eq!(r["abai"], Reconciled { new: 1, ..Reconciled::default() }, "{backend}");
        // Next run: the source's ids were downgraded (id is now the URL) and the title was corrected.
        let r = store
            .record(
                at(2),
                &[parsed(vec![entry(
                    "https://abai.kz/post/1",
                    "https://abai.kz/post/1?utm_source=x",
                    "Бірінші (түзетілді)",
                )])],
            )
            .unwrap();
        assert_eq!(r["abai"], Reconciled { updated: 1, ..Reconciled::default() }, "{backend}");
        let all = store.entries(&["abai"]).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].entry.id, "urn:feedmill:abai:1");
        assert_eq!(all[0].entry.first_seen, at(1));
        assert_eq!(all[0].entry.title, "Бірінші (түзетілді)");
        assert_eq!(all[0].last_seen, at(2), "{backend}");
    }
}

#[test]
fn entries_that_leave_the_feed_stay_until_purged_and_never_come_back() {
    for (backend, mut store) in postgres::testing::backends() {
        store
            .record(at(1), &[parsed(vec![entry("a", "https://abai.kz/a", "A"), entry("b", "https://abai.kz/b", "B")])])
            .unwrap();
        store.record(at(2), &[parsed(vec![entry("b", "https://abai.kz/b", "B")])]).unwrap();
        assert_eq!(store.entries(&["abai"]).unwrap().len(), 2, "{backend}: a dropped off the feed but stays");
        assert_eq!(store.purge(at(2), at(3)).unwrap(), 1);
        let left: Vec<_> = store.entries(&["abai"]).unwrap().into_iter().map(|s| s.entry.id).collect();
        assert_eq!(left, ["b"]);
        // The source lists `a` again (same link, new guid): the tombstone keeps it out.
        let r = store
            .record(at(4), &[parsed(vec![entry("a2", "https://abai.kz/a", "A"), entry("b", "https://abai.kz/b", "B")])])
            .unwrap();
        assert_eq!(r["abai"].tombstoned, 1, "{backend}");
        assert_eq!(store.entries(&["abai"]).unwrap().len(), 1, "{backend}");
    }
}

#[test]
fn unchanged_feeds_refresh_last_seen_and_state_round_trips() {
    for (backend, mut store) in postgres::testing::backends() {
        store.record(at(1), &[parsed(vec![entry("a", "https://abai.kz/a", "A")])]).unwrap();
        let state = SourceState {
            configured_url: Some("https://abai.kz/rss".into()),
            url_in_use: Some("https://new.abai.kz/rss".into()),
            validators: Validators {
                etag: Some("\"v1\"".into()),
                last_modified: Some("Sat, 23 Nov 2024 10:00:00 GMT".into()),
            },
            body_hash: Some(vec![1, 2, 3]),
            last_fetch: Some(at(5)),
            last_success: Some(at(5)),
            last_error: None,
            failures: 0,
            next_fetch: Some(at(6)),
            redirect: Some(RedirectSeen { target: "https://new.abai.kz/rss".into(), first_seen: at(1), count: 3 }),
            skip_hours: vec![0, 1, 2],
            skip_days: vec!["Sunday".into()],
            title: Some("Abai.kz".into()),
            site_url: Some("https://abai.kz/".into()),
            gone_since: Some(at(4)),
            source_key: Some("abai-first".into()),
            config_digest: Some("digest".into()),
            raw: Some(RawBody::new(b"<rss/>", Some("application/rss+xml".into()), Some("https://abai.kz/rss".into()))),
        };
        let update = SourceUpdate { state: state.clone(), entries: EntriesUpdate::Unchanged, ..parsed(vec![]) };
        store.record(at(5), &[update]).unwrap();
        let raw = store.raw_body("abai").unwrap().expect("the body read is kept");
        assert_eq!(raw.bytes().as_deref(), Some(&b"<rss/>"[..]));
        assert_eq!(
            (raw.content_type.as_deref(), raw.url.as_deref()),
            (Some("application/rss+xml"), Some("https://abai.kz/rss"))
        );
        // The key is the one the source got when first seen; the body is read only when needed.
        let state = SourceState { source_key: Some("abai".into()), raw: None, ..state };
        assert_eq!(store.sources().unwrap()["abai"], state);
        assert_eq!(state.dead_since("https://abai.kz/rss"), Some(at(4)));
        assert_eq!(state.dead_since("https://abai.kz/new-rss"), None, "a new URL is not dead");
        assert_eq!(store.entries(&["abai"]).unwrap()[0].last_seen, at(5));
        assert_eq!(store.entry_counts().unwrap()["abai"], 1, "{backend}");
    }
}

#[test]
fn a_changed_feed_writes_only_its_new_edited_and_dropped_entries() {
    let mut store = Store::in_memory().unwrap();
    let (a, b, c) = (
        entry("a", "https://abai.kz/a", "A"),
        entry("b", "https://abai.kz/b", "B"),
        entry("c", "https://abai.kz/c", "C"),
    );
    // A clock finer than the store's seconds must not make the entries look edited later.
    store.record(at(1) + chrono::Duration::milliseconds(250), &[parsed(vec![a.clone(), b.clone()])]).unwrap();
    // Two 304s: the feed still lists `a` and `b` at 3.
    let unchanged = || SourceUpdate { entries: EntriesUpdate::Unchanged, ..parsed(vec![]) };
    store.record(at(3), &[unchanged()]).unwrap();

    // `c` is new, `b` left the feed, `a` is listed as it was.
    let entry_rows = |store: &Store| -> Vec<(String, i64, bool)> {
        let mut stmt = store.conn.prepare("SELECT id, last_seen, in_feed FROM entries ORDER BY id").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().collect::<Result<_, _>>().unwrap()
    };
    let before = entry_rows(&store);
    let changes = store.conn.total_changes();
    let reconciled = store.record(at(5), &[parsed(vec![c.clone(), a.clone()])]).unwrap();
    assert_eq!((reconciled["abai"].new, reconciled["abai"].updated, reconciled["abai"].unchanged), (1, 0, 1));
    let after = entry_rows(&store);
    assert_eq!(after[0], before[0], "an entry listed unchanged is not written");
    assert_eq!(after[1], ("b".to_owned(), ts(at(3)), false), "a dropped entry was last seen when last listed");
    assert_eq!(after[2], ("c".to_owned(), ts(at(5)), true));
    // The source's row, `b` dropped, `c` inserted and signed, and the run's bookkeeping: not one write per listed entry.
    let written = store.conn.total_changes() - changes;
    assert!(written <= 6, "{written} rows written");

    let seen: HashMap<String, DateTime<Utc>> =
        store.entries(&["abai"]).unwrap().into_iter().map(|s| (s.entry.id.clone(), s.last_seen)).collect();
    assert_eq!(seen["a"], at(5), "still listed");
    assert_eq!(seen["b"], at(3));

    // An entry that comes back is in the feed again, seen now.
    store.record(at(7), &[parsed(vec![b.clone(), a.clone()])]).unwrap();
    let rows = entry_rows(&store);
    assert_eq!(rows[1], ("b".to_owned(), ts(at(7)), true));
    assert_eq!(rows[2], ("c".to_owned(), ts(at(5)), false));
    assert!(store.integrity_ok().unwrap());
}

#[test]
fn new_entries_are_written_once_signed_in_batches_across_sources() {
    for (backend, mut store) in postgres::testing::backends() {
        let per_source = SIGN_BATCH / 2 + 100;
        let update = |name: &str, from: usize| {
            let entries = (from..from + per_source)
                .map(|i| {
                    let mut e = entry(
                        &format!("https://{name}.kz/{i}"),
                        &format!("https://{name}.kz/{i}"),
                        &format!("{name} {i}"),
                    );
                    e.summary_html = Some(format!("<p>{name}: {i}-жаңалық, бүгін Астанада болған оқиға туралы.</p>"));
                    e
                })
                .collect();
            SourceUpdate { name: name.into(), ..parsed(entries) }
        };
        // Three sources fill more than one batch; the second listing of `b` in the same run must find
        // the first's entries, still waiting to be written, as stored.
        let reconciled =
            store.record(at(1), &[update("b", 0), update("b", 10), update("a", 0), update("c", 0)]).unwrap();
        assert_eq!(reconciled["a"].new, per_source);
        assert_eq!(reconciled["c"].new, per_source);
        assert_eq!((reconciled["b"].new, reconciled["b"].unchanged), (10, per_source - 10));
        let counts = store.texts(
            "SELECT CAST(COUNT(*) AS TEXT) FROM entries UNION ALL SELECT CAST(COUNT(*) AS TEXT) FROM entries WHERE signature IS NULL",
        );
        assert_eq!(counts, [(3 * per_source + 10).to_string(), "0".to_owned()], "{backend}: rows, unsigned");
        let stored = store.entries(&["a"]).unwrap();
        assert!(stored.iter().all(|s| s.signature == Some(Signature::of_entry(&s.entry))));
    }
}

#[test]
fn reopening_a_file_keeps_everything_and_migrations_run_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/state.db");
    {
        let mut store = Store::open(&path, DEFAULT_BUSY_TIMEOUT).unwrap();
        store.record(at(1), &[parsed(vec![entry("a", "https://abai.kz/a", "A")])]).unwrap();
    }
    let store = Store::open(&path, DEFAULT_BUSY_TIMEOUT).unwrap();
    assert_eq!(store.entries(&["abai"]).unwrap().len(), 1);
    assert!(store.entries(&["other"]).unwrap().is_empty());
    let version: usize = store.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, migrations::MIGRATIONS.len());
}

#[test]
fn full_text_outlives_a_summary_only_feed() {
    for (backend, mut store) in postgres::testing::backends() {
        let mut full = entry("a", "https://abai.kz/a", "A");
        full.content_html = Some("<p>Толық мәтін.</p>".into());
        store.record(at(1), &[parsed(vec![full])]).unwrap();
        assert!(store.known_urls("abai").unwrap().contains("abai.kz/a"));
        // The feed still lists the entry with its summary only: the stored full text stays.
        store.record(at(2), &[parsed(vec![entry("a", "https://abai.kz/a", "A")])]).unwrap();
        let stored = store.entries(&["abai"]).unwrap();
        assert_eq!(stored[0].entry.content_html.as_deref(), Some("<p>Толық мәтін.</p>"), "{backend}");
    }
}

#[test]
fn near_signatures_are_stored_and_follow_edits() {
    for (backend, mut store) in postgres::testing::backends() {
        let first = entry("urn:feedmill:abai:1", "https://abai.kz/post/1", "Бірінші");
        store.record(at(1), &[parsed(vec![first.clone()])]).unwrap();
        let stored = store.entries(&["abai"]).unwrap();
        assert_eq!(stored[0].signature, Some(Signature::of_entry(&stored[0].entry)));

        // An edited text gets a new signature; the old one is not kept.
        let mut edited = first.clone();
        edited.summary_html = Some("<p>Мүлде басқа мәтін, басқа оқиға туралы жазылған жаңалық.</p>".into());
        store.record(at(2), &[parsed(vec![edited])]).unwrap();
        let stored = store.entries(&["abai"]).unwrap();
        let expected = Signature::of_entry(&stored[0].entry);
        assert_ne!(Some(expected.clone()), Some(Signature::of_entry(&first)));
        // The band tags are written with the signature, and follow it.
        let bands = store.bytes("SELECT bands FROM entries");
        assert_eq!(bands, [dedup::near::bands_to_bytes(&expected)], "{backend}");
        assert_eq!(stored[0].signature, Some(expected));

        // None (after the migration) is computed at the next record…
        store.exec("UPDATE entries SET signature = NULL", &[]);
        assert_eq!(store.entries(&["abai"]).unwrap()[0].signature, None);
        store.record(at(3), &[]).unwrap();
        assert!(store.entries(&["abai"]).unwrap()[0].signature.is_some());
        // …and so is every signature once the signature version changed.
        store.exec("UPDATE entries SET signature = $1", &[postgres::testing::Param::Bytes(&[0])]);
        store.set_meta("signature_version", "0").unwrap();
        store.record(at(4), &[]).unwrap();
        assert!(store.entries(&["abai"]).unwrap()[0].signature.is_some(), "{backend}");
    }
}

#[test]
fn a_lock_held_by_another_program_is_waited_for_then_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let wait = Duration::from_millis(300);
    let mut store = Store::open(&path, wait).unwrap();
    store.record(at(1), &[parsed(vec![entry("a", "https://abai.kz/a", "A")])]).unwrap();

    let other = Connection::open(&path).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE; INSERT INTO meta (key, value) VALUES ('other', 'x');").unwrap();
    let started = std::time::Instant::now();
    let err = store.record(at(2), &[parsed(vec![entry("b", "https://abai.kz/b", "B")])]).unwrap_err();
    assert!(started.elapsed() >= wait, "gave up after {:?}", started.elapsed());
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "state database {} is locked by another program; gave up after 0.3s (let it finish, or raise [state] busy_timeout)",
            path.display()
        )
    );
    let started = std::time::Instant::now();
    assert!(matches!(store.set_meta("k", "v"), Err(StoreError::Locked { .. })));
    assert!(started.elapsed() >= wait, "a single statement waits too");
    // Reads go on beside the other program's write (WAL), and the failed run left nothing behind.
    assert_eq!(store.entries(&["abai"]).unwrap().len(), 1);

    other.execute_batch("ROLLBACK").unwrap();
    store.record(at(2), &[parsed(vec![entry("b", "https://abai.kz/b", "B")])]).unwrap();
    assert_eq!(store.entries(&["abai"]).unwrap().len(), 2);
    assert!(store.integrity_ok().unwrap());
}

#[test]
fn a_read_only_store_reads_what_a_writer_left_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    assert!(Store::open_read_only(&path).is_err(), "a missing database is not created");
    assert!(!path.exists());
    let mut writer = Store::open(&path, DEFAULT_BUSY_TIMEOUT).unwrap();
    writer.record(at(1), &[parsed(vec![entry("a", "https://abai.kz/a", "A")])]).unwrap();
    let reader = Store::open_read_only(&path).unwrap();
    assert_eq!(reader.entry_counts().unwrap()["abai"], 1);
    assert_eq!(reader.sources().unwrap()["abai"].configured_url.as_deref(), Some("https://abai.kz/rss"));
    assert!(reader.set_meta("k", "v").is_err(), "read only");
    // The writer goes on while the reader is open.
    writer.record(at(2), &[parsed(vec![entry("b", "https://abai.kz/b", "B")])]).unwrap();
    assert_eq!(reader.entry_counts().unwrap()["abai"], 2);
}

#[test]
fn migration_5_fills_the_merge_columns_from_the_stored_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let mut rich = entry("a", "https://abai.kz/a", "A");
    rich.published = Some(at(5));
    rich.content_html = Some("<p>Толық мәтін: ұзын, көп байтты.</p>".into());
    let plain = entry("b", "https://abai.kz/b", "B");
    {
        // A database as feedmill left it before migration 5.
        let conn = Connection::open(&path).unwrap();
        for sql in &migrations::MIGRATIONS[..4] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 4).unwrap();
        for e in [&rich, &plain] {
            conn.execute(
                "INSERT INTO entries (source, id, first_seen, last_seen, entry) VALUES ('abai', ?1, ?2, ?2, ?3)",
                params![e.id, ts(e.first_seen), serde_json::to_string(e).unwrap()],
            )
            .unwrap();
        }
    }
    let store = Store::open(&path, DEFAULT_BUSY_TIMEOUT).unwrap();
    let read = |id: &str| -> (i64, i64, bool, bool) {
        store
            .conn
            .query_row(
                "SELECT sort_date, text_size, has_content, EXISTS (SELECT 1 FROM unstoried WHERE entry = entries.rowid)
                 FROM entries WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap()
    };
    // Both wait to be merged into stories (migration 9 lists them in `unstoried`).
    assert_eq!(read("a"), (ts(at(5)), dedup::text_size(&rich) as i64, true, true));
    assert_eq!(read("b"), (ts(plain.first_seen), dedup::text_size(&plain) as i64, false, true));
}

#[test]
fn migration_7_keeps_the_band_tags_of_entries_already_signed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let mut signed = entry("a", "https://abai.kz/a", "Абай оқулары өтті");
    signed.content_html = Some("<p>Семейде Абай оқулары өтіп, оған жүзден астам ақын қатысты.</p>".into());
    let sig = Signature::of_entry(&signed);
    {
        // A database as feedmill left it before migration 7: entries signed, one not yet.
        let conn = Connection::open(&path).unwrap();
        for sql in &migrations::MIGRATIONS[..6] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 6).unwrap();
        // More signed entries than one batch of the fill.
        let mut many: Vec<(Entry, Option<Vec<u8>>)> =
            (0..4100).map(|n| (Entry { id: format!("a{n}"), ..signed.clone() }, Some(sig.to_bytes()))).collect();
        many.push((signed.clone(), Some(sig.to_bytes())));
        many.push((entry("b", "https://abai.kz/b", "B"), None));
        conn.execute_batch("BEGIN").unwrap();
        for (e, signature) in &many {
            conn.execute(
                "INSERT INTO entries (source, id, first_seen, last_seen, entry, signature)
                 VALUES ('abai', ?1, ?2, ?2, ?3, ?4)",
                params![e.id, ts(e.first_seen), serde_json::to_string(e).unwrap(), signature],
            )
            .unwrap();
        }
        conn.execute_batch("COMMIT").unwrap();
    }
    let store = Store::open(&path, DEFAULT_BUSY_TIMEOUT).unwrap();
    let bands = |id: &str| -> Option<Vec<u8>> {
        store.conn.query_row("SELECT bands FROM entries WHERE id = ?1", [id], |r| r.get(0)).unwrap()
    };
    let stored = bands("a").expect("filled by the migration");
    assert_eq!(stored, dedup::near::bands_to_bytes(&sig));
    assert_eq!(dedup::near::band_keys_of_bytes(&stored).collect::<Vec<_>>(), sig.band_keys().collect::<Vec<_>>());
    assert_eq!(bands("b"), None, "signed, with its tags, by the next run");
    let filled: usize =
        store.conn.query_row("SELECT count(*) FROM entries WHERE bands = ?1", [&stored], |r| r.get(0)).unwrap();
    assert_eq!(filled, 4101, "every signed entry, across batches");
}

#[test]
fn migration_9_lists_the_entries_not_merged_yet_and_the_next_run_merges_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let merged = entry("a", "https://abai.kz/a", "A");
    let waiting = entry("b", "https://abai.kz/b", "B");
    {
        // A database as feedmill left it before migration 9: `a` merged, `b` recorded by a run that
        // stopped before merging it.
        let conn = Connection::open(&path).unwrap();
        for sql in &migrations::MIGRATIONS[..8] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 8).unwrap();
        for (e, storied) in [(&merged, 1), (&waiting, 0)] {
            conn.execute(
                "INSERT INTO entries (source, id, first_seen, last_seen, entry, sort_date, storied)
                 VALUES ('abai', ?1, ?2, ?2, ?3, ?2, ?4)",
                params![e.id, ts(e.first_seen), serde_json::to_string(e).unwrap(), storied],
            )
            .unwrap();
        }
    }
    let mut store = Store::open(&path, DEFAULT_BUSY_TIMEOUT).unwrap();
    let waiting_ids = |store: &Store| -> Vec<String> {
        let mut stmt = store.conn.prepare("SELECT e.id FROM unstoried u JOIN entries e ON e.rowid = u.entry").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    };
    assert_eq!(waiting_ids(&store), ["b"]);
    let columns: Vec<String> = {
        let mut stmt = store.conn.prepare("SELECT name FROM pragma_table_info('entries')").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    };
    assert!(!columns.iter().any(|c| c == "storied"), "{columns:?}");

    // Nothing was merged under this mode yet: the first merge takes every entry, then none waits.
    let mode = crate::config::DedupMode::Exact;
    assert_eq!(store.update_stories(&[mode], &["abai"]).unwrap(), 2);
    assert!(waiting_ids(&store).is_empty());
    // A new entry waits until the next merge takes it, alone.
    store
        .record(at(2), &[parsed(vec![merged.clone(), waiting.clone(), entry("c", "https://abai.kz/c", "C")])])
        .unwrap();
    assert_eq!(waiting_ids(&store), ["c"]);
    assert_eq!(store.update_stories(&[mode], &["abai"]).unwrap(), 1);
    assert!(waiting_ids(&store).is_empty());
    assert!(store.integrity_ok().unwrap());
}

#[test]
fn entry_counts_recount_only_the_sources_a_write_added_to_or_purged_from() {
    for (backend, mut store) in postgres::testing::backends() {
        let of = |source: &str, n: u32| {
            let mut e = entry(
                &format!("https://{source}.kz/{n}"),
                &format!("https://{source}.kz/{n}"),
                &format!("Жаңалық {n}"),
            );
            e.source = source.into();
            e.summary_html = Some(format!("<p>{source}: мәтін нөмір {n}, айтыс туралы.</p>"));
            e
        };
        let feed = |source: &str, ns: &[u32]| SourceUpdate {
            name: source.into(),
            configured_url: format!("https://{source}.kz/rss"),
            ..parsed(ns.iter().map(|n| of(source, *n)).collect())
        };
        let counted = |store: &dyn postgres::testing::Tested| {
            let mut counts: Vec<(String, usize)> = store.entry_counts().unwrap().into_iter().collect();
            counts.sort();
            let all = store
                .texts("SELECT source || ' ' || CAST(COUNT(*) AS TEXT) FROM entries GROUP BY source ORDER BY source");
            let all: Vec<(String, usize)> = all
                .iter()
                .filter_map(|row| row.split_once(' ').and_then(|(s, n)| Some((s.to_owned(), n.parse().ok()?))))
                .collect();
            assert_eq!(counts, all, "{backend}");
            counts
        };
        let pairs = |v: &[(&str, usize)]| v.iter().map(|(s, n)| (s.to_string(), *n)).collect::<Vec<_>>();

        store.record(at(1), &[feed("abai", &[1, 2]), feed("qazaq", &[1, 2, 3])]).unwrap();
        assert_eq!(counted(&*store), pairs(&[("abai", 2), ("qazaq", 3)]));

        // The rest is SQLite's cache of the counts in `meta`; PostgreSQL counts at each read (its
        // `entry_counts` says why), which `counted` checks above.
        if backend != "sqlite" {
            continue;
        }
        // A count the write does not touch is carried over as it was kept, not counted again.
        let version = store.content_version().unwrap();
        let kept = HashMap::from([("abai", 2), ("qazaq", 99)]);
        store.set_meta(ENTRY_COUNTS_KEY, &serde_json::to_string(&(version, kept)).unwrap()).unwrap();
        store.record(at(2), &[feed("abai", &[1, 2, 3]), feed("qazaq", &[1, 2, 3])]).unwrap();
        assert_eq!(store.entry_counts().unwrap()["qazaq"], 99, "qazaq added nothing");
        assert_eq!(store.entry_counts().unwrap()["abai"], 3);

        // Counts kept by an older version are not trusted: everything is counted again.
        let version = store.content_version().unwrap();
        let stale = HashMap::from([("qazaq", 99)]);
        store.set_meta(ENTRY_COUNTS_KEY, &serde_json::to_string(&(version - 1, stale)).unwrap()).unwrap();
        store.record(at(3), &[feed("abai", &[1, 2, 3, 4]), feed("qazaq", &[3])]).unwrap();
        assert_eq!(counted(&*store), pairs(&[("abai", 4), ("qazaq", 3)]));

        // qazaq's 1 and 2 left its feed at 2; purged, they leave its count.
        assert_eq!(store.purge(at(3), at(4)).unwrap(), 2);
        assert_eq!(counted(&*store), pairs(&[("abai", 4), ("qazaq", 1)]));
    }
}

#[test]
fn fingerprint_keys_are_lower_case_hex() {
    assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "print:000fa5ff");
}

#[test]
fn a_first_run_builds_the_entry_indexes_once_the_table_is_full() {
    let mut store = Store::in_memory().unwrap();
    let schema = |store: &Store| -> Vec<(String, String)> {
        let mut stmt = store
            .conn
            .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'entries' ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, Option<String>>(1)?.unwrap_or_default())))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let indexes = schema(&store);
    assert!(indexes.iter().any(|(name, _)| name == "entries_id"), "{indexes:?}");
    let first = parsed(vec![entry("urn:feedmill:abai:1", "https://abai.kz/post/1", "Бірінші")]);

    // A first run that never commits leaves the indexes as they were.
    {
        let mut recorder = store.recorder(at(1), dedup::near::Packed::of).unwrap();
        recorder.add(first.clone(), &mut |kept, listed| dedup::history::reconcile(kept, listed, at(1))).unwrap();
        let dropped: i64 = recorder
            .tx
            .query_row("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'entries_id'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(dropped, 0, "dropped while the table fills");
    }
    assert_eq!(schema(&store), indexes);

    store.record(at(1), std::slice::from_ref(&first)).unwrap();
    assert_eq!(schema(&store), indexes, "built again, as the migrations wrote them");
    let plan: String = store
        .conn
        .query_row("EXPLAIN QUERY PLAN SELECT source FROM entries WHERE id = 'urn:feedmill:abai:1'", [], |r| r.get(3))
        .unwrap();
    assert!(plan.contains("entries_id"), "{plan}");
    assert_eq!(store.entries(&["abai"]).unwrap().len(), 1);
    assert!(store.integrity_ok().unwrap());
}

#[test]
fn a_renamed_source_is_found_by_its_url_and_a_re_pointed_one_by_its_name() {
    for (backend, mut store) in postgres::testing::backends() {
        store.identify_sources(&[("abai", "https://abai.kz/rss"), ("qazaq", "https://qazaq.kz/rss")]).unwrap();
        let dropped = crate::filter::Dropped {
            guid: Some("ad-1".into()),
            url: Some("https://abai.kz/ad/1".into()),
            title: "Жарнама".into(),
            reason: "filters.block[0]".into(),
        };
        let update = SourceUpdate {
            filtered: Some(vec![dropped]),
            ..parsed(vec![entry("urn:feedmill:abai:1", "https://abai.kz/post/1", "Бірінші")])
        };
        store.record(at(1), &[update]).unwrap();
        let modes = [crate::config::DedupMode::Exact];
        assert_eq!(store.update_stories(&modes, &["abai", "qazaq"]).unwrap(), 1);

        // Renamed, its URL written another way: the same source, under its new name.
        let renamed = store
            .identify_sources(&[("qazaq", "https://qazaq.kz/rss"), ("abai-kz", "http://www.abai.kz/rss")])
            .unwrap();
        assert_eq!(renamed, [Renamed { from: "abai".into(), to: "abai-kz".into() }], "{backend}");
        let sources = store.sources().unwrap();
        assert_eq!(sources["abai-kz"].source_key.as_deref(), Some("abai"));
        assert!(!sources.contains_key("abai"));
        let stored = store.entries(&["abai-kz"]).unwrap();
        assert_eq!(stored[0].entry.id, "urn:feedmill:abai:1");
        assert_eq!(stored[0].entry.source, "abai-kz", "the outputs show the new name");
        assert_eq!(store.entry_counts().unwrap()["abai-kz"], 1);
        assert_eq!(store.filtered_counts().unwrap(), HashMap::from([("abai-kz".to_owned(), 1)]), "{backend}");
        assert_eq!(store.find_filtered("ad-1").unwrap()[0].source, "abai-kz", "{backend}");
        // Reordered too, and still merged from the stories kept: nothing is merged again from scratch.
        let order = store.first_met_order(&["qazaq", "abai-kz"]).unwrap();
        assert_eq!(order, ["abai-kz", "qazaq"], "first met first");
        assert_eq!(store.update_stories(&modes, &order).unwrap(), 0, "{backend}");

        // Re-pointed: found by its name. Then renamed and re-pointed at once: a new source, whose key is
        // not the one the renamed source still holds.
        assert!(store.identify_sources(&[("abai-kz", "https://abai.kz/new-rss")]).unwrap().is_empty());
        assert_eq!(store.sources().unwrap()["abai-kz"].source_key.as_deref(), Some("abai"));
        assert!(store.identify_sources(&[("abai", "https://other.kz/rss")]).unwrap().is_empty());
        assert_eq!(store.sources().unwrap()["abai"].source_key.as_deref(), Some("abai-2"), "{backend}");
    }
}

#[test]
fn an_entry_edited_with_a_new_date_moves_the_story_it_heads_and_a_dropped_one_leaves_the_feed() {
    for (backend, mut store) in postgres::testing::backends() {
        let dated = |id: &str, h: u32, title: &str| {
            let mut e = entry(id, &format!("https://abai.kz/{id}"), title);
            e.published = Some(at(h));
            e
        };
        store.identify_sources(&[("abai", "https://abai.kz/rss")]).unwrap();
        store.record(at(5), &[parsed(vec![dated("a", 1, "Бірінші"), dated("b", 2, "Екінші")])]).unwrap();
        let modes = [crate::config::DedupMode::Exact];
        assert_eq!(store.update_stories(&modes, &["abai"]).unwrap(), 2, "{backend}");
        // `a` edited and re-dated, `b` gone from the feed, in one source's write.
        let r = store.record(at(6), &[parsed(vec![dated("a", 3, "Бірінші, түзетілген")])]).unwrap();
        assert_eq!((r["abai"].updated, r["abai"].new), (1, 0), "{backend}");
        let heads = store.texts(
            "SELECT head_id || ' ' || CAST(head_date AS TEXT) FROM story_members WHERE source = head_source
             AND id = head_id ORDER BY head_id",
        );
        assert_eq!(heads, [format!("a {}", at(3).timestamp()), format!("b {}", at(2).timestamp())], "{backend}");
        let rows = store.texts("SELECT id || ' ' || CAST(in_feed AS TEXT) || ' ' || entry FROM entries ORDER BY id");
        assert!(rows[0].starts_with("a 1 ") && rows[0].contains("түзетілген"), "{backend}: {rows:?}");
        assert!(rows[1].starts_with("b 0 "), "{backend}: {rows:?}");
    }
}

#[test]
fn migration_11_keys_every_source_by_its_name_so_no_id_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let old = entry("urn:feedmill:abai:5894b72960e7fd5e7f5d402e", "https://abai.kz/post/1", "Бірінші");
    {
        // A database as feedmill left it before migration 11.
        let conn = Connection::open(&path).unwrap();
        for sql in &migrations::MIGRATIONS[..10] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 10).unwrap();
        conn.execute("INSERT INTO sources (name, configured_url) VALUES ('abai', 'https://abai.kz/rss')", []).unwrap();
        conn.execute(
            "INSERT INTO entries (source, id, first_seen, last_seen, entry) VALUES ('abai', ?1, ?2, ?2, ?3)",
            params![old.id, ts(old.first_seen), serde_json::to_string(&old).unwrap()],
        )
        .unwrap();
    }
    let mut store = Store::open(&path, DEFAULT_BUSY_TIMEOUT).unwrap();
    let state = &store.sources().unwrap()["abai"];
    assert_eq!((state.source_key.as_deref(), state.config_digest.as_deref()), (Some("abai"), None));
    assert_eq!(store.raw_body("abai").unwrap(), None);
    store.identify_sources(&[("abai", "https://abai.kz/rss")]).unwrap();
    // The same entry listed again keeps its id.
    let r = store.record(at(3), &[parsed(vec![entry(&old.id, &old.url.clone().unwrap(), "Бірінші")])]).unwrap();
    assert_eq!(r["abai"], Reconciled { unchanged: 1, ..Reconciled::default() });
    assert_eq!(store.entries(&["abai"]).unwrap()[0].entry.id, old.id);
}

#[test]
fn the_body_kept_is_replaced_by_the_next_one_and_dropped_with_its_url() {
    for (backend, mut store) in postgres::testing::backends() {
        let with_body = |url: &str, body: Option<&[u8]>| SourceUpdate {
            configured_url: url.into(),
            state: SourceState { raw: body.map(|b| RawBody::new(b, None, None)), ..SourceState::default() },
            entries: EntriesUpdate::Unchanged,
            ..parsed(vec![])
        };
        let kept = |store: &dyn postgres::testing::Tested| store.raw_body("abai").unwrap().and_then(|r| r.bytes());
        store.record(at(1), &[with_body("https://abai.kz/rss", Some(b"first"))]).unwrap();
        store.record(at(2), &[with_body("https://abai.kz/rss", None)]).unwrap();
        assert_eq!(kept(&*store).as_deref(), Some(&b"first"[..]), "a 304 keeps it");
        store.record(at(3), &[with_body("https://abai.kz/rss", Some(b"second"))]).unwrap();
        assert_eq!(kept(&*store).as_deref(), Some(&b"second"[..]));
        store.record(at(4), &[with_body("https://abai.kz/new-rss", None)]).unwrap();
        assert_eq!(kept(&*store), None, "{backend}: read for another URL");
    }
}

#[test]
fn filtered_entries_are_replaced_per_parsed_source_and_found_by_guid_or_link() {
    for (backend, mut store) in postgres::testing::backends() {
        let dropped = |guid: &str, url: &str| crate::filter::Dropped {
            guid: Some(guid.into()),
            url: Some(url.into()),
            title: "Жарнама".into(),
            reason: "filters.block[0] (title matched \"Жарнама*\")".into(),
        };
        let with = |filtered| SourceUpdate { filtered, ..parsed(vec![]) };
        store
            .record(
                at(1),
                &[with(Some(vec![dropped("ad-1", "https://abai.kz/ad/1"), dropped("ad-2", "https://abai.kz/ad/2")]))],
            )
            .unwrap();
        assert_eq!(store.filtered_counts().unwrap(), HashMap::from([("abai".to_owned(), 2)]), "{backend}");
        let found = store.find_filtered("http://www.abai.kz/ad/1?utm_source=tg").unwrap();
        assert_eq!(found.iter().map(|f| f.guid.as_deref()).collect::<Vec<_>>(), [Some("ad-1")]);
        assert_eq!(store.find_filtered("ad-2").unwrap()[0].reason, "filters.block[0] (title matched \"Жарнама*\")");
        // Not parsed this run (`None`): what was dropped stands. Parsed with nothing dropped: gone.
        store.record(at(2), &[with(None)]).unwrap();
        assert_eq!(store.filtered_counts().unwrap().get("abai"), Some(&2));
        store.record(at(3), &[with(Some(vec![]))]).unwrap();
        assert!(store.filtered_counts().unwrap().is_empty());
        assert!(store.find_filtered("ad-1").unwrap().is_empty(), "{backend}");
    }
}

#[test]
fn outputs_are_kept_under_the_meta_keys_older_states_wrote() {
    // A state written before the `Outputs` trait: its build key and counts must read the same, or the
    // first run after an upgrade would rebuild every folder and `status` would show no folded entries.
    for (backend, store) in postgres::testing::backends() {
        store.set_meta("outputs:public", "key-1").unwrap();
        store.set_meta("duplicates_collapsed", r#"{"abai":2}"#).unwrap();
        store.set_meta("websub_pending", r#"{"hub":"h","topics":[]}"#).unwrap();
        assert_eq!(store.built(Path::new("public")).unwrap().as_deref(), Some("key-1"), "{backend}");
        assert_eq!(store.built(Path::new("elsewhere")).unwrap(), None, "{backend}");
        assert_eq!(store.last_folded().unwrap(), Some(HashMap::from([("abai".to_owned(), 2)])), "{backend}");
        assert_eq!(store.pending_announcements().unwrap().as_deref(), Some(r#"{"hub":"h","topics":[]}"#));

        store.set_built(Path::new("public"), "key-2").unwrap();
        store.set_last_folded(&HashMap::from([("qazaq", 1)])).unwrap();
        store.set_pending_announcements("{}").unwrap();
        assert_eq!(store.meta("outputs:public").unwrap().as_deref(), Some("key-2"), "{backend}");
        assert_eq!(store.meta("duplicates_collapsed").unwrap().as_deref(), Some(r#"{"qazaq":1}"#), "{backend}");
        assert_eq!(store.meta("websub_pending").unwrap().as_deref(), Some("{}"), "{backend}");
        assert_eq!(store.meta("never-set").unwrap(), None, "{backend}");
    }
}

#[test]
fn sources_are_identified_keyed_and_ranked_alike_on_every_backend() {
    for (backend, mut store) in postgres::testing::backends() {
        let none = store.identify_sources(&[("abai", "https://abai.kz/rss"), ("qazaq", "https://qazaq.kz/rss")]);
        assert!(none.unwrap().is_empty(), "{backend}");
        let sources = store.sources().unwrap();
        assert_eq!(sources.len(), 2, "{backend}");
        let abai = &sources["abai"];
        assert_eq!(abai.configured_url.as_deref(), Some("https://abai.kz/rss"), "{backend}");
        assert_eq!(abai.source_key.as_deref(), Some("abai"), "{backend}");
        assert_eq!((abai.failures, abai.last_fetch, abai.redirect.clone()), (0, None, None), "{backend}");
        assert_eq!(
            store.health().unwrap()["qazaq"],
            Health { failing: false, error: None, last_success_day: None },
            "{backend}"
        );
        assert_eq!(store.raw_body("abai").unwrap(), None, "{backend}");

        // Renamed, its URL written another way: the same source under its new name, ranked where it was.
        let renamed =
            store.identify_sources(&[("qazaq", "https://qazaq.kz/rss"), ("abai-kz", "http://www.abai.kz/rss")]);
        assert_eq!(renamed.unwrap(), [Renamed { from: "abai".into(), to: "abai-kz".into() }], "{backend}");
        let sources = store.sources().unwrap();
        assert_eq!(sources["abai-kz"].source_key.as_deref(), Some("abai"), "{backend}");
        assert!(!sources.contains_key("abai"), "{backend}");
        assert_eq!(store.first_met_order(&["qazaq", "new", "abai-kz"]).unwrap(), ["abai-kz", "qazaq", "new"]);

        // Re-pointed: found by its name. Renamed and re-pointed at once: a new source, whose key is not
        // the one the renamed source still holds; ranked after the others.
        assert!(store.identify_sources(&[("abai-kz", "https://abai.kz/new-rss")]).unwrap().is_empty());
        assert_eq!(store.sources().unwrap()["abai-kz"].source_key.as_deref(), Some("abai"), "{backend}");
        assert!(store.identify_sources(&[("abai", "https://other.kz/rss")]).unwrap().is_empty());
        assert_eq!(store.sources().unwrap()["abai"].source_key.as_deref(), Some("abai-2"), "{backend}");
        assert_eq!(store.first_met_order(&["abai", "qazaq", "abai-kz"]).unwrap(), ["abai-kz", "qazaq", "abai"]);
    }
}

/// Writes an entry row as the recorder would, on any backend (the PostgreSQL recorder is to come).
fn seed_entry(
    store: &dyn postgres::testing::Tested,
    source: &str,
    id: &str,
    print: Option<&[u8]>,
    times: (u32, u32),
    in_feed: bool,
) {
    use postgres::testing::Param::{Bytes, Text};
    let url = format!("https://{source}.kz/{id}");
    let mut e = entry(id, &url, id);
    e.source = source.into();
    let json = serde_json::to_string(&e).unwrap();
    let (first, last, in_feed) = (ts(at(times.0)), ts(at(times.1)), i32::from(in_feed));
    let cols = "INSERT INTO entries (source, id, canonical_url, entry, first_seen, last_seen, in_feed";
    let mut params = vec![Text(source), Text(id), Text(&url), Text(&json)];
    let sql = match print {
        Some(print) => {
            params.push(Bytes(print));
            format!("{cols}, fingerprint) VALUES ($1, $2, $3, $4, {first}, {last}, {in_feed}, $5)")
        }
        None => format!("{cols}) VALUES ($1, $2, $3, $4, {first}, {last}, {in_feed})"),
    };
    store.exec(&sql, &params);
}

#[test]
fn entries_are_read_counted_and_purged_with_tombstones_alike_on_every_backend() {
    for (backend, mut store) in postgres::testing::backends() {
        store.identify_sources(&[("abai", "https://abai.kz/rss"), ("qazaq", "https://qazaq.kz/rss")]).unwrap();
        // a and q left their feeds at 1; b was last written at 1, but the feed still lists it and was
        // unchanged at 3; r is new at 3.
        seed_entry(&*store, "abai", "a", Some(&[0xab, 0x01]), (1, 1), false);
        seed_entry(&*store, "abai", "b", None, (2, 1), true);
        seed_entry(&*store, "qazaq", "q", None, (1, 1), false);
        seed_entry(&*store, "qazaq", "r", None, (3, 3), true);
        store.exec(&format!("UPDATE sources SET listed_at = {} WHERE name = 'abai'", ts(at(3))), &[]);
        store.exec("INSERT INTO unstoried (entry) SELECT rowid FROM entries WHERE source = 'qazaq' AND id = 'q'", &[]);
        // One story, published by abai's a, with qazaq's r in it.
        store.set_meta("stories:title", "{}").unwrap();
        let member = "INSERT INTO story_members (mode, source, id, head_source, head_id, head_date, seq, layer, joined)
                      VALUES ('title', $1, $2, 'abai', 'a', 5, ";
        store.exec(
            &format!("{member} 1, NULL, NULL)"),
            &[postgres::testing::Param::Text("abai"), postgres::testing::Param::Text("a")],
        );
        store.exec(
            &format!("{member} 2, 'title', 'a')"),
            &[postgres::testing::Param::Text("qazaq"), postgres::testing::Param::Text("r")],
        );

        let ids = |store: &dyn postgres::testing::Tested, sources: &[&str]| -> Vec<(String, DateTime<Utc>)> {
            store.entries(sources).unwrap().into_iter().map(|s| (s.entry.id, s.last_seen)).collect()
        };
        assert_eq!(ids(&*store, &["abai"]), [("a".to_owned(), at(1)), ("b".to_owned(), at(3))], "{backend}");
        assert!(ids(&*store, &[]).is_empty(), "{backend}");
        let urls = store.known_urls("abai").unwrap();
        assert_eq!(urls, HashSet::from(["https://abai.kz/a".to_owned(), "https://abai.kz/b".to_owned()]), "{backend}");
        assert_eq!(
            store.entry_counts().unwrap(),
            HashMap::from([("abai".into(), 2), ("qazaq".into(), 2)]),
            "{backend}"
        );
        assert_eq!(store.content_version().unwrap(), 0, "{backend}");

        assert_eq!(store.purge(at(2), at(4)).unwrap(), 2, "{backend}");
        let left = ids(&*store, &["abai", "qazaq"]);
        assert_eq!(left, [("b".to_owned(), at(3)), ("r".to_owned(), at(3))], "{backend}");
        let mut tombstones =
            store.texts("SELECT source || ' ' || key || ' ' || CAST(purged_at AS TEXT) FROM tombstones");
        tombstones.sort();
        let t = ts(at(4));
        let expected = [
            format!("abai a {t}"),
            format!("abai print:ab01 {t}"),
            format!("abai url:https://abai.kz/a {t}"),
            format!("qazaq q {t}"),
            format!("qazaq url:https://qazaq.kz/q {t}"),
        ];
        assert_eq!(tombstones, expected, "{backend}");
        assert_eq!(store.texts("SELECT CAST(COUNT(*) AS TEXT) FROM unstoried"), ["0"], "{backend}");
        // The story passes to r, which now publishes it, its way of joining forgotten.
        let members = store.texts(
            "SELECT source || '/' || id || ' ' || head_source || '/' || head_id || ' ' || COALESCE(layer, '-') FROM story_members",
        );
        assert_eq!(members, ["qazaq/r qazaq/r -"], "{backend}");
        assert_eq!(store.content_version().unwrap(), 1, "{backend}");
        assert_eq!(
            store.entry_counts().unwrap(),
            HashMap::from([("abai".into(), 1), ("qazaq".into(), 1)]),
            "{backend}"
        );

        // SQLite: the counts kept with the version are the ones read; counts of another version are
        // not. (PostgreSQL keeps none: it counts at each read.)
        if backend == "sqlite" {
            let kept = |version: u64| serde_json::to_string(&(version, HashMap::from([("qazaq", 99)]))).unwrap();
            store.set_meta(ENTRY_COUNTS_KEY, &kept(1)).unwrap();
            assert_eq!(store.entry_counts().unwrap(), HashMap::from([("qazaq".into(), 99)]), "{backend}");
            store.set_meta(ENTRY_COUNTS_KEY, &kept(0)).unwrap();
            assert_eq!(
                store.entry_counts().unwrap(),
                HashMap::from([("abai".into(), 1), ("qazaq".into(), 1)]),
                "{backend}"
            );
        }
        // Nothing older than the cutoff: nothing purged, the version stays.
        assert_eq!(store.purge(at(2), at(5)).unwrap(), 0, "{backend}");
        assert_eq!(store.content_version().unwrap(), 1, "{backend}");
    }
}

#[test]
fn filtered_entries_are_counted_and_found_alike_on_every_backend() {
    use postgres::testing::Param::Text;
    for (backend, store) in postgres::testing::backends() {
        let sql = "INSERT INTO filtered (source, guid, url, canonical_url, title, reason) VALUES ($1, $2, $3, $4, 'Жарнама', $5)";
        for (source, guid) in [("qazaq", "ad-1"), ("abai", "ad-1"), ("abai", "ad-2")] {
            let url = format!("https://{source}.kz/{guid}");
            let canonical = crate::normalize::urls::canonical(&url::Url::parse(&url).unwrap());
            store.exec(
                sql,
                &[Text(source), Text(guid), Text(&url), Text(&canonical), Text(&format!("{source} {guid}"))],
            );
        }
        let counts = store.filtered_counts().unwrap();
        assert_eq!(counts, HashMap::from([("abai".into(), 2), ("qazaq".into(), 1)]), "{backend}");
        let found = store.find_filtered("ad-1").unwrap();
        assert_eq!(
            found.iter().map(|f| f.reason.as_str()).collect::<Vec<_>>(),
            ["abai ad-1", "qazaq ad-1"],
            "{backend}"
        );
        let found = store.find_filtered("http://www.abai.kz/ad-2?utm_source=tg").unwrap();
        assert_eq!(found.iter().map(|f| f.guid.as_deref()).collect::<Vec<_>>(), [Some("ad-2")], "{backend}");
        assert!(store.find_filtered("ad-3").unwrap().is_empty(), "{backend}");
    }
}

#[test]
fn stories_are_read_newest_first_alike_on_every_backend() {
    // `Stories` takes closures, so no trait object: each backend by its type.
    check_stories("sqlite", &mut Store::in_memory().unwrap());
    if let Some(mut pg) = postgres::testing::fresh() {
        check_stories("postgres", &mut pg);
    }
}

fn check_stories<S: Stories + postgres::testing::Tested>(backend: &str, store: &mut S) {
    store.identify_sources(&[("abai", "https://abai.kz/rss"), ("qazaq", "https://qazaq.kz/rss")]).unwrap();
    for (source, id) in [("abai", "a"), ("abai", "Z"), ("qazaq", "q"), ("qazaq", "r")] {
        seed_entry(&*store, source, id, None, (1, 1), true);
    }
    // abai's a publishes a story qazaq's q joined by id; Z and r stand alone; a and Z are as new.
    for (source, id, (head_source, head_id), date, seq, layer, joined) in [
        ("abai", "a", ("abai", "a"), 5, 1, "NULL", "NULL"),
        ("qazaq", "q", ("abai", "a"), 5, 2, "'id'", "'a'"),
        ("abai", "Z", ("abai", "Z"), 5, 1, "NULL", "NULL"),
        ("qazaq", "r", ("qazaq", "r"), 7, 1, "NULL", "NULL"),
    ] {
        store.exec(
            &format!(
                "INSERT INTO story_members (mode, source, id, head_source, head_id, head_date, seq, layer, joined)
                 VALUES ('exact', '{source}', '{id}', '{head_source}', '{head_id}', {date}, {seq}, {layer}, {joined})"
            ),
            &[],
        );
    }
    let mode = crate::config::DedupMode::Exact;
    let mut seen = Vec::new();
    let walk = store.stories_newest_first(&mode, |head, sources| {
        let mut sources = sources.to_vec();
        sources.sort();
        seen.push((format!("{}/{}", head.source, head.id), sources));
        Ok(true)
    });
    walk.unwrap();
    let story = |head: &str, sources: &[&str]| (head.to_owned(), sources.iter().map(|s| s.to_string()).collect());
    // Ties by id as bytes ("Z" before "a"), as SQLite compares, whatever the database's collation.
    let expected: Vec<(String, Vec<String>)> =
        vec![story("qazaq/r", &["qazaq"]), story("abai/Z", &["abai"]), story("abai/a", &["abai", "qazaq"])];
    assert_eq!(seen, expected, "{backend}");
    let mut visits = 0;
    store
        .stories_newest_first(&mode, |_, _| {
            visits += 1;
            Ok(false)
        })
        .unwrap();
    assert_eq!(visits, 1, "{backend}: the walk stops when told");

    let head = StoryHead { source: "abai".into(), id: "a".into() };
    let positions = HashMap::from([("abai", 0), ("qazaq", 1)]);
    let read = store.story(&mode, &head, &positions).unwrap().unwrap();
    let members: Vec<_> = read.copies.iter().map(|(m, e)| (m.clone(), e.id.clone())).collect();
    let joined = dedup::Joined { layer: "id".into(), head: "a".into(), effect: None };
    let expected = vec![
        (dedup::Member { source: 0, id: "a".into(), joined: None }, "a".to_owned()),
        (dedup::Member { source: 1, id: "q".into(), joined: Some(joined) }, "q".to_owned()),
    ];
    assert_eq!((members, read.head), (expected, 0), "{backend}");
    // A source no longer configured is left out; a story whose published entry is gone is none.
    let only_abai = HashMap::from([("abai", 0)]);
    assert_eq!(store.story(&mode, &head, &only_abai).unwrap().unwrap().copies.len(), 1, "{backend}");
    let gone = StoryHead { source: "abai".into(), id: "gone".into() };
    assert!(store.story(&mode, &gone, &positions).unwrap().is_none(), "{backend}");
    // Read together, each as read alone, in the order asked.
    let r = StoryHead { source: "qazaq".into(), id: "r".into() };
    let shape =
        |s: Option<StoredStory>| s.map(|s| (s.head, s.copies.into_iter().map(|(m, e)| (m, e.id)).collect::<Vec<_>>()));
    let together: Vec<_> =
        store.stories(&mode, &[&r, &gone, &head], &positions).unwrap().into_iter().map(shape).collect();
    let alone: Vec<_> = [&r, &gone, &head].iter().map(|h| shape(store.story(&mode, h, &positions).unwrap())).collect();
    assert_eq!(together, alone, "{backend}");
    assert!(together[0].is_some() && together[1].is_none() && together[2].is_some(), "{backend}: {together:?}");
    assert_eq!(store.folded(&mode).unwrap(), HashMap::from([("qazaq".to_owned(), 1)]), "{backend}");
    assert!(store.folded(&crate::config::DedupMode::Off).unwrap().is_empty(), "{backend}");
}

#[test]
fn a_link_two_kept_entries_share_finds_the_one_written_first() {
    let mut store = Store::in_memory().unwrap();
    let (first, shared) = ("https://abai.kz/first", "https://abai.kz/shared");
    store.record(at(1), &[parsed(vec![entry("z", first, "Зет")])]).unwrap();
    store.record(at(2), &[parsed(vec![entry("z", first, "Зет"), entry("a", shared, "Әлеп")])]).unwrap();
    // `z` moves to `a`'s link: two kept entries now share it, `z` written first, `a` first by id.
    store.record(at(3), &[parsed(vec![entry("z", shared, "Зет"), entry("a", shared, "Әлеп")])]).unwrap();
    // A new guid at that link is the entry first written there (history's rule), whatever the ids sort as.
    let r = store.record(at(4), &[parsed(vec![entry("q", shared, "Кью")])]).unwrap();
    assert_eq!(r["abai"], Reconciled { updated: 1, ..Reconciled::default() });
    let by_title: HashMap<String, String> =
        store.entries(&["abai"]).unwrap().into_iter().map(|s| (s.entry.title, s.entry.id)).collect();
    assert_eq!(by_title.get("Кью").map(String::as_str), Some("z"), "{by_title:?}");
}
