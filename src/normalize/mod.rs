//! Normalize: a [`RawFeed`] as the parser found it → entries that keep the model's invariants.
//!
//! In: the raw feed, the document's URL and the source's settings (its zone for zoneless dates, the
//! run's clock). Out: [`Entry`] values with absolute URLs, plain-text NFC titles, sanitized HTML and UTC
//! dates, plus one warning line per thing that had to be dropped or guessed. Identity (the entry's `id`)
//! is decided by `dedup::identify`, which sees all of a source's entries at once.
//!
//! A date that cannot be parsed is never replaced by "now": the entry keeps `published = None` and sorts
//! by its first-seen time; a date more than a day in the future is a clock or zone mistake and is
//! dropped the same way.
//!
//! Field sizes are capped here, because a feed is input someone else controls and every entry is kept,
//! compared and written many times over: a title is cut to [`MAX_TITLE_BYTES`] of normalized text and
//! an author name or a category to [`MAX_LABEL_BYTES`] (both at a word boundary, with
//! an ellipsis); a summary or content is cut to [`MAX_HTML_BYTES`] of HTML *before* sanitizing (a
//! half tag at the cut is dropped and the sanitizer closes what is left open, so the result is still
//! well-formed; escaping may grow it a little); a URL, an id or an email longer than
//! [`MAX_URL_BYTES`] / [`MAX_LABEL_BYTES`] is dropped, since a cut one would be wrong; a date string
//! longer than [`MAX_DATE_BYTES`] is not read; HTML nested deeper than
//! [`MAX_HTML_DEPTH`](html::MAX_HTML_DEPTH) keeps its text only (see `html.rs`). Each kind of cut is
//! one warning line with a count. At most [`MAX_ENTRIES`](crate::model::MAX_ENTRIES) entries are
//! normalized per feed, as in parse (it matters for `html` sources, whose entries do not come
//! through the parser).

pub mod dates;
pub mod html;
pub mod language;
pub mod text;
pub mod urls;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use url::Url;

use crate::model::{Enclosure, Entry, Person, RawEntry, RawFeed, TextKind};

/// What normalization needs to know about the source and the run.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The configured source name.
    pub source: &'a str,
    /// Where the document was read from (after redirects); relative URLs resolve against it.
    pub doc_url: Option<&'a Url>,
    pub timezone: Tz,
    /// The run's start: first-seen time of new entries, and "now" for relative dates.
    pub now: DateTime<Utc>,
    /// `[output] strip_tracking`: drop tracking parameters from the entry's link (and from its id
    /// when the id is that link), so what is stored and published is the clean link.
    pub strip_tracking: bool,
    /// The source's `locale`: dates are read in it before the entry's or feed's declared language.
    pub locale: Option<dates::DateLocale>,
}

/// An entry before identity is decided: the source's own id travels beside it.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The source's id (guid, Atom id, JSON id) as written, trimmed; `None` when blank.
    pub guid: Option<String>,
    /// `entry.id` is empty until `dedup::identify` assigns it.
    pub entry: Entry,
    /// What the entry was normalized from (`digest`); `None` when something other than
    /// normalization shaped it (an article page's text).
    pub digest: Option<RawDigest>,
    /// Taken from the store by its digest instead of normalized: what the store derived from it
    /// (its near-duplicate signature) still holds.
    pub reused: bool,
}

/// Identifies a raw entry together with everything else its normalized form depends on.
pub type RawDigest = [u8; 16];

/// Bump when the same raw entry would normalize differently (a sanitizer or date fix): stored entries
/// are then normalized again the next time their feed changes, instead of reused by [`RawDigest`].
/// 2: plain English is told by its function words, where whatlang could be unsure. 3: what a
/// `<noscript>` holds is kept as markup. 4: images with no `src` or `srcset` are dropped. 5: entries with
/// only an enclosure or image are kept, categories deduplicated ignoring case, a text's own `xml:base`;
/// a title made from the text is its first sentence; entry links lose their tracking parameters.
/// 6: dates are read with the declared language's CLDR words (months, relative times, digits). 7: the
/// region's languages (Kyrgyz, Uzbek, Tajik, Tatar, Ukrainian…) are told by their letters and words.
/// 8: Uzbek is tagged with its script, Kazakh and Tatar are told in Latin letters; with no language
/// declared, dates are read in the words of the language detected in the text.
const VERSION: u32 = 8;

