//! The output folder over HTTP: which file a request path names, what type it is, and whether the
//! client's copy is still current.
//!
//! A request path is refused before it touches the disk when, once percent-decoded, it holds a `..` or
//! `.` segment, a backslash or a NUL (400), or a segment starting with a dot (404: the temporary files
//! `emit::write` renames into place, and anything hidden). What is left is joined to the folder one
//! segment at a time (a segment never holds a `/`, so nothing can replace the folder by an absolute
//! path), canonicalized, and served only when the result still lies inside the canonical folder: a
//! symlink that leads out of it is a 404 like a missing file.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read as _;
use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderMap};
use percent_encoding::percent_decode_str;

pub use crate::store::etag_of;

/// What a request path names.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolved {
    /// A regular file inside the folder, canonical.
    File(PathBuf),
    /// A folder asked for without its trailing slash: redirect there, so relative links in its
    /// `index.html` resolve.
    AddSlash,
    /// A folder without an `index.html` (a feed's folder, `/all/`): the top `index.html` lists its
    /// files, so send the reader there.
    ToTop,
}

/// Why a request path is not served.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// A path no well-behaved client sends: `..`, `.`, a backslash, a NUL, not UTF-8.
    BadRequest(&'static str),
    NotFound,
}

/// Maps the raw (percent-encoded) request path to a file inside `root`.
pub fn resolve(root: &Path, raw_path: &str) -> Result<Resolved, Refused> {
    let (segments, wants_folder) = segments(raw_path)?;
    let root = root.canonicalize().map_err(|_| Refused::NotFound)?;
    let mut candidate = root.clone();
    candidate.extend(&segments);
    let found = inside(&root, &candidate)?;
    let meta = std::fs::metadata(&found).map_err(|_| Refused::NotFound)?;
    if meta.is_dir() {
        if !wants_folder {
            return Ok(Resolved::AddSlash);
        }
        return match inside(&root, &found.join("index.html")) {
            Ok(index) if index.is_file() => Ok(Resolved::File(index)),
            Err(Refused::NotFound) if found != root => Ok(Resolved::ToTop),
            _ => Err(Refused::NotFound),
        };
    }
    if meta.is_file() && !wants_folder {
        Ok(Resolved::File(found))
    } else {
        Err(Refused::NotFound)
    }
}

/// The plain names a raw request path holds, checked as the module's doc says, and whether it names
/// a folder (ends with `/`). Shared by the folder and the published files, so both refuse alike.
pub fn segments(raw_path: &str) -> Result<(Vec<String>, bool), Refused> {
    let Some(rest) = raw_path.strip_prefix('/') else {
        return Err(Refused::BadRequest("the path must start with /"));
    };
    let decoded = percent_decode_str(rest).decode_utf8().map_err(|_| Refused::BadRequest("the path is not UTF-8"))?;
    if decoded.contains(['\\', '\0']) {
        return Err(Refused::BadRequest("the path holds a backslash or a NUL"));
    }
    let segments: Vec<&str> = decoded.split('/').filter(|s| !s.is_empty()).collect();
    for seg in &segments {
        if *seg == ".." || *seg == "." {
            return Err(Refused::BadRequest("the path holds a . or .. segment"));
        }
        if seg.starts_with('.') {
            return Err(Refused::NotFound);
        }
        // On Unix a segment without `/` is always one normal component; elsewhere `C:` is not.
        let mut components = Path::new(seg).components();
        if !matches!((components.next(), components.next()), (Some(Component::Normal(_)), None)) {
            return Err(Refused::BadRequest("the path holds a segment that is not a plain name"));
        }
    }
    let wants_folder = decoded.is_empty() || decoded.ends_with('/');
    Ok((segments.into_iter().map(str::to_owned).collect(), wants_folder))
}

/// `path` with every symlink resolved, provided it exists and stays inside `root` (canonical).
fn inside(root: &Path, path: &Path) -> Result<PathBuf, Refused> {
    let canonical = path.canonicalize().map_err(|_| Refused::NotFound)?;
    if canonical.starts_with(root) {
        Ok(canonical)
    } else {
        tracing::debug!(path = %path.display(), to = %canonical.display(), "refused: leads out of the output folder");
        Err(Refused::NotFound)
    }
}

/// The Content-Type of an output file, by name: the feed formats by their registered types.
pub fn content_type(path: &Path) -> &'static str {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    match name {
        "rss.xml" => return "application/rss+xml; charset=utf-8",
        "atom.xml" => return "application/atom+xml; charset=utf-8",
        "feed.json" => return "application/feed+json; charset=utf-8",
        _ => {}
    }
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("opml") => "text/x-opml; charset=utf-8",
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("xml") => "application/xml; charset=utf-8",
        Some("json") => "application/json; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// An opened file's validators, and its bytes when they had to be read.
pub struct Opened {
    pub etag: String,
    pub modified: SystemTime,
    pub bytes: Option<Vec<u8>>,
}

