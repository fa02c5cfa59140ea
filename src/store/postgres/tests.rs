//! PostgreSQL only: migrations, the refusal of a newer state, leases, and what errors show. The tests
//! of the traits themselves run on every backend, in `store/tests.rs`.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::lease::{claim_on, end_run, renew_on};
use super::testing::{fresh, fresh_schema_url, server_ca, server_url, state_url, RUNTIME};
use super::*;
use crate::store::{Candidate, ClaimAsk, Entries, Record as _, SourceStates};

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap()
}

/// A plain connection to `url`, for what the tests do beside the store.
async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

#[test]
fn workers_starting_together_migrate_once_and_a_newer_state_is_refused() {
    let Some(server) = server_url() else { return };
    let url = state_url(&fresh_schema_url(&server));
    // Four at once on an empty schema: the advisory lock lets one create the tables, the others wait
    // and find them made (without it, all four would try to create them).
    let opened: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> =
            (0..4).map(|_| s.spawn(|| PgStore::open(&url, RUNTIME.handle().clone()).map(drop))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(opened.iter().all(Result::is_ok), "{opened:?}");
    let versions: Vec<i32> = RUNTIME.block_on(async {
        let client = connect(url.expose_url()).await;
        client.query("SELECT version FROM schema_version", &[]).await.unwrap().iter().map(|r| r.get(0)).collect()
    });
    assert_eq!(versions, [SCHEMA_VERSION]);

    RUNTIME.block_on(async {
        let client = connect(url.expose_url()).await;
        client.execute("UPDATE schema_version SET version = version + 1", &[]).await.unwrap();
    });
    let e = PgStore::open(&url, RUNTIME.handle().clone()).err().expect("a newer state is refused");
    let message = e.to_string();
    assert!(message.contains(&format!("schema {}, this one knows {SCHEMA_VERSION}", SCHEMA_VERSION + 1)), "{message}");
    assert!(message.contains("upgrade feedmill"), "{message}");
}

#[test]
fn errors_name_the_database_without_its_password() {
    let Some(server) = server_url() else { return };
    const CANARY: &str = "CANARY-pg-9d41";
    let mut wrong = url::Url::parse(&server).unwrap();
    wrong.set_password(Some(CANARY)).unwrap();
    let url = state_url(wrong.as_str());
    assert!(!format!("{url:?}").contains(CANARY));
    let e = PgStore::open(&url, RUNTIME.handle().clone()).err().expect("a wrong password fails");
    let mut chain = String::new();
    let mut cause: Option<&dyn std::error::Error> = Some(&e);
    while let Some(c) = cause {
        chain.push_str(&format!("{c} / {c:?}\n"));
        cause = c.source();
    }
    assert!(chain.contains("password authentication failed"), "{chain}");
    assert!(chain.contains("127.0.0.1"), "the database is named: {chain}");
    assert!(!chain.contains(CANARY), "{chain}");
}

/// The test server's CA, or `None` (printed) when it serves no TLS and none is required.
fn tls_server() -> Option<(String, std::path::PathBuf)> {
    let server = server_url()?;
    match server_ca() {
        Some(ca) => Some((server, ca)),
        None => {
            assert!(
                std::env::var("FEEDMILL_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "FEEDMILL_TEST_POSTGRES_CA is not set: `.ci/postgres start` exports it"
            );
            eprintln!("TLS test skipped: FEEDMILL_TEST_POSTGRES_CA is not set");
            None
        }
    }
}

#[test]
fn a_private_ca_in_ca_file_gives_a_verified_tls_connection_with_channel_binding() {
    let Some((server, ca)) = tls_server() else { return };
    // By address and by name (the certificate names both); `channel_binding=require` fails the login
    // unless the binding hash (`tls.rs`) is the one the server computes.
    for host in ["127.0.0.1", "localhost"] {
        let url = fresh_schema_url(&server).replace("@127.0.0.1:", &format!("@{host}:"))
            + "&sslmode=require&channel_binding=require";
        let config = crate::config::Config::parse(
            &format!(
                "[state]\nurl = \"{url}\"\nca_file = \"{}\"\n[[sources]]\nname = \"a\"\nurl = \"a.xml\"\n",
                ca.display()
            ),
            "feeds.toml",
            std::path::Path::new("/"),
        )
        .unwrap();
        let store = PgStore::open(config.state_url.as_ref().unwrap(), RUNTIME.handle().clone()).unwrap();
        let (ssl, version): (bool, String) = store
            .block(async {
                let client = store.client().await.unwrap();
                let row = client
                    .query_one("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])
                    .await
                    .unwrap();
                (row.get(0), row.get(1))
            })
            .unwrap();
        assert!(ssl, "{host}: the connection is TLS");
        assert!(version.starts_with("TLSv1."), "{host}: {version}");
    }
    // The right server under a name its certificate does not hold is refused.
    let url = fresh_schema_url(&server).replace("@127.0.0.1:", "@db.invalid:") + "&hostaddr=127.0.0.1&sslmode=require";
    let e = PgStore::open(&state_url(&url), RUNTIME.handle().clone()).err().expect("a name the certificate lacks");
    let chain = format!("{:?}", e);
    assert!(chain.contains("does not name the host the URL gives"), "{chain}");
}

#[test]
fn without_ca_file_a_server_outside_the_mozilla_roots_is_refused_naming_the_database() {
    let Some((server, _)) = tls_server() else { return };
    let password = url::Url::parse(&server).unwrap().password().unwrap().to_owned();
    let url = StateUrl::for_tests(&(fresh_schema_url(&server) + "&sslmode=require"));
    let e = PgStore::open(&url, RUNTIME.handle().clone()).err().expect("an unknown CA is refused");
    let mut chain = String::new();
    let mut cause: Option<&dyn std::error::Error> = Some(&e);
    while let Some(c) = cause {
        chain.push_str(&format!("{c} / {c:?}\n"));
        cause = c.source();
    }
    assert!(e.to_string().contains("state database postgresql://***@127.0.0.1:"), "{chain}");
    assert!(chain.contains("UnknownIssuer"), "rustls's words: {chain}");
    assert!(
        chain.contains("not signed by the Mozilla roots: name the CA that signed it in `[state] ca_file`"),
        "{chain}"
    );
    assert!(!chain.contains(&password), "{chain}");
}

#[test]
fn a_store_blocks_from_inside_the_multi_thread_runtime() {
    let Some(store) = fresh() else { return };
    // As the recorder does: a synchronous trait method called by a task of the runtime it uses.
    let value = RUNTIME.block_on(async {
        tokio::spawn(async move {
            store.set_meta("k", "v").unwrap();
            store.meta("k").unwrap()
        })
        .await
        .unwrap()
    });
    assert_eq!(value.as_deref(), Some("v"));
}

/// `count` sources on the hosts `hosts` in turn, all due.
fn sources_on(store: &mut PgStore, count: usize, hosts: &[&str]) -> Vec<String> {
    let configured: Vec<(String, String)> =
        (0..count).map(|i| (format!("s{i:03}"), format!("https://{}/feed/{i}", hosts[i % hosts.len()]))).collect();
    let pairs: Vec<(&str, &str)> = configured.iter().map(|(n, u)| (n.as_str(), u.as_str())).collect();
    store.identify_sources(&pairs).unwrap();
    configured.into_iter().map(|(n, _)| n).collect()
}

/// Every source the state knows, offered to a claim as configured (no config digest to compare).
fn candidates(store: &PgStore) -> Vec<Candidate> {
    RUNTIME.block_on(async {
        let client = store.client().await.unwrap();
        let rows = client.query("SELECT name, configured_url FROM sources", &[]).await.unwrap();
        rows.iter().map(|r| Candidate { name: r.get(0), url: r.get(1), digest: String::new() }).collect()
    })
}

fn claim_args<'a>(
    worker: &'a str,
    candidates: &'a [Candidate],
    batch: usize,
    per_host: usize,
    lease: Duration,
) -> Claim<'a> {
    let ask = ClaimAsk {
        candidates,
        run: "1",
        batch,
        now: at(1_000_000),
        force: false,
        reparse: &[],
        default_interval: None,
    };
    Claim { worker, per_host, lease, ask }
}

/// The names `worker` claims of every source the state knows.
fn claim_names(store: &PgStore, worker: &str, batch: usize, per_host: usize, lease: Duration) -> Vec<String> {
    claim_at(store, worker, batch, per_host, lease, at(1_000_000))
}

fn claim_at(
    store: &PgStore,
    worker: &str,
    batch: usize,
    per_host: usize,
    lease: Duration,
    now: DateTime<Utc>,
) -> Vec<String> {
    let candidates = candidates(store);
    let mut args = claim_args(worker, &candidates, batch, per_host, lease);
    args.ask.now = now;
    claim(store, &args).unwrap().sources.into_iter().map(|(name, _)| name).collect()
}

#[test]
fn two_workers_claiming_at_once_never_get_the_same_source() {
    let Some(mut store) = fresh() else { return };
    let all = sources_on(&mut store, 60, &["a.example", "b.example", "c.example", "d.example"]);
    let lease = Duration::from_secs(600);
    // Two connections claim in batches of 7, in rounds both start together (a barrier), so every
    // claim races the other's, until the rounds have room for every source twice over.
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let candidates = std::sync::Arc::new(candidates(&store));
    let (one, two) = RUNTIME.block_on(async {
        let worker = |name: &'static str| {
            let pool = store.pool.clone();
            let start = start.clone();
            let candidates = candidates.clone();
            async move {
                let mut client = pool.get().await.unwrap();
                let mut got = Vec::new();
                for _ in 0..10 {
                    start.wait().await;
                    got.extend(claim_on(&mut client, &claim_args(name, &candidates, 7, 100, lease)).await.unwrap().0);
                }
                got
            }
        };
        tokio::join!(tokio::spawn(worker("w1")), tokio::spawn(worker("w2")))
    });
    let (one, two) = (one.unwrap(), two.unwrap());
    let first: HashSet<&String> = one.iter().collect();
    assert!(two.iter().all(|s| !first.contains(s)), "claimed twice: {one:?} {two:?}");
    let mut every: Vec<String> = one.iter().chain(&two).cloned().collect();
    every.sort();
    assert_eq!(every, all, "every due source claimed once");
    assert!(!one.is_empty() && !two.is_empty(), "both workers got some: {one:?} {two:?}");
}

