//! Config error messages are part of the user interface: they are pinned here exactly.

use std::path::Path;

use super::*;
use crate::dedup::NearSettings;

fn parse(text: &str) -> Result<Config, ConfigErrors> {
    Config::parse(text, "feeds.toml", Path::new("/srv/feeds"))
}

fn errors(text: &str) -> String {
    match parse(text) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e.to_string(),
    }
}

const GOOD: &str = r#"
[output]
dir = "public"
base_url = "https://feeds.example.org/planet"
max_items = 50
title = "Kazakh planet"

[fetch]
timeout = "20s"
max_body_size = "5MiB"
per_host = 3

[categories.kz-news]
title = "Kazakh news"
description = "News from Kazakhstan"

[[sources]]
name = "abai"
url = "https://abai.kz/rss"
categories = ["kz-news"]
timezone = "Asia/Almaty"

[[sources]]
name = "local"
url = "examples/feeds/a.xml"
"#;

#[test]
fn parses_a_complete_config() {
    let c = parse(GOOD).unwrap();
    assert_eq!(c.output.dir, Path::new("/srv/feeds/public"));
    assert_eq!(c.output.base_url.as_ref().unwrap().as_str(), "https://feeds.example.org/planet/");
    assert_eq!(c.output.max_items, 50);
    assert_eq!(c.fetch.timeout, Duration::from_secs(20));
    assert_eq!(c.fetch.max_body_bytes, 5 * 1024 * 1024);
    assert_eq!(c.fetch.per_host, 3);
    assert_eq!(c.sources.len(), 2);
    assert_eq!(c.sources[0].timezone, chrono_tz::Asia::Almaty);
    assert_eq!(c.sources[1].timezone, chrono_tz::UTC);
    assert_eq!(
        (c.state_path.as_path(), c.state_busy_timeout),
        (Path::new("/srv/feeds/.feedmill/state.db"), Duration::from_secs(10))
    );
    let c = parse(&format!("[state]\nbusy_timeout = \"1500ms\"\n{GOOD}")).unwrap();
    assert_eq!(c.state_busy_timeout, Duration::from_millis(1500));
    assert!(matches!(&c.sources[1].location, Location::File(p) if p == Path::new("/srv/feeds/examples/feeds/a.xml")));
    assert_eq!(
        c.categories,
        vec![Category {
            slug: "kz-news".into(),
            title: "Kazakh news".into(),
            description: Some("News from Kazakhstan".into()),
            rules: vec![],
            dedup: DedupMode::Near(NearSettings::default()),
        }]
    );
    assert!(c.warnings.is_empty());
}

#[test]
fn undeclared_categories_get_default_titles_when_none_are_declared() {
    let c = parse("[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\ncategories = [\"ru-news\"]\n").unwrap();
    assert_eq!(c.categories[0].title, "Ru news");
    assert_eq!(c.output.title, "feedmill");
    assert_eq!(c.output.max_items, 100);
}

#[test]
fn unknown_keys_are_all_reported_with_suggestions() {
    let text = "[output]\ndirr = \"x\"\n\n[[sources]]\nnmae = \"abai\"\nurl = \"https://abai.kz/rss\"\nzzz = 1\n";
    assert_eq!(
        errors(text),
        "error: unknown key `dirr` in [output]\n --> feeds.toml:2:1\n  |\n2 | dirr = \"x\"\n  | ^^^^ did you mean `dir`?\n\n\
         error: missing field `name`\n --> feeds.toml:4:1\n  |\n4 | [[sources]]\n  | ^^^^^^^^^^^\n\n\
         error: unknown key `nmae` in [[sources]] #1\n --> feeds.toml:5:1\n  |\n5 | nmae = \"abai\"\n  | ^^^^ did you mean `name`?\n\n\
         error: unknown key `zzz` in [[sources]] #1\n --> feeds.toml:7:1\n  |\n7 | zzz = 1\n  | ^^^ expected one of `name`, `url`, `categories`, `timezone`, `locale`, `min_interval`, `kind`, `follow`, `full_text`, `html`, `sitemap`, `article`, `title`, `enabled`, `publish_url`, `user_agent`, `proxy`, `auth`, `headers`, `secret_params`, `filters`, `url_template`, `date_from`\n\n\
         feeds.toml: 4 errors found"
    );
}

