//! Lenient dates: one date string as a feed or a page wrote it, plus a [`DateContext`] (the source's
//! zone and the fetch time), in; an instant in UTC or a [`DateError`] out. A string that cannot be read
//! is an error, never "now": the caller keeps the entry's first-seen time and logs why.
//!
//! Shape. Nearly every feed date is RFC 3339 or RFC 822, so two byte-level fast paths that allocate
//! nothing go first. Everything else takes one lenient path: the string is cut into numbers, words and
//! punctuation; each word is classified once against data tables (months, weekdays, zones, relative
//! words; English, Russian, Kazakh, plus the context's locale); then a table of layouts is tried at every token position, so junk
//! around the date ("Опубликовано: …", "Posted on …") is stepped over. Layouts need a day, a month and a
//! year (or a month name for year-less dates), so stray numbers such as view counters never become
//! dates. A new language or format is new table rows, not new code.
//!
//! Rules worth knowing:
//! - A date without a zone is wall time in `cx.tz`. A wall time that happens twice (DST fall-back)
//!   takes the earlier instant; one that never happens (spring-forward gap) is read with the offset in
//!   force before the gap, so 02:30 becomes 03:30 summer time (java.time does the same).
//! - Zone names are fixed offsets from `ZONES` (`ALMT` is +06, `IST` is India). A numeric offset next
//!   to a name wins: `GMT+6`, `UTC+5`, `MST -0700`.
//! - Numeric dates with dots or dashes are day first: `11.07.2019` and `11-07-2019` are 11 July, as
//!   everyone who writes them so means. Slashes are written day first in most of the world and month
//!   first in the US, so `11/07/2019` follows the locale's short date (`en-US`: 7 November; `ru`,
//!   `en-GB`: 11 July) and, without a locale, fails rather than guess; `31/07/2019` and `07/31/2019`
//!   can only be one day and are read so. A four-digit first number is a year (`2019/07/11`); CJK
//!   dates read `2024年11月22日`, `2024년 11월 22일`.
//! - Arabic-Indic, Persian and full-width digits read as ASCII ones; a Thai-locale year past 2400 is
//!   a Buddhist year (2567 is 2024).
//! - A time may follow a date past up to three unknown words or marks ("р.,", "kl."), written
//!   `10:00`, `10.00`, `10h00` or `10時00分`; a day-period word before it ("上午9:05") sets its half.
//! - A four-digit year-like number that no layout placed forbids the year-less layouts: "2023 թ. ապրիլի
//!   21" must fail rather than become April of this year.
//! - Two-digit years land in the 100 years ending 20 years after `cx.now`.
//! - Years outside 1900–2199 are rejected: they are sentinels (`0001-01-01`) or counters, not dates.
//! - A day and month without a year ("11 июля, 12:20") take the year of `cx.now` in `cx.tz`, or the
//!   year before if that would put them more than a day in the future.
//! - Relative dates ("2 часа назад", "кеше 12:20", "today 3 PM") count back from `cx.now`; a bare
//!   "вчера"/"today" is that day's midnight in `cx.tz`.
//! - An impossible time anywhere in the string (`25:00`, `+25:00`) makes it an error, rather than a
//!   date silently stripped of its time.
//! - A bare number is a date only as a Unix timestamp: 10 digits (seconds) or 13 (milliseconds).
//!
//! Locales. [`DateContext::locale`] adds one language's words from CLDR 48 (`locale_data.rs`, made by
//! `tools/gen_locale_data.py`): month names (format and stand-alone, wide and abbreviated, so genitive
//! forms too), weekdays, AM/PM markers, "today/yesterday", and past relative times ("vor {0} Stunden",
//! "{0}小时前"), for 383 language and language-script locales. The built-in English, Russian and
//! Kazakh tables above stay in force under any locale: they are the hand-checked override for what
//! Kazakh and Russian sites print beyond CLDR (Russian-keyboard Kazakh, "сағат" connectors).
//! Why generated tables: ICU4X (`icu_datetime` 2.4 compiled data) formats but does not parse, keeps
//! relative time in the unstable `icu_experimental`, and adds a dozen crates to the build;
//! `pure-rust-locales` (glibc) has no relative-time words and no stand-alone/genitive split for most
//! languages. The generated file is ~340 KB of source, ~130 KB of strings (about 0.5 MB of static data
//! with the slice headers), no new crate, and no start-up cost: it is static data, searched only for
//! the one locale a source uses, only on the lenient path. Regions keep their language's words but
//! their own numeric order (`REGION_ORDERS`: `en-GB` is day first).
//! Tested by `tests/fixtures/dates/dates.tsv` (`tools/gen_date_table.py`): 2,218 strings in 40 locales,
//! CLDR's own date/time/relative patterns plus hand-written site shapes, instants computed by the
//! script: 99.8% of those meant to read are read, none wrongly, every FAIL row refused.
//!
//! A source whose dates this reads wrongly can name its layout: [`parse_date_with_format`] takes a
//! strftime-like [`DateFormat`] whose `%B`/`%b` read the same month tables, optionally narrowed to one
//! [`Locale`], so `"%d %B, %Y сағат %H:%M"` reads `11 Шілде, 2019 сағат 12:20`.

use std::borrow::Cow;
use std::iter::Peekable;
use std::ops::RangeInclusive;
use std::str::CharIndices;

use chrono::{
    DateTime, Datelike, Days, FixedOffset, MappedLocalTime, Months, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeDelta, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;

/// Where and when a date string is read.
#[derive(Debug, Clone, Copy)]
pub struct DateContext {
    /// Zone for dates that carry none: the source's configured `timezone`, UTC by default.
    pub tz: Tz,
    /// Fetch time: the anchor for relative dates and for years that are abbreviated or left out.
    pub now: DateTime<Utc>,
    /// Language the dates are written in (the source's `locale`, else the feed's or page's declared
    /// language): adds its month, weekday, day-period and relative-time words to the built-in
    /// English/Russian/Kazakh ones, and sets the order of ambiguous numeric dates.
    pub locale: Option<DateLocale>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DateError {
    #[error("empty date")]
    Empty,
    /// Holds the trimmed input, cut to `EXCERPT_CHARS` (120) characters so a runaway field can't flood a log.
    #[error("unrecognized date {0:?}")]
    Unrecognized(String),
}

/// Parses one date string; see the module docs for the rules.
pub fn parse_date(input: &str, cx: &DateContext) -> Result<DateTime<Utc>, DateError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(DateError::Empty);
    }
    unix_timestamp(s)
        .or_else(|| fast_rfc3339(s).or_else(|| fast_rfc822(s, cx)).and_then(|stamp| stamp.resolve(cx.tz)))
        .or_else(|| lenient(s, cx))
        .filter(|t| YEARS.contains(&t.year()))
        .ok_or_else(|| DateError::Unrecognized(excerpt(s)))
}

const EXCERPT_CHARS: usize = 120;
const YEARS: RangeInclusive<i32> = 1900..=2199;

// ---------------------------------------------------------------------------------------------------
// Tables. Keys are lowercase. Words are compared case-insensitively, and non-ASCII words through
// `fold`, so the Kazakh rows also match their usual Russian-keyboard spellings (Кантар for Қаңтар,
// Шилде for Шілде) and Latin look-alikes (ə, i) without listing every variant.
// ---------------------------------------------------------------------------------------------------

/// English month names and abbreviations.
#[rustfmt::skip]
const MONTHS_EN: &[(&str, u32)] = &[
    ("january", 1), ("jan", 1), ("february", 2), ("feb", 2), ("march", 3), ("mar", 3),
    ("april", 4), ("apr", 4), ("may", 5), ("june", 6), ("jun", 6), ("july", 7), ("jul", 7),
    ("august", 8), ("aug", 8), ("september", 9), ("sep", 9), ("sept", 9), ("october", 10),
    ("oct", 10), ("november", 11), ("nov", 11), ("december", 12), ("dec", 12),
];

/// Russian month names: nominative, genitive and abbreviations.
#[rustfmt::skip]
const MONTHS_RU: &[(&str, u32)] = &[
    ("январь", 1), ("января", 1), ("янв", 1), ("февраль", 2), ("февраля", 2), ("фев", 2),
    ("февр", 2), ("март", 3), ("марта", 3), ("мар", 3), ("апрель", 4), ("апреля", 4), ("апр", 4),
    ("май", 5), ("мая", 5), ("июнь", 6), ("июня", 6), ("июн", 6), ("июль", 7), ("июля", 7),
    ("июл", 7), ("август", 8), ("августа", 8), ("авг", 8), ("сентябрь", 9), ("сентября", 9),
    ("сен", 9), ("сент", 9), ("октябрь", 10), ("октября", 10), ("окт", 10), ("ноябрь", 11),
    ("ноября", 11), ("ноя", 11), ("нояб", 11), ("декабрь", 12), ("декабря", 12), ("дек", 12),
];

