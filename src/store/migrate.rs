//! `feedmill migrate-state`: a whole state copied to another backend (SQLite file ↔ PostgreSQL, and
//! either to its own kind), every id, history and tombstone unchanged, so the copy publishes what the
//! original would.
//!
//! The tables and their columns are listed once (`TABLES`); each backend reads them as rows of plain
//! `Value`s (`scan`) and writes them back (`write`), so the copy is generic over both directions. Row
//! numbers other rows refer to are kept: entries' `rowid` (`unstoried` names entries by it), and the
//! order sources and filtered entries were inserted in (SQLite's `rowid`, PostgreSQL's `seq`).
//!
//! Not copied: what only a running PostgreSQL deployment holds (`workers`, leases, `published`): a
//! copy is a state at rest, its next run starts them afresh. `sources.host` is computed from the
//! configured URL, as `identify_sources` does.
//!
//! The source is read as one snapshot (SQLite: under the run lock, in one read transaction;
//! PostgreSQL: one `REPEATABLE READ` transaction) and the target written in one transaction, checked
//! empty inside it: a copy that fails leaves the target as empty as it found it, and a target that
//! holds any row is refused, never overwritten.

use std::path::{Path, PathBuf};

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::OptionalExtension as _;
use tokio::runtime::Handle;

use super::postgres::PgStore;
use super::{LockError, RunLock, Store, StoreError};
use crate::config::StateUrl;

/// Where a state is.
#[derive(Debug, Clone, Copy)]
pub enum Place<'a> {
    Sqlite(&'a Path),
    Postgres(&'a StateUrl),
}

impl Place<'_> {
    /// The name messages give it: the path, or the URL without its password.
    pub fn shown(&self) -> String {
        match self {
            Place::Sqlite(path) => path.display().to_string(),
            Place::Postgres(url) => url.shown().to_owned(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("no state at {}: nothing to migrate", path.display())]
    NoSource { path: PathBuf },
    #[error("the target {target} is the source state itself")]
    SameState { target: String },
    #[error(
        "the target state {target} is not empty (table `{table}` holds rows): migrate-state never overwrites a state; \
         give it a new file or an empty database"
    )]
    NotEmpty { target: String, table: &'static str },
    #[error("state database {state}: table `{table}`, column `{column}`: {message}")]
    Value { state: String, table: &'static str, column: &'static str, message: String },
}

/// A column's type, as PostgreSQL declares it (SQLite stores integers, text and blobs alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `BIGINT`.
    Int,
    /// `INTEGER` (PostgreSQL's 32 bits).
    Int4,
    Text,
    Bytes,
}

/// One cell.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Value {
    fn size(&self) -> usize {
        match self {
            Value::Null | Value::Int(_) => 8,
            Value::Text(s) => s.len(),
            Value::Bytes(b) => b.len(),
        }
    }
}

/// A table copied whole.
#[derive(Debug)]
pub(crate) struct Table {
    pub name: &'static str,
    /// The row number kept, first in every row: SQLite's `rowid`, PostgreSQL's column of that name
    /// (an identity column).
    pub rowid: Option<&'static str>,
    pub columns: &'static [(&'static str, Kind)],
}

use Kind::{Bytes, Int, Int4, Text};

/// Every table of the state and every column both backends share (`store/migrations.rs`,
/// `postgres/migrations/`); a test compares this list with both schemas.
pub(crate) const TABLES: &[Table] = &[
    Table {
        name: "sources",
        rowid: Some("seq"),
        columns: &[
            ("name", Text),
            ("configured_url", Text),
            ("url_in_use", Text),
            ("etag", Text),
            ("last_modified", Text),
            ("body_hash", Bytes),
            ("last_fetch", Int),
            ("last_success", Int),
            ("last_error", Text),
            ("failures", Int4),
            ("next_fetch", Int),
            ("redirect_target", Text),
            ("redirect_first_seen", Int),
            ("redirect_count", Int4),
            ("skip_hours", Text),
            ("skip_days", Text),
            ("title", Text),
            ("site_url", Text),
            ("listed_at", Int),
            ("gone_since", Int),
            ("source_key", Text),
            ("rank", Int),
            ("config_digest", Text),
        ],
    },
    Table {
        name: "entries",
        rowid: Some("rowid"),
        columns: &[
            ("source", Text),
            ("id", Text),
            ("canonical_url", Text),
            ("fingerprint", Bytes),
            ("first_seen", Int),
            ("last_seen", Int),
            ("in_feed", Int4),
            ("entry", Text),
            ("signature", Bytes),
            ("sort_date", Int),
            ("text_size", Int),
            ("has_content", Int4),
            ("bands", Bytes),
            ("raw_digest", Bytes),
        ],
    },
    Table { name: "tombstones", rowid: None, columns: &[("source", Text), ("key", Text), ("purged_at", Int)] },
    Table { name: "meta", rowid: None, columns: &[("key", Text), ("value", Text)] },
    Table {
        name: "story_members",
        rowid: None,
        columns: &[
            ("mode", Text),
            ("source", Text),
            ("id", Text),
            ("head_source", Text),
            ("head_id", Text),
            ("head_date", Int),
            ("seq", Int),
            ("layer", Text),
            ("joined", Text),
            ("effect", Text),
        ],
    },
    Table { name: "unstoried", rowid: None, columns: &[("entry", Int)] },
    Table {
        name: "raw_bodies",
        rowid: None,
        columns: &[("source", Text), ("configured_url", Text), ("body", Bytes), ("content_type", Text), ("url", Text)],
    },
    Table {
        name: "filtered",
        rowid: Some("seq"),
        columns: &[
            ("source", Text),
            ("guid", Text),
            ("url", Text),
            ("canonical_url", Text),
            ("title", Text),
            ("reason", Text),
        ],
    },
];