/// The digest of `raw` as [`feed`] normalizes it in this context: equal digests, equal entries (but for
/// the id and first-seen time the store assigns, and a date in the future, which `feed_reusing` checks).
///
/// It hashes the raw entry field by field (std's `Hash` is prefix-free, so distinct entries cannot
/// meet by layout), with the feed's base URL and language, the source's zone, whether tracking
/// parameters are stripped and the normalizer's version. Should std ever hash differently, digests stop
/// matching and entries are normalized again: slower once, never wrong.
fn digest(raw: &RawEntry, feed_base: Option<&Url>, feed_language: Option<&str>, cx: &Context) -> RawDigest {
    use std::hash::Hash;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let settings = (cx.timezone.name(), cx.strip_tracking);
    (VERSION, env!("CARGO_PKG_VERSION"), feed_base.map(Url::as_str), feed_language, settings).hash(&mut h);
    raw.hash(&mut h);
    h.digest128().to_le_bytes()
}

/// A normalized feed.
#[derive(Debug, Clone)]
pub struct Normalized {
    pub title: Option<String>,
    pub site_url: Option<String>,
    pub candidates: Vec<Candidate>,
    pub warnings: Vec<String>,
}

/// Longest title, in bytes of normalized plain text (about 1,000 Cyrillic letters).
pub const MAX_TITLE_BYTES: usize = 2 * 1024;
/// Longest summary or content, in bytes of HTML as received.
pub const MAX_HTML_BYTES: usize = 1024 * 1024;
/// Longest author name, email or category, in bytes of normalized text.
pub const MAX_LABEL_BYTES: usize = 256;
/// Longest URL (entry link, enclosure, image, author page, site) or entry id.
pub const MAX_URL_BYTES: usize = 8 * 1024;
/// Longest date string read; real ones are under 64 bytes.
pub const MAX_DATE_BYTES: usize = 256;

/// Longest a fallback title made from an entry's text (its first sentence) may be.
const FALLBACK_TITLE_CHARS: usize = 80;
/// How far in the future a date may be before it is treated as wrong.
const FUTURE_SLACK: chrono::Duration = chrono::Duration::hours(24);

/// Whether a date as written is one [`feed`] can read in `locale`: for callers that must refuse an
/// input whose date is unreadable (a folder article) before it becomes an entry. The zone changes the
/// instant a date names, never whether it reads, so UTC stands in for the source's.
pub fn reads_date(date: &str, locale: Option<dates::DateLocale>) -> bool {
    let cx = dates::DateContext { tz: chrono_tz::UTC, now: DateTime::<Utc>::UNIX_EPOCH, locale };
    dates::parse_date(date, &cx).is_ok()
}

pub fn feed(raw: &RawFeed, cx: &Context) -> Normalized {
    feed_reusing(raw, cx, |_| HashMap::new())
}

/// [`feed`], taking each entry that `stored` returns for its digest instead of normalizing the raw entry
/// again: a feed that changed by one entry costs the normalizing of one entry. `stored` gets the
/// digests of the feed's entries and returns the stored entries it knows among them.
///
/// An entry reused this way brings no warnings (they were given when it was first normalized). A
/// stored entry without a date whose raw entry has one is normalized again: the date may have been in
/// the future then, and be valid now.
pub fn feed_reusing(
    raw: &RawFeed,
    cx: &Context,
    stored: impl FnOnce(&[RawDigest]) -> HashMap<RawDigest, Entry>,
) -> Normalized {
    let feed_base = urls::effective_base(cx.doc_url, raw.base.as_deref());
    let mut warnings = Vec::new();
    let mut oversize = Oversize::default();
    let feed_language = raw.language.as_deref().and_then(language);
    let max = crate::model::MAX_ENTRIES;
    if raw.entries.len() > max {
        warnings.push(format!("{} entries; only the first {max} kept", raw.entries.len()));
    }
    let raw_entries = &raw.entries[..raw.entries.len().min(max)];
    let digests: Vec<RawDigest> =
        raw_entries.iter().map(|e| digest(e, feed_base.as_ref(), feed_language.as_deref(), cx)).collect();
    let mut stored = stored(&digests);
    let candidates = raw_entries
        .iter()
        .zip(digests)
        .enumerate()
        .filter_map(|(i, (e, d))| {
            let reused = stored.remove(&d).filter(|s| dated_as_before(e, s)).map(|mut entry| {
                entry.id.clear();
                Candidate { guid: guid(e).map(str::to_owned), entry, digest: None, reused: true }
            });
            let mut c = reused.or_else(|| {
                entry(e, i, feed_base.as_ref(), feed_language.as_deref(), cx, &mut warnings, &mut oversize)
            })?;
            c.digest = Some(d);
            c.guid = link_id(c.guid.take(), c.entry.url.as_deref(), cx);
            Some(c)
        })
        .collect();
    oversize.report(&mut warnings);
    Normalized {
        title: raw
            .title
            .as_ref()
            .map(|t| text::truncate_bytes(&text::plain(t), MAX_TITLE_BYTES).into_owned())
            .filter(|t| !t.is_empty()),
        site_url: raw.link.as_deref().and_then(|l| urls::resolve(feed_base.as_ref(), l)).map(String::from),
        candidates,
        warnings,
    }
}

