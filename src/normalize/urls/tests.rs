//! Resolving URLs, their canonical forms, and the tracking parameters dropped from published links.

use super::*;

fn u(s: &str) -> Url {
    Url::parse(s).unwrap()
}

#[test]
fn resolves_relative_protocol_relative_and_refuses_scripts() {
    let base = u("https://abai.kz/news/");
    assert_eq!(resolve(Some(&base), " post/1 ").unwrap().as_str(), "https://abai.kz/news/post/1");
    assert_eq!(resolve(Some(&base), "//cdn.abai.kz/a.jpg").unwrap().as_str(), "https://cdn.abai.kz/a.jpg");
    assert_eq!(resolve(None, "/post/1"), None);
    assert_eq!(resolve(Some(&base), "javascript:alert(1)"), None);
    assert_eq!(resolve(Some(&base), ""), None);
}

#[test]
fn xml_base_is_resolved_against_the_document() {
    let doc = u("https://example.org/blog/feed.xml");
    assert_eq!(effective_base(Some(&doc), Some("posts/")).unwrap().as_str(), "https://example.org/blog/posts/");
    assert_eq!(effective_base(Some(&doc), Some("https://other.example/")).unwrap().as_str(), "https://other.example/");
    assert_eq!(effective_base(Some(&doc), None).unwrap(), doc);
    assert_eq!(effective_base(None, Some("rel/")), None);
}

#[test]
fn canonical_forms_match_across_variants() {
    let a = canonical(&u("https://www.Abai.kz:443/post/95211?utm_source=fb&b=2&a=1#comments"));
    let b = canonical(&u("http://abai.kz/post/95211?a=1&b=2&fbclid=XYZ"));
    assert_eq!(a, b);
    assert_eq!(a, "abai.kz/post/95211?a=1&b=2");
    assert_ne!(canonical(&u("https://abai.kz/post/1")), canonical(&u("https://abai.kz/post/2")));
    assert_eq!(canonical(&u("https://abai.kz:8080/x")), "abai.kz:8080/x");
    assert_eq!(canonical(&u("http://abai.kz:443/x")), "abai.kz/x");
    assert_eq!(canonical(&u("https://www.www.abai.kz/")), "abai.kz/");
    assert_eq!(canonical(&u("https://www.com/")), "www.com/");
}

/// Found by `cargo fuzz run urls`: "https://www./" became "/", which is no URL at all, and
/// "www.www.x" became "www.x", whose own canonical form is "x".
#[test]
fn canonical_keeps_a_host_and_strips_every_www() {
    assert_eq!(canonical(&u("https://www./")), "www./");
    assert_eq!(canonical(&u("https://www.www./a")), "www./a");
    assert_eq!(canonical(&u("https://www.www.example.org/a")), "example.org/a");
    for s in ["https://www./", "https://www.www.example.org/a"] {
        let c = canonical(&u(s));
        assert_eq!(canonical(&u(&format!("https://{c}"))), c, "{s}");
    }
}

#[test]
fn published_links_lose_only_tracking_parameters() {
    let clean = |s: &str| without_tracking(u(s)).to_string();
    assert_eq!(
        clean("https://abai.kz/post?z=2&utm_source=rss&a=%D0%B0&UTM_Medium=x&fbclid=1&b#comments"),
        "https://abai.kz/post?z=2&a=%D0%B0&b#comments"
    );
    assert_eq!(clean("https://abai.kz/post?utm_source=rss&_openstat=x&__s=y#top"), "https://abai.kz/post#top");
    assert_eq!(clean("https://abai.kz/post?mc_cid=1&mc_eid=2&_hsenc=3&yclid=4&id=5"), "https://abai.kz/post?id=5");
    for same in ["https://abai.kz/post?b=2&a=1", "https://abai.kz/post?q=a+b&utm=1", "https://abai.kz/post"] {
        assert_eq!(clean(same), same);
    }
    let url = u("https://abai.kz/post?utm_campaign=a&id=7");
    assert_eq!(canonical(&without_tracking(url.clone())), canonical(&url), "dedup sees the same link");
}

#[test]
fn canonical_is_idempotent_when_reparsed() {
    let c = canonical(&u("https://www.example.org/a%20b?z=1&y=%D0%B0"));
    assert_eq!(canonical(&u(&format!("https://{c}"))), c);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// URLs as feeds write them: either scheme, `www.` (even twice) or not, odd case, ports
    /// (default ones for either scheme too), paths with Cyrillic, spaces, escapes and dot
    /// segments, queries mixing tracking and real parameters in any order, fragments.
    fn url() -> impl Strategy<Value = String> {
        let scheme = prop::sample::select(vec!["http", "https", "HTTPS"]);
        let www = prop::sample::select(vec!["", "www.", "WWW.", "www.www."]);
        let host = prop::sample::select(vec![
            "example.org",
            "Abai.KZ",
            "xn--80ak6aa92e.com",
            "пример.рф",
            "127.0.0.1",
            "[::1]",
            "www.com",
        ]);
        let port = prop::option::of(prop::sample::select(vec![80u16, 443, 8080]));
        let segment =
            prop::sample::select(vec!["a", "Жаңалық", "a%20b", "a b", "..", ".", "x;y", "%D0%B0", "~u", "", "a+b"]);
        let key = prop::sample::select(vec!["utm_source", "UTM_Medium", "fbclid", "a", "b", "id", "q", "", "Қ"]);
        let value = prop::sample::select(vec!["", "1", "x y", "a%26b", "%D0%B0", "+", "=", "z"]);
        let query = prop::option::of(prop::collection::vec((key, value), 0..5));
        let fragment = prop::option::of(prop::sample::select(vec!["", "top", "a?b=c"]));
        (scheme, www, host, port, prop::collection::vec(segment, 0..4), query, fragment).prop_map(
            |(scheme, www, host, port, path, query, fragment)| {
                let mut u = format!("{scheme}://{www}{host}");
                if let Some(port) = port {
                    u.push_str(&format!(":{port}"));
                }
                for s in path {
                    u.push('/');
                    u.push_str(s);
                }
                if let Some(pairs) = query {
                    let pairs: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    u.push('?');
                    u.push_str(&pairs.join("&"));
                }
                if let Some(f) = fragment {
                    u.push('#');
                    u.push_str(f);
                }
                u
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// A canonical form, read again as a URL of either scheme, is its own canonical form.
        #[test]
        fn canonical_is_idempotent(raw in url()) {
            let Ok(parsed) = Url::parse(&raw) else {
                return Err(TestCaseError::reject("not a URL"));
            };
            let once = canonical(&parsed);
            for scheme in ["http", "https"] {
                let again = Url::parse(&format!("{scheme}://{once}"));
                prop_assert!(again.is_ok(), "{} -> {} does not parse", raw, once);
                let twice = canonical(&again.unwrap());
                prop_assert_eq!(&twice, &once, "{} via {}", raw, scheme);
            }
        }

        /// A published link is its own clean form, and dedup sees it as the link it came from.
        #[test]
        fn without_tracking_is_idempotent_and_keeps_the_canonical_form(raw in url()) {
            let Ok(parsed) = Url::parse(&raw) else {
                return Err(TestCaseError::reject("not a URL"));
            };
            let clean = without_tracking(parsed.clone());
            prop_assert_eq!(&without_tracking(clean.clone()), &clean, "{}", raw);
            prop_assert_eq!(canonical(&clean), canonical(&parsed), "{}", raw);
            prop_assert_eq!(clean.fragment(), parsed.fragment(), "{}", raw);
        }
    }
}
