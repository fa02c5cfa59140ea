//! Plain text out of whatever a feed calls a title: HTML fragments, double-escaped entities, stray
//! whitespace, decomposed Unicode.
//!
//! Titles, author names, categories and the text used for fingerprints all pass through here. This is a
//! small tag-stripping scanner rather than an HTML parser: it only has to find text, never to build a
//! tree, and it runs on every entry of every feed.

use std::borrow::Cow;

use quick_xml::escape::resolve_html5_entity;
use unicode_normalization::{IsNormalized, UnicodeNormalization};

use crate::model::{Text, TextKind};

/// Plain text of a feed text construct: markup removed, entities decoded, whitespace collapsed, NFC.
pub fn plain(text: &Text) -> String {
    match text.kind {
        TextKind::Html => html_to_text(&text.value),
        // "Plain" RSS titles routinely carry escaped markup (`&lt;b&gt;`, `AT&amp;amp;T`) that survived
        // one round of XML decoding; treat them as HTML when they look like it.
        TextKind::Text if looks_like_markup(&text.value) => html_to_text(&text.value),
        TextKind::Text => collapse(&text.value),
    }
}

/// The first `n` characters of `s` (all of it when shorter), cut on a character boundary.
pub fn first_chars(s: &str, n: usize) -> &str {
    // No more bytes than `n` is no more characters.
    if s.len() <= n {
        return s;
    }
    match s.char_indices().nth(n) {
        Some((cut, _)) => &s[..cut],
        None => s,
    }
}

/// The start of an HTML fragment that surely holds its first `chars` characters of text (markup is
/// allowed to be 15 times the text), cut before a tag the cut would split: for work that reads only the
/// start of a text (language detection, near-duplicate ledes), so a long article is not converted whole.
pub fn html_start(html: &str, chars: usize) -> &str {
    html_prefix(html, chars.saturating_mul(16))
}

/// At most `max_bytes` of an HTML fragment, cut on a character boundary and before a tag the cut would
/// split; the whole fragment when it fits.
pub fn html_prefix(html: &str, max_bytes: usize) -> &str {
    if html.len() <= max_bytes {
        return html;
    }
    let mut cut = max_bytes;
    while !html.is_char_boundary(cut) {
        cut -= 1;
    }
    let start = &html[..cut];
    match start.rfind('<') {
        Some(lt) if !start[lt..].contains('>') => &start[..lt],
        _ => start,
    }
}

/// Text content of an HTML fragment: tags and comments dropped, `script`/`style` dropped with their
/// content, block boundaries turned into spaces, entities decoded, whitespace collapsed, NFC.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    scan(html, &mut out, usize::MAX);
    collapse(&out)
}

/// Whether [`html_to_text`]`(html)` is not empty, read only as far as the first visible character.
pub fn has_text(html: &str) -> bool {
    let mut raw = String::new();
    let complete = scan(html, &mut raw, 256);
    raw.chars().any(is_visible) || (!complete && !html_to_text(html).is_empty())
}

/// The start of [`html_to_text`]`(html)`, sure of its first `chars` characters only: a prefix of it
/// that holds more than `chars` characters, or all of it. For work that reads only the start of a text
/// (language detection, a fallback title), so that a long article is not converted whole.
pub fn html_text_start(html: &str, chars: usize) -> String {
    // Cyrillic and most alphabets take two bytes a character, CJK three, a few scripts four: the
    // smaller budget is tried first. Whitespace that collapses away rarely eats the slack, and when it
    // does the whole text is converted below.
    for bytes_per_char in [2, 4] {
        let budget = chars.saturating_add(64).saturating_mul(bytes_per_char);
        let mut raw = String::with_capacity(budget.min(html.len()));
        if scan(html, &mut raw, budget) {
            return collapse(&raw);
        }
        // The collapsed text of a prefix is a prefix of the whole one's, short of a trailing space. NFC
        // never composes across an ASCII character (one with no combining class that composes with
        // nothing before it), so cutting before one keeps the normalized head a prefix as well.
        let spaced = collapse_spaces(&raw);
        let cut = spaced.char_indices().skip(chars + 1).find(|(_, c)| c.is_ascii()).map(|(i, _)| i);
        if let Some(cut) = cut {
            let head = nfc(spaced[..cut].to_owned());
            if head.chars().count() > chars {
                return head;
            }
        }
    }
    html_to_text(html)
}