#[test]
fn check_reports_unknown_keys_type_errors_and_semantic_errors_together() {
    // An unknown key and a type error in the same file: both, in file order.
    let text =
        "[output]\ndirr = \"x\"\nmax_items = \"many\"\n\n[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\n";
    assert_eq!(
        errors(text),
        "error: unknown key `dirr` in [output]\n --> feeds.toml:2:1\n  |\n2 | dirr = \"x\"\n  | ^^^^ did you mean `dir`?\n\n\
         error: invalid type: string \"many\", expected i64\n --> feeds.toml:3:13\n  |\n3 | max_items = \"many\"\n  |             ^^^^^^\n\n\
         feeds.toml: 2 errors found"
    );
    // A type error in each of two sources, and one in [fetch]: all three.
    let text = "[fetch]\ntries = \"3\"\n\n[[sources]]\nname = \"a\"\nurl = 5\n\n[[sources]]\nname = \"b\"\nurl = \"https://b.example/\"\nfollow = \"yes\"\n";
    assert_eq!(
        errors(text),
        "error: invalid type: string \"3\", expected i64\n --> feeds.toml:2:9\n  |\n2 | tries = \"3\"\n  |         ^^^\n\n\
         error: invalid type: integer `5`, expected a string\n --> feeds.toml:6:7\n  |\n6 | url = 5\n  |       ^\n\n\
         error: invalid type: string \"yes\", expected a boolean\n  --> feeds.toml:11:10\n   |\n11 | follow = \"yes\"\n   |          ^^^^^\n\n\
         feeds.toml: 3 errors found"
    );
    // An unknown key does not hide what is wrong with the rest: the semantic checks run on what parsed.
    let text = "[fetch]\ntimeot = \"10s\"\n\n[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\ntimezone = \"Mars/Olympus\"\n";
    assert_eq!(
        errors(text),
        "error: unknown key `timeot` in [fetch]\n --> feeds.toml:2:1\n  |\n2 | timeot = \"10s\"\n  | ^^^^^^ did you mean `timeout`?\n\n\
         error: source `a`: unknown time zone `Mars/Olympus`\n --> feeds.toml:7:12\n  |\n7 | timezone = \"Mars/Olympus\"\n  |            ^^^^^^^^^^^^^^ use an IANA name such as `Asia/Almaty` or `Europe/Moscow`\n\n\
         feeds.toml: 2 errors found"
    );
}

#[test]
fn filter_rules_are_checked_and_named() {
    let text = "[[filters.block]]\ntitle = [\"Жарнама*\", \"Реклама*\"]\n\n[[filters.block]]\ncase_sensitive = true\n\n\
                [[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\n\n[[sources.filters.keep]]\nlink = { regex = \"(\" }\n";
    assert_eq!(
        errors(text),
        "error: rule filters.block[1] has nothing to match: give at least one of title, content, author, tags, link, language\n --> feeds.toml:4:1\n  |\n4 | [[filters.block]]\n  | ^^^^^^^^^^^^^^^^^\n\n\
         error: rule sources[0].filters.keep[0]: link regex \"(\" does not compile: regex parse error:\n    (\n    ^\nerror: unclosed group\n  --> feeds.toml:11:1\n   |\n11 | [[sources.filters.keep]]\n   | ^^^^^^^^^^^^^^^^^^^^^^^^\n\n\
         feeds.toml: 2 errors found"
    );
    // A misspelt field is an unknown key, with a suggestion, named like the rule.
    let text = "[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\n\n[[sources.filters.block]]\ntitel = \"x\"\ntags = \"y\"\n";
    assert_eq!(
        errors(text),
        "error: unknown key `titel` in sources[0].filters.block[0]\n --> feeds.toml:6:1\n  |\n6 | titel = \"x\"\n  | ^^^^^ did you mean `title`?\n\n\
         feeds.toml: 1 error found"
    );
    // Only the fields an entry has: `source` is for category rules.
    let text = "[[filters.keep]]\nsource = \"a\"\n\n[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\n";
    assert_eq!(
        errors(text),
        "error: unknown key `source` in filters.keep[0]\n --> feeds.toml:2:1\n  |\n2 | source = \"a\"\n  | ^^^^^^ expected one of `title`, `content`, `author`, `tags`, `link`, `language`, `case_sensitive`\n\n\
         feeds.toml: 1 error found"
    );
    let good =
        "[[filters.block]]\ntitle = [\"Жарнама*\"]\n\n[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\n\n\
                [[sources.filters.keep]]\nlanguage = \"kk\"\n[[sources.filters.block]]\ntags = \"реклама\"\n";
    let c = parse(good).unwrap();
    assert_eq!((c.filters.name.as_str(), c.filters.block.len(), c.filters.keep.len()), ("filters", 1, 0));
    let f = &c.sources[0].filters;
    assert_eq!(
        (f.name.as_str(), f.keep[0].name(), f.block[0].name()),
        ("sources[0].filters", "sources[0].filters.keep[0]", "sources[0].filters.block[0]")
    );
}

#[test]
fn syntax_errors_point_at_the_place() {
    assert_eq!(
        errors("[output\ndir = 1\n"),
        "error: invalid TOML: unclosed table, expected `]`\n --> feeds.toml:1:8\n  |\n1 | [output\n  |        ^\n\nfeeds.toml: 1 error found"
    );
}

#[test]
fn type_errors_point_at_the_value() {
    assert_eq!(
        errors("[output]\nmax_items = \"many\"\n[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\n"),
        "error: invalid type: string \"many\", expected i64\n --> feeds.toml:2:13\n  |\n2 | max_items = \"many\"\n  |             ^^^^^^\n\nfeeds.toml: 1 error found"
    );
}

