//! A source's request settings: user agent, headers, Basic auth and proxy, with the secrets they point
//! to read from the environment or from files. Messages name the source and the key, never a value.

use std::collections::BTreeMap;
use std::path::Path;

use reqwest::header::{HeaderName, HeaderValue};
use url::Url;

use super::Validator;
use crate::config::raw;
use crate::fetch::{BasicAuth, Location, RequestSettings};

/// A source's request keys, as written.
pub(super) struct RawHttp {
    pub(super) user_agent: Option<toml::Spanned<String>>,
    pub(super) proxy: Option<toml::Spanned<String>>,
    pub(super) auth: Option<toml::Spanned<raw::RawAuth>>,
    pub(super) headers: Option<toml::Spanned<BTreeMap<toml::Spanned<String>, toml::Spanned<raw::RawHeaderValue>>>>,
    pub(super) secret_params: Option<Vec<toml::Spanned<String>>>,
}

impl Validator {
    /// A source's request settings, its secrets read from the environment or their files; `None` when
    /// any of it was reported as an error. Messages name the source and the key, never a value.
    pub(super) fn request(
        &mut self,
        name: &str,
        location: Option<&Location>,
        raw: RawHttp,
        base_dir: &Path,
    ) -> Option<RequestSettings> {
        let errors_before = self.error_count();
        let mut request = RequestSettings {
            credentials_host: match location {
                Some(Location::Http(url)) => url.host_str().map(str::to_owned),
                _ => None,
            },
            ..RequestSettings::default()
        };
        for p in raw.secret_params.unwrap_or_default() {
            if p.get_ref().trim().is_empty() {
                self.error(format!("source `{name}`: `secret_params` has an empty name"), p.span());
            } else {
                crate::redact::register_params([p.get_ref().trim()]);
            }
        }
        let http_only = [
            raw.user_agent.as_ref().map(|v| ("user_agent", v.span())),
            raw.proxy.as_ref().map(|v| ("proxy", v.span())),
            raw.auth.as_ref().map(|v| ("auth", v.span())),
            raw.headers.as_ref().map(|v| ("headers", v.span())),
        ];
        if matches!(location, Some(Location::File(_))) {
            for (key, span) in http_only.iter().flatten().cloned() {
                self.error(format!("source `{name}`: `{key}` is for http(s) sources"), span).help =
                    Some("a file is read from disk, without a request".into());
            }
        }
        if let Some(ua) = raw.user_agent {
            match HeaderValue::from_str(ua.get_ref()) {
                Ok(v) if !ua.get_ref().trim().is_empty() => request.user_agent = Some(v),
                _ => {
                    self.error(format!("source `{name}`: `user_agent` is not a valid header value"), ua.span()).help =
                        Some("use printable ASCII on one line".into());
                }
            }
        }
        if let Some(proxy) = raw.proxy {
            request.proxy = self.proxy(proxy, &format!("source `{name}`: `proxy`"));
        }
        if let Some(auth) = raw.auth {
            let span = auth.span();
            if let Some(Location::Http(url)) = location {
                if !url.username().is_empty() || url.password().is_some() {
                    self.error(format!("source `{name}`: both `auth` and credentials in `url`"), span.clone()).help =
                        Some("keep one: both would be sent as the Authorization header".into());
                }
            }
            let auth = auth.into_inner();
            let username = auth.username.get_ref().clone();
            if username.contains(':') {
                self.error(format!("source `{name}`: `auth.username` cannot contain `:`"), auth.username.span());
            }
            let password = match (auth.password_env, auth.password_file) {
                (Some(env), None) => self.secret_from_env(name, "auth.password_env", &env),
                (None, Some(file)) => self.secret_from_file(name, "auth.password_file", &file, base_dir),
                (Some(_), Some(_)) | (None, None) => {
                    self.error(
                        format!("source `{name}`: `auth` needs one of `password_env` or `password_file`"),
                        span,
                    )
                    .help = Some(
                        "passwords are read from the environment or a file, so feeds.toml can be shared; \
                         a password written in the URL works too"
                            .into(),
                    );
                    None
                }
            };
            request.auth = password.map(|p| BasicAuth { username, password: crate::redact::Secret::new(p) });
        }
        for (header, value) in raw.headers.map(toml::Spanned::into_inner).unwrap_or_default() {
            let key = format!("headers.{}", header.get_ref());
            let Some(header_name) = self.header_name(name, &header) else { continue };
            let text = match value.get_ref() {
                raw::RawHeaderValue::Plain(v) => Some(v.clone()),
                raw::RawHeaderValue::From(raw::RawSecretRef { env: Some(env), file: None }) => {
                    let env = toml::Spanned::new(value.span(), env.clone());
                    self.secret_from_env(name, &key, &env)
                }
                raw::RawHeaderValue::From(raw::RawSecretRef { env: None, file: Some(file) }) => {
                    let file = toml::Spanned::new(value.span(), file.clone());
                    self.secret_from_file(name, &key, &file, base_dir)
                }
                raw::RawHeaderValue::From(_) => {
                    self.error(format!("source `{name}`: `{key}` needs exactly one of `env` or `file`"), value.span());
                    None
                }
            };
            let Some(text) = text else { continue };
            if matches!(value.get_ref(), raw::RawHeaderValue::From(_)) {
                crate::redact::register_value(&text);
            }
            match HeaderValue::from_str(&text) {
                Ok(mut v) => {
                    v.set_sensitive(true);
                    request.headers.push((header_name, v));
                }
                Err(_) => {
                    self.error(format!("source `{name}`: `{key}` is not a valid header value"), value.span()).help =
                        Some("use printable characters on one line".into());
                }
            }
        }
        if request.auth.is_some() && request.headers.iter().any(|(n, _)| n == reqwest::header::AUTHORIZATION) {
            let span = http_only[2].clone().map(|(_, s)| s).unwrap_or_default();
            self.error(format!("source `{name}`: both `auth` and an `Authorization` header"), span).help =
                Some("keep one: `auth` sends Basic credentials in that header".into());
        }
        (self.error_count() == errors_before).then_some(request)
    }

