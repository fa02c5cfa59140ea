//! Namespaced extensions that RSS and Atom feeds share: Dublin Core, `content:encoded`, iTunes,
//! Media RSS, and Atom elements inside RSS (`atom:link`, `atom:updated`).
//!
//! In: one element the format module did not recognise as its own. Out: its value stored in a
//! wire struct ([`EntryExt`], [`FeedExt`]), which then fills only the gaps the format's own elements
//! left ([`EntryExt::fill`]): an RSS `<description>` beats `dc:description`, which beats
//! `itunes:summary`. Keeping the extensions apart lets both adapters apply one precedence, and keeps
//! helpers that parse wire conventions (`email (Name)`, `HH:MM:SS`, enclosure lengths) in one place.

use crate::model::{same_term, Enclosure, Person, RawEntry, RawFeed, Text};

use super::xml::{Element, Node, Ns, XmlReader};
use super::{note_too_many_values, push_capped, set_first, MAX_VALUES_PER_ENTRY};

/// How deep `media:group` / `media:content` may nest before we stop descending (they recurse).
const MAX_MEDIA_DEPTH: u8 = 4;

/// An Atom `<link>` (or `atom:link` in RSS).
pub(super) struct Link {
    /// Lowercased; `alternate` when absent, IANA URIs shortened to their name.
    pub(super) rel: String,
    pub(super) href: Option<String>,
    pub(super) mime: Option<String>,
    pub(super) length: Option<u64>,
}

impl Link {
    pub(super) fn into_enclosure(self) -> Option<Enclosure> {
        Some(Enclosure { url: self.href?, mime: self.mime, length: self.length, duration_secs: None })
    }
}

/// Reads a link element's attributes and consumes the element.
pub(super) fn read_link(x: &mut XmlReader<'_>, el: &Element<'_>) -> Link {
    let [rel, href, mime, length] = x.attrs(el, [b"rel", b"href", b"type", b"length"]);
    let href = with_own_base(x, href);
    let rel = rel.map_or_else(
        || "alternate".to_owned(),
        |r| {
            let r = r.to_ascii_lowercase();
            r.strip_prefix("http://www.iana.org/assignments/relation/").map_or(r.clone(), str::to_owned)
        },
    );
    let link = Link { rel, href, mime, length: length.as_deref().and_then(parse_length) };
    x.skip();
    link
}

/// `url` resolved against the `xml:base` declared on the element just opened, when that base is absolute.
/// That base holds for this element only; the entry's base is applied in normalize.
pub(super) fn with_own_base(x: &XmlReader<'_>, url: Option<String>) -> Option<String> {
    match (url, x.own_base_url()) {
        (Some(u), Some(base)) => base.join(&u).map(String::from).ok().or(Some(u)),
        (url, _) => url,
    }
}

/// The best `rel="alternate"` link so far: the first, unless a later one is HTML and it is not.
#[derive(Default)]
pub(super) struct Alternate(Option<(String, bool)>);

impl Alternate {
    pub(super) fn offer(&mut self, link: Link) {
        let Some(href) = link.href else { return };
        let html = link.mime.as_deref().is_none_or(|m| m.to_ascii_lowercase().contains("html"));
        match &self.0 {
            Some((_, true)) => {}
            Some((_, false)) if !html => {}
            _ => self.0 = Some((href, html)),
        }
    }

    pub(super) fn into_url(self) -> Option<String> {
        self.0.map(|(href, _)| href)
    }
}

/// Extension values found in one entry.
#[derive(Default)]
pub(super) struct EntryExt {
    content_encoded: Option<Text>,
    /// `xhtml:body`: the whole item as XHTML, where `content:encoded` would hold it escaped.
    xhtml_body: Option<Text>,
    dc_creators: Vec<String>,
    dc_date: Option<String>,
    /// `dc:subject`, `itunes:keywords` and `media:keywords` (split at commas), `media:category`,
    /// `atom:category` in RSS, in document order.
    categories: Vec<String>,
    dc_language: Option<String>,
    dc_title: Option<String>,
    dc_description: Option<String>,
    dc_modified: Option<String>,
    dc_created: Option<String>,
    itunes_author: Option<String>,
    itunes_duration: Option<u64>,
    itunes_image: Option<String>,
    itunes_summary: Option<String>,
    itunes_title: Option<String>,
    itunes_subtitle: Option<String>,
    media: Vec<Enclosure>,
    media_thumbnail: Option<String>,
    media_title: Option<Text>,
    media_description: Option<Text>,
    atom_alternate: Alternate,
    atom_enclosures: Vec<Enclosure>,
    atom_published: Option<String>,
    atom_updated: Option<String>,
}

