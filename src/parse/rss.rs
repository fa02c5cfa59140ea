//! RSS 0.90, 0.91, 0.92, 2.0 (and `<rss>` without a version) and RDF / RSS 1.0 → [`RawFeed`].
//!
//! In: a reader positioned before the root (`<rss>` or `<rdf:RDF>`). Out: the feed, one entry per
//! `<item>`. The RSS family is one module because its members differ only in placement: RSS 2.0
//! nests items in `<channel>`, RDF and 0.90 put them beside it, and real feeds mix the two, so
//! items are read wherever they appear. Core elements are those in no namespace or in the RSS 1.0 /
//! 0.90 namespaces; everything else goes to the shared extensions (`ext.rs`). The wire struct
//! [`Item`] keeps RSS's own conventions (the `guid isPermaLink` default, `<author>` as
//! `email (Name)`) and its adapter [`Item::into_entry`] turns them into the common model.

use crate::model::{Enclosure, FeedFormat, Person, RawEntry, RawFeed, Text};

use super::ext::{self, EntryExt, FeedExt};
use super::warn::Kind;
use super::xml::{Element, Node, Ns, XmlReader};
use super::{empty_feed, entry_cap_reached, own_base, push_capped, set_first, MAX_VALUES_PER_ENTRY};

/// The feed-level values of `<channel>` (and RDF's sibling `<image>`).
#[derive(Default)]
struct Channel {
    title: Option<Text>,
    link: Option<String>,
    description: Option<Text>,
    language: Option<String>,
    image: Option<String>,
    base: Option<String>,
    ext: FeedExt,
    ttl: Option<String>,
    skip_hours: Vec<u8>,
    skip_days: Vec<String>,
    /// Whether elements were in the RSS 0.90 namespace (the RDF version is "0.90", not "1.0").
    saw_rss090: bool,
}

pub(super) fn parse(x: &mut XmlReader<'_>, format: FeedFormat) -> RawFeed {
    let mut feed = empty_feed(format);
    let root = loop {
        match x.next() {
            Node::Start(root) => break root,
            Node::End => {}
            Node::Eof => return feed,
        }
    };
    feed.base = x.base().map(str::to_owned);
    feed.language = x.lang().map(str::to_owned);
    if format == FeedFormat::Rss {
        feed.version = x.attr(&root, b"version");
        if feed.version.is_none() {
            x.warn(Kind::MissingVersion, || "<rss> has no version attribute; read as RSS 2.0".into());
        }
    }
    let mut channel = Channel::default();
    loop {
        match x.next() {
            Node::Start(el) if is_core(el.ns) => {
                channel.saw_rss090 |= el.ns == Ns::Rss090;
                match el.local() {
                    b"channel" => read_channel(x, &mut channel, &mut feed.entries),
                    b"item" => read_item_into(x, &el, &mut feed.entries),
                    b"image" => read_image(x, &el, &mut channel.image),
                    _ => x.skip(),
                }
            }
            Node::Start(_) => x.skip(),
            Node::End | Node::Eof => break,
        }
    }
    if format == FeedFormat::Rdf {
        feed.version = Some(if channel.saw_rss090 { "0.90" } else { "1.0" }.to_owned());
    }
    set_first(&mut feed.base, channel.base);
    feed.title = channel.title;
    feed.link = channel.link;
    feed.description = channel.description;
    set_first(&mut feed.language, channel.language);
    feed.image = channel.image;
    feed.hints.ttl_minutes = channel.ttl.and_then(|t| t.trim().parse().ok());
    feed.hints.skip_hours = channel.skip_hours;
    feed.hints.skip_days = channel.skip_days;
    channel.ext.fill(&mut feed);
    feed
}

/// RSS's own elements: no namespace (or an unknown default one), or RSS 1.0 / 0.90.
fn is_core(ns: Ns) -> bool {
    matches!(ns, Ns::None | Ns::Rss10 | Ns::Rss090)
}