#[test]
fn semantic_errors_are_reported_together() {
    let text = r#"[categories.kz-news]
title = "KZ"

[[sources]]
name = "abai"
url = "https://abai.kz/rss"
categories = ["kz-nwes"]
timezone = "Almaty"

[[sources]]
name = "abai"
url = "gopher://old.example/"
"#;
    assert_eq!(
        errors(text),
        "error: source `abai`: unknown category `kz-nwes`\n --> feeds.toml:7:15\n  |\n7 | categories = [\"kz-nwes\"]\n  |               ^^^^^^^^^ did you mean `kz-news`?\n\n\
         error: source `abai`: unknown time zone `Almaty`\n --> feeds.toml:8:12\n  |\n8 | timezone = \"Almaty\"\n  |            ^^^^^^^^ did you mean `Asia/Almaty`?\n\n\
         error: duplicate source name `abai`\n  --> feeds.toml:11:8\n   |\n11 | name = \"abai\"\n   |        ^^^^^^ source #1 already uses it; names must be unique\n\n\
         error: source `abai`: bad url: `gopher://old.example/`: unsupported scheme `gopher:` (use http://, https://, file:// or a path)\n  --> feeds.toml:12:7\n   |\n12 | url = \"gopher://old.example/\"\n   |       ^^^^^^^^^^^^^^^^^^^^^^^\n\n\
         warning: category `kz-news` is declared but no source uses it; it gets no output\n --> feeds.toml:1:1\n  |\n1 | [categories.kz-news]\n  | ^^^^^^^^^^^^^^^^^^^^\n\n\
         feeds.toml: 4 errors found"
    );
}

#[test]
fn bad_durations_sizes_and_slugs() {
    let text = "[fetch]\ntimeout = \"3 fortnights\"\nmax_body_size = \"big\"\ntries = 0\n\n[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\ncategories = [\"Kz News\"]\n";
    let e = errors(text);
    assert!(
        e.contains("error: `timeout`: `3 fortnights` has an unknown unit `fortnights` (use ms, s, m, h or d)"),
        "{e}"
    );
    assert!(e.contains("error: `max_body_size`: `big` is not a size"), "{e}");
    assert!(e.contains("error: `tries` must be between 1 and 10"), "{e}");
    assert!(e.contains("error: category `Kz News` is not a valid slug"), "{e}");
    assert!(e.ends_with("4 errors found"), "{e}");
}

#[test]
fn empty_config_says_what_to_add() {
    assert_eq!(
        errors(""),
        "error: no sources configured\n --> feeds.toml\n  = help: add a [[sources]] table with `name` and `url`\n\nfeeds.toml: 1 error found"
    );
}

#[test]
fn private_networks_are_allowed_unless_refused() {
    let sources = "[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\n";
    assert!(parse(sources).unwrap().fetch.allow_private_networks);
    let refused = parse(&format!("[fetch]\nallow_private_networks = false\n\n{sources}")).unwrap();
    assert!(!refused.fetch.allow_private_networks);
    assert_eq!(
        errors(&format!("[fetch]\nallow_private_networks = \"no\"\n\n{sources}")),
        "error: invalid type: string \"no\", expected a boolean\n --> feeds.toml:2:26\n  |\n2 | allow_private_networks = \"no\"\n  |                          ^^^^\n\nfeeds.toml: 1 error found"
    );
    assert!(
        errors(&format!("[fetch]\nallow_private_network = false\n\n{sources}"))
            .contains("unknown key `allow_private_network` in [fetch]\n --> feeds.toml:2:1\n  |\n2 | allow_private_network = false\n  | ^^^^^^^^^^^^^^^^^^^^^ did you mean `allow_private_networks`?"),
    );
}

#[test]
fn durations_and_sizes_parse() {
    use raw::{DurationValue as D, SizeValue as S};
    assert_eq!(D::Text("500ms".into()).to_duration(), Ok(Duration::from_millis(500)));
    assert_eq!(D::Text("2m".into()).to_duration(), Ok(Duration::from_secs(120)));
    assert_eq!(D::Seconds(7).to_duration(), Ok(Duration::from_secs(7)));
    assert_eq!(S::Text("20MiB".into()).to_bytes(), Ok(20 * 1024 * 1024));
    assert_eq!(S::Text("1 KB".into()).to_bytes(), Ok(1000));
}

#[test]
fn rule_categories_need_no_source_and_bad_rules_are_named() {
    let c = parse(
        "[categories.kk-lang]\ntitle = \"Қазақша\"\n[[categories.kk-lang.rules]]\ninclude = { language = \"kk\" }\n\n[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\n",
    )
    .unwrap();
    assert_eq!(c.categories.len(), 1, "a rule category gets an output without any source");
    assert_eq!(c.categories[0].rules[0].name(), "categories.kk-lang.rules[0]");
    let e = errors("[categories.x]\n[[categories.x.rules]]\ninclude = { title = { regex = \"(unclosed\" } }\n\n[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\n");
    assert!(e.starts_with("error: rule categories.x.rules[0]: title regex \"(unclosed\" does not compile"), "{e}");
    assert!(e.contains("--> feeds.toml:2:1"), "{e}");
}

