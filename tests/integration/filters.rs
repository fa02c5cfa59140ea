//! Trust and control: keep and block filters, `status --json` and `explain --json`, `parse --source`,
//! `discover` on a feed.

use crate::util::{fixture, Project};

fn item(guid: &str, link: &str, title: &str) -> String {
    format!(
        "<item><guid isPermaLink=\"false\">{guid}</guid><link>{link}</link><title>{title}</title>\
         <description>{title}: мәтін, толығырақ сайтта.</description><pubDate>Sat, 23 Nov 2024 10:00:00 +0500</pubDate></item>"
    )
}

fn feed() -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>Abai</title><link>https://abai.kz/</link>{}{}{}</channel></rss>",
        item("ad-1", "https://abai.kz/ad/1", "Жарнама: жаңа көлік"),
        item("post-2", "https://abai.kz/post/2", "Байбек айтысты қолдады"),
        item("post-3", "https://abai.kz/post/3", "Ауа райы: жаңбыр"),
    )
}

const CONFIG: &str = "[[filters.block]]\ntitle = [\"Жарнама*\", \"Реклама*\"]\n\n\
                      [[sources]]\nname = \"abai\"\nurl = \"abai.xml\"\n\n\
                      [[sources.filters.keep]]\ntitle = [\"Байбек*\", \"Жарнама*\"]\n";

#[test]
fn filters_drop_entries_count_them_and_explain_says_which_rule() {
    let p = Project::new(CONFIG);
    p.write("abai.xml", feed());
    let run = p.feedmill(&["run", "--summary", "json"]);
    run.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!((v["sources"][0]["filtered"].as_u64(), v["sources"][0]["new"].as_u64()), (Some(2), Some(1)), "{v:#}");
    assert_eq!(p.titles("all"), ["Байбек айтысты қолдады"]);
    let header = run.stderr.lines().next().unwrap_or_default();
    assert!(header.contains("  dups  filtered  "), "the run table counts them: {}", run.stderr);

    // status, as a table and as JSON.
    let status = p.feedmill(&["status"]);
    status.assert_code(0);
    assert!(status.stdout.lines().next().unwrap_or_default().contains("filtered"), "{}", status.stdout);
    let status = p.feedmill(&["status", "--json"]);
    status.assert_code(0);
    let s: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let row = &s["sources"][0];
    assert_eq!(
        (row["name"].as_str(), row["entries"].as_u64(), row["filtered"].as_u64()),
        (Some("abai"), Some(1), Some(2))
    );
    assert_eq!(row["failures"], 0);
    assert!(row["last_success"].is_string() && row["dead_since"].is_null(), "{row}");

    // explain on a dropped entry: by its link with tracking parameters, and by the source's guid.
    for query in ["https://www.abai.kz/ad/1?utm_source=tg", "ad-1"] {
        let explain = p.feedmill(&["explain", query]);
        explain.assert_code(0);
        assert_eq!(
            explain.stdout,
            "filtered out: Жарнама: жаңа көлік\n  from abai (https://abai.kz/ad/1): dropped by filters.block[0] (title matched \"Жарнама*\")\n",
            "{query}"
        );
    }
    let explain = p.feedmill(&["explain", "--json", "https://abai.kz/post/3"]);
    explain.assert_code(0);
    let e: serde_json::Value = serde_json::from_str(&explain.stdout).unwrap();
    assert_eq!(e["filtered"][0]["reason"], "sources[0].filters.keep (matched none of its 1 rule)");
    assert_eq!(e["stories"], serde_json::json!([]));

    // explain on a kept entry by its raw guid: the story, as JSON.
    let explain = p.feedmill(&["explain", "--json", "post-2"]);
    explain.assert_code(0);
    let e: serde_json::Value = serde_json::from_str(&explain.stdout).unwrap();
    let story = &e["stories"][0];
    assert_eq!((story["mode"].as_str(), story["title"].as_str()), (Some("near"), Some("Байбек айтысты қолдады")));
    assert_eq!(story["feeds"], serde_json::json!(["all"]));
    assert_eq!(story["url"], "https://abai.kz/post/2");
    assert_eq!(e["filtered"], serde_json::json!([]));
    // …and by its link in another spelling: scheme, `www.` and tracking parameters do not matter.
    let explain = p.feedmill(&["explain", "http://www.abai.kz/post/2?utm_source=tg"]);
    explain.assert_code(0);
    assert!(explain.stdout.contains("Байбек айтысты қолдады\n  published as "), "{}", explain.stdout);
    let missing = p.feedmill(&["explain", "--json", "https://abai.kz/nothing"]);
    missing.assert_code(2);
    assert!(missing.stderr.contains("no stored entry has the id, link or guid"), "{}", missing.stderr);
}

