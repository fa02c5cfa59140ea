-- 1: SQLite's schema as its twelve migrations left it (store/migrations.rs), in PostgreSQL's types:
-- times stay seconds since the epoch (BIGINT), as the rest of the store reads them; an entry keeps
-- its JSON as TEXT, byte for byte as written (jsonb would reorder it). SQLite's rowid becomes an
-- identity column, which `unstoried` refers to.
--
-- And what several workers need (#21): per source, its host (the `per_host` limit counts leases per
-- host across workers) and its lease (`leased_by`, `lease_until`, on the database's clock, so
-- machines whose clocks differ agree on when it ends); the workers themselves; the published files,
-- so any `serve` instance serves the same bytes.

CREATE TABLE sources (
    name                TEXT PRIMARY KEY,
    configured_url      TEXT NOT NULL,
    url_in_use          TEXT,
    etag                TEXT,
    last_modified       TEXT,
    body_hash           BYTEA,
    last_fetch          BIGINT,
    last_success        BIGINT,
    last_error          TEXT,
    failures            INTEGER NOT NULL DEFAULT 0,
    next_fetch          BIGINT,
    redirect_target     TEXT,
    redirect_first_seen BIGINT,
    redirect_count      INTEGER NOT NULL DEFAULT 0,
    skip_hours          TEXT,
    skip_days           TEXT,
    title               TEXT,
    site_url            TEXT,
    listed_at           BIGINT,
    gone_since          BIGINT,
    source_key          TEXT UNIQUE,
    rank                BIGINT,
    config_digest       TEXT,
    -- The order rows were inserted in, which `identify_sources` walks (SQLite: rowid).
    seq                 BIGINT GENERATED ALWAYS AS IDENTITY,
    host                TEXT,
    leased_by           TEXT,
    lease_until         TIMESTAMPTZ
);
CREATE INDEX sources_due ON sources (next_fetch) WHERE gone_since IS NULL;
CREATE INDEX sources_leased_by ON sources (leased_by) WHERE leased_by IS NOT NULL;

CREATE TABLE entries (
    rowid         BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    source        TEXT NOT NULL,
    id            TEXT NOT NULL,
    canonical_url TEXT,
    fingerprint   BYTEA,
    first_seen    BIGINT NOT NULL,
    last_seen     BIGINT NOT NULL,
    in_feed       INTEGER NOT NULL DEFAULT 1,
    entry         TEXT NOT NULL,
    signature     BYTEA,
    sort_date     BIGINT,
    text_size     BIGINT,
    has_content   INTEGER,
    bands         BYTEA,
    raw_digest    BYTEA,
    PRIMARY KEY (source, id)
);
CREATE INDEX entries_last_seen ON entries (last_seen);
CREATE INDEX entries_unsigned ON entries (source) WHERE signature IS NULL;
CREATE INDEX entries_id ON entries (id);
CREATE INDEX entries_canonical_url ON entries (canonical_url) WHERE canonical_url IS NOT NULL;
CREATE INDEX entries_fingerprint ON entries (fingerprint) WHERE fingerprint IS NOT NULL;
CREATE INDEX entries_near ON entries (sort_date, bands, first_seen, source);

CREATE TABLE tombstones (
    source    TEXT NOT NULL,
    key       TEXT NOT NULL,
    purged_at BIGINT NOT NULL,
    PRIMARY KEY (source, key)
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE story_members (
    mode        TEXT NOT NULL,
    source      TEXT NOT NULL,
    id          TEXT NOT NULL,
    head_source TEXT NOT NULL,
    head_id     TEXT NOT NULL,
    head_date   BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    layer       TEXT,
    joined      TEXT,
    effect      TEXT,
    PRIMARY KEY (mode, source, id)
);
CREATE INDEX story_members_by_head ON story_members (head_source, head_id, mode);
CREATE INDEX story_members_newest ON story_members (mode, head_date DESC, head_id, head_source);
CREATE INDEX story_members_folded ON story_members (mode, source) WHERE source != head_source OR id != head_id;

CREATE TABLE unstoried (entry BIGINT PRIMARY KEY);

CREATE TABLE raw_bodies (
    source         TEXT PRIMARY KEY,
    configured_url TEXT NOT NULL,
    body           BYTEA NOT NULL,
    content_type   TEXT,
    url            TEXT
);

CREATE TABLE filtered (
    source        TEXT NOT NULL,
    guid          TEXT,
    url           TEXT,
    canonical_url TEXT,
    title         TEXT NOT NULL,
    reason        TEXT NOT NULL,
    -- The order they were dropped in, as `find_filtered` lists them (SQLite: rowid).
    seq           BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX filtered_source ON filtered (source);

CREATE TABLE workers (
    id        TEXT PRIMARY KEY,
    host      TEXT NOT NULL,
    pid       INTEGER NOT NULL,
    started   TIMESTAMPTZ NOT NULL DEFAULT now(),
    heartbeat TIMESTAMPTZ NOT NULL DEFAULT now(),
    counters  JSONB NOT NULL DEFAULT '{}'
);

-- The files of the last build, by path under the output folder (`all/rss.xml`): one site per state,
-- whatever folder each worker writes them to, so `serve` needs no worker's `[output] dir`.
CREATE TABLE published (
    path         TEXT PRIMARY KEY,
    bytes        BYTEA NOT NULL,
    etag         TEXT NOT NULL,
    published_at TIMESTAMPTZ NOT NULL
);
