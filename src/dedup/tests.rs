use chrono::{DateTime, Utc};

use super::*;
use crate::config::DedupMode;
use crate::model::Via;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn entry(source: &str, url: Option<&str>, title: &str, content: &str) -> Entry {
    Entry {
        id: String::new(),
        source: source.into(),
        url: url.map(String::from),
        title: title.into(),
        summary_html: None,
        content_html: (!content.is_empty()).then(|| content.to_owned()),
        authors: vec![],
        categories: vec![],
        published: Some(at("2019-07-11T06:20:00Z")),
        updated: None,
        first_seen: at("2024-11-23T10:00:00Z"),
        language: None,
        enclosures: vec![],
        image: None,
        via: vec![],
    }
}

fn cand(guid: Option<&str>, e: Entry) -> Candidate {
    Candidate { guid: guid.map(String::from), entry: e, digest: None, reused: false }
}

#[test]
fn trusted_guids_become_ids() {
    let out = identify(
        "abai",
        vec![
            cand(
                Some("https://abai.kz/post/1"),
                entry("abai", Some("https://abai.kz/post/1"), "Бірінші мақала тақырыбы", ""),
            ),
            cand(Some("95211"), entry("abai", Some("https://abai.kz/post/2"), "Екінші мақала тақырыбы", "")),
        ],
    );
    assert_eq!(out.downgraded, None);
    assert_eq!(out.entries[0].entry.id, "https://abai.kz/post/1");
    assert!(out.entries[1].entry.id.starts_with("urn:feedmill:abai:"), "{}", out.entries[1].entry.id);
    assert_eq!(out.entries[1].entry.id.len(), "urn:feedmill:abai:".len() + 24);
    // Derived ids are stable: same source, same guid, same id.
    let again = identify("abai", vec![cand(Some("95211"), entry("abai", None, "x", ""))]);
    assert_eq!(again.entries[0].entry.id, out.entries[1].entry.id);
}

#[test]
fn entries_normalized_this_run_are_signed_and_reused_ones_keep_their_stored_signature() {
    let lede = "<p>Облыстық айтыскерлер Қызылордада бас қосып, айтыс өнерін қайта жандандыру жолдарын талқылады.</p>";
    let fresh = cand(Some("https://abai.kz/post/1"), entry("abai", None, "Айтыс туралы", lede));
    let reused =
        Candidate { reused: true, ..cand(Some("https://abai.kz/post/2"), entry("abai", None, "Ақын", lede)) };
    let mut out = identify("abai", vec![fresh, reused]);
    assert!(out.entries.iter().all(|l| l.packed.is_none()), "identifying signs nothing");
    out.sign();
    let signed = out.entries[0].packed.as_ref().expect("the fresh entry is signed");
    assert_eq!(signed, &near::Packed::of(&out.entries[0].entry), "as the store would have signed it");
    assert!(!signed.bands.is_empty());
    assert_eq!(out.entries[1].packed, None);
}

#[test]
fn repeated_guids_downgrade_the_source_to_links() {
    let out = identify(
        "bad",
        vec![
            cand(Some("1"), entry("bad", Some("https://bad.example/a"), "Алғашқы жаңалықтың тақырыбы", "")),
            cand(Some("1"), entry("bad", Some("https://bad.example/b"), "Екінші жаңалықтың тақырыбы", "")),
            cand(None, entry("bad", Some("https://bad.example/c"), "Үшінші жаңалықтың тақырыбы", "")),
        ],
    );
    assert!(out.downgraded.as_deref().unwrap().contains("1 blank and 1 repeated among 3 entries"));
    let ids: Vec<_> = out.entries.iter().map(|e| e.entry.id.as_str()).collect();
    assert_eq!(ids, ["https://bad.example/a", "https://bad.example/b", "https://bad.example/c"]);
    assert_eq!(out.duplicates, 0);
}

