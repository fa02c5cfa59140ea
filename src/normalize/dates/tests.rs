//! The lenient reader, the fast paths and explicit formats against real-world dates, CLDR's
//! locale table (`tests/fixtures/dates/dates.tsv`), and arbitrary input.

use super::format::KNOWN_DIRECTIVES;
use super::tables::{
    AGO, CONNECTORS, COUNTS, LONGEST_KEY, MERIDIEMS, MONTHS, RELATIVE_DAYS, UNITS, WEEKDAYS, YEAR_MARKS, ZONES,
};
use super::*;

/// Fetch time of every test: Saturday 2025-03-15, 15:00 in Almaty (+05), 13:00 in Moscow.
const NOW: &str = "2025-03-15T10:00:00Z";

fn cx(tz: &str) -> DateContext {
    DateContext {
        tz: tz.parse().expect("test zone"),
        now: DateTime::parse_from_rfc3339(NOW).expect("test now").to_utc(),
        locale: None,
    }
}

const UTC: &str = "UTC";
const ALA: &str = "Asia/Almaty";
const MSK: &str = "Europe/Moscow";
const NYC: &str = "America/New_York";

/// (input, zone for zone-less dates, expected instant).
const CASES: &[(&str, &str, &str)] = &[
    // RFC 822 / 2822 and its breakages.
    ("Thu, 11 Jul 2019 12:20:00 +0600", UTC, "2019-07-11T06:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 GMT", UTC, "2019-07-11T12:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 ALMT", UTC, "2019-07-11T06:20:00Z"),
    ("Thu, 11 Jul 2019 12:20 GMT+6", UTC, "2019-07-11T06:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 GMT+06:00", UTC, "2019-07-11T06:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 UTC+5", UTC, "2019-07-11T07:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 +06:00", UTC, "2019-07-11T06:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 Z", UTC, "2019-07-11T12:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 UT", UTC, "2019-07-11T12:20:00Z"),
    ("Mon, 11 Jul 2019 12:20:00 GMT", UTC, "2019-07-11T12:20:00Z"),
    ("11 Jul 2019 12:20:00 GMT", UTC, "2019-07-11T12:20:00Z"),
    ("Thu, 11 Jul 2019 12:20 GMT", UTC, "2019-07-11T12:20:00Z"),
    ("Thu, 1 Aug 2019 08:05:00 GMT", UTC, "2019-08-01T08:05:00Z"),
    ("Thu, 11 Jul 19 12:20:00 GMT", UTC, "2019-07-11T12:20:00Z"),
    ("Wed, 10 JUL 2019 23:00:00 -0000", UTC, "2019-07-10T23:00:00Z"),
    ("thu, 11 jul 2019 12:20:00 gmt", UTC, "2019-07-11T12:20:00Z"),
    ("Thursday, 11 July 2019 12:20:00 GMT", UTC, "2019-07-11T12:20:00Z"),
    ("Thu,  11   Jul  2019   12:20:00   GMT", UTC, "2019-07-11T12:20:00Z"),
    ("Thu, 11 Jul 2019, 12:20:00 GMT", UTC, "2019-07-11T12:20:00Z"),
    ("Thu 11 Jul 2019 12:20:00 EST", UTC, "2019-07-11T17:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 EDT", UTC, "2019-07-11T16:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 CST", UTC, "2019-07-11T18:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 MST", UTC, "2019-07-11T19:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 PDT", UTC, "2019-07-11T19:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 MSK", ALA, "2019-07-11T09:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 MSD", UTC, "2019-07-11T08:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 AQTT", UTC, "2019-07-11T07:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 CEST", UTC, "2019-07-11T10:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 EEST", UTC, "2019-07-11T09:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 BST", UTC, "2019-07-11T11:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 IST", UTC, "2019-07-11T06:50:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 JST", UTC, "2019-07-11T03:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 AEST", UTC, "2019-07-11T02:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 NZST", UTC, "2019-07-11T00:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 HKT", UTC, "2019-07-11T04:20:00Z"),
    ("Sun, 15 Dec 2019 12:20:00 CET", UTC, "2019-12-15T11:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 -0700", UTC, "2019-07-11T19:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 +0530", UTC, "2019-07-11T06:50:00Z"),
    ("Thu, 11 Jul 2019 12:20:00", ALA, "2019-07-11T06:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 МСК", UTC, "2019-07-11T09:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 +0000 GMT", ALA, "2019-07-11T12:20:00Z"),
    ("Thu, 11 Jul 2019 12:20:00 MST -0700", UTC, "2019-07-11T19:20:00Z"),
    ("Thu Jul 11 2019 12:20:00 GMT+0600 (Almaty Standard Time)", UTC, "2019-07-11T06:20:00Z"),
    ("Thu Jul 11 12:20:00 2019", UTC, "2019-07-11T12:20:00Z"),
    ("Thu Jul 11 12:20:00 MSK 2019", UTC, "2019-07-11T09:20:00Z"),
    // RFC 3339 / ISO 8601 and its breakages.
    ("2019-07-11T12:20:00+06:00", UTC, "2019-07-11T06:20:00Z"),
    ("2019-07-11T12:20:00Z", ALA, "2019-07-11T12:20:00Z"),
    ("2019-07-11T12:20:00.000+06:00", UTC, "2019-07-11T06:20:00Z"),
    ("2019-07-11T12:20:00.123456789Z", UTC, "2019-07-11T12:20:00.123456789Z"),
    ("2019-07-11 12:20:00+06:00", UTC, "2019-07-11T06:20:00Z"),
    ("2019-07-11T12:20:00+0600", UTC, "2019-07-11T06:20:00Z"),
    ("2019-07-11T12:20:00+06", UTC, "2019-07-11T06:20:00Z"),
    ("2019-07-11T12:20:00", ALA, "2019-07-11T06:20:00Z"),
    ("2019-07-11T12:20", ALA, "2019-07-11T06:20:00Z"),
    ("2019-07-11", ALA, "2019-07-10T18:00:00Z"),
    ("2019-07-11", UTC, "2019-07-11T00:00:00Z"),
    ("2019-07-11T12:20Z", UTC, "2019-07-11T12:20:00Z"),
    ("2019-07-11t12:20:00z", UTC, "2019-07-11T12:20:00Z"),
    ("2019-07-11 12:20:00 UTC", ALA, "2019-07-11T12:20:00Z"),
    ("2019-07-11T12:20:00.5-05:00", UTC, "2019-07-11T17:20:00.5Z"),
    ("2019-07-11T12:20:00,5Z", UTC, "2019-07-11T12:20:00.5Z"),
    ("2019-07-11 12:20", MSK, "2019-07-11T09:20:00Z"),
    ("2019-7-11 12:20:00", UTC, "2019-07-11T12:20:00Z"),
    ("2019/07/11 12:20", UTC, "2019-07-11T12:20:00Z"),
    ("2019-07-11T12:20:00-0700", UTC, "2019-07-11T19:20:00Z"),
    ("2019-07-11T12:20:00.000000Z ", UTC, "2019-07-11T12:20:00Z"),
    ("  2019-07-11T12:20:00+06:00\n", UTC, "2019-07-11T06:20:00Z"),
    ("2019-07-11 at 12:20", ALA, "2019-07-11T06:20:00Z"),
    // Unix timestamps.
    ("1562826000", ALA, "2019-07-11T06:20:00Z"),
    ("1562826000123", UTC, "2019-07-11T06:20:00.123Z"),
    // Russian.
    ("11 июля 2019, 12:20", ALA, "2019-07-11T06:20:00Z"),
    ("11 июля 2019 г. в 12:20", ALA, "2019-07-11T06:20:00Z"),
    ("11 июля 2019 года в 12:20", MSK, "2019-07-11T09:20:00Z"),
    ("Опубликовано: 11 июля 2019, 12:20", MSK, "2019-07-11T09:20:00Z"),
    ("11 Июля 2019", MSK, "2019-07-10T21:00:00Z"),
    ("11 ИЮЛЯ 2019 12:20", UTC, "2019-07-11T12:20:00Z"),
    ("11 янв. 2019 12:20", UTC, "2019-01-11T12:20:00Z"),
    ("11 янв 2019", UTC, "2019-01-11T00:00:00Z"),
    ("1 мая 2019", UTC, "2019-05-01T00:00:00Z"),
    ("5 май 2019", UTC, "2019-05-05T00:00:00Z"),
    ("четверг, 11 июля 2019, 12:20", UTC, "2019-07-11T12:20:00Z"),
    ("Чт, 11 июля 2019 12:20", UTC, "2019-07-11T12:20:00Z"),
    ("11 июля 2019г.", UTC, "2019-07-11T00:00:00Z"),
    ("11 сент. 2019", UTC, "2019-09-11T00:00:00Z"),
    ("11 декабря 2019 г.", UTC, "2019-12-11T00:00:00Z"),
    ("12:20, 11 июля 2019", MSK, "2019-07-11T09:20:00Z"),
    ("11 июля 2019 12:20 МСК", ALA, "2019-07-11T09:20:00Z"),
    ("Просмотров: 2534 · 11 июля 2019", UTC, "2019-07-11T00:00:00Z"),
    ("11.07.2019 12:20", ALA, "2019-07-11T06:20:00Z"),
    ("11.07.2019", ALA, "2019-07-10T18:00:00Z"),
    ("11.07.2019 в 12:20", MSK, "2019-07-11T09:20:00Z"),
    ("12:20 11.07.2019", UTC, "2019-07-11T12:20:00Z"),
    ("11.07.19", UTC, "2019-07-11T00:00:00Z"),
    ("11.07.2019 - 12:20", UTC, "2019-07-11T12:20:00Z"),
    ("11-07-2019 12:20:00", UTC, "2019-07-11T12:20:00Z"),
    ("2 часа назад", MSK, "2025-03-15T08:00:00Z"),
    ("5 минут назад", MSK, "2025-03-15T09:55:00Z"),
    ("час назад", UTC, "2025-03-15T09:00:00Z"),
    ("2 дня назад", UTC, "2025-03-13T10:00:00Z"),
    ("вчера в 12:20", ALA, "2025-03-14T07:20:00Z"),
    ("Сегодня, 12:20", MSK, "2025-03-15T09:20:00Z"),
    ("позавчера", MSK, "2025-03-12T21:00:00Z"),
    ("11 июля, 12:20", MSK, "2024-07-11T09:20:00Z"),
    ("3 марта в 12:20", MSK, "2025-03-03T09:20:00Z"),
    // Kazakh.
    ("11 Шілде, 2019 сағат 12:20", ALA, "2019-07-11T06:20:00Z"),
    ("Сенбі, 23 Қараша 2024", ALA, "2024-11-22T19:00:00Z"),
    ("2019 жылғы 11 шілде", ALA, "2019-07-10T18:00:00Z"),
    ("2019 ж. 11 шілде, 12:20", ALA, "2019-07-11T06:20:00Z"),
    ("11 шілде 2019 ж. 12:20", ALA, "2019-07-11T06:20:00Z"),
    ("11 ШІЛДЕ 2019", UTC, "2019-07-11T00:00:00Z"),
    ("11 Кантар 2020", UTC, "2020-01-11T00:00:00Z"),
    ("5 Акпан 2020", UTC, "2020-02-05T00:00:00Z"),
    ("1 Сəуiр 2020", UTC, "2020-04-01T00:00:00Z"),
    ("Бейсенбі, 11 шілде 2019, 12:20", ALA, "2019-07-11T06:20:00Z"),
    ("25 Желтоқсан 2019 10:00", ALA, "2019-12-25T04:00:00Z"),
    ("Жексенбі, 1 қыркүйек 2024", ALA, "2024-08-31T19:00:00Z"),
    ("11 Şılde 2019", UTC, "2019-07-11T00:00:00Z"),
    ("2 сағат бұрын", ALA, "2025-03-15T08:00:00Z"),
    ("15 минут бұрын", ALA, "2025-03-15T09:45:00Z"),
    ("кеше 12:20", ALA, "2025-03-14T07:20:00Z"),
    ("бүгін, 12:20", ALA, "2025-03-15T07:20:00Z"),
    // English.
    ("July 11, 2019 12:20 PM", UTC, "2019-07-11T12:20:00Z"),
    ("July 11, 2019 12:20 AM", UTC, "2019-07-11T00:20:00Z"),
    ("July 11, 2019 3:04 PM", UTC, "2019-07-11T15:04:00Z"),
    ("Jul 11 2019", UTC, "2019-07-11T00:00:00Z"),
    ("11 Jul 2019", UTC, "2019-07-11T00:00:00Z"),
    ("Posted on July 11, 2019", UTC, "2019-07-11T00:00:00Z"),
    ("Posted on July 11, 2019 by admin", ALA, "2019-07-10T18:00:00Z"),
    ("Jul. 11, 2019, 3:04 p.m.", UTC, "2019-07-11T15:04:00Z"),
    ("Thursday, July 11, 2019", UTC, "2019-07-11T00:00:00Z"),
    ("July 11th, 2019", UTC, "2019-07-11T00:00:00Z"),
    ("11th July 2019 at 12:20", UTC, "2019-07-11T12:20:00Z"),
    ("Thursday the 11th of July, 2019", UTC, "2019-07-11T00:00:00Z"),
    ("July 11, 2019 at 12:20 PM EDT", UTC, "2019-07-11T16:20:00Z"),
    ("Jul 11, 2019 12:20:00 pm", UTC, "2019-07-11T12:20:00Z"),
    ("11-Jul-2019 12:20", UTC, "2019-07-11T12:20:00Z"),
    ("31/07/2019", UTC, "2019-07-31T00:00:00Z"),
    ("07/31/2019", UTC, "2019-07-31T00:00:00Z"),
    ("11/11/2019 12:20", ALA, "2019-11-11T06:20:00Z"),
    ("Monday, 2. January 2006 - 15:04", UTC, "2006-01-02T15:04:00Z"),
    ("2006 January 02", UTC, "2006-01-02T00:00:00Z"),
    ("3 hours ago", UTC, "2025-03-15T07:00:00Z"),
    ("an hour ago", UTC, "2025-03-15T09:00:00Z"),
    ("1 week ago", UTC, "2025-03-08T10:00:00Z"),
    ("2 months ago", UTC, "2025-01-15T10:00:00Z"),
    ("1 hour 30 minutes ago", UTC, "2025-03-15T08:30:00Z"),
    ("yesterday at 3:04 pm", UTC, "2025-03-14T15:04:00Z"),
    ("Today, 12:20", UTC, "2025-03-15T12:20:00Z"),
    // Zone-less wall times around DST changes: the gap reads with the earlier offset, the
    // repeated hour takes its earlier instant; Almaty moved from +06 to +05 on 2024-03-01.
    ("2019-03-10 02:30", NYC, "2019-03-10T07:30:00Z"),
    ("2019-11-03 01:30", NYC, "2019-11-03T05:30:00Z"),
    ("2024-02-29 23:30", ALA, "2024-02-29T17:30:00Z"),
    ("2024-03-01 12:00", ALA, "2024-03-01T07:00:00Z"),
];