fn read_channel(x: &mut XmlReader<'_>, ch: &mut Channel, entries: &mut Vec<RawEntry>) {
    set_first(&mut ch.base, x.base().map(str::to_owned));
    loop {
        match x.next() {
            Node::Start(el) if is_core(el.ns) => {
                ch.saw_rss090 |= el.ns == Ns::Rss090;
                match el.local() {
                    b"title" => set_first(&mut ch.title, text_or_markup(x)),
                    b"link" => set_first(&mut ch.link, x.text()),
                    b"description" => set_first(&mut ch.description, x.content(false).map(|(v, _)| Text::html(v))),
                    b"language" => set_first(&mut ch.language, x.text()),
                    b"image" => read_image(x, &el, &mut ch.image),
                    b"item" => read_item_into(x, &el, entries),
                    b"ttl" => set_first(&mut ch.ttl, x.text()),
                    b"skipHours" => {
                        let hours = read_list(x, b"hour");
                        ch.skip_hours =
                            hours.iter().filter_map(|h| h.trim().parse().ok()).filter(|h| *h < 24).collect();
                    }
                    b"skipDays" => ch.skip_days = read_list(x, b"day"),
                    _ => x.skip(),
                }
            }
            Node::Start(el) => {
                if !ext::feed_element(x, &el, &mut ch.ext) {
                    x.skip();
                }
            }
            Node::End | Node::Eof => return,
        }
    }
}

/// The texts of the `<name>` children of the current element (`<skipHours><hour>1</hour>…`).
fn read_list(x: &mut XmlReader<'_>, name: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        match x.next() {
            Node::Start(child) if child.local() == name && out.len() < MAX_VALUES_PER_ENTRY => out.extend(x.text()),
            Node::Start(_) => x.skip(),
            Node::End | Node::Eof => return out,
        }
    }
}

/// `<image><url>…</url></image>`, or RDF's `<image rdf:resource="…"/>` reference.
fn read_image(x: &mut XmlReader<'_>, el: &Element<'_>, image: &mut Option<String>) {
    let resource = x.attr_ns(el, Ns::Rdf, b"resource");
    let mut url = None;
    loop {
        match x.next() {
            Node::Start(child) if is_core(child.ns) && child.local() == b"url" => set_first(&mut url, x.text()),
            Node::Start(_) => x.skip(),
            Node::End | Node::Eof => break,
        }
    }
    set_first(image, url.or(resource));
}

/// Reads an item and keeps it; a cut-off last item is kept only if it has a title or a link.
fn read_item_into(x: &mut XmlReader<'_>, el: &Element<'_>, entries: &mut Vec<RawEntry>) {
    if entry_cap_reached(x, entries) {
        return;
    }
    let (entry, complete) = read_item(x, el);
    if complete {
        entries.push(entry);
    } else if entry.title.is_some() || entry.link.is_some() {
        x.warn(Kind::PartialEntry, || "the last <item> is cut off; kept it (it has a title or link)".into());
        entries.push(entry);
    } else {
        x.warn(Kind::PartialEntry, || "the last <item> is cut off before its title or link; dropped it".into());
    }
}

/// One `<item>` as RSS writes it.
#[derive(Default)]
struct Item {
    title: Option<Text>,
    link: Option<String>,
    description: Option<Text>,
    /// `<body>` or `<fullitem>`: the full text, where `content:encoded` is the usual place.
    body: Option<Text>,
    authors: Vec<Person>,
    categories: Vec<String>,
    guid: Option<String>,
    guid_is_permalink: bool,
    pub_date: Option<String>,
    enclosures: Vec<Enclosure>,
    /// RDF's `rdf:about`.
    about: Option<String>,
    /// `xml:lang` on the item itself.
    lang: Option<String>,
    base: Option<String>,
    ext: EntryExt,
}