/// ETags by file, so a conditional request for an unchanged file costs an `fstat`, not a read and a
/// hash. An entry holds while the file's mtime and length are the ones it was computed for; output files
/// are replaced by rename, so a changed file always comes with a new mtime.
#[derive(Default)]
pub struct Etags {
    known: Mutex<HashMap<PathBuf, (SystemTime, u64, String)>>,
}

impl Etags {
    /// Opens `path` and works out its validators; reads it when `need_body` or when its ETag is not
    /// known. Metadata and bytes come from the same open file, so they always agree even if the file is
    /// replaced meanwhile.
    pub fn open(&self, path: &Path, need_body: bool) -> std::io::Result<Opened> {
        let mut file = File::open(path)?;
        let meta = file.metadata()?;
        let modified = meta.modified()?;
        let key = (modified, meta.len());
        let cached = {
            let known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
            known.get(path).filter(|(m, len, _)| (*m, *len) == key).map(|(_, _, etag)| etag.clone())
        };
        if let (Some(etag), false) = (&cached, need_body) {
            return Ok(Opened { etag: etag.clone(), modified, bytes: None });
        }
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.read_to_end(&mut bytes)?;
        let etag = match cached {
            Some(etag) => etag,
            None => {
                let etag = etag_of(&bytes);
                let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
                known.insert(path.to_owned(), (modified, meta.len(), etag.clone()));
                etag
            }
        };
        Ok(Opened { etag, modified, bytes: Some(bytes) })
    }
}

/// Whether the client's copy is current (RFC 9110 §13.1.2, §13.1.3): `If-None-Match` decides when
/// present (weak comparison, `*` matches any), else `If-Modified-Since` at one-second resolution. A
/// date in the future is invalid and ignored.
pub fn not_modified(headers: &HeaderMap, etag: &str, modified: SystemTime, now: SystemTime) -> bool {
    let mut inm = headers.get_all(header::IF_NONE_MATCH).iter().peekable();
    if inm.peek().is_some() {
        let ours = etag.trim_start_matches("W/");
        return inm
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .any(|tag| tag == "*" || tag.trim_start_matches("W/") == ours);
    }
    let Some(since) = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
    else {
        return false;
    };
    since <= now && whole_seconds(modified) <= since
}

/// `Last-Modified`: the mtime as an HTTP date.
pub fn http_date(t: SystemTime) -> String {
    httpdate::fmt_http_date(whole_seconds(t))
}