/// Kazakh month names: Cyrillic (full and three-letter) and Latin (2021 alphabet).
#[rustfmt::skip]
const MONTHS_KK: &[(&str, u32)] = &[
    ("қаңтар", 1), ("қаң", 1), ("ақпан", 2), ("ақп", 2), ("наурыз", 3), ("нау", 3),
    ("сәуір", 4), ("сәу", 4), ("мамыр", 5), ("мам", 5), ("маусым", 6), ("мау", 6),
    ("шілде", 7), ("шіл", 7), ("тамыз", 8), ("там", 8), ("қыркүйек", 9), ("қыр", 9),
    ("қазан", 10), ("қаз", 10), ("қараша", 11), ("қар", 11), ("желтоқсан", 12), ("жел", 12),
    ("qañtar", 1), ("aqpan", 2), ("nauryz", 3), ("säuır", 4), ("mamyr", 5), ("mausym", 6),
    ("şılde", 7), ("tamyz", 8), ("qyrküiek", 9), ("qazan", 10), ("qaraşa", 11), ("jeltoqsan", 12),
];

/// Every month table with its language. Free-form dates try them all (no key means different
/// months in two languages); a [`DateFormat`] read with a [`Locale`] uses only that language's.
const MONTHS: &[(Locale, &[(&str, u32)])] =
    &[(Locale::En, MONTHS_EN), (Locale::Ru, MONTHS_RU), (Locale::Kk, MONTHS_KK)];

fn month_named(p: &Probe, locale: Option<Locale>) -> Option<u32> {
    MONTHS.iter().filter(|(l, _)| locale.is_none_or(|want| want == *l)).find_map(|(_, table)| p.lookup(table))
}

/// Weekday names and abbreviations. Only recognised so they can be skipped: a wrong weekday is
/// common in feeds and is ignored, never checked.
#[rustfmt::skip]
const WEEKDAYS: &[&str] = &[
    "monday", "mon", "tuesday", "tue", "tues", "wednesday", "wed", "thursday", "thu", "thur",
    "thurs", "friday", "fri", "saturday", "sat", "sunday", "sun",
    "понедельник", "пн", "вторник", "вт", "среда", "ср", "четверг", "чт", "пятница", "пт",
    "суббота", "сб", "воскресенье", "вс",
    "дүйсенбі", "дс", "сейсенбі", "сс", "сәрсенбі", "бейсенбі", "бс", "жұма", "жм", "сенбі",
    "сн", "жексенбі", "жс",
];

/// Zone abbreviations as fixed offsets in minutes east of UTC. Ambiguous abbreviations take the
/// reading feeds use: `CST` is US Central (not China), `IST` is India, `BST` is British Summer Time.
/// Abbreviations too ambiguous to guess (`AST`, `AMT`) are left out.
#[rustfmt::skip]
const ZONES: &[(&str, i32)] = &[
    ("ut", 0), ("utc", 0), ("gmt", 0), ("z", 0), ("wet", 0), ("west", 60), ("bst", 60),
    ("cet", 60), ("cest", 120), ("met", 60), ("mest", 120), ("eet", 120), ("eest", 180),
    ("msk", 180), ("мск", 180), ("msd", 240), ("trt", 180), ("samt", 240), ("gst", 240),
    ("azt", 240), ("get", 240), ("irst", 210), ("aft", 270), ("ist", 330), ("npt", 345),
    ("aqtt", 300), ("orat", 300), ("yekt", 300), ("uzt", 300), ("tjt", 300), ("tmt", 300),
    ("pkt", 300), ("almt", 360), ("kgt", 360), ("omst", 360), ("novt", 420), ("krat", 420),
    ("ict", 420), ("wib", 420), ("irkt", 480), ("hkt", 480), ("sgt", 480), ("myt", 480),
    ("pht", 480), ("awst", 480), ("yakt", 540), ("jst", 540), ("kst", 540), ("acst", 570),
    ("acdt", 630), ("vlat", 600), ("aest", 600), ("aedt", 660), ("magt", 660), ("pett", 720),
    ("nzst", 720), ("nzdt", 780), ("wat", 60), ("cat", 120), ("sast", 120), ("eat", 180),
    ("hst", -600), ("akst", -540), ("akdt", -480), ("pst", -480), ("pdt", -420), ("mst", -420),
    ("mdt", -360), ("cst", -360), ("cdt", -300), ("est", -300), ("edt", -240), ("adt", -180),
    ("nst", -210), ("ndt", -150), ("brt", -180), ("art", -180),
];

/// Words that mark the number before them as a year: "2019 г.", "2019 года", "2019 ж.", "2019 жылғы".
/// Also the marks of the region's and CLDR's long dates: Ukrainian "р.", Belarusian "г.", Armenian
/// "թ.", Tatar "ел", Uzbek "yil", Azerbaijani "il", Mongolian "оны", Latvian "gada", Lithuanian "m.".
#[rustfmt::skip]
const YEAR_MARKS: &[&str] = &[
    "г", "гг", "год", "года", "ж", "жыл", "жылы", "жылғы", "р", "рік", "року", "թ", "ел", "yil", "йил",
    "il", "оны", "gada", "m",
];

/// Words that may sit between a date and its time: "в 12:20", "at 3 PM", "сағат 12:20", ISO's `T`,
/// "um 10:00", "à 10h", "a las 10:00", "alle 10:00", "saat 10:00". CLDR's JSON has no such words (its
/// `atTime` patterns are not published there), so they are listed by hand; any other word between a
/// date and a time stops the time from being read.
#[rustfmt::skip]
const CONNECTORS: &[&str] = &[
    "at", "t", "в", "во", "сағат", "um", "à", "a", "las", "la", "às", "alle", "om", "kl", "klo",
    "godz", "saat", "o", "о", "за", "саат", "soat", "соат", "ساعت",
];

/// Punctuation that may sit between a date and its time: "11.07.2019 - 12:20", "… | 12:20".
const FILLER_PUNCT: &[char] = &['-', '–', '—', '|', '@', '/', '·', '•', '(', '['];

/// Words joining a day, month and year: "11th of July", "5 de enero de 2024", "22 del 2024".
const OF: &[&str] = &["of", "de", "del", "do", "da"];

/// English ordinal suffixes glued to a day ("11th"), dropped while cutting tokens.
const ORDINALS: &[&str] = &["st", "nd", "rd", "th"];

/// Units of relative dates, every inflection a count can take.
#[rustfmt::skip]
const UNITS: &[(&str, Unit)] = &[
    ("second", Unit::Second), ("seconds", Unit::Second), ("sec", Unit::Second),
    ("secs", Unit::Second), ("секунда", Unit::Second), ("секунду", Unit::Second),
    ("секунды", Unit::Second), ("секунд", Unit::Second), ("сек", Unit::Second),
    ("minute", Unit::Minute), ("minutes", Unit::Minute), ("min", Unit::Minute),
    ("mins", Unit::Minute), ("минута", Unit::Minute), ("минуту", Unit::Minute),
    ("минуты", Unit::Minute), ("минут", Unit::Minute), ("мин", Unit::Minute),
    ("hour", Unit::Hour), ("hours", Unit::Hour), ("hr", Unit::Hour), ("hrs", Unit::Hour),
    ("час", Unit::Hour), ("часа", Unit::Hour), ("часов", Unit::Hour), ("ч", Unit::Hour),
    ("сағат", Unit::Hour),
    ("day", Unit::Day), ("days", Unit::Day), ("день", Unit::Day), ("дня", Unit::Day),
    ("дней", Unit::Day), ("сутки", Unit::Day), ("суток", Unit::Day), ("күн", Unit::Day),
    ("week", Unit::Week), ("weeks", Unit::Week), ("неделя", Unit::Week), ("неделю", Unit::Week),
    ("недели", Unit::Week), ("недель", Unit::Week), ("апта", Unit::Week),
    ("month", Unit::Month), ("months", Unit::Month), ("месяц", Unit::Month),
    ("месяца", Unit::Month), ("месяцев", Unit::Month), ("ай", Unit::Month),
    ("year", Unit::Year), ("years", Unit::Year), ("год", Unit::Year), ("года", Unit::Year),
    ("лет", Unit::Year), ("жыл", Unit::Year),
];

/// Words standing for a count of one: "an hour ago", "одну минуту назад".
const COUNTS: &[(&str, u32)] = &[("a", 1), ("an", 1), ("one", 1), ("один", 1), ("одна", 1), ("одну", 1), ("бір", 1)];

/// Words that close a relative date: "3 hours ago", "2 часа назад", "2 сағат бұрын".
const AGO: &[&str] = &["ago", "назад", "бұрын"];

/// Named days, as days back from today.
#[rustfmt::skip]
const RELATIVE_DAYS: &[(&str, u64)] = &[
    ("today", 0), ("yesterday", 1), ("сегодня", 0), ("вчера", 1), ("позавчера", 2),
    ("бүгін", 0), ("кеше", 1),
    // Ukrainian sites write "Вчора" as often as CLDR's "учора".
    ("вчора", 1),
];

/// AM/PM markers (`true` = PM). The dotted forms "a.m."/"p.m." are matched in [`meridiem_at`].
const MERIDIEMS: &[(&str, bool)] = &[("am", false), ("pm", true)];

