//! Small formatting pieces every emitter shares: escaping for XML and HTML, the two date formats, and
//! HTML → plain text for JSON Feed's `summary`.
//!
//! The escapers and date writers append to a caller's `String` instead of returning new ones: a
//! 10,000-entry feed is written into one buffer with no per-field allocation. Escaping also *strips* the characters XML 1.0
//! forbids (C0 controls other than tab, LF and CR, and U+FFFE/U+FFFF), because one such character makes
//! a whole document unreadable for a strict parser, and nothing of value is lost by dropping them. The
//! same rules serve HTML, where those characters are parse errors too.

use std::borrow::Cow;
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Timelike, Utc};

use crate::model::Entry;

/// Appends `s` as XML/HTML character data: `&`, `<`, `>` escaped, CR kept as `&#13;` (a parser would
/// otherwise fold it into LF), forbidden characters dropped.
pub(crate) fn push_text(out: &mut String, s: &str) {
    push_escaped(out, s, false);
}

/// Appends `s` as the value of a `"`-quoted attribute: as [`push_text`], plus `"`, and tab/LF/CR as
/// character references, since attribute-value normalization would turn them into spaces.
pub(crate) fn push_attr(out: &mut String, s: &str) {
    push_escaped(out, s, true);
}

/// Appends `{indent}<name>{escaped text}</name>` and a newline.
pub(crate) fn element(out: &mut String, indent: &str, name: &str, text: &str) {
    out.push_str(indent);
    out.push('<');
    out.push_str(name);
    out.push('>');
    push_text(out, text);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

/// Bytes that may need work, for text (`[0]`) and attributes (`[1]`): a table lookup lets the scan
/// skip the long plain runs of ordinary text in one tight loop.
static SPECIAL: [[bool; 256]; 2] = {
    let mut table = [[false; 256]; 2];
    let mut b = 0;
    while b < 0x20 {
        // Tab and LF are fine in text; everything else below 0x20 is CR (escaped) or forbidden.
        table[0][b] = b != b'\t' as usize && b != b'\n' as usize;
        table[1][b] = true;
        b += 1;
    }
    let mut i = 0;
    while i < 2 {
        table[i][b'&' as usize] = true;
        table[i][b'<' as usize] = true;
        table[i][b'>' as usize] = true;
        // Lead byte of U+FFFE / U+FFFF; checked further below.
        table[i][0xef] = true;
        i += 1;
    }
    table[1][b'"' as usize] = true;
    table
};

fn push_escaped(out: &mut String, s: &str, attr: bool) {
    let bytes = s.as_bytes();
    let special = &SPECIAL[usize::from(attr)];
    // Everything that needs work is ASCII, or the 3-byte sequences EF BF BE / EF BF BF (U+FFFE,
    // U+FFFF), so every slice boundary below falls on a char boundary.
    let mut start = 0;
    let mut i = 0;
    while let Some(offset) = bytes[i..].iter().position(|&b| special[usize::from(b)]) {
        i += offset;
        let (replacement, width) = match bytes[i] {
            b'&' => ("&amp;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            b'"' => ("&quot;", 1),
            b'\r' => ("&#13;", 1),
            b'\n' => ("&#10;", 1),
            b'\t' => ("&#9;", 1),
            0xef if bytes.get(i + 1) == Some(&0xbf) && matches!(bytes.get(i + 2), Some(0xbe | 0xbf)) => ("", 3),
            0xef => {
                i += 1;
                continue;
            }
            _ => ("", 1),
        };
        out.push_str(&s[start..i]);
        out.push_str(replacement);
        i += width;
        start = i;
    }
    out.push_str(&s[start..]);
}

/// Whether XML 1.0 forbids `c` (lone surrogates cannot occur in a `str`).
fn is_forbidden(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// `s` without the characters XML 1.0 forbids, for text derived before it is written (JSON Feed's
/// plain-text `summary`: a vertical tab must not become a space there while the XML formats drop it).
pub(crate) fn strip_forbidden(s: &str) -> Cow<'_, str> {
    if s.chars().any(is_forbidden) {
        Cow::Owned(s.chars().filter(|&c| !is_forbidden(c)).collect())
    } else {
        Cow::Borrowed(s)
    }
}

/// A buffer size that fits a whole feed of `entries`, so it is allocated once instead of being copied
/// on every doubling: room for each entry's text twice (RSS may write the content twice, and escaping
/// grows markup) plus its fixed elements. Over-estimating costs nothing: untouched pages of a large
/// allocation are never faulted in.
pub(crate) fn capacity_hint(entries: &[Entry]) -> usize {
    let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    1024 + entries
        .iter()
        .map(|e| 1024 + e.title.len() + 2 * (text(&e.summary_html) + text(&e.content_html)))
        .sum::<usize>()
}

/// `url` when it is an `http(s)` URL. Site URLs come from the feeds themselves: anything else (a
/// `javascript:` URL) must not become a clickable link in what we publish.
pub(crate) fn web_url(url: &str) -> Option<&str> {
    (url.starts_with("https://") || url.starts_with("http://")).then_some(url)
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Appends an RFC 822 date as RSS and OPML want it: `Thu, 11 Jul 2019 06:20:00 +0000`.
pub(crate) fn push_rfc822(out: &mut String, dt: DateTime<Utc>) {
    // Writing into a String cannot fail.
    let _ = write!(
        out,
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000",
        WEEKDAYS[dt.weekday().num_days_from_monday() as usize],
        dt.day(),
        MONTHS[dt.month0() as usize],
        dt.year(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
}

/// Appends an RFC 3339 date with seconds precision: `2019-07-11T06:20:00Z`.
pub(crate) fn push_rfc3339(out: &mut String, dt: DateTime<Utc>) {
    let _ = write!(out, "{}", Rfc3339(dt));
}

/// An RFC 3339 date that formats (and serializes) without an intermediate `String`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rfc3339(pub DateTime<Utc>);

impl std::fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dt = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            dt.year(),
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        )
    }
}

impl serde::Serialize for Rfc3339 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn text(s: &str) -> String {
        let mut out = String::new();
        push_text(&mut out, s);
        out
    }

    fn attr(s: &str) -> String {
        let mut out = String::new();
        push_attr(&mut out, s);
        out
    }

    #[test]
    fn escapes_markup_and_keeps_unicode() {
        assert_eq!(text(r#"a & b < c > "d" Қазақ"#), r#"a &amp; b &lt; c &gt; "d" Қазақ"#);
        assert_eq!(attr(r#"a & "b" <c>"#), "a &amp; &quot;b&quot; &lt;c&gt;");
    }

    #[test]
    fn strips_characters_xml_forbids() {
        assert_eq!(text("a\u{1}b\u{0}c\u{1f}d\u{fffe}e\u{ffff}f\u{fffd}"), "abcdef\u{fffd}");
        // Neighbours of the forbidden 3-byte sequences survive.
        assert_eq!(text("\u{ffef}\u{fdd0}\u{10000}"), "\u{ffef}\u{fdd0}\u{10000}");
    }

    #[test]
    fn strip_forbidden_agrees_with_the_escaper() {
        let s = "a\u{1}b\u{b}c\u{fffe}d\u{ffff}e\tf\ng\u{fffd}\u{7f}";
        assert_eq!(strip_forbidden(s), "abcde\tf\ng\u{fffd}\u{7f}");
        assert!(matches!(strip_forbidden("Қазақ"), Cow::Borrowed(_)));
        assert_eq!(text(s), text(&strip_forbidden(s)));
    }

    #[test]
    fn whitespace_survives_parsing() {
        assert_eq!(text("a\tb\nc\rd"), "a\tb\nc&#13;d");
        assert_eq!(attr("a\tb\nc\rd"), "a&#9;b&#10;c&#13;d");
    }

    #[test]
    fn dates_have_fixed_shapes() {
        let dt = Utc.with_ymd_and_hms(2019, 7, 11, 6, 20, 0).unwrap();
        let mut out = String::new();
        push_rfc822(&mut out, dt);
        out.push('|');
        push_rfc3339(&mut out, dt);
        assert_eq!(out, "Thu, 11 Jul 2019 06:20:00 +0000|2019-07-11T06:20:00Z");
        let sub_second = Utc.timestamp_opt(0, 999_000_000).unwrap();
        assert_eq!(Rfc3339(sub_second).to_string(), "1970-01-01T00:00:00Z");
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(256))]

        /// What the emitters write as dates, normalize reads back, to the second, from 1900 to 2199
        /// (the years it accepts), whatever zone the source is configured with.
        #[test]
        fn dates_read_back_to_the_second(secs in -2_208_988_800i64..7_258_118_400, nanos in 0u32..1_000_000_000) {
            use crate::normalize::dates::{parse_date, DateContext};
            use chrono::SubsecRound;

            let dt = DateTime::from_timestamp(secs, nanos).unwrap();
            let cx = DateContext { tz: chrono_tz::Asia::Almaty, now: dt, locale: None };
            let (mut rfc822, mut rfc3339) = (String::new(), String::new());
            push_rfc822(&mut rfc822, dt);
            push_rfc3339(&mut rfc3339, dt);
            proptest::prop_assert_eq!(rfc3339.clone(), Rfc3339(dt).to_string());
            for written in [rfc822, rfc3339] {
                proptest::prop_assert_eq!(parse_date(&written, &cx), Ok(dt.trunc_subsecs(0)), "{}", written);
            }
        }
    }
}