#[test]
fn the_per_host_limit_holds_across_workers_and_released_leases_free_it() {
    let Some(mut store) = fresh() else { return };
    sources_on(&mut store, 10, &["busy.example", "quiet.example"]);
    let lease = Duration::from_secs(600);
    let mut w1 = claim_names(&store, "w1", 100, 2, lease);
    assert_eq!(w1.len(), 4, "two per host: {w1:?}");
    // The second worker finds both hosts at their limit.
    assert_eq!(claim_names(&store, "w2", 100, 2, lease), Vec::<String>::new());
    // Recorded (due again later, as the recorder sets it) and released, a lease frees its host's place
    // for the next claim, which takes the next due source.
    w1.sort();
    let done = vec![w1[0].clone()];
    RUNTIME.block_on(async {
        let client = store.client().await.unwrap();
        client.execute("UPDATE sources SET next_fetch = 2000000 WHERE name = $1", &[&done[0]]).await.unwrap();
    });
    assert_eq!(release(&store, "w1", &done).unwrap(), 1);
    let w2 = claim_names(&store, "w2", 100, 2, lease);
    assert_eq!(w2.len(), 1, "{w2:?}");
    assert!(!w1.contains(&w2[0]), "the source recorded is not due again here: {w2:?}");
    // Not due yet: never claimed, whatever the room.

    RUNTIME.block_on(async {
        let client = store.client().await.unwrap();
        client.execute("UPDATE sources SET next_fetch = 500 WHERE leased_by IS NULL", &[]).await.unwrap();
    });
    assert_eq!(claim_at(&store, "w3", 100, 100, lease, at(0)), Vec::<String>::new());
}

