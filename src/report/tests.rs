//! The summary table, `--summary json`, the status table, gone sources and the exit codes.

use super::*;

fn source(name: &str, status: Status) -> SourceReport {
    SourceReport {
        name: name.into(),
        url: format!("https://{name}.example/feed"),
        status,
        http_status: Some(200),
        format: Some("rss 2.0".into()),
        encoding: None,
        entries: 3,
        new: 3,
        kept: 2,
        duplicates: 1,
        filtered: 0,
        warnings: vec![],
        elapsed: Duration::from_millis(250),
    }
}

#[test]
fn exit_codes_follow_the_contract() {
    let mut r = RunReport { sources: vec![source("a", Status::Ok)], ..RunReport::default() };
    assert_eq!(r.exit_code(), EXIT_OK);
    r.sources.push(source("b", Status::Failed { error: "HTTP 500".into() }));
    assert_eq!(r.exit_code(), EXIT_PARTIAL);
    r.output_error = Some("disk full".into());
    assert_eq!(r.exit_code(), EXIT_FATAL);
}

#[test]
fn table_lists_every_source_and_failures_in_full() {
    let mut warned = source("qazaq", Status::Ok);
    warned.filtered = 2;
    warned.warnings = vec![
        "ids not trusted: 1 blank and 1 repeated among 3 entries; identifying entries by link and content".into(),
        "line 4: a bare & was read as text".into(),
    ];
    let r = RunReport {
        sources: vec![
            source("abai", Status::Ok),
            warned,
            source("broken", Status::Failed { error: "HTTP 500 Internal Server Error".into() }),
        ],
        files_written: 8,
        files_unchanged: 0,
        outputs_current: false,
        output_error: None,
        hub_pings: 0,
        warnings: vec!["hub https://hub.example/: HTTP 503 Service Unavailable".into()],
    };
    assert_eq!(
        r.table(),
        "source  status     http  entries   new  kept  dups  filtered     time  format\n\
             abai    ok          200        3     3     2     1         0    0.25s  rss 2.0\n\
             qazaq   warn        200        3     3     2     1         2    0.25s  rss 2.0\n        \
             ↳ ids not trusted: 1 blank and 1 repeated among 3 entries;… (+1 more in --summary json)\n\
             broken  FAILED      200        3     3     2     1         0    0.25s  rss 2.0\n\
             2 of 3 sources ok; 9 new entries; 8 files written, 0 unchanged\n\
             error: broken: HTTP 500 Internal Server Error\n\
             warning: hub https://hub.example/: HTTP 503 Service Unavailable"
    );
}

#[test]
fn json_summary_has_stable_field_names() {
    use chrono::TimeZone;
    let until = chrono::Utc.with_ymd_and_hms(2024, 11, 23, 11, 0, 0).unwrap();
    let mut skipped = source("later", Status::Skipped { until });
    skipped.format = None;
    let r = RunReport {
        sources: vec![
            source("abai", Status::Ok),
            source("broken", Status::Failed { error: "HTTP 500".into() }),
            skipped,
        ],
        files_written: 3,
        files_unchanged: 6,
        outputs_current: false,
        output_error: None,
        hub_pings: 3,
        warnings: vec![],
    };
    let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "exit_code": 1,
            "sources": [
                {"name": "abai", "url": "https://abai.example/feed", "status": "ok", "http_status": 200,
                 "format": "rss 2.0", "encoding": null, "entries": 3, "new": 3, "kept": 2, "duplicates": 1, "filtered": 0,
                 "warnings": [], "elapsed_ms": 250},
                {"name": "broken", "url": "https://broken.example/feed", "status": "failed", "error": "HTTP 500",
                 "http_status": 200, "format": "rss 2.0", "encoding": null, "entries": 3, "new": 3, "kept": 2,
                 "duplicates": 1, "filtered": 0, "warnings": [], "elapsed_ms": 250},
                {"name": "later", "url": "https://later.example/feed", "status": "skipped",
                 "until": "2024-11-23T11:00:00Z", "http_status": 200, "format": null, "encoding": null,
                 "entries": 3, "new": 3, "kept": 2, "duplicates": 1, "filtered": 0, "warnings": [], "elapsed_ms": 250}
            ],
            "files_written": 3,
            "files_unchanged": 6,
            "outputs_current": false,
            "output_error": null,
            "hub_pings": 3,
            "warnings": []
        })
    );
}

#[test]
fn the_summary_counts_in_the_singular() {
    let mut one = source("abai", Status::Ok);
    one.new = 1;
    let r = RunReport { sources: vec![one], files_written: 1, hub_pings: 1, ..RunReport::default() };
    assert_eq!(
        r.summary_line(),
        "1 of 1 source ok; 1 new entry; 1 file written, 0 unchanged; hub told of 1 changed feed"
    );
}