/// Returns the entry and whether its end tag was seen.
fn read_item(x: &mut XmlReader<'_>, el: &Element<'_>) -> (RawEntry, bool) {
    let mut item = Item {
        about: x.attr_ns(el, Ns::Rdf, b"about"),
        lang: x.attr(el, b"xml:lang"),
        base: x.base().map(str::to_owned),
        ..Item::default()
    };
    let complete = loop {
        match x.next() {
            Node::Start(child) if is_core(child.ns) => match child.local() {
                b"title" => set_first(&mut item.title, text_or_markup(x)),
                b"link" => {
                    // The element's own base is gone once its text is read.
                    let base = x.own_base_url().cloned();
                    let link = x.text().map(|l| base.and_then(|b| b.join(&l).ok()).map_or(l, String::from));
                    set_first(&mut item.link, link);
                }
                b"description" => {
                    let base = own_base(x);
                    set_first(&mut item.description, x.content(false).map(|(v, _)| Text::html(v).with_base(base)));
                }
                b"body" | b"fullitem" => {
                    let base = own_base(x);
                    set_first(&mut item.body, x.content(false).map(|(v, _)| Text::html(v).with_base(base)));
                }
                b"author" => {
                    let author = x.text().map(|a| ext::person_from_rss(&a));
                    push_capped(x, &mut item.authors, author);
                }
                b"category" => {
                    let category = x.text();
                    push_capped(x, &mut item.categories, category);
                }
                b"guid" => {
                    let permalink = x.attr(&child, b"isPermaLink");
                    if let (None, Some(guid)) = (&item.guid, x.text()) {
                        item.guid = Some(guid);
                        item.guid_is_permalink = permalink.is_none_or(|p| !p.eq_ignore_ascii_case("false"));
                    }
                }
                b"pubDate" | b"pubdate" => set_first(&mut item.pub_date, x.text()),
                b"enclosure" => {
                    let [url, mime, length] = x.attrs(&child, [b"url", b"type", b"length"]);
                    let url = ext::with_own_base(x, url);
                    if let Some(url) = url {
                        let length = length.as_deref().and_then(ext::parse_length);
                        let enclosure = Enclosure { url, mime, length, duration_secs: None };
                        ext::add_enclosure(x, &mut item.enclosures, enclosure);
                    }
                    x.skip();
                }
                _ => x.skip(),
            },
            Node::Start(child) => {
                if !ext::entry_element(x, &child, &mut item.ext) {
                    x.skip();
                }
            }
            Node::End => break true,
            Node::Eof => break false,
        }
    };
    (item.into_entry(), complete)
}

impl Item {
    fn into_entry(self) -> RawEntry {
        let id_is_permalink = self.guid.is_some() && self.guid_is_permalink;
        let permalink = self.guid.clone().filter(|g| id_is_permalink && looks_like_url(g));
        let mut entry = RawEntry {
            id: self.guid.or(self.about),
            id_is_permalink,
            link: self.link,
            title: self.title,
            summary: self.description,
            content: None,
            authors: self.authors,
            categories: self.categories,
            published: self.pub_date,
            updated: None,
            language: self.lang,
            enclosures: self.enclosures,
            image: None,
            base: self.base,
        };
        self.ext.fill(&mut entry);
        set_first(&mut entry.content, self.body);
        // A permalink guid is the page when nothing else says so; guids like "12345" that are
        // marked permalink by default (the attribute is often forgotten) are not pages.
        set_first(&mut entry.link, permalink);
        entry
    }
}

fn looks_like_url(s: &str) -> bool {
    // Bytes, not `&s[..n]`: a guid such as "жастарға" has no char boundary at 7 or 8.
    let lower = |p: &str| s.as_bytes().get(..p.len()).is_some_and(|head| head.eq_ignore_ascii_case(p.as_bytes()));
    lower("http://") || lower("https://") || s.starts_with('/')
}

/// An RSS title: plain text, unless the feed pasted raw markup into it.
fn text_or_markup(x: &mut XmlReader<'_>) -> Option<Text> {
    let base = own_base(x);
    x.content(false).map(|(v, markup)| if markup { Text::html(v) } else { Text::plain(v) }.with_base(base))
}

