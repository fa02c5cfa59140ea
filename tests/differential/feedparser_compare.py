#!/usr/bin/env python3
"""Reads feeds with Python's feedparser and prints what each entry says, for the differential test.

`tests/integration/differential.rs` runs this script once with a JSON list of documents on stdin:
`[{"path": "...", "kind": "feed" | "json" | "missing", "url": "...", "content_type": "..."}]` (`url`
and `content_type`: how feedmill was served a fixture). `feed` documents are read by feedparser (the
fixture as published, and feedmill's rss.xml and atom.xml); `json` documents are JSON Feeds, which
feedparser does not read, so they are read here by the JSON Feed spec (a fixture in that format, and
feedmill's feed.json); `missing` is an output feedmill did not write. Every document becomes the same
shape, printed as one JSON object on stdout:

    {"feedparser": "6.0.14", "documents": [{"path", "format", "bozo", "entries": [entry, ...]}]}

    entry = {"id", "link", "title", "published", "updated", "authors", "categories",
             "enclosures": [{"url", "type", "length"}], "body", "body_links", "image"}

Text fields are visible text (tags stripped, entities decoded, whitespace collapsed), `body_links`
the targets of the body's links and images, dates are UTC instants (`2019-07-15T11:00:00Z`), authors
and categories are sorted lists. Comparing and judging is the Rust side's job: this script only reads.
"""

import calendar
import html.parser
import json
import sys
import time
from datetime import datetime, timezone
from urllib.parse import urljoin

import feedparser


class _TextOf(html.parser.HTMLParser):
    """Collects the text a browser would show: no tags, no script or style bodies."""

    HIDDEN = {"script", "style", "template"}
    # Block ends and line breaks separate words even when the markup has no space there.
    BREAKS = set("address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 "
                 "header hr li main nav ol p pre section table td th tr ul".split())

    def __init__(self, base):
        super().__init__(convert_charrefs=True)
        self.base = base
        self.parts = []
        self.hidden = 0
        self.links = set()

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        for name, value in attrs:
            if value and (tag, name) in (("a", "href"), ("img", "src")):
                self.links.add(urljoin(self.base, value.strip()))
        if tag in self.BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1
        if tag in self.BREAKS:
            self.parts.append(" ")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def collapse(text):
    return " ".join(text.split()) if text else ""


def html_read(markup, base=""):
    """Visible text, and the sorted targets of its links and images (resolved against `base`: feedparser
    has already resolved them in what it read)."""
    parser = _TextOf(base)
    parser.feed(markup or "")
    parser.close()
    return collapse("".join(parser.parts)), sorted(parser.links)


def detail_read(value, detail):
    """A feedparser text construct as visible text and link targets: markup read only when it is
    markup."""
    kind = (detail or {}).get("type", "text/plain")
    if "html" in kind:
        return html_read(value)
    return collapse(value), []


def detail_text(value, detail):
    return detail_read(value, detail)[0]


def utc(struct):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(calendar.timegm(struct))) if struct else None


def length(value):
    """Enclosure length as a number; 0, blank and junk all mean "unknown"."""
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return n if n > 0 else None


def mime(value):
    # feedmill writes application/octet-stream when the type is unknown (RSS requires the attribute).
    return None if not value or value == "application/octet-stream" else value


def enclosures(items):
    """Unique by URL, first one wins, sorted by URL so order does not matter."""
    seen = {}
    for url, kind, size in items:
        if url and url not in seen:
            seen[url] = {"url": url, "type": mime(kind), "length": length(size)}
    return [seen[u] for u in sorted(seen)]


def person(p):
    return collapse(p.get("name") or p.get("email") or p.get("href") or "")


