//! Bytes plus a Content-Type header, as a server sends them. The first byte picks the header (labels
//! encoding_rs knows, ones it maps to `replacement`, junk, none); the rest is the body.
#![no_main]

use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: &[Option<&str>] = &[
    None,
    Some("application/rss+xml"),
    Some("text/xml; charset=utf-8"),
    Some("text/html; charset=windows-1251"),
    Some("text/html; charset=koi8-r"),
    Some("application/xml; charset=utf-16le"),
    Some("application/xml; charset=UTF-16BE"),
    Some("text/xml; charset=\"ISO-8859-1\""),
    Some("text/xml; charset=iso-2022-kr"), // encoding_rs: replacement
    Some("text/xml; charset=gb18030"),
    Some("text/html; charset=shift_jis"),
    Some("text/html; charset=x-user-defined"),
    Some("text/html; charset=garbage-label"),
    Some("text/html; charset="),
    Some("text/html; charset"),
    Some(";;;charset=;charset=utf-8"),
    Some("text/html; CHARSET = 'windows-1252' ; q=1"),
    Some("\u{0}\u{ff}é; charset=ü"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let content_type = CONTENT_TYPES[usize::from(pick) % CONTENT_TYPES.len()];
    let d = feedmill::decode::decode(body, content_type);
    let bom = encoding_rs_bom_len(body);
    // The module's promise about lying labels: valid, non-ASCII UTF-8 is read as UTF-8 whatever an
    // 8-bit label says. (UTF-16 is left out: NUL bytes make a UTF-16 label believable.)
    let no_nul = !body[..body.len().min(2048)].contains(&0);
    if bom == 0 && no_nul && !body.is_ascii() && std::str::from_utf8(body).is_ok() {
        assert_eq!(d.encoding.name(), "UTF-8", "valid UTF-8 decoded as {} ({})", d.encoding.name(), d.decided_by);
    }
    if d.encoding.name() == "UTF-8" && !d.had_errors {
        assert_eq!(d.text.as_bytes(), &body[bom..], "clean UTF-8 changed in decoding");
    }
});

/// Length of a UTF-8 or UTF-16 byte order mark at the start of `bytes`.
fn encoding_rs_bom_len(bytes: &[u8]) -> usize {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        2
    } else {
        0
    }
}