#[test]
fn runs_that_overlap_read_each_source_once_even_when_their_clocks_straddle_a_second() {
    let Some(mut store) = fresh() else { return };
    sources_on(&mut store, 4, &["a.example"]);
    for (i, worker) in ["w1", "w2", "w3"].into_iter().enumerate() {
        register_worker(&store, worker, "host", u32::try_from(i).unwrap()).unwrap();
    }
    let lease = Duration::from_secs(600);
    let candidates = candidates(&store);
    let claim_in = |worker: &str, now: i64, batch: usize| {
        let mut args = claim_args(worker, &candidates, batch, 100, lease);
        args.ask.now = at(now);
        let mut got: Vec<String> = claim(&store, &args).unwrap().sources.into_iter().map(|(n, _)| n).collect();
        got.sort();
        got
    };
    // What recording does to a source: fetched at the run's clock, its lease given back.
    let record = |names: &[String], clock: i64| {
        RUNTIME.block_on(async {
            let client = store.client().await.unwrap();
            let sql = "UPDATE sources SET last_fetch = $2, leased_by = NULL, lease_until = NULL WHERE name = ANY($1)";
            client.execute(sql, &[&names, &clock]).await.unwrap();
        });
    };
    let first = claim_in("w1", 1_000_000, 2);
    assert_eq!(first, ["s000", "s001"]);
    record(&first, 1_000_000);
    // Started a second later, while w1's run goes on: it joins w1's round, and reads the rest only.
    let second = claim_in("w2", 1_000_001, 100);
    assert_eq!(second, ["s002", "s003"], "what w1 read this round is not read again");
    record(&second, 1_000_001);
    end_run(&store, "w1", "1").unwrap();
    end_run(&store, "w2", "1").unwrap();
    // Once both ended, a run starts a round of its own: every source is due again.
    assert_eq!(claim_in("w3", 1_000_002, 100), ["s000", "s001", "s002", "s003"]);
}