/// Layouts with a full date, tried at every token position, earliest position first, then in this
/// order. After a layout, an optional time and zone are read (see [`date_with`]).
const FULL_DATES: &[Layout] = &[
    Layout::new(&[Part::Year4, Part::Sep('-'), Part::MonthNum, Part::Sep('-'), Part::Day]),
    Layout::new(&[Part::Year4, Part::Sep('/'), Part::MonthNum, Part::Sep('/'), Part::Day]),
    Layout::new(&[Part::Year4, Part::Sep('.'), Part::MonthNum, Part::Sep('.'), Part::Day]),
    Layout::new(&[Part::Day, Part::Sep('.'), Part::MonthNum, Part::Sep('.'), Part::Year]),
    Layout::swappable(&[Part::Day, Part::Sep('/'), Part::MonthNum, Part::Sep('/'), Part::Year]),
    Layout::new(&[Part::Day, Part::Sep('-'), Part::MonthNum, Part::Sep('-'), Part::Year]),
    Layout::new(&[Part::Day, Part::DayTail, Part::MonthName, Part::OptOf, Part::Year]),
    Layout::new(&[Part::Day, Part::Sep('-'), Part::MonthName, Part::Sep('-'), Part::Year]),
    Layout::new(&[Part::MonthName, Part::Day, Part::Year]),
    // ANSI C and Unix `date`: "Thu Jul 11 12:20:00 [MSK] 2019".
    Layout::new(&[Part::MonthName, Part::Day, Part::Clock, Part::Year]),
    Layout::new(&[Part::Year4, Part::OptYearMark, Part::Day, Part::MonthName]),
    Layout::new(&[Part::Year4, Part::OptYearMark, Part::MonthName, Part::OptMonthWord, Part::Day]),
    Layout::new(&[Part::Day, Part::SpacedDot, Part::MonthNum, Part::SpacedDot, Part::Year4]),
    // Vietnamese: "5 tháng 1, 2024", "5 thg 1, 2024".
    Layout::new(&[Part::Day, Part::Mark(&["tháng", "thg"]), Part::MonthNum, Part::Year4]),
    // Mongolian: "2024 оны 11-р сарын 22" (the month's number, "-р", the month word).
    Layout::new(&[
        Part::Year4,
        Part::OptYearMark,
        Part::MonthNum,
        Part::Sep('-'),
        Part::Mark(&["р"]),
        Part::OptMonthWord,
        Part::Day,
    ]),
    // Kyrgyz: "22-ноябрь 2024-ж.", "2024-ж., 22-ноябрь".
    Layout::new(&[Part::Day, Part::Sep('-'), Part::MonthName, Part::Year]),
    Layout::new(&[Part::Year4, Part::Sep('-'), Part::OptYearMark, Part::Day, Part::Sep('-'), Part::MonthName]),
    Layout::new(&[
        Part::Year4,
        Part::Mark(&["年", "년"]),
        Part::MonthNum,
        Part::Mark(&["月", "월"]),
        Part::Day,
        Part::OptMark(&["日", "일"]),
    ]),
];

/// Layouts without a year, tried only when no full date is found anywhere. A number right after
/// them (other than a time) means the string holds something else, so they refuse it.
const YEARLESS_DATES: &[Layout] = &[
    Layout::new(&[Part::Day, Part::DayTail, Part::MonthName, Part::NoNumberNext]),
    Layout::new(&[Part::MonthName, Part::Day, Part::NoNumberNext]),
];

// ---------------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------------

/// A calendar date with a wall time, and the offset if the string gave one.
#[derive(Debug, Clone, Copy)]
struct Stamp {
    date: NaiveDate,
    time: NaiveTime,
    offset: Option<FixedOffset>,
}

impl Stamp {
    fn resolve(self, tz: Tz) -> Option<DateTime<Utc>> {
        let local = self.date.and_time(self.time);
        match self.offset {
            Some(offset) => offset.from_local_datetime(&local).single().map(|t| t.to_utc()),
            None => in_zone(tz, local),
        }
    }
}

/// Wall time in `tz` → instant, choosing rather than failing around DST changes (see module docs).
fn in_zone(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        MappedLocalTime::Single(t) => Some(t.to_utc()),
        MappedLocalTime::Ambiguous(a, b) => Some(a.min(b).to_utc()),
        MappedLocalTime::None => {
            let before = tz.offset_from_utc_datetime(&local.checked_sub_days(Days::new(1))?).fix();
            before.from_local_datetime(&local).single().map(|t| t.to_utc())
        }
    }
}

fn ymd(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    YEARS.contains(&year).then(|| NaiveDate::from_ymd_opt(year, month, day))?
}

/// A leap second (`:60`) is kept as the last ordinary second: feeds never mean it.
fn hms(hour: u32, min: u32, sec: u32, nanos: u32) -> Option<NaiveTime> {
    (sec <= 60).then(|| NaiveTime::from_hms_nano_opt(hour, min, sec.min(59), nanos))?
}

fn offset(negative: bool, hours: u32, minutes: u32) -> Option<FixedOffset> {
    if hours > 14 || minutes > 59 {
        return None;
    }
    let secs = i32::try_from(hours * 3600 + minutes * 60).ok()?;
    FixedOffset::east_opt(if negative { -secs } else { secs })
}

fn zone_offset(minutes: i32) -> Option<FixedOffset> {
    FixedOffset::east_opt(minutes.checked_mul(60)?)
}

fn widen_year(yy: u32, now: DateTime<Utc>) -> i32 {
    let this = now.year();
    // `yy` < 100 by construction (two digits).
    let year = this - this.rem_euclid(100) + i32::try_from(yy).unwrap_or(0);
    if year > this + 20 {
        year - 100
    } else {
        year
    }
}

/// Value of an ASCII digit run; callers bound the length, saturation only guards the impossible.
fn digits_value(digits: &[u8]) -> u32 {
    digits.iter().fold(0u32, |acc, &d| acc.saturating_mul(10).saturating_add(u32::from(d - b'0')))
}

/// Fraction digits → nanoseconds (first nine digits count, the rest is noise).
fn nanos(digits: &[u8]) -> u32 {
    (0..9).fold(0, |acc, i| acc * 10 + digits.get(i).map_or(0, |&d| u32::from(d - b'0')))
}

fn unix_timestamp(s: &str) -> Option<DateTime<Utc>> {
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match s.len() {
        10 => DateTime::from_timestamp(s.parse().ok()?, 0),
        13 => DateTime::from_timestamp_millis(s.parse().ok()?),
        _ => None,
    }
}

fn excerpt(s: &str) -> String {
    match s.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------------
// Fast paths: exact RFC 3339 and RFC 822 shapes, byte by byte, no allocation. Anything that does not
// fit exactly falls through to the lenient path, which reads the same shapes (and their breakages).
// ---------------------------------------------------------------------------------------------------

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor { bytes: s.as_bytes(), at: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.at += usize::from(hit);
        hit
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        self.eat(b).then_some(())
    }

    fn eat_any(&mut self, set: &[u8]) -> Option<u8> {
        let b = self.peek().filter(|b| set.contains(b))?;
        self.at += 1;
        Some(b)
    }

    /// One or more spaces.
    fn gap(&mut self) -> Option<()> {
        let start = self.at;
        while self.eat(b' ') {}
        (self.at > start).then_some(())
    }

    fn run(&mut self, keep: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.at;
        while self.peek().is_some_and(&keep) {
            self.at += 1;
        }
        &self.bytes[start..self.at]
    }

    /// `min..=max` digits, reading no more than `max`; returns the value and the digit count.
    fn number(&mut self, min: usize, max: usize) -> Option<(u32, usize)> {
        let start = self.at;
        while self.at - start < max && self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        let digits = &self.bytes[start..self.at];
        (digits.len() >= min).then(|| (digits_value(digits), digits.len()))
    }

    fn word(&mut self) -> Option<&'a str> {
        let w = self.run(|b| b.is_ascii_alphabetic());
        if w.is_empty() {
            return None;
        }
        std::str::from_utf8(w).ok()
    }
}

/// `2019-07-11`, `2019-07-11T12:20[:00[.000]][Z|+06[:]00]`, with `t` or a space for `T`.
fn fast_rfc3339(s: &str) -> Option<Stamp> {
    let mut c = Cursor::new(s);
    let (year, _) = c.number(4, 4)?;
    c.expect(b'-')?;
    let (month, _) = c.number(2, 2)?;
    c.expect(b'-')?;
    let (day, _) = c.number(2, 2)?;
    let date = ymd(i32::try_from(year).ok()?, month, day)?;
    if c.done() {
        return Some(Stamp { date, time: NaiveTime::MIN, offset: None });
    }
    c.eat_any(b"Tt ")?;
    let (hour, _) = c.number(2, 2)?;
    c.expect(b':')?;
    let (min, _) = c.number(2, 2)?;
    let sec = if c.eat(b':') { c.number(2, 2)?.0 } else { 0 };
    let frac = if c.eat_any(b".,").is_some() {
        let digits = c.run(|b| b.is_ascii_digit());
        if digits.is_empty() {
            return None;
        }
        nanos(digits)
    } else {
        0
    };
    let time = hms(hour, min, sec, frac)?;
    let offset = match c.eat_any(b"Zz+-") {
        None => None,
        Some(b'Z' | b'z') => zone_offset(0),
        Some(sign) => {
            let (hours, _) = c.number(2, 2)?;
            let minutes = if c.done() {
                0
            } else {
                c.eat(b':');
                c.number(2, 2)?.0
            };
            Some(offset(sign == b'-', hours, minutes)?)
        }
    };
    c.done().then_some(Stamp { date, time, offset })
}