#[test]
fn in_feed_duplicates_by_id_and_by_fingerprint_are_dropped() {
    let out = identify(
        "s",
        vec![
            cand(Some("a"), entry("s", Some("https://s.example/1"), "Байбек айтысты қолға алады", "<p>Мәтін</p>")),
            cand(Some("a"), entry("s", Some("https://s.example/1"), "Байбек айтысты қолға алады", "<p>Мәтін</p>")),
            cand(
                Some("b"),
                entry("s", Some("https://s.example/1?utm_source=x"), "Байбек айтысты қолға алады", "<p>Мәтін</p>"),
            ),
        ],
    );
    // The repeated "a" would normally downgrade trust (1 of 3 repeated); either way two are duplicates.
    assert_eq!(out.entries.len(), 1);
    assert_eq!(out.duplicates, 2);
}

#[test]
fn the_same_story_from_two_sources_is_kept_once_with_via() {
    let mut a = entry("abai", Some("https://abai.kz/post/95211?utm_source=tg"), "Байбек айтыс туралы", "<p>қысқа</p>");
    a.id = "https://abai.kz/post/95211".into();
    let mut b = entry(
        "mirror",
        Some("http://www.abai.kz/post/95211"),
        "Байбек айтыс туралы (толық)",
        "<p>толық мәтін, әлдеқайда ұзағырақ мақала</p>",
    );
    b.id = "urn:feedmill:mirror:00".into();
    let mut c = entry("other", Some("https://other.kz/1"), "Мүлдем басқа жаңалық", "<p>басқа</p>");
    c.id = "https://other.kz/1".into();
    let (stories, folded) = merge(vec![(0, vec![a]), (1, vec![b, c])], &DedupMode::Exact);
    assert_eq!(stories.len(), 2);
    // abai's copy is the one not published: it is counted as folded into the mirror's story.
    assert_eq!(folded, vec![1, 0]);
    let s = &stories[0];
    // The mirror's copy is richer, so it wins; abai goes to via.
    assert_eq!(s.entry.source, "mirror");
    assert_eq!(s.sources, vec![1, 0]);
    assert_eq!(
        s.entry.via,
        vec![Via { source: "abai".into(), url: Some("https://abai.kz/post/95211?utm_source=tg".into()) }]
    );
    assert!(stories[1].entry.via.is_empty());
}

#[test]
fn a_url_shared_by_a_whole_feed_does_not_merge_stories() {
    let mut a1 = entry("home", Some("https://home.example/"), "Бірінші тақырып, ұзын мәтін", "");
    a1.id = "urn:feedmill:home:1".into();
    let mut a2 = entry("home", Some("https://home.example/"), "Екінші тақырып, ұзын мәтін", "");
    a2.id = "urn:feedmill:home:2".into();
    let mut b = entry("b", Some("https://home.example/"), "Үшінші тақырып, ұзын мәтін", "");
    b.id = "urn:feedmill:b:3".into();
    let (stories, _) = merge(vec![(0, vec![a1, a2]), (1, vec![b])], &DedupMode::Exact);
    assert_eq!(stories.len(), 3);
}

#[test]
fn equally_rich_copies_keep_the_earliest() {
    let mut a = entry("a", Some("https://a.example/x"), "Тақырып бірдей болып тұр", "<p>бірдей</p>");
    a.id = "https://a.example/x".into();
    a.published = Some(at("2019-07-11T08:00:00Z"));
    let mut b = entry("b", Some("https://a.example/x"), "Тақырып бірдей болып тұр", "<p>бірдей</p>");
    b.id = "https://a.example/x".into();
    let (stories, _) = merge(vec![(0, vec![a]), (1, vec![b])], &DedupMode::Exact);
    assert_eq!(stories[0].entry.source, "b");
    assert_eq!(stories[0].entry.via[0].source, "a");
}

#[test]
fn a_copy_published_in_an_earlier_run_keeps_winning_over_a_richer_newcomer() {
    let mut old = entry("a", Some("https://a.example/x"), "Тақырып бірдей болып тұр", "<p>қысқа</p>");
    old.id = "https://a.example/x".into();
    old.first_seen = at("2024-11-22T10:00:00Z");
    let mut rich = entry(
        "b",
        Some("https://a.example/x"),
        "Тақырып бірдей болып тұр",
        "<p>әлдеқайда ұзын, толық мәтін осында</p>",
    );
    rich.id = "https://b.example/x".into();
    let (stories, _) = merge(vec![(0, vec![old]), (1, vec![rich])], &DedupMode::Exact);
    assert_eq!(stories[0].entry.id, "https://a.example/x");
    assert_eq!(stories[0].entry.via[0].source, "b");
}

