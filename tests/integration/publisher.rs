//! Feeds for publishers (issue #22): a `kind = "folder"` source turns a folder of Markdown and HTML
//! articles into feeds, and `feedmill init` writes a starter config that `check` accepts.

use std::fs;
use std::path::Path;

use crate::util::{config, Project};

const FOLDER_SOURCE: &str = "[[sources]]\nname = \"example-kz\"\nurl = \"articles/\"\nkind = \"folder\"\n\
                             url_template = \"https://example.kz/news/{slug}/\"\ntimezone = \"Asia/Almaty\"\n\
                             categories = [\"news\"]\n";

/// A project whose `articles/` is a copy of `tests/fixtures/folder/`, so the test can edit it.
fn publisher() -> Project {
    let p = Project::new(&config(FOLDER_SOURCE));
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/folder"), &p.path("articles"));
    p
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for item in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            copy_dir(&item.path(), &target);
        } else {
            fs::copy(item.path(), target).unwrap();
        }
    }
}

/// The JSON Feed item whose `url` is `url`.
fn item(p: &Project, url: &str) -> serde_json::Value {
    let all = p.json("all/feed.json");
    all["items"].as_array().unwrap().iter().find(|i| i["url"] == url).cloned().unwrap_or_else(|| panic!("no {url}"))
}

const OUTPUTS: [&str; 8] = [
    "all/rss.xml",
    "all/atom.xml",
    "all/feed.json",
    "news/rss.xml",
    "news/atom.xml",
    "news/feed.json",
    "index.html",
    "sources.opml",
];

