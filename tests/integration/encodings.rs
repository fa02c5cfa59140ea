//! The three charset cases of issue #2, end to end: the output must hold correct Cyrillic.

use crate::test_server::{Reply, TestServer};
use crate::util::{config, source, Project};

const TITLE_RU: &str = "Байбек: айтыс возвращается в Кызылорду";
const TITLE_KK: &str = "Бауыржан Байбек айтысты қайта қолға алады";

fn rss(title: &str, prolog_encoding: Option<&str>) -> String {
    let prolog = match prolog_encoding {
        Some(e) => format!("<?xml version=\"1.0\" encoding=\"{e}\"?>"),
        None => "<?xml version=\"1.0\"?>".to_owned(),
    };
    format!(
        "{prolog}\n<rss version=\"2.0\"><channel><title>Новости</title><link>https://news.example/</link>\
         <item><title>{title}</title><link>https://news.example/{}</link><description>Текст новости: \"{title}\".</description>\
         <pubDate>Thu, 11 Jul 2019 12:20:00 +0600</pubDate></item></channel></rss>",
        title.len()
    )
}

fn encode(text: &str, label: &str) -> Vec<u8> {
    let enc = encoding_rs::Encoding::for_label(label.as_bytes()).unwrap();
    let (bytes, _, errors) = enc.encode(text);
    assert!(!errors, "{label} cannot encode the fixture");
    bytes.into_owned()
}

#[test]
fn charsets_from_prolog_header_and_bom() {
    let server = TestServer::start();
    // windows-1251 labelled only in the XML prolog; the header says nothing.
    server.route(
        "/cp1251",
        vec![Reply::ok_as("application/rss+xml", encode(&rss(TITLE_RU, Some("windows-1251")), "windows-1251"))],
    );
    // KOI8-R labelled only in the Content-Type header.
    server.route(
        "/koi8",
        vec![Reply::ok_as("text/xml; charset=KOI8-R", encode(&rss(&format!("{TITLE_RU} (КОИ-8)"), None), "koi8-r"))],
    );
    // UTF-8 with a BOM, served with a wrong charset header: the BOM wins.
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(rss(TITLE_KK, Some("utf-8")).as_bytes());
    server.route("/bom", vec![Reply::ok_as("text/xml; charset=windows-1251", bom)]);
    // windows-1251 bytes claiming to be UTF-8 everywhere: sniffed.
    server.route(
        "/liar",
        vec![Reply::ok_as(
            "text/xml; charset=utf-8",
            encode(&rss(&format!("{TITLE_RU} (без метки)"), Some("utf-8")), "windows-1251"),
        )],
    );

    let sources =
        ["cp1251", "koi8", "bom", "liar"].iter().map(|s| source(s, &server.url(&format!("/{s}")))).collect::<String>();
    // The four feeds tell one story: keep them apart, this test is about their bytes.
    let p = Project::new(&format!("[dedup]\nmode = \"off\"\n\n{}", config(&sources)));
    let run = p.feedmill(&["run", "-v"]);
    run.assert_code(0);
    let titles = p.titles("all");
    for expected in
        [TITLE_RU.to_owned(), format!("{TITLE_RU} (КОИ-8)"), TITLE_KK.to_owned(), format!("{TITLE_RU} (без метки)")]
    {
        assert!(titles.contains(&expected), "missing {expected:?} in {titles:?}");
    }
    let rss_out = p.output("all/rss.xml");
    assert!(rss_out.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(rss_out.contains(TITLE_KK));
}