#[test]
fn parse_source_shows_what_a_configured_source_yields_without_the_state() {
    let p = Project::new(CONFIG);
    p.write("abai.xml", feed());
    let run = p.feedmill(&["parse", "--source", "abai"]);
    run.assert_code(0);
    assert!(run.stdout.starts_with("source:   abai\nformat:   rss 2.0\n"), "{}", run.stdout);
    assert!(run.stdout.contains("entries:  1 (3 read, 0 duplicates, 2 filtered)"), "{}", run.stdout);
    assert!(
        run.stdout.contains("filtered: Ауа райы: жаңбыр (https://abai.kz/post/3): dropped by sources[0].filters.keep"),
        "{}",
        run.stdout
    );
    assert!(!p.path(".feedmill").exists(), "parse --source neither reads nor writes the state");
    let json = p.feedmill(&["parse", "--source", "abai", "--json"]);
    json.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["entries"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["filtered"].as_array().map(Vec::len), Some(2));
    let unknown = p.feedmill(&["parse", "--source", "abia"]);
    unknown.assert_code(2);
    assert!(unknown.stderr.contains("no source is named `abia` in the config (sources: abai)"), "{}", unknown.stderr);
}

#[test]
fn parse_source_applies_an_html_sources_selectors() {
    let p = Project::new(
        "[[sources]]\nname = \"site\"\nurl = \"site/index.html\"\nkind = \"html\"\n\n\
         [sources.html]\nitem = \".news-list .news-item\"\ntitle = \"h3.news-title\"\nlink = \"h3.news-title a@href\"\n",
    );
    p.write("site/index.html", fixture("sites/abai/index.html"));
    let run = p.feedmill(&["parse", "--source", "site"]);
    run.assert_code(0);
    assert!(run.stdout.contains("format:   html"), "{}", run.stdout);
    assert!(run.stdout.contains("Бауыржан Байбек"), "{}", run.stdout);
    assert!(!run.stdout.contains("ids not trusted"), "scraped items have no ids, normally: {}", run.stdout);
    // The same in a run: no ids is not a warning for an html source.
    let run = p.feedmill(&["run", "--summary", "json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["sources"][0]["status"], "ok", "{v:#}");
    assert_eq!(v["sources"][0]["warnings"], serde_json::json!([]), "{v:#}");
}

#[test]
fn discover_on_a_feed_names_its_format_and_prints_its_source_block() {
    let p = Project::new("");
    p.write("abai.xml", feed());
    let run = p.feedmill(&["discover", "abai.xml"]);
    run.assert_code(0);
    assert!(run.stdout.contains(" is a feed (rss 2.0, 3 entries). Add it as a source:"), "{}", run.stdout);
    assert!(run.stdout.contains("[[sources]]\nname = "), "{}", run.stdout);
    let page = p.feedmill(&["discover", "site.html"]);
    assert_eq!(page.code, 2, "no such file: {}", page.stderr);
    p.write("site.html", fixture("sites/abai/index.html"));
    let page = p.feedmill(&["discover", "site.html"]);
    page.assert_code(0);
    assert!(
        page.stdout.contains("`feedmill parse --source "),
        "the advice names a command that works: {}",
        page.stdout
    );
}
