//! Word tables of the built-in languages (English, Russian, Kazakh): months, weekdays, zones, year
//! marks, connectors, relative-date words, and the classification of one word against them and the
//! source's locale. Keys are lowercase. Words are compared case-insensitively, and non-ASCII words
//! through `fold`, so the Kazakh rows also match their usual Russian-keyboard spellings (Кантар for
//! Қаңтар, Шилде for Шілде) and Latin look-alikes (ə, i) without listing every variant.

use super::locale::{eq_lower, lookup_lower, Unit};
use super::{DateLocale, Locale};

/// English month names and abbreviations.
#[rustfmt::skip]
pub(super) const MONTHS_EN: &[(&str, u32)] = &[
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
/// months in two languages); a [`DateFormat`](super::DateFormat) read with a [`Locale`] uses only
/// that language's.
pub(super) const MONTHS: &[(Locale, &[(&str, u32)])] =
    &[(Locale::En, MONTHS_EN), (Locale::Ru, MONTHS_RU), (Locale::Kk, MONTHS_KK)];

pub(super) fn month_named(p: &Probe, locale: Option<Locale>) -> Option<u32> {
    MONTHS.iter().filter(|(l, _)| locale.is_none_or(|want| want == *l)).find_map(|(_, table)| p.lookup(table))
}

/// Weekday names and abbreviations. Only recognised so they can be skipped: a wrong weekday is
/// common in feeds and is ignored, never checked.
#[rustfmt::skip]
pub(super) const WEEKDAYS: &[&str] = &[
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
pub(super) const ZONES: &[(&str, i32)] = &[
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
pub(super) const YEAR_MARKS: &[&str] = &[
    "г", "гг", "год", "года", "ж", "жыл", "жылы", "жылғы", "р", "рік", "року", "թ", "ел", "yil", "йил",
    "il", "оны", "gada", "m",
];

/// Words that may sit between a date and its time: "в 12:20", "at 3 PM", "сағат 12:20", ISO's `T`,
/// "um 10:00", "à 10h", "a las 10:00", "alle 10:00", "saat 10:00". CLDR's JSON has no such words (its
/// `atTime` patterns are not published there), so they are listed by hand; any other word between a
/// date and a time stops the time from being read.
#[rustfmt::skip]
pub(super) const CONNECTORS: &[&str] = &[
    "at", "t", "в", "во", "сағат", "um", "à", "a", "las", "la", "às", "alle", "om", "kl", "klo",
    "godz", "saat", "o", "о", "за", "саат", "soat", "соат", "ساعت",
];

/// Punctuation that may sit between a date and its time: "11.07.2019 - 12:20", "… | 12:20".
pub(super) const FILLER_PUNCT: &[char] = &['-', '–', '—', '|', '@', '/', '·', '•', '(', '['];

/// Words joining a day, month and year: "11th of July", "5 de enero de 2024", "22 del 2024".
pub(super) const OF: &[&str] = &["of", "de", "del", "do", "da"];

/// English ordinal suffixes glued to a day ("11th"), dropped while cutting tokens.
pub(super) const ORDINALS: &[&str] = &["st", "nd", "rd", "th"];

/// Units of relative dates, every inflection a count can take.
#[rustfmt::skip]
pub(super) const UNITS: &[(&str, Unit)] = &[
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
pub(super) const COUNTS: &[(&str, u32)] =
    &[("a", 1), ("an", 1), ("one", 1), ("один", 1), ("одна", 1), ("одну", 1), ("бір", 1)];

/// Words that close a relative date: "3 hours ago", "2 часа назад", "2 сағат бұрын".
pub(super) const AGO: &[&str] = &["ago", "назад", "бұрын"];

/// Named days, as days back from today.
#[rustfmt::skip]
pub(super) const RELATIVE_DAYS: &[(&str, u64)] = &[
    ("today", 0), ("yesterday", 1), ("сегодня", 0), ("вчера", 1), ("позавчера", 2),
    ("бүгін", 0), ("кеше", 1),
    // Ukrainian sites write "Вчора" as often as CLDR's "учора".
    ("вчора", 1),
];

/// AM/PM markers (`true` = PM). The dotted forms "a.m."/"p.m." are matched in `lenient::meridiem_at`.
pub(super) const MERIDIEMS: &[(&str, bool)] = &[("am", false), ("pm", true)];

/// What a word can mean; one word can have several roles ("года" is a year mark and a unit).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct WordInfo {
    pub(super) month: Option<u32>,
    pub(super) zone: Option<i32>,
    pub(super) unit: Option<Unit>,
    pub(super) days_back: Option<u64>,
    pub(super) count: Option<u32>,
    pub(super) pm: Option<bool>,
    pub(super) year_mark: bool,
    /// Follows a month name in the locale's long dates ("сарын").
    pub(super) month_word: bool,
    /// Weekday, year mark or connector: may stand between a date and its time.
    pub(super) filler: bool,
    pub(super) ago: bool,
}

pub(super) fn classify(w: &str, locale: Option<DateLocale>) -> WordInfo {
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
pub(super) const LONGEST_KEY: usize = 11;

/// A word ready for case-insensitive lookups against lowercase keys: ASCII words compare in place,
/// others are lowercased and folded once.
pub(super) enum Probe<'a> {
    Ascii(&'a str),
    Folded(String),
}

impl<'a> Probe<'a> {
    pub(super) fn new(word: &'a str) -> Self {
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

    pub(super) fn lookup<T: Copy>(&self, table: &[(&str, T)]) -> Option<T> {
        table.iter().find(|(key, _)| self.is(key)).map(|&(_, v)| v)
    }

    pub(super) fn any(&self, table: &[&str]) -> bool {
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