    /// A header name a source may set: valid, and not one feedmill manages itself.
    fn header_name(&mut self, name: &str, header: &toml::Spanned<String>) -> Option<HeaderName> {
        let Ok(parsed) = HeaderName::from_bytes(header.get_ref().as_bytes()) else {
            self.error(format!("source `{name}`: `{}` is not a valid header name", header.get_ref()), header.span())
                .help = Some("header names are ASCII letters, digits and `-`".into());
            return None;
        };
        let reason = match parsed.as_str() {
            "host" => "it is the URL's host",
            "content-length" | "transfer-encoding" | "connection" | "keep-alive" | "te" | "trailer" | "upgrade"
            | "expect" => "it belongs to the HTTP connection, which feedmill manages",
            "accept-encoding" => "feedmill asks for gzip, brotli and deflate and decodes them itself",
            "if-none-match" | "if-modified-since" => "feedmill sends the validators from the last fetch itself",
            "user-agent" => "use the source's `user_agent` key",
            "proxy-authorization" | "proxy-connection" => "put the proxy's credentials in the `proxy` URL",
            _ => return Some(parsed),
        };
        self.error(format!("source `{name}`: header `{}` cannot be set: {reason}", header.get_ref()), header.span());
        None
    }

    /// The value of the environment variable `var` names, which must be set and not empty.
    fn secret_from_env(&mut self, name: &str, key: &str, var: &toml::Spanned<String>) -> Option<String> {
        match std::env::var(var.get_ref()) {
            Ok(v) if !v.is_empty() => Some(v),
            Ok(_) => {
                self.error(
                    format!("source `{name}`: `{key}`: environment variable `{}` is empty", var.get_ref()),
                    var.span(),
                );
                None
            }
            Err(_) => {
                self.error(
                    format!("source `{name}`: `{key}`: environment variable `{}` is not set", var.get_ref()),
                    var.span(),
                )
                .help = Some(
                    "export it in the environment feedmill runs in (a systemd `Environment=`, a cron line)".into(),
                );
                None
            }
        }
    }

    /// The content of the file `path` names (relative to the config's folder), one trailing line break
    /// dropped: `echo secret > file` must give `secret`.
    fn secret_from_file(
        &mut self,
        name: &str,
        key: &str,
        path: &toml::Spanned<String>,
        base_dir: &Path,
    ) -> Option<String> {
        let full = base_dir.join(path.get_ref());
        match std::fs::read_to_string(&full) {
            Ok(v) => {
                let v = v.strip_suffix('\n').map(|v| v.strip_suffix('\r').unwrap_or(v)).unwrap_or(&v).to_owned();
                if v.is_empty() {
                    self.error(format!("source `{name}`: `{key}`: {} is empty", full.display()), path.span());
                    return None;
                }
                Some(v)
            }
            Err(e) => {
                self.error(format!("source `{name}`: `{key}`: cannot read {}: {e}", full.display()), path.span());
                None
            }
        }
    }

    /// A proxy URL, checked; `what` names the key in messages, which never quote the URL itself
    /// (it may carry the proxy's credentials).
    pub(super) fn proxy(&mut self, proxy: toml::Spanned<String>, what: &str) -> Option<crate::redact::Secret> {
        crate::redact::register_url_secrets(proxy.get_ref());
        match Url::parse(proxy.get_ref().trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => {
                Some(crate::redact::Secret::new(proxy.get_ref().trim().to_owned()))
            }
            Ok(u) => {
                self.error(format!("{what} must be an http:// or https:// URL, not `{}:`", u.scheme()), proxy.span());
                None
            }
            Err(e) => {
                self.error(format!("{what} is not a valid URL: {e}"), proxy.span());
                None
            }
        }
    }
}