fn entry(
    raw: &RawEntry,
    index: usize,
    feed_base: Option<&Url>,
    feed_language: Option<&str>,
    cx: &Context,
    warnings: &mut Vec<String>,
    oversize: &mut Oversize,
) -> Option<Candidate> {
    let base = match raw.base.as_deref() {
        Some(b) => urls::effective_base(feed_base, Some(b)),
        None => feed_base.cloned(),
    };
    let base = base.as_ref();
    let trimmed = raw.id.as_deref().map(str::trim).filter(|g| !g.is_empty());
    if trimmed.is_some_and(|g| g.len() > MAX_URL_BYTES) || raw.link.as_ref().is_some_and(|l| l.len() > MAX_URL_BYTES) {
        oversize.urls.add(index);
    }
    let guid = guid(raw).map(str::to_owned);
    let url = raw
        .link
        .as_deref()
        .and_then(|l| urls::resolve(base, l))
        .or_else(|| guid.as_deref().filter(|_| raw.id_is_permalink).and_then(|g| urls::resolve(base, g)))
        .map(|u| if cx.strip_tracking { urls::without_tracking(u) } else { u });

    let mut sanitize = |t: &crate::model::Text| {
        let value = if t.value.len() > MAX_HTML_BYTES {
            oversize.bodies.add(index);
            text::html_prefix(&t.value, MAX_HTML_BYTES)
        } else {
            &t.value
        };
        // `<content xml:base="…">` moves the base for its own text only.
        let own_base = t.base.as_deref().and_then(|b| urls::effective_base(base, Some(b)));
        match t.kind {
            TextKind::Html => {
                let (clean, too_deep) = html::sanitize_flagged(value, own_base.as_ref().or(base));
                if too_deep {
                    oversize.deep.add(index);
                }
                clean
            }
            // Plain text becomes HTML by escaping, with line breaks kept as paragraphs of one line each.
            TextKind::Text => {
                let escaped = escape_html(value.trim());
                (!escaped.is_empty()).then(|| escaped.replace('\n', "<br>"))
            }
        }
    };
    let summary_html = raw.summary.as_ref().and_then(&mut sanitize);
    let content_html = raw.content.as_ref().and_then(&mut sanitize);

    let mut title = raw.title.as_ref().map(text::plain).unwrap_or_default();
    if title.len() > MAX_TITLE_BYTES {
        oversize.titles.add(index);
        title = text::truncate_bytes(&title, MAX_TITLE_BYTES).into_owned();
    }
    // The start of the text, for a missing title and for language detection below.
    let lead = content_html.as_deref().or(summary_html.as_deref()).unwrap_or_default();
    // Both read at most its first SAMPLE_CHARS characters.
    let lead = text::html_text_start(text::html_start(lead, language::SAMPLE_CHARS), language::SAMPLE_CHARS);
    if title.is_empty() {
        title = text::first_sentence(&lead, FALLBACK_TITLE_CHARS).into_owned();
    }
    if title.is_empty() {
        title = url.as_ref().map(Url::to_string).unwrap_or_default();
    }
    let enclosures: Vec<Enclosure> = raw
        .enclosures
        .iter()
        .filter_map(|e| {
            let url = urls::resolve(base, &e.url)?;
            Some(Enclosure {
                url: url.into(),
                mime: e.mime.as_deref().map(str::trim).filter(|m| m.contains('/')).map(str::to_ascii_lowercase),
                length: e.length.filter(|l| *l > 0),
                duration_secs: e.duration_secs,
            })
        })
        .collect();
    let image = raw.image.as_deref().and_then(|i| urls::resolve(base, i)).map(String::from);
    // A podcast episode or a photo may carry nothing but its file: that file is what a reader sees.
    if title.is_empty() {
        title = enclosures.first().map(|e| e.url.clone()).or_else(|| image.clone()).unwrap_or_default();
    }
    // Text with nothing to read but a picture or a video (`<img src=…>` alone) is still something to see.
    if title.is_empty() {
        title = content_html.as_deref().or(summary_html.as_deref()).and_then(first_media_src).unwrap_or_default();
    }
    if title.is_empty() {
        warnings.push(format!("entry #{}: no title, link, text, enclosure or image; skipped", index + 1));
        return None;
    }

    let authors = raw
        .authors
        .iter()
        .filter_map(|p| {
            let person = Person {
                name: p.name.as_deref().map(|n| oversize.label(index, text::html_to_text(n))).filter(|n| !n.is_empty()),
                email: p
                    .email
                    .as_deref()
                    .map(str::trim)
                    .filter(|e| e.contains('@') && e.len() <= MAX_LABEL_BYTES)
                    .map(str::to_owned),
                url: p.url.as_deref().and_then(|u| urls::resolve(base, u)).map(String::from),
            };
            (person != Person::default()).then_some(person)
        })
        .fold(Vec::new(), |mut acc, p| {
            if !acc.contains(&p) {
                acc.push(p);
            }
            acc
        });

    // The first spelling of a term wins: `<category>Politics</category>` and `dc:subject` "politics" are one.
    let mut categories: Vec<String> = Vec::new();
    for c in &raw.categories {
        let c = oversize.label(index, text::html_to_text(c));
        if !c.is_empty() && !categories.iter().any(|kept| crate::model::same_term(kept, &c)) {
            categories.push(c);
        }
    }

    let mut entry = Entry {
        id: String::new(),
        source: cx.source.to_owned(),
        url: url.map(String::from),
        title,
        summary_html,
        content_html,
        authors,
        categories,
        published: None,
        updated: None,
        first_seen: cx.now,
        language: raw.language.as_deref().and_then(language).or_else(|| feed_language.map(str::to_owned)),
        enclosures,
        image,
        via: Vec::new(),
    };
    // Feeds declare one language for everything they publish; the text says what each entry is in.
    entry.language = language::of_entry(&entry, &lead);

    // Dates are read in the source's `locale`, else the entry's declared language, else the feed's
    // (`<language>`, `xml:lang`, `dc:language`), else the language the text was detected in, whose
    // words are read but which cannot say whether `01/02/2024` is day or month first. The built-in
    // English, Russian and Kazakh words are read in any case.
    let declared = raw.language.as_deref().or(feed_language).and_then(dates::DateLocale::from_tag);
    let date_locale = cx.locale.or(declared).or_else(|| entry.language.as_deref().and_then(dates::DateLocale::guessed));
    entry.published = date(raw.published.as_deref(), "published", index, date_locale, cx, warnings);
    entry.updated = date(raw.updated.as_deref(), "updated", index, date_locale, cx, warnings);
    Some(Candidate { guid, entry, digest: None, reused: false })
}

