//! Redaction: what feedmill may print, log or publish about a URL, and the wrapper that keeps a secret
//! out of `Debug`.
//!
//! A private feed's credentials live in its URL (`https://alice:pw@host/feed?token=…`), in an `auth`
//! table or in a header; the URL also travels into report rows, error messages (reqwest's name the URL
//! they failed on), logs, `index.html` and `sources.opml`. Everything that leaves the process goes
//! through here first:
//!
//! - [`url()`] writes one URL with its userinfo as `***` (`http://***@host/…`) and the values of query
//!   parameters that look secret (`token`, `key`, `apikey`, `api_key`, `access_token`, `secret`,
//!   `password`, `auth`, `sig`, `signature`, and the names any source lists in `secret_params`) as `***`;
//! - [`text`] does the same to every URL inside free text (an error chain, a log line), and also replaces
//!   every secret *value* the config named (passwords, header values, the userinfo and secret parameters
//!   of configured URLs), so a server or a library that echoes one back cannot leak it either;
//! - [`public_base`] is the URL to resolve a feed's relative links against: without userinfo and secret
//!   parameters, so `<link>post/1</link>` never becomes a published link that carries them.
//!
//! The secret names and values are process-wide: the config registers them once it is read
//! ([`register_params`], [`register_value`]). A name listed by one source is secret in every URL: a
//! parameter that is a key on one site is not something to publish on another.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use aho_corasick::{AhoCorasick, MatchKind};
use percent_encoding::percent_decode_str;
use url::Url;

/// What a secret is written as.
pub const MASK: &str = "***";

/// Query parameter names whose values are credentials often enough to never print (compared lowercase).
const SECRET_PARAMS: &[&str] =
    &["token", "key", "apikey", "api_key", "access_token", "secret", "password", "auth", "sig", "signature"];

/// Values shorter than this are not scrubbed from free text: `a` or `42` would mangle every message,
/// and a secret that short protects nothing anyway.
const MIN_VALUE_LEN: usize = 4;

struct Registry {
    params: BTreeSet<String>,
    values: BTreeSet<String>,
    /// Finds every value in one pass over a text (a 10,000-source run table against 10,000 tokens must
    /// not be 10,000 scans); built on first use after a change, `None` until then.
    matcher: Option<Arc<AhoCorasick>>,
}

static REGISTRY: RwLock<Registry> =
    RwLock::new(Registry { params: BTreeSet::new(), values: BTreeSet::new(), matcher: None });

/// Makes `name` (any case) a secret query parameter in every URL redacted from now on.
pub fn register_params<'a>(names: impl IntoIterator<Item = &'a str>) {
    let mut r = REGISTRY.write().unwrap_or_else(PoisonError::into_inner);
    r.params.extend(names.into_iter().map(str::to_ascii_lowercase));
}

/// Makes `value` (and its percent-encoded form) something [`text`] never lets through.
pub fn register_value(value: &str) {
    let value = value.trim();
    if value.chars().count() < MIN_VALUE_LEN {
        return;
    }
    let encoded = percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string();
    let mut r = REGISTRY.write().unwrap_or_else(PoisonError::into_inner);
    let added = r.values.insert(value.to_owned()) | r.values.insert(encoded);
    if added {
        r.matcher = None;
    }
}

/// Registers the secrets a configured URL carries: its password and username, and the values of its
/// secret query parameters, so [`text`] finds them even where they appear outside a URL.
pub fn register_url_secrets(input: &str) {
    let Ok(parsed) = Url::parse(input.trim()) else { return };
    if let Some(password) = parsed.password() {
        register_value(&decode(password));
        register_value(password);
    }
    if !parsed.username().is_empty() {
        register_value(&decode(parsed.username()));
    }
    for (name, value) in parsed.query_pairs() {
        if is_secret_param(&name) {
            register_value(&value);
        }
    }
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Whether a query parameter's value is never shown.
pub fn is_secret_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_PARAMS.contains(&lower.as_str())
        || REGISTRY.read().unwrap_or_else(PoisonError::into_inner).params.contains(&lower)
}

/// One URL (or a configured location: a path is returned as it is), ready to print: userinfo as `***`,
/// secret query values as `***`. A URL with nothing secret comes back byte for byte.
pub fn url(input: &str) -> String {
    let redacted = match Url::parse(input) {
        Ok(parsed) if parsed.has_host() => redact_parsed(parsed).unwrap_or_else(|| input.to_owned()),
        _ => input.to_owned(),
    };
    scrub_values(redacted)
}