#[test]
fn a_gone_source_fails_once_then_is_listed_dead() {
    let gone = "https://closed.example/feed: HTTP 410 Gone";
    let mut r = RunReport {
        sources: vec![source("abai", Status::Ok), source("closed", Status::Gone { error: gone.into() })],
        ..RunReport::default()
    };
    assert_eq!(r.exit_code(), EXIT_PARTIAL);
    assert!(r.table().ends_with(&format!(
        "\nerror: closed: {gone}; not fetched again until its url changes in the config (run --force to ask again)"
    )));
    let since = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
    r.sources[1].status = Status::Dead { since };
    assert_eq!(r.exit_code(), EXIT_OK, "a dead source is known, not a new failure");
    assert!(r.table().contains("\nclosed  dead  "), "{}", r.table());
    assert!(r.summary_line().starts_with("1 of 2 sources ok, 1 dead (HTTP 410); "), "{}", r.summary_line());
}

#[test]
fn status_table_snapshot() {
    use crate::config::Config;
    use crate::store::SourceState;
    use chrono::TimeZone;

    let config = Config::parse(
        "[[sources]]\nname = \"abai\"\nurl = \"https://abai.kz/rss\"\n\n[[sources]]\nname = \"broken-site\"\nurl = \"https://broken.example/feed\"\n\n[[sources]]\nname = \"new\"\nurl = \"https://new.example/\"\n\n[[sources]]\nname = \"closed\"\nurl = \"https://closed.example/rss\"\n",
        "feeds.toml",
        std::path::Path::new("/"),
    )
    .unwrap();
    let now = chrono::Utc.with_ymd_and_hms(2024, 11, 23, 10, 0, 0).unwrap();
    let states = std::collections::HashMap::from([
        (
            "abai".to_owned(),
            SourceState {
                last_success: Some(now - chrono::Duration::minutes(5)),
                next_fetch: Some(now + chrono::Duration::hours(1)),
                ..SourceState::default()
            },
        ),
        (
            "broken-site".to_owned(),
            SourceState {
                last_success: Some(now - chrono::Duration::days(2)),
                failures: 4,
                next_fetch: Some(now - chrono::Duration::minutes(1)),
                last_error: Some("https://broken.example/feed: HTTP 500 Internal Server Error".into()),
                ..SourceState::default()
            },
        ),
        (
            "closed".to_owned(),
            SourceState {
                configured_url: Some("https://closed.example/rss".into()),
                last_success: Some(now - chrono::Duration::days(3)),
                failures: 1,
                next_fetch: Some(now - chrono::Duration::days(2)),
                last_error: Some("https://closed.example/rss: HTTP 410 Gone".into()),
                gone_since: Some(now - chrono::Duration::days(2)),
                ..SourceState::default()
            },
        ),
    ]);
    let counts = std::collections::HashMap::from([
        ("abai".to_owned(), 42),
        ("broken-site".to_owned(), 7),
        ("closed".to_owned(), 12),
    ]);
    let folded = std::collections::HashMap::from([("broken-site".to_owned(), 3)]);
    let filtered = std::collections::HashMap::from([("abai".to_owned(), 5)]);
    let rows = status_rows(&config.sources, &states, &counts, &folded, &filtered, now);
    assert_eq!(
        status_table(&rows),
        "source       last success      failures  next due          entries  duplicates  filtered  last error\n\
             abai         2024-11-23 09:55         0  2024-11-23 11:00       42           0         5  -\n\
             broken-site  2024-11-21 10:00         4  now                     7           3         0  https://broken.example/feed: HTTP 500 Internal Server Error\n\
             new          -                        0  now                     0           0         0  -\n\
             closed       2024-11-20 10:00         1  dead                   12           0         0  https://closed.example/rss: HTTP 410 Gone\n"
    );
    let v: serde_json::Value = serde_json::from_str(&status_json(&rows, None)).unwrap();
    assert_eq!(
        v["sources"][0],
        serde_json::json!({"name": "abai", "url": "https://abai.kz/rss", "enabled": true, "last_success": "2024-11-23T09:55:00Z",
            "failures": 0, "next_due": "2024-11-23T11:00:00Z", "dead_since": null, "entries": 42,
            "duplicates": 0, "filtered": 5, "last_error": null})
    );
    assert_eq!(v["sources"][3]["dead_since"], "2024-11-21T10:00:00Z");
    assert_eq!(v["sources"][3]["next_due"], serde_json::Value::Null);
    assert_eq!(v["sources"][1]["next_due"], serde_json::Value::Null, "due now");
}
