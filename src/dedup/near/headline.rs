//! The "same headline" layer's key: when two sites print the same headline, it is one story, provided
//! the headline is specific enough that two different stories would not share it.
//!
//! News agencies' stories are re-published word for word in the title while each site writes its own
//! one-line lede (the usual case in Kazakh and Russian media), so the lede layer alone shows them once
//! per site. A title is folded as the ledes are ([`language::fold_words`]: case, punctuation, «» “” „
//! quotes, dashes, NBSP), and its key is a 64-bit hash of the folded words and the language: equal
//! keys mean the same words in the same language.
//!
//! **Precision comes first.** Newsrooms reuse headlines for recurring rubrics ("Курс валют на 22
//! ноября", "Ауа райы", "Дайджест №45", "Morning briefing", weekly results of a league), and those must
//! stay apart. So a title has a key only when it is specific:
//! - it holds no rubric word (weather, exchange rates, digests, news of the day, results, schedules…:
//!   `RUBRIC_STEMS`, matched as word prefixes so Russian and Kazakh endings are covered);
//! - after dropping numbers, dates (month and day names), short words and function words, at least
//!   [`MIN_CONTENT_WORDS`] words are left: "Погода на завтра" and "Итоги недели" have none, and a
//!   short headline ("В Алматы выпал снег") recurs too easily;
//! - its language is known (two entries of unknown language never share a key).
//!
//! The near layer adds its other guards to a pair with equal keys: the dedup window, different sources,
//! and numbers of title and lead that do not disagree both ways (the same headline over two different
//! sets of figures is two reports).

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::normalize::language;

/// Words that carry the story, at least, for a title to be specific. On the fixtures, copies' shared
/// headlines have 5–10 such words; recurring headlines that pass the rubric list have at most 4.
pub const MIN_CONTENT_WORDS: usize = 5;

/// Word prefixes of rubrics: headlines made from them recur, with other content, day after day. Kazakh,
/// Russian and English, folded (lowercase, `ё` as `е`); a trailing `=` asks for the whole word (`жел`,
/// wind, would otherwise match `желі`, network).
#[rustfmt::skip]
const RUBRIC_STEMS: &[&str] = &[
    // Weather and forecasts.
    "погод", "прогноз", "синоптик", "ветер", "ветр", "снег", "дожд", "мороз", "жара=", "гололед", "туман",
    "штормов", "ауа", "райы", "болжам", "жауын=", "шашын=", "аяз", "аптап", "дауыл", "көктайғақ", "тұман", "жел=",
    "weather", "forecast", "storm", "snow", "rain",
    // Exchange rates and prices.
    "курс", "валют", "доллар", "евро=", "рубл", "тенге", "теңге", "бағам", "биржа", "бензин", "цены", "бағас",
    "exchange", "rate", "dollar", "price",
    // Digests, round-ups, news of the day or week.
    "дайджест", "новост", "главн", "итог", "обзор", "хроник", "кратко", "сводк", "выпуск", "жаңалық", "басты=",
    "қорытынд", "шолу", "digest", "news", "headline", "briefing", "brief", "roundup", "round", "recap", "wrap",
    "summary", "review", "highlight", "week", "today", "tonight", "daily", "недел", "апта", "сегодня", "завтра",
    "вчера", "бүгін", "ертең", "кеше=", "утрен", "вечерн", "таңғы", "кешкі", "morning", "evening",
    // Results, tables and schedules.
    "результат", "нәтиже", "турнирн", "таблиц", "кесте", "расписан", "result", "score", "standing", "table",
    "schedule", "fixture", "тираж", "лотере", "гороскоп", "жұлдыз", "horoscope", "lottery",
    // Traffic, utilities and other notices that repeat.
    "пробк", "отключ", "өшір", "ремонт", "жөндеу", "announcement", "notice", "объявлен", "хабарландыру",
    // Live coverage, whose headline is the same for every match or session.
    "онлайн", "трансляц", "live=", "тікелей",
];

/// Month and day names (prefixes): a date in a title says when, not what.
#[rustfmt::skip]
const DATE_STEMS: &[&str] = &[
    "январ", "феврал", "март", "апрел", "мая", "май", "июн", "июл", "август", "сентябр", "октябр", "ноябр",
    "декабр", "понедельник", "вторник", "среда=", "среду=", "четверг", "пятниц", "суббот", "воскресень", "қаңтар",
    "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз", "қыркүйек", "қазан", "қараша", "желтоқсан",
    "дүйсенбі", "сейсенбі", "сәрсенбі", "бейсенбі", "жұма", "сенбі", "жексенбі", "january", "february", "march",
    "april", "june", "july", "august", "september", "october", "november", "december", "monday", "tuesday",
    "wednesday", "thursday", "friday", "saturday", "sunday", "года", "году", "жыл",
];

/// Function words of three letters or more, which say nothing of the story.
#[rustfmt::skip]
const FUNCTION_WORDS: &[&str] = &[
    "для", "при", "про", "что", "как", "это", "его", "под", "над", "без", "или", "все", "уже", "еще", "так", "где",
    "кто", "чем", "она", "они", "был", "была", "были", "будет", "после", "через", "более", "около", "мен", "пен",
    "бен", "және", "үшін", "деп", "осы", "бұл", "туралы", "бойынша", "кейін", "дейін", "арқылы", "the", "and",
    "for", "with", "from", "that", "this", "over", "after", "into", "its", "are", "was", "were", "has", "have",
    "will", "not", "but", "about",
];

