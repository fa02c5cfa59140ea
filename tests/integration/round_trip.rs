//! Every emitted RSS and Atom file parses back through feedmill's own parser to the same entries.

use chrono::{DateTime, Utc};
use url::Url;

use feedmill::{dedup, normalize, pipeline};

use crate::test_server::{Reply, TestServer};
use crate::util::{config, fixture, source, Project};

fn read_back(path: &std::path::Path) -> Vec<feedmill::model::Entry> {
    let bytes = std::fs::read(path).unwrap();
    let doc = Url::from_file_path(path).unwrap();
    let cx = normalize::Context {
        source: "rt",
        doc_url: Some(&doc),
        timezone: chrono_tz::UTC,
        now: DateTime::<Utc>::from_timestamp(1_900_000_000, 0).unwrap(),
        strip_tracking: true,
        locale: None,
    };
    let u = pipeline::understand(&bytes, None, Some(&doc), &cx).unwrap();
    assert!(u.raw.warnings.is_empty(), "{}: our own output needed forgiving: {:?}", path.display(), u.raw.warnings);
    dedup::identify("rt", u.normalized.candidates).entries.into_iter().map(|l| l.entry).collect()
}

#[test]
fn emitted_feeds_parse_back_to_the_same_entries() {
    let server = TestServer::start();
    let names = ["rss20-kk.xml", "atom10-en.xml", "feed11-ru.json", "itunes-podcast.xml", "rdf10-ru.xml"];
    let mut sources = String::new();
    for n in names {
        server.route(&format!("/{n}"), vec![Reply::ok_as("application/octet-stream", fixture(&format!("feeds/{n}")))]);
        sources.push_str(&source(n.split('.').next().unwrap(), &server.url(&format!("/{n}"))));
    }
    let p = Project::new(&config(&sources));
    p.run().assert_code(0);
    let json = p.json("all/feed.json");
    let items = json["items"].as_array().unwrap();
    for file in ["all/rss.xml", "all/atom.xml", "all/feed.json"] {
        let back = read_back(&p.path("output").join(file));
        assert_eq!(back.len(), items.len(), "{file}");
        for (entry, item) in back.iter().zip(items) {
            assert_eq!(entry.id, item["id"].as_str().unwrap(), "{file}: id");
            assert_eq!(Some(entry.title.as_str()), item["title"].as_str(), "{file}: title");
            assert_eq!(entry.url.as_deref(), item["url"].as_str(), "{file}: url");
            assert_eq!(
                entry.content_html.as_deref().or(entry.summary_html.as_deref()).is_some(),
                item.get("content_html").is_some() || item.get("summary").is_some(),
                "{file}: text"
            );
            if let Some(published) = item["date_published"].as_str() {
                assert_eq!(
                    entry
                        .published
                        .or(entry.updated)
                        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                        .as_deref(),
                    Some(published),
                    "{file}: published"
                );
            }
            let names: Vec<_> = entry.authors.iter().filter_map(|a| a.name.clone()).collect();
            let mut expected: Vec<_> = item["authors"]
                .as_array()
                .map(|a| a.iter().filter_map(|x| x["name"].as_str().map(String::from)).collect())
                .unwrap_or_default();
            // RFC 4287 wants an author on every entry: the Atom emitter names the source when there is none.
            if file == "all/atom.xml" && expected.is_empty() {
                expected.push(item["_feedmill"]["source"].as_str().unwrap().to_owned());
            }
            if file != "all/rss.xml" || expected.iter().all(|n| !n.is_empty()) {
                assert_eq!(names, expected, "{file}: authors of {}", entry.title);
            }
            let enclosures: Vec<_> = entry.enclosures.iter().map(|e| e.url.as_str()).collect();
            let expected: Vec<_> = item["attachments"]
                .as_array()
                .map(|a| a.iter().filter_map(|x| x["url"].as_str()).collect())
                .unwrap_or_default();
            assert_eq!(enclosures, expected, "{file}: enclosures");
        }
    }
}
