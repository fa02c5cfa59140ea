//! `[state] url`: a PostgreSQL state shared by several workers (#21) instead of the SQLite file.
//!
//! The URL names the server (`postgresql://user@host:5432/db?sslmode=require`, or `postgres://`);
//! [`STATE_URL_ENV`] replaces it, so one config serves machines whose database differs. The password
//! comes from the URL or from `password_env`. Both are registered with `crate::redact` as soon as they
//! are read, and nothing here quotes the URL but through `redact::url`, so a password reaches the
//! database and nowhere else. `ca_file` (PEM) replaces the Mozilla roots the server's certificate is
//! checked against; it is read and parsed here, so a missing or broken file is a config error.

use std::fmt;
use std::path::{Path, PathBuf};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use url::Url;

use super::raw::RawState;
use super::validate::Validator;
use super::Diagnostic;
use crate::redact::{self, Secret};

/// The environment variable whose value replaces `[state] url`.
pub const STATE_URL_ENV: &str = "FEEDMILL_STATE_URL";

/// A PostgreSQL state's address, checked: scheme `postgresql` or `postgres`, a host, options the
/// client knows. Its `Debug` and [`shown`](Self::shown) never carry the password.
#[derive(Clone)]
pub struct StateUrl {
    url: Secret,
    password: Option<Secret>,
    shown: String,
    ca: Option<CaFile>,
}

/// `[state] ca_file`: where it is, and the certificates it held when the config was read.
#[derive(Clone)]
struct CaFile {
    path: PathBuf,
    certificates: Vec<CertificateDer<'static>>,
}

impl StateUrl {
    /// The URL as written (with its password, when it holds one), for the database client only.
    pub fn expose_url(&self) -> &str {
        self.url.expose()
    }

    /// The password `password_env` named, which the client adds to the URL's settings.
    pub fn password(&self) -> Option<&str> {
        self.password.as_ref().map(Secret::expose)
    }

    /// The URL to print: its userinfo and secret parameters masked.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// The CA certificates of `[state] ca_file`, trusted instead of the Mozilla roots; `None`: those.
    pub fn ca_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.ca.as_ref().map(|ca| ca.certificates.as_slice())
    }

    /// `[state] ca_file`, as resolved against the config's folder.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca.as_ref().map(|ca| ca.path.as_path())
    }
}

impl fmt::Debug for StateUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl Validator {
    /// The PostgreSQL state `[state]` (or the environment) names; `Ok(None)`: the SQLite file. `Err`
    /// after an error was reported.
    pub(super) fn state_url(&mut self, raw: &RawState, base_dir: &Path) -> Result<Option<StateUrl>, ()> {
        let (text, span, origin) = match (&raw.env_url, &raw.url) {
            (Some(env), _) => (env.trim().to_owned(), None, format!("`{STATE_URL_ENV}`")),
            (None, Some(url)) => (url.get_ref().trim().to_owned(), Some(url.span()), "`[state] url`".to_owned()),
            (None, None) => {
                if let Some(var) = &raw.password_env {
                    self.diagnostics.push(Diagnostic::warning(
                        "`[state] password_env` is not used without `[state] url` (the SQLite file needs no password)",
                        Some(var.span()),
                    ));
                }
                if let Some(file) = &raw.ca_file {
                    self.diagnostics.push(Diagnostic::warning(
                        "`[state] ca_file` is not used without `[state] url` (the SQLite file needs no TLS)",
                        Some(file.span()),
                    ));
                }
                return Ok(None);
            }
        };
        // Before anything can fail: a message below must not be the first to meet the password.
        let in_url = register_password(&text);
        let fail = |v: &mut Validator, message: String| {
            v.diagnostics.push(Diagnostic::error(redact::text(&message), span.clone()));
            Err(())
        };
        if let Err(message) = check(&text, &origin) {
            return fail(self, message);
        }
        let password = match &raw.password_env {
            None => None,
            // The machine's own URL, password included, stands whole for the file's.
            Some(var) if in_url && raw.env_url.is_some() => {
                self.diagnostics.push(Diagnostic::warning(
                    format!("`[state] password_env` is not used: {origin} holds the password"),
                    Some(var.span()),
                ));
                None
            }
            Some(_) if in_url => {
                return fail(
                    self,
                    format!("{origin} holds a password and `[state] password_env` names another: keep one"),
                )
            }
            Some(var) => match std::env::var(var.get_ref()) {
                Ok(v) if !v.is_empty() => Some(Secret::new(v)),
                _ => {
                    self.diagnostics.push(
                        Diagnostic::error(
                            format!(
                                "`[state] password_env`: environment variable `{}` is not set or empty",
                                var.get_ref()
                            ),
                            Some(var.span()),
                        )
                        .with_help(
                            "export it in the environment feedmill runs in (a systemd `Environment=`, a cron line)",
                        ),
                    );
                    return Err(());
                }
            },
        };
        if raw.path.is_some() {
            self.diagnostics.push(Diagnostic::warning(
                format!("`[state] path` is not used: the state is in PostgreSQL ({origin})"),
                span.clone(),
            ));
        }
        let ca = match &raw.ca_file {
            None => None,
            Some(file) => {
                let path = base_dir.join(file.get_ref());
                match read_ca_file(&path) {
                    Ok(certificates) => Some(CaFile { path, certificates }),
                    Err(why) => {
                        let message = format!("`[state] ca_file` {}: {why}", path.display());
                        self.diagnostics.push(Diagnostic::error(message, Some(file.span())));
                        return Err(());
                    }
                }
            }
        };
        Ok(Some(StateUrl { shown: redact::url(&text), url: Secret::new(text), password, ca }))
    }
}

