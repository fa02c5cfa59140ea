use chrono::TimeZone;

use super::recorder::SIGN_BATCH;
use super::*;
use std::collections::HashMap;

use super::entries::count_entries;
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
    let mut store = Store::in_memory().unwrap();
    let r = store
        .record(at(1), &[parsed(vec![entry("urn:feedmill:abai:1", "https://abai.kz/post/1", "Бірінші")])])
        .unwrap();
    assert_eq!(r["abai"], Reconciled { new: 1, ..Reconciled::default() });
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
    assert_eq!(r["abai"], Reconciled { updated: 1, ..Reconciled::default() });
    let all = store.entries(&["abai"]).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].entry.id, "urn:feedmill:abai:1");
    assert_eq!(all[0].entry.first_seen, at(1));
    assert_eq!(all[0].entry.title, "Бірінші (түзетілді)");
    assert_eq!(all[0].last_seen, at(2));
}

#[test]
fn entries_that_leave_the_feed_stay_until_purged_and_never_come_back() {
    let mut store = Store::in_memory().unwrap();
    store
        .record(at(1), &[parsed(vec![entry("a", "https://abai.kz/a", "A"), entry("b", "https://abai.kz/b", "B")])])
        .unwrap();
    store.record(at(2), &[parsed(vec![entry("b", "https://abai.kz/b", "B")])]).unwrap();
    assert_eq!(store.entries(&["abai"]).unwrap().len(), 2, "a dropped off the feed but stays");
    assert_eq!(store.purge(at(2), at(3)).unwrap(), 1);
    let left: Vec<_> = store.entries(&["abai"]).unwrap().into_iter().map(|s| s.entry.id).collect();
    assert_eq!(left, ["b"]);
    // The source lists `a` again (same link, new guid): the tombstone keeps it out.
    let r = store
        .record(at(4), &[parsed(vec![entry("a2", "https://abai.kz/a", "A"), entry("b", "https://abai.kz/b", "B")])])
        .unwrap();
    assert_eq!(r["abai"].tombstoned, 1);
    assert_eq!(store.entries(&["abai"]).unwrap().len(), 1);
}

