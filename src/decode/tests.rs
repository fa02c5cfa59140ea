//! Which charset each kind of evidence picks (BOM, HTTP, prolog, meta, detection), and why.

use super::*;
use encoding_rs::{KOI8_R, WINDOWS_1251};

const RUSSIAN: &str = "Новости Казахстана: правительство утвердило новый бюджет на следующий год, \
                           в котором расходы на образование и здравоохранение значительно увеличены.";

fn encode(text: &str, encoding: &'static Encoding) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding.encode(text);
    assert!(!unmappable, "test text must be representable in {}", encoding.name());
    bytes.into_owned()
}

fn rss(prolog_encoding: Option<&str>) -> String {
    let prolog = match prolog_encoding {
        Some(e) => format!("<?xml version=\"1.0\" encoding=\"{e}\"?>\n"),
        None => "<?xml version=\"1.0\"?>\n".to_owned(),
    };
    format!("{prolog}<rss version=\"2.0\"><channel><title>{RUSSIAN}</title></channel></rss>")
}

#[test]
fn windows_1251_labelled_only_in_the_prolog() {
    let doc = rss(Some("windows-1251"));
    let out = decode(&encode(&doc, WINDOWS_1251), Some("application/rss+xml"));
    assert_eq!(out.text, doc);
    assert_eq!((out.encoding, out.decided_by, out.had_errors), (WINDOWS_1251, DecidedBy::XmlProlog, false));
}

#[test]
fn prolog_label_aliases_resolve() {
    let doc = rss(Some("cp1251"));
    let out = decode(&encode(&doc, WINDOWS_1251), None);
    assert_eq!((out.encoding, out.decided_by), (WINDOWS_1251, DecidedBy::XmlProlog));
    assert_eq!(out.text, doc);
}

#[test]
fn a_wrong_utf8_header_hands_over_to_the_prolog() {
    let doc = rss(Some("windows-1251"));
    let out = decode(&encode(&doc, WINDOWS_1251), Some("application/rss+xml; charset=UTF-8"));
    assert_eq!(out.text, doc);
    assert_eq!((out.encoding, out.decided_by), (WINDOWS_1251, DecidedBy::XmlProlog));
}

#[test]
fn koi8_r_labelled_only_in_the_content_type() {
    let doc = rss(None);
    let out = decode(&encode(&doc, KOI8_R), Some("text/xml; charset=\"KOI8-R\""));
    assert_eq!(out.text, doc);
    assert_eq!((out.encoding, out.decided_by), (KOI8_R, DecidedBy::HttpCharset));
}

#[test]
fn http_charset_beats_the_prolog() {
    let doc = rss(Some("utf-16"));
    let out = decode(&encode(&doc, KOI8_R), Some("text/xml;charset=koi8-r"));
    assert_eq!((out.encoding, out.decided_by), (KOI8_R, DecidedBy::HttpCharset));
}

#[test]
fn utf8_bom_beats_a_wrong_header() {
    let doc = rss(Some("windows-1251"));
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(doc.as_bytes());
    let out = decode(&bytes, Some("text/xml; charset=windows-1251"));
    assert_eq!(out.text, doc, "the BOM itself is not part of the text");
    assert_eq!((out.encoding, out.decided_by), (UTF_8, DecidedBy::Bom));
}

#[test]
fn windows_1251_mislabelled_utf8_is_sniffed() {
    let doc = rss(None);
    let out = decode(&encode(&doc, WINDOWS_1251), Some("application/xml; charset=utf-8"));
    assert_eq!(out.text, doc);
    assert_eq!((out.encoding, out.decided_by, out.had_errors), (WINDOWS_1251, DecidedBy::Sniffed, false));
}

#[test]
fn unlabelled_cp1251_is_sniffed() {
    let doc = format!("<rss><channel><title>{RUSSIAN}</title></channel></rss>");
    let out = decode(&encode(&doc, WINDOWS_1251), None);
    assert_eq!(out.text, doc);
    assert_eq!((out.encoding, out.decided_by), (WINDOWS_1251, DecidedBy::Sniffed));
}

#[test]
fn unlabelled_utf8_is_the_default() {
    let doc = rss(None);
    let out = decode(doc.as_bytes(), Some("application/rss+xml"));
    assert_eq!(out.text, doc);
    assert_eq!((out.encoding, out.decided_by), (UTF_8, DecidedBy::DefaultUtf8));
}

#[test]
fn utf16le_with_bom() {
    let doc = rss(Some("utf-16"));
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(doc.encode_utf16().flat_map(u16::to_le_bytes));
    let out = decode(&bytes, Some("text/xml; charset=iso-8859-1"));
    assert_eq!(out.text, doc);
    assert_eq!((out.encoding, out.decided_by), (UTF_16LE, DecidedBy::Bom));
}

