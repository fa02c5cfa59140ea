//! Words, sentences and HTML bodies for the corpus, from a seeded generator.
//!
//! In: a seed and a language. Out: plain-text sentences and HTML bodies shaped like news posts: mostly
//! paragraphs, some with links, emphasis, entities and non-breaking spaces; now and then an image, a
//! list, a quote, a heading, and a `<script>`, `<iframe>` or `onclick` that sanitizing must strip. The
//! generator is a hand-written SplitMix64 so the corpus never changes under a dependency update.

use std::fmt::Write as _;

/// SplitMix64: tiny, fast, and fixed forever.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        let mut rng = Rng(seed);
        rng.next();
        rng
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    Kazakh,
    Russian,
    English,
}

impl Lang {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::Kazakh => "kk",
            Lang::Russian => "ru",
            Lang::English => "en",
        }
    }

    fn words(self) -> &'static [&'static str] {
        match self {
            Lang::Kazakh => &[
                "жаңалық",
                "облыс",
                "әкім",
                "мектеп",
                "ауыл",
                "шаруашылығы",
                "Қазақстан",
                "Астана",
                "Алматы",
                "жиналыс",
                "бағдарлама",
                "жоба",
                "тұрғындар",
                "үкімет",
                "министрлігі",
                "жыл",
                "сайлау",
                "білім",
                "денсаулық",
                "құрылыс",
                "жол",
                "су",
                "егін",
                "мал",
                "өнім",
                "бағасы",
                "теңге",
                "қаржы",
                "инвестиция",
                "кәсіпкерлер",
                "өңір",
                "мәдениет",
                "тарих",
                "ақын",
                "айтыс",
                "той",
                "Наурыз",
                "бүгін",
                "кеше",
                "жаңа",
                "үлкен",
                "маңызды",
                "қала",
                "іске",
                "асырылды",
                "талқылады",
                "ашылды",
                "басталды",
                "жарияланды",
                "Қызылорда",
                "Шымкент",
                "Түркістан",
            ],
            Lang::Russian => &[
                "новости",
                "область",
                "аким",
                "школа",
                "село",
                "хозяйство",
                "Казахстан",
                "Астана",
                "Алматы",
                "совещание",
                "программа",
                "проект",
                "жители",
                "правительство",
                "министерство",
                "год",
                "выборы",
                "образование",
                "здравоохранение",
                "строительство",
                "дорога",
                "вода",
                "урожай",
                "скот",
                "продукция",
                "цены",
                "тенге",
                "финансы",
                "инвестиции",
                "предприниматели",
                "регион",
                "культура",
                "история",
                "поэт",
                "праздник",
                "сегодня",
                "вчера",
                "новый",
                "крупный",
                "важный",
                "город",
                "реализация",
                "обсудили",
                "открылся",
                "начался",
                "объявлены",
                "Караганда",
                "Павлодар",
                "Актобе",
                "№",
                "ёлка",
            ],
            Lang::English => &[
                "news",
                "region",
                "mayor",
                "school",
                "village",
                "farming",
                "Kazakhstan",
                "Astana",
                "Almaty",
                "meeting",
                "programme",
                "project",
                "residents",
                "government",
                "ministry",
                "year",
                "election",
                "education",
                "health",
                "construction",
                "road",
                "water",
                "harvest",
                "livestock",
                "output",
                "prices",
                "tenge",
                "budget",
                "investment",
                "entrepreneurs",
                "steppe",
                "culture",
                "history",
                "poet",
                "festival",
                "today",
                "yesterday",
                "new",
                "major",
                "important",
                "city",
                "launch",
                "discussed",
                "opened",
                "started",
                "announced",
                "R&D",
                "Q&A",
                "café",
            ],
        }
    }

    fn suffixes(self) -> &'static [&'static str] {
        match self {
            Lang::Kazakh => &["ның", "ға", "да", "дан", "лар", "ды", "мен", "дағы", "қа", "тар", "ын"],
            Lang::Russian => &["а", "ы", "ов", "ами", "е", "ой", "ого", "ых", "ую", "ым", "ах"],
            Lang::English => &["s", "ed", "ing", "er", "al", "ly", "'s", "ers", "es", "ment", "ist"],
        }
    }

    /// Quoted names as the press writes them, in guillemets or straight quotes.
    fn names(self) -> &'static [&'static str] {
        match self {
            Lang::Kazakh => &["«Nur Otan»", "«Самұрық-Қазына»", "«Қазақстан темір жолы»", "«Baiterek»"],
            Lang::Russian => &["«Самрук-Казына»", "«Казахтелеком»", "«Эйр Астана»", "\"KEGOC\""],
            Lang::English => &["\"Air Astana\"", "“KazMunayGas”", "\"Kaspi & Co\"", "'Halyk'"],
        }
    }
}

