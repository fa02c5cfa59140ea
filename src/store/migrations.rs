//! The store's schema, as an append-only list of migrations (like miniflux's `migrations.go`).
//!
//! `PRAGMA user_version` holds how many have run. Never edit or reorder a migration that has shipped:
//! append a new one. Each runs in its own transaction together with the version bump.

/// The migration after which `Store::init` computes the band tags of entries already signed.
pub const BANDS: usize = 7;

pub const MIGRATIONS: &[&str] = &[
    // 1: sources with their HTTP and scheduling state; entries with identity keys and the normalized
    // entry as JSON so outputs can be rebuilt without fetching; tombstones for purged entries.
    r#"
    CREATE TABLE sources (
        name                TEXT PRIMARY KEY,
        configured_url      TEXT NOT NULL,
        url_in_use          TEXT,
        etag                TEXT,
        last_modified       TEXT,
        body_hash           BLOB,
        last_fetch          INTEGER,
        last_success        INTEGER,
        last_error          TEXT,
        failures            INTEGER NOT NULL DEFAULT 0,
        next_fetch          INTEGER,
        redirect_target     TEXT,
        redirect_first_seen INTEGER,
        redirect_count      INTEGER NOT NULL DEFAULT 0,
        skip_hours          TEXT,
        skip_days           TEXT,
        title               TEXT,
        site_url            TEXT
    ) STRICT;

    CREATE TABLE entries (
        source        TEXT NOT NULL,
        id            TEXT NOT NULL,
        canonical_url TEXT,
        fingerprint   BLOB,
        first_seen    INTEGER NOT NULL,
        last_seen     INTEGER NOT NULL,
        in_feed       INTEGER NOT NULL DEFAULT 1,
        entry         TEXT NOT NULL,
        PRIMARY KEY (source, id)
    ) STRICT;
    CREATE INDEX entries_last_seen ON entries (last_seen);

    CREATE TABLE tombstones (
        source    TEXT NOT NULL,
        key       TEXT NOT NULL,
        purged_at INTEGER NOT NULL,
        PRIMARY KEY (source, key)
    ) STRICT;
    "#,
    // 2: small named values: the content version (bumped whenever stored entries or source metadata
    // change) and, per output folder, the build key of what was last written there.
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT;
    "#,
    // 3: each entry's near-duplicate signature (`dedup::near::Signature::to_bytes`), so a publish reads
    // them instead of re-reading every stored text; NULL until computed (the run's recorder fills the rows
    // the partial index lists). And per source, when its feed last listed its in-feed entries: a 304
    // updates that one row instead of rewriting every entry's `last_seen`.
    r#"
    ALTER TABLE entries ADD COLUMN signature BLOB;
    CREATE INDEX entries_unsigned ON entries (source) WHERE signature IS NULL;
    ALTER TABLE sources ADD COLUMN listed_at INTEGER;
    "#,
    // 4: when a source first answered 410 Gone; set, the source is dead and not fetched again (until
    // its configured URL changes). Its entries stay until retention purges them.
    r#"
    ALTER TABLE sources ADD COLUMN gone_since INTEGER;
    "#,
    // 5: stories kept between runs (`store::stories`), so a run merges only the entries it met. Per
    // entry: what the merge orders and weighs copies by (filled from the JSON here, then on every
    // write), whether it has been merged yet, and indexes to find a new entry's copies by id, link,
    // fingerprint and date. Per dedup mode in use and entry: the story it belongs to and how it joined.
    r#"
    ALTER TABLE entries ADD COLUMN sort_date INTEGER;
    ALTER TABLE entries ADD COLUMN text_size INTEGER;
    ALTER TABLE entries ADD COLUMN has_content INTEGER;
    ALTER TABLE entries ADD COLUMN storied INTEGER NOT NULL DEFAULT 0;
    UPDATE entries SET
        sort_date = coalesce(unixepoch(json_extract(entry, '$.published')),
                             unixepoch(json_extract(entry, '$.updated')), first_seen),
        text_size = coalesce(length(CAST(coalesce(json_extract(entry, '$.content_html'),
                                                  json_extract(entry, '$.summary_html')) AS BLOB)), 0),
        has_content = json_extract(entry, '$.content_html') IS NOT NULL;
    CREATE INDEX entries_unstoried ON entries (source) WHERE storied = 0;
    CREATE INDEX entries_id ON entries (id);
    CREATE INDEX entries_canonical_url ON entries (canonical_url) WHERE canonical_url IS NOT NULL;
    CREATE INDEX entries_fingerprint ON entries (fingerprint) WHERE fingerprint IS NOT NULL;
    CREATE INDEX entries_sort_date ON entries (sort_date);

    CREATE TABLE story_members (
        mode        TEXT NOT NULL,
        source      TEXT NOT NULL,
        id          TEXT NOT NULL,
        head_source TEXT NOT NULL,
        head_id     TEXT NOT NULL,
        head_date   INTEGER NOT NULL,
        seq         INTEGER NOT NULL,
        layer       TEXT,
        joined      TEXT,
        effect      TEXT,
        PRIMARY KEY (mode, source, id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX story_members_by_head ON story_members (head_source, head_id, mode);
    CREATE INDEX story_members_newest ON story_members (mode, head_date DESC, head_id, head_source);
    "#,
    // 6: the near-duplicate lookup reads every signature dated within the window of a run's new entries;
    // this index covers it, so the rows themselves are not visited.
    r#"
    DROP INDEX entries_sort_date;
    CREATE INDEX entries_near ON entries (sort_date, storied, first_seen, source, id, signature);
    "#,
    // 7: each entry's near-duplicate band tags (`dedup::near::bands_to_bytes`), written with its
    // signature, so finding the stored entries that share a band with a run's new ones reads 64 bytes
    // an entry and hashes nothing; `Store::init` fills them for the entries already signed (`BANDS`). The
    // window's index now covers the tags and the merge order (first seen, source): the signatures of
    // the few entries that share a band are read by row.
    r#"
    ALTER TABLE entries ADD COLUMN bands BLOB;
    DROP INDEX entries_near;
    CREATE INDEX entries_near ON entries (sort_date, storied, bands, first_seen, source);
    "#,
    // 8: the copies folded into another copy's story (`Store::folded`, counted on every build), indexed
    // alone: a few hundred of 500,000 members at 10,000 sources, where counting them scanned every member.
    r#"
    CREATE INDEX story_members_folded ON story_members (mode, source) WHERE source != head_source OR id != head_id;
    "#,
    // 9: the entries not merged into stories yet are listed in a table of their own, where a column
    // marked them: marking every entry merged rewrote every row of a run that added many (6 s of a cold
    // run at 10,000 sources, the whole 1.3 GB table). Dropping the column rewrites the table once.
    r#"
    CREATE TABLE unstoried (entry INTEGER PRIMARY KEY) STRICT;
    INSERT INTO unstoried SELECT rowid FROM entries WHERE storied = 0;
    DROP INDEX entries_unstoried;
    DROP INDEX entries_near;
    ALTER TABLE entries DROP COLUMN storied;
    CREATE INDEX entries_near ON entries (sort_date, bands, first_seen, source);
    "#,
    // 10: the digest of the raw entry each entry was normalized from (`normalize::RawDigest`), so a
    // changed feed's unchanged entries are taken from the store instead of normalized again
    // (`Listings`). Entries stored before get theirs the next time their feed is parsed.
    r#"
    ALTER TABLE entries ADD COLUMN raw_digest BLOB;
    "#,
    // 11: each source's stable identity and what its entries were read under. `source_key` is the name
    // it had when first seen (so every id already published stays) and prefixes the ids derived for it;
    // `rank` is the order sources were first met in, which breaks ties in the story merge instead of
    // the config's order (filled in config order by the first run after this migration, the order the
    // kept stories were merged in). `config_digest` is what shaped its entries (`pipeline::source`'s
    // `shaping_digest`). `raw_bodies` keeps the last body each source was read from (deflated), its
    // type, the URL it came from and the configured URL it was read for, to read it again when the
    // digest changes: in a table of its own, as every run rewrites every source's row it fetched,
    // and a body in that row would be written again with it.
    r#"
    ALTER TABLE sources ADD COLUMN source_key TEXT;
    UPDATE sources SET source_key = name;
    CREATE UNIQUE INDEX sources_key ON sources (source_key);
    ALTER TABLE sources ADD COLUMN rank INTEGER;
    ALTER TABLE sources ADD COLUMN config_digest TEXT;
    CREATE TABLE raw_bodies (
        source         TEXT PRIMARY KEY,
        configured_url TEXT NOT NULL,
        body           BLOB NOT NULL,
        content_type   TEXT,
        url            TEXT
    ) STRICT;
    "#,
    // 12: the entries `[filters]` dropped from each source's last parsed document, and why, for `status`
    // and `explain`. Replaced whole each time the source is parsed; looked up by id or link, rarely.
    r#"
    CREATE TABLE filtered (
        source        TEXT NOT NULL,
        guid          TEXT,
        url           TEXT,
        canonical_url TEXT,
        title         TEXT NOT NULL,
        reason        TEXT NOT NULL
    ) STRICT;
    CREATE INDEX filtered_source ON filtered (source);
    "#,
];