/// `[Thu, ]11 Jul 2019 12:20[:00] (+0600|GMT|ALMT|…)`, any case, one or more spaces between fields.
fn fast_rfc822(s: &str, cx: &DateContext) -> Option<Stamp> {
    let mut c = Cursor::new(s);
    if c.peek()?.is_ascii_alphabetic() {
        Probe::Ascii(c.word()?).any(WEEKDAYS).then_some(())?;
        c.eat(b',');
        while c.eat(b' ') {}
    }
    let (day, _) = c.number(1, 2)?;
    c.gap()?;
    let month = Probe::Ascii(c.word()?).lookup(MONTHS_EN)?;
    c.gap()?;
    let year = match c.number(2, 4)? {
        (y, 4) => i32::try_from(y).ok()?,
        (y, 2) => widen_year(y, cx.now),
        _ => return None,
    };
    c.gap()?;
    let (hour, _) = c.number(1, 2)?;
    c.expect(b':')?;
    let (min, _) = c.number(2, 2)?;
    let sec = if c.eat(b':') { c.number(2, 2)?.0 } else { 0 };
    c.gap()?;
    let offset = match c.eat_any(b"+-") {
        Some(sign) => {
            let (hhmm, _) = c.number(4, 4)?;
            offset(sign == b'-', hhmm / 100, hhmm % 100)?
        }
        None => zone_offset(Probe::Ascii(c.word()?).lookup(ZONES)?)?,
    };
    c.done().then_some(())?;
    Some(Stamp { date: ymd(year, month, day)?, time: hms(hour, min, sec, 0)?, offset: Some(offset) })
}

// ---------------------------------------------------------------------------------------------------
// Lenient path: tokens, word classes, layouts.
// ---------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Unit {
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl Unit {
    fn back(self, from: DateTime<Utc>, n: u32) -> Option<DateTime<Utc>> {
        let n64 = i64::from(n);
        let delta = match self {
            Unit::Second => TimeDelta::try_seconds(n64),
            Unit::Minute => TimeDelta::try_minutes(n64),
            Unit::Hour => TimeDelta::try_hours(n64),
            Unit::Day => TimeDelta::try_days(n64),
            Unit::Week => TimeDelta::try_weeks(n64),
            Unit::Month => return from.checked_sub_months(Months::new(n)),
            Unit::Year => return from.checked_sub_months(Months::new(n.checked_mul(12)?)),
        };
        from.checked_sub_signed(delta?)
    }
}

/// What a word can mean; one word can have several roles ("года" is a year mark and a unit).
#[derive(Debug, Clone, Copy, Default)]
struct WordInfo {
    month: Option<u32>,
    zone: Option<i32>,
    unit: Option<Unit>,
    days_back: Option<u64>,
    count: Option<u32>,
    pm: Option<bool>,
    year_mark: bool,
    /// Follows a month name in the locale's long dates ("сарын").
    month_word: bool,
    /// Weekday, year mark or connector: may stand between a date and its time.
    filler: bool,
    ago: bool,
}

fn classify(w: &str, locale: Option<DateLocale>) -> WordInfo {
    let mut info = builtin_words(w);
    if let Some(DateLocale(data, _)) = locale {
        // The locale's own reading of a month name wins: "mar" is March in English, Tuesday in Spanish.
        if let Some(month) = lookup_lower(w, data.months) {
            info.month = Some(month);
        }
        info.filler |= data.weekdays.iter().any(|key| eq_lower(w, key));
        info.pm = info.pm.or_else(|| lookup_lower(w, data.periods));
        info.days_back = info.days_back.or_else(|| lookup_lower(w, data.days));
        info.month_word = data.month_words.iter().any(|key| eq_lower(w, key));
    }
    info
}

/// The built-in tables' reading of a word: English, Russian and Kazakh, with Kazakh spelling folds.
fn builtin_words(w: &str) -> WordInfo {
    // Lowercasing never shortens a word, so anything longer than every key is nobody's key.
    if w.chars().nth(LONGEST_KEY).is_some() {
        return WordInfo::default();
    }
    let p = Probe::new(w);
    WordInfo {
        month: month_named(&p, None),
        zone: p.lookup(ZONES),
        unit: p.lookup(UNITS),
        days_back: p.lookup(RELATIVE_DAYS),
        count: p.lookup(COUNTS),
        pm: p.lookup(MERIDIEMS),
        year_mark: p.any(YEAR_MARKS),
        filler: p.any(WEEKDAYS) || p.any(YEAR_MARKS) || p.any(CONNECTORS),
        ago: p.any(AGO),
        month_word: false,
    }
}

/// Characters in the longest table key (a test keeps this honest).
const LONGEST_KEY: usize = 11;

/// A word ready for case-insensitive lookups against lowercase keys: ASCII words compare in place,
/// others are lowercased and folded once.
enum Probe<'a> {
    Ascii(&'a str),
    Folded(String),
}

impl<'a> Probe<'a> {
    fn new(word: &'a str) -> Self {
        if word.is_ascii() {
            Probe::Ascii(word)
        } else {
            Probe::Folded(word.chars().flat_map(char::to_lowercase).map(fold).collect())
        }
    }

    fn is(&self, key: &str) -> bool {
        match self {
            Probe::Ascii(w) => w.eq_ignore_ascii_case(key),
            Probe::Folded(w) => key.chars().map(fold).eq(w.chars()),
        }
    }

    fn lookup<T: Copy>(&self, table: &[(&str, T)]) -> Option<T> {
        table.iter().find(|(key, _)| self.is(key)).map(|&(_, v)| v)
    }

    fn any(&self, table: &[&str]) -> bool {
        table.iter().any(|key| self.is(key))
    }
}

/// Folds Kazakh-specific letters onto the Russian letters people type for them, and Latin
/// look-alikes onto Cyrillic, so one table row covers the usual spellings.
fn fold(c: char) -> char {
    match c {
        'ә' | 'ə' => 'а',
        'ғ' => 'г',
        'қ' => 'к',
        'ң' => 'н',
        'ө' => 'о',
        'ұ' | 'ү' => 'у',
        'һ' => 'х',
        'і' | 'i' => 'и',
        'ё' => 'е',
        _ => c,
    }
}

#[derive(Debug, Clone, Copy)]
enum Tok<'a> {
    /// A run of ASCII digits.
    Num(&'a str),
    Word(&'a str, WordInfo),
    Punct(char),
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    tok: Tok<'a>,
    /// No space or comma before it: `12:20` is a time, `12 : 20` is not.
    glued: bool,
    /// Exactly one comma before it, no space: the decimal comma of `12:20:00,5`.
    after_comma: bool,
}

/// Cuts the string into digit runs, letter runs and single punctuation marks; spaces and commas only
/// separate. Works on `char_indices`, so every slice falls on a char boundary.
fn tokenize(s: &str, locale: Option<DateLocale>) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    // Separator characters since the last token, and whether they are a single comma.
    let (mut gap, mut comma) = (0, false);
    let mut chars = s.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_whitespace() || c == ',' {
            gap += 1;
            comma = gap == 1 && c == ',';
            continue;
        }
        let tok = if c.is_ascii_digit() {
            let end = take_while(&mut chars, s.len(), |c| c.is_ascii_digit());
            skip_ordinal(s, &mut chars);
            Tok::Num(&s[start..end])
        } else if c.is_alphabetic() {
            let end = take_while(&mut chars, s.len(), word_char);
            let word = &s[start..end];
            Tok::Word(word, classify(word, locale))
        } else {
            Tok::Punct(c)
        };
        let is_word = matches!(tok, Tok::Word(..));
        out.push(Token { tok, glued: gap == 0, after_comma: gap == 1 && comma });
        (gap, comma) = (0, false);
        // An abbreviation's dot ("янв.", "г.", "a.m.") belongs to the word, not to a layout.
        if is_word && chars.next_if(|&(_, c)| c == '.').is_some() {
            gap = 1;
        }
    }
    out
}

/// Letters, and the combining marks inside words of scripts that use them (Thai "กุมภาพันธ์",
/// Devanagari viramas, Arabic vowel signs), which `char::is_alphabetic` leaves out.
fn word_char(c: char) -> bool {
    c.is_alphabetic()
        || (!c.is_numeric()
            && matches!(c, '\u{300}'..='\u{36F}' | '\u{483}'..='\u{487}' | '\u{591}'..='\u{5C7}' | '\u{610}'..='\u{61A}'
                | '\u{64B}'..='\u{65F}' | '\u{670}' | '\u{900}'..='\u{DFF}' | '\u{E31}'..='\u{E4E}' | '\u{EB1}'..='\u{ECD}'
                | '\u{F18}'..='\u{FBC}' | '\u{102B}'..='\u{103E}' | '\u{17B4}'..='\u{17D3}'))
}

fn take_while(chars: &mut Peekable<CharIndices<'_>>, end: usize, keep: impl Fn(char) -> bool) -> usize {
    while let Some(&(at, c)) = chars.peek() {
        if !keep(c) {
            return at;
        }
        chars.next();
    }
    end
}

fn skip_ordinal(s: &str, chars: &mut Peekable<CharIndices<'_>>) {
    let mut look = chars.clone();
    let Some(&(start, c)) = look.peek() else { return };
    if !c.is_ascii_alphabetic() {
        return;
    }
    let end = take_while(&mut look, s.len(), char::is_alphabetic);
    if ORDINALS.iter().any(|o| s[start..end].eq_ignore_ascii_case(o)) {
        *chars = look;
    }
}

fn num(t: &[Token], i: usize, len: RangeInclusive<usize>) -> Option<(u32, usize)> {
    match t.get(i)?.tok {
        Tok::Num(n) if len.contains(&n.len()) => Some((digits_value(n.as_bytes()), n.len())),
        _ => None,
    }
}