/// Rows written per statement at most, and bytes: a batch of kept feed bodies stays a few MB.
const BATCH_ROWS: usize = 1000;
const BATCH_BYTES: usize = 4 << 20;

/// The rows of one table, handed to `row` one at a time in the source's snapshot.
pub(crate) trait Reader {
    fn scan(
        &mut self,
        table: &'static Table,
        row: &mut dyn FnMut(Vec<Value>) -> Result<(), MigrateError>,
    ) -> Result<(), MigrateError>;
}

/// The target's one transaction.
pub(crate) trait Writer {
    /// The first table holding a row, if any.
    fn first_non_empty(&mut self) -> Result<Option<&'static str>, MigrateError>;
    fn write(&mut self, table: &'static Table, rows: &[Vec<Value>]) -> Result<(), MigrateError>;
    fn commit(self: Box<Self>) -> Result<(), MigrateError>;
}

/// Copies the state at `from` into the empty state at `to` (created and migrated first), calling
/// `progress` with each table's name and rows once it is copied; returns the same counts. `wait`:
/// when a run holds a SQLite state, wait for it instead of failing. PostgreSQL's connections run on
/// `handle`'s runtime; call this off that runtime's workers (from the command's main thread).
pub fn migrate(
    from: Place,
    to: Place,
    wait: bool,
    handle: &Handle,
    progress: &mut dyn FnMut(&'static str, u64),
) -> Result<Vec<(&'static str, u64)>, MigrateError> {
    if same(&from, &to) {
        return Err(MigrateError::SameState { target: to.shown() });
    }
    let mut locks = Vec::new();
    let mut reader: Box<dyn Reader> = match from {
        Place::Sqlite(path) => {
            if !path.exists() {
                return Err(MigrateError::NoSource { path: path.to_owned() });
            }
            locks.push(lock(path, wait)?);
            Box::new(SqliteReader::open(path)?)
        }
        Place::Postgres(url) => Box::new(PgStore::open(url, handle.clone())?.reader()?),
    };
    let mut writer: Box<dyn Writer> = match to {
        Place::Sqlite(path) => {
            refuse_non_empty_file(path)?;
            // A `run` started on the new file meanwhile would write into the copy.
            locks.push(lock(path, wait)?);
            Box::new(SqliteWriter::open(path)?)
        }
        Place::Postgres(url) => Box::new(PgStore::open(url, handle.clone())?.writer()?),
    };
    if let Some(table) = writer.first_non_empty()? {
        return Err(MigrateError::NotEmpty { target: to.shown(), table });
    }
    let counts = copy(reader.as_mut(), writer.as_mut(), progress)?;
    writer.commit()?;
    // The source's snapshot and run lock last until the copy is committed.
    drop(reader);
    drop(locks);
    Ok(counts)
}

/// Every table from `reader` to `writer`, in batches.
fn copy(
    reader: &mut dyn Reader,
    writer: &mut dyn Writer,
    progress: &mut dyn FnMut(&'static str, u64),
) -> Result<Vec<(&'static str, u64)>, MigrateError> {
    let mut counts = Vec::new();
    for table in TABLES {
        let mut batch: Vec<Vec<Value>> = Vec::new();
        let mut bytes = 0;
        let mut rows = 0u64;
        reader.scan(table, &mut |row| {
            bytes += row.iter().map(Value::size).sum::<usize>();
            batch.push(row);
            rows += 1;
            if batch.len() >= BATCH_ROWS || bytes >= BATCH_BYTES {
                writer.write(table, &batch)?;
                batch.clear();
                bytes = 0;
            }
            Ok(())
        })?;
        if !batch.is_empty() {
            writer.write(table, &batch)?;
        }
        progress(table.name, rows);
        counts.push((table.name, rows));
    }
    Ok(counts)
}

fn same(a: &Place, b: &Place) -> bool {
    match (a, b) {
        (Place::Sqlite(a), Place::Sqlite(b)) => {
            let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
            real(a) == real(b)
        }
        (Place::Postgres(a), Place::Postgres(b)) => a.expose_url() == b.expose_url(),
        _ => false,
    }
}

fn lock(path: &Path, wait: bool) -> Result<RunLock, MigrateError> {
    Ok(if wait { RunLock::acquire_waiting(path)? } else { RunLock::try_acquire(path)? })
}

/// A file that holds rows is refused before it is opened: opening migrates, and an older state must
/// not be upgraded by a command that then refuses it.
fn refuse_non_empty_file(path: &Path) -> Result<(), MigrateError> {
    let empty_file = std::fs::metadata(path).map(|m| m.len() == 0).unwrap_or(true);
    if empty_file {
        return Ok(());
    }
    let err = |source| StoreError::Sqlite { path: path.to_owned(), source };
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(err)?;
    for table in TABLES {
        let exists: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
                [table.name],
                |r| r.get(0),
            )
            .map_err(err)?;
        if exists && has_rows(&conn, table.name).map_err(err)? {
            return Err(MigrateError::NotEmpty { target: path.display().to_string(), table: table.name });
        }
    }
    Ok(())
}

fn has_rows(conn: &rusqlite::Connection, table: &str) -> rusqlite::Result<bool> {
    conn.query_row(&format!("SELECT 1 FROM {table} LIMIT 1"), [], |_| Ok(())).optional().map(|r| r.is_some())
}

/// The SELECT list of `table`: its row number first when it keeps one.
pub(crate) fn select_list(table: &Table, rowid: &str) -> String {
    table.rowid.map(|_| rowid).into_iter().chain(table.columns.iter().map(|(c, _)| *c)).collect::<Vec<_>>().join(", ")
}

/// The column a cell of `table`'s rows belongs to, for messages.
pub(crate) fn column_at(table: &Table, i: usize) -> &'static str {
    match table.rowid {
        Some(rowid) if i == 0 => rowid,
        Some(_) => table.columns[i - 1].0,
        None => table.columns[i].0,
    }
}

/// The SQLite state read as one snapshot (a read transaction; the run lock keeps runs out besides).
struct SqliteReader {
    store: Store,
}

impl SqliteReader {
    fn open(path: &Path) -> Result<SqliteReader, MigrateError> {
        let store = Store::open_read_only(path)?;
        store.conn.execute_batch("BEGIN").map_err(store.err())?;
        Ok(SqliteReader { store })
    }
}

impl Reader for SqliteReader {
    fn scan(
        &mut self,
        table: &'static Table,
        row: &mut dyn FnMut(Vec<Value>) -> Result<(), MigrateError>,
    ) -> Result<(), MigrateError> {
        let err = self.store.err();
        let order = if table.rowid.is_some() { " ORDER BY rowid" } else { "" };
        let sql = format!("SELECT {} FROM {}{order}", select_list(table, "rowid"), table.name);
        let mut stmt = self.store.conn.prepare(&sql).map_err(&err)?;
        let width = stmt.column_count();
        let mut rows = stmt.query([]).map_err(&err)?;
        while let Some(r) = rows.next().map_err(&err)? {
            let mut cells = Vec::with_capacity(width);
            for i in 0..width {
                let cell = match r.get_ref(i).map_err(&err)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::Int(n),
                    ValueRef::Text(t) => {
                        Value::Text(String::from_utf8(t.to_vec()).map_err(|e| MigrateError::Value {
                            state: self.store.path.display().to_string(),
                            table: table.name,
                            column: column_at(table, i),
                            message: format!("text that is not UTF-8: {e}"),
                        })?)
                    }
                    ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
                    ValueRef::Real(_) => {
                        return Err(MigrateError::Value {
                            state: self.store.path.display().to_string(),
                            table: table.name,
                            column: column_at(table, i),
                            message: "a real number, which no column of the state holds".into(),
                        })
                    }
                };
                cells.push(cell);
            }
            row(cells)?;
        }
        Ok(())
    }
}

