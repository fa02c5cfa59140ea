#!/usr/bin/env python3
"""Generates src/normalize/dates/locale_data.rs from CLDR's JSON (npm package cldr-dates-full), so
builds need neither the network nor the 100 MB of JSON:

    npm pack cldr-dates-full@48.2.0 && mkdir d && tar xzf cldr-dates-full-48.2.0.tgz -C d
    python3 tools/gen_locale_data.py d/package > src/normalize/dates/locale_data.rs

Only language and language-script locales are kept (`uz`, `uz-Cyrl`, `zh-Hant`): regional variants
(`de-AT`) spell months like their language, and a source names a language more often than a region.
Words are lowercased, with dots and direction marks removed; a word naming two different months in
one locale is dropped (it would name none reliably).

For writing dates (`index.html`, see emit/human.rs) each locale also gets `write`: its long date,
short time and long date-time patterns as CLDR writes them, and only the names those patterns use,
in their own case: the month names of the width the date pattern asks for, joined by `|` (none for
numeric months),
the AM/PM markers when the time has a day period, the era when the date shows one.
"""
import json
import os
import re
import sys

UNITS = ["second", "minute", "hour", "day", "week", "month", "year"]
LOCALE_RE = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?$")
# Direction marks and soft hyphens go; zero-width spaces (Khmer, Lao write no spaces) become spaces.
MARKS = {**dict.fromkeys(map(ord, "\u200e\u200f\u061c\u00ad"), None), 0x200B: " ", 0x2060: " "}


def affix(text):
    """Lowercase, dots and direction marks off, spaces collapsed. The Rust side cuts it into words
    with the same rule as its tokenizer (`char::is_alphabetic` runs), so the two always agree."""
    return " ".join(text.translate(MARKS).lower().replace(".", " ").split())


DOTTED = set()


def single(name):
    """A month, weekday or day-period name as one lowercase word, or None when it can never be one
    token (several words, digits). Inner dots ("พ.ย.", "μ.μ.") go: the dotted spelling is listed in
    `dotted`, which the parser rewrites to the dotless key before reading."""
    w = name.translate(MARKS).lower().strip().rstrip(".")
    if not w or any(c.isspace() or c.isdigit() for c in w):
        return None
    if "." in w:
        DOTTED.add(w)
        w = w.replace(".", "")
    return w


def order(short):
    """Day/month order of the locale's short numeric date pattern: "dmy", "mdy" or "ymd"."""
    if isinstance(short, dict):
        short = short["_value"]
    seen = []
    for c in re.sub(r"'[^']*'", "", short):
        if c in "dMy" and c not in seen:
            seen.append(c)
    return "".join(seen).lower()


def rs(s):
    return json.dumps(s, ensure_ascii=False)


def locale(root, code):
    DOTTED.clear()
    g = json.load(open(os.path.join(root, "main", code, "ca-gregorian.json"), encoding="utf-8"))
    g = g["main"][code]["dates"]["calendars"]["gregorian"]
    f = json.load(open(os.path.join(root, "main", code, "dateFields.json"), encoding="utf-8"))
    f = f["main"][code]["dates"]["fields"]
    months = {}
    # Month names that all end in one word ("нэгдүгээр сар": Mongolian "first month") are keyed by
    # the rest; the shared word, with what the long date glues to it ("сарын"), is a month word.
    month_words = set()
    long_date = g["dateFormats"]["long"]
    long_date = long_date["_value"] if isinstance(long_date, dict) else long_date
    glued = re.search(r"MMMM'([^']+)'", long_date)
    for ctx in ("format", "stand-alone"):
        for width in ("wide", "abbreviated"):
            names = g["months"][ctx][width]
            last = {n.split()[-1] for n in names.values() if len(n.split()) > 1}
            if len(last) == 1 and all(len(n.split()) > 1 for n in names.values()):
                (shared,) = last
                month_words.update(w.lower() for w in (shared, shared + (glued.group(1) if glued else "")))
                names = {k: n.rsplit(None, 1)[0] for k, n in names.items()}
            for n, name in names.items():
                w = single(name)
                if w:
                    months.setdefault(w, set()).add(int(n))
    months = sorted((w, ns.pop()) for w, ns in months.items() if len(ns) == 1)
    weekdays = set()
    for ctx in ("format", "stand-alone"):
        for width in ("wide", "abbreviated"):
            for name in g["days"][ctx][width].values():
                w = single(name)
                if w:
                    weekdays.add(w)
    periods = {}
    for ctx in ("format", "stand-alone"):
        for width in ("wide", "abbreviated"):
            p = g["dayPeriods"][ctx][width]
            for key, pm in (("am", False), ("pm", True)):
                w = single(p.get(key, ""))
                if w:
                    periods.setdefault(w, set()).add(pm)
    periods = sorted((w, v.pop()) for w, v in periods.items() if len(v) == 1)
    ago = set()
    # A few locales list a future pattern among the past ones ("خلال {0} أشهر", "within 3 months"):
    # words that also say "in N units" are no past date.
    future = set()
    for unit in UNITS:
        for suffix in ("", "-short", "-narrow"):
            for pattern in f.get(unit + suffix, {}).get("relativeTime-type-future", {}).values():
                if "{0}" in pattern:
                    before, after = pattern.split("{0}", 1)
                    future.add((affix(before), affix(after)))
    for unit in UNITS:
        for suffix in ("", "-short"):
            past = f.get(unit + suffix, {}).get("relativeTime-type-past", {})
            for pattern in past.values():
                if "{0}" not in pattern:
                    continue
                before, after = pattern.split("{0}", 1)
                a, b = affix(before), affix(after)
                # A pattern without words would make every number a relative date.
                if any(c.isalpha() for c in a + b) and (a, b) not in future:
                    ago.add((a, b, unit))
    days = []
    for key, back in (("relative-type-0", 0), ("relative-type--1", 1), ("relative-type--2", 2)):
        w = single(f.get("day", {}).get(key, ""))
        if w:
            days.append((w, back))
    return {
        "write": writing(g),
        "months": months,
        "weekdays": sorted(weekdays),
        "periods": periods,
        "ago": sorted(ago),
        "days": days,
        "order": order(g["dateFormats"]["short"]),
        "dotted": sorted(DOTTED),
        "month_words": sorted(month_words),
    }