#[cfg(test)]
mod tests {
    use crate::model::{FeedFormat, TextKind};
    use crate::parse::parse;

    #[test]
    fn guid_permalink_defaults_to_true_and_fills_a_missing_link() {
        let doc = r#"<rss version="2.0"><channel>
            <item><guid>https://ex.kz/a</guid></item>
            <item><guid isPermaLink="false">https://ex.kz/b</guid></item>
            <item><guid>12345</guid></item>
            <item><title>t</title></item>
        </channel></rss>"#;
        let f = parse(doc).expect("parses");
        let got: Vec<_> = f.entries.iter().map(|e| (e.id.as_deref(), e.id_is_permalink, e.link.as_deref())).collect();
        assert_eq!(
            got,
            [
                (Some("https://ex.kz/a"), true, Some("https://ex.kz/a")),
                (Some("https://ex.kz/b"), false, None),
                (Some("12345"), true, None),
                (None, false, None),
            ]
        );
    }

    /// Found by `cargo fuzz run parse`: a non-ASCII guid was sliced at byte 7 to look for "http://".
    #[test]
    fn a_non_ascii_guid_is_not_a_link_and_does_not_panic() {
        let doc = "<rss version=\"2.0\"><channel><item><guid>жастарға қолдау</guid></item></channel></rss>";
        let f = parse(doc).expect("parses");
        assert_eq!(f.entries[0].id.as_deref(), Some("жастарға қолдау"));
        assert_eq!(f.entries[0].link, None);
    }

    #[test]
    fn items_beside_the_channel_are_read_too() {
        let doc = "<rss version=\"0.91\"><channel><title>c</title></channel><item><title>x</title></item></rss>";
        let f = parse(doc).expect("parses");
        assert_eq!(f.entries.len(), 1);
        assert_eq!(f.title.map(|t| (t.kind, t.value)), Some((TextKind::Text, "c".into())));
    }

    #[test]
    fn missing_version_is_forgiven_with_a_warning() {
        let f = parse("<rss><channel><title>c</title></channel></rss>").expect("parses");
        assert_eq!((f.format, f.version), (FeedFormat::Rss, None));
        assert_eq!(f.warnings, ["line 1: <rss> has no version attribute; read as RSS 2.0"]);
    }

    #[test]
    fn rss_elements_in_other_namespaces_are_not_core() {
        let doc = r#"<rss version="2.0" xmlns:gp="http://www.google.com/schemas/play-podcasts/1.0"><channel>
            <gp:description>not this</gp:description><description>this</description></channel></rss>"#;
        let f = parse(doc).expect("parses");
        assert_eq!(f.description.map(|d| d.value).as_deref(), Some("this"));
    }

    #[test]
    fn extension_values_fill_only_gaps() {
        let doc = r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:a="http://www.w3.org/2005/Atom"><channel>
            <item><pubDate>Thu, 11 Jul 2019 12:20:00 +0600</pubDate><dc:date>2019-07-11</dc:date>
              <dc:creator>A</dc:creator><author>b@ex.kz (B)</author><dc:subject>x</dc:subject><category>x</category>
              <a:link rel="alternate" href="https://ex.kz/alt"/><a:updated>2019-07-12T00:00:00Z</a:updated></item>
        </channel></rss>"#;
        let e = &parse(doc).expect("parses").entries[0];
        assert_eq!(e.published.as_deref(), Some("Thu, 11 Jul 2019 12:20:00 +0600"));
        assert_eq!(e.updated.as_deref(), Some("2019-07-12T00:00:00Z"));
        assert_eq!(e.authors.len(), 1);
        assert_eq!(e.authors[0].email.as_deref(), Some("b@ex.kz"));
        assert_eq!(e.categories, ["x"]);
        assert_eq!(e.link.as_deref(), Some("https://ex.kz/alt"));
    }
}
