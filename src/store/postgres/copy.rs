//! PostgreSQL's side of `migrate-state` (`store/migrate.rs`): the state read through a cursor in one
//! `REPEATABLE READ` transaction, and written with multi-row `INSERT`s in one transaction that holds
//! the tables (`EXCLUSIVE`: readers go on, a worker starting on the new database meanwhile waits).
//!
//! Each side takes a connection out of the pool for good (`Object::take`): dropped, the connection
//! closes and the server rolls its transaction back, so a copy that fails midway leaves nothing.

use deadpool_postgres::ClientWrapper;
use tokio_postgres::types::ToSql;

use super::sources::host_of;
use super::{PgError, PgStore};
use crate::store::migrate::{column_at, select_list, Kind, MigrateError, Reader, Table, Value, Writer, TABLES};

impl From<PgError> for MigrateError {
    fn from(e: PgError) -> MigrateError {
        MigrateError::Store(e.into())
    }
}

/// Rows per `FETCH`.
const FETCH: usize = 1000;

/// PostgreSQL's limit of parameters per statement.
const MAX_PARAMS: usize = 65_535;

impl PgStore {
    async fn detached(&self) -> Result<ClientWrapper, PgError> {
        Ok(deadpool_postgres::Object::take(self.client().await?))
    }

    /// The state as one snapshot, to copy from.
    pub(crate) fn reader(self) -> Result<PgReader, MigrateError> {
        let client = self.block(async {
            let client = self.detached().await?;
            client.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await.map_err(self.db())?;
            Ok::<_, PgError>(client)
        })??;
        Ok(PgReader { store: self, client })
    }

    /// The state to copy into: one transaction, its tables locked.
    pub(crate) fn writer(self) -> Result<PgWriter, MigrateError> {
        let tables = TABLES.iter().map(|t| t.name).collect::<Vec<_>>().join(", ");
        let client = self.block(async {
            let client = self.detached().await?;
            client.batch_execute(&format!("BEGIN; LOCK TABLE {tables} IN EXCLUSIVE MODE")).await.map_err(self.db())?;
            Ok::<_, PgError>(client)
        })??;
        Ok(PgWriter { store: self, client })
    }
}

pub(crate) struct PgReader {
    store: PgStore,
    client: ClientWrapper,
}

impl Reader for PgReader {
    fn scan(
        &mut self,
        table: &'static Table,
        row: &mut dyn FnMut(Vec<Value>) -> Result<(), MigrateError>,
    ) -> Result<(), MigrateError> {
        let (store, client) = (&self.store, &self.client);
        let order = table.rowid.map(|r| format!(" ORDER BY {r}")).unwrap_or_default();
        let rowid = table.rowid.unwrap_or_default();
        let sql = format!(
            "DECLARE copied NO SCROLL CURSOR FOR SELECT {} FROM {}{order}",
            select_list(table, rowid),
            table.name
        );
        store.block(client.batch_execute(&sql))?.map_err(store.db())?;
        let kinds: Vec<Kind> =
            table.rowid.map(|_| Kind::Int).into_iter().chain(table.columns.iter().map(|c| c.1)).collect();
        let fetch = format!("FETCH {FETCH} FROM copied");
        loop {
            let rows = store.block(client.query(&fetch, &[]))?.map_err(store.db())?;
            if rows.is_empty() {
                break;
            }
            for r in rows {
                let mut cells = Vec::with_capacity(kinds.len());
                for (i, kind) in kinds.iter().enumerate() {
                    let cell = match kind {
                        Kind::Int => r.try_get::<_, Option<i64>>(i).map(|v| v.map(Value::Int)),
                        Kind::Int4 => r.try_get::<_, Option<i32>>(i).map(|v| v.map(|n| Value::Int(n.into()))),
                        Kind::Text => r.try_get::<_, Option<String>>(i).map(|v| v.map(Value::Text)),
                        Kind::Bytes => r.try_get::<_, Option<Vec<u8>>>(i).map(|v| v.map(Value::Bytes)),
                    }
                    .map_err(|e| MigrateError::Value {
                        state: store.shown().to_owned(),
                        table: table.name,
                        column: column_at(table, i),
                        message: e.to_string(),
                    })?;
                    cells.push(cell.unwrap_or(Value::Null));
                }
                row(cells)?;
            }
        }
        store.block(client.batch_execute("CLOSE copied"))?.map_err(store.db())?;
        Ok(())
    }
}