fn word<'a>(t: &[Token<'a>], i: usize) -> Option<(&'a str, WordInfo)> {
    match t.get(i)?.tok {
        Tok::Word(w, info) => Some((w, info)),
        _ => None,
    }
}

/// Punctuation `c` at `i`, glued to what precedes it.
fn punct(t: &[Token], i: usize, c: char) -> bool {
    matches!(t.get(i), Some(Token { tok: Tok::Punct(p), glued: true, .. }) if *p == c)
}

fn glued(t: &[Token], i: usize) -> bool {
    t.get(i).is_some_and(|x| x.glued)
}

fn skip_fillers(t: &[Token], mut i: usize) -> usize {
    while let Some(x) = t.get(i) {
        let filler = match x.tok {
            Tok::Word(_, w) => w.filler,
            Tok::Punct(c) => FILLER_PUNCT.contains(&c),
            Tok::Num(_) => false,
        };
        if !filler {
            break;
        }
        i += 1;
    }
    i
}

/// A time (and the zone right after it) that the string gave.
#[derive(Debug, Clone, Copy)]
struct Clock {
    time: NaiveTime,
    offset: Option<FixedOffset>,
}

/// Shaped like a time or zone, but impossible (`25:00`, `+25:00`).
struct Bad;

/// A clock can't start right after a colon: in `10:45:30`, `45:30` is not a time.
fn clock_start(t: &[Token], i: usize) -> bool {
    i == 0 || !matches!(t[i - 1].tok, Tok::Punct(':'))
}

/// `H:MM[:SS[.fff]] [AM|PM|a.m.|p.m.] [zone]` at `i`.
fn clock_at(t: &[Token], i: usize) -> Result<Option<(Clock, usize)>, Bad> {
    let (Some((hour, _)), true, true, Some((min, _))) =
        (num(t, i, 1..=2), punct(t, i + 1, ':'), glued(t, i + 2), num(t, i + 2, 1..=2))
    else {
        return Ok(None);
    };
    let mut j = i + 3;
    let (mut sec, mut frac) = (0, 0);
    if punct(t, j, ':') && glued(t, j + 1) {
        if let Some((s, _)) = num(t, j + 1, 1..=2) {
            sec = s;
            j += 2;
            let dot = punct(t, j, '.') && glued(t, j + 1);
            match (t.get(j), t.get(j + 1)) {
                (Some(&Token { tok: Tok::Num(f), after_comma: true, .. }), _) => {
                    frac = nanos(f.as_bytes());
                    j += 1;
                }
                (_, Some(&Token { tok: Tok::Num(f), .. })) if dot => {
                    frac = nanos(f.as_bytes());
                    j += 2;
                }
                _ => {}
            }
        }
    }
    let mut hour24 = hour;
    if let Some((pm, next)) = meridiem_at(t, j) {
        j = next;
        // "15:04 PM" happens; keep such hours as written.
        if (1..=12).contains(&hour) {
            hour24 = hour % 12 + if pm { 12 } else { 0 };
        }
    }
    let time = hms(hour24, min, sec, frac).ok_or(Bad)?;
    let (offset, end) = match zone_at(t, j)? {
        Some((offset, next)) => (Some(offset), next),
        None => (None, j),
    };
    Ok(Some((Clock { time, offset }, end)))
}

fn meridiem_at(t: &[Token], i: usize) -> Option<(bool, usize)> {
    let (w, info) = word(t, i)?;
    if let Some(pm) = info.pm {
        return Some((pm, i + 1));
    }
    // "a.m." / "p.m." arrive as two words once their dots are dropped.
    let pm = if w.eq_ignore_ascii_case("p") {
        true
    } else if w.eq_ignore_ascii_case("a") {
        false
    } else {
        return None;
    };
    word(t, i + 1).filter(|(m, _)| m.eq_ignore_ascii_case("m")).map(|_| (pm, i + 2))
}

/// `[NAME][±H|±HH|±HMM|±HHMM|±HH:MM]` at `i`; the numeric part wins over the name.
fn zone_at(t: &[Token], i: usize) -> Result<Option<(FixedOffset, usize)>, Bad> {
    let mut j = i;
    let mut minutes = None;
    if let Some(zone) = word(t, j).and_then(|(_, w)| w.zone) {
        minutes = Some(zone);
        j += 1;
    }
    let sign = match t.get(j).map(|x| x.tok) {
        Some(Tok::Punct(c @ ('+' | '-' | '−'))) if glued(t, j + 1) => Some(c != '+'),
        _ => None,
    };
    if let (Some(negative), Some(Tok::Num(n))) = (sign, t.get(j + 1).map(|x| x.tok)) {
        let v = digits_value(n.as_bytes());
        let (hours, mins, next) = match n.len() {
            1 | 2 => match num(t, j + 3, 2..=2) {
                Some((m, _)) if punct(t, j + 2, ':') && glued(t, j + 3) => (v, m, j + 4),
                _ => (v, 0, j + 2),
            },
            3 | 4 => (v / 100, v % 100, j + 2),
            _ => return Err(Bad),
        };
        let fixed = offset(negative, hours, mins).ok_or(Bad)?;
        minutes = Some(fixed.local_minus_utc() / 60);
        j = next;
    }
    match minutes {
        Some(m) => Ok(Some((zone_offset(m).ok_or(Bad)?, j))),
        None => Ok(None),
    }
}

/// One element of a layout.
#[derive(Debug, Clone, Copy)]
enum Part {
    /// 1–2 digits, 1–31.
    Day,
    /// 1–2 digits; checked against the calendar once the layout matched.
    MonthNum,
    MonthName,
    /// 4 digits, or 2 (widened, see module docs).
    Year,
    Year4,
    /// This punctuation, glued on both sides (`11.07.2019`, not `11 . 07`).
    Sep(char),
    /// Optional "." or "of" between a day and a month name: "2. January", "11th of July", "5 de enero".
    DayTail,
    /// Optional "de" between a month name and its year: "5 de enero de 2024".
    OptOf,
    /// The locale's word after a month name: "2024 оны нэгдүгээр сарын 5".
    OptMonthWord,
    /// A dot glued to the number before it, spaces allowed after: "5. 1. 2024" (Czech, Serbian, Croatian).
    SpacedDot,
    OptYearMark,
    /// A time with its zone, inside the layout.
    Clock,
    /// Lookahead: no plain number follows (a time may).
    NoNumberNext,
    /// One of these words, as CJK dates write after each number: `2024年11月22日`, `2024년 11월 22일`.
    Mark(&'static [&'static str]),
    OptMark(&'static [&'static str]),
}

struct Layout {
    parts: &'static [Part],
    /// Read month first when day first is impossible (`07/31/2019`).
    swap: bool,
}

impl Layout {
    const fn new(parts: &'static [Part]) -> Self {
        Layout { parts, swap: false }
    }

    const fn swappable(parts: &'static [Part]) -> Self {
        Layout { parts, swap: true }
    }
}

/// Numbers as read by a layout, with their digit counts (0 for a month name).
#[derive(Default)]
struct Fields {
    day: Option<(u32, usize)>,
    month: Option<(u32, usize)>,
    year: Option<(u32, usize)>,
    clock: Option<Clock>,
}

/// A number that is part of a date, not the hour of a time.
fn date_num(t: &[Token], i: usize, len: RangeInclusive<usize>) -> Option<(u32, usize)> {
    num(t, i, len).filter(|_| !punct(t, i + 1, ':'))
}

fn match_layout(t: &[Token], mut i: usize, layout: &Layout) -> Option<(Fields, usize)> {
    let mut f = Fields::default();
    for part in layout.parts {
        match *part {
            Part::Day | Part::MonthNum => {
                let n = date_num(t, i, 1..=2).filter(|&(v, _)| (1..=31).contains(&v))?;
                if matches!(part, Part::Day) {
                    f.day = Some(n);
                } else {
                    f.month = Some(n);
                }
                i += 1;
            }
            Part::MonthName => {
                f.month = Some((word(t, i)?.1.month?, 0));
                i += 1;
            }
            Part::Year => {
                f.year = Some(date_num(t, i, 2..=4).filter(|&(_, len)| len != 3)?);
                i += 1;
            }
            Part::Year4 => {
                f.year = Some(date_num(t, i, 4..=4)?);
                i += 1;
            }
            Part::Sep(c) => {
                if !(punct(t, i, c) && glued(t, i + 1)) {
                    return None;
                }
                i += 1;
            }
            Part::DayTail => {
                i += usize::from(
                    punct(t, i, '.') || word(t, i).is_some_and(|(w, _)| OF.iter().any(|o| w.eq_ignore_ascii_case(o))),
                );
            }
            Part::OptMonthWord => i += usize::from(word(t, i).is_some_and(|(_, w)| w.month_word)),
            Part::OptOf => {
                i += usize::from(word(t, i).is_some_and(|(w, _)| OF.iter().any(|o| w.eq_ignore_ascii_case(o))))
            }
            Part::SpacedDot => {
                if !punct(t, i, '.') {
                    return None;
                }
                i += 1;
            }
            Part::OptYearMark => i += usize::from(word(t, i).is_some_and(|(_, w)| w.year_mark)),
            Part::Clock => {
                let (clock, next) = clock_at(t, i).ok()??;
                f.clock = Some(clock);
                i = next;
            }
            Part::NoNumberNext => {
                if matches!(t.get(i).map(|x| x.tok), Some(Tok::Num(_))) && !punct(t, i + 1, ':') {
                    return None;
                }
            }
            Part::Mark(marks) | Part::OptMark(marks) => {
                let found = word(t, i).is_some_and(|(w, _)| marks.iter().any(|m| eq_lower(w, m)));
                if !found && matches!(part, Part::Mark(_)) {
                    return None;
                }
                i += usize::from(found);
            }
        }
    }
    Some((f, i))
}