#[test]
fn recording_a_source_gives_back_this_worker_s_lease_but_not_one_another_worker_took_over() {
    use crate::pipeline::Steps as _;
    let Some(mut store) = fresh() else { return };
    store.identify_sources(&[("abai", "https://abai.kz/rss"), ("kaz", "https://kaz.kz/rss")]).unwrap();
    let worker = Worker::this_process(8, Duration::from_secs(600), "digest", at(0));
    let id = worker.id.clone();
    let beat = store.register(worker).unwrap();
    let candidates = candidates(&store);
    let ask = claim_args(&id, &candidates, 10, 100, Duration::from_secs(600)).ask;
    let leases = store.leases().unwrap();
    assert_eq!(leases.claim(&ask).unwrap().sources.len(), 2);
    let holders = |store: &PgStore| {
        RUNTIME.block_on(async {
            let client = store.client().await.unwrap();
            let rows = client.query("SELECT leased_by, lease_until IS NOT NULL FROM sources ORDER BY name", &[]).await;
            rows.unwrap().iter().map(|r| (r.get::<_, Option<String>>(0), r.get::<_, bool>(1))).collect::<Vec<_>>()
        })
    };
    // kaz's lease expired and another worker took it over meanwhile.
    RUNTIME.block_on(async {
        let client = store.client().await.unwrap();
        client.execute("UPDATE sources SET leased_by = 'other' WHERE name = 'kaz'", &[]).await.unwrap();
    });
    store
        .record(at(10), &[parsed("abai", vec![copy("abai", "a1", 1)]), parsed("kaz", vec![copy("kaz", "k1", 2)])])
        .unwrap();
    beat.abort();
    assert_eq!(holders(&store), [(None, false), (Some("other".to_owned()), true)]);
}

#[test]
fn a_claim_takes_only_the_sources_its_config_offers_now() {
    let Some(mut store) = fresh() else { return };
    sources_on(&mut store, 3, &["a.example"]);
    let lease = Duration::from_secs(600);
    let every = candidates(&store);
    let claim_of = |worker: &str, offered: &[Candidate]| {
        let mut got: Vec<String> = claim(&store, &claim_args(worker, offered, 100, 100, lease))
            .unwrap()
            .sources
            .into_iter()
            .map(|s| s.0)
            .collect();
        got.sort();
        got
    };
    let two: Vec<Candidate> = every.iter().filter(|c| c.name != "s002").cloned().collect();
    assert_eq!(claim_of("w1", &two), ["s000", "s001"], "s002 is not offered");
    // The config offers it again (enabled again): the next run's first claim takes it.
    assert_eq!(claim_of("w2", &every), ["s002"]);
}

#[test]
fn an_expired_lease_is_taken_over_and_only_live_ones_are_renewed() {
    let Some(mut store) = fresh() else { return };
    sources_on(&mut store, 3, &["a.example"]);
    // A worker killed mid-run: its leases are short and never renewed.
    let dead = claim_names(&store, "dead", 100, 100, Duration::from_millis(200));
    assert_eq!(dead.len(), 3);
    assert!(claim_names(&store, "w2", 100, 100, Duration::from_secs(600)).is_empty());
    std::thread::sleep(Duration::from_millis(400));
    // Expired: the dead worker's heartbeat, were it to come back, renews nothing.
    let renewed = RUNTIME.block_on(async {
        let client = store.client().await.unwrap();
        renew_on(&**client, "dead", Duration::from_secs(600), &dead).await.unwrap()
    });
    assert_eq!(renewed, 0);
    let mut taken = claim_names(&store, "w2", 100, 100, Duration::from_secs(600));
    taken.sort();
    assert_eq!(taken, ["s000", "s001", "s002"]);
    assert_eq!(renew(&store, "w2", Duration::from_secs(600), &taken).unwrap(), 3);
    // The dead worker's release comes too late: the leases are w2's now.
    assert_eq!(release(&store, "dead", &taken).unwrap(), 0);
    assert!(claim_names(&store, "w3", 100, 100, Duration::from_secs(600)).is_empty());
}