/// Reads `el` into `ext` if it is an entry extension we know, consuming it; `false` (nothing
/// consumed) otherwise.
pub(super) fn entry_element(x: &mut XmlReader<'_>, el: &Element<'_>, ext: &mut EntryExt) -> bool {
    entry_element_at(x, el, ext, 0)
}

fn entry_element_at(x: &mut XmlReader<'_>, el: &Element<'_>, ext: &mut EntryExt, depth: u8) -> bool {
    match (el.ns, el.local()) {
        (Ns::Content, b"encoded") => {
            let base = super::own_base(x);
            set_first(&mut ext.content_encoded, x.text().map(|v| Text::html(v).with_base(base)));
        }
        (Ns::Xhtml, b"body") => {
            let base = super::own_base(x);
            // Markup, unless it holds bare text only, which is text (`a < b` stays readable).
            let body = x.content(false).map(|(v, markup)| if markup { Text::html(v) } else { Text::plain(v) });
            set_first(&mut ext.xhtml_body, body.map(|t| t.with_base(base)));
        }
        (Ns::Dc, b"creator") => {
            let creator = x.text();
            push_capped(x, &mut ext.dc_creators, creator);
        }
        (Ns::Dc, b"date") => set_first(&mut ext.dc_date, x.text()),
        (Ns::Dc, b"subject") | (Ns::Media, b"category") => {
            let subject = x.text();
            push_capped(x, &mut ext.categories, subject);
        }
        (Ns::Itunes | Ns::Media, b"keywords") => {
            let keywords = x.text().unwrap_or_default();
            let terms = keywords.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
            push_capped(x, &mut ext.categories, terms);
        }
        (Ns::Dc, b"language") => set_first(&mut ext.dc_language, x.text()),
        (Ns::Dc, b"title") => set_first(&mut ext.dc_title, x.text()),
        (Ns::Dc, b"description") => set_first(&mut ext.dc_description, x.text()),
        (Ns::DcTerms, b"modified") => set_first(&mut ext.dc_modified, x.text()),
        (Ns::DcTerms, b"created" | b"issued") => set_first(&mut ext.dc_created, x.text()),
        (Ns::Itunes, b"author") => set_first(&mut ext.itunes_author, x.text()),
        (Ns::Itunes, b"duration") => set_first(&mut ext.itunes_duration, x.text().as_deref().and_then(parse_duration)),
        (Ns::Itunes, b"image") => {
            set_first(&mut ext.itunes_image, x.attr(el, b"href"));
            x.skip();
        }
        (Ns::Itunes, b"summary") => set_first(&mut ext.itunes_summary, x.text()),
        (Ns::Itunes, b"title") => set_first(&mut ext.itunes_title, x.text()),
        (Ns::Itunes, b"subtitle") => set_first(&mut ext.itunes_subtitle, x.text()),
        (Ns::Media, b"content") => {
            let [url, mime, length, duration] = x.attrs(el, [b"url", b"type", b"fileSize", b"duration"]);
            let url = with_own_base(x, url);
            let enclosure = url.map(|url| Enclosure {
                url,
                mime,
                length: length.as_deref().and_then(parse_length),
                duration_secs: duration.as_deref().and_then(parse_duration),
            });
            if let Some(enclosure) = enclosure {
                add_enclosure(x, &mut ext.media, enclosure);
            }
            media_children(x, ext, depth);
        }
        (Ns::Media, b"group") => media_children(x, ext, depth),
        (Ns::Media, b"thumbnail") => {
            set_first(&mut ext.media_thumbnail, x.attr(el, b"url"));
            x.skip();
        }
        (Ns::Media, b"title") => {
            let text = media_text(x, el);
            set_first(&mut ext.media_title, text);
        }
        (Ns::Media, b"description") => {
            let text = media_text(x, el);
            set_first(&mut ext.media_description, text);
        }
        (Ns::Atom, b"link") => {
            let link = read_link(x, el);
            match link.rel.as_str() {
                "alternate" => ext.atom_alternate.offer(link),
                "enclosure" => {
                    if let Some(enclosure) = link.into_enclosure() {
                        add_enclosure(x, &mut ext.atom_enclosures, enclosure);
                    }
                }
                _ => {}
            }
        }
        (Ns::Atom, b"category") => {
            let [term, label] = x.attrs(el, [b"term", b"label"]);
            push_capped(x, &mut ext.categories, term.or(label));
            x.skip();
        }
        (Ns::Atom, b"published") => set_first(&mut ext.atom_published, x.text()),
        (Ns::Atom, b"updated") => set_first(&mut ext.atom_updated, x.text()),
        _ => return false,
    }
    true
}

