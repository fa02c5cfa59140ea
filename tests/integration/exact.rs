//! Every entry a reader could see, carried exactly (issue #18, the emitting side): no invented dates,
//! a title made from the text where the feed gave none, every enclosure, RSS `<source>` naming the
//! other copy's feed, and links without tracking parameters unless `[output] strip_tracking = false`.

use crate::test_server::{Reply, TestServer};
use crate::util::{config, source, Project};

const PODCAST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Pod</title><link>https://pod.example/</link>
<item><title>Dated</title><link>https://pod.example/dated</link><guid>https://pod.example/dated</guid>
  <pubDate>Thu, 11 Jul 2019 12:20:00 +0000</pubDate><description>A dated one.</description></item>
<item><link>https://pod.example/undated?utm_source=rss&amp;id=7&amp;fbclid=abc#listen</link>
  <guid>https://pod.example/undated?utm_source=rss&amp;id=7&amp;fbclid=abc#listen</guid>
  <description>&lt;p&gt;Парламент жаңа заңды бірауыздан қабылдады. Ертең күшіне енеді.&lt;/p&gt;</description>
  <enclosure url="https://cdn.pod.example/ep1.mp3?utm_source=feed&amp;sig=Xy1" length="1000" type="audio/mpeg"/>
  <enclosure url="https://cdn.pod.example/ep1.ogg" length="900" type="audio/ogg"/>
</item>
</channel></rss>"#;

fn podcast(server: &TestServer) -> String {
    server.route("/pod", vec![Reply::ok_as("application/rss+xml", PODCAST)]);
    config(&source("pod", &server.url("/pod")))
}

/// The `<item>`, `<entry>` or JSON item of `doc` that mentions `needle`.
fn part<'a>(doc: &'a str, separator: &str, needle: &str) -> &'a str {
    doc.split(separator).skip(1).find(|p| p.contains(needle)).unwrap_or_else(|| panic!("no {needle} in {doc}"))
}

#[test]
fn an_undated_untitled_podcast_episode_is_carried_exactly() {
    let server = TestServer::start();
    let p = Project::new(&podcast(&server));
    p.run().assert_code(0);
    let title = "Парламент жаңа заңды бірауыздан қабылдады";

    let rss = p.output("all/rss.xml");
    let item = part(&rss, "<item>", title);
    assert!(item.contains(&format!("<title>{title}</title>")), "{item}");
    assert!(!item.contains("<pubDate>"), "an undated entry gets no date: {item}");
    assert!(part(&rss, "<item>", "dated</link>").contains("<pubDate>Thu, 11 Jul 2019 12:20:00 +0000</pubDate>"));
    assert_eq!(item.matches("<enclosure ").count(), 1, "{item}");
    assert!(item.contains(
        "<enclosure url=\"https://cdn.pod.example/ep1.mp3?utm_source=feed&amp;sig=Xy1\" length=\"1000\" type=\"audio/mpeg\"/>"
    ));
    assert!(
        item.contains("<media:content url=\"https://cdn.pod.example/ep1.ogg\" type=\"audio/ogg\" fileSize=\"900\"/>")
    );
    assert!(rss.contains("xmlns:media=\"http://search.yahoo.com/mrss/\""));

    let atom = p.output("all/atom.xml");
    let entry = part(&atom, "<entry", title);
    assert!(entry.contains(&format!("<title type=\"text\">{title}</title>")), "{entry}");
    assert!(entry.contains("<updated>") && !entry.contains("<published>"), "{entry}");
    assert_eq!(entry.matches("rel=\"enclosure\"").count(), 2, "{entry}");

    let json = p.json("all/feed.json");
    let item = json["items"].as_array().unwrap().iter().find(|i| i["title"] == title).unwrap();
    assert!(item.get("date_published").is_none(), "{item}");
    assert_eq!(item["attachments"].as_array().unwrap().len(), 2);
    assert_eq!(item["attachments"][0]["url"], "https://cdn.pod.example/ep1.mp3?utm_source=feed&sig=Xy1");

    let index = p.output("index.html");
    let line = index.lines().find(|l| l.contains(title)).unwrap();
    assert!(!line.contains("<time"), "index.html shows no date for it: {line}");
    assert!(index.lines().any(|l| l.contains(">Dated<") && l.contains("<time")));
}

#[test]
fn tracking_parameters_leave_links_unless_configured() {
    let server = TestServer::start();
    let p = Project::new(&podcast(&server));
    p.run().assert_code(0);
    let clean = "https://pod.example/undated?id=7#listen";
    let rss = p.output("all/rss.xml");
    assert!(rss.contains(&format!("<link>{clean}</link>")), "{rss}");
    assert!(rss.contains(&format!("<guid isPermaLink=\"true\">{clean}</guid>")), "the id that is the link too");
    assert!(p.output("all/atom.xml").contains(&format!("<id>{clean}</id>")));
    let json = p.json("all/feed.json");
    let item = json["items"].as_array().unwrap().iter().find(|i| i["id"] == clean).unwrap();
    assert_eq!(item["url"], clean);
    for file in ["all/rss.xml", "all/atom.xml", "all/feed.json", "index.html"] {
        assert!(!p.output(file).contains("fbclid"), "{file}");
    }

    let q = Project::new(&podcast(&server).replace("[output]\n", "[output]\nstrip_tracking = false\n"));
    q.feedmill(&["check"]).assert_code(0);
    q.run().assert_code(0);
    let verbatim = "https://pod.example/undated?utm_source=rss&amp;id=7&amp;fbclid=abc#listen";
    let rss = q.output("all/rss.xml");
    assert!(rss.contains(&format!("<link>{verbatim}</link>")), "{rss}");
    assert!(rss.contains(&format!("<guid isPermaLink=\"true\">{verbatim}</guid>")));

    let r = Project::new(&podcast(&server).replace("[output]\n", "[output]\nstrip_tracking = \"no\"\n"));
    let check = r.feedmill(&["check"]);
    check.assert_code(2);
    assert!(check.stderr.contains("strip_tracking") || check.stderr.contains("boolean"), "{}", check.stderr);
}

