//! Words for people: the labels and dates of `index.html` in the reader's language.
//!
//! The page is static (no JavaScript), so "3 hours ago" is impossible: it would be wrong an hour after
//! the build. Dates are absolute instead, always in UTC (the page says so once), written the way the
//! language writes them: `29 November 2026, 14:05`, `29 ноября 2026, 14:05`, `29 қараша 2026, 14:05`.
//!
//! The language is `[output] language`'s primary subtag (`ru-RU` → Russian); Kazakh and Russian have
//! their own words, anything else gets English. The month tables are separate from the parser's in
//! `normalize::dates`: those list every spelling that may be *read* (nominative, genitive,
//! abbreviations, Latin-script Kazakh), while writing needs exactly one form per month, and Russian
//! writes the genitive after a day number where Kazakh keeps the nominative.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Timelike, Utc};

/// The page's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    En,
    Ru,
    Kk,
}

impl Lang {
    /// The language of a BCP 47 tag, by its primary subtag; English for anything else or none.
    pub(crate) fn from_tag(tag: Option<&str>) -> Lang {
        let primary = tag.and_then(|t| t.split(['-', '_']).next()).unwrap_or("");
        if primary.eq_ignore_ascii_case("kk") {
            Lang::Kk
        } else if primary.eq_ignore_ascii_case("ru") {
            Lang::Ru
        } else {
            Lang::En
        }
    }

    /// The `lang` attribute of the page.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
            Lang::Kk => "kk",
        }
    }

    pub(crate) fn words(self) -> &'static Words {
        match self {
            Lang::En => &EN,
            Lang::Ru => &RU,
            Lang::Kk => &KK,
        }
    }

    /// `29 November 2026`.
    pub(crate) fn day(self, dt: DateTime<Utc>) -> String {
        format!("{} {} {}", dt.day(), self.words().months[dt.month0() as usize], dt.year())
    }

    /// `29 November 2026, 14:05`.
    pub(crate) fn day_time(self, dt: DateTime<Utc>) -> String {
        let mut out = self.day(dt);
        // Writing into a String cannot fail.
        let _ = write!(out, ", {:02}:{:02}", dt.hour(), dt.minute());
        out
    }

    /// `1 entry`, `5 entries`; `21 запись`, `22 записи`, `25 записей`; `5 жазба`.
    pub(crate) fn entries(self, n: usize) -> String {
        let w = self.words();
        let word = match self {
            Lang::En if n == 1 => w.entry_forms[0],
            Lang::En => w.entry_forms[1],
            Lang::Ru => match (n % 10, n % 100) {
                (_, 11..=14) => w.entry_forms[2],
                (1, _) => w.entry_forms[0],
                (2..=4, _) => w.entry_forms[1],
                _ => w.entry_forms[2],
            },
            // Kazakh nouns stay singular after a number.
            Lang::Kk => w.entry_forms[0],
        };
        format!("{n} {word}")
    }
}