def from_feedparser(entry):
    get = entry.get
    if get("content"):
        # Atom and RSS readers show the content when there is one, else the summary.
        content = get("content")[0]
        body, links = detail_read(content.get("value"), content)
    else:
        body, links = detail_read(get("summary"), get("summary_detail"))
    media = [(m.get("url"), m.get("type"), m.get("filesize") or m.get("fileSize")) for m in get("media_content") or []]
    return {
        "id": get("id"),
        "link": get("link"),
        "title": detail_text(get("title"), get("title_detail")) or None,
        "published": utc(get("published_parsed")),
        # dict.get: FeedParserDict falls back from `updated` to `published`, which would hide a
        # missing updated date.
        "updated": utc(dict.get(entry, "updated_parsed")),
        "authors": sorted(filter(None, (person(a) for a in get("authors") or []))),
        "categories": sorted({collapse(t.get("term") or t.get("label")) for t in get("tags") or []} - {""}),
        # Media RSS `media:content` is an enclosure to feedmill: count it on both sides.
        "enclosures": enclosures([(e.get("href"), e.get("type"), e.get("length")) for e in get("enclosures") or []] + media),
        "body": body or None,
        "body_links": links,
        # Only to match an entry that has nothing else (a photo): not compared.
        "image": next((t.get("url") for t in get("media_thumbnail") or [] if t.get("url")), None)
        or (get("image") or {}).get("href"),
    }


def json_date(value):
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def json_people(obj):
    # JSON Feed 1.0 has one `author`, 1.1 a list `authors`.
    people = obj.get("authors") or ([obj["author"]] if isinstance(obj.get("author"), dict) else [])
    return sorted(filter(None, (person(a) for a in people if isinstance(a, dict))))


def from_json_feed(item, base):
    if item.get("content_html"):
        body, links = html_read(item["content_html"], base)
    else:
        body, links = collapse(item.get("content_text") or item.get("summary") or ""), []
    return {
        "id": None if item.get("id") is None else str(item["id"]),
        "link": urljoin(base, item.get("url") or item.get("external_url") or "") or None,
        "title": collapse(item.get("title")) or None,
        "published": json_date(item.get("date_published")),
        "updated": json_date(item.get("date_modified")),
        "authors": json_people(item),
        "categories": sorted({collapse(str(t)) for t in item.get("tags") or []} - {""}),
        "enclosures": enclosures(
            [(a.get("url"), a.get("mime_type"), a.get("size_in_bytes")) for a in item.get("attachments") or []]
        ),
        "body": body or None,
        "body_links": links,
        "image": item.get("image") or None,
    }


def inherit_authors(entries, authors):
    """An Atom entry or JSON Feed item without an author has the feed's (RFC 4287 4.2.1, JSON Feed
    1.1 `authors`): what the spec tells a reader to show, which feedparser leaves to its caller."""
    for entry in entries:
        if not entry["authors"]:
            entry["authors"] = authors
    return entries


def read(doc):
    if doc["kind"] == "missing":
        # feedmill failed the source and wrote no output: a reader sees no entries.
        return {"format": None, "bozo": None, "entries": []}
    with open(doc["path"], "rb") as f:
        data = f.read()
    if doc["kind"] == "json":
        feed = json.loads(data.decode("utf-8-sig"))
        items = feed.get("items") or []
        entries = inherit_authors([from_json_feed(i, doc.get("url", "")) for i in items], json_people(feed))
        return {"format": feed.get("version"), "bozo": None, "entries": entries}
    # The URL and type the fixture was served with: relative links resolve, and the charset is found,
    # as they were for feedmill.
    headers = {"content-location": doc.get("url", ""), "content-type": doc.get("content_type", "application/xml")}
    parsed = feedparser.parse(data, response_headers=headers)
    bozo = str(parsed.get("bozo_exception")) if parsed.get("bozo") else None
    entries = [from_feedparser(e) for e in parsed.entries]
    if parsed.get("version", "").startswith("atom"):
        authors = sorted(filter(None, (person(a) for a in parsed.feed.get("authors") or [])))
        entries = inherit_authors(entries, authors)
    return {"format": parsed.get("version"), "bozo": bozo, "entries": entries}


def main():
    docs = json.load(sys.stdin)
    out = {"feedparser": feedparser.__version__, "documents": [dict(read(d), path=d["path"]) for d in docs]}
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