#[test]
fn the_same_story_retold_by_another_site_is_a_near_duplicate() {
    let body = "<p>«Nur Otan» партиясы Төрағасының Бірінші орынбасары Бауыржан Байбек жұмыс сапарымен Қызылорда облысына барды. Сапар барысында ол партияның облыстық активімен кездесті.</p>";
    let mut a = entry(
        "abai",
        Some("https://abai.kz/post/95211"),
        "Бауыржан Байбек «Nur Otan»-ның айтысты қайта қолға алатынын айтты",
        body,
    );
    a.id = "https://abai.kz/post/95211".into();
    let mut b = entry(
        "qazaq",
        Some("https://qazaq.example.kz/news/baibek-aitys"),
        "Байбек: Nur Otan айтысты қайта қолға алады",
        body,
    );
    b.id = "https://qazaq.example.kz/news/baibek-aitys".into();
    b.published = Some(at("2019-07-11T09:00:00Z"));
    let (stories, _) = merge(vec![(0, vec![a.clone()]), (1, vec![b.clone()])], &DedupMode::Exact);
    assert_eq!(stories.len(), 2, "exact layers alone keep them apart");
    let (stories, folded) = merge(vec![(0, vec![a]), (1, vec![b])], &DedupMode::Near(NearSettings::default()));
    assert_eq!(stories.len(), 1);
    assert_eq!(folded, vec![0, 1]);
    assert_eq!(stories[0].entry.via[0].source, "qazaq");
}

#[test]
fn a_richer_copy_arriving_later_upgrades_the_published_text_in_place() {
    let mut old = entry("a", Some("https://a.example/x"), "Тақырып бірдей болып тұр", "<p>қысқа</p>");
    old.id = "https://a.example/x".into();
    old.first_seen = at("2024-11-22T10:00:00Z");
    old.summary_html = Some("<p>тизер</p>".into());
    let mut rich = entry("b", Some("https://a.example/x"), "Тақырып бірдей болып тұр", "");
    rich.content_html = Some("<p>әлдеқайда ұзын, толық мәтін осында</p>".into());
    rich.id = "https://b.example/x".into();
    rich.first_seen = at("2024-11-23T10:00:00Z");
    let (stories, _) = merge(vec![(0, vec![old.clone()]), (1, vec![rich])], &DedupMode::Exact);
    let kept = &stories[0].entry;
    assert_eq!((kept.id.as_str(), kept.url.as_deref()), ("https://a.example/x", Some("https://a.example/x")));
    assert_eq!(kept.first_seen, old.first_seen);
    assert_eq!(kept.content_html.as_deref(), Some("<p>әлдеқайда ұзын, толық мәтін осында</p>"));
    assert_eq!(kept.summary_html, old.summary_html, "the published summary stays");
    assert_eq!(stories[0].matches[0].how.effect.as_deref(), Some("text upgraded"));

    // A poorer later copy changes nothing.
    let mut poor = entry("b", Some("https://a.example/x"), "Тақырып бірдей болып тұр", "<p>қ</p>");
    poor.first_seen = at("2024-11-23T10:00:00Z");
    let (stories, _) = merge(vec![(0, vec![old.clone()]), (1, vec![poor])], &DedupMode::Exact);
    assert_eq!(stories[0].entry.summary_html, old.summary_html);
    assert_eq!(stories[0].matches[0].how.effect.as_deref(), None);
}

