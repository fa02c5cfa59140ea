//! Locale data: one CLDR language's date words (generated in `locale_data.rs`), found from a
//! language tag, and the allocation-free lowercase comparisons used against its keys.

use chrono::{DateTime, Months, TimeDelta, Utc};

use super::locale_data;

/// Order of day, month and year in a locale's short numeric date (CLDR's `dateFormats/short`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Order {
    Dmy,
    Mdy,
    Ymd,
    /// Not known: the locale was guessed from the text ([`DateLocale::guessed`]), which tells the
    /// language but not the country, and `01/02/2024` is 1 February in London and 2 January in New York.
    Unknown,
}

/// One CLDR locale's date words, lowercase. Month keys are the format and stand-alone forms, wide and
/// abbreviated (so genitive "июля" and nominative "июль" both); `ago` holds the past relative-time
/// patterns as (words before the number, words after it, unit).
#[derive(Debug)]
pub(super) struct LocaleData {
    pub(super) code: &'static str,
    pub(super) order: Order,
    pub(super) months: &'static [(&'static str, u32)],
    pub(super) weekdays: &'static [&'static str],
    pub(super) periods: &'static [(&'static str, bool)],
    pub(super) ago: &'static [(&'static str, &'static str, Unit)],
    pub(super) days: &'static [(&'static str, u64)],
    /// Names written with inner dots ("ม.ค", "μ.μ"), whose keys above are dotless.
    pub(super) dotted: &'static [&'static str],
    /// The word every month name ends in, keyed without it: Mongolian "нэгдүгээр сар(ын)".
    pub(super) month_words: &'static [&'static str],
    pub(super) write: Writing,
}

/// How one CLDR locale writes a date, for pages people read (`emit::human`): its patterns, in CLDR's
/// date-field syntax (`d MMMM y`, `HH:mm`, `{1}, {0}`), and the names they use, in their own case.
#[derive(Debug, Clone, Copy)]
pub struct Writing {
    /// The long date (`dateFormats/long`): `d. MMMM y`, `y年M月d日`.
    pub date: &'static str,
    /// The short time (`timeFormats/short`): `HH:mm`, `h:mm\u{202f}a`.
    pub time: &'static str,
    /// How a date and a time join (`dateTimeFormats/long`), `{1}` the date and `{0}` the time.
    pub date_time: &'static str,
    /// The twelve month names, January first, joined by `|`, in the width and context the date
    /// pattern uses; empty when it writes numbers. One string rather than twelve: each `&str` of static
    /// data costs a pointer and a relocation, more than the name's bytes.
    pub months: &'static str,
    /// AM and PM when the time pattern has a day period; else empty.
    pub periods: &'static [&'static str],
    /// The abbreviated name of the common era, when the date pattern shows it (Thai); else empty.
    pub era: &'static str,
}

/// The date words of one language, from a language tag as configs and feeds write it: `de`,
/// `de-AT`, `pt_BR`, `uz-Cyrl`, `zh-Hant-TW`. Regions fall back to their language's words, but keep
/// their own numeric order (`en-GB` is day first, `en` month first).
#[derive(Debug, Clone, Copy)]
pub struct DateLocale(pub(super) &'static LocaleData, pub(super) Order);

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
            // The generated table is sorted by code (`tools/gen_locale_data.py`), and every entry with a
            // declared or detected language looks its locale up here.
            if let Ok(found) = locale_data::LOCALES.binary_search_by(|l| cmp_ignore_ascii_case(l.code, &want)) {
                let data = &locale_data::LOCALES[found];
                let region = locale_data::REGION_ORDERS.iter().find(|(code, _)| code.eq_ignore_ascii_case(&tag));
                return Some(DateLocale(data, region.map_or(data.order, |&(_, order)| order)));
            }
            parts.pop();
        }
        None
    }

    /// The locale of a language detected in the text rather than declared: its words (month names,
    /// relative times) are read, but a numeric date whose day and month could be swapped is still
    /// refused, as with no locale at all.
    pub fn guessed(tag: &str) -> Option<DateLocale> {
        DateLocale::from_tag(tag).map(|DateLocale(data, _)| DateLocale(data, Order::Unknown))
    }

    /// The locale's order of day and month in a numeric date, when it is known.
    pub(super) fn order(self) -> Option<Order> {
        (self.1 != Order::Unknown).then_some(self.1)
    }

    /// The CLDR locale the tag resolved to: `de` for `de-AT`.
    pub fn code(self) -> &'static str {
        self.0.code
    }

    /// How the locale writes dates (its language's patterns: regions such as `en-GB` are not kept).
    pub fn writing(self) -> Writing {
        self.0.write
    }

    /// Every locale the generated data holds, each with its language's own order.
    #[cfg(test)]
    pub(crate) fn all() -> impl Iterator<Item = DateLocale> {
        locale_data::LOCALES.iter().map(|data| DateLocale(data, data.order))
    }

    /// How many locales the generated data holds.
    pub fn count() -> usize {
        locale_data::LOCALES.len()
    }
}

/// `w` lowercased equals `key` (already lowercase), without allocating.
pub(super) fn eq_lower(w: &str, key: &str) -> bool {
    w.chars().flat_map(char::to_lowercase).eq(key.chars())
}

pub(super) fn lookup_lower<T: Copy>(w: &str, table: &[(&str, T)]) -> Option<T> {
    table.iter().find(|(key, _)| eq_lower(w, key)).map(|&(_, v)| v)
}

/// The unit of a relative time (`3 hours ago`), in the built-in tables and in each locale's data.
#[derive(Debug, Clone, Copy)]
pub(super) enum Unit {
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl Unit {
    pub(super) fn back(self, from: DateTime<Utc>, n: u32) -> Option<DateTime<Utc>> {
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

/// `a` against `b`, ASCII letters compared as lowercase: the order of the generated locale codes.
fn cmp_ignore_ascii_case(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes().map(|c| c.to_ascii_lowercase()).cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}
