//! Explicit formats: a source's `date_format`, for pages whose dates the lenient path reads wrongly
//! or not at all. strftime-like, but month and weekday names come from the built-in tables, so `%B`
//! reads "Шілде" and "июля" as well as "July".

use chrono::{DateTime, Datelike, FixedOffset, Utc};

use super::tables::{month_named, Probe, WEEKDAYS, ZONES};
use super::{
    digits_value, excerpt, hms, offset, widen_year, yearless, ymd, zone_offset, DateContext, DateError, Stamp, YEARS,
};

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

pub(super) const KNOWN_DIRECTIVES: &str = "%Y %y %m %B %b %h %d %e %H %k %I %l %M %S %p %z %Z %A %a %s %%";

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