#[test]
fn categories_override_dedup_keys_and_inherit_the_rest() {
    let c = parse(
        "[dedup]\nthreshold = 0.8\nwindow = \"48h\"\n\n\
         [categories.raw]\ndedup = \"off\"\n\n\
         [categories.strict]\ndedup_threshold = 0.9\n\n\
         [categories.plain]\n\n\
         [[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\ncategories = [\"raw\", \"strict\", \"plain\"]\n",
    )
    .unwrap();
    let window = chrono::Duration::hours(48);
    assert_eq!(c.dedup, DedupMode::Near(NearSettings { threshold: 0.8, window }));
    let mode = |slug: &str| c.category(slug).unwrap().dedup;
    assert_eq!(mode("raw"), DedupMode::Off);
    assert_eq!(mode("strict"), DedupMode::Near(NearSettings { threshold: 0.9, window }));
    assert_eq!(mode("plain"), c.dedup);

    let c = parse(
        "[dedup]\nmode = \"exact\"\n\n[categories.kz]\ndedup = \"near\"\n\n\
         [[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\ncategories = [\"kz\"]\n",
    )
    .unwrap();
    assert_eq!(c.category("kz").unwrap().dedup, DedupMode::Near(NearSettings::default()));
}

#[test]
fn a_bad_category_dedup_key_names_the_key() {
    assert_eq!(
        errors("[categories.kz]\ndedup = \"fuzzy\"\ndedup_threshold = 1.5\n"),
        "error: `dedup_threshold` must be above 0 and at most 1\n --> feeds.toml:3:19\n  |\n3 | dedup_threshold = 1.5\n  |                   ^^^\n\n\
         feeds.toml: 1 error found"
    );
    assert_eq!(
        errors("[categories.kz]\ndedup = \"fuzzy\"\n"),
        "error: unknown dedup mode `fuzzy`\n --> feeds.toml:2:9\n  |\n2 | dedup = \"fuzzy\"\n  |         ^^^^^^^ use `near` (the default), `exact` or `off`\n\n\
         feeds.toml: 1 error found"
    );
}

#[test]
fn a_hub_is_an_http_url_next_to_base_url() {
    let sources = "[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\n";
    let c = parse(&format!(
        "[output]\nbase_url = \"https://feeds.example.org/\"\nhub = \"https://hub.example/\"\n\n{sources}"
    ))
    .unwrap();
    assert_eq!(c.output.hub.as_ref().map(Url::as_str), Some("https://hub.example/"));
    assert_eq!(parse(sources).unwrap().output.hub, None);
    assert_eq!(
        errors(&format!("[output]\nhub = \"https://hub.example/\"\n\n{sources}")),
        "error: `hub` needs `base_url`\n --> feeds.toml:2:7\n  |\n2 | hub = \"https://hub.example/\"\n  |       ^^^^^^^^^^^^^^^^^^^^^^ the hub is told each changed feed's public URL, which comes from `base_url`\n\n\
         feeds.toml: 1 error found"
    );
    assert_eq!(
        errors(&format!("[output]\nbase_url = \"https://feeds.example.org/\"\nhub = \"ftp://hub.example/\"\n\n{sources}")),
        "error: `hub` must be an http or https URL\n --> feeds.toml:3:7\n  |\n3 | hub = \"ftp://hub.example/\"\n  |       ^^^^^^^^^^^^^^^^^^^^\n\n\
         feeds.toml: 1 error found"
    );
    assert!(errors(&format!("[output]\nhubb = \"https://hub.example/\"\n\n{sources}")).contains("did you mean `hub`?"));
}

#[test]
fn tracking_parameters_are_stripped_unless_turned_off() {
    let sources = "[[sources]]\nname = \"a\"\nurl = \"a.xml\"\n";
    let c = parse(sources).unwrap();
    assert!(c.output.strip_tracking && c.sources[0].strip_tracking);
    let c = parse(&format!("[output]\nstrip_tracking = false\n\n{sources}")).unwrap();
    assert!(!c.output.strip_tracking && !c.sources[0].strip_tracking);
    let bad = errors(&format!("[output]\nstrip_tracking = \"no\"\n\n{sources}"));
    assert!(bad.contains("feeds.toml:2:18") && bad.contains("expected a boolean"), "{bad}");
    assert!(errors(&format!("[output]\nstrip_tracing = false\n\n{sources}")).contains("did you mean `strip_tracking`?"));
}

/// Each test uses its own variable names: tests run in parallel in one process.
fn set_env(name: &str, value: &str) {
    std::env::set_var(name, value);
}