/// A `media:title` or `media:description`: plain text unless `type="html"`.
fn media_text(x: &mut XmlReader<'_>, el: &Element<'_>) -> Option<Text> {
    let html = x.attr(el, b"type").is_some_and(|t| t.eq_ignore_ascii_case("html"));
    let base = super::own_base(x);
    x.text().map(|v| if html { Text::html(v) } else { Text::plain(v) }.with_base(base))
}

/// Children of `media:group` / `media:content` (thumbnails, descriptions, nested contents).
fn media_children(x: &mut XmlReader<'_>, ext: &mut EntryExt, depth: u8) {
    loop {
        match x.next() {
            Node::Start(child) => {
                if depth >= MAX_MEDIA_DEPTH || !entry_element_at(x, &child, ext, depth + 1) {
                    x.skip();
                }
            }
            Node::End | Node::Eof => return,
        }
    }
}

impl EntryExt {
    /// Fills what the entry's own elements left empty. Enclosures and categories are merged.
    pub(super) fn fill(self, e: &mut RawEntry) {
        set_first(&mut e.title, self.dc_title.map(Text::plain));
        // YouTube's Atom feed, and many video feeds, title and describe an entry only in Media RSS.
        set_first(&mut e.title, self.media_title);
        set_first(&mut e.title, self.itunes_title.map(Text::plain));
        set_first(&mut e.link, self.atom_alternate.into_url());
        set_first(&mut e.summary, self.dc_description.map(Text::plain));
        set_first(&mut e.summary, self.itunes_summary.map(Text::plain));
        set_first(&mut e.summary, self.media_description);
        set_first(&mut e.summary, self.itunes_subtitle.map(Text::plain));
        set_first(&mut e.content, self.content_encoded);
        set_first(&mut e.content, self.xhtml_body);
        if e.authors.is_empty() {
            e.authors =
                self.dc_creators.into_iter().map(|name| Person { name: Some(name), ..Person::default() }).collect();
        }
        if e.authors.is_empty() {
            e.authors.extend(self.itunes_author.map(|name| Person { name: Some(name), ..Person::default() }));
        }
        for term in self.categories {
            if e.categories.len() < MAX_VALUES_PER_ENTRY && !e.categories.iter().any(|c| same_term(c, &term)) {
                e.categories.push(term);
            }
        }
        set_first(&mut e.published, self.dc_date);
        set_first(&mut e.published, self.atom_published);
        set_first(&mut e.published, self.dc_created);
        set_first(&mut e.updated, self.atom_updated);
        set_first(&mut e.updated, self.dc_modified);
        set_first(&mut e.language, self.dc_language);
        for enclosure in self.atom_enclosures.into_iter().chain(self.media) {
            merge_enclosure(&mut e.enclosures, enclosure);
        }
        // `itunes:duration` describes the episode, which is the first enclosure.
        if let Some(first) = e.enclosures.first_mut() {
            set_first(&mut first.duration_secs, self.itunes_duration);
        }
        set_first(&mut e.image, self.media_thumbnail);
        set_first(&mut e.image, self.itunes_image);
    }
}