/// Appends the decoded text of `html` (tags dropped, block boundaries as spaces, not collapsed) to
/// `out`; stops between two pieces of text once `out` holds `budget` bytes, and says whether it read
/// everything.
fn scan(html: &str, out: &mut String, budget: usize) -> bool {
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        if out.len() >= budget {
            return false;
        }
        push_decoded(out, &rest[..lt]);
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let after_lt = &rest[1..];
        if !after_lt.starts_with(|c: char| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?')) {
            // `<` followed by something that cannot start a tag ("<3", "< 5") is text, as in HTML.
            // Deciding it before looking for a `>` keeps a long run of such `<` linear.
            out.push('<');
            rest = after_lt;
            continue;
        }
        let Some(gt) = rest.find('>') else {
            // A `<` with no `>` after it is text ("a <b").
            push_decoded(out, rest);
            rest = "";
            break;
        };
        let tag = &rest[1..gt];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        rest = &rest[gt + 1..];
        if !tag.starts_with('/') && matches!(name.as_str(), "script" | "style" | "template") {
            let close = format!("</{name}");
            rest = find_ascii_ci(rest, &close).map_or("", |i| {
                let after = &rest[i..];
                after.find('>').map_or("", |g| &after[g + 1..])
            });
            continue;
        }
        if is_block(&name) {
            out.push(' ');
        }
    }
    push_decoded(out, rest);
    true
}

/// Whitespace runs (including NBSP and other Unicode spaces) become one space; control characters are
/// dropped (XML cannot carry most of them, and no title needs one); ends trimmed; NFC.
pub fn collapse(s: &str) -> String {
    nfc(collapse_spaces(s))
}