#[test]
fn request_keys_read_secrets_from_the_environment_and_files() {
    let dir = tempfile::tempdir().unwrap();
    #[allow(clippy::disallowed_methods)]
    std::fs::write(dir.path().join("key.txt"), "from-file-5f2a\n").unwrap();
    set_env("FEEDMILL_TEST_CFG_PASSWORD", "pw-from-env-77c1");
    set_env("FEEDMILL_TEST_CFG_HEADER", "header-from-env-0b9d");
    let text = r#"
[fetch]
proxy = "http://proxyuser:proxypw-31d@proxy.example:3128"

[[sources]]
name = "private"
url = "https://feeds.example/private.xml"
title = "My private feed"
enabled = false
publish_url = false
user_agent = "MyReader/2.0"
proxy = "http://other-proxy.example:8080"
auth = { username = "alice", password_env = "FEEDMILL_TEST_CFG_PASSWORD" }
headers = { "X-Api-Key" = { env = "FEEDMILL_TEST_CFG_HEADER" }, "X-From-File" = { file = "key.txt" }, "X-Plain" = "value" }
secret_params = ["session"]

[[sources]]
name = "public"
url = "https://feeds.example/public.xml"
"#;
    let c = Config::parse(text, "feeds.toml", dir.path()).unwrap();
    let (private, public) = (&c.sources[0], &c.sources[1]);
    assert_eq!(private.title.as_deref(), Some("My private feed"));
    assert!(!private.enabled && !private.publish_url);
    assert!(public.enabled && public.publish_url && public.title.is_none());
    assert_eq!(
        public.request,
        RequestSettings { credentials_host: Some("feeds.example".into()), ..Default::default() }
    );
    let r = &private.request;
    assert_eq!(r.user_agent.as_ref().map(|v| v.to_str().unwrap()), Some("MyReader/2.0"));
    assert_eq!(r.proxy.as_ref().map(|p| p.expose()), Some("http://other-proxy.example:8080"));
    let auth = r.auth.as_ref().unwrap();
    assert_eq!((auth.username.as_str(), auth.password.expose()), ("alice", "pw-from-env-77c1"));
    let headers: Vec<(&str, &str)> = r.headers.iter().map(|(n, v)| (n.as_str(), v.to_str().unwrap())).collect();
    assert_eq!(
        headers,
        [("x-api-key", "header-from-env-0b9d"), ("x-from-file", "from-file-5f2a"), ("x-plain", "value")]
    );
    assert!(r.headers.iter().all(|(_, v)| v.is_sensitive()));
    assert_eq!(r.credentials_host.as_deref(), Some("feeds.example"));
    assert_eq!(c.fetch.proxy.as_ref().map(|p| p.expose()), Some("http://proxyuser:proxypw-31d@proxy.example:3128"));
    assert!(crate::redact::is_secret_param("Session"));

    // Nothing secret in what a debugging session could print.
    let debug = format!("{c:?}");
    for secret in ["pw-from-env-77c1", "header-from-env-0b9d", "from-file-5f2a", "proxypw-31d"] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
}

#[test]
fn a_missing_secret_is_an_error_naming_source_and_key_not_the_value() {
    std::env::remove_var("FEEDMILL_TEST_CFG_UNSET");
    set_env("FEEDMILL_TEST_CFG_EMPTY", "");
    let e = errors(
        "[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\n\
         auth = { username = \"u\", password_env = \"FEEDMILL_TEST_CFG_UNSET\" }\n\
         headers = { \"X-Key\" = { env = \"FEEDMILL_TEST_CFG_EMPTY\" }, \"X-Other\" = { file = \"missing-secret.txt\" } }\n",
    );
    assert!(
        e.starts_with(
            "error: source `a`: `auth.password_env`: environment variable `FEEDMILL_TEST_CFG_UNSET` is not set\n \
             --> feeds.toml:4:41\n"
        ),
        "{e}"
    );
    assert!(e.contains("error: source `a`: `headers.X-Key`: environment variable `FEEDMILL_TEST_CFG_EMPTY` is empty\n --> feeds.toml:5:23"), "{e}");
    assert!(e.contains("error: source `a`: `headers.X-Other`: cannot read /srv/feeds/missing-secret.txt: "), "{e}");
    assert!(e.ends_with("feeds.toml: 3 errors found"), "{e}");
}

#[test]
fn header_names_are_checked_and_reserved_ones_refused_with_a_reason() {
    let e = errors(
        "[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\n\
         headers = { \"Bad Name\" = \"x\", \"Host\" = \"evil.example\", \"If-None-Match\" = \"x\", \"User-Agent\" = \"x\", \"X-Ok\" = \"line\\nbreak\" }\n",
    );
    for message in [
        "error: source `a`: `Bad Name` is not a valid header name",
        "error: source `a`: header `Host` cannot be set: it is the URL's host",
        "error: source `a`: header `If-None-Match` cannot be set: feedmill sends the validators from the last fetch itself",
        "error: source `a`: header `User-Agent` cannot be set: use the source's `user_agent` key",
        "error: source `a`: `headers.X-Ok` is not a valid header value",
    ] {
        assert!(e.contains(message), "{message} not in {e}");
    }
    assert!(e.contains("--> feeds.toml:4:13"), "{e}");
}