/// Extension values found at feed (channel) level.
#[derive(Default)]
pub(super) struct FeedExt {
    atom_self: Option<String>,
    atom_alternate: Alternate,
    dc_language: Option<String>,
    dc_title: Option<String>,
    dc_description: Option<String>,
    itunes_image: Option<String>,
    itunes_summary: Option<String>,
    media_thumbnail: Option<String>,
    sy_period: Option<String>,
    sy_frequency: Option<String>,
}

/// Like [`entry_element`], for the children of `<channel>` (or of an Atom `<feed>`).
pub(super) fn feed_element(x: &mut XmlReader<'_>, el: &Element<'_>, ext: &mut FeedExt) -> bool {
    match (el.ns, el.local()) {
        (Ns::Atom, b"link") => {
            let link = read_link(x, el);
            match link.rel.as_str() {
                "self" => set_first(&mut ext.atom_self, link.href),
                "alternate" => ext.atom_alternate.offer(link),
                _ => {}
            }
        }
        (Ns::Dc, b"language") => set_first(&mut ext.dc_language, x.text()),
        (Ns::Dc, b"title") => set_first(&mut ext.dc_title, x.text()),
        (Ns::Dc, b"description") => set_first(&mut ext.dc_description, x.text()),
        (Ns::Itunes, b"image") => {
            set_first(&mut ext.itunes_image, x.attr(el, b"href"));
            x.skip();
        }
        (Ns::Itunes, b"summary") => set_first(&mut ext.itunes_summary, x.text()),
        (Ns::Media, b"thumbnail") => {
            set_first(&mut ext.media_thumbnail, x.attr(el, b"url"));
            x.skip();
        }
        (Ns::Syndication, b"updatePeriod") => set_first(&mut ext.sy_period, x.text()),
        (Ns::Syndication, b"updateFrequency") => set_first(&mut ext.sy_frequency, x.text()),
        _ => return false,
    }
    true
}

impl FeedExt {
    pub(super) fn fill(self, f: &mut RawFeed) {
        set_first(&mut f.self_link, self.atom_self);
        set_first(&mut f.link, self.atom_alternate.into_url());
        set_first(&mut f.language, self.dc_language);
        set_first(&mut f.title, self.dc_title.map(Text::plain));
        set_first(&mut f.description, self.dc_description.map(Text::plain));
        set_first(&mut f.description, self.itunes_summary.map(Text::plain));
        set_first(&mut f.image, self.itunes_image);
        set_first(&mut f.image, self.media_thumbnail);
        set_first(&mut f.hints.update_period, self.sy_period);
        set_first(&mut f.hints.update_frequency, self.sy_frequency.and_then(|n| n.trim().parse().ok()));
    }
}

/// [`merge_enclosure`], with a warning when the list is full.
pub(super) fn add_enclosure(x: &mut XmlReader<'_>, list: &mut Vec<Enclosure>, new: Enclosure) {
    if !merge_enclosure(list, new) {
        note_too_many_values(x);
    }
}

/// Adds an enclosure, or completes the one already listed with the same URL (an RSS `<enclosure>`
/// and a `media:content` often describe one file). Returns false when the enclosure was new and the
/// list already held [`MAX_VALUES_PER_ENTRY`]: it is dropped, which also keeps the merge's scan short.
pub(super) fn merge_enclosure(list: &mut Vec<Enclosure>, new: Enclosure) -> bool {
    let full = list.len() >= MAX_VALUES_PER_ENTRY;
    match list.iter_mut().find(|e| e.url == new.url) {
        Some(old) => {
            set_first(&mut old.mime, new.mime);
            set_first(&mut old.length, new.length);
            set_first(&mut old.duration_secs, new.duration_secs);
        }
        None if full => return false,
        None => list.push(new),
    }
    true
}

