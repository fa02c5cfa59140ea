//! The PostgreSQL test server (`FEEDMILL_TEST_POSTGRES`, started by `.ci/postgres`), for the tests of a
//! shared state: its URL, a fresh schema per test, plain queries beside the binary, and the `[state]`
//! lines that make the binary trust the server's own CA (`FEEDMILL_TEST_POSTGRES_CA`: the cluster
//! serves TLS). Without a server the tests are skipped, saying so, unless `FEEDMILL_REQUIRE_POSTGRES=1`
//! (CI), which fails them.

const URL_ENV: &str = "FEEDMILL_TEST_POSTGRES";

/// The test server's URL, or `None` (printed) when there is none and none is required.
pub fn server_url() -> Option<String> {
    match std::env::var(URL_ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("FEEDMILL_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "FEEDMILL_REQUIRE_POSTGRES=1 but {URL_ENV} is not set"
            );
            eprintln!("skipped: {URL_ENV} is not set (`eval \"$(.ci/postgres start)\"` starts a server)");
            None
        }
    }
}

/// The CA of the test server's TLS certificate, when it serves TLS.
pub fn ca_file() -> Option<String> {
    std::env::var("FEEDMILL_TEST_POSTGRES_CA").ok().filter(|c| !c.is_empty())
}

/// A `[state]` table trusting `ca` (the server's CA, when there is one), then `extra` lines.
pub fn state_section(ca: Option<&str>, extra: &str) -> String {
    let ca = ca.map(|c| format!("ca_file = \"{c}\"\n")).unwrap_or_default();
    format!("[state]\n{ca}{extra}\n")
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

/// Runs `sql` on `url` and returns the first column of every row, as text.
pub fn query(url: &str, sql: &str) -> Vec<String> {
    try_query(url, sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// [`query`], or the error (the tables are not there before the first worker made them).
pub fn try_query(url: &str, sql: &str) -> Result<Vec<String>, tokio_postgres::Error> {
    block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        let task = tokio::spawn(connection);
        let rows = client.simple_query(sql).await;
        drop(client);
        let _ = task.await;
        Ok(rows?
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => Some(r.get(0).unwrap_or_default().to_owned()),
                _ => None,
            })
            .collect())
    })
}

/// A URL of `server` whose connections work in a new, empty schema.
pub fn fresh_schema(server: &str) -> String {
    let schema = format!("it_{}_{}", std::process::id(), fastrand::u64(..));
    query(server, &format!("CREATE SCHEMA {schema}"));
    let sep = if server.contains('?') { '&' } else { '?' };
    format!("{server}{sep}options=-csearch_path%3D{schema}")
}
