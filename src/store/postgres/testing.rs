//! Test databases: the store tests run on every backend the machine offers. SQLite always; PostgreSQL
//! when `FEEDMILL_TEST_POSTGRES` names a server (`.ci/postgres start` prints it), each test in a fresh
//! schema of its own, so tests run in parallel and never see each other's rows. Without it the
//! PostgreSQL half is skipped, saying why, unless `FEEDMILL_REQUIRE_POSTGRES=1` (CI), which fails.
//! The cluster serves TLS with a CA of its own (`FEEDMILL_TEST_POSTGRES_CA`), which the test stores
//! trust, so the client's default `sslmode=prefer` runs every store test over TLS.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::LazyLock;

use tokio::runtime::Runtime;

use super::PgStore;
use crate::config::StateUrl;
use crate::pipeline::Steps;
use crate::store::{Entries, Outputs, SourceStates, Store};

pub(crate) const URL_ENV: &str = "FEEDMILL_TEST_POSTGRES";
const REQUIRE_ENV: &str = "FEEDMILL_REQUIRE_POSTGRES";
const CA_ENV: &str = "FEEDMILL_TEST_POSTGRES_CA";

/// The runtime every test store's connections run on; multi-thread, as `run`'s, so a store blocks
/// on it from inside a task too.
pub(crate) static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("test runtime")
});

/// The test server's URL; `None` (printed) when there is none and none is required.
pub(crate) fn server_url() -> Option<String> {
    match std::env::var(URL_ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var(REQUIRE_ENV).as_deref() != Ok("1"),
                "{REQUIRE_ENV}=1 but {URL_ENV} is not set: start one with `eval \"$(.ci/postgres start)\"`"
            );
            eprintln!("PostgreSQL half skipped: {URL_ENV} is not set (`eval \"$(.ci/postgres start)\"` starts one)");
            None
        }
    }
}

/// The PEM file of the CA that signed the test server's certificate, when it serves TLS.
pub(crate) fn server_ca() -> Option<PathBuf> {
    std::env::var_os(CA_ENV).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// `url` (the test server's) as a state URL, trusting the server's CA when it has one.
pub(crate) fn state_url(url: &str) -> StateUrl {
    let state = StateUrl::for_tests(url);
    match server_ca() {
        Some(ca) => state.trusting_for_tests(&ca),
        None => state,
    }
}

/// A URL of the test server whose connections work in a new, empty schema.
pub(crate) fn fresh_schema_url(server: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let schema = format!("t_{}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed), fastrand::u32(..));
    RUNTIME.block_on(async {
        let (client, connection) =
            tokio_postgres::connect(server, tokio_postgres::NoTls).await.expect("connect to the test server");
        let task = tokio::spawn(connection);
        client.batch_execute(&format!("CREATE SCHEMA {schema}")).await.expect("create a test schema");
        drop(client);
        let _ = task.await;
    });
    let sep = if server.contains('?') { '&' } else { '?' };
    format!("{server}{sep}options=-csearch_path%3D{schema}")
}

/// A PostgreSQL store in a fresh schema, or `None` when there is no test server.
pub(crate) fn fresh() -> Option<PgStore> {
    let url = fresh_schema_url(&server_url()?);
    Some(PgStore::open(&state_url(&url), RUNTIME.handle().clone()).expect("open the test database"))
}

/// What the store tests ask of every backend (the traits PostgreSQL implements so far); runs are
/// recorded through the pipeline's [`Steps`].
pub(crate) trait Tested: Outputs + SourceStates + Entries + Seed + Steps {}

impl<T: Outputs + SourceStates + Entries + Seed + Steps> Tested for T {}

/// A parameter of [`Seed::exec`]; numbers go into the SQL as literals (their column types differ
/// between the backends, text and bytes do not).
pub(crate) enum Param<'a> {
    Text(&'a str),
    Bytes(&'a [u8]),
}

/// Plain SQL run alike on both backends, for tests of reads whose writer (the recorder, the merge)
/// does not run on every backend yet. Placeholders `$1`, `$2`… first used in that order (SQLite numbers
/// named parameters as they first appear).
pub(crate) trait Seed {
    fn exec(&self, sql: &str, params: &[Param]);

    /// The first column of every row, as text (`CAST(… AS TEXT)` what is not).
    fn texts(&self, sql: &str) -> Vec<String>;

    /// The first column of every row, as bytes.
    fn bytes(&self, sql: &str) -> Vec<Vec<u8>>;
}

impl Seed for Store {
    fn exec(&self, sql: &str, params: &[Param]) {
        let values = params.iter().map(|p| match p {
            Param::Text(s) => rusqlite::types::Value::Text((*s).to_owned()),
            Param::Bytes(b) => rusqlite::types::Value::Blob(b.to_vec()),
        });
        self.conn.execute(sql, rusqlite::params_from_iter(values)).expect(sql);
    }

    fn texts(&self, sql: &str) -> Vec<String> {
        let mut stmt = self.conn.prepare(sql).expect(sql);
        let rows = stmt.query_map([], |r| r.get(0)).expect(sql);
        rows.collect::<Result<_, _>>().expect(sql)
    }

    fn bytes(&self, sql: &str) -> Vec<Vec<u8>> {
        let mut stmt = self.conn.prepare(sql).expect(sql);
        let rows = stmt.query_map([], |r| r.get(0)).expect(sql);
        rows.collect::<Result<_, _>>().expect(sql)
    }
}

impl Seed for PgStore {
    fn exec(&self, sql: &str, params: &[Param]) {
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| match p {
                Param::Text(s) => s as &(dyn tokio_postgres::types::ToSql + Sync),
                Param::Bytes(b) => b,
            })
            .collect();
        self.block(async { self.client().await.expect("a connection").execute(sql, &params).await.expect(sql) })
            .expect("the test runtime");
    }

    fn texts(&self, sql: &str) -> Vec<String> {
        let rows = self
            .block(async { self.client().await.expect("a connection").query(sql, &[]).await.expect(sql) })
            .expect("the test runtime");
        rows.into_iter().map(|r| r.get(0)).collect()
    }

    fn bytes(&self, sql: &str) -> Vec<Vec<u8>> {
        let rows = self
            .block(async { self.client().await.expect("a connection").query(sql, &[]).await.expect(sql) })
            .expect("the test runtime");
        rows.into_iter().map(|r| r.get(0)).collect()
    }
}

/// Every backend to run a store test on, named for its messages: SQLite in memory, and PostgreSQL in
/// a fresh schema when the machine has a test server.
pub(crate) fn backends() -> Vec<(&'static str, Box<dyn Tested>)> {
    let mut out: Vec<(&'static str, Box<dyn Tested>)> =
        vec![("sqlite", Box::new(Store::in_memory().expect("a store in memory")))];
    if let Some(pg) = fresh() {
        out.push(("postgres", Box::new(pg)));
    }
    out
}