/// `url` for a parsed URL.
pub fn url_of(u: &Url) -> String {
    url(u.as_str())
}

/// The redacted URL, or `None` when nothing in it needed hiding.
fn redact_parsed(mut parsed: Url) -> Option<String> {
    let mut changed = false;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // Both fail only for URLs without a host, excluded above.
        let _ = parsed.set_password(None);
        let _ = parsed.set_username(MASK);
        changed = true;
    }
    if let Some(query) = parsed.query() {
        let (query, masked) = mask_query(query);
        if masked {
            parsed.set_query(Some(&query));
            changed = true;
        }
    }
    // Only a changed URL is re-serialized: one with nothing to hide is printed exactly as written.
    changed.then(|| parsed.into())
}

/// The query with secret values replaced, every other pair kept as it was written.
fn mask_query(query: &str) -> (String, bool) {
    let mut masked = false;
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| {
            let (name, _) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded = decode(&name.replace('+', " "));
            if pair.contains('=') && is_secret_param(&decoded) {
                masked = true;
                format!("{name}={MASK}")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    (parts.join("&"), masked)
}

/// Free text (an error chain, a log line, a page's text): every `scheme://…` in it through [`url()`], and
/// every registered secret value replaced by `***`.
pub fn text(input: &str) -> String {
    // Values first: a URL's end is a guess, and a secret cut in two by it would leak its second half.
    map_urls(&scrub_values(input.to_owned()), url)
}

/// Free text with every `scheme://…` in it replaced by `(url hidden)`, and the secret values scrubbed:
/// for what a source with `publish_url = false` shows.
pub fn hide_urls(input: &str) -> String {
    map_urls(&scrub_values(input.to_owned()), |_| "(url hidden)".to_owned())
}

/// `input` with each URL in it replaced by `f` of it.
fn map_urls(input: &str, f: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(at) = rest.find("://") {
        let start = rest[..at]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            .last()
            .map_or(at, |(i, _)| i);
        let len = rest[at..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`' | '(' | ')' | ','))
            .unwrap_or(rest.len() - at);
        let mut end = at + len;
        // A URL at the end of a clause: `…/feed: cannot connect`, `…/feed.`
        while end > at + 3 && rest[..end].ends_with([':', '.', ';']) {
            end -= 1;
        }
        out.push_str(&rest[..start]);
        if start == at {
            out.push_str("://");
            rest = &rest[at + 3..];
            continue;
        }
        out.push_str(&f(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn scrub_values(s: String) -> String {
    let Some(matcher) = matcher() else { return s };
    if !matcher.is_match(&s) {
        return s;
    }
    matcher.replace_all(&s, &vec![MASK; matcher.patterns_len()])
}

/// The matcher of every registered value; `None` when there is none.
fn matcher() -> Option<Arc<AhoCorasick>> {
    {
        let r = REGISTRY.read().unwrap_or_else(PoisonError::into_inner);
        if r.values.is_empty() {
            return None;
        }
        if let Some(m) = &r.matcher {
            return Some(Arc::clone(m));
        }
    }
    let mut r = REGISTRY.write().unwrap_or_else(PoisonError::into_inner);
    // Leftmost-longest: a value that contains another is replaced whole.
    let built = AhoCorasick::builder().match_kind(MatchKind::LeftmostLongest).build(&r.values).ok()?;
    let built = Arc::new(built);
    r.matcher = Some(Arc::clone(&built));
    Some(built)
}

/// The URL a document's relative links are resolved against: `u` without userinfo and without secret
/// query parameters, so neither can reach a published link.
pub fn public_base(u: &Url) -> Url {
    let mut base = u.clone();
    let _ = base.set_password(None);
    let _ = base.set_username("");
    if let Some(query) = u.query() {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| !is_secret_param(&decode(pair.split_once('=').map_or(*pair, |(n, _)| n))))
            .collect();
        base.set_query((!kept.is_empty()).then(|| kept.join("&")).as_deref());
    }
    base
}

/// A value that must never be printed: its `Debug` and `Display` are `***`. Read it with
/// [`Secret::expose`], only where it is sent.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value` and registers it, so [`text`] scrubs it wherever it turns up.
    pub fn new(value: String) -> Secret {
        register_value(&value);
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

/// A `tracing` writer that redacts every line before it reaches stderr: logs name URLs and quote
/// errors, and `-vv` includes libraries' own messages, which know nothing of feedmill's secrets. Each
/// write is redacted on its own, so it relies on whole lines per write, as tracing-subscriber's `fmt`
/// layer does (it formats an event into a buffer, then writes it at once).
pub struct RedactingWriter<W>(pub W);

impl<W: std::io::Write> std::io::Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let line = String::from_utf8_lossy(buf);
        self.0.write_all(text(&line).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_masked() {
        assert_eq!(url("http://alice:s3cret@host.example/feed.xml"), "http://***@host.example/feed.xml");
        assert_eq!(url("https://alice@host.example/"), "https://***@host.example/");
        assert_eq!(url("https://:pw@host.example/a"), "https://***@host.example/a");
    }

    #[test]
    fn secret_parameters_are_masked_case_insensitively_and_others_kept() {
        assert_eq!(
            url("https://h.example/f?a=1&token=abc123&Api_Key=x&b=%20y&sig=zz"),
            "https://h.example/f?a=1&token=***&Api_Key=***&b=%20y&sig=***"
        );
        for name in ["key", "apikey", "access_token", "secret", "password", "auth", "signature", "TOKEN"] {
            assert_eq!(url(&format!("https://h.example/?{name}=v")), format!("https://h.example/?{name}=***"));
        }
        assert_eq!(url("https://h.example/?tokens=v&monkey=v"), "https://h.example/?tokens=v&monkey=v");
    }

    #[test]
    fn registered_parameter_names_are_secret_everywhere() {
        assert_eq!(url("https://h.example/?zq_private=1"), "https://h.example/?zq_private=1");
        register_params(["ZQ_Private"]);
        assert_eq!(url("https://h.example/?zq_private=1&x=2"), "https://h.example/?zq_private=***&x=2");
    }

    #[test]
    fn urls_without_secrets_and_paths_are_unchanged() {
        for input in ["https://Example.org/feed", "feeds/a.xml", "/srv/a b.xml", "http://h.example/?q=1", "not a url"] {
            assert_eq!(url(input), input);
        }
    }

    #[test]
    fn text_redacts_every_url_in_it() {
        let message = "http://bob:hunter22@h.example/f?key=k1: cannot connect: error sending request for url \
                       (http://bob:hunter22@h.example/f?key=k1)";
        let redacted = text(message);
        assert_eq!(
            redacted,
            "http://***@h.example/f?key=***: cannot connect: error sending request for url \
             (http://***@h.example/f?key=***)"
        );
        assert_eq!(text("plain words: no url"), "plain words: no url");
        assert_eq!(text("a :// b"), "a :// b");
        assert_eq!(hide_urls("https://h.example/f: HTTP 500"), "(url hidden): HTTP 500");
    }

    #[test]
    fn registered_values_are_scrubbed_from_text_and_urls() {
        let secret = Secret::new("CANARY-unit-91ab".to_owned());
        assert_eq!(format!("{secret:?} {secret}"), "*** ***");
        assert_eq!(secret.expose(), "CANARY-unit-91ab");
        assert_eq!(text("server said: bad key CANARY-unit-91ab"), "server said: bad key ***");
        assert_eq!(url("https://h.example/CANARY-unit-91ab/feed"), "https://h.example/***/feed");
        register_value("abc");
        assert_eq!(text("abc"), "abc", "too short to scrub");
    }

    #[test]
    fn configured_url_secrets_are_registered() {
        register_url_secrets("https://carol:pass%2Fword77@h.example/?auth=tok-5566&q=public");
        assert_eq!(text("echo pass/word77 and tok-5566 and public"), "echo *** and *** and public");
    }

    #[test]
    fn public_base_drops_userinfo_and_secret_parameters() {
        let u = Url::parse("http://alice:pw@h.example/dir/feed.xml?token=t&page=2").unwrap();
        assert_eq!(public_base(&u).as_str(), "http://h.example/dir/feed.xml?page=2");
        let u = Url::parse("http://h.example/feed?key=1").unwrap();
        assert_eq!(public_base(&u).as_str(), "http://h.example/feed");
        assert_eq!(public_base(&u).join("post/1").unwrap().as_str(), "http://h.example/post/1");
    }

    #[test]
    fn the_writer_redacts_log_lines() {
        use std::io::Write as _;
        let mut out = Vec::new();
        writeln!(RedactingWriter(&mut out), "fetching http://u:p@h.example/x").unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "fetching http://***@h.example/x\n");
    }
}
