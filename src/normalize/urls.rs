//! URLs: making them absolute, and the canonical form dedup compares.
//!
//! Feeds write links relative to `xml:base`, to the document URL, protocol-relative, with stray
//! whitespace, or not at all. Everything feedmill emits is absolute; a link that cannot be made absolute
//! is dropped rather than written broken.

use url::Url;

use super::MAX_URL_BYTES;

/// Resolves `s` against `base` (when given). Only http(s) results are kept: a `javascript:` or `data:`
/// "link" is never an entry's page. A URL longer than [`MAX_URL_BYTES`], as written or resolved, is
/// dropped too: every URL feedmill keeps goes through here.
pub fn resolve(base: Option<&Url>, s: &str) -> Option<Url> {
    let s = s.trim();
    if s.is_empty() || s.len() > MAX_URL_BYTES {
        return None;
    }
    let url = match Url::parse(s) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => base?.join(s).ok()?,
        Err(_) => return None,
    };
    (matches!(url.scheme(), "http" | "https") && url.as_str().len() <= MAX_URL_BYTES).then_some(url)
}

/// The base URL in effect for an entry or feed: its `xml:base` resolved against the document URL.
pub fn effective_base(doc_url: Option<&Url>, xml_base: Option<&str>) -> Option<Url> {
    match xml_base.map(str::trim).filter(|b| !b.is_empty()) {
        Some(b) => match Url::parse(b) {
            Ok(u) => Some(u),
            Err(_) => doc_url.and_then(|d| d.join(b).ok()).or_else(|| doc_url.cloned()),
        },
        None => doc_url.cloned(),
    }
}

/// Query parameters that identify a click, not a page: dedup ignores them ([`canonical`]) and
/// published links drop them ([`without_tracking`]), so the two agree on what a link is.
///
/// The list is what the well-known link cleaners agree on: Firefox's query stripping (`fbclid`,
/// `gclid`, `dclid`, `msclkid`, `yclid`, `twclid`, `mc_eid`, `_hsenc`, `_hsmi`, `mkt_tok`,
/// `oly_anon_id`, `oly_enc_id`, `vero_id`, `wickedid`, `__s`, `_openstat`, `igshid`), ClearURLs' global
/// rules (`utm_*`, `ga`'s `_ga`/`_gl`, `ncid`, `spm`, `ref_src`, …) and Mailchimp's and HubSpot's
/// prefixes. A parameter a page needs to show its content (`id`, `p`, `page`) is never one of them.
fn is_tracking_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("utm_")
        || name.starts_with("mc_")
        || name.starts_with("_hs")
        || matches!(
            name.as_str(),
            "fbclid"
                | "gclid"
                | "gclsrc"
                | "dclid"
                | "yclid"
                | "msclkid"
                | "igshid"
                | "_ga"
                | "_gl"
                | "mkt_tok"
                | "oly_anon_id"
                | "oly_enc_id"
                | "rb_clickid"
                | "s_cid"
                | "vero_conv"
                | "vero_id"
                | "wickedid"
                | "ncid"
                | "sr_share"
                | "spm"
                | "twclid"
                | "ttclid"
                | "li_fat_id"
                | "ref_src"
                | "ref_url"
                | "_openstat"
                | "__s"
        )
}

/// `url` without its tracking parameters (`is_tracking_param`): the rest of the query as written and
/// in its order, the fragment kept, nothing else touched. The link an entry is published with.
pub fn without_tracking(mut url: Url) -> Url {
    let Some(query) = url.query() else {
        return url;
    };
    let is_tracking = |pair: &str| {
        url::form_urlencoded::parse(pair.as_bytes()).next().is_some_and(|(name, _)| is_tracking_param(&name))
    };
    if !query.split('&').any(is_tracking) {
        return url;
    }
    let kept: Vec<&str> = query.split('&').filter(|pair| !pair.is_empty() && !is_tracking(pair)).collect();
    let kept = kept.join("&");
    url.set_query((!kept.is_empty()).then_some(kept.as_str()));
    url
}

/// The form two links to the same page share: no scheme (http and https are one), host without
/// `www.`, default port and fragment dropped, tracking parameters dropped, remaining query sorted.
///
/// It is idempotent (read again as a URL of either scheme, a canonical form is its own): every
/// leading `www.` goes, as long as a dotted name is left (`www.com` stays), and since the scheme is
/// gone, so is the default port of either scheme (`http://x:443/` is `x/`).
pub fn canonical(url: &Url) -> String {
    let mut host = url.host_str().unwrap_or("");
    // Every leading `www.` goes while a dot is left, so the result is its own canonical form ("www.www.x.kz"
    // → "x.kz", as "www.x.kz" is); but never down to a bare name: "www.com" stays.
    while let Some(rest) = host.strip_prefix("www.").filter(|rest| rest.contains('.')) {
        host = rest;
    }
    let mut out = String::with_capacity(url.as_str().len());
    out.push_str(host);
    if let Some(port) = url.port().filter(|p| !matches!(p, 80 | 443)) {
        out.push(':');
        out.push_str(&port.to_string());
    }
    out.push_str(url.path());
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !is_tracking_param(k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if !pairs.is_empty() {
        pairs.sort();
        let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        out.push('?');
        out.push_str(&query);
    }
    out
}

#[cfg(test)]
mod tests;
