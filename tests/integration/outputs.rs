//! The output folder: layout, categories, cross-source dedup, stability, atomic and minimal rewrites.

use std::fs;

use crate::test_server::{Reply, TestServer};
use crate::util::{config, source, Project};

fn item(title: &str, link: &str, guid: &str, date: &str, body: &str) -> String {
    format!("<item><title>{title}</title><link>{link}</link><guid isPermaLink=\"false\">{guid}</guid><pubDate>{date}</pubDate><description>{body}</description></item>")
}

fn rss(title: &str, items: &[String]) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>{title}</title><link>https://{title}.example/</link>{}</channel></rss>", items.concat())
}

fn two_sites(server: &TestServer) -> String {
    let shared_body = "Бауыржан Байбек Қызылорда облысына барды, партияның облыстық активімен кездесті.";
    server.route(
        "/abai",
        vec![Reply::ok_as(
            "application/rss+xml",
            rss(
                "abai",
                &[
                    item(
                        "Байбек айтысты қолға алады",
                        "https://abai.kz/post/95211?utm_source=rss",
                        "abai-95211",
                        "Thu, 11 Jul 2019 12:20:00 +0600",
                        shared_body,
                    ),
                    item(
                        "Абай оқулары",
                        "https://abai.kz/post/95300",
                        "abai-95300",
                        "Fri, 12 Jul 2019 09:00:00 +0600",
                        "Абай туралы жаңа кітап.",
                    ),
                ],
            ),
        )],
    );
    server.route(
        "/mirror",
        vec![Reply::ok_as(
            "application/rss+xml",
            rss(
                "mirror",
                &[
                    item(
                        "Байбек айтысты қолға алады",
                        "http://www.abai.kz/post/95211",
                        "m-1",
                        "Thu, 11 Jul 2019 12:25:00 +0600",
                        shared_body,
                    ),
                    item(
                        "Мәскеу жаңалықтары",
                        "https://mirror.example/ru/1",
                        "m-2",
                        "Wed, 10 Jul 2019 10:00:00 +0300",
                        "Басқа жаңалық.",
                    ),
                ],
            ),
        )],
    );
    config(&format!(
        "[categories.kz]\ntitle = \"Kazakh news\"\ndescription = \"News from Kazakhstan\"\n\n[categories.mirror]\ntitle = \"Mirror\"\n\n\
         [[sources]]\nname = \"abai\"\nurl = \"{}\"\ncategories = [\"kz\"]\ntimezone = \"Asia/Almaty\"\n\n\
         [[sources]]\nname = \"mirror\"\nurl = \"{}\"\ncategories = [\"mirror\"]\n",
        server.url("/abai"),
        server.url("/mirror")
    ))
}