/// A sentence of 6–15 words, capitalized, ending in a full stop; sometimes with a quoted name.
pub(crate) fn sentence(rng: &mut Rng, lang: Lang) -> String {
    let count = 6 + rng.below(10);
    let mut out = String::new();
    for i in 0..count {
        if i > 0 {
            out.push_str(if rng.below(9) == 0 { ", " } else { " " });
        }
        let word = match rng.below(24) {
            0 | 1 => rng.pick(lang.names()).to_owned(),
            2 => (1 + rng.below(2_030)).to_string(),
            _ => {
                // Stems with inflections, so the vocabulary runs to hundreds of forms as real text's does
                // (near-duplicate detection compares word pairs; a tiny vocabulary would fake collisions).
                let suffix = if rng.below(2) == 0 { rng.pick(lang.suffixes()) } else { "" };
                format!("{}{suffix}", rng.pick(lang.words()))
            }
        };
        if i == 0 {
            let mut chars = word.chars();
            out.extend(chars.next().into_iter().flat_map(char::to_uppercase));
            out.push_str(chars.as_str());
        } else {
            out.push_str(&word);
        }
    }
    out.push('.');
    out
}

/// A title: a short sentence without the full stop.
pub(crate) fn title(rng: &mut Rng, lang: Lang) -> String {
    let mut s = sentence(rng, lang);
    s.pop();
    s.truncate(s.char_indices().nth(70).map_or(s.len(), |(i, _)| i));
    s
}

/// Text escaped for XML element content and attribute values (and for HTML).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// An HTML body of about `target` bytes. `xhtml` keeps it well-formed XML: numeric instead of named
/// entities (`&#160;` for `&nbsp;`), which every XHTML-in-Atom producer has to do.
pub(crate) fn html_body(rng: &mut Rng, lang: Lang, post: u64, target: usize, xhtml: bool) -> String {
    let nbsp = if xhtml { "&#160;" } else { "&nbsp;" };
    let mut out = String::with_capacity(target + 512);
    let mut block = 0;
    while out.len() < target {
        block += 1;
        match rng.below(14) {
            0 => {
                let alt = escape(&title(rng, lang));
                let _ = write!(
                    out,
                    r#"<p><img src="/wp-content/uploads/2024/{post}-{block}.jpg" alt="{alt}" width="640" height="360" /></p>"#
                );
            }
            1 => {
                out.push_str("<ul>");
                for _ in 0..2 + rng.below(3) {
                    let _ = write!(out, "<li>{}</li>", escape(&title(rng, lang)));
                }
                out.push_str("</ul>");
            }
            2 => {
                let _ = write!(out, "<blockquote><p>{}</p></blockquote>", escape(&sentence(rng, lang)));
            }
            3 => {
                let _ = write!(out, "<h2>{}</h2>", escape(&title(rng, lang)));
            }
            4 if rng.below(6) == 0 => match rng.below(3) {
                0 => out.push_str("<script>window.dataLayer = window.dataLayer || [];</script>"),
                1 => out.push_str(r#"<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ" width="560"></iframe>"#),
                _ => {
                    let _ = write!(out, r#"<p onclick="track({post})">{}</p>"#, escape(&sentence(rng, lang)));
                }
            },
            _ => {
                out.push_str("<p>");
                for s in 0..1 + rng.below(3) {
                    if s > 0 {
                        out.push(' ');
                    }
                    let text = escape(&sentence(rng, lang));
                    match rng.below(5) {
                        0 => {
                            let _ = write!(out, r#"<a href="/news/{}">{text}</a>"#, post.saturating_sub(1 + s as u64));
                        }
                        1 => {
                            let _ = write!(out, "<strong>{text}</strong>");
                        }
                        2 => {
                            let _ = write!(out, "{text}{nbsp}— <em>{}</em>", escape(rng.pick(lang.names())));
                        }
                        _ => out.push_str(&text),
                    }
                }
                out.push_str("</p>\n");
            }
        }
    }
    out
}
