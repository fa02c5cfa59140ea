//! The PostgreSQL schema, as numbered migrations (`migrations/NNN_*.sql`), append-only like SQLite's
//! (`store/migrations.rs`): never edit one that has shipped.
//!
//! Table `schema_version` holds how many have run. Every start runs the missing ones in one
//! transaction under an advisory lock, so workers starting together wait for the first one's
//! migration and then find nothing to do; a state a newer feedmill migrated further is refused.

use deadpool_postgres::Object;

use super::{PgError, LOCK, LOCK_MIGRATE};

const MIGRATIONS: &[&str] = &[include_str!("migrations/001_initial.sql"), include_str!("migrations/002_rounds.sql")];

/// The schema version this feedmill writes.
pub const KNOWN: i32 = MIGRATIONS.len() as i32;

/// Brings the schema up to [`KNOWN`]; `url` (redacted) names the database in errors.
pub(super) async fn migrate(client: &mut Object, url: &str) -> Result<(), PgError> {
    let db = |source| PgError::Db { url: url.to_owned(), source };
    let tx = client.transaction().await.map_err(db)?;
    tx.execute(LOCK, &[&LOCK_MIGRATE]).await.map_err(db)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)").await.map_err(db)?;
    let found: Option<i32> =
        tx.query_opt("SELECT max(version) FROM schema_version", &[]).await.map_err(db)?.and_then(|r| r.get(0));
    let found = found.unwrap_or(0);
    if found > KNOWN {
        return Err(PgError::TooNew { url: url.to_owned(), found, known: KNOWN });
    }
    if found == KNOWN {
        return Ok(());
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.batch_execute(sql).await.map_err(|source| PgError::Setup {
            url: url.to_owned(),
            message: format!("migration {}: {}", i + 1, super::describe(&source)),
        })?;
    }
    tx.execute("DELETE FROM schema_version", &[]).await.map_err(db)?;
    tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&KNOWN]).await.map_err(db)?;
    tx.commit().await.map_err(db)
}