pub(crate) struct PgWriter {
    store: PgStore,
    client: ClientWrapper,
}

/// One parameter, typed as its column is.
fn param(
    store: &PgStore,
    table: &'static Table,
    i: usize,
    kind: Kind,
    v: &Value,
) -> Result<Box<dyn ToSql + Sync + Send>, MigrateError> {
    let wrong = |message: String| MigrateError::Value {
        state: store.shown().to_owned(),
        table: table.name,
        column: column_at(table, i),
        message,
    };
    Ok(match (kind, v) {
        (Kind::Int, Value::Null) => Box::new(None::<i64>),
        (Kind::Int4, Value::Null) => Box::new(None::<i32>),
        (Kind::Text, Value::Null) => Box::new(None::<String>),
        (Kind::Bytes, Value::Null) => Box::new(None::<Vec<u8>>),
        (Kind::Int, Value::Int(n)) => Box::new(*n),
        (Kind::Int4, Value::Int(n)) => {
            Box::new(i32::try_from(*n).map_err(|_| wrong(format!("{n} does not fit PostgreSQL's INTEGER")))?)
        }
        (Kind::Text, Value::Text(t)) => Box::new(t.clone()),
        (Kind::Bytes, Value::Bytes(b)) => Box::new(b.clone()),
        (kind, v) => return Err(wrong(format!("{v:?} where the column holds {kind:?}"))),
    })
}

impl Writer for PgWriter {
    fn first_non_empty(&mut self) -> Result<Option<&'static str>, MigrateError> {
        let (store, client) = (&self.store, &self.client);
        for table in TABLES {
            let sql = format!("SELECT EXISTS (SELECT 1 FROM {})", table.name);
            let found: bool = store.block(client.query_one(&sql, &[]))?.map_err(store.db())?.get(0);
            if found {
                return Ok(Some(table.name));
            }
        }
        Ok(None)
    }

    fn write(&mut self, table: &'static Table, rows: &[Vec<Value>]) -> Result<(), MigrateError> {
        let (store, client) = (&self.store, &self.client);
        let kinds: Vec<Kind> =
            table.rowid.map(|_| Kind::Int).into_iter().chain(table.columns.iter().map(|c| c.1)).collect();
        // `sources.host`, PostgreSQL's alone: what `identify_sources` writes, from the configured URL.
        let host = (table.name == "sources")
            .then(|| table.columns.iter().position(|c| c.0 == "configured_url"))
            .flatten()
            .map(|p| p + usize::from(table.rowid.is_some()));
        let width = kinds.len() + usize::from(host.is_some());
        let mut names = select_list(table, table.rowid.unwrap_or_default());
        if host.is_some() {
            names.push_str(", host");
        }
        let overriding = if table.rowid.is_some() { " OVERRIDING SYSTEM VALUE" } else { "" };
        for chunk in rows.chunks(MAX_PARAMS / width) {
            let mut params: Vec<Box<dyn ToSql + Sync + Send>> = Vec::with_capacity(chunk.len() * width);
            let mut tuples = Vec::with_capacity(chunk.len());
            for row in chunk {
                let first = params.len();
                for (i, (kind, v)) in kinds.iter().zip(row).enumerate() {
                    params.push(param(store, table, i, *kind, v)?);
                }
                if let Some(url_at) = host {
                    let url = match row.get(url_at) {
                        Some(Value::Text(url)) => host_of(url),
                        _ => None,
                    };
                    params.push(Box::new(url));
                }
                let marks: Vec<String> = (first + 1..=params.len()).map(|n| format!("${n}")).collect();
                tuples.push(format!("({})", marks.join(", ")));
            }
            let sql = format!("INSERT INTO {} ({names}){overriding} VALUES {}", table.name, tuples.join(", "));
            let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect();
            store.block(client.execute(&sql, &refs))?.map_err(store.db())?;
        }
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<(), MigrateError> {
        let (store, client) = (&self.store, &self.client);
        // The row numbers were given, not drawn: the next ones drawn follow the largest copied.
        let mut sql = String::new();
        for table in TABLES {
            if let Some(rowid) = table.rowid {
                sql.push_str(&format!(
                    "SELECT setval(pg_get_serial_sequence('{0}', '{rowid}'), max({rowid})) FROM {0} HAVING count(*) > 0;",
                    table.name
                ));
            }
        }
        sql.push_str("COMMIT");
        store.block(client.batch_execute(&sql))?.map_err(store.db())?;
        Ok(())
    }
}