/// The first `src` in sanitized HTML (an image, video or audio), entities decoded. The sanitizer writes
/// every attribute as `name="value"` with `"` escaped inside, so the first `"` ends the value.
fn first_media_src(html: &str) -> Option<String> {
    let (_, rest) = html.split_once(" src=\"")?;
    let value = rest.split('"').next()?;
    let src = text::html_to_text(value);
    (!src.is_empty()).then_some(src)
}

/// The source's id, without tracking parameters when it is the entry's link with them (`url` has
/// lost them already): an id that is the link is published as the clean link. An entry already
/// stored under the old id keeps it, as the store finds it by its canonical link, which tracking
/// parameters do not change.
fn link_id(guid: Option<String>, url: Option<&str>, cx: &Context) -> Option<String> {
    let (Some(g), Some(url)) = (guid.as_deref(), url) else { return guid };
    if !cx.strip_tracking || g == url || !g.contains('?') {
        return guid;
    }
    let is_link = Url::parse(g).is_ok_and(|parsed| urls::without_tracking(parsed).as_str() == url);
    if is_link {
        Some(url.to_owned())
    } else {
        guid
    }
}

/// The source's own id for the entry, trimmed: `None` when blank or too long to keep.
fn guid(raw: &RawEntry) -> Option<&str> {
    raw.id.as_deref().map(str::trim).filter(|g| !g.is_empty() && g.len() <= MAX_URL_BYTES)
}