#[test]
fn unchanged_feeds_refresh_last_seen_and_state_round_trips() {
    let mut store = Store::in_memory().unwrap();
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
    assert_eq!(store.entry_counts().unwrap()["abai"], 1);
    assert!(store.integrity_ok().unwrap());
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
    let mut store = Store::in_memory().unwrap();
    let per_source = SIGN_BATCH / 2 + 100;
    let update = |name: &str, from: usize| {
        let entries = (from..from + per_source)
            .map(|i| {
                let mut e =
                    entry(&format!("https://{name}.kz/{i}"), &format!("https://{name}.kz/{i}"), &format!("{name} {i}"));
                e.summary_html = Some(format!("<p>{name}: {i}-жаңалық, бүгін Астанада болған оқиға туралы.</p>"));
                e
            })
            .collect();
        SourceUpdate { name: name.into(), ..parsed(entries) }
    };
    // Three sources fill more than one batch; the second listing of `b` in the same run must find
    // the first's entries, still waiting to be written, as stored.
    let reconciled = store.record(at(1), &[update("b", 0), update("b", 10), update("a", 0), update("c", 0)]).unwrap();
    assert_eq!(reconciled["a"].new, per_source);
    assert_eq!(reconciled["c"].new, per_source);
    assert_eq!((reconciled["b"].new, reconciled["b"].unchanged), (10, per_source - 10));
    let (rows, unsigned): (usize, usize) = store
        .conn
        .query_row("SELECT COUNT(*), COUNT(*) - COUNT(signature) FROM entries", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!((rows, unsigned), (3 * per_source + 10, 0));
    let stored = store.entries(&["a"]).unwrap();
    assert!(stored.iter().all(|s| s.signature == Some(Signature::of_entry(&s.entry))));
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
    let mut store = Store::in_memory().unwrap();
    let mut full = entry("a", "https://abai.kz/a", "A");
    full.content_html = Some("<p>Толық мәтін.</p>".into());
    store.record(at(1), &[parsed(vec![full])]).unwrap();
    assert!(store.known_urls("abai").unwrap().contains("abai.kz/a"));
    // The feed still lists the entry with its summary only: the stored full text stays.
    store.record(at(2), &[parsed(vec![entry("a", "https://abai.kz/a", "A")])]).unwrap();
    let stored = store.entries(&["abai"]).unwrap();
    assert_eq!(stored[0].entry.content_html.as_deref(), Some("<p>Толық мәтін.</p>"));
}

#[test]
fn near_signatures_are_stored_and_follow_edits() {
    let mut store = Store::in_memory().unwrap();
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
    let bands: Vec<u8> = store.conn.query_row("SELECT bands FROM entries", [], |r| r.get(0)).unwrap();
    assert_eq!(bands, dedup::near::bands_to_bytes(&expected));
    assert_eq!(stored[0].signature, Some(expected));

    // None (after the migration) is computed at the next record…
    store.conn.execute("UPDATE entries SET signature = NULL", []).unwrap();
    assert_eq!(store.entries(&["abai"]).unwrap()[0].signature, None);
    store.record(at(3), &[]).unwrap();
    assert!(store.entries(&["abai"]).unwrap()[0].signature.is_some());
    // …and so is every signature once the signature version changed.
    store.conn.execute("UPDATE entries SET signature = x'00'", []).unwrap();
    store.set_meta("signature_version", "0").unwrap();
    store.record(at(4), &[]).unwrap();
    assert!(store.entries(&["abai"]).unwrap()[0].signature.is_some());
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
    let mut store = Store::in_memory().unwrap();
    let of = |source: &str, n: u32| {
        let mut e =
            entry(&format!("https://{source}.kz/{n}"), &format!("https://{source}.kz/{n}"), &format!("Жаңалық {n}"));
        e.source = source.into();
        e.summary_html = Some(format!("<p>{source}: мәтін нөмір {n}, айтыс туралы.</p>"));
        e
    };
    let feed = |source: &str, ns: &[u32]| SourceUpdate {
        name: source.into(),
        configured_url: format!("https://{source}.kz/rss"),
        ..parsed(ns.iter().map(|n| of(source, *n)).collect())
    };
    let counted = |store: &Store| {
        let mut counts: Vec<(String, usize)> = store.entry_counts().unwrap().into_iter().collect();
        counts.sort();
        assert_eq!(counts, {
            let mut all: Vec<_> = count_entries(&store.conn).unwrap().into_iter().collect();
            all.sort();
            all
        });
        counts
    };
    let pairs = |v: &[(&str, usize)]| v.iter().map(|(s, n)| (s.to_string(), *n)).collect::<Vec<_>>();

    store.record(at(1), &[feed("abai", &[1, 2]), feed("qazaq", &[1, 2, 3])]).unwrap();
    assert_eq!(counted(&store), pairs(&[("abai", 2), ("qazaq", 3)]));

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
    assert_eq!(counted(&store), pairs(&[("abai", 4), ("qazaq", 3)]));

    // qazaq's 1 and 2 left its feed at 2; purged, they leave its count.
    assert_eq!(store.purge(at(3), at(4)).unwrap(), 2);
    assert_eq!(counted(&store), pairs(&[("abai", 4), ("qazaq", 1)]));
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
    let mut store = Store::in_memory().unwrap();
    store.identify_sources(&[("abai", "https://abai.kz/rss"), ("qazaq", "https://qazaq.kz/rss")]).unwrap();
    store.record(at(1), &[parsed(vec![entry("urn:feedmill:abai:1", "https://abai.kz/post/1", "Бірінші")])]).unwrap();
    let modes = [crate::config::DedupMode::Exact];
    assert_eq!(store.update_stories(&modes, &["abai", "qazaq"]).unwrap(), 1);

    // Renamed, its URL written another way: the same source, under its new name.
    let renamed =
        store.identify_sources(&[("qazaq", "https://qazaq.kz/rss"), ("abai-kz", "http://www.abai.kz/rss")]).unwrap();
    assert_eq!(renamed, [Renamed { from: "abai".into(), to: "abai-kz".into() }]);
    let sources = store.sources().unwrap();
    assert_eq!(sources["abai-kz"].source_key.as_deref(), Some("abai"));
    assert!(!sources.contains_key("abai"));
    let stored = store.entries(&["abai-kz"]).unwrap();
    assert_eq!(stored[0].entry.id, "urn:feedmill:abai:1");
    assert_eq!(stored[0].entry.source, "abai-kz", "the outputs show the new name");
    assert_eq!(store.entry_counts().unwrap()["abai-kz"], 1);
    // Reordered too, and still merged from the stories kept: nothing is merged again from scratch.
    let order = store.first_met_order(&["qazaq", "abai-kz"]).unwrap();
    assert_eq!(order, ["abai-kz", "qazaq"], "first met first");
    assert_eq!(store.update_stories(&modes, &order).unwrap(), 0);

    // Re-pointed: found by its name. Then renamed and re-pointed at once: a new source, whose key is
    // not the one the renamed source still holds.
    assert!(store.identify_sources(&[("abai-kz", "https://abai.kz/new-rss")]).unwrap().is_empty());
    assert_eq!(store.sources().unwrap()["abai-kz"].source_key.as_deref(), Some("abai"));
    assert!(store.identify_sources(&[("abai", "https://other.kz/rss")]).unwrap().is_empty());
    assert_eq!(store.sources().unwrap()["abai"].source_key.as_deref(), Some("abai-2"));
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
    let mut store = Store::in_memory().unwrap();
    let with_body = |url: &str, body: Option<&[u8]>| SourceUpdate {
        configured_url: url.into(),
        state: SourceState { raw: body.map(|b| RawBody::new(b, None, None)), ..SourceState::default() },
        entries: EntriesUpdate::Unchanged,
        ..parsed(vec![])
    };
    let kept = |store: &Store| store.raw_body("abai").unwrap().and_then(|r| r.bytes());
    store.record(at(1), &[with_body("https://abai.kz/rss", Some(b"first"))]).unwrap();
    store.record(at(2), &[with_body("https://abai.kz/rss", None)]).unwrap();
    assert_eq!(kept(&store).as_deref(), Some(&b"first"[..]), "a 304 keeps it");
    store.record(at(3), &[with_body("https://abai.kz/rss", Some(b"second"))]).unwrap();
    assert_eq!(kept(&store).as_deref(), Some(&b"second"[..]));
    store.record(at(4), &[with_body("https://abai.kz/new-rss", None)]).unwrap();
    assert_eq!(kept(&store), None, "read for another URL");
}

#[test]
fn filtered_entries_are_replaced_per_parsed_source_and_found_by_guid_or_link() {
    let mut store = Store::in_memory().unwrap();
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
    assert_eq!(store.filtered_counts().unwrap(), HashMap::from([("abai".to_owned(), 2)]));
    let found = store.find_filtered("http://www.abai.kz/ad/1?utm_source=tg").unwrap();
    assert_eq!(found.iter().map(|f| f.guid.as_deref()).collect::<Vec<_>>(), [Some("ad-1")]);
    assert_eq!(store.find_filtered("ad-2").unwrap()[0].reason, "filters.block[0] (title matched \"Жарнама*\")");
    // Not parsed this run (`None`): what was dropped stands. Parsed with nothing dropped: gone.
    store.record(at(2), &[with(None)]).unwrap();
    assert_eq!(store.filtered_counts().unwrap().get("abai"), Some(&2));
    store.record(at(3), &[with(Some(vec![]))]).unwrap();
    assert!(store.filtered_counts().unwrap().is_empty());
    assert!(store.find_filtered("ad-1").unwrap().is_empty());
}

#[test]
fn outputs_are_kept_under_the_meta_keys_older_states_wrote() {
    // A state written before the `Outputs` trait: its build key and counts must read the same, or the
    // first run after an upgrade would rebuild every folder and `status` would show no folded entries.
    let store = Store::in_memory().unwrap();
    store.set_meta("outputs:public", "key-1").unwrap();
    store.set_meta("duplicates_collapsed", r#"{"abai":2}"#).unwrap();
    store.set_meta("websub_pending", r#"{"hub":"h","topics":[]}"#).unwrap();
    assert_eq!(store.built(Path::new("public")).unwrap().as_deref(), Some("key-1"));
    assert_eq!(store.built(Path::new("elsewhere")).unwrap(), None);
    assert_eq!(store.last_folded().unwrap(), Some(HashMap::from([("abai".to_owned(), 2)])));
    assert_eq!(store.pending_announcements().unwrap().as_deref(), Some(r#"{"hub":"h","topics":[]}"#));

    store.set_built(Path::new("public"), "key-2").unwrap();
    store.set_last_folded(&HashMap::from([("qazaq", 1)])).unwrap();
    store.set_pending_announcements("{}").unwrap();
    assert_eq!(store.meta("outputs:public").unwrap().as_deref(), Some("key-2"));
    assert_eq!(store.meta("duplicates_collapsed").unwrap().as_deref(), Some(r#"{"qazaq":1}"#));
    assert_eq!(store.meta("websub_pending").unwrap().as_deref(), Some("{}"));
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