fn fields_date(f: &Fields, layout: &Layout, cx: &DateContext) -> Option<NaiveDate> {
    let (mut day, day_len) = f.day?;
    let (mut month, month_len) = f.month?;
    // A slashed date is written day first in most of the world and month first in the US: with no
    // locale to say which, `11/07/2019` could be two days, and a wrong date is worse than none. Day
    // first or month first only when the other is impossible (`31/07/2019`, `07/31/2019`), or the
    // locale's order when there is one (`en-US`: November 7; `ru`, `en-GB`: 11 July).
    if layout.swap && day <= 12 && month <= 12 && day != month && cx.locale.is_none() {
        return None;
    }
    let month_first = cx.locale.is_some_and(|DateLocale(_, order)| order == Order::Mdy);
    if layout.swap && day <= 12 && (month_first || month > 12) {
        std::mem::swap(&mut day, &mut month);
    }
    match f.year {
        Some((year, 4)) => ymd(buddhist_to_gregorian(i32::try_from(year).ok()?, cx), month, day),
        Some((yy, _)) => {
            // "1.2.30" is more likely a version than a date; "01.02.30" is a date. A source that
            // declares its language prints its short dates, and "5/1/24" is one.
            let numeric = month_len > 0;
            if numeric && cx.locale.is_none() && (day_len != 2 || month_len != 2) {
                return None;
            }
            match cx.locale {
                // Thai short dates count Buddhist years too: "5/1/67" is 2567, 2024.
                Some(DateLocale(l, _)) if l.code == "th" => ymd(2500 + i32::try_from(yy).ok()? - 543, month, day),
                _ => ymd(widen_year(yy, cx.now), month, day),
            }
        }
        None => yearless(month, day, cx),
    }
}

/// Thai sites count years from 543 BC (2567 is 2024); a Thai-locale year past 2400 is one of those.
fn buddhist_to_gregorian(year: i32, cx: &DateContext) -> i32 {
    match cx.locale {
        Some(DateLocale(l, _)) if l.code == "th" && year > 2400 => year - 543,
        _ => year,
    }
}

/// A day and month without a year: this year in `cx.tz`, or last year if that is more than a day ahead.
fn yearless(month: u32, day: u32, cx: &DateContext) -> Option<NaiveDate> {
    let today = cx.now.with_timezone(&cx.tz).date_naive();
    let soon = today.checked_add_days(Days::new(1))?;
    ymd(today.year(), month, day).filter(|d| *d <= soon).or_else(|| ymd(today.year() - 1, month, day))
}

/// A layout at `i`, then its time (inside the layout, given before it as `lead`, or after it past
/// fillers), then a zone (after the time, else right after the date).
fn date_with(t: &[Token], i: usize, layout: &Layout, lead: Option<Clock>, cx: &DateContext) -> Option<Stamp> {
    let (fields, mut end) = match_layout(t, i, layout)?;
    let date = fields_date(&fields, layout, cx)?;
    let mut clock = fields.clock.or(lead);
    if clock.is_none() {
        if let Some((c, next)) = clock_after(t, end) {
            clock = Some(c);
            end = next;
        }
    }
    let offset = match clock.and_then(|c| c.offset) {
        Some(offset) => Some(offset),
        None => zone_at(t, end).ok()?.map(|(offset, _)| offset),
    };
    Some(Stamp { date, time: clock.map_or(NaiveTime::MIN, |c| c.time), offset })
}

/// Words and marks that may stand between a date and its time besides the fillers ("р.,", "،", "kl.").
const LOOSE_TOKENS: usize = 3;

/// The time after a date: past fillers, then past up to [`LOOSE_TOKENS`] other words and marks, so a
/// date with a time is not read as midnight because of a word the tables lack. A day-period word
/// right before the time sets its half of the day: "上午9:05", "오후 3:00".
fn clock_after(t: &[Token], end: usize) -> Option<(Clock, usize)> {
    let start = skip_fillers(t, end);
    let mut pm_before = None;
    for i in start..=start + LOOSE_TOKENS {
        if clock_start(t, i) {
            if let Ok(Some((mut clock, next))) = clock_at(t, i) {
                let hour = clock.time.hour();
                match pm_before {
                    Some(true) if hour < 12 => clock.time += TimeDelta::hours(12),
                    Some(false) if hour == 12 => clock.time -= TimeDelta::hours(12),
                    _ => {}
                }
                return Some((clock, next));
            }
        }
        if let Some(clock) = dotted_clock_at(t, i).or_else(|| marked_clock_at(t, i)) {
            return Some(clock);
        }
        match t.get(i)?.tok {
            Tok::Num(_) => return None,
            Tok::Word(_, w) => pm_before = w.pm,
            Tok::Punct(_) => pm_before = None,
        }
    }
    None
}

/// "09.05" after a date (Danish, Finnish, Indonesian times): two glued two-digit-minute numbers and
/// nothing numeric after them, so "11.07.2019" never reads as a time.
fn dotted_clock_at(t: &[Token], i: usize) -> Option<(Clock, usize)> {
    let (hour, _) = num(t, i, 1..=2)?;
    let (min, _) = num(t, i + 2, 2..=2).filter(|_| punct(t, i + 1, '.') && glued(t, i + 2))?;
    if punct(t, i + 3, '.') && matches!(t.get(i + 4).map(|x| x.tok), Some(Tok::Num(_))) {
        return None;
    }
    let time = hms(hour, min, 0, 0)?;
    let mut end = i + 3;
    let mut time = time;
    if let Some((pm, next)) = meridiem_at(t, end) {
        end = next;
        if (1..=12).contains(&hour) {
            time = hms(hour % 12 + if pm { 12 } else { 0 }, min, 0, 0)?;
        }
    }
    Some((Clock { time, offset: None }, end))
}

/// Hours and minutes marked by words: French and Portuguese "10h00", "10h", Chinese and Japanese
/// "10時00分", Korean "10시 00분".
fn marked_clock_at(t: &[Token], i: usize) -> Option<(Clock, usize)> {
    const HOURS: &[&str] = &["h", "時", "时", "시"];
    const MINUTES: &[&str] = &["分", "분"];
    let (hour, _) = num(t, i, 1..=2)?;
    let marked =
        |j: usize, marks: &[&str]| word(t, j).is_some_and(|(w, _)| marks.iter().any(|m| w.eq_ignore_ascii_case(m)));
    if !(glued(t, i + 1) && marked(i + 1, HOURS)) {
        return None;
    }
    let (min, end) = match num(t, i + 2, 2..=2) {
        Some((min, _)) => (min, i + 3 + usize::from(marked(i + 3, MINUTES))),
        None => (0, i + 2),
    };
    Some((Clock { time: hms(hour, min, 0, 0)?, offset: None }, end))
}

/// Any layout at `i`, date first ("11.07.2019 12:20") or time first ("12:20 11.07.2019").
fn date_at(t: &[Token], i: usize, layouts: &[Layout], cx: &DateContext) -> Option<Stamp> {
    let lead = match clock_at(t, i) {
        Ok(Some((clock, next))) if clock_start(t, i) => Some((clock, skip_fillers(t, next))),
        _ => None,
    };
    layouts.iter().find_map(|layout| {
        date_with(t, i, layout, None, cx).or_else(|| {
            let (clock, k) = lead?;
            date_with(t, k, layout, Some(clock), cx)
        })
    })
}

/// "вчера в 12:20", "today", or "[N] unit [N unit …] ago" at `i`.
fn relative_at(t: &[Token], i: usize, cx: &DateContext) -> Option<DateTime<Utc>> {
    let Some(back) = word(t, i).and_then(|(_, w)| w.days_back) else {
        return cx.locale.and_then(|l| locale_ago_at(t, i, l, cx.now)).or_else(|| ago_at(t, i, cx.now));
    };
    let today = cx.now.with_timezone(&cx.tz).date_naive();
    let date = today.checked_sub_days(Days::new(back))?;
    let clock = clock_at(t, skip_fillers(t, i + 1)).ok()?.map(|(c, _)| c);
    Stamp { date, time: clock.map_or(NaiveTime::MIN, |c| c.time), offset: clock.and_then(|c| c.offset) }.resolve(cx.tz)
}

/// Parts of a relative date ("1 day 2 hours ago" has two); the bound keeps a scan over
/// "1 hour 1 hour 1 hour …" linear.
const MAX_RELATIVE_PARTS: usize = 4;

fn ago_at(t: &[Token], mut i: usize, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut at = now;
    for _ in 0..MAX_RELATIVE_PARTS {
        let count = match t.get(i)?.tok {
            Tok::Num(n) if n.len() <= 9 => Some(digits_value(n.as_bytes())),
            Tok::Word(_, w) => w.count,
            _ => None,
        };
        i += usize::from(count.is_some());
        let unit = word(t, i)?.1.unit?;
        i += 1;
        at = unit.back(at, count.unwrap_or(1))?;
        if word(t, i).is_some_and(|(_, w)| w.ago) {
            return Some(at);
        }
    }
    None
}