#[test]
fn rss_source_names_the_other_copys_feed_and_no_password() {
    let server = TestServer::start();
    let body = "Бауыржан Байбек Қызылорда облысына барды, партияның облыстық активімен кездесті.";
    let feed = |title: &str, link: &str, date: &str, text: &str| {
        format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{title}</title><link>https://{title}.example/</link>\
             <item><title>Байбек айтысты қолға алады</title><link>{link}</link><pubDate>{date}</pubDate>\
             <description>{text}</description></item></channel></rss>"
        )
    };
    let long = format!("{body} Толық мәтін мұнда.");
    server.route(
        "/abai",
        vec![Reply::ok_as(
            "application/rss+xml",
            feed("Abai", "https://abai.kz/post/1", "Thu, 11 Jul 2019 06:20:00 +0000", &long),
        )],
    );
    server.route(
        "/mirror",
        vec![Reply::ok_as(
            "application/rss+xml",
            feed(
                "Mirror News",
                "https://www.abai.kz/post/1?utm_source=mirror",
                "Thu, 11 Jul 2019 06:25:00 +0000",
                body,
            ),
        )],
    );
    let mirror = server.url("/mirror").replacen("http://", "http://reader:s3cret@", 1);
    let p = Project::new(&config(&format!("{}{}", source("abai", &server.url("/abai")), source("mirror", &mirror))));
    p.run().assert_code(0);

    let rss = p.output("all/rss.xml");
    assert_eq!(rss.matches("<item>").count(), 1, "{rss}");
    // The mirror's URL as configured, its password written `***`.
    let published = server.url("/mirror").replacen("http://", "http://***@", 1);
    assert!(rss.contains(&format!("<source url=\"{published}\">Mirror News</source>")), "{rss}");
    assert!(rss.contains("<atom:link rel=\"via\" href=\"https://www.abai.kz/post/1\""), "via keeps the article");
    assert!(p.output("all/atom.xml").contains("<link rel=\"via\" href=\"https://www.abai.kz/post/1\""));
    assert_eq!(p.json("all/feed.json")["items"][0]["_feedmill"]["via"][0]["url"], "https://www.abai.kz/post/1");
    for file in ["all/rss.xml", "all/atom.xml", "all/feed.json", "index.html", "sources.opml"] {
        assert!(!p.output(file).contains("s3cret"), "{file} publishes a password");
    }
}

/// A store that published an entry under its tracked link keeps that id when stripping starts: the
/// link changes, the id never does. The changed setting takes effect at once, from the body kept.
#[test]
fn an_id_already_published_with_tracking_parameters_stays() {
    let server = TestServer::start();
    let tracked = "https://pod.example/undated?utm_source=rss&amp;id=7&amp;fbclid=abc#listen";
    server.route("/pod", vec![Reply::ok_as("application/rss+xml", PODCAST)]);
    let verbatim =
        config(&source("pod", &server.url("/pod"))).replace("[output]\n", "[output]\nstrip_tracking = false\n");
    let p = Project::new(&verbatim);
    p.run().assert_code(0);
    assert!(p.output("all/rss.xml").contains(&format!("<guid isPermaLink=\"true\">{tracked}</guid>")));

    p.write("feeds.toml", verbatim.replace("strip_tracking = false\n", ""));
    p.run().assert_code(0);
    assert_eq!(server.requests_to("/pod").len(), 1, "read again from the body kept, not fetched");
    let rss = p.output("all/rss.xml");
    let item = part(&rss, "<item>", "Парламент");
    assert!(item.contains(&format!("<guid isPermaLink=\"false\">{tracked}</guid>")), "{item}");
    assert!(item.contains("<link>https://pod.example/undated?id=7#listen</link>"), "{item}");
}

/// A failing source with credentials in its URL: its error is shown on `index.html`, its password is not.
#[test]
fn a_failing_sources_password_is_not_published() {
    let server = TestServer::start();
    server.route("/pod", vec![Reply::ok_as("application/rss+xml", PODCAST)]);
    let broken = server.url("/gone").replacen("http://", "http://reader:s3cret@", 1);
    let p = Project::new(&config(&format!("{}{}", source("pod", &server.url("/pod")), source("broken", &broken))));
    p.run().assert_code(1);
    for file in ["all/rss.xml", "index.html", "sources.opml"] {
        let out = p.output(file);
        assert!(!out.contains("s3cret"), "{file} publishes a password: {out}");
    }
    assert!(p.output("index.html").contains("404"), "the error is still shown");
}
