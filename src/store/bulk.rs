//! Bulk loads: a table filled from empty in one transaction (the entries of a first run) has its
//! secondary indexes dropped first and built again once it is full.
//!
//! Why: each index of a table filled row by row takes one insert per row at a random place in its
//! B-tree (ids, links and fingerprints are hashes or URLs, in no order), and once an index outgrows
//! SQLite's page cache every such insert reads and rewrites a page. `CREATE INDEX` sorts the rows once
//! and writes each page once. The drop and the rebuild are in the caller's transaction: a run that fails
//! halfway rolls back to the table and its indexes as they were.
//!
//! Measured on a first run of 10,000 file sources (500,000 entries): recording took 38–40 s instead of
//! 42–44 s. The stories of a merge from scratch gained nothing this way (their inserts come in an
//! order close to their main index's), so they are written as before.

use rusqlite::{OptionalExtension, Transaction};

/// The indexes of one table, dropped by [`Deferred::drop_if_empty`] and built again by
/// [`Deferred::rebuild`].
#[derive(Debug, Default)]
pub(super) struct Deferred {
    /// Each dropped index's `CREATE INDEX` statement, as the schema kept it.
    sql: Vec<String>,
}

impl Deferred {
    /// Drops the secondary indexes of `table` when it holds no row; otherwise leaves them, since a
    /// rebuild would sort every row already there to spare the inserts of a few.
    pub(super) fn drop_if_empty(tx: &Transaction, table: &str) -> rusqlite::Result<Deferred> {
        let empty = tx.query_row(&format!("SELECT 1 FROM {table} LIMIT 1"), [], |_| Ok(())).optional()?.is_none();
        if !empty {
            return Ok(Deferred::default());
        }
        // `sql` is NULL for the indexes behind a PRIMARY KEY or UNIQUE constraint: those stay.
        let indexes: Vec<(String, String)> = tx
            .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL")?
            .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (name, _) in &indexes {
            tx.execute(&format!("DROP INDEX \"{name}\""), [])?;
        }
        Ok(Deferred { sql: indexes.into_iter().map(|(_, sql)| sql).collect() })
    }

    /// Builds again every index [`drop_if_empty`](Self::drop_if_empty) dropped.
    pub(super) fn rebuild(self, tx: &Transaction) -> rusqlite::Result<()> {
        for sql in &self.sql {
            tx.execute(sql, [])?;
        }
        Ok(())
    }
}
