//! Config problems, rendered the way compilers render them: file, line, column, the offending line with a
//! caret under the span, and a hint when there is one.
//!
//! A `Diagnostic` holds a byte span into the config text rather than a line number so that the message,
//! the caret and the line/column all come from one source of truth.

use std::fmt;
use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    /// Byte range in the config text; `None` for problems that belong to no place (an empty file).
    pub span: Option<Range<usize>>,
    /// "did you mean `name`?" and the like.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>, span: Option<Range<usize>>) -> Self {
        Diagnostic { severity: Severity::Error, message: message.into(), span, help: None }
    }

    pub fn warning(message: impl Into<String>, span: Option<Range<usize>>) -> Self {
        Diagnostic { severity: Severity::Warning, message: message.into(), span, help: None }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Renders the diagnostic against the text it points into.
    pub fn render(&self, origin: &str, text: &str) -> String {
        Rendered { diagnostic: self, origin, text }.to_string()
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..offset].chars().count() + 1;
    (line, col)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

struct Rendered<'a> {
    diagnostic: &'a Diagnostic,
    origin: &'a str,
    text: &'a str,
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.diagnostic;
        let label = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(f, "{label}: {}", d.message)?;
        match &d.span {
            Some(span) => {
                let (line, col) = line_col(self.text, span.start);
                let gutter = " ".repeat(line.to_string().len());
                writeln!(f, "{gutter}--> {}:{line}:{col}", self.origin)?;
                let line_text = self.text.lines().nth(line - 1).unwrap_or("");
                // The caret covers the span, but never runs past the end of its first line.
                let start = floor_char_boundary(self.text, span.start.min(self.text.len()));
                let end = floor_char_boundary(self.text, span.end.min(self.text.len()));
                let width = self.text[start..end].lines().next().map_or(1, |s| s.chars().count().max(1));
                let width = width.min(line_text.chars().count().saturating_sub(col - 1).max(1));
                writeln!(f, "{gutter} |")?;
                writeln!(f, "{line} | {line_text}")?;
                write!(f, "{gutter} | {}{}", " ".repeat(col - 1), "^".repeat(width))?;
                if let Some(help) = &d.help {
                    write!(f, " {help}")?;
                }
                writeln!(f)
            }
            None => {
                writeln!(f, " --> {}", self.origin)?;
                if let Some(help) = &d.help {
                    writeln!(f, "  = help: {help}")?;
                }
                Ok(())
            }
        }
    }
}

/// The closest candidate to `word`, if one is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let text = "a = 1\nназвание = 2\n";
        let off = text.find('2').unwrap();
        assert_eq!(line_col(text, off), (2, 12));
    }

    #[test]
    fn renders_caret_under_span_with_help() {
        let text = "[[sources]]\nnmae = \"abai\"\n";
        let d =
            Diagnostic::error("unknown key `nmae` in [[sources]] #1", Some(12..16)).with_help("did you mean `name`?");
        assert_eq!(
            d.render("feeds.toml", text),
            "error: unknown key `nmae` in [[sources]] #1\n --> feeds.toml:2:1\n  |\n2 | nmae = \"abai\"\n  | ^^^^ did you mean `name`?\n"
        );
    }

    #[test]
    fn closest_finds_typos_only() {
        assert_eq!(closest("nmae", ["name", "url", "categories"]), Some("name"));
        assert_eq!(closest("timezon", ["name", "timezone"]), Some("timezone"));
        assert_eq!(closest("zzz", ["name", "url"]), None);
    }
}