#[test]
fn auth_proxy_and_request_keys_are_checked() {
    let src = "[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\n";
    let e = errors(&format!("{src}auth = {{ username = \"u\" }}\n"));
    assert!(
        e.starts_with("error: source `a`: `auth` needs one of `password_env` or `password_file`\n --> feeds.toml:4:8"),
        "{e}"
    );
    let e = errors(&format!("{src}auth = {{ username = \"u\", password = \"literal\" }}\n"));
    // The unknown key, and what it leaves missing, both at once.
    assert!(e.contains("error: unknown key `password` in `auth` of [[sources]] #1\n --> feeds.toml:4:26"), "{e}");
    assert!(e.contains("error: source `a`: `auth` needs one of `password_env` or `password_file`"), "{e}");
    assert!(e.contains("did you mean `password_env`?"), "{e}");
    let e = errors(&format!("{src}headers = {{ \"X-A\" = {{ env = \"A\", file = \"b\" }} }}\n"));
    assert!(e.starts_with("error: source `a`: `headers.X-A` needs exactly one of `env` or `file`"), "{e}");
    let e = errors(&format!("{src}headers = {{ \"X-A\" = {{ vne = \"A\" }} }}\n"));
    assert!(e.contains("error: unknown key `vne` in header `X-A` of [[sources]] #1"), "{e}");
    let e = errors(&format!("{src}proxy = \"socks5://secretuser:hunter2@p.example:1080\"\n"));
    assert!(e.starts_with("error: source `a`: `proxy` must be an http:// or https:// URL, not `socks5:`"), "{e}");
    assert!(!e.contains("hunter2"), "the quoted line is redacted: {e}");
    let e = errors("[fetch]\nproxy = \"not a url\"\n\n[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\n");
    assert!(e.starts_with("error: `proxy` is not a valid URL: relative URL without a base"), "{e}");
    let e = errors("[[sources]]\nname = \"a\"\nurl = \"feeds/a.xml\"\nuser_agent = \"x\"\ntitle = \" \"\n");
    assert!(e.contains("error: source `a`: `user_agent` is for http(s) sources"), "{e}");
    assert!(e.contains("error: source `a`: `title` is empty"), "{e}");
}

#[test]
fn config_errors_never_quote_credentials_in_a_url() {
    let e = errors("[[sources]]\nname = \"a\"\nurl = \"ftp://bob:pw-in-url-4411@a.example/f?token=tok-88aa\"\n");
    assert!(e.contains("unsupported scheme `ftp:`"), "{e}");
    assert!(!e.contains("pw-in-url-4411") && !e.contains("tok-88aa"), "{e}");
    assert!(e.contains("ftp://***@a.example/f?token=***"), "{e}");
}

#[test]
fn a_folder_source_needs_a_local_folder_and_a_url_template() {
    let c = parse(
        "[[sources]]\nname = \"news\"\nurl = \"articles/\"\nkind = \"folder\"\n\
         url_template = \"https://example.kz/news/{slug}/\"\ndate_from = \"mtime\"\n",
    )
    .unwrap();
    assert!(matches!(&c.sources[0].location, Location::File(p) if p == Path::new("/srv/feeds/articles/")));
    assert!(matches!(
        &c.sources[0].kind,
        SourceKind::Folder(FolderRules { url_template, date_from_mtime: true }) if url_template == "https://example.kz/news/{slug}/"
    ));
    let e = errors("[[sources]]\nname = \"news\"\nurl = \"https://example.kz/\"\nkind = \"folder\"\nurl_template = \"/news/\"\nfollow = true\n");
    assert!(e.contains("a folder source's `url` is a local folder"), "{e}");
    assert!(e.contains("`url_template` must be an http(s) URL with `{slug}` in it"), "{e}");
    assert!(e.contains("`follow` is not for kind = \"folder\" sources"), "{e}");
    let e = errors("[[sources]]\nname = \"news\"\nurl = \"articles\"\nkind = \"folder\"\ndate_from = \"ctime\"\n");
    assert!(e.contains("kind = \"folder\" needs `url_template`"), "{e}");
    assert!(e.contains("unknown `date_from` `ctime`"), "{e}");
    let e = errors("[[sources]]\nname = \"a\"\nurl = \"https://a.example/rss\"\nurl_template = \"https://a/{slug}\"\n");
    assert!(e.contains("`url_template` is for kind = \"folder\" sources"), "{e}");
}

#[test]
fn sitemap_sources_read_their_table_and_follow() {
    let c = parse(
        "[[sources]]\nname = \"dala\"\nurl = \"https://dala.kz/sitemap-news.xml\"\nkind = \"sitemap\"\nfollow = true\n\n\
         [sources.sitemap]\nurl_include = [\"/news/\"]\nurl_exclude = [\"/tag/\"]\nmax_urls = 200\n",
    )
    .unwrap();
    let SourceKind::Sitemap { rules, follow } = &c.sources[0].kind else { panic!("{:?}", c.sources[0].kind) };
    assert!(*follow && c.sources[0].kind.fetches_articles());
    assert_eq!((rules.max_urls, rules.max_sitemaps), (200, SitemapRules::MAX_SITEMAPS));
    assert!(rules.selects("https://dala.kz/kk/news/lrt"));
    assert!(!rules.selects("https://dala.kz/kk/tag/news/"));
    assert!(!rules.selects("https://dala.kz/about"));
    let e = errors("[[sources]]\nname = \"x\"\nurl = \"https://x.kz/\"\n\n[sources.sitemap]\nmax_urls = 5\n[sources.html]\nitem = \"li\"\n");
    assert!(e.contains("[sources.sitemap] is for kind = \"sitemap\" sources"), "{e}");
}

