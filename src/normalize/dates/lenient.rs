//! Lenient path: the string cut into tokens (numbers, classified words, punctuation), then the
//! layouts tried at every token position, times and zones around them, and relative dates.

use std::borrow::Cow;
use std::iter::Peekable;
use std::ops::RangeInclusive;
use std::str::CharIndices;

use chrono::{DateTime, Days, FixedOffset, NaiveDate, NaiveTime, TimeDelta, Timelike, Utc};

use super::locale::eq_lower;
use super::tables::{classify, WordInfo, FILLER_PUNCT, OF, ORDINALS};
use super::{
    digits_value, hms, nanos, offset, widen_year, yearless, ymd, zone_offset, DateContext, DateLocale, Order, Stamp,
    YEARS,
};

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
    let order = cx.locale.and_then(DateLocale::order);
    if layout.swap && day <= 12 && month <= 12 && day != month && order.is_none() {
        return None;
    }
    let month_first = order == Some(Order::Mdy);
    if layout.swap && day <= 12 && (month_first || month > 12) {
        std::mem::swap(&mut day, &mut month);
    }
    match f.year {
        Some((year, 4)) => ymd(buddhist_to_gregorian(i32::try_from(year).ok()?, cx), month, day),
        Some((yy, _)) => {
            // "1.2.30" is more likely a version than a date; "01.02.30" is a date. A source that
            // declares its language prints its short dates, and "5/1/24" is one.
            let numeric = month_len > 0;
            if numeric && order.is_none() && (day_len != 2 || month_len != 2) {
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

pub(super) fn lenient(s: &str, cx: &DateContext) -> Option<DateTime<Utc>> {
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