/// The SQLite target: its run lock held (by the caller) and one write transaction.
struct SqliteWriter {
    store: Store,
}

impl SqliteWriter {
    fn open(path: &Path) -> Result<SqliteWriter, MigrateError> {
        let store = Store::open(path, super::DEFAULT_BUSY_TIMEOUT)?;
        store.conn.execute_batch("BEGIN IMMEDIATE").map_err(store.err())?;
        Ok(SqliteWriter { store })
    }
}

impl Writer for SqliteWriter {
    fn first_non_empty(&mut self) -> Result<Option<&'static str>, MigrateError> {
        for table in TABLES {
            if has_rows(&self.store.conn, table.name).map_err(self.store.err())? {
                return Ok(Some(table.name));
            }
        }
        Ok(None)
    }

    fn write(&mut self, table: &'static Table, rows: &[Vec<Value>]) -> Result<(), MigrateError> {
        let names = select_list(table, "rowid");
        let marks = vec!["?"; names.split(", ").count()].join(", ");
        let sql = format!("INSERT INTO {} ({names}) VALUES ({marks})", table.name);
        let mut stmt = self.store.conn.prepare_cached(&sql).map_err(self.store.err())?;
        for row in rows {
            let cells = row.iter().map(|v| match v {
                Value::Null => SqlValue::Null,
                Value::Int(n) => SqlValue::Integer(*n),
                Value::Text(t) => SqlValue::Text(t.clone()),
                Value::Bytes(b) => SqlValue::Blob(b.clone()),
            });
            stmt.execute(rusqlite::params_from_iter(cells)).map_err(self.store.err())?;
        }
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<(), MigrateError> {
        self.store.conn.execute_batch("COMMIT").map_err(self.store.err())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