// The block `feedmill discover` prints for a site with sitemaps, checked here rather than in extract's
// tests: extract does not import config.
#[test]
fn a_discovered_sitemap_block_is_a_valid_config() {
    let sitemaps = [Url::parse("https://dala.kz/sitemap-news.xml").unwrap()];
    let block = crate::extract::sitemap_skeleton(&sitemaps, "dala-kz").unwrap_or_default();
    let parsed = Config::parse(&block, "<discover>", Path::new("."));
    assert!(parsed.is_ok(), "the block is a valid config: {block}\n{parsed:?}");
}

#[test]
fn a_source_locale_is_any_cldr_language_and_html_locale_is_its_fallback() {
    let c = parse(
        "[[sources]]\nname = \"a\"\nurl = \"a.xml\"\nlocale = \"de-AT\"\n\n\
         [[sources]]\nname = \"b\"\nurl = \"https://b.kz/\"\nkind = \"html\"\n[sources.html]\nitem = \"li\"\nlocale = \"kk\"\n\n\
         [[sources]]\nname = \"c\"\nurl = \"c.xml\"\n",
    )
    .unwrap();
    let codes: Vec<_> = c.sources.iter().map(|s| s.date_locale.map(DateLocale::code)).collect();
    assert_eq!(codes, [Some("de"), Some("kk"), None]);
    let bad = errors("[[sources]]\nname = \"a\"\nurl = \"a.xml\"\nlocale = \"klingon\"\n");
    assert!(bad.contains("source `a`: unknown locale `klingon`") && bad.contains("feeds.toml:4:10"), "{bad}");
}

fn with_state(state: &str, env_url: Option<&str>) -> Result<Config, ConfigErrors> {
    Config::parse_with_state_url(
        &format!("[state]\n{state}\n{GOOD}"),
        "feeds.toml",
        Path::new("/srv/feeds"),
        env_url.map(str::to_owned),
    )
}

#[test]
fn a_postgresql_state_is_checked_and_its_password_never_shown() {
    assert!(parse(GOOD).unwrap().state_url.is_none(), "no url: the SQLite file");
    for scheme in ["postgresql", "postgres"] {
        let c = with_state(
            &format!("url = \"{scheme}://feedmill:pgpw-in-url-4e1a@db.example:5432/feeds?sslmode=require\""),
            None,
        )
        .unwrap();
        let url = c.state_url.as_ref().unwrap();
        assert_eq!(url.shown(), format!("{scheme}://***@db.example:5432/feeds?sslmode=require"));
        assert!(url.expose_url().contains("pgpw-in-url-4e1a"), "the client gets it");
        let debug = format!("{c:?}");
        assert!(!debug.contains("pgpw-in-url-4e1a"), "{debug}");
        // Registered: a library message that echoes it is scrubbed too.
        assert_eq!(crate::redact::text("auth failed: pgpw-in-url-4e1a"), "auth failed: ***");
    }
    // The environment's URL wins over the file's.
    let c = with_state("url = \"postgresql://db.example/feeds\"", Some("postgres://other.example/x")).unwrap();
    assert_eq!(c.state_url.unwrap().shown(), "postgres://other.example/x");
    let e = match with_state("", Some("mysql://u:envpw-77aa@db.example/x")) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("mysql accepted"),
    };
    assert!(e.contains("error: `FEEDMILL_STATE_URL` must be a postgresql:// or postgres:// URL, not `mysql:`"), "{e}");
    assert!(!e.contains("envpw-77aa"), "{e}");
}

#[test]
fn a_postgresql_state_url_must_name_a_host_and_options_the_client_knows() {
    let e = errors("[state]\nurl = \"postgresql:///feeds\"\n");
    assert!(e.contains("error: `[state] url` names no host: postgresql:///feeds\n --> feeds.toml:2:7"), "{e}");
    let e = errors("[state]\nurl = \"postgresql://u:pw-bad-mode-1c@db.example/feeds?sslmode=sometimes\"\n");
    assert!(e.contains("error: `[state] url`: invalid connection string: invalid value for option `sslmode`"), "{e}");
    assert!(!e.contains("pw-bad-mode-1c"), "{e}");
    let e = errors("[state]\nurl = \"http://db.example/feeds\"\n");
    assert!(e.contains("must be a postgresql:// or postgres:// URL, not `http:`"), "{e}");
}