#[test]
fn a_heartbeat_shows_the_worker_alive_and_renews_its_leases() {
    let Some(mut store) = fresh() else { return };
    sources_on(&mut store, 2, &["a.example"]);
    register_worker(&store, "w1", "host-1", 4242).unwrap();
    let seen = |store: &PgStore| {
        RUNTIME.block_on(async {
            let client = store.client().await.unwrap();
            let r = client.query_one("SELECT host, pid, heartbeat FROM workers WHERE id = 'w1'", &[]).await.unwrap();
            (r.get::<_, String>(0), r.get::<_, i32>(1), r.get::<_, std::time::SystemTime>(2))
        })
    };
    let (host, pid, first) = seen(&store);
    assert_eq!((host.as_str(), pid), ("host-1", 4242));
    let mut held = claim_names(&store, "w1", 100, 100, Duration::from_millis(300));
    held.sort();
    assert_eq!(held, ["s000", "s001"]);
    std::thread::sleep(Duration::from_millis(100));
    // The worker still works on one; it lost track of the other (its release failed).
    assert_eq!(heartbeat(&store, "w1", Duration::from_secs(600), &held[..1]).unwrap(), 1);
    assert!(seen(&store).2 > first, "the heartbeat moved on");
    // Renewed past the first lease's end, nobody else may take the one it works on; the other expired.
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(claim_names(&store, "w2", 100, 100, Duration::from_secs(600)), ["s001"]);
}

#[test]
fn a_worker_starting_forgets_the_workers_gone_for_a_day() {
    let Some(store) = fresh() else { return };
    let listed = |store: &PgStore| -> Vec<String> { workers(store).unwrap().into_iter().map(|w| w.id).collect() };
    for (id, gone_for) in
        [("killed-yesterday", GONE_KEPT + Duration::from_secs(60)), ("killed-an-hour-ago", Duration::from_secs(3600))]
    {
        register_worker(&store, id, "host", 1).unwrap();
        RUNTIME.block_on(async {
            let client = store.client().await.unwrap();
            let sql = "UPDATE workers SET heartbeat = now() - make_interval(secs => $2) WHERE id = $1";
            client.execute(sql, &[&id, &gone_for.as_secs_f64()]).await.unwrap();
        });
    }
    register_worker(&store, "new", "host", 2).unwrap();
    let mut ids = listed(&store);
    ids.sort();
    assert_eq!(ids, ["killed-an-hour-ago", "new"]);
}

#[test]
fn a_purge_waits_for_the_worker_recording_the_source_and_spares_what_it_saw_again() {
    let Some(server) = server_url() else { return };
    let url = fresh_schema_url(&server);
    let mut store = PgStore::open(&state_url(&url), RUNTIME.handle().clone()).unwrap();
    store.identify_sources(&[("abai", "https://abai.kz/rss")]).unwrap();
    let recorder = RUNTIME.block_on(async {
        let client = connect(&url).await;
        client
            .execute("INSERT INTO entries (source, id, first_seen, last_seen, in_feed, entry) VALUES ('abai', 'a', 0, 0, 0, '{}')", &[])
            .await
            .unwrap();
        client
            .batch_execute(
                "-- A worker recording abai holds its row and sees `a` listed again, not committed yet.
                 BEGIN;
                 SELECT name FROM sources WHERE name = 'abai' FOR UPDATE;
                 UPDATE entries SET last_seen = 100, in_feed = 1 WHERE source = 'abai' AND id = 'a';",
            )
            .await
            .unwrap();
        client
    });
    std::thread::scope(|s| {
        let purge = s.spawn(|| store.purge(at(50), at(200)));
        std::thread::sleep(Duration::from_millis(300));
        assert!(!purge.is_finished(), "the purge waits for the source's row");
        RUNTIME.block_on(recorder.batch_execute("COMMIT")).unwrap();
        // Read again once the row is held: `a` was seen at 100, after the cutoff.
        assert_eq!(purge.join().unwrap().unwrap(), 0);
    });
    let left: i64 = RUNTIME.block_on(recorder.query_one("SELECT COUNT(*) FROM entries", &[])).unwrap().get(0);
    assert_eq!(left, 1);
}