fn expected(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("expected instant").to_utc()
}

#[test]
fn real_world_dates() {
    assert!(CASES.len() >= 100, "only {} cases", CASES.len());
    let mut failures = Vec::new();
    for &(input, tz, want) in CASES {
        match parse_date(input, &cx(tz)) {
            Ok(got) if got == expected(want) => {}
            other => failures.push(format!("{input:?} in {tz}: want {want}, got {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

fn cx_in(tz: &str, tag: &str) -> DateContext {
    DateContext { locale: Some(DateLocale::from_tag(tag).expect("test locale")), ..cx(tz) }
}

/// (input, locale tag, zone, expected instant): words only the locale data knows.
#[rustfmt::skip]
const LOCALE_CASES: &[(&str, &str, &str, &str)] = &[
    ("22. März 2024, 10:00", "de", UTC, "2024-03-22T10:00:00Z"),
    ("22. November 2024 um 10:00", "de-AT", UTC, "2024-11-22T10:00:00Z"),
    ("vor 3 Stunden", "de", UTC, "2025-03-15T07:00:00Z"),
    ("il y a 2 heures", "fr", UTC, "2025-03-15T08:00:00Z"),
    ("22 févr. 2024 à 10:00", "fr_FR", UTC, "2024-02-22T10:00:00Z"),
    ("3 saat önce", "tr", UTC, "2025-03-15T07:00:00Z"),
    ("22 Kasım 2024 Cuma 10:00", "tr", UTC, "2024-11-22T10:00:00Z"),
    ("hace 5 minutos", "es", UTC, "2025-03-15T09:55:00Z"),
    ("2小时前", "zh-CN", UTC, "2025-03-15T08:00:00Z"),
    ("2024年11月22日 10:00", "zh", UTC, "2024-11-22T10:00:00Z"),
    ("２０２４年１１月２２日 １０：００", "ja", UTC, "2024-11-22T10:00:00Z"),
    ("2024년 11월 22일 10:00", "ko", UTC, "2024-11-22T10:00:00Z"),
    ("22 листопада 2024, 10:00", "uk", UTC, "2024-11-22T10:00:00Z"),
    ("22 listopada 2024 10:00", "pl", UTC, "2024-11-22T10:00:00Z"),
    ("22-ноябрь 2024-ж.", "ky", UTC, "2024-11-22T00:00:00Z"),
    ("2024-ж., 22-ноябрь 10:00", "ky", UTC, "2024-11-22T10:00:00Z"),
    ("22 noyabr 2024", "uz", UTC, "2024-11-22T00:00:00Z"),
    ("22 ноябр 2024", "uz-Cyrl", UTC, "2024-11-22T00:00:00Z"),
    ("2 сағат бұрын", "kk", UTC, "2025-03-15T08:00:00Z"),
    ("22 พฤศจิกายน 2567 10:00", "th", UTC, "2024-11-22T10:00:00Z"),
    ("٢٢/١١/٢٠٢٤ ١٠:٠٠", "ar", UTC, "2024-11-22T10:00:00Z"),
    ("۲۲ نوامبر ۲۰۲۴", "fa", UTC, "2024-11-22T00:00:00Z"),
    // A future pattern CLDR lists among Arabic past ones is no past date.
    ("خلال 3 أشهر", "ar", UTC, "FAIL"),
    // The locale's order for slashes: month first in American English, day first without one.
    ("11/07/2019", "en-US", UTC, "2019-11-07T00:00:00Z"),
    ("07/31/2019", "en", UTC, "2019-07-31T00:00:00Z"),
    ("31/07/2019", "en", UTC, "2019-07-31T00:00:00Z"),
    ("11/07/2019", "de", UTC, "2019-07-11T00:00:00Z"),
    ("11/07/2019", "en-GB", UTC, "2019-07-11T00:00:00Z"),
    ("11/07/2019", "en_AU", UTC, "2019-07-11T00:00:00Z"),
];

#[test]
fn locale_words_dates() {
    let mut failures = Vec::new();
    for &(input, tag, tz, want) in LOCALE_CASES {
        match parse_date(input, &cx_in(tz, tag)) {
            Err(_) if want == "FAIL" => {}
            Ok(got) if want != "FAIL" && got == expected(want) => {}
            other => failures.push(format!("{input:?} in {tag}: want {want}, got {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// The table of `tests/fixtures/dates/dates.tsv` (made by `tools/gen_date_table.py`): date strings
/// in the formats sites print, in 40 locales, with instants computed by the script.
#[test]
fn date_table_in_many_locales() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dates/dates.tsv");
    let table = std::fs::read_to_string(path).expect("dates.tsv");
    let (mut rows, mut should, mut read, mut refused) = (0, 0, 0, 0);
    let (mut wrong, mut missed, mut locales) = (Vec::new(), Vec::new(), std::collections::BTreeSet::new());
    for (n, line) in table.lines().enumerate().filter(|(_, l)| !l.starts_with('#')) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [input, tag, tz, want] = cols[..] else { panic!("dates.tsv:{}: want 4 columns", n + 1) };
        let cx = cx_in(tz, tag);
        rows += 1;
        locales.insert(tag);
        let got = parse_date(input, &cx).ok();
        if want == "FAIL" {
            match got {
                None => refused += 1,
                Some(t) => wrong.push(format!("dates.tsv:{}: {input:?} ({tag}) should fail, read {t}", n + 1)),
            }
            continue;
        }
        should += 1;
        match got {
            Some(t) if t == expected(want) => read += 1,
            Some(t) => wrong.push(format!("dates.tsv:{}: {input:?} ({tag}) want {want}, read {t}", n + 1)),
            None => missed.push(format!("dates.tsv:{}: {input:?} ({tag}) want {want}, unread", n + 1)),
        }
    }
    let rate = f64::from(read) / f64::from(should);
    println!(
        "dates.tsv: {rows} rows, {} locales; read {read}/{should} ({:.2}%), refused {refused} of {} FAIL rows, {} wrong",
        locales.len(),
        rate * 100.0,
        rows - should,
        wrong.len()
    );
    println!("unread:\n{}", missed.join("\n"));
    assert!(rows >= 1000 && locales.len() >= 30, "{rows} rows in {} locales", locales.len());
    assert!(wrong.is_empty(), "{} wrong instants:\n{}", wrong.len(), wrong.join("\n"));
    assert!(rate >= 0.99, "read {:.2}% of the dates that should read", rate * 100.0);
}

#[test]
fn locale_tags_resolve_to_their_language() {
    assert!(DateLocale::count() > 300, "{} locales", DateLocale::count());
    for (tag, code) in
        [("de-AT", "de"), ("pt_BR", "pt"), ("uz-Cyrl-UZ", "uz-Cyrl"), ("KK", "kk"), ("zh-Hant-TW", "zh-Hant")]
    {
        assert_eq!(DateLocale::from_tag(tag).map(DateLocale::code), Some(code), "{tag}");
    }
    assert!(DateLocale::from_tag("xx-YY").is_none());
    assert!(DateLocale::from_tag("").is_none());
    // The lookup is a binary search over the generated table: every locale must be found by its own code,
    // in any case.
    for locale in DateLocale::all() {
        let code = locale.code();
        assert_eq!(DateLocale::from_tag(code).map(DateLocale::code), Some(code));
        assert_eq!(DateLocale::from_tag(&code.to_ascii_uppercase()).map(DateLocale::code), Some(code));
    }
}

#[test]
fn a_locale_never_drops_the_built_in_words() {
    // An English site declaring German still writes English months now and then.
    assert_eq!(parse_date("11 July 2019", &cx_in(UTC, "de")), Ok(expected("2019-07-11T00:00:00Z")));
    assert_eq!(parse_date("11 Шілде, 2019 сағат 12:20", &cx_in(ALA, "ru")), Ok(expected("2019-07-11T06:20:00Z")));
    // Without a locale, German words stay unread rather than guessed.
    assert!(parse_date("vor 3 Stunden", &cx(UTC)).is_err());
}

#[test]
fn a_slashed_date_that_could_be_two_days_needs_a_locale() {
    for ambiguous in ["11/07/2019", "01/02/2024 10:00", "5/1/2024"] {
        assert!(parse_date(ambiguous, &cx(UTC)).is_err(), "{ambiguous} guessed without a locale");
    }
    assert_eq!(parse_date("11/07/2019", &cx_in(UTC, "en-US")), Ok(expected("2019-11-07T00:00:00Z")));
    assert_eq!(parse_date("11/07/2019", &cx_in(UTC, "ru")), Ok(expected("2019-07-11T00:00:00Z")));
    // Dots and dashes are day first everywhere; a day that is also the month is one day.
    assert_eq!(parse_date("11.07.2019", &cx(UTC)), Ok(expected("2019-07-11T00:00:00Z")));
    assert_eq!(parse_date("07/07/2019", &cx(UTC)), Ok(expected("2019-07-07T00:00:00Z")));
}

#[test]
fn fast_paths_agree_with_lenient_path() {
    for &(input, tz, want) in CASES {
        let s = input.trim();
        let cx = cx(tz);
        if let Some(stamp) = fast_rfc3339(s).or_else(|| fast_rfc822(s, &cx)) {
            assert_eq!(stamp.resolve(cx.tz), Some(expected(want)), "fast path on {input:?}");
            assert_eq!(lenient(s, &cx), Some(expected(want)), "lenient path on {input:?}");
        }
    }
}

#[test]
fn fast_paths_take_the_common_shapes() {
    assert!(fast_rfc822("Thu, 11 Jul 2019 12:20:00 +0600", &cx(UTC)).is_some());
    assert!(fast_rfc822("Thu, 11 Jul 2019 12:20:00 GMT", &cx(UTC)).is_some());
    assert!(fast_rfc3339("2019-07-11T12:20:00+06:00").is_some());
    assert!(fast_rfc3339("2019-07-11T12:20:00.000Z").is_some());
}

#[test]
fn results_round_trip_through_rfc3339() {
    for &(input, tz, _) in CASES {
        let got = parse_date(input, &cx(tz)).expect("case parses");
        assert_eq!(parse_date(&got.to_rfc3339(), &cx(NYC)), Ok(got), "{input:?}");
    }
}

#[test]
fn longest_key_bounds_every_table() {
    let keys = [
        MONTHS.iter().flat_map(|(_, t)| t.iter().map(|k| k.0)).collect::<Vec<_>>(),
        ZONES.iter().map(|k| k.0).collect(),
        UNITS.iter().map(|k| k.0).collect(),
        COUNTS.iter().map(|k| k.0).collect(),
        RELATIVE_DAYS.iter().map(|k| k.0).collect(),
        MERIDIEMS.iter().map(|k| k.0).collect(),
        WEEKDAYS.to_vec(),
        YEAR_MARKS.to_vec(),
        CONNECTORS.to_vec(),
        AGO.to_vec(),
    ];
    let longest = keys.iter().flatten().map(|k| k.chars().count()).max();
    assert_eq!(longest, Some(LONGEST_KEY));
    for key in keys.iter().flatten() {
        assert_eq!(key.to_lowercase(), *key, "table keys are lowercase");
    }
}

#[test]
fn two_digit_years_follow_the_window() {
    let c = cx(UTC);
    let year = |s| parse_date(s, &c).map(|t| t.year());
    assert_eq!(year("Thu, 11 Jul 45 12:20:00 GMT"), Ok(2045));
    assert_eq!(year("Sat, 11 Jul 46 12:20:00 GMT"), Ok(1946));
    assert_eq!(year("Sun, 11 Jul 99 12:20:00 GMT"), Ok(1999));
    assert_eq!(year("11.07.99"), Ok(1999));
}

#[test]
fn errors() {
    let c = cx(ALA);
    assert_eq!(parse_date("", &c), Err(DateError::Empty));
    assert_eq!(parse_date(" \t\n ", &c), Err(DateError::Empty));
    let garbage = [
        "2534",
        "Views: 2534",
        "hello",
        "12:20",
        "2019",
        "11.07",
        "July",
        "now",
        "N/A",
        "—",
        "-1",
        "1e10",
        "NaN",
        "123456789",
        "12345678901",
        "32 Jul 2019",
        "0 Jul 2019",
        "2019-13-01",
        "2019-00-10",
        "2019-02-30",
        "Feb 29 2019",
        "11.13.2019",
        "13/13/2019",
        "99/99/9999",
        "1.2.30",
        "11 Jul 2019 25:00",
        "Thu, 11 Jul 2019 25:00:00 GMT",
        "2019-07-11T25:00:00Z",
        "2019-07-11T12:60:00Z",
        "11 июля 2019 в 12:61",
        "2019-07-11T12:20:00+25:00",
        "Thu, 11 Jul 2019 12:20:00 +2500",
        "вчера в 25:00",
        "0001-01-01T00:00:00Z",
        "Mon, 01 Jan 0001 00:00:00 GMT",
        "9999-12-31T23:59:59Z",
        "5 баллов назад",
        "ago",
    ];
    for g in garbage {
        assert_eq!(parse_date(g, &c), Err(DateError::Unrecognized(g.to_owned())), "{g:?}");
    }
}

#[test]
fn error_text_is_trimmed_and_bounded() {
    let long = format!("  {}  ", "ж".repeat(500));
    let Err(DateError::Unrecognized(text)) = parse_date(&long, &cx(UTC)) else {
        panic!("garbage parsed");
    };
    assert_eq!(text.chars().count(), EXCERPT_CHARS + 1);
    assert!(text.starts_with('ж') && text.ends_with('…'));
    assert_eq!(DateError::Unrecognized("x".into()).to_string(), "unrecognized date \"x\"");
}

/// Every prefix and suffix of tricky strings (each char boundary), plus seeded random strings,
/// must come back without a panic, and any date it yields must be in range.
#[test]
fn arbitrary_input_never_panics() {
    let c = cx(ALA);
    let check = |s: &str| {
        if let Ok(t) = parse_date(s, &c) {
            assert!(YEARS.contains(&t.year()), "{s:?} → {t}");
        }
    };
    let mut tricky: Vec<String> = CASES.iter().map(|(s, _, _)| (*s).to_owned()).collect();
    tricky.extend(
        [
            "Сенбі, 23 Қараша 2024 сағат 23:59:60.999999999999 GMT+14:00",
            "١١ يوليو ٢٠١٩",
            "2019年7月11日 12時20分",
            "🙂 11 июля 🙂 2019 🙂 12:20 🙂",
            "İİİ ǅ ß ﬃ 11 Jul 2019",
            "11\u{0301} Jul\u{200b} 2019",
            "99999999999999999999999 hours ago",
            "4294967296 months ago",
            "4294967295 years ago",
            "1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
            ":::::::::::::::",
            "+-+-+-+-99:99",
            "12:20:00.0000000000000000000000001",
            "Thu, 11 Jul 2019 12:20:00 +99999",
            "2019-07-11T12:20:00+",
            "2019-07-11T",
            "a.m. p.m. a. m. 12:00 a",
            "Jul 11 12:20 PM PM PM GMT+GMT+GMT+6",
            "\u{feff}2019-07-11",
            "вчера вчера вчера",
        ]
        .map(str::to_owned),
    );
    for s in &tricky {
        for (i, _) in s.char_indices().chain([(s.len(), ' ')]) {
            check(&s[..i]);
            check(&s[i..]);
        }
    }
    #[rustfmt::skip]
    const ALPHABET: &[&str] = &[
        "0", "1", "2", "9", "12", "2019", "31", ":", ".", "-", "+", "/", " ", ",", "T", "Z", "GMT", "Jul",
        "июля", "Шілде", "қ", "ә", "a", "m", "PM", "ago", "назад", "вчера", "г", "🙂", "\u{0301}", "İ", "−",
        "(", "1562826000",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..20_000 {
        let len = next() % 12;
        let s: String =
            (0..len).map(|_| ALPHABET[usize::try_from(next() % ALPHABET.len() as u64).unwrap_or(0)]).collect();
        check(&s);
    }
}

fn with_format(input: &str, pattern: &str, locale: Option<Locale>, tz: &str) -> Result<DateTime<Utc>, DateError> {
    let format = DateFormat::parse(pattern).expect("test format");
    parse_date_with_format(input, &format, locale, &cx(tz))
}

#[test]
fn explicit_formats_read_localized_names() {
    let cases: &[(&str, &str, Option<Locale>, &str, &str)] = &[
        ("11 Шілде, 2019 сағат 12:20", "%d %B, %Y сағат %H:%M", Some(Locale::Kk), ALA, "2019-07-11T06:20:00Z"),
        ("2534 3 пікір 11 Шілде, 2019 сағат 12:20", "%d %B, %Y сағат %H:%M", None, ALA, "2019-07-11T06:20:00Z"),
        ("11 июля 2019, 12:20", "%d %B %Y, %H:%M", Some(Locale::Ru), MSK, "2019-07-11T09:20:00Z"),
        ("11 янв. 2019", "%-d %b %Y", Some(Locale::Ru), UTC, "2019-01-11T00:00:00Z"),
        ("Thursday, July 11, 2019 3:04 p.m.", "%A, %B %e, %Y %l:%M %p", Some(Locale::En), UTC, "2019-07-11T15:04:00Z"),
        ("07/11/19 12:20", "%m/%d/%y %H:%M", None, UTC, "2019-07-11T12:20:00Z"),
        ("11.07.2019 12:20 +0300", "%d.%m.%Y %H:%M %z", None, ALA, "2019-07-11T09:20:00Z"),
        ("11.07.2019 12:20 MSK", "%d.%m.%Y %H:%M %Z", None, ALA, "2019-07-11T09:20:00Z"),
        ("Жарияланды: 3 наурыз 12:20", "%d %B %H:%M", Some(Locale::Kk), ALA, "2025-03-03T07:20:00Z"),
        ("1562826000", "%s", None, ALA, "2019-07-11T06:20:00Z"),
        ("11   Шілде,2019 сағат 12:20", "%d %B, %Y сағат %H:%M", None, ALA, "2019-07-11T06:20:00Z"),
    ];
    for &(input, pattern, locale, tz, want) in cases {
        assert_eq!(with_format(input, pattern, locale, tz), Ok(expected(want)), "{input:?} as {pattern:?}");
    }
}

#[test]
fn explicit_formats_refuse_what_does_not_fit() {
    let refused: &[(&str, &str, Option<Locale>)] = &[
        // A Kazakh month read with the Russian table.
        ("11 Шілде, 2019 сағат 12:20", "%d %B, %Y сағат %H:%M", Some(Locale::Ru)),
        ("11 июля 2019", "%d %B %Y", Some(Locale::En)),
        ("2019-07-11", "%d.%m.%Y", None),
        ("31.02.2019", "%d.%m.%Y", None),
        ("11.07.2019 25:00", "%d.%m.%Y %H:%M", None),
        // A day may not start inside a longer number.
        ("111.07.2019", "%d.%m.%Y", None),
    ];
    for &(input, pattern, locale) in refused {
        assert!(with_format(input, pattern, locale, UTC).is_err(), "{input:?} as {pattern:?}");
    }
    assert_eq!(with_format("  ", "%d.%m.%Y", None, UTC), Err(DateError::Empty));
}

#[test]
fn bad_formats_say_what_is_wrong() {
    assert_eq!(
        DateFormat::parse("%d %Q %Y").map(|_| ()).map_err(|e| e.to_string()),
        Err(format!("date format \"%d %Q %Y\": unknown directive %Q (known: {KNOWN_DIRECTIVES})"))
    );
    assert_eq!(DateFormat::parse("%d.%m.%"), Err(FormatError::Dangling("%d.%m.%".into())));
    assert_eq!(DateFormat::parse("%H:%M"), Err(FormatError::Incomplete("%H:%M".into())));
    assert_eq!(DateFormat::parse("%d %B").map(|f| f.to_string()), Ok("%d %B".to_owned()));
}

#[test]
fn locales_parse_from_config_codes() {
    assert_eq!("kk".parse(), Ok(Locale::Kk));
    assert_eq!(" RU ".parse(), Ok(Locale::Ru));
    assert_eq!(
        "de".parse::<Locale>().map_err(|e| e.to_string()),
        Err("unknown locale \"de\" (known: kk, ru, en)".into())
    );
    for locale in Locale::ALL {
        assert_eq!(locale.code().parse(), Ok(locale));
    }
}

#[test]
fn explicit_formats_never_panic() {
    let format = DateFormat::parse("%A, %d %B %Y %I:%M:%S %p %z").expect("format");
    let c = cx(ALA);
    for s in
        ["Сенбі, 23 Қараша 2024 сағат 23:59:60 +14:00", "🙂 11 июля 🙂", "%%%%", "Thu, 99 Jul 2019 99:99:99 pm +9999"]
    {
        for (i, _) in s.char_indices() {
            let _ = parse_date_with_format(&s[i..], &format, None, &c);
            let _ = parse_date_with_format(&s[..i], &format, Some(Locale::Kk), &c);
        }
    }
}