#[test]
fn layout_categories_and_cross_source_dedup() {
    let server = TestServer::start();
    let p = Project::new(&two_sites(&server));
    let run = p.run();
    run.assert_code(0);
    for slug in ["all", "kz", "mirror"] {
        for f in ["rss.xml", "atom.xml", "feed.json"] {
            assert!(p.path("output").join(slug).join(f).is_file(), "{slug}/{f} missing");
        }
    }
    assert!(p.path("output/index.html").is_file());
    assert!(p.path("output/sources.opml").is_file());

    // Newest first; the shared story once, kept from abai (earlier), with the mirror in via.
    assert_eq!(p.titles("all"), ["Абай оқулары", "Байбек айтысты қолға алады", "Мәскеу жаңалықтары"]);
    let all = p.json("all/feed.json");
    let shared = &all["items"][1];
    assert_eq!(shared["_feedmill"]["source"], "abai");
    assert_eq!(shared["_feedmill"]["via"][0]["source"], "mirror");
    assert_eq!(shared["_feedmill"]["via"][0]["url"], "http://www.abai.kz/post/95211");
    assert!(p.output("all/atom.xml").contains(r#"rel="via""#));
    // The merged story appears once in each category of the sources that carried it.
    assert_eq!(p.titles("kz"), ["Абай оқулары", "Байбек айтысты қолға алады"]);
    assert_eq!(p.titles("mirror"), ["Байбек айтысты қолға алады", "Мәскеу жаңалықтары"]);
    let mirror_row = run.stderr.lines().find(|l| l.starts_with("mirror ")).unwrap();
    assert!(mirror_row.split_whitespace().nth(6) == Some("1"), "one duplicate counted for mirror: {mirror_row}");

    // Self links and titles come from the config.
    let atom = p.output("kz/atom.xml");
    assert!(
        atom.contains("<title type=\"text\">Kazakh news</title>") || atom.contains("<title>Kazakh news</title>"),
        "{atom}"
    );
    assert!(atom.contains("https://feeds.example.org/kz/atom.xml"));
    assert!(
        p.output("kz/rss.xml").contains(
            r#"<atom:link href="https://feeds.example.org/kz/rss.xml" rel="self" type="application/rss+xml"/>"#
        ) || p.output("kz/rss.xml").contains("https://feeds.example.org/kz/rss.xml")
    );

    let index = p.output("index.html");
    for needle in ["Kazakh news", "kz/rss.xml", "kz/atom.xml", "kz/feed.json", "mirror/feed.json", "abai"] {
        assert!(index.contains(needle), "index.html lacks {needle}");
    }
    assert!(!index.contains("<script"));
    let opml = p.output("sources.opml");
    assert!(opml.contains("<opml version=\"2.0\" xmlns:feedmill=\"https://github.com/feedmill/feedmill#opml\">"));
    assert!(opml.contains(&server.url("/abai")));
}

#[test]
fn identical_runs_give_identical_bytes_and_rewrite_nothing() {
    let server = TestServer::start();
    let p = Project::new(&two_sites(&server));
    p.run().assert_code(0);
    let files = ["all/rss.xml", "all/atom.xml", "all/feed.json", "kz/rss.xml", "index.html", "sources.opml"];
    let before: Vec<_> = files
        .iter()
        .map(|f| (p.output(f), fs::metadata(p.path("output").join(f)).unwrap().modified().unwrap()))
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let run = p.run();
    run.assert_code(0);
    assert!(run.stderr.contains("outputs up to date"), "nothing changed, nothing rendered: {}", run.stderr);
    // Force a full render: every file comes out byte-identical and is left untouched but the one removed.
    fs::remove_file(p.path("output/index.html")).unwrap();
    let run = p.run();
    run.assert_code(0);
    assert!(run.stderr.contains("1 file written, 10 unchanged"), "{}", run.stderr);
    for (f, (text, mtime)) in files.iter().zip(before).filter(|(f, _)| **f != "index.html") {
        assert_eq!(p.output(f), text, "{f} changed");
        assert_eq!(fs::metadata(p.path("output").join(f)).unwrap().modified().unwrap(), mtime, "{f} was rewritten");
    }
    // No temp files left behind.
    let leftovers: Vec<_> = fs::read_dir(p.path("output/all"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| !["rss.xml", "atom.xml", "feed.json"].contains(&n.to_str().unwrap()))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn max_items_caps_every_feed() {
    let server = TestServer::start();
    let items: Vec<String> = (1..=30)
        .map(|i| {
            item(
                &format!("Жаңалық нөмір {i}"),
                &format!("https://abai.kz/post/{i}"),
                &format!("g{i}"),
                &format!("Thu, {:02} Jul 2019 12:00:00 +0600", i.min(28)),
                "мәтін",
            )
        })
        .collect();
    server.route("/many", vec![Reply::ok_as("application/rss+xml", rss("abai", &items))]);
    let cfg = config(&format!("[[sources]]\nname = \"abai\"\nurl = \"{}\"\n", server.url("/many")))
        .replace("[output]\n", "[output]\nmax_items = 5\n");
    let p = Project::new(&cfg);
    p.run().assert_code(0);
    let titles = p.titles("all");
    assert_eq!(titles.len(), 5);
    assert_eq!(titles[0], "Жаңалық нөмір 30", "{titles:?}");
    assert_eq!(p.output("all/rss.xml").matches("<item>").count(), 5);
    assert_eq!(p.output("all/atom.xml").matches("<entry").count(), 5);
}

#[test]
fn when_every_source_fails_published_files_are_left_alone() {
    let server = TestServer::start();
    let p = Project::new(&two_sites(&server));
    p.run().assert_code(0);
    let before = p.output("all/feed.json");
    server.route("/abai", vec![Reply::status(500)]);
    server.route("/mirror", vec![Reply::status(500)]);
    let run = p.feedmill(&["run"]);
    run.assert_code(1);
    assert_eq!(p.output("all/feed.json"), before);
}

#[test]
fn rule_categories_gather_entries_across_sources_by_language() {
    let server = TestServer::start();
    let config = two_sites(&server).replace(
        "[categories.mirror]",
        "[categories.kk-lang]\ntitle = \"Қазақша\"\n[[categories.kk-lang.rules]]\ninclude = { language = \"kk\" }\nexclude = { title = [\"Мәскеу*\"] }\n\n[categories.mirror]",
    );
    let p = Project::new(&config);
    p.run().assert_code(0);
    // Kazakh entries from both sources, less the excluded title.
    assert_eq!(p.titles("kk-lang"), ["Абай оқулары", "Байбек айтысты қолға алады"]);
}

#[test]
fn the_same_story_on_two_sites_with_other_links_is_shown_once() {
    let server = TestServer::start();
    let body = "«Nur Otan» партиясы Төрағасының Бірінші орынбасары Бауыржан Байбек жұмыс сапарымен Қызылорда облысына барды. Сапар барысында ол партияның облыстық активімен кездесті.";
    server.route(
        "/a",
        [Reply::ok_as(
            "application/rss+xml",
            rss(
                "abai",
                &[item(
                    "Бауыржан Байбек «Nur Otan»-ның айтысты қайта қолға алатынын айтты",
                    "https://abai.kz/post/95211",
                    "a1",
                    "Thu, 11 Jul 2019 12:20:00 +0600",
                    body,
                )],
            ),
        )],
    );
    server.route(
        "/b",
        [Reply::ok_as(
            "application/rss+xml",
            rss(
                "qazaq",
                &[item(
                    "Байбек: Nur Otan айтысты қайта қолға алады",
                    "https://qazaq.example.kz/news/baibek",
                    "b1",
                    "Thu, 11 Jul 2019 15:00:00 +0600",
                    body,
                )],
            ),
        )],
    );
    let sources = format!(
        "[categories.kz]\n\n[categories.press-review]\ndedup = \"off\"\n\n\
         [[sources]]\nname = \"abai\"\nurl = \"{}\"\ncategories = [\"kz\", \"press-review\"]\n\n\
         [[sources]]\nname = \"qazaq\"\nurl = \"{}\"\ncategories = [\"kz\", \"press-review\"]\n",
        server.url("/a"),
        server.url("/b")
    );
    let p = Project::new(&config(&sources));
    p.run().assert_code(0);
    let json = p.json("all/feed.json");
    assert_eq!(json["items"].as_array().unwrap().len(), 1, "{json:#}");
    assert_eq!(json["items"][0]["_feedmill"]["via"][0]["url"], "https://qazaq.example.kz/news/baibek");
    assert_eq!(p.titles("kz").len(), 1, "kz merges like `all`");
    assert_eq!(p.titles("press-review").len(), 2, "a category with dedup = \"off\" shows every copy");

    let explained = p.feedmill(&["explain", "https://qazaq.example.kz/news/baibek"]);
    explained.assert_code(0);
    insta::assert_snapshot!("explain_near_duplicate", explained.stdout);
    p.feedmill(&["explain", "https://nowhere.example/"]).assert_code(2);

    let status = p.feedmill(&["status"]);
    status.assert_code(0);
    let duplicates = |name: &str| -> String {
        let row = status.stdout.lines().find(|l| l.starts_with(name)).unwrap_or_default();
        // `… entries duplicates filtered last-error`, and there is no error here: `-`.
        row.split_whitespace().rev().nth(2).unwrap_or_default().to_owned()
    };
    assert_eq!((duplicates("abai").as_str(), duplicates("qazaq").as_str()), ("0", "1"), "{}", status.stdout);
    let exact = Project::new(&format!("[dedup]\nmode = \"exact\"\n\n{}", config(&sources)));
    exact.run().assert_code(0);
    assert_eq!(exact.titles("all").len(), 2);
}

/// An agency's story under its own headline on three sites, each with its own lede: one story, also
/// when the third copy arrives in a later run (found through the headline's band tag in the store), and
/// `explain` names the layer. A rubric headline shared by two sites stays two entries.
#[test]
fn the_same_headline_on_three_sites_is_one_story() {
    let server = TestServer::start();
    let title = "Токаев подписал закон о республиканском бюджете на 2025–2027 годы";
    let copy = |site: &str, n: u32, lede: &str| {
        item(
            title,
            &format!("https://{site}.example/news/{n}"),
            &format!("{site}-{n}"),
            "Fri, 22 Nov 2024 15:05:00 +0500",
            lede,
        )
    };
    let rates = |site: &str, lede: &str| {
        item(
            "Курс валют на 22 ноября",
            &format!("https://{site}.example/rates"),
            &format!("{site}-rates"),
            "Fri, 22 Nov 2024 09:00:00 +0500",
            lede,
        )
    };
    let tengri = rss(
        "tengri",
        &[
            copy("tengri", 1, "Глава государства Касым-Жомарт Токаев подписал закон о республиканском бюджете, сообщает пресс-служба Акорды."),
            rates("tengri", "Национальный банк установил официальный курс доллара на пятницу на уровне 496,12 тенге."),
        ],
    );
    let zakon = rss(
        "zakon",
        &[
            copy(
                "zakon",
                2,
                "Президент утвердил главный финансовый документ страны на ближайшую трехлетку, сообщили в Акорде.",
            ),
            rates("zakon", "В обменных пунктах Алматы утром доллар покупают по 494 тенге, а продают по 499 тенге."),
        ],
    );
    let kursiv_later = rss(
        "kursiv",
        &[copy("kursiv", 3, "В Акорде сообщили о подписании документа, которым определены доходы и расходы государства на трехлетний период.")],
    );
    server.route("/tengri", [Reply::ok_as("application/rss+xml", tengri)]);
    server.route("/zakon", [Reply::ok_as("application/rss+xml", zakon)]);
    server.route(
        "/kursiv",
        [Reply::ok_as("application/rss+xml", rss("kursiv", &[])), Reply::ok_as("application/rss+xml", kursiv_later)],
    );
    let sources = source("tengri", &server.url("/tengri"))
        + &source("zakon", &server.url("/zakon"))
        + &source("kursiv", &server.url("/kursiv"));
    let p = Project::new(&config(&sources));
    p.run().assert_code(0);
    let count = |titles: &[String], t: &str| titles.iter().filter(|x| x.as_str() == t).count();
    let titles = p.titles("all");
    assert_eq!(count(&titles, title), 1, "{titles:?}");
    assert_eq!(count(&titles, "Курс валют на 22 ноября"), 2, "a rubric headline is no story: {titles:?}");

    p.run().assert_code(0);
    let json = p.json("all/feed.json");
    let story: Vec<_> = json["items"].as_array().unwrap().iter().filter(|i| i["title"] == title).collect();
    assert_eq!(story.len(), 1, "{json:#}");
    let via: Vec<_> = story[0]["_feedmill"]["via"].as_array().unwrap().iter().map(|v| v["url"].clone()).collect();
    assert_eq!(via, ["https://zakon.example/news/2", "https://kursiv.example/news/3"], "{json:#}");

    let explained = p.feedmill(&["explain", "https://kursiv.example/news/3"]);
    explained.assert_code(0);
    assert!(explained.stdout.contains("by same headline (lede containment"), "{}", explained.stdout);
}

#[test]
fn index_shows_a_source_that_starts_failing() {
    let server = TestServer::start();
    let feed = rss(
        "abai",
        &[item("Абай оқулары", "https://abai.kz/post/1", "a-1", "Fri, 12 Jul 2019 09:00:00 +0600", "Кітап.")],
    );
    server.route("/abai", [Reply::ok_as("application/rss+xml", feed), Reply::status(404)]);
    let p = Project::new(&config(&source("abai", &server.url("/abai"))));
    p.run().assert_code(0);
    let index = p.output("index.html");
    assert!(index.contains("<span class=\"badge ok\">OK</span>"), "{index}");
    assert!(index.contains("12 July 2019, 03:00</time>"), "the entry, dated in UTC: {index}");

    // The entries are unchanged, but the page shows health: it is rebuilt, and it alone changes.
    let run = p.run();
    run.assert_code(1);
    assert!(run.stderr.contains("1 file written"), "{}", run.stderr);
    let index = p.output("index.html");
    assert!(index.contains("<span class=\"badge bad\">Failing</span>"), "{index}");
    assert!(index.contains("404"), "the error is shown: {index}");
    assert!(index.contains("Абай оқулары"), "entries stay listed");
}