/// An entry of `source` with its own id and a link `n` shared by every source's copy.
fn copy(source: &str, id: &str, n: usize) -> crate::model::Entry {
    crate::model::Entry {
        id: id.into(),
        source: source.into(),
        url: Some(format!("https://news.kz/{n}")),
        title: format!("Жаңалық {n}"),
        summary_html: Some(format!("<p>{n}-жаңалық: Астанада болған оқиға туралы.</p>")),
        content_html: None,
        authors: vec![],
        categories: vec![],
        published: None,
        updated: None,
        first_seen: at(0),
        language: None,
        enclosures: vec![],
        image: None,
        via: vec![],
    }
}

fn parsed(source: &str, entries: Vec<crate::model::Entry>) -> crate::store::SourceUpdate {
    crate::store::SourceUpdate {
        name: source.into(),
        configured_url: format!("https://{source}.kz/rss"),
        state: crate::store::SourceState::default(),
        entries: crate::store::EntriesUpdate::Parsed(entries.into_iter().map(crate::dedup::Listed::from).collect()),
        filtered: None,
    }
}

#[test]
fn two_workers_recording_one_source_at_once_reconcile_one_after_the_other() {
    use crate::pipeline::Steps as _;
    let Some(server) = server_url() else { return };
    let url = state_url(&fresh_schema_url(&server));
    let mut one = PgStore::open(&url, RUNTIME.handle().clone()).unwrap();
    let mut two = PgStore::open(&url, RUNTIME.handle().clone()).unwrap();
    one.identify_sources(&[("abai", "https://abai.kz/rss")]).unwrap();
    // The same 200 entries under other ids (the feed changed its id scheme): matched by their links
    // only when the second worker reconciles after the first committed. (The upsert of the source's
    // row would hold it too, without the `FOR UPDATE`: checked by mutation, this test still passes
    // then; the `FOR UPDATE` takes the lock before the row's previous state is read.)
    let feed = |prefix: &str| parsed("abai", (0..200).map(|n| copy("abai", &format!("{prefix}{n}"), n)).collect());
    let (first, second) = (feed("one-"), feed("two-"));
    let barrier = std::sync::Barrier::new(2);
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| {
            barrier.wait();
            one.record(at(10), std::slice::from_ref(&first))
        });
        let b = s.spawn(|| {
            barrier.wait();
            two.record(at(10), std::slice::from_ref(&second))
        });
        (a.join().unwrap().unwrap(), b.join().unwrap().unwrap())
    });
    let news: Vec<usize> = vec![a["abai"].new, b["abai"].new];
    assert!(news.contains(&200) && news.contains(&0), "one worker wrote them, the other matched them: {news:?}");
    assert_eq!(one.entries(&["abai"]).unwrap().len(), 200);
    assert_eq!(one.entry_counts().unwrap()["abai"], 200);
}

#[test]
fn a_signature_drop_waits_for_the_source_write_in_progress_and_every_entry_ends_signed() {
    use crate::pipeline::Steps as _;
    use crate::store::RunWrite as _;
    let Some(server) = server_url() else { return };
    let url = state_url(&fresh_schema_url(&server));
    let mut one = PgStore::open(&url, RUNTIME.handle().clone()).unwrap();
    let mut two = PgStore::open(&url, RUNTIME.handle().clone()).unwrap();
    one.identify_sources(&[("abai", "https://abai.kz/rss")]).unwrap();
    let feed = |n: usize| parsed("abai", (0..n).map(|i| copy("abai", &format!("a{i}"), i)).collect());
    one.record(at(10), &[feed(50)]).unwrap();
    let sign: crate::store::Signer = crate::dedup::near::Packed::of;
    let (held_tx, held) = std::sync::mpsc::channel();
    let (go_tx, go) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|s| {
        // Moved in: dropped if an assertion below fails, so the writer stops waiting for it.
        let go_tx = go_tx;
        // The first worker, started before the change was seen, is reconciling abai (60 entries now).
        let writer = s.spawn(move || {
            two.set_meta("signature_version", &crate::dedup::near::SIGNATURE_VERSION.to_string()).unwrap();
            let mut recorder = two.recorder(at(20), sign).unwrap();
            recorder.add(feed(60), &mut |kept, listed| {
                let r = crate::dedup::history::reconcile(kept, listed, at(20));
                held_tx.send(()).unwrap();
                go.recv().unwrap();
                r
            })?;
            recorder.commit()
        });
        held.recv().unwrap();
        // Signatures of another version: the next recorder drops them all.
        one.set_meta("signature_version", "0").unwrap();
        let dropper = s.spawn(|| one.recorder(at(21), sign).and_then(|r| r.commit()));
        std::thread::sleep(Duration::from_millis(300));
        assert!(!dropper.is_finished(), "the drop waits for the source write in progress");
        go_tx.send(()).unwrap();
        assert_eq!(writer.join().unwrap().unwrap()["abai"].new, 10);
        dropper.join().unwrap().unwrap();
    });
    let unsigned: i64 = RUNTIME.block_on(async {
        let client = connect(url.expose_url()).await;
        client.query_one("SELECT COUNT(*) FROM entries WHERE signature IS NULL", &[]).await.unwrap().get(0)
    });
    assert_eq!(unsigned, 0, "the dropper's commit signed every entry again");
    let stored = one.entries(&["abai"]).unwrap();
    assert_eq!(stored.len(), 60);
    assert!(stored.iter().all(|s| s.signature == Some(crate::dedup::near::Signature::of_entry(&s.entry))));
}

