//! Errors as people read them: [`error_chain`] turns an error and its causes into one line (for a
//! report row, a log line or the command line), each cause once and any secret a library's error
//! quotes redacted. A module of its own because fetch, pipeline, serve and the commands all print
//! errors, and none of them should import another for it.

/// An error and its causes on one line: `a.example: cannot connect: dns error: no such host`. Redacted
/// (`crate::redact::text`): a library's error may quote a URL with its credentials.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let s = c.to_string();
        // reqwest repeats its inner message; do not print the same words twice.
        if !out.ends_with(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cause = c.source();
    }
    crate::redact::text(&out)
}
