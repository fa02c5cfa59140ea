//! `feedmill import-opml`: another reader's subscriptions into feeds.toml, and feedmill's own export back.

use std::fs;

use crate::util::Project;

const READER_EXPORT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>My subscriptions</title></head>
  <body>
    <outline text="Жаңалықтар" title="Жаңалықтар">
      <outline type="rss" text="Abai" title="Abai" xmlUrl="abai.xml" htmlUrl="https://abai.kz/"/>
      <outline type="rss" text="Abai" title="Abai" xmlUrl="abai-archive.xml"/>
    </outline>
    <outline text="Tech">
      <outline text="Rust">
        <outline type="rss" text="This Week in Rust" xmlUrl="https://this-week-in-rust.org/rss.xml"/>
      </outline>
    </outline>
  </body>
</opml>
"#;

const CONFIG: &str = "# Planet config: keep this comment\n[output]\ntitle = \"Planet\"  # shown in index.html\n\n[[sources]]\nname = \"old\"\nurl = \"old.xml\"\n";

#[test]
fn imports_folders_as_categories_and_keeps_the_file_as_written() {
    let p = Project::new(CONFIG);
    p.write("subs.opml", READER_EXPORT);

    let dry = p.feedmill(&["import-opml", "subs.opml", "--dry-run"]);
    dry.assert_code(0);
    assert_eq!(fs::read_to_string(p.path("feeds.toml")).unwrap(), CONFIG, "a dry run writes nothing");
    assert!(dry.stderr.contains("would add 3 sources and 2 categories"), "{}", dry.stderr);

    let run = p.feedmill(&["import-opml", "subs.opml"]);
    run.assert_code(0);
    let text = fs::read_to_string(p.path("feeds.toml")).unwrap();
    assert_eq!(text, dry.stdout, "the dry run showed what was written");
    assert_eq!(
        text,
        "# Planet config: keep this comment\n[output]\ntitle = \"Planet\"  # shown in index.html\n\n\
         [categories.zhanalyktar]\ntitle = \"Жаңалықтар\"\n\n[categories.rust]\ntitle = \"Rust\"\n\n\
         [[sources]]\nname = \"old\"\nurl = \"old.xml\"\n\n\
         [[sources]]\nname = \"abai\"\nurl = \"abai.xml\"\ncategories = [\"zhanalyktar\"]\n\n\
         [[sources]]\nname = \"abai-2\"\nurl = \"abai-archive.xml\"\ncategories = [\"zhanalyktar\"]\n\n\
         [[sources]]\nname = \"this-week-in-rust\"\nurl = \"https://this-week-in-rust.org/rss.xml\"\ncategories = [\"rust\"]\n"
    );
    p.feedmill(&["check"]).assert_code(0);

    // Again: everything is there already, and the file is not touched.
    let again = p.feedmill(&["import-opml", "subs.opml"]);
    again.assert_code(0);
    assert!(again.stderr.contains("added 0 sources and 0 categories; 3 already there"), "{}", again.stderr);
    assert_eq!(fs::read_to_string(p.path("feeds.toml")).unwrap(), text);
}

#[test]
fn feedmills_own_export_imports_into_an_empty_config_as_the_same_sources() {
    let p = Project::new(
        "[output]\ntitle = \"Planet\"\n\n[categories.kz-news]\ntitle = \"Қазақ жаңалықтары\"\n\n[categories.tech]\n\n\
         [[sources]]\nname = \"abai\"\nurl = \"abai.xml\"\ncategories = [\"kz-news\", \"tech\"]\n\n\
         [[sources]]\nname = \"loose\"\nurl = \"loose.xml\"\n",
    );
    let feed = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Abai.kz — әдеби портал</title><link>https://abai.kz/</link><item><title>x</title><link>https://abai.kz/1</link></item></channel></rss>";
    p.write("abai.xml", feed);
    p.write("loose.xml", feed.replace("abai.kz", "loose.example"));
    p.run().assert_code(0);

    let opml = fs::read_to_string(p.path("output/sources.opml")).unwrap();
    assert!(opml.contains(" feedmill:name=\"abai\"") && opml.contains(" feedmill:category=\"kz-news\""), "{opml}");
    let q = Project::new("");
    fs::copy(p.path("output/sources.opml"), q.path("sources.opml")).unwrap();
    q.feedmill(&["import-opml", "sources.opml"]).assert_code(0);
    let text = fs::read_to_string(q.path("feeds.toml")).unwrap();
    assert_eq!(
        text,
        "[categories.kz-news]\ntitle = \"Қазақ жаңалықтары\"\n\n[categories.tech]\ntitle = \"Tech\"\n\n\
         [[sources]]\nname = \"abai\"\nurl = \"abai.xml\"\ncategories = [\"kz-news\", \"tech\"]\n\n\
         [[sources]]\nname = \"loose\"\nurl = \"loose.xml\"\n"
    );
}

#[test]
fn a_bad_opml_file_is_a_clear_error_and_writes_nothing() {
    let p = Project::new(CONFIG);
    p.write("not.opml", "<rss version=\"2.0\"><channel/></rss>");
    let run = p.feedmill(&["import-opml", "not.opml"]);
    run.assert_code(2);
    assert!(run.stderr.contains("not.opml: no <opml> element"), "{}", run.stderr);
    p.write("empty.opml", "<opml version=\"2.0\"><body><outline text=\"folder\"/></body></opml>");
    let run = p.feedmill(&["import-opml", "empty.opml"]);
    run.assert_code(2);
    assert!(run.stderr.contains("no outline with an xmlUrl"), "{}", run.stderr);
    assert_eq!(fs::read_to_string(p.path("feeds.toml")).unwrap(), CONFIG);
}