/// Whether a stored entry has every date its raw entry gives: one it lacks was unreadable or in the
/// future when it was normalized, and only normalizing again tells which.
fn dated_as_before(raw: &RawEntry, stored: &Entry) -> bool {
    let given = |d: &Option<String>| d.as_deref().is_some_and(|d| !d.trim().is_empty());
    (!given(&raw.published) || stored.published.is_some()) && (!given(&raw.updated) || stored.updated.is_some())
}

fn date(
    raw: Option<&str>,
    what: &str,
    index: usize,
    locale: Option<dates::DateLocale>,
    cx: &Context,
    warnings: &mut Vec<String>,
) -> Option<DateTime<Utc>> {
    let raw = raw?.trim();
    if raw.is_empty() {
        return None;
    }
    if raw.len() > MAX_DATE_BYTES {
        let excerpt = text::truncate_bytes(raw, 64);
        warnings.push(format!(
            "entry #{}: {what} date {excerpt:?} is too long to be one; using first-seen time",
            index + 1
        ));
        return None;
    }
    let date_cx = dates::DateContext { tz: cx.timezone, now: cx.now, locale };
    match dates::parse_date(raw, &date_cx) {
        Ok(d) if d > cx.now + FUTURE_SLACK => {
            warnings.push(format!("entry #{}: {what} date {raw:?} is in the future; using first-seen time", index + 1));
            None
        }
        Ok(d) => Some(d),
        Err(_) => {
            warnings.push(format!("entry #{}: unrecognized {what} date {raw:?}; using first-seen time", index + 1));
            None
        }
    }
}

/// Fields cut or dropped for their size, counted per kind so that a feed of 10,000 oversized entries
/// costs one warning line per kind, not 10,000.
#[derive(Default)]
struct Oversize {
    titles: Tally,
    bodies: Tally,
    labels: Tally,
    urls: Tally,
    deep: Tally,
}

#[derive(Default)]
struct Tally {
    count: usize,
    /// Index of the first entry affected.
    first: usize,
}

impl Tally {
    fn add(&mut self, index: usize) {
        if self.count == 0 {
            self.first = index;
        }
        self.count += 1;
    }
}

impl Oversize {
    /// `label` cut to [`MAX_LABEL_BYTES`], counted when it was longer.
    fn label(&mut self, index: usize, label: String) -> String {
        if label.len() <= MAX_LABEL_BYTES {
            return label;
        }
        self.labels.add(index);
        text::truncate_bytes(&label, MAX_LABEL_BYTES).into_owned()
    }

    fn report(&self, warnings: &mut Vec<String>) {
        let kinds = [
            (&self.titles, format!("title longer than {MAX_TITLE_BYTES} bytes cut")),
            (&self.bodies, format!("summary or content longer than {MAX_HTML_BYTES} bytes of HTML cut")),
            (&self.labels, format!("author name or category longer than {MAX_LABEL_BYTES} bytes cut")),
            (&self.urls, format!("link or id longer than {MAX_URL_BYTES} bytes dropped")),
            (&self.deep, format!("HTML nested deeper than {} levels kept as text only", html::MAX_HTML_DEPTH)),
        ];
        for (tally, what) in kinds {
            match tally.count {
                0 => {}
                1 => warnings.push(format!("entry #{}: {what}", tally.first + 1)),
                n => warnings.push(format!("{what} ({n} times, first in entry #{})", tally.first + 1)),
            }
        }
    }
}

/// A BCP 47-ish language tag, lowercased, `_` → `-` (`ru_RU` → `ru-ru`); junk dropped.
fn language(tag: &str) -> Option<String> {
    let tag = tag.trim().replace('_', "-").to_ascii_lowercase();
    let ok = !tag.is_empty() && tag.len() <= 35 && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    ok.then_some(tag)
}

pub(crate) fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