#[test]
fn a_folder_of_articles_becomes_valid_stable_feeds() {
    let p = publisher();
    let run = p.run();
    run.assert_code(0);
    // Drafts stay out; the broken, undated and non-UTF-8 files are named (with their line), the others publish.
    assert_eq!(
        p.titles("all"),
        [
            "Солтүстік Қазақстанда егін жинау аяқталды",
            "В Москве открыли новую линию метро",
            "Астанада «Болашақ энергиясы» көрмесі ашылды",
            "Алматыда алғашқы қар жауды",
        ]
    );
    assert_eq!(p.titles("news").len(), 4);
    for warning in ["about.md: no date", "broken.md:4: invalid YAML front matter", "old-cp1251.md:2: not UTF-8 text"] {
        assert!(run.stderr.contains(warning), "{warning}: {}", run.stderr);
    }
    assert!(!run.stderr.contains("draft.md"), "{}", run.stderr);
    assert!(run.stderr.lines().any(|l| l.starts_with("example-kz") && l.ends_with("folder")), "{}", run.stderr);

    // Links from the template; dates from front matter (in the source's zone) or the file name.
    let ekspo = item(&p, "https://example.kz/news/astana-ekspo/");
    assert_eq!(ekspo["date_published"], "2024-11-20T05:00:00Z");
    assert_eq!(ekspo["authors"][0]["name"], "Айгүл Сәрсенова");
    assert_eq!(ekspo["tags"], serde_json::json!(["Астана", "энергетика"]));
    assert_eq!(ekspo["image"], "https://example.kz/news/astana-ekspo/img/ekspo.jpg");
    let html = ekspo["content_html"].as_str().unwrap();
    // Markdown tables and footnotes render; relative images and links resolve against the entry's URL.
    assert!(html.contains("<table>") && html.contains("<td>Ашылу салтанаты</td>"), "{html}");
    assert!(html.contains("<sup>1</sup>"), "{html}");
    assert!(html.contains(r#"src="https://example.kz/news/astana-ekspo/img/pavilion.jpg""#), "{html}");
    assert!(html.contains(r#"href="https://example.kz/news/programma/""#), "{html}");
    let metro = item(&p, "https://example.kz/news/metro-novaya-liniya/");
    assert_eq!(
        (metro["id"].as_str(), metro["date_published"].as_str()),
        (Some("urn:example-kz:ru:metro"), Some("2024-11-21T04:30:00Z"))
    );
    assert_eq!(item(&p, "https://example.kz/news/kuzgi-egin/")["date_published"], "2024-11-21T19:00:00Z");
    let habar = item(&p, "https://example.kz/news/habar/");
    assert!(habar["content_html"].as_str().unwrap().contains(r#"src="https://example.kz/news/habar/snow.jpg""#));

    // Every feed reads back as what it is, with every entry.
    for (file, format) in [("all/rss.xml", "rss 2.0"), ("all/atom.xml", "atom 1.0"), ("all/feed.json", "json-feed 1.1")]
    {
        let parsed = p.feedmill(&["parse", p.path("output").join(file).to_str().unwrap()]);
        parsed.assert_code(0);
        assert!(parsed.stdout.contains(&format!("format:   {format}")), "{file}: {}", parsed.stdout);
        assert!(parsed.stdout.contains("entries:  4 (4 read"), "{file}: {}", parsed.stdout);
        assert!(!parsed.stdout.contains("warning"), "{file}: {}", parsed.stdout);
    }

    // A second run over the same folder reads nothing and changes no byte.
    let before: Vec<String> = OUTPUTS.iter().map(|f| p.output(f)).collect();
    let again = p.run();
    again.assert_code(0);
    assert!(again.stderr.contains("unchanged"), "{}", again.stderr);
    let after: Vec<String> = OUTPUTS.iter().map(|f| p.output(f)).collect();
    assert!(before == after, "outputs changed on a run over the same folder");
}

#[test]
fn an_edited_article_keeps_its_id_and_a_new_one_appears() {
    let p = publisher();
    p.run().assert_code(0);
    let ekspo = item(&p, "https://example.kz/news/astana-ekspo/");
    let metro = item(&p, "https://example.kz/news/metro-novaya-liniya/");

    let path = p.path("articles/2024-11-20-astana-ekspo.md");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, text.replace("көрмесі ашылды", "көрмесі басталды").replace("300-ден", "350-ден")).unwrap();
    let path = p.path("articles/moskva-metro.md");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, text.replace("новую линию метро", "Большую кольцевую линию")).unwrap();
    p.write(
        "articles/2024-11-23-zhana-mektep.md",
        "+++\ntitle = \"Шымкентте жаңа мектеп ашылды\"\n+++\nМектеп 1200 оқушыға арналған.\n",
    );
    let run = p.run();
    run.assert_code(0);
    let row = run.stderr.lines().find(|l| l.starts_with("example-kz")).unwrap();
    assert_eq!(row.split_whitespace().nth(4), Some("1"), "one new entry: {row}");

    let edited = item(&p, "https://example.kz/news/astana-ekspo/");
    assert_eq!(edited["id"], ekspo["id"], "an edited file keeps its entry's id");
    assert_eq!(edited["title"], "Астанада «Болашақ энергиясы» көрмесі басталды");
    assert!(edited["content_html"].as_str().unwrap().contains("350-ден"));
    let edited = item(&p, "https://example.kz/news/metro-novaya-liniya/");
    assert_eq!(
        (&edited["id"], edited["title"].as_str()),
        (&metro["id"], Some("В Москве открыли Большую кольцевую линию"))
    );
    assert_eq!(p.titles("all").len(), 5);
    assert_eq!(p.titles("all")[0], "Шымкентте жаңа мектеп ашылды");
}

#[test]
fn init_writes_a_config_that_check_accepts_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let p = Project { dir };
    let init = p.feedmill(&["init"]);
    init.assert_code(0);
    let written = fs::read_to_string(p.path("feeds.toml")).unwrap();
    for kind in ["kind = \"html\"", "kind = \"sitemap\"", "kind = \"folder\"", "[categories.", "[output]"] {
        assert!(written.contains(kind), "starter lacks {kind}");
    }
    let check = p.feedmill(&["check"]);
    check.assert_code(0);
    assert!(check.stdout.contains("ok — 4 sources, 1 category"), "{}", check.stdout);

    fs::write(p.path("feeds.toml"), "# my own config\n").unwrap();
    let again = p.feedmill(&["init"]);
    again.assert_code(2);
    assert!(again.stderr.contains("feeds.toml already exists"), "{}", again.stderr);
    assert_eq!(fs::read_to_string(p.path("feeds.toml")).unwrap(), "# my own config\n");
}

#[test]
fn a_missing_folder_fails_its_source_naming_the_folder() {
    let p = Project::new(&config(&FOLDER_SOURCE.replace("articles/", "no-such-folder/")));
    let run = p.run();
    run.assert_code(1);
    assert!(run.stderr.contains("no-such-folder") && run.stderr.contains("cannot read"), "{}", run.stderr);
}

#[test]
fn front_matter_dates_are_read_in_the_sources_locale() {
    // parse keeps a folder article's date as written; the check that refuses an unreadable one and the
    // reading itself both go through normalize, in the source's locale.
    let source = "[[sources]]\nname = \"paris\"\nurl = \"articles/\"\nkind = \"folder\"\nlocale = \"fr\"\n\
                  url_template = \"https://example.fr/{slug}/\"\ntimezone = \"Europe/Paris\"\n";
    let p = Project::new(&config(source));
    p.write("articles/vendanges.md", "---\ntitle: Les vendanges\ndate: 22 novembre 2024 10:00\n---\nTexte.\n");
    p.write("articles/jamais.md", "---\ntitle: Jamais\ndate: un jour peut-être\n---\nTexte.\n");
    let run = p.run();
    run.assert_code(0);
    assert_eq!(p.titles("all"), ["Les vendanges"]);
    assert_eq!(item(&p, "https://example.fr/vendanges/")["date_published"], "2024-11-22T09:00:00Z");
    assert!(run.stderr.contains("jamais.md: `date` \"un jour peut-être\" in its front matter"), "{}", run.stderr);
}
