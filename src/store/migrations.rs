//! The store's schema, as an append-only list of migrations (like miniflux's `migrations.go`).
//!
//! `PRAGMA user_version` holds how many have run. Never edit or reorder a migration that has shipped:
//! append a new one. Each runs in its own transaction together with the version bump.

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
    // them instead of re-reading every stored text; NULL until computed (`Store::record` fills the rows
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
];