#[test]
fn a_redirect_adopted_to_another_host_moves_the_source_to_that_host_until_it_is_re_pointed() {
    use super::testing::Seed as _;
    use crate::pipeline::Steps as _;
    let Some(mut store) = fresh() else { return };
    let host = |store: &PgStore| store.texts("SELECT coalesce(host, '-') FROM sources WHERE name = 'abai'");
    store.identify_sources(&[("abai", "https://abai.kz/rss")]).unwrap();
    assert_eq!(host(&store), ["abai.kz"]);
    let mut update = parsed("abai", vec![copy("abai", "a", 1)]);
    update.state.url_in_use = Some("https://News.Example.org/feed".into());
    update.state.configured_url = Some("https://abai.kz/rss".into());
    store.record(at(10), &[update.clone()]).unwrap();
    assert_eq!(host(&store), ["news.example.org"], "the redirect's host");
    // The next start identifies the same source: it stays where it is fetched from.
    store.identify_sources(&[("abai", "https://abai.kz/rss")]).unwrap();
    assert_eq!(host(&store), ["news.example.org"]);
    // Re-pointed by the config: the new URL's host, and so after its first write.
    store.identify_sources(&[("abai", "https://qazaq.kz/abai.rss")]).unwrap();
    assert_eq!(host(&store), ["qazaq.kz"]);
    update.configured_url = "https://qazaq.kz/abai.rss".into();
    update.state.url_in_use = None;
    store.record(at(20), &[update]).unwrap();
    assert_eq!(host(&store), ["qazaq.kz"]);
}

#[test]
fn a_merge_waits_for_the_merge_in_progress_so_copies_recorded_meanwhile_join_its_story() {
    use crate::pipeline::Steps as _;
    let Some(server) = server_url() else { return };
    let url = state_url(&fresh_schema_url(&server));
    let mut one = PgStore::open(&url, RUNTIME.handle().clone()).unwrap();
    let mut two = PgStore::open(&url, RUNTIME.handle().clone()).unwrap();
    let sources = ["abai", "qazaq"];
    one.identify_sources(&[("abai", "https://abai.kz/rss"), ("qazaq", "https://qazaq.kz/rss")]).unwrap();
    let mode = crate::config::DedupMode::Exact;
    one.record(at(10), &[parsed("abai", vec![copy("abai", "a", 1)])]).unwrap();
    let (held_tx, held) = std::sync::mpsc::channel();
    let (go_tx, go) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|s| {
        // The first worker merges abai's copy and holds its merge open.
        let (one, held_tx) = (&mut one, held_tx);
        let first = s.spawn(move || {
            one.merge_stories(|stories| {
                let merged = crate::dedup::stories::update(stories, &[mode], &sources)?;
                held_tx.send(()).unwrap();
                go.recv().unwrap();
                Ok(merged)
            })
        });
        held.recv().unwrap();
        // Meanwhile the second records qazaq's copy of the same link and merges.
        two.record(at(11), &[parsed("qazaq", vec![copy("qazaq", "q", 1)])]).unwrap();
        let second = s.spawn(|| two.update_stories(&[mode], &sources));
        std::thread::sleep(Duration::from_millis(300));
        assert!(!second.is_finished(), "the second merge waits for the first");
        go_tx.send(()).unwrap();
        assert_eq!(first.join().unwrap().unwrap(), 1);
        assert_eq!(second.join().unwrap().unwrap(), 1);
    });
    let heads = RUNTIME.block_on(async {
        let client = connect(url.expose_url()).await;
        let rows = client.query("SELECT DISTINCT head_source, head_id FROM story_members", &[]).await.unwrap();
        rows.into_iter().map(|r| (r.get::<_, String>(0), r.get::<_, String>(1))).collect::<Vec<_>>()
    });
    assert_eq!(heads, [("abai".to_owned(), "a".to_owned())], "one story, published by the first copy");
}

