use std::path::Path;

use super::opml::read;
use super::*;

fn run(config: &str, opml: &str) -> Imported {
    import(config, "feeds.toml", Path::new("/srv/feeds"), &read(opml).unwrap()).unwrap()
}

fn opml(body: &str) -> String {
    format!("<?xml version=\"1.0\"?><opml version=\"2.0\"><head><title>x</title></head><body>{body}</body></opml>")
}

#[test]
fn slugs_are_ascii_and_readable() {
    assert_eq!(slugify("Abai.kz — әдеби портал"), "abai-kz-adebi-portal");
    assert_eq!(slugify("Жаңалықтар"), "zhanalyktar");
    assert_eq!(slugify("Қазақстан, Өскемен, Ұлытау, Үржар, Ғалым, Әлем"), "kazakstan-oskemen-ulytau-urzhar-galym-alem");
    assert_eq!(slugify("Новости Москвы"), "novosti-moskvy");
    assert_eq!(slugify("Jane's  Blog!"), "janes-blog");
    assert_eq!(slugify("🔥"), "fire");
    assert_eq!(slugify("!!!"), "");
    assert_eq!(slugify("  "), "");
    let long = slugify("a very long title that goes on and on about nothing in particular at all");
    assert!(long.len() <= 48 && !long.ends_with('-'), "{long}");
}

#[test]
fn adds_sources_keeping_comments_and_layout() {
    let config = "# My feeds\n[output]\ndir = \"public\"   # served by nginx\n\n# Kazakh sites first\n[[sources]]\nname = \"abai\"\nurl = \"https://abai.kz/rss\"  # the main one\n";
    let list = opml(
        "<outline text=\"Abai again\" xmlUrl=\"http://www.abai.kz/rss?utm_source=opml\"/>\
         <outline text=\"Abai\" xmlUrl=\"https://abai.kz/other\"/>\
         <outline text=\"Tengri News\" xmlUrl=\"https://tengrinews.kz/rss\"/>",
    );
    let out = run(config, &list);
    assert_eq!(
        out.text,
        "# My feeds\n[output]\ndir = \"public\"   # served by nginx\n\n# Kazakh sites first\n[[sources]]\nname = \"abai\"\nurl = \"https://abai.kz/rss\"  # the main one\n\n\
         [[sources]]\nname = \"abai-2\"\nurl = \"https://abai.kz/other\"\n\n\
         [[sources]]\nname = \"tengri-news\"\nurl = \"https://tengrinews.kz/rss\"\n"
    );
    assert_eq!(out.present, vec![("http://www.abai.kz/rss?utm_source=opml".to_owned(), "abai".to_owned())]);
    assert_eq!(out.added.len(), 2);
}

#[test]
fn nested_and_non_ascii_folders_become_declared_categories() {
    let config = "[output]\ntitle = \"Planet\"\n\n[categories.tech]\ntitle = \"Technology\"\n\n[[sources]]\nname = \"lwn\"\nurl = \"https://lwn.net/headlines/rss\"\ncategories = [\"tech\"]\n";
    let list = opml(
        "<outline text=\"Жаңалықтар\">\
           <outline text=\"Abai\" xmlUrl=\"https://abai.kz/rss\"/>\
           <outline text=\"Tengri\" xmlUrl=\"https://tengrinews.kz/rss\"/>\
         </outline>\
         <outline text=\"Technology\"><outline text=\"Rust\">\
           <outline text=\"This Week in Rust\" xmlUrl=\"https://this-week-in-rust.org/rss.xml\"/>\
         </outline></outline>\
         <outline text=\"Technology\"><outline text=\"Tengri\" xmlUrl=\"https://tengrinews.kz/rss\"/></outline>\
         <outline text=\"!!!\"><outline text=\"Hot\" xmlUrl=\"https://hot.example/feed\"/></outline>",
    );
    let out = run(config, &list);
    assert_eq!(
        out.text,
        "[output]\ntitle = \"Planet\"\n\n[categories.tech]\ntitle = \"Technology\"\n\n\
         [categories.zhanalyktar]\ntitle = \"Жаңалықтар\"\n\n\
         [categories.rust]\ntitle = \"Rust\"\n\n\
         [categories.category]\ntitle = \"!!!\"\n\n\
         [[sources]]\nname = \"lwn\"\nurl = \"https://lwn.net/headlines/rss\"\ncategories = [\"tech\"]\n\n\
         [[sources]]\nname = \"abai\"\nurl = \"https://abai.kz/rss\"\ncategories = [\"zhanalyktar\"]\n\n\
         [[sources]]\nname = \"tengri\"\nurl = \"https://tengrinews.kz/rss\"\ncategories = [\"zhanalyktar\", \"tech\"]\n\n\
         [[sources]]\nname = \"this-week-in-rust\"\nurl = \"https://this-week-in-rust.org/rss.xml\"\ncategories = [\"rust\"]\n\n\
         [[sources]]\nname = \"hot\"\nurl = \"https://hot.example/feed\"\ncategories = [\"category\"]\n"
    );
}

