//! The list of things a lenient parse had to forgive, as it ends up in `RawFeed::warnings`.
//!
//! In: one note per forgiveness, tagged with its kind. Out: one human-readable line per kind. A feed
//! with 500 bare `&` deserves one line saying so with a count, not 500 lines, and the per-note cost
//! must stay tiny because such notes happen inside the hot event loop: the message (and the line
//! number, which costs a scan of the document so far) is built only for the first note of a kind.

/// What was forgiven. Notes of one kind are merged into one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    JunkBeforeRoot,
    InvalidChars,
    StrayLessThan,
    DtdIgnored,
    BareAmpersand,
    HtmlEntity,
    UnknownEntity,
    BadCharRef,
    UnclosedElement,
    StrayEndTag,
    UndeclaredPrefix,
    NamespaceLimit,
    TooDeep,
    TooManyEntries,
    TooManyValues,
    Truncated,
    XmlError,
    MissingVersion,
    PartialEntry,
    SkippedEntry,
    UnknownVersion,
}

#[derive(Debug, Clone)]
struct Note {
    kind: Kind,
    line: Option<usize>,
    message: String,
    count: usize,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Warnings {
    notes: Vec<Note>,
}

impl Warnings {
    /// Records one note; `first` builds the line number and message, and runs only for the first
    /// note of its kind.
    pub(crate) fn note(&mut self, kind: Kind, first: impl FnOnce() -> (Option<usize>, String)) {
        self.note_times(kind, 1, first);
    }

    /// Records `times` notes of one kind at once (a repair pass counts before it reports).
    pub(crate) fn note_times(&mut self, kind: Kind, times: usize, first: impl FnOnce() -> (Option<usize>, String)) {
        if let Some(n) = self.notes.iter_mut().find(|n| n.kind == kind) {
            n.count += times;
            return;
        }
        let (line, message) = first();
        self.notes.push(Note { kind, line, message, count: times });
    }

    pub(crate) fn into_lines(self) -> Vec<String> {
        self.notes
            .into_iter()
            .map(|n| {
                let mut s = match n.line {
                    Some(line) => format!("line {line}: {}", n.message),
                    None => n.message,
                };
                if n.kind == Kind::TooManyEntries {
                    s.push_str(&format!(" ({} dropped)", n.count));
                } else if n.count > 1 {
                    s.push_str(&format!(" ({} times)", n.count));
                }
                s
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_notes_of_one_kind_and_builds_the_message_once() {
        let mut w = Warnings::default();
        let mut built = 0;
        for line in 1..=500 {
            w.note(Kind::BareAmpersand, || {
                built += 1;
                (Some(line), "bare '&' read as text".into())
            });
        }
        w.note(Kind::MissingVersion, || (None, "<rss> has no version attribute".into()));
        assert_eq!(built, 1);
        assert_eq!(w.into_lines(), ["line 1: bare '&' read as text (500 times)", "<rss> has no version attribute"]);
    }
}