#[test]
fn a_postgresql_password_comes_from_the_environment_once() {
    std::env::set_var("FEEDMILL_TEST_CFG_PG_PASSWORD", "pg-from-env-93b0");
    let c = with_state(
        "url = \"postgresql://feedmill@db.example/feeds\"\npassword_env = \"FEEDMILL_TEST_CFG_PG_PASSWORD\"",
        None,
    )
    .unwrap();
    let url = c.state_url.as_ref().unwrap();
    assert_eq!(url.password(), Some("pg-from-env-93b0"));
    assert!(!format!("{c:?}").contains("pg-from-env-93b0"));
    assert_eq!(crate::redact::text("pg-from-env-93b0"), "***");
    // Two passwords: which one was meant is unclear.
    let e = match with_state(
        "url = \"postgresql://feedmill:pw-two-0a@db.example/feeds\"\npassword_env = \"FEEDMILL_TEST_CFG_PG_PASSWORD\"",
        None,
    ) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("two passwords accepted"),
    };
    assert!(e.contains("holds a password and `[state] password_env` names another"), "{e}");
    // FEEDMILL_STATE_URL with a password replaces the file's URL and its password_env both.
    let env_url = "postgresql://feedmill:pw-env-url-5d@db.example/feeds";
    let c = with_state(
        "url = \"postgresql://feedmill@db.example/feeds\"\npassword_env = \"FEEDMILL_TEST_CFG_PG_PASSWORD\"",
        Some(env_url),
    )
    .unwrap();
    assert_eq!(c.state_url.as_ref().unwrap().password(), None);
    assert!(c.warnings[0]
        .message
        .contains("`[state] password_env` is not used: `FEEDMILL_STATE_URL` holds the password"));
    let e = match with_state(
        "url = \"postgresql://db.example/feeds\"\npassword_env = \"FEEDMILL_TEST_CFG_PG_UNSET\"",
        None,
    ) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("unset password accepted"),
    };
    assert!(
        e.contains(
            "error: `[state] password_env`: environment variable `FEEDMILL_TEST_CFG_PG_UNSET` is not set or empty"
        ),
        "{e}"
    );
}

/// A self-signed CA certificate (ECDSA P-256, `CN=feedmill config test CA`), made with openssl.
const TEST_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUbzD98e7/46j1rVmg0HKN4SmPEckwCgYIKoZIzj0EAwIw
IjEgMB4GA1UEAwwXZmVlZG1pbGwgY29uZmlnIHRlc3QgQ0EwIBcNMjYxMjA3MTIz
ODQ0WhgPMjEyNjExMTMxMjM4NDRaMCIxIDAeBgNVBAMMF2ZlZWRtaWxsIGNvbmZp
ZyB0ZXN0IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEbfzhP/38PhVsw6bh
H2ngBTCt7Qt70re/n7SYqTyoWBV3VU1PTvwd0LKdU+l5dvAZwnLA1DWTgUPpRiU/
1bF5HqNTMFEwHQYDVR0OBBYEFC+wACiKL2niF/95GZ9yviyDJeA+MB8GA1UdIwQY
MBaAFC+wACiKL2niF/95GZ9yviyDJeA+MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZI
zj0EAwIDSAAwRQIgGHxZZLF7beXeIP7kMJCjJPGm4sTGSiT21MA4UUUO1VQCIQDZ
otmROKoPqI9ku6zQUow4b5YnYyfqnxIedGpBmJSLFQ==
-----END CERTIFICATE-----
";

#[test]
#[allow(clippy::disallowed_methods)] // test inputs, not outputs
fn a_postgresql_ca_file_is_read_at_config_time_relative_to_the_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), TEST_CA).unwrap();
    std::fs::write(dir.path().join("key.pem"), "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n")
        .unwrap();
    std::fs::write(dir.path().join("broken.pem"), "-----BEGIN CERTIFICATE-----\nnot base64!\n").unwrap();
    std::fs::write(dir.path().join("junk.pem"), "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n")
        .unwrap();
    let with_ca = |file: &str| {
        Config::parse(
            &format!("[state]\nurl = \"postgresql://u:pw-ca-7f@db.example/feeds\"\nca_file = \"{file}\"\n{GOOD}"),
            "feeds.toml",
            dir.path(),
        )
    };
    let c = with_ca("ca.pem").unwrap();
    let url = c.state_url.as_ref().unwrap();
    assert_eq!(url.ca_file(), Some(dir.path().join("ca.pem").as_path()));
    assert_eq!(url.ca_certificates().map(<[_]>::len), Some(1));

    for (file, why) in [
        ("missing.pem", "cannot be read"),
        ("key.pem", "holds no certificate"),
        ("broken.pem", "is not a PEM file of certificates"),
        ("junk.pem", "certificate 1 is not usable as a CA"),
    ] {
        let e = match with_ca(file) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{file} accepted"),
        };
        let named = format!("error: `[state] ca_file` {}: {why}", dir.path().join(file).display());
        assert!(e.contains(&named), "{e}");
        assert!(e.contains("feeds.toml:3:11"), "the line is shown: {e}");
        assert!(!e.contains("pw-ca-7f"), "{e}");
    }

    // Without a PostgreSQL state it has nothing to do.
    let c = Config::parse(&format!("[state]\nca_file = \"missing.pem\"\n{GOOD}"), "feeds.toml", dir.path()).unwrap();
    assert!(c.warnings[0].message.contains("`[state] ca_file` is not used without `[state] url`"));
}
