//! `feedmill migrate-state`: a state built by real runs copied to PostgreSQL and back to a new SQLite
//! file through the command line; a target holding rows is refused; the database's password is never
//! printed. Needs the test server `FEEDMILL_TEST_POSTGRES` names (`.ci/postgres start`); skipped
//! without it unless `FEEDMILL_REQUIRE_POSTGRES=1`.

use std::path::Path;
use std::process::Command;

use rusqlite::types::Value;

use crate::test_server::{Reply, TestServer};
use crate::util::{config, fixture, source, Project, Run};

/// The test server's URL, parsed.
fn server() -> Option<url::Url> {
    crate::pg::server_url().map(|u| url::Url::parse(&u).unwrap())
}

/// `server` with its connections in a new, empty schema.
fn fresh_schema(server: &url::Url) -> url::Url {
    url::Url::parse(&crate::pg::fresh_schema(server.as_str())).unwrap()
}

/// `migrate-state ARGS --to TARGET`, trusting the test server's CA.
fn migrate<'a>(args: &[&'a str], ca: &'a Option<String>) -> Vec<&'a str> {
    let mut all = args.to_vec();
    if let Some(ca) = ca {
        all.extend(["--to-ca-file", ca.as_str()]);
    }
    all
}

fn feedmill(p: &Project, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_feedmill"));
    cmd.args(args).current_dir(p.dir.path()).env_remove("FEEDMILL_STATE_URL").env_remove("FEEDMILL_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every row of every table of a SQLite state, with its row number where the table has one, sorted.
fn dump(path: &Path) -> Vec<(String, Vec<String>)> {
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut tables: Vec<(String, String)> = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables.retain(|(name, _)| !name.starts_with("sqlite_"));
    tables
        .into_iter()
        .map(|(name, sql)| {
            let rowid = if sql.contains("WITHOUT ROWID") { "" } else { "rowid, " };
            let mut stmt = conn.prepare(&format!("SELECT {rowid}* FROM {name}")).unwrap();
            let width = stmt.column_count();
            let mut rows: Vec<String> = stmt
                .query_map([], |r| (0..width).map(|i| r.get::<_, Value>(i)).collect::<Result<Vec<_>, _>>())
                .unwrap()
                .map(|r| format!("{:?}", r.unwrap()))
                .collect();
            rows.sort();
            (name, rows)
        })
        .collect()
}

#[test]
fn migrate_state_copies_to_postgresql_and_back_and_never_prints_the_password() {
    let Some(server) = server() else { return };
    let password = server.password().unwrap_or_default().to_owned();
    assert!(!password.is_empty(), "the test server's URL holds its password");
    let http = TestServer::start();
    http.route("/a.xml", [Reply::ok(fixture("feeds/rss20-kk.xml"))]);
    http.route("/b.xml", [Reply::ok(fixture("feeds/atom10-en.xml"))]);
    let sources = format!("{}{}", source("alpha", &http.url("/a.xml")), source("beta", &http.url("/b.xml")));
    let p = Project::new(&config(&sources));
    p.run().assert_code(0);
    p.run().assert_code(0);
    let original = p.path(".feedmill/state.db");

    // SQLite → PostgreSQL, the password in the URL.
    let target = fresh_schema(&server);
    let ca = crate::pg::ca_file();
    let run = feedmill(&p, &migrate(&["migrate-state", "--to", target.as_str()], &ca), &[]);
    run.assert_code(0);
    assert!(
        run.stderr.contains("entries") && run.stderr.contains("tombstones") && run.stderr.contains("copied "),
        "{}",
        run.stderr
    );
    for out in [&run.stdout, &run.stderr] {
        assert!(!out.contains(&password), "the password was printed: {out}");
    }

    // Again into the same database: refused, exit 2, the URL named without its password.
    let again = feedmill(&p, &migrate(&["migrate-state", "--to", target.as_str()], &ca), &[]);
    again.assert_code(2);
    assert!(again.stderr.contains("is not empty") && again.stderr.contains("127.0.0.1"), "{}", again.stderr);
    assert!(!again.stderr.contains(&password) && !again.stdout.contains(&password), "{}", again.stderr);

    // PostgreSQL → a new SQLite file: the state the runs left, row for row.
    let state = crate::pg::state_section(ca.as_deref(), &format!("url = \"{target}\""));
    p.write("pg.toml", format!("{state}\n{}", config(&sources)));
    let back = feedmill(&p, &["migrate-state", "-c", "pg.toml", "--to", "back/state.db"], &[]);
    back.assert_code(0);
    assert!(!back.stderr.contains(&password), "{}", back.stderr);
    let copied = dump(&p.path("back/state.db"));
    assert!(copied.iter().any(|(t, rows)| t == "entries" && !rows.is_empty()));
    assert_eq!(copied, dump(&original));

    // A file that holds a state is refused and left as it was.
    let before = std::fs::read(&original).unwrap();
    let onto_itself = feedmill(&p, &["migrate-state", "-c", "pg.toml", "--to", ".feedmill/state.db"], &[]);
    onto_itself.assert_code(2);
    assert!(onto_itself.stderr.contains("is not empty"), "{}", onto_itself.stderr);
    assert_eq!(std::fs::read(&original).unwrap(), before);

    // The password from the environment, the URL without it.
    let mut bare = fresh_schema(&server);
    bare.set_password(None).unwrap();
    let env = feedmill(
        &p,
        &migrate(&["migrate-state", "--to", bare.as_str(), "--to-password-env", "MIGRATE_PW"], &ca),
        &[("MIGRATE_PW", &password)],
    );
    env.assert_code(0);
    assert!(!env.stderr.contains(&password), "{}", env.stderr);
    let unset = feedmill(&p, &["migrate-state", "--to", bare.as_str(), "--to-password-env", "MIGRATE_PW_UNSET"], &[]);
    unset.assert_code(2);
    assert!(unset.stderr.contains("MIGRATE_PW_UNSET"), "{}", unset.stderr);

    // Not a state URL: refused before anything is opened, its password masked.
    let other = feedmill(&p, &["migrate-state", "--to", &format!("mysql://me:{password}@127.0.0.1/db")], &[]);
    other.assert_code(2);
    assert!(other.stderr.contains("postgresql://") && !other.stderr.contains(&password), "{}", other.stderr);
}