/// The checks `[state] url` passes: scheme, host, and the client's own reading (an unknown `sslmode`
/// or a bad port is an error here, not at the first connection). `origin` names where it came from.
fn check(text: &str, origin: &str) -> Result<(), String> {
    let parsed = Url::parse(text).map_err(|e| format!("{origin} is not a valid URL: {e}"))?;
    if !matches!(parsed.scheme(), "postgresql" | "postgres") {
        return Err(format!("{origin} must be a postgresql:// or postgres:// URL, not `{}:`", parsed.scheme()));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("{origin} names no host: {}", redact::url(text)));
    }
    if let Err(e) = text.parse::<tokio_postgres::Config>() {
        // Its Display is only "invalid connection string"; what is wrong is in the source.
        let why = std::error::Error::source(&e).map(|s| format!(": {s}")).unwrap_or_default();
        return Err(format!("{origin}: {e}{why}"));
    }
    Ok(())
}

impl StateUrl {
    /// A state URL given on the command line (`migrate-state --to`), checked as `[state] url` is and
    /// its password registered first; `password`: one from the environment, when the URL holds none.
    /// The error is redacted.
    pub fn from_arg(
        text: &str,
        origin: &str,
        password: Option<String>,
        ca_file: Option<&Path>,
    ) -> Result<StateUrl, String> {
        let in_url = register_password(text);
        if let Some(pw) = &password {
            redact::register_value(pw);
        }
        check(text, origin).map_err(|m| redact::text(&m))?;
        if in_url && password.is_some() {
            return Err(format!("{origin} holds a password and another was given: keep one"));
        }
        let ca = match ca_file {
            None => None,
            Some(path) => Some(CaFile {
                certificates: read_ca_file(path).map_err(|why| format!("{} {why}", path.display()))?,
                path: path.to_owned(),
            }),
        };
        Ok(StateUrl {
            shown: redact::url(text),
            url: Secret::new(text.to_owned()),
            password: password.map(Secret::new),
            ca,
        })
    }
}

/// The CA certificates in a PEM file, each checked as a trust anchor; why not, in words.
fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot be read: {e}"))?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("is not a PEM file of certificates: {e}"))?;
    if certificates.is_empty() {
        return Err("holds no certificate (`-----BEGIN CERTIFICATE-----`)".to_owned());
    }
    let mut roots = rustls::RootCertStore::empty();
    for (i, certificate) in certificates.iter().enumerate() {
        roots.add(certificate.clone()).map_err(|e| format!("certificate {} is not usable as a CA: {e}", i + 1))?;
    }
    Ok(certificates)
}

/// Registers the password a state URL holds, raw and decoded; whether it holds one. Only the password:
/// a user name such as `feedmill` is no secret, and masking it would mangle every message.
fn register_password(text: &str) -> bool {
    let Ok(parsed) = Url::parse(text) else {
        // Unparsable, it may still hold one: everything between `//` and the last `@` is masked.
        if let Some(userinfo) = text.split_once("//").and_then(|(_, rest)| rest.rsplit_once('@')).map(|(u, _)| u) {
            if let Some((_, pw)) = userinfo.split_once(':') {
                redact::register_value(pw);
            }
        }
        return false;
    };
    match parsed.password() {
        Some(pw) => {
            redact::register_value(pw);
            redact::register_value(&percent_encoding::percent_decode_str(pw).decode_utf8_lossy());
            true
        }
        None => false,
    }
}

#[cfg(test)]
impl StateUrl {
    /// A test server's URL, taken as it is (its password registered like a configured one's).
    pub(crate) fn for_tests(url: &str) -> StateUrl {
        register_password(url);
        StateUrl { shown: redact::url(url), url: Secret::new(url.to_owned()), password: None, ca: None }
    }

    /// The same, trusting the CAs of the PEM file `ca_file` (a test cluster's own CA).
    pub(crate) fn trusting_for_tests(mut self, ca_file: &Path) -> StateUrl {
        let certificates = read_ca_file(ca_file).expect("the test cluster's CA");
        self.ca = Some(CaFile { path: ca_file.to_owned(), certificates });
        self
    }
}