fn whole_seconds(t: SystemTime) -> SystemTime {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    /// A folder with the usual outputs, a hidden temp file, and a secret beside (not inside) it.
    fn folder() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("output");
        std::fs::create_dir_all(root.join("all")).unwrap();
        std::fs::create_dir_all(root.join("empty")).unwrap();
        for (rel, text) in [
            ("index.html", "<html>"),
            ("sources.opml", "<opml>"),
            ("all/rss.xml", "<rss>"),
            ("all/index.html", "<html>all"),
            (".index.html.x1.tmp", "half"),
        ] {
            #[allow(clippy::disallowed_methods)]
            std::fs::write(root.join(rel), text).unwrap();
        }
        #[allow(clippy::disallowed_methods)]
        std::fs::write(tmp.path().join("secret.txt"), "secret").unwrap();
        (tmp, root)
    }

    fn file(root: &Path, rel: &str) -> Result<Resolved, Refused> {
        Ok(Resolved::File(root.canonicalize().unwrap().join(rel)))
    }

    #[test]
    fn paths_name_files_and_folders_their_index() {
        let (_tmp, root) = folder();
        assert_eq!(resolve(&root, "/"), file(&root, "index.html"));
        assert_eq!(resolve(&root, "/all/"), file(&root, "all/index.html"));
        assert_eq!(resolve(&root, "/all"), Ok(Resolved::AddSlash));
        assert_eq!(resolve(&root, "/all/rss.xml"), file(&root, "all/rss.xml"));
        assert_eq!(resolve(&root, "//all//rss.xml"), file(&root, "all/rss.xml"));
        assert_eq!(resolve(&root, "/%61ll/rss.xml"), file(&root, "all/rss.xml"));
        assert_eq!(resolve(&root, "/all/rss.xml/"), Err(Refused::NotFound));
        // A folder without an index (a feed's) sends the reader to the top index, which lists its files.
        assert_eq!(resolve(&root, "/empty/"), Ok(Resolved::ToTop));
        assert_eq!(resolve(&root, "/missing.xml"), Err(Refused::NotFound));
        assert_eq!(resolve(&root, "/.index.html.x1.tmp"), Err(Refused::NotFound));
    }

    #[test]
    fn traversal_is_refused_in_every_spelling() {
        let (_tmp, root) = folder();
        for path in [
            "/../secret.txt",
            "/all/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/%2E%2E/secret.txt",
            "/.%2e/secret.txt",
            "/%2e%2e%2fsecret.txt",
            "/all%2f..%2f..%2fsecret.txt",
            "/..%5csecret.txt",
            "/all/..%5c..%5csecret.txt",
            "/./index.html",
            "/index.html%00.xml",
            "/%ff",
        ] {
            assert!(matches!(resolve(&root, path), Err(Refused::BadRequest(_))), "{path}");
        }
        let secret = root.parent().unwrap().join("secret.txt");
        let absolute = format!("/{}", secret.display());
        assert_eq!(resolve(&root, &absolute), Err(Refused::NotFound), "an absolute path stays inside");
        let encoded = format!("/{}", secret.display().to_string().replace('/', "%2f"));
        assert_eq!(resolve(&root, &encoded), Err(Refused::NotFound));
        assert!(matches!(resolve(&root, "secret.txt"), Err(Refused::BadRequest(_))));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_followed_only_inside_the_folder() {
        let (tmp, root) = folder();
        std::os::unix::fs::symlink(tmp.path().join("secret.txt"), root.join("out.txt")).unwrap();
        std::os::unix::fs::symlink(tmp.path(), root.join("up")).unwrap();
        std::os::unix::fs::symlink(root.join("all/rss.xml"), root.join("latest.xml")).unwrap();
        assert_eq!(resolve(&root, "/out.txt"), Err(Refused::NotFound));
        assert_eq!(resolve(&root, "/up/secret.txt"), Err(Refused::NotFound));
        assert_eq!(resolve(&root, "/up/"), Err(Refused::NotFound));
        assert_eq!(resolve(&root, "/latest.xml"), file(&root, "all/rss.xml"));
    }

    #[test]
    fn content_types_by_name() {
        let t = |p: &str| content_type(Path::new(p));
        assert_eq!(t("all/rss.xml"), "application/rss+xml; charset=utf-8");
        assert_eq!(t("all/atom.xml"), "application/atom+xml; charset=utf-8");
        assert_eq!(t("all/feed.json"), "application/feed+json; charset=utf-8");
        assert_eq!(t("sources.opml"), "text/x-opml; charset=utf-8");
        assert_eq!(t("index.html"), "text/html; charset=utf-8");
        assert_eq!(t("other.xml"), "application/xml; charset=utf-8");
        assert_eq!(t("blob"), "application/octet-stream");
    }

    #[test]
    fn if_none_match_decides_before_if_modified_since() {
        let modified = UNIX_EPOCH + Duration::from_secs(1_700_000_000) + Duration::from_millis(600);
        let now = modified + Duration::from_secs(3600);
        let etag = etag_of(b"x");
        let headers = |pairs: &[(header::HeaderName, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.append(k, HeaderValue::from_str(v).unwrap());
            }
            h
        };
        let same_second = http_date(modified);
        let before = httpdate::fmt_http_date(modified - Duration::from_secs(1));
        let future = httpdate::fmt_http_date(now + Duration::from_secs(60));
        let check = |pairs: &[(header::HeaderName, &str)]| not_modified(&headers(pairs), &etag, modified, now);

        assert!(check(&[(header::IF_NONE_MATCH, &etag)]));
        assert!(etag.starts_with("W/\""), "one tag for every encoding is a weak one: {etag}");
        // Weak comparison: a cache that kept the tag's strong spelling is current too.
        assert!(check(&[(header::IF_NONE_MATCH, &format!("\"other\", {}", &etag[2..]))]));
        assert!(check(&[(header::IF_NONE_MATCH, "\"a\""), (header::IF_NONE_MATCH, &etag)]));
        assert!(check(&[(header::IF_NONE_MATCH, "*")]));
        assert!(!check(&[(header::IF_NONE_MATCH, "\"other\"")]));
        assert!(!check(&[(header::IF_NONE_MATCH, "\"other\""), (header::IF_MODIFIED_SINCE, &same_second)]));
        assert!(check(&[(header::IF_MODIFIED_SINCE, &same_second)]));
        assert!(!check(&[(header::IF_MODIFIED_SINCE, &before)]));
        assert!(!check(&[(header::IF_MODIFIED_SINCE, &future)]));
        assert!(!check(&[(header::IF_MODIFIED_SINCE, "yesterday")]));
        assert!(!check(&[]));
    }

    #[test]
    fn etags_follow_the_file_and_skip_the_read_when_known() {
        let (_tmp, root) = folder();
        let path = root.join("all/rss.xml");
        let etags = Etags::default();
        let first = etags.open(&path, false).unwrap();
        assert_eq!(first.etag, etag_of(b"<rss>"));
        assert_eq!(first.bytes.as_deref(), Some(&b"<rss>"[..]), "unknown: read to hash");
        let again = etags.open(&path, false).unwrap();
        assert_eq!((again.etag.as_str(), again.bytes), (first.etag.as_str(), None));
        assert_eq!(etags.open(&path, true).unwrap().bytes.as_deref(), Some(&b"<rss>"[..]));

        let new = root.join("all/.rss.xml.tmp");
        #[allow(clippy::disallowed_methods)]
        std::fs::write(&new, "<rss>changed").unwrap();
        std::fs::rename(&new, &path).unwrap();
        assert_eq!(etags.open(&path, false).unwrap().etag, etag_of(b"<rss>changed"));
    }
}