/// Everything `index.html` says in words.
#[derive(Debug)]
pub(crate) struct Words {
    /// In the form written after a day number.
    pub months: [&'static str; 12],
    /// Singular, few, many (Russian); English uses the first two, Kazakh the first.
    pub entry_forms: [&'static str; 3],
    /// The heading of the `all` feed, whose title would only repeat the page's.
    pub all_entries: &'static str,
    pub newest_entry: &'static str,
    pub no_entries: &'static str,
    pub contents: &'static str,
    pub feeds: &'static str,
    pub sources: &'static str,
    pub ok: &'static str,
    pub failing: &'static str,
    pub not_checked: &'static str,
    pub last_success: &'static str,
    pub never: &'static str,
    pub times_in_utc: &'static str,
    pub made_by: &'static str,
}

const EN: Words = Words {
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    entry_forms: ["entry", "entries", "entries"],
    all_entries: "All entries",
    newest_entry: "Newest entry",
    no_entries: "No entries yet.",
    contents: "Contents",
    feeds: "Feeds",
    sources: "Sources",
    ok: "OK",
    failing: "Failing",
    not_checked: "Not checked yet",
    last_success: "Last successful fetch",
    never: "never",
    times_in_utc: "Times are in UTC.",
    made_by: "Made by",
};

const RU: Words = Words {
    months: [
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ],
    entry_forms: ["запись", "записи", "записей"],
    all_entries: "Все записи",
    newest_entry: "Последняя запись",
    no_entries: "Записей пока нет.",
    contents: "Содержание",
    feeds: "Ленты",
    sources: "Источники",
    ok: "Работает",
    failing: "Сбой",
    not_checked: "Ещё не проверялся",
    last_success: "Последняя успешная загрузка",
    never: "никогда",
    times_in_utc: "Время указано в UTC.",
    made_by: "Создано программой",
};

const KK: Words = Words {
    months: [
        "қаңтар",
        "ақпан",
        "наурыз",
        "сәуір",
        "мамыр",
        "маусым",
        "шілде",
        "тамыз",
        "қыркүйек",
        "қазан",
        "қараша",
        "желтоқсан",
    ],
    entry_forms: ["жазба", "жазба", "жазба"],
    all_entries: "Барлық жазбалар",
    newest_entry: "Ең соңғы жазба",
    no_entries: "Әзірге жазба жоқ.",
    contents: "Мазмұны",
    feeds: "Арналар",
    sources: "Дереккөздер",
    ok: "Жұмыс істейді",
    failing: "Ақау",
    not_checked: "Әлі тексерілмеген",
    last_success: "Соңғы сәтті жүктеу",
    never: "ешқашан",
    times_in_utc: "Уақыт UTC бойынша көрсетілген.",
    made_by: "Жасаған:",
};

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn language_from_tag() {
        assert_eq!(Lang::from_tag(Some("kk")), Lang::Kk);
        assert_eq!(Lang::from_tag(Some("KK-kz")), Lang::Kk);
        assert_eq!(Lang::from_tag(Some("ru_RU")), Lang::Ru);
        assert_eq!(Lang::from_tag(Some("de")), Lang::En);
        assert_eq!(Lang::from_tag(Some("")), Lang::En);
        assert_eq!(Lang::from_tag(None), Lang::En);
    }

    #[test]
    fn dates_in_each_language() {
        let dt = Utc.with_ymd_and_hms(2026, 11, 29, 14, 5, 9).unwrap();
        assert_eq!(Lang::En.day_time(dt), "29 November 2026, 14:05");
        assert_eq!(Lang::Ru.day_time(dt), "29 ноября 2026, 14:05");
        assert_eq!(Lang::Kk.day_time(dt), "29 қараша 2026, 14:05");
        let jan = Utc.with_ymd_and_hms(2027, 1, 3, 0, 0, 0).unwrap();
        assert_eq!(Lang::Kk.day(jan), "3 қаңтар 2027");
        assert_eq!(Lang::Ru.day(jan), "3 января 2027");
        assert_eq!(Lang::En.day_time(jan), "3 January 2027, 00:00");
    }

    #[test]
    fn counts_agree_with_their_number() {
        let en: Vec<_> = [0, 1, 2].map(|n| Lang::En.entries(n)).into();
        assert_eq!(en, ["0 entries", "1 entry", "2 entries"]);
        let ru: Vec<_> = [1, 2, 5, 11, 12, 21, 22, 25, 111, 101].map(|n| Lang::Ru.entries(n)).into();
        assert_eq!(
            ru,
            [
                "1 запись",
                "2 записи",
                "5 записей",
                "11 записей",
                "12 записей",
                "21 запись",
                "22 записи",
                "25 записей",
                "111 записей",
                "101 запись"
            ]
        );
        assert_eq!(Lang::Kk.entries(3), "3 жазба");
    }
}