/// An RSS `<author>`: `email (Name)`, `Name <email>`, a bare email, or just a name.
pub(super) fn person_from_rss(raw: &str) -> Person {
    let s = raw.trim();
    let looks_like_email = |e: &str| e.contains('@') && !e.contains(char::is_whitespace);
    if let Some((email, rest)) = s.split_once('(') {
        if let Some(name) = rest.strip_suffix(')') {
            let email = email.trim();
            if looks_like_email(email) {
                return Person { name: non_empty(name), email: Some(email.to_owned()), url: None };
            }
        }
    }
    if let Some((name, rest)) = s.rsplit_once('<') {
        if let Some(email) = rest.strip_suffix('>') {
            if looks_like_email(email.trim()) {
                return Person { name: non_empty(name), email: Some(email.trim().to_owned()), url: None };
            }
        }
    }
    if looks_like_email(s) {
        return Person { email: Some(s.to_owned()), ..Person::default() };
    }
    Person { name: Some(s.to_owned()), ..Person::default() }
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// `HH:MM:SS`, `MM:SS` or seconds (a fraction is dropped) → seconds.
pub(super) fn parse_duration(s: &str) -> Option<u64> {
    let s = s.trim();
    let (clock, fraction) = s.split_once('.').unwrap_or((s, ""));
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut total = 0u64;
    for (i, part) in clock.split(':').enumerate() {
        if i == 3 {
            return None;
        }
        total = total.checked_mul(60)?.checked_add(part.trim().parse().ok()?)?;
    }
    Some(total)
}

/// An enclosure length in bytes; 0 and anything not a plain number mean "unknown".
pub(super) fn parse_length(s: &str) -> Option<u64> {
    s.trim().parse::<u64>().ok().filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_rss_authors() {
        let p = |name: Option<&str>, email: Option<&str>| Person {
            name: name.map(str::to_owned),
            email: email.map(str::to_owned),
            url: None,
        };
        assert_eq!(person_from_rss("jo@ex.kz (Жанна Омар)"), p(Some("Жанна Омар"), Some("jo@ex.kz")));
        assert_eq!(person_from_rss("Jo Bloggs <jo@ex.org>"), p(Some("Jo Bloggs"), Some("jo@ex.org")));
        assert_eq!(person_from_rss(" jo@ex.org "), p(None, Some("jo@ex.org")));
        assert_eq!(person_from_rss("Jo Bloggs"), p(Some("Jo Bloggs"), None));
        assert_eq!(person_from_rss("Jo (the editor)"), p(Some("Jo (the editor)"), None));
    }

    #[test]
    fn parses_itunes_durations() {
        assert_eq!(parse_duration("1:02:03"), Some(3723));
        assert_eq!(parse_duration("62:03"), Some(3723));
        assert_eq!(parse_duration("3723"), Some(3723));
        assert_eq!(parse_duration(" 3723.9 "), Some(3723));
        assert_eq!(parse_duration("00:45"), Some(45));
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("1:2:3:4"), None);
        assert_eq!(parse_duration("about an hour"), None);
    }

    #[test]
    fn enclosure_lengths_drop_zero_and_garbage() {
        assert_eq!(parse_length(" 12345 "), Some(12345));
        assert_eq!(parse_length("0"), None);
        assert_eq!(parse_length("12 MB"), None);
        assert_eq!(parse_length("-5"), None);
    }

    #[test]
    fn merges_enclosures_by_url() {
        let mut list = vec![Enclosure { url: "a.mp3".into(), length: Some(5), ..Enclosure::default() }];
        merge_enclosure(
            &mut list,
            Enclosure {
                url: "a.mp3".into(),
                mime: Some("audio/mpeg".into()),
                length: Some(9),
                duration_secs: Some(60),
            },
        );
        merge_enclosure(&mut list, Enclosure { url: "b.mp4".into(), ..Enclosure::default() });
        assert_eq!(list.len(), 2);
        assert_eq!(
            (list[0].length, list[0].mime.as_deref(), list[0].duration_secs),
            (Some(5), Some("audio/mpeg"), Some(60))
        );
    }
}