def pattern(p):
    return p["_value"] if isinstance(p, dict) else p


def fields(p):
    """The field letters of a CLDR pattern, quoted literals left out."""
    return re.sub(r"'[^']*'", "", p)


def writing(g):
    """What writing a date needs: patterns, and the names they use (see the module docstring)."""
    date = pattern(g["dateFormats"]["long"])
    time = pattern(g["timeFormats"]["short"])
    date_time = pattern(g["dateTimeFormats"]["long"])
    letters = fields(date)
    months = []
    for run, ctx, width in (("MMMM", "format", "wide"), ("LLLL", "stand-alone", "wide"),
                            ("MMM", "format", "abbreviated"), ("LLL", "stand-alone", "abbreviated")):
        if run in letters:
            names = g["months"][ctx][width]
            months = [names[str(n)].translate(MARKS) for n in range(1, 13)]
            break
    periods = []
    if re.search(r"[aB]", fields(time)):
        p = g["dayPeriods"]["format"]["abbreviated"]
        periods = [p["am"], p["pm"]]
    era = g["eras"]["eraAbbr"]["1"] if "G" in letters else ""
    return {"date": date, "time": time, "date_time": date_time, "months": months, "periods": periods, "era": era}


def main():
    root = sys.argv[1]
    codes = sorted(c for c in os.listdir(os.path.join(root, "main")) if LOCALE_RE.match(c) and c != "root")
    version = json.load(open(os.path.join(root, "package.json")))["version"]
    out = sys.stdout
    out.write("// @generated by tools/gen_locale_data.py from CLDR %s (npm cldr-dates-full). Do not edit:\n" % version)
    out.write("// corrections go to the override tables in dates/tables.rs.\n\n")
    out.write("use super::{LocaleData, Order, Unit, Writing};\n\n")
    out.write("#[rustfmt::skip]\npub(super) static LOCALES: &[LocaleData] = &[\n")
    for code in codes:
        d = locale(root, code)
        o = {"dmy": "Dmy", "mdy": "Mdy", "ymd": "Ymd"}.get(d["order"], "Dmy")
        out.write("LocaleData { code: %s, order: Order::%s,\n" % (rs(code), o))
        out.write(" months: &[%s],\n" % ", ".join("(%s, %d)" % (rs(w), n) for w, n in d["months"]))
        out.write(" weekdays: &[%s],\n" % ", ".join(rs(w) for w in d["weekdays"]))
        out.write(" periods: &[%s],\n" % ", ".join("(%s, %s)" % (rs(w), str(pm).lower()) for w, pm in d["periods"]))
        out.write(" ago: &[%s],\n" % ", ".join(
            "(%s, %s, Unit::%s)" % (rs(a), rs(b), u.capitalize()) for a, b, u in d["ago"]))
        out.write(" days: &[%s],\n" % ", ".join("(%s, %d)" % (rs(w), n) for w, n in d["days"]))
        out.write(" dotted: &[%s],\n" % ", ".join(rs(w) for w in d["dotted"]))
        out.write(" month_words: &[%s],\n" % ", ".join(rs(w) for w in d["month_words"]))
        w = d["write"]
        out.write(" write: Writing { date: %s, time: %s, date_time: %s,\n" % (rs(w["date"]), rs(w["time"]), rs(w["date_time"])))
        # One string per locale, not twelve: each `&str` in static data costs a pointer and a load-time
        # relocation, three times what the bytes of a month name cost.
        assert not any("|" in m for m in w["months"])
        out.write("  months: %s,\n" % rs("|".join(w["months"])))
        out.write("  periods: &[%s], era: %s } },\n" % (", ".join(rs(m) for m in w["periods"]), rs(w["era"])))
    out.write("];\n\n")
    # Regions whose numeric dates run in another order than their language's: en-GB is day first.
    region_re = re.compile(r"^([a-z]{2,3}(?:-[A-Z][a-z]{3})?)-(?:[A-Z]{2}|\d{3})$")
    out.write("/// Regions whose short numeric dates differ in order from their language's (`en-GB` vs `en`).\n")
    out.write("#[rustfmt::skip]\npub(super) static REGION_ORDERS: &[(&str, Order)] = &[\n")
    orders = {c: load_order(root, c) for c in os.listdir(os.path.join(root, "main"))}
    for code in sorted(orders):
        m = region_re.match(code)
        if m and m.group(1) in orders and orders[code] != orders[m.group(1)] and orders[code] in ORDERS:
            out.write("    (%s, Order::%s),\n" % (rs(code), ORDERS[orders[code]]))
    out.write("];\n")


ORDERS = {"dmy": "Dmy", "mdy": "Mdy", "ymd": "Ymd"}


def load_order(root, code):
    g = json.load(open(os.path.join(root, "main", code, "ca-gregorian.json"), encoding="utf-8"))
    return order(g["main"][code]["dates"]["calendars"]["gregorian"]["dateFormats"]["short"])


if __name__ == "__main__":
    main()