#[test]
fn copies_recorded_during_a_merge_wait_in_unstoried_for_the_next_merge() {
    use crate::pipeline::Steps as _;
    let Some(server) = server_url() else { return };
    let url = state_url(&fresh_schema_url(&server));
    let mut one = PgStore::open(&url, RUNTIME.handle().clone()).unwrap();
    let mut two = PgStore::open(&url, RUNTIME.handle().clone()).unwrap();
    let sources = ["abai", "qazaq"];
    one.identify_sources(&[("abai", "https://abai.kz/rss"), ("qazaq", "https://qazaq.kz/rss")]).unwrap();
    let mode = crate::config::DedupMode::Exact;
    one.record(at(10), &[parsed("abai", vec![copy("abai", "a", 1)])]).unwrap();
    let (held_tx, held) = std::sync::mpsc::channel();
    let (go_tx, go) = std::sync::mpsc::channel::<()>();
    let unstoried = |url: &StateUrl| {
        RUNTIME.block_on(async {
            let client = connect(url.expose_url()).await;
            client.query_one("SELECT count(*) FROM unstoried", &[]).await.unwrap().get::<_, i64>(0)
        })
    };
    std::thread::scope(|s| {
        // The first worker's merge has begun (its snapshot taken) when the second records a copy of
        // another story; the merge goes on after that copy is committed.
        let (one, held_tx) = (&mut one, held_tx);
        let first = s.spawn(move || {
            one.merge_stories(|stories| {
                held_tx.send(()).unwrap();
                go.recv().unwrap();
                crate::dedup::stories::update(stories, &[mode], &sources)
            })
        });
        held.recv().unwrap();
        two.record(at(11), &[parsed("qazaq", vec![copy("qazaq", "q", 2)])]).unwrap();
        go_tx.send(()).unwrap();
        assert_eq!(first.join().unwrap().unwrap(), 1, "the merge took the copies of its snapshot only");
    });
    // Not deleted with the ones merged: it waits for the next merge, which takes it.
    assert_eq!(unstoried(&url), 1);
    assert_eq!(two.update_stories(&[mode], &sources).unwrap(), 1);
    assert_eq!(unstoried(&url), 0);
    let members = RUNTIME.block_on(async {
        let client = connect(url.expose_url()).await;
        client.query_one("SELECT count(*) FROM story_members", &[]).await.unwrap().get::<_, i64>(0)
    });
    assert_eq!(members, 2, "both copies are in a story");
}

#[test]
fn the_source_tasks_read_listed_entries_and_bodies_from_the_last_commit_without_waiting() {
    use crate::pipeline::Steps as _;
    let Some(server) = server_url() else { return };
    let url = fresh_schema_url(&server);
    let mut store = PgStore::open(&state_url(&url), RUNTIME.handle().clone()).unwrap();
    let digest = [7u8; 16];
    let listed = crate::dedup::Listed { digest: Some(digest), ..crate::dedup::Listed::from(copy("abai", "a", 1)) };
    let mut update = parsed("abai", vec![]);
    update.entries = crate::store::EntriesUpdate::Parsed(vec![listed]);
    update.state.raw = Some(crate::store::RawBody::new(b"<rss/>", None, None));
    store.record(at(10), &[update]).unwrap();
    let listings = store.listings().expect("a shared database is read beside the write");
    // A worker holds abai's row (recording it): the reads see the last commit and do not wait.
    let worker = RUNTIME.block_on(async {
        let client = connect(&url).await;
        client.batch_execute("BEGIN; SELECT name FROM sources WHERE name = 'abai' FOR UPDATE;").await.unwrap();
        client
    });
    let found = listings.entries("abai", &[digest, [8u8; 16]]).unwrap();
    assert_eq!(found.keys().collect::<Vec<_>>(), [&digest]);
    assert_eq!(found[&digest].id, "a");
    assert!(listings.entries("qazaq", &[digest]).unwrap().is_empty());
    let body = listings.raw_body("abai").unwrap().expect("the body kept");
    assert_eq!(body.bytes().as_deref(), Some(&b"<rss/>"[..]));
    RUNTIME.block_on(worker.batch_execute("ROLLBACK")).unwrap();
}