/// [`collapse`] short of NFC, and short of a trailing space: the collapsed text of a prefix of `s` is a
/// prefix of that of `s`.
fn collapse_spaces(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    let mut rest = s;
    while !rest.is_empty() {
        // A run of characters that are neither space nor control is copied whole.
        let run = rest.find(|c: char| !is_plain(c)).unwrap_or(rest.len());
        if run > 0 {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push_str(&rest[..run]);
            rest = &rest[run..];
            continue;
        }
        let mut chars = rest.chars();
        let Some(c) = chars.next() else { break };
        rest = chars.as_str();
        if is_space(c) {
            pending_space = !out.is_empty();
        } else if !c.is_control() {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// A character [`collapse`] turns into a space.
fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{a0}' || c == '\u{200b}'
}

/// A character [`collapse`] keeps.
fn is_visible(c: char) -> bool {
    !is_space(c) && !c.is_control()
}

/// A character [`collapse`] keeps as it is, answered by range for printable ASCII and U+00A1–U+167F
/// (Latin, Greek, Cyrillic, Armenian, Hebrew, Arabic, Indic…: no space and no control among them); the
/// rest is left to the slow path.
fn is_plain(c: char) -> bool {
    matches!(c, '!'..='~' | '\u{a1}'..='\u{167f}')
}

/// `s` in NFC. Most text is already NFC (Cyrillic and Latin letters are precomposed): the quick check
/// skips the decompose-recompose pass, which otherwise dominates normalizing, and the letters that
/// never start or join a composition skip the quick check's table look-ups.
fn nfc(s: String) -> String {
    let Some(tail) = s.find(|c: char| !is_nfc_inert(c)) else {
        return s;
    };
    // An inert character leaves the quick check's state as it found it: the check may start after them.
    if unicode_normalization::is_nfc_quick(s[tail..].chars()) == IsNormalized::Yes {
        s
    } else {
        s.nfc().collect()
    }
}

/// Characters that are NFC on their own (quick check "yes") with combining class 0: Latin up to the
/// combining accents, the Russian and Kazakh Cyrillic letters (not the combining signs U+0483–U+0489)
/// and common punctuation. `nfc_inert_ranges_are_inert` checks each against the Unicode tables.
pub(crate) fn is_nfc_inert(c: char) -> bool {
    matches!(c, '\0'..='\u{2ff}' | '\u{400}'..='\u{482}' | '\u{48a}'..='\u{52f}' | '\u{2010}'..='\u{2027}')
}

/// A title made from an entry's text: its first sentence, cut as [`truncate_words`] when longer than
/// `max_chars`. A sentence ends at `.`, `!`, `?` or `…` followed by a space and then not a lowercase
/// letter (`т.б. және`, `e.g. this` go on), once it holds two words at least (`Dr. Smith` goes on).
/// A final `.` is dropped, as titles have none; `!` and `?` stay.
pub fn first_sentence(s: &str, max_chars: usize) -> Cow<'_, str> {
    let s = s.trim();
    let mut end = s.len();
    for (i, c) in s.char_indices() {
        if !matches!(c, '.' | '!' | '?' | '…') {
            continue;
        }
        let after = i + c.len_utf8();
        let rest = &s[after..];
        let Some(next) = rest.trim_start().chars().next() else { break };
        let spaced = rest.starts_with(char::is_whitespace);
        if spaced && !next.is_lowercase() && s[..i].trim().contains(' ') {
            end = after;
            break;
        }
    }
    let sentence = &s[..end];
    let sentence = match sentence.strip_suffix('.') {
        // An ellipsis written as dots is kept.
        Some(head) if !head.ends_with('.') => head,
        _ => sentence,
    };
    truncate_words(sentence, max_chars)
}

/// The first `max_chars` characters of `s`, cut at a word boundary when one is near, with an ellipsis.
pub fn truncate_words(s: &str, max_chars: usize) -> Cow<'_, str> {
    let Some((cut, _)) = s.char_indices().nth(max_chars) else {
        return Cow::Borrowed(s);
    };
    let head = &s[..cut];
    let head = match head.rfind(' ') {
        Some(space) if space > cut / 2 => &head[..space],
        _ => head,
    };
    Cow::Owned(format!("{}…", head.trim_end()))
}

/// `s` cut to at most `max_bytes` bytes, ellipsis included: at a word boundary when one is in the
/// second half, else at a character boundary.
pub fn truncate_bytes(s: &str, max_bytes: usize) -> Cow<'_, str> {
    if s.len() <= max_bytes {
        return Cow::Borrowed(s);
    }
    let mut cut = max_bytes.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = &s[..cut];
    let head = match head.rfind(' ') {
        Some(space) if space > cut / 2 => &head[..space],
        _ => head,
    };
    Cow::Owned(format!("{}…", head.trim_end()))
}