#[test]
fn a_planned_merge_gives_the_stories_a_growing_merge_gives() {
    let sigs = near::tests::crowded_signatures(7, 400);
    let first_seen = at("2019-07-11T00:00:00Z");
    let mut copies: Vec<StoryCopy> = sigs
        .into_iter()
        .enumerate()
        .map(|(n, (sig, date))| {
            // Ids, links and fingerprints from small pools, so the exact layers match too, some keys only twice.
            let id = if n % 3 == 0 { format!("https://abai.kz/post/{}", n % 150) } else { format!("urn:feedmill:{n}") };
            let url = (n % 4 != 0).then(|| format!("https://abai.kz/{}", n % 190));
            let print = (n % 5 == 0).then(|| vec![(n % 41) as u8; 4]);
            let seen = first_seen + chrono::Duration::hours((n % 4) as i64);
            StoryCopy::new(
                n % 6,
                id,
                seen,
                date,
                100 + n % 300,
                n % 2 == 0,
                url.as_deref(),
                print.as_deref(),
                Some(sig),
            )
        })
        .collect();
    copies.sort_by_key(|c| (c.first_seen, c.source));
    let summary = |m: Merger| -> Vec<_> { m.into_groups().map(|g| (g.members, g.head, g.head_date)).collect() };
    for mode in [DedupMode::Exact, DedupMode::Near(NearSettings::default())] {
        let (growing, planned) = merged_both_ways(&mode, &copies);
        let (expected, got) = (summary(growing), summary(planned));
        let joined = expected.iter().map(|(members, _, _)| members.len() - 1).sum::<usize>();
        assert!(joined > 50, "{mode:?}: only {joined} copies joined a story, the test proves little");
        assert_eq!(got, expected, "{mode:?}");
    }
}

/// Three sites, one agency headline, three ledes: one story whichever way the merge runs, a second copy
/// from one source stays apart (a story takes one copy per source), and the join names its layer.
#[test]
fn the_same_headline_from_three_sources_is_one_story_planned_or_growing() {
    let title = "Верховный суд отменил приговор бывшему акиму Талдыкоргана";
    let ledes = [
        "Кассационная коллегия направила уголовное дело бывшего градоначальника на новое рассмотрение.",
        "Защита экс-акима добилась пересмотра дела, в котором его обвиняли в злоупотреблении полномочиями.",
        "Об этом сообщили в пресс-службе Верховного суда, не уточнив дату нового судебного заседания.",
        "Бывший аким прокомментировал решение суда журналистам у здания в Астане, поблагодарив адвокатов.",
    ];
    let copies: Vec<StoryCopy> = [0usize, 1, 2, 2]
        .into_iter()
        .zip(ledes)
        .enumerate()
        .map(|(n, (source, lede))| {
            let mut e = entry(&format!("s{source}"), Some(&format!("https://s{n}.example/a")), title, "");
            e.summary_html = Some(format!("<p>{lede}</p>"));
            e.language = Some("ru".into());
            e.id = format!("https://s{n}.example/a");
            e.first_seen = at("2024-11-26T06:00:00Z") + chrono::Duration::minutes(n as i64);
            StoryCopy::of_entry(source, &e, false, Some(near::Signature::of_entry(&e)))
        })
        .collect();
    let mode = DedupMode::Near(NearSettings::default());
    let (growing, planned) = merged_both_ways(&mode, &copies);
    for groups in [growing.into_groups().collect::<Vec<_>>(), planned.into_groups().collect()] {
        let sizes: Vec<usize> = groups.iter().map(|g| g.members.len()).collect();
        assert_eq!(sizes, [3, 1], "the second copy of source 2 stays apart");
        let layers: Vec<&str> =
            groups[0].members[1..].iter().filter_map(|m| Some(m.joined.as_ref()?.layer.as_str())).collect();
        assert_eq!(layers.len(), 2);
        assert!(layers.iter().all(|l| l.starts_with("same headline (lede containment")), "{layers:?}");
    }
}

/// The same copies merged as a run meets them (growing) and as a merge from scratch reads them
/// (planned: the plan holds the signatures, the copies arrive unsigned).
fn merged_both_ways(mode: &DedupMode, copies: &[StoryCopy]) -> (Merger, Merger) {
    let mut growing = Merger::new(mode);
    let mut plan = Plan::new(copies.len());
    // A plan takes copies in any order: the store reads them in row order.
    for (slot, c) in copies.iter().enumerate().rev() {
        plan.add(slot, c.clone());
    }
    let mut planned = Merger::planned(mode, plan);
    for c in copies {
        growing.add(c.clone());
        let mut unsigned = c.clone();
        unsigned.signature = None;
        planned.add(unsigned);
    }
    (growing, planned)
}