/// A locale's "{prefix} N {suffix}" relative-time pattern at `i`: "vor 3 Stunden", "il y a 2 heures",
/// "3 saat önce", "2小时前".
fn locale_ago_at(t: &[Token], i: usize, DateLocale(data, _): DateLocale, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    data.ago.iter().find_map(|&(prefix, suffix, unit)| {
        let at_num = words_at(t, i, prefix)?;
        let n = match t.get(at_num)?.tok {
            Tok::Num(n) if n.len() <= 9 => digits_value(n.as_bytes()),
            _ => return None,
        };
        words_at(t, at_num + 1, suffix)?;
        unit.back(now, n)
    })
}

/// The words of `phrase` (cut like the tokenizer cuts text) as the tokens from `i`: the index after them.
fn words_at(t: &[Token], mut i: usize, phrase: &str) -> Option<usize> {
    for key in phrase.split(|c: char| !word_char(c)).filter(|k| !k.is_empty()) {
        let (w, _) = word(t, i)?;
        if !eq_lower(w, key) {
            return None;
        }
        i += 1;
    }
    Some(i)
}

/// Arabic-Indic, Persian and full-width digits (and the full-width colon) as ASCII, and direction
/// marks dropped (Arabic CLDR dates put them inside "5\u{200f}/1\u{200f}/2024"), so one tokenizer reads
/// "٢٠٢٤/١١/٢٢", "۱۴:۳۰" and "２０２４年"; borrowed when there is nothing to change.
fn ascii_digits(s: &str) -> Cow<'_, str> {
    let wide = |c: char| matches!(c, '\u{660}'..='\u{669}' | '\u{6F0}'..='\u{6F9}' | '\u{FF10}'..='\u{FF1A}' | '\u{200E}' | '\u{200F}' | '\u{61C}');
    if s.is_ascii() || !s.chars().any(wide) {
        return Cow::Borrowed(s);
    }
    let shift = |c: char, zero: char| char::from(b'0' + (u32::from(c) - u32::from(zero)) as u8);
    Cow::Owned(
        s.chars()
            .filter(|c| !matches!(c, '\u{200E}' | '\u{200F}' | '\u{61C}'))
            .map(|c| match c {
                '\u{660}'..='\u{669}' => shift(c, '\u{660}'),
                '\u{6F0}'..='\u{6F9}' => shift(c, '\u{6F0}'),
                '\u{FF10}'..='\u{FF19}' => shift(c, '\u{FF10}'),
                '\u{FF1A}' => ':',
                _ => c,
            })
            .collect(),
    )
}

/// The locale's dotted names ("29 ก.พ. 2567", "6:40 μ.μ.") rewritten to their dotless keys, since the
/// tokenizer cuts words at dots.
fn undot<'a>(s: Cow<'a, str>, locale: Option<DateLocale>) -> Cow<'a, str> {
    let Some(DateLocale(data, _)) = locale else { return s };
    let mut s = s;
    for dotted in data.dotted {
        if s.contains(dotted) {
            s = Cow::Owned(s.replace(dotted, &dotted.replace('.', "")));
        }
    }
    s
}

fn lenient(s: &str, cx: &DateContext) -> Option<DateTime<Utc>> {
    let s = undot(ascii_digits(s), cx.locale);
    let t = tokenize(&s, cx.locale);
    if (0..t.len()).any(|i| clock_start(&t, i) && clock_at(&t, i).is_err()) {
        return None;
    }
    // A year the layouts could not place makes a year-less reading a guess (it would take this
    // year): "2023 թ. ապրիլի 21" must not become April 2024.
    let stray_year = t
        .iter()
        .any(|x| matches!(x.tok, Tok::Num(n) if n.len() == 4 && YEARS.contains(&(digits_value(n.as_bytes()) as i32))));
    let layouts: &[&[Layout]] = if stray_year { &[FULL_DATES] } else { &[FULL_DATES, YEARLESS_DATES] };
    layouts
        .iter()
        .find_map(|layouts| (0..t.len()).find_map(|i| date_at(&t, i, layouts, cx)))
        .and_then(|stamp| stamp.resolve(cx.tz))
        .or_else(|| (0..t.len()).find_map(|i| relative_at(&t, i, cx)))
}

// ---------------------------------------------------------------------------------------------------
// Locale data: CLDR's date words for every language, generated (see `locale_data.rs`).
// ---------------------------------------------------------------------------------------------------

mod locale_data;

/// Order of day, month and year in a locale's short numeric date (CLDR's `dateFormats/short`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Dmy,
    Mdy,
    Ymd,
}

/// One CLDR locale's date words, lowercase. Month keys are the format and stand-alone forms, wide and
/// abbreviated (so genitive "июля" and nominative "июль" both); `ago` holds the past relative-time
/// patterns as (words before the number, words after it, unit).
#[derive(Debug)]
struct LocaleData {
    code: &'static str,
    order: Order,
    months: &'static [(&'static str, u32)],
    weekdays: &'static [&'static str],
    periods: &'static [(&'static str, bool)],
    ago: &'static [(&'static str, &'static str, Unit)],
    days: &'static [(&'static str, u64)],
    /// Names written with inner dots ("ม.ค", "μ.μ"), whose keys above are dotless.
    dotted: &'static [&'static str],
    /// The word every month name ends in, keyed without it: Mongolian "нэгдүгээр сар(ын)".
    month_words: &'static [&'static str],
}

/// The date words of one language, from a language tag as configs and feeds write it: `de`,
/// `de-AT`, `pt_BR`, `uz-Cyrl`, `zh-Hant-TW`. Regions fall back to their language's words, but keep
/// their own numeric order (`en-GB` is day first, `en` month first).
#[derive(Debug, Clone, Copy)]
pub struct DateLocale(&'static LocaleData, Order);

impl DateLocale {
    /// `None` for a tag whose language CLDR has no dates for.
    pub fn from_tag(tag: &str) -> Option<DateLocale> {
        let tag = tag.trim().replace('_', "-");
        // Chinese regions that write traditional characters name no script.
        let tag = match tag.to_ascii_lowercase().as_str() {
            "zh-tw" | "zh-hk" | "zh-mo" => format!("zh-Hant-{}", &tag[3..]),
            _ => tag,
        };
        let mut parts: Vec<&str> = tag.split('-').filter(|p| !p.is_empty()).collect();
        while !parts.is_empty() {
            let want = parts.join("-");
            if let Some(data) = locale_data::LOCALES.iter().find(|l| l.code.eq_ignore_ascii_case(&want)) {
                let region = locale_data::REGION_ORDERS.iter().find(|(code, _)| code.eq_ignore_ascii_case(&tag));
                return Some(DateLocale(data, region.map_or(data.order, |&(_, order)| order)));
            }
            parts.pop();
        }
        None
    }

    /// The CLDR locale the tag resolved to: `de` for `de-AT`.
    pub fn code(self) -> &'static str {
        self.0.code
    }

    /// How many locales the generated data holds.
    pub fn count() -> usize {
        locale_data::LOCALES.len()
    }
}

/// `w` lowercased equals `key` (already lowercase), without allocating.
fn eq_lower(w: &str, key: &str) -> bool {
    w.chars().flat_map(char::to_lowercase).eq(key.chars())
}

fn lookup_lower<T: Copy>(w: &str, table: &[(&str, T)]) -> Option<T> {
    table.iter().find(|(key, _)| eq_lower(w, key)).map(|&(_, v)| v)
}

// ---------------------------------------------------------------------------------------------------
// Explicit formats: a source's `date_format`, for pages whose dates the lenient path reads wrongly or
// not at all. strftime-like, but month and weekday names come from the tables above, so `%B` reads
// "Шілде" and "июля" as well as "July".
// ---------------------------------------------------------------------------------------------------

/// A language month names are written in: `kk`, `ru` or `en` in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Locale {
    Kk,
    Ru,
    En,
}

impl Locale {
    pub const ALL: [Locale; 3] = [Locale::Kk, Locale::Ru, Locale::En];

    pub fn code(self) -> &'static str {
        match self {
            Locale::Kk => "kk",
            Locale::Ru => "ru",
            Locale::En => "en",
        }
    }
}

impl std::fmt::Display for Locale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("unknown locale {0:?} (known: kk, ru, en)")]
pub struct UnknownLocale(pub String);

impl std::str::FromStr for Locale {
    type Err = UnknownLocale;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Locale::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownLocale(s.to_owned()))
    }
}

/// What is wrong with a `date_format` pattern; the message names the pattern.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FormatError {
    #[error("date format {format:?}: unknown directive %{directive} (known: {KNOWN_DIRECTIVES})")]
    UnknownDirective { format: String, directive: char },
    #[error("date format {0:?} ends with a lone %")]
    Dangling(String),
    #[error("date format {0:?} needs a day and a month (%d with %m or %B), or %s")]
    Incomplete(String),
}

const KNOWN_DIRECTIVES: &str = "%Y %y %m %B %b %h %d %e %H %k %I %l %M %S %p %z %Z %A %a %s %%";

/// One directive of a [`DateFormat`].
#[derive(Debug, Clone, Copy, PartialEq)]
enum Spec {
    Year4,
    Year2,
    MonthNum,
    MonthName,
    Day,
    Hour24,
    Hour12,
    Minute,
    Second,
    Meridiem,
    Offset,
    ZoneName,
    Weekday,
    Unix,
}