#[test]
fn utf16be_without_bom_is_recognized_by_the_prolog_shape() {
    let doc = rss(Some("utf-16"));
    let bytes: Vec<u8> = doc.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let out = decode(&bytes, None);
    assert_eq!(out.text, doc);
    assert_eq!((out.encoding, out.decided_by), (UTF_16BE, DecidedBy::XmlProlog));
}

#[test]
fn utf16_label_on_8bit_bytes_is_ignored() {
    let doc = rss(Some("UTF-16"));
    let out = decode(&encode(&doc, WINDOWS_1251), None);
    assert_eq!(out.text, doc);
    assert_eq!((out.encoding, out.decided_by), (WINDOWS_1251, DecidedBy::Sniffed));
}

#[test]
fn invalid_label_counts_as_missing() {
    let doc = rss(Some("x-no-such-charset"));
    let bytes = encode(&doc, WINDOWS_1251);
    let out = decode(&bytes, Some("text/xml; charset=bogus"));
    assert_eq!(out.text, doc);
    assert_eq!((out.encoding, out.decided_by), (WINDOWS_1251, DecidedBy::Sniffed));
}

#[test]
fn replacement_label_counts_as_missing() {
    let doc = rss(None);
    let out = decode(doc.as_bytes(), Some("text/xml; charset=iso-2022-kr"));
    assert_eq!(out.text, doc);
    assert_eq!(out.decided_by, DecidedBy::DefaultUtf8);
}

#[test]
fn valid_utf8_beats_a_legacy_label() {
    let doc = rss(Some("ISO-8859-1"));
    let out = decode(doc.as_bytes(), Some("text/xml; charset=ISO-8859-1"));
    assert_eq!(out.text, doc);
    assert_eq!((out.encoding, out.decided_by), (UTF_8, DecidedBy::ValidUtf8));
}

#[test]
fn ascii_keeps_its_label() {
    let out = decode(b"<rss><channel><title>plain</title></channel></rss>", Some("text/xml; charset=koi8-r"));
    assert_eq!((out.encoding, out.decided_by), (KOI8_R, DecidedBy::HttpCharset));
}

#[test]
fn html_meta_charset_forms() {
    let body = format!("<p>{RUSSIAN}</p>");
    for head in [
        "<meta charset=windows-1251>".to_owned(),
        "<META CHARSET = 'windows-1251' />".to_owned(),
        "<meta name=\"x\"><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\">".to_owned(),
    ] {
        let doc = format!("<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>");
        let out = decode(&encode(&doc, WINDOWS_1251), Some("text/html"));
        assert_eq!(out.text, doc, "{head}");
        assert_eq!((out.encoding, out.decided_by), (WINDOWS_1251, DecidedBy::HtmlMeta), "{head}");
    }
}

#[test]
fn meta_inside_an_xml_document_is_content() {
    let doc = format!(
        "<?xml version=\"1.0\"?><rss><channel><item><description><![CDATA[<meta charset=\"koi8-r\">]]>\
             </description><title>{RUSSIAN}</title></item></channel></rss>"
    );
    let out = decode(doc.as_bytes(), None);
    assert_eq!((out.encoding, out.decided_by), (UTF_8, DecidedBy::DefaultUtf8));
}

#[test]
fn prolog_is_only_read_at_the_start() {
    let doc = format!("<rss><channel><title>{RUSSIAN}</title><x>&lt;?xml encoding=\"koi8-r\"?&gt;</x></channel></rss>");
    let out = decode(doc.as_bytes(), None);
    assert_eq!((out.encoding, out.decided_by), (UTF_8, DecidedBy::DefaultUtf8));
}

#[test]
fn utf8_with_one_broken_character_stays_utf8() {
    let doc = rss(None);
    let mut bytes = doc.into_bytes();
    let cut = bytes.len() - "</title></channel></rss>".len();
    bytes.insert(cut, 0xD0);
    for content_type in [Some("text/xml; charset=utf-8"), None] {
        let out = decode(&bytes, content_type);
        assert_eq!(out.encoding, UTF_8, "{content_type:?}");
        assert!(out.had_errors);
        assert!(out.text.contains(RUSSIAN));
    }
}

#[test]
fn decided_by_reads_well() {
    assert_eq!(DecidedBy::HttpCharset.to_string(), "HTTP charset");
    assert_eq!(DecidedBy::Bom.to_string(), "byte order mark");
}

#[test]
fn charset_parameter_parsing() {
    assert_eq!(charset_param("text/xml; Charset = \"utf-8\""), Some("utf-8"));
    assert_eq!(charset_param("text/xml; foo=bar; charset=koi8-r"), Some("koi8-r"));
    assert_eq!(charset_param("text/xml"), None);
    assert_eq!(charset_param("charset=utf-8"), None, "the media type itself is not a parameter");
}