/// The key of a title's folded words in `language`, or `None` when the title is not specific (see the
/// module docs) or the language is unknown. Never 0, which a signature uses for "no key".
pub fn key(words: &[String], language: &str) -> Option<u64> {
    if language.is_empty() || !is_specific(words) {
        return None;
    }
    let mut bytes = Vec::with_capacity(language.len() + words.iter().map(|w| w.len() + 1).sum::<usize>());
    bytes.extend_from_slice(language.as_bytes());
    for w in words {
        bytes.push(0);
        bytes.extend_from_slice(w.as_bytes());
    }
    Some(super::hash_bytes(&bytes).max(1))
}

/// Whether folded title words can identify one story (see the module docs).
pub fn is_specific(words: &[String]) -> bool {
    // Most titles that are not specific are too short to be: they cost no look-up.
    if words.len() < MIN_CONTENT_WORDS {
        return false;
    }
    let lists = LISTS.get_or_init(Lists::new);
    if words.iter().any(|w| lists.rubric.matches(w)) {
        return false;
    }
    let content = words
        .iter()
        .filter(|w| w.chars().count() >= 3)
        .filter(|w| w.chars().all(char::is_alphabetic))
        .filter(|w| !lists.date.matches(w) && !lists.function.contains(w.as_str()))
        .count();
    content >= MIN_CONTENT_WORDS
}

/// The word lists as sets: every signed entry asks about each word of its title, so a word costs a few
/// hash look-ups (one per prefix length) instead of a comparison with every stem.
struct Lists {
    rubric: Stems,
    date: Stems,
    function: HashSet<&'static str>,
}

static LISTS: OnceLock<Lists> = OnceLock::new();

impl Lists {
    fn new() -> Lists {
        Lists {
            rubric: Stems::new(RUBRIC_STEMS),
            date: Stems::new(DATE_STEMS),
            function: FUNCTION_WORDS.iter().copied().collect(),
        }
    }
}

/// Stems matched as word prefixes, and (written with a trailing `=`) whole words.
struct Stems {
    prefixes: HashSet<&'static str>,
    whole: HashSet<&'static str>,
    /// Bytes of the longest prefix: no longer start of a word is looked up.
    longest: usize,
}

impl Stems {
    fn new(stems: &[&'static str]) -> Stems {
        let (whole, prefixes): (Vec<&str>, Vec<&str>) = stems.iter().partition(|s| s.ends_with('='));
        Stems {
            longest: prefixes.iter().map(|p| p.len()).max().unwrap_or(0),
            prefixes: prefixes.into_iter().collect(),
            whole: whole.into_iter().map(|w| w.trim_end_matches('=')).collect(),
        }
    }

    fn matches(&self, word: &str) -> bool {
        if self.whole.contains(word) {
            return true;
        }
        let ends = word.char_indices().map(|(i, _)| i).skip(1).chain([word.len()]);
        ends.take_while(|&end| end <= self.longest).any(|end| self.prefixes.contains(&word[..end]))
    }
}

/// A title's folded words, as [`key`] reads them.
pub fn fold(title: &str) -> Vec<String> {
    language::fold_words(title, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specific(title: &str) -> bool {
        is_specific(&fold(title))
    }

    #[test]
    fn recurring_headlines_are_not_specific() {
        for title in [
            "Курс валют на 22 ноября",
            "Погода на завтра",
            "Погода на завтра: в Астане снег, в Алматы дождь и гололед на дорогах",
            "Новости дня",
            "Daily digest",
            "Ауа райы",
            "Ертеңгі ауа райы: елдің батысында қар жауады, шығысында аяз күшейеді",
            "Дайджест №45",
            "Итоги недели",
            "Morning briefing",
            "Результаты 15-го тура Премьер-лиги Казахстана",
            "Қазақстан премьер-лигасы: 15-турдың нәтижелері",
            "Kazakhstan Premier League matchday 15 results",
            "Главные новости Казахстана на 22 ноября",
            "Басты жаңалықтар: 22 қараша",
            "В Алматы выпал первый снег",
            "Тоқаев Жапонияға барады",
        ] {
            assert!(!specific(title), "{title}");
        }
    }

    #[test]
    fn a_news_headline_is_specific() {
        for title in [
            "Токаев подписал закон о республиканском бюджете на 2025–2027 годы",
            "Тоқаев Жапония премьер-министрімен екіжақты ынтымақтастықты талқылады",
            "Kazakhstan and Uzbekistan sign agreement on joint water management of the Syr Darya",
            // `жел` (wind) is a whole-word stem: `желісі` (its network) is no weather report.
            "Қазақстанда ұялы байланыс желісі толық жаңартылатыны белгілі болды",
        ] {
            assert!(specific(title), "{title}");
        }
    }

    #[test]
    fn keys_fold_quotes_dashes_and_spaces_but_keep_the_language() {
        let a = key(&fold("«Қазақстан темір жолы» жаңа жолаушылар пойыздарын сатып алады"), "kk");
        let b = key(&fold("“Қазақстан темір жолы” – жаңа жолаушылар\u{a0}пойыздарын сатып алады."), "kk");
        assert!(a.is_some());
        assert_eq!(a, b);
        let ru = key(&fold("«Қазақстан темір жолы» жаңа жолаушылар пойыздарын сатып алады"), "ru");
        assert_ne!(a, ru);
        assert_eq!(key(&fold("«Қазақстан темір жолы» жаңа жолаушылар пойыздарын сатып алады"), ""), None);
    }
}
