//! Fast paths: exact RFC 3339 and RFC 822 shapes, byte by byte, no allocation. Anything that does not
//! fit exactly falls through to the lenient path, which reads the same shapes (and their breakages).

use chrono::NaiveTime;

use super::tables::{Probe, MONTHS_EN, WEEKDAYS, ZONES};
use super::{digits_value, hms, nanos, offset, widen_year, ymd, zone_offset, DateContext, Stamp};

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
pub(super) fn fast_rfc3339(s: &str) -> Option<Stamp> {
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
pub(super) fn fast_rfc822(s: &str, cx: &DateContext) -> Option<Stamp> {
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