fn looks_like_markup(s: &str) -> bool {
    let has_tag = s
        .match_indices('<')
        .any(|(i, _)| s[i + 1..].chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!'));
    has_tag || s.match_indices('&').any(|(i, _)| entity_at(&s[i..]).is_some())
}

fn push_decoded(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        match entity_at(rest) {
            Some((decoded, len)) => {
                out.push_str(&decoded);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
}

/// The character(s) an entity reference at the start of `s` stands for, and its length in bytes.
fn entity_at(s: &str) -> Option<(Cow<'static, str>, usize)> {
    let body = s.strip_prefix('&')?;
    let end = body.char_indices().take(32).find(|(_, c)| *c == ';').map(|(i, _)| i)?;
    let name = &body[..end];
    let len = end + 2;
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        let c = char::from_u32(code).filter(|c| *c != '\0').unwrap_or('\u{fffd}');
        return Some((Cow::Owned(c.to_string()), len));
    }
    resolve_html5_entity(name).map(|v| (Cow::Borrowed(v), len))
}

fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    let n = needle.len();
    haystack.as_bytes().windows(n).position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "br"
            | "div"
            | "li"
            | "ul"
            | "ol"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "tr"
            | "td"
            | "th"
            | "blockquote"
            | "pre"
            | "hr"
            | "section"
            | "article"
            | "figure"
            | "figcaption"
            | "table"
            | "dd"
            | "dt"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_from_text_is_its_first_sentence() {
        let t = |s| first_sentence(s, 80).into_owned();
        assert_eq!(t("Парламент заңды қабылдады. Ертең күшіне енеді."), "Парламент заңды қабылдады");
        assert_eq!(t("Вы слышали? Новый закон принят."), "Вы слышали?");
        assert_eq!(t("Wow! Big news today."), "Wow! Big news today", "one word is no sentence");
        assert_eq!(t("See e.g. the list. Next one."), "See e.g. the list");
        assert_eq!(t("Dr. Smith came home late. He slept."), "Dr. Smith came home late");
        assert_eq!(t("Version 2.0 is out"), "Version 2.0 is out");
        assert_eq!(t("It goes on... and on."), "It goes on... and on");
        assert_eq!(t("  "), "");
        let long = "Сөз соңында партия Төрағасының Бірінші орынбасары жастарды масылдыққа бой алдырмай, көздеген мақсатқа жету. Екінші.";
        let title = t(long);
        assert_eq!(title, "Сөз соңында партия Төрағасының Бірінші орынбасары жастарды масылдыққа бой…");
        assert!(title.chars().count() <= 81);
    }

    #[test]
    fn has_text_says_whether_the_text_is_empty() {
        use proptest::prelude::*;
        let long_blank = format!("{}x", "<p> &nbsp;\u{200b}</p>\n".repeat(100));
        for html in
            ["", "<p> </p>", "&nbsp;<br>\u{200b}", "<script>x</script>", "<!-- x -->", "a", "<p>\u{1}</p>", &long_blank]
        {
            assert_eq!(has_text(html), !html_to_text(html).is_empty(), "{html:?}");
        }
        assert!(has_text(&long_blank));
        proptest!(|(html in "(<p>|</p>|<br>|<!--|-->|<script>|</script>|&nbsp;|&#8203;|&amp;| |\n|\u{a0}|\u{200b}|\u{1}|x|ә){0,40}")| {
            prop_assert_eq!(has_text(&html), !html_to_text(&html).is_empty(), "{:?}", html);
        });
    }

    #[test]
    fn strips_tags_and_decodes_entities() {
        assert_eq!(html_to_text("<b>Nur&nbsp;Otan</b> &laquo;айтыс&raquo; &amp; co"), "Nur Otan «айтыс» & co");
        assert_eq!(html_to_text("<p>one</p><p>two</p><br>three"), "one two three");
        assert_eq!(html_to_text("a <script>alert('<p>')</script>b<style>p{}</style>"), "a b");
        assert_eq!(html_to_text("x <!-- hidden --> y"), "x y");
        assert_eq!(html_to_text("1 < 2 and 3 <4"), "1 < 2 and 3 <4");
        assert_eq!(html_to_text("I <3 you > all, 1<2 > 0"), "I <3 you > all, 1<2 > 0");
        assert_eq!(html_to_text("&#1178;аз &#x49B; &bogus; & done"), "Қаз қ &bogus; & done");
    }

    #[test]
    fn a_long_run_of_less_than_signs_is_read_in_linear_time() {
        // Each `<` used to look for the next `>`: quadratic, minutes for a few megabytes.
        let hostile = format!("{}>", "<".repeat(2_000_000));
        let started = std::time::Instant::now();
        assert_eq!(html_to_text(&hostile).len(), hostile.len());
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    }

    #[test]
    fn plain_titles_are_only_treated_as_html_when_they_look_like_it() {
        assert_eq!(plain(&Text::plain("AT&T  <3  news\n")), "AT&T <3 news");
        assert_eq!(plain(&Text::plain("Double &amp;amp; escaped")), "Double &amp; escaped");
        assert_eq!(plain(&Text::plain("<b>Bold</b> title")), "Bold title");
        assert_eq!(plain(&Text::html("Tom &amp; Jerry")), "Tom & Jerry");
    }

    #[test]
    fn collapses_unicode_spaces_and_normalizes_to_nfc() {
        // "й" written as и + combining breve must compose.
        assert_eq!(collapse("\u{a0} Баи\u{306}бек\u{2003}  айтты \n"), "Байбек айтты");
        assert_eq!(collapse("bell\u{7} \u{1}title \u{1} x"), "bell title x");
    }

    #[test]
    fn nfc_inert_ranges_are_inert() {
        use unicode_normalization::char::canonical_combining_class;
        for c in ('\0'..='\u{2027}').filter(|c| is_nfc_inert(*c)) {
            assert_eq!(unicode_normalization::is_nfc_quick(std::iter::once(c)), IsNormalized::Yes, "{c:?}");
            assert_eq!(canonical_combining_class(c), 0, "{c:?}");
        }
        for c in ('\0'..='\u{1680}').filter(|c| is_plain(*c)) {
            assert!(!c.is_whitespace() && !c.is_control() && !matches!(c, '\u{a0}' | '\u{200b}'), "{c:?}");
        }
    }

    #[test]
    fn the_start_of_a_text_is_the_start_of_the_whole_text() {
        let words =
            ["Сәлем", "әлем,", "Баи\u{306}бек", "e\u{301}", "word", "&amp;", "<b>x</b>", "<p>", "\u{a0}", "1", "漢字"];
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..300 {
            let n = rng.usize(0..400);
            let html: String = (0..n)
                .map(|_| format!("{}{}", words[rng.usize(..words.len())], [" ", "", "\n  "][rng.usize(..3)]))
                .collect();
            for chars in [0, 5, 80, 600] {
                let whole = html_to_text(&html);
                let start = html_text_start(&html, chars);
                assert!(whole.starts_with(&start), "{html:?}");
                assert!(start == whole || start.chars().count() > chars, "{html:?}");
            }
        }
    }

    #[test]
    fn truncates_at_word_boundaries() {
        assert_eq!(truncate_words("short", 10), "short");
        assert_eq!(truncate_words("Қызылорда облысына барды", 15), "Қызылорда…");
    }

    #[test]
    fn html_start_keeps_whole_tags_and_enough_text() {
        let html = format!("<p>{}</p><p><a href=\"https://abai.kz/x\">сілтеме</a></p>", "Сәлем әлем. ".repeat(10));
        assert_eq!(html_start(&html, 1000), html, "short fragments are kept whole");
        let cut = html_start(&html, 10);
        assert!(cut.len() <= 160 && html.starts_with(cut));
        assert!(html_to_text(cut).starts_with("Сәлем әлем."));
        // 14 characters allow 224 bytes: the cut falls inside `<a href=…>` (at byte 220) and drops it.
        assert_eq!(html_start(&html, 14), &html[..220]);
        // A cut inside a tag drops the partial tag instead of leaking it as text.
        let tag = format!("{}<a href=\"https://abai.kz/{}\">", "ә".repeat(70), "x".repeat(40));
        assert_eq!(html_start(&tag, 10), "ә".repeat(70));
    }

    #[test]
    fn truncates_to_a_byte_budget_on_char_boundaries() {
        assert_eq!(truncate_bytes("short", 5), "short");
        // "Қызылорда " is 19 bytes: the cut falls after the space, which is in the second half.
        assert_eq!(truncate_bytes("Қызылорда облысына барды", 24), "Қызылорда…");
        // No space: cut inside the word, never inside a character.
        let cut = truncate_bytes("ҚҚҚҚҚҚҚҚҚҚ", 10);
        assert_eq!(cut, "ҚҚҚ…");
        assert!(cut.len() <= 10);
        for max in 0..30 {
            assert!(truncate_bytes("аб вг 😀😀 де", max).len() <= max.max(3), "{max}");
        }
    }
}