#[test]
fn declaring_a_first_category_declares_the_ones_in_use() {
    let config = "[[sources]]\nname = \"a\"\nurl = \"https://a.example/feed\"\ncategories = [\"kz-news\"]\n";
    let out =
        run(config, &opml("<outline text=\"Blogs\"><outline text=\"b\" xmlUrl=\"https://b.example/feed\"/></outline>"));
    assert_eq!(
        out.text,
        "[categories.blogs]\ntitle = \"Blogs\"\n\n[categories.kz-news]\n\n\
         [[sources]]\nname = \"a\"\nurl = \"https://a.example/feed\"\ncategories = [\"kz-news\"]\n\n\
         [[sources]]\nname = \"b\"\nurl = \"https://b.example/feed\"\ncategories = [\"blogs\"]\n"
    );
}

#[test]
fn an_empty_config_gets_sources_and_names_from_hosts() {
    let out = run(
        "",
        &opml("<outline xmlUrl=\"https://www.example.org/feed\"/><outline xmlUrl=\"feed://example.org/other\"/>"),
    );
    assert_eq!(
        out.text,
        "[[sources]]\nname = \"www-example-org\"\nurl = \"https://www.example.org/feed\"\n\n\
         [[sources]]\nname = \"example-org\"\nurl = \"http://example.org/other\"\n"
    );
}

#[test]
fn unusable_urls_are_skipped_and_nothing_new_leaves_the_text_alone() {
    let config = "# only a comment\n[[sources]]\nname = \"a\"\nurl = \"https://a.example/feed\"\n";
    let out = run(config, &opml("<outline text=\"x\" xmlUrl=\"gopher://old.example/\"/><outline text=\"a\" xmlUrl=\"https://a.example/feed\"/>"));
    assert_eq!(out.text, config);
    assert!(out.added.is_empty());
    assert_eq!(out.skipped.len(), 1);
    assert!(out.skipped[0].1.contains("unsupported scheme"), "{:?}", out.skipped);
}

#[test]
fn a_result_that_would_not_validate_is_refused() {
    // The existing config is already broken (an unknown key): the import must not write over it.
    let e = import(
        "[output]\ndirr = \"x\"\n",
        "feeds.toml",
        Path::new("/srv"),
        &read(&opml("<outline text=\"a\" xmlUrl=\"https://a.example/feed\"/>")).unwrap(),
    )
    .unwrap_err();
    assert!(matches!(e, ImportError::Invalid(_)), "{e:?}");
    assert!(e.to_string().contains("unknown key `dirr` in [output]"), "{e}");
    let e = import("[output\n", "feeds.toml", Path::new("/srv"), &[]).unwrap_err();
    assert!(matches!(e, ImportError::Toml { .. }), "{e:?}");
}

#[test]
fn export_then_import_gives_the_same_sources_and_categories() {
    use crate::emit::{opml::render, CategoryRef, SiteDoc, SourceRef};

    let original =
        "[categories.zhanalyqtar]\ntitle = \"Жаңалықтар\"\n\n[categories.kz-news]\ntitle = \"Kazakh news & more\"\n\n\
        [[sources]]\nname = \"abai\"\nurl = \"https://abai.kz/rss\"\ncategories = [\"kz-news\", \"zhanalyqtar\"]\n\n\
        [[sources]]\nname = \"radio\"\nurl = \"feeds/radio.xml\"\ncategories = [\"zhanalyqtar\"]\n\n\
        [[sources]]\nname = \"notes\"\nurl = \"https://notes.example/feed?lang=kk&full=1\"\n";
    let base = Path::new("/srv/feeds");
    let config = Config::parse(original, "feeds.toml", base).unwrap();
    // What `pipeline::output` builds: feeds' own titles where known, which the export writes as `text`.
    let refs = |slug: &str| -> Vec<SourceRef> {
        config
            .sources
            .iter()
            .filter(|s| slug == "all" || s.categories.iter().any(|c| c == slug))
            .map(|s| SourceRef {
                name: s.name.clone(),
                title: (s.name == "abai").then(|| "Abai.kz — әдеби портал".to_owned()),
                feed_url: Some(s.url.clone()),
                site_url: None,
                health: Default::default(),
            })
            .collect()
    };
    let category = |slug: &str, title: &str| CategoryRef {
        slug: slug.into(),
        title: title.into(),
        description: None,
        rss_path: format!("{slug}/rss.xml"),
        atom_path: format!("{slug}/atom.xml"),
        json_path: format!("{slug}/feed.json"),
        urls: None,
        entry_count: 0,
        latest: Vec::new(),
        sources: refs(slug),
    };
    let mut categories = vec![category("all", "Planet")];
    categories.extend(config.categories.iter().map(|c| category(&c.slug, &c.title)));
    let exported = render(&SiteDoc {
        title: "Planet",
        description: None,
        categories: &categories,
        updated: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
        language: None,
        sources: &refs("all"),
    });

    let imported = run("", &exported);
    let back = Config::parse(&imported.text, "feeds.toml", base).unwrap();
    let sources = |c: &Config| {
        let mut v: Vec<_> = c
            .sources
            .iter()
            .map(|s| {
                (s.name.clone(), s.url.clone(), {
                    let mut cats = s.categories.clone();
                    cats.sort();
                    cats
                })
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(sources(&back), sources(&config), "{}", imported.text);
    assert_eq!(back.categories, config.categories, "{}", imported.text);

    // Importing it again adds nothing.
    let again = run(&imported.text, &exported);
    assert!(again.added.is_empty());
    assert_eq!(again.present.len(), 3);
}