#[derive(Debug, Clone, PartialEq)]
enum FormatItem {
    Spec(Spec),
    /// Any run of whitespace in the input, including none.
    Space,
    /// A character that must be there, compared case-insensitively.
    Literal(char),
}

/// A checked `date_format` pattern (`"%d %B, %Y сағат %H:%M"`). Directives: see `KNOWN_DIRECTIVES`;
/// glibc's padding flags (`%-d`, `%_d`, `%0d`) are accepted and mean nothing, since numbers are read
/// with or without padding. Whitespace in the pattern matches any whitespace, or none.
#[derive(Debug, Clone, PartialEq)]
pub struct DateFormat {
    pattern: String,
    items: Vec<FormatItem>,
}

impl DateFormat {
    pub fn parse(pattern: &str) -> Result<DateFormat, FormatError> {
        let mut items = Vec::new();
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            if c.is_whitespace() {
                if items.last() != Some(&FormatItem::Space) {
                    items.push(FormatItem::Space);
                }
                continue;
            }
            if c != '%' {
                items.push(FormatItem::Literal(c));
                continue;
            }
            chars.next_if(|f| matches!(f, '-' | '_' | '0'));
            let directive = chars.next().ok_or_else(|| FormatError::Dangling(pattern.to_owned()))?;
            let spec = match directive {
                '%' => {
                    items.push(FormatItem::Literal('%'));
                    continue;
                }
                'Y' => Spec::Year4,
                'y' => Spec::Year2,
                'm' => Spec::MonthNum,
                'B' | 'b' | 'h' => Spec::MonthName,
                'd' | 'e' => Spec::Day,
                'H' | 'k' => Spec::Hour24,
                'I' | 'l' => Spec::Hour12,
                'M' => Spec::Minute,
                'S' => Spec::Second,
                'p' | 'P' => Spec::Meridiem,
                'z' => Spec::Offset,
                'Z' => Spec::ZoneName,
                'A' | 'a' => Spec::Weekday,
                's' => Spec::Unix,
                _ => return Err(FormatError::UnknownDirective { format: pattern.to_owned(), directive }),
            };
            items.push(FormatItem::Spec(spec));
        }
        let has = |spec| items.contains(&FormatItem::Spec(spec));
        let complete = has(Spec::Unix) || (has(Spec::Day) && (has(Spec::MonthNum) || has(Spec::MonthName)));
        if !complete {
            return Err(FormatError::Incomplete(pattern.to_owned()));
        }
        Ok(DateFormat { pattern: pattern.to_owned(), items })
    }

    pub fn as_str(&self) -> &str {
        &self.pattern
    }
}

impl std::fmt::Display for DateFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.pattern)
    }
}

/// Reads `input` with an explicit format. The format is looked for anywhere in the input (the first
/// place it matches in full wins), so a date selector that also catches "2534 3 пікір" still works.
/// `locale` narrows `%B` to one language's month names; `None` tries them all. A format without a
/// year reads like a year-less free-form date; without a zone, the date is wall time in `cx.tz`.
pub fn parse_date_with_format(
    input: &str,
    format: &DateFormat,
    locale: Option<Locale>,
    cx: &DateContext,
) -> Result<DateTime<Utc>, DateError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(DateError::Empty);
    }
    s.char_indices()
        .filter(|&(at, c)| !(c.is_alphanumeric() && s[..at].chars().next_back().is_some_and(char::is_alphanumeric)))
        .find_map(|(at, _)| FormatMatch::at(&s[at..], &format.items, locale)?.resolve(cx))
        .filter(|t| YEARS.contains(&t.year()))
        .ok_or_else(|| DateError::Unrecognized(excerpt(s)))
}

#[derive(Clone, Copy)]
enum YearRead {
    Full(i32),
    /// `%y`: widened like any two-digit year (see module docs).
    TwoDigits(u32),
}

/// Fields a format read; `None` where the format has no such directive.
#[derive(Default)]
struct FormatMatch {
    year: Option<YearRead>,
    month: Option<u32>,
    day: Option<u32>,
    hour: u32,
    minute: u32,
    second: u32,
    pm: Option<bool>,
    offset: Option<FixedOffset>,
    unix: Option<DateTime<Utc>>,
}

impl FormatMatch {
    fn at(input: &str, items: &[FormatItem], locale: Option<Locale>) -> Option<FormatMatch> {
        let mut rest = input;
        let mut m = FormatMatch::default();
        for (i, item) in items.iter().enumerate() {
            match *item {
                FormatItem::Space => rest = rest.trim_start(),
                FormatItem::Literal(want) => {
                    let got = rest.chars().next()?;
                    if !got.to_lowercase().eq(want.to_lowercase()) {
                        return None;
                    }
                    rest = &rest[got.len_utf8()..];
                }
                FormatItem::Spec(spec) => {
                    let dot_follows = items.get(i + 1) == Some(&FormatItem::Literal('.'));
                    rest = m.read(spec, rest, locale, dot_follows)?;
                }
            }
        }
        Some(m)
    }

    /// Reads one directive from the front of `s`; returns what is left.
    fn read<'s>(&mut self, spec: Spec, s: &'s str, locale: Option<Locale>, dot_follows: bool) -> Option<&'s str> {
        let number = |s: &'s str, min: usize, max: usize| -> Option<(u32, &'s str)> {
            let len = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
            (len >= min).then(|| (digits_value(&s.as_bytes()[..len]), &s[len..]))
        };
        let word = |s: &'s str| -> Option<(&'s str, &'s str)> {
            let len = s.char_indices().find(|(_, c)| !c.is_alphabetic()).map_or(s.len(), |(at, _)| at);
            let (w, mut rest) = s.split_at(len);
            // An abbreviation's dot ("янв. 2019") belongs to the name unless the format spells it.
            if !dot_follows {
                rest = rest.strip_prefix('.').unwrap_or(rest);
            }
            (!w.is_empty()).then_some((w, rest))
        };
        let rest = match spec {
            Spec::Year4 | Spec::Year2 => {
                let digits = if spec == Spec::Year4 { 4 } else { 2 };
                let (y, r) = number(s, digits, digits)?;
                self.year =
                    Some(if digits == 2 { YearRead::TwoDigits(y) } else { YearRead::Full(i32::try_from(y).ok()?) });
                r
            }
            Spec::MonthNum => {
                let (v, r) = number(s, 1, 2)?;
                self.month = Some(v);
                r
            }
            Spec::Day => {
                let (v, r) = number(s.trim_start(), 1, 2)?;
                self.day = Some(v);
                r
            }
            Spec::Hour24 | Spec::Hour12 => {
                let (v, r) = number(s.trim_start(), 1, 2)?;
                self.hour = v;
                r
            }
            Spec::Minute | Spec::Second => {
                let (v, r) = number(s, 2, 2)?;
                if spec == Spec::Minute {
                    self.minute = v;
                } else {
                    self.second = v;
                }
                r
            }
            Spec::MonthName => {
                let (w, r) = word(s)?;
                self.month = Some(month_named(&Probe::new(w), locale)?);
                r
            }
            Spec::Weekday => {
                let (w, r) = word(s)?;
                Probe::new(w).any(WEEKDAYS).then_some(r)?
            }
            Spec::ZoneName => {
                let (w, r) = word(s)?;
                self.offset = Some(zone_offset(Probe::new(w).lookup(ZONES)?)?);
                r
            }
            Spec::Meridiem => {
                let lower = s.get(..4).map(str::to_ascii_lowercase);
                let (pm, len) = match lower.as_deref() {
                    Some("a.m.") => (false, 4),
                    Some("p.m.") => (true, 4),
                    _ => match s.get(..2).map(str::to_ascii_lowercase).as_deref() {
                        Some("am") => (false, 2),
                        Some("pm") => (true, 2),
                        _ => return None,
                    },
                };
                self.pm = Some(pm);
                &s[len..]
            }
            Spec::Offset => {
                if let Some(r) = s.strip_prefix(['Z', 'z']) {
                    self.offset = zone_offset(0);
                    r
                } else {
                    let negative = s.starts_with(['-', '−']);
                    let r = s.strip_prefix(['+', '-', '−'])?;
                    let (hours, r) = number(r, 2, 2)?;
                    let r = r.strip_prefix(':').unwrap_or(r);
                    let (minutes, r) = number(r, 2, 2).unwrap_or((0, r));
                    self.offset = Some(offset(negative, hours, minutes)?);
                    r
                }
            }
            Spec::Unix => {
                let (secs, r) = number(s, 9, 10)?;
                self.unix = DateTime::from_timestamp(i64::from(secs), 0);
                r
            }
        };
        Some(rest)
    }

    fn resolve(&self, cx: &DateContext) -> Option<DateTime<Utc>> {
        if let Some(t) = self.unix {
            return Some(t);
        }
        let (month, day) = (self.month?, self.day?);
        let date = match self.year {
            Some(YearRead::TwoDigits(yy)) => ymd(widen_year(yy, cx.now), month, day)?,
            Some(YearRead::Full(y)) => ymd(y, month, day)?,
            None => yearless(month, day, cx)?,
        };
        let hour = match self.pm {
            Some(pm) if (1..=12).contains(&self.hour) => self.hour % 12 + if pm { 12 } else { 0 },
            _ => self.hour,
        };
        let time = hms(hour, self.minute, self.second, 0)?;
        Stamp { date, time, offset: self.offset }.resolve(cx.tz)
    }
}

#[cfg(test)]
mod tests;
