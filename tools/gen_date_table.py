#!/usr/bin/env python3
"""Generates tests/fixtures/dates/dates.tsv: date strings as sites print them, in many locales, each
with the UTC instant it means (or FAIL), for the table test in src/normalize/dates/tests.rs.

    python3 tools/gen_date_table.py d/package > tests/fixtures/dates/dates.tsv   (d/package: see gen_locale_data.py)

Strings are formatted from CLDR's own date, time and relative-time patterns (what ICU, `Intl` and
the CMSes built on them print), plus the numeric forms sites hand-write; the expected instant is
computed here from the components with Python's zoneinfo, never by the parser under test.
Columns: string, locale tag, zone, expected instant (RFC 3339, UTC) or FAIL.
"""
import datetime as dt
import json
import os
import re
import sys
from zoneinfo import ZoneInfo

# The test's fetch time (must match the test).
NOW = dt.datetime(2025, 3, 15, 10, 0, tzinfo=dt.timezone.utc)

# Locale tag as feeds declare it, CLDR locale, zone its sites are in.
LOCALES = [
    ("kk-KZ", "kk", "Asia/Almaty"), ("ru-RU", "ru", "Europe/Moscow"), ("en-US", "en", "America/New_York"),
    ("en-GB", "en-GB", "Europe/London"), ("de-DE", "de", "Europe/Berlin"), ("fr-FR", "fr", "Europe/Paris"),
    ("es-ES", "es", "Europe/Madrid"), ("it-IT", "it", "Europe/Rome"), ("pt-BR", "pt", "America/Sao_Paulo"),
    ("pl-PL", "pl", "Europe/Warsaw"), ("uk-UA", "uk", "Europe/Kyiv"), ("tr-TR", "tr", "Europe/Istanbul"),
    ("az-AZ", "az", "Asia/Baku"), ("uz-UZ", "uz", "Asia/Tashkent"), ("uz-Cyrl", "uz-Cyrl", "Asia/Tashkent"),
    ("ky-KG", "ky", "Asia/Bishkek"), ("tg-TJ", "tg", "Asia/Dushanbe"), ("zh-CN", "zh", "Asia/Shanghai"),
    ("zh-TW", "zh-Hant", "Asia/Taipei"), ("ja-JP", "ja", "Asia/Tokyo"), ("ar-EG", "ar", "Africa/Cairo"),
    ("fa-IR", "fa", "Asia/Tehran"), ("nl-NL", "nl", "Europe/Amsterdam"), ("sv-SE", "sv", "Europe/Stockholm"),
    ("cs-CZ", "cs", "Europe/Prague"), ("ro-RO", "ro", "Europe/Bucharest"), ("bg-BG", "bg", "Europe/Sofia"),
    ("be-BY", "be", "Europe/Minsk"), ("ka-GE", "ka", "Asia/Tbilisi"), ("hy-AM", "hy", "Asia/Yerevan"),
    ("id-ID", "id", "Asia/Jakarta"), ("vi-VN", "vi", "Asia/Ho_Chi_Minh"), ("sr-Latn", "sr-Latn", "Europe/Belgrade"),
    ("hr-HR", "hr", "Europe/Zagreb"), ("da-DK", "da", "Europe/Copenhagen"), ("nb-NO", "nb", "Europe/Oslo"),
    ("mn-MN", "mn", "Asia/Ulaanbaatar"), ("el-GR", "el", "Europe/Athens"), ("th-TH", "th", "Asia/Bangkok"),
]

# Wall times the rows show: every month, days that can't be months (13+) and days that can, morning
# and afternoon; none near a DST change.
WALL = [
    (2024, 1, 5, 9, 5), (2024, 2, 29, 18, 40), (2024, 3, 14, 7, 30), (2023, 4, 21, 12, 0),
    (2024, 5, 9, 23, 15), (2023, 6, 30, 16, 45), (2024, 7, 11, 12, 20), (2023, 8, 3, 8, 0),
    (2024, 9, 17, 21, 10), (2023, 10, 12, 14, 35), (2024, 11, 22, 10, 0), (2023, 12, 31, 19, 55),
]

UNITS = [("minute", 5, dt.timedelta(minutes=5)), ("hour", 3, dt.timedelta(hours=3)),
         ("day", 2, dt.timedelta(days=2)), ("minute", 1, dt.timedelta(minutes=1)),
         ("hour", 21, dt.timedelta(hours=21)), ("week", 2, dt.timedelta(weeks=2))]


# Hand-written rows: shapes news sites print beyond CLDR's patterns (bylines, listing rows, numeric
# forms, local time words). The instant comes from the components beside each string: (y, m, d, H, M)
# wall time in the zone, ("ago", timedelta), ("day", days back, H, M) in the zone, or FAIL.
HAND = [
    ("22.11.2024, 10:00 Uhr", "de-DE", "Europe/Berlin", (2024, 11, 22, 10, 0)),
    ("22.11.2024, 10.00 Uhr", "de-DE", "Europe/Berlin", (2024, 11, 22, 10, 0)),
    ("Freitag, 22.11.2024 um 10:00 Uhr", "de-DE", "Europe/Berlin", (2024, 11, 22, 10, 0)),
    ("Aktualisiert am 22. November 2024, 10:00 Uhr", "de-DE", "Europe/Berlin", (2024, 11, 22, 10, 0)),
    ("vor 5 Minuten", "de-DE", "Europe/Berlin", ("ago", dt.timedelta(minutes=5))),
    ("Gestern, 18:30", "de-DE", "Europe/Berlin", ("day", 1, 18, 30)),
    ("Publié le 22 novembre 2024 à 10h00", "fr-FR", "Europe/Paris", (2024, 11, 22, 10, 0)),
    ("22/11/2024 à 10h", "fr-FR", "Europe/Paris", (2024, 11, 22, 10, 0)),
    ("Mis à jour le 22/11/2024 à 10:05", "fr-FR", "Europe/Paris", (2024, 11, 22, 10, 5)),
    ("il y a 3 heures", "fr-FR", "Europe/Paris", ("ago", dt.timedelta(hours=3))),
    ("Actualizado: 22/11/2024 - 10:00 CET", "es-ES", "Europe/Madrid", (2024, 11, 22, 10, 0)),
    ("22 nov 2024 - 10:00", "es-ES", "Europe/Madrid", (2024, 11, 22, 10, 0)),
    ("hace 5 minutos", "es-ES", "Europe/Madrid", ("ago", dt.timedelta(minutes=5))),
    ("22/11/2024 10h00", "pt-BR", "America/Sao_Paulo", (2024, 11, 22, 10, 0)),
    ("22 nov 2024 às 10h00", "pt-BR", "America/Sao_Paulo", (2024, 11, 22, 10, 0)),
    ("há 2 horas", "pt-BR", "America/Sao_Paulo", ("ago", dt.timedelta(hours=2))),
    ("22 novembre 2024 alle 10:00", "it-IT", "Europe/Rome", (2024, 11, 22, 10, 0)),
    ("22/11/2024 ore 10:00", "it-IT", "Europe/Rome", (2024, 11, 22, 10, 0)),
    ("22 ноября 2024, 10:00", "ru-RU", "Europe/Moscow", (2024, 11, 22, 10, 0)),
    ("22.11.2024 в 10:00", "ru-RU", "Europe/Moscow", (2024, 11, 22, 10, 0)),
    ("Вчера, 18:30", "ru-RU", "Europe/Moscow", ("day", 1, 18, 30)),
    ("2 часа назад", "ru-RU", "Europe/Moscow", ("ago", dt.timedelta(hours=2))),
    ("22 листопада 2024 р. о 10:00", "uk-UA", "Europe/Kyiv", (2024, 11, 22, 10, 0)),
    ("22.11.2024 10:00", "uk-UA", "Europe/Kyiv", (2024, 11, 22, 10, 0)),
    ("Вчора, 18:30", "uk-UA", "Europe/Kyiv", ("day", 1, 18, 30)),
    ("22 listopada 2024, 10:00", "pl-PL", "Europe/Warsaw", (2024, 11, 22, 10, 0)),
    ("22.11.2024, godz. 10:00", "pl-PL", "Europe/Warsaw", (2024, 11, 22, 10, 0)),
    ("22 Kasım 2024 Cuma 10:00", "tr-TR", "Europe/Istanbul", (2024, 11, 22, 10, 0)),
    ("22.11.2024 - 10:00", "tr-TR", "Europe/Istanbul", (2024, 11, 22, 10, 0)),
    ("3 saat önce", "tr-TR", "Europe/Istanbul", ("ago", dt.timedelta(hours=3))),
    ("22 noyabr 2024, 10:00", "uz-UZ", "Asia/Tashkent", (2024, 11, 22, 10, 0)),
    ("10:00 / 22.11.2024", "uz-UZ", "Asia/Tashkent", (2024, 11, 22, 10, 0)),
    ("22 ноябр 2024, 10:00", "uz-Cyrl", "Asia/Tashkent", (2024, 11, 22, 10, 0)),
    ("22-ноябрь 2024 10:00", "ky-KG", "Asia/Bishkek", (2024, 11, 22, 10, 0)),
    ("22 қараша 2024, 10:00", "kk-KZ", "Asia/Almaty", (2024, 11, 22, 10, 0)),
    ("Кеше, 18:30", "kk-KZ", "Asia/Almaty", ("day", 1, 18, 30)),
    ("2 сағат бұрын", "kk-KZ", "Asia/Almaty", ("ago", dt.timedelta(hours=2))),
    ("22 noyabr 2024, 10:00", "az-AZ", "Asia/Baku", (2024, 11, 22, 10, 0)),
    ("2024-11-22 10:00", "zh-CN", "Asia/Shanghai", (2024, 11, 22, 10, 0)),
    ("发布时间：2024年11月22日 10:00", "zh-CN", "Asia/Shanghai", (2024, 11, 22, 10, 0)),
    ("2小时前", "zh-CN", "Asia/Shanghai", ("ago", dt.timedelta(hours=2))),
    ("2024/11/22 10:00", "ja-JP", "Asia/Tokyo", (2024, 11, 22, 10, 0)),
    ("2024年11月22日 10時00分", "ja-JP", "Asia/Tokyo", (2024, 11, 22, 10, 0)),
    ("２０２４年１１月２２日　１０：００", "ja-JP", "Asia/Tokyo", (2024, 11, 22, 10, 0)),
    ("2024.11.22 10:00", "ko-KR", "Asia/Seoul", (2024, 11, 22, 10, 0)),
    ("2024년 11월 22일 10시 00분", "ko-KR", "Asia/Seoul", (2024, 11, 22, 10, 0)),
    ("22 نوفمبر 2024 10:00", "ar-EG", "Africa/Cairo", (2024, 11, 22, 10, 0)),
    ("٢٢ نوفمبر ٢٠٢٤ ١٠:٠٠", "ar-EG", "Africa/Cairo", (2024, 11, 22, 10, 0)),
    ("۲۲ نوامبر ۲۰۲۴", "fa-IR", "Asia/Tehran", (2024, 11, 22, 0, 0)),
    # A Persian-calendar date is not a Gregorian one: refused, never misread.
    ("۱۴۰۳/۰۹/۰۲", "fa-IR", "Asia/Tehran", "FAIL"),
    ("22 พ.ย. 2567 10:00 น.", "th-TH", "Asia/Bangkok", (2024, 11, 22, 10, 0)),
    ("22 พฤศจิกายน 2567", "th-TH", "Asia/Bangkok", (2024, 11, 22, 0, 0)),
    ("22 Tháng 11, 2024 10:00", "vi-VN", "Asia/Ho_Chi_Minh", (2024, 11, 22, 10, 0)),
    ("22/11/2024 10:00", "vi-VN", "Asia/Ho_Chi_Minh", (2024, 11, 22, 10, 0)),
    ("22 November 2024 10:00 WIB", "id-ID", "Asia/Jakarta", (2024, 11, 22, 10, 0)),
    ("22 november 2024 om 10:00", "nl-NL", "Europe/Amsterdam", (2024, 11, 22, 10, 0)),
    ("22 november 2024 kl. 10.00", "sv-SE", "Europe/Stockholm", (2024, 11, 22, 10, 0)),
    ("22. listopadu 2024 10:00", "cs-CZ", "Europe/Prague", (2024, 11, 22, 10, 0)),
    ("22 noiembrie 2024, 10:00", "ro-RO", "Europe/Bucharest", (2024, 11, 22, 10, 0)),
    ("11/22/2024 10:00 AM", "en-US", "America/New_York", (2024, 11, 22, 10, 0)),
    ("11/07/2024", "en-US", "America/New_York", (2024, 11, 7, 0, 0)),
    ("11/07/2024", "en-GB", "Europe/London", (2024, 7, 11, 0, 0)),
    ("Nov 22, 2024 at 3:45 PM", "en-US", "America/New_York", (2024, 11, 22, 15, 45)),
    # Impossible dates stay refused in any language.
    ("31.11.2024", "de-DE", "Europe/Berlin", "FAIL"),
    ("30 lutego 2024", "pl-PL", "Europe/Warsaw", "FAIL"),
    ("22 Kasım 2024 25:00", "tr-TR", "Europe/Istanbul", "FAIL"),
]


def hand_rows():
    out = []
    for text, tag, zone, spec in HAND:
        if spec == "FAIL":
            want = "FAIL"
        elif spec[0] == "ago":
            want = (NOW - spec[1]).strftime("%Y-%m-%dT%H:%M:%SZ")
        elif spec[0] == "day":
            today = NOW.astimezone(ZoneInfo(zone)).date() - dt.timedelta(days=spec[1])
            want = utc(dt.datetime(today.year, today.month, today.day, spec[2], spec[3]), zone)
        else:
            want = utc(dt.datetime(*spec), zone)
        out.append((text, tag, zone, want))
    return out


def load(root, code, name):
    j = json.load(open(os.path.join(root, "main", code, name), encoding="utf-8"))
    return j["main"][code]["dates"]


def fmt(pattern, g, when, buddhist=False):
    """A CLDR date pattern filled in; the fields this table uses only. Thai rows count years the
    Buddhist way (2567 is 2024) and drop the era, as Thai news sites print them."""
    if buddhist:
        pattern = pattern.replace("G ", "").replace("G", "")
    year = when.year + (543 if buddhist else 0)
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "'":
            j = pattern.index("'", i + 1)
            out.append(pattern[i + 1:j] or "'")
            i = j + 1
            continue
        if not ("a" <= c.lower() <= "z"):
            out.append(c)
            i += 1
            continue
        j = i
        while j < len(pattern) and pattern[j] == c:
            j += 1
        n = j - i
        i = j
        if c == "y":
            out.append("%02d" % (year % 100) if n == 2 else str(year))
        elif c in "ML":
            ctx = "format" if c == "M" else "stand-alone"
            if n >= 3:
                out.append(g["months"][ctx]["wide" if n == 4 else "abbreviated"][str(when.month)])
            else:
                out.append("%0*d" % (n, when.month))
        elif c == "d":
            out.append("%0*d" % (n, when.day))
        elif c in "Ec":
            ctx = "format" if c == "E" else "stand-alone"
            key = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"][(when.weekday() + 1) % 7]
            out.append(g["days"][ctx]["wide" if n == 4 else "abbreviated"][key])
        elif c in "Hh":
            h = when.hour if c == "H" else (when.hour % 12 or 12)
            out.append("%0*d" % (n, h))
        elif c == "m":
            out.append("%02d" % when.minute)
        elif c == "s":
            out.append("%02d" % when.second)
        elif c == "a":
            out.append(g["dayPeriods"]["format"]["abbreviated"]["pm" if when.hour >= 12 else "am"])
        else:
            raise ValueError("field %r in %r" % (c, pattern))
    return "".join(out).replace("\u202f", " ").replace("\u00a0", " ")


def val(p):
    return p["_value"] if isinstance(p, dict) else p


def utc(when, zone):
    return when.replace(tzinfo=ZoneInfo(zone)).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rows_for(root, tag, code, zone):
    g = load(root, code, "ca-gregorian.json")["calendars"]["gregorian"]
    fields = load(root, code, "dateFields.json")["fields"]
    dates = {k: val(g["dateFormats"][k]) for k in ("full", "long", "medium", "short")}
    # Flexible day periods ("B": 中午, 晚上) print like AM/PM markers in the rows used here.
    time = val(g["timeFormats"]["short"]).replace("B", "a")
    glue = val(g["dateTimeFormats"]["medium"])
    out = []
    for k, (y, mo, d, h, mi) in enumerate(WALL):
        when = dt.datetime(y, mo, d, h, mi)
        expect_dt, expect_d = utc(when, zone), utc(dt.datetime(y, mo, d), zone)
        # Date and time as the CMS prints an article's line; the date alone as a listing prints it.
        for key in ("long", "medium"):
            both = glue.replace("{1}", fmt(dates[key], g, when, code == "th")).replace("{0}", fmt(time, g, when))
            out.append((both, expect_dt))
        out.append((fmt(dates["full" if k % 2 else "long"], g, when, code == "th"), expect_d))
        # The numeric short form, in the locale's own order.
        out.append((fmt(dates["short"], g, when, code == "th"), expect_d))
    for unit, n, delta in UNITS:
        past = fields[unit]["relativeTime-type-past"]
        pattern = past.get("relativeTimePattern-count-other") or next(iter(past.values()))
        if "{0}" in pattern:
            out.append((pattern.replace("{0}", str(n)), (NOW - delta).strftime("%Y-%m-%dT%H:%M:%SZ")))
    # Never a date: an impossible day, an impossible hour, and a string with no date at all.
    out.append((fmt(dates["long"], g, dt.datetime(2024, 2, 1), code == "th").replace("1", "31", 1) if "d" in dates["long"] else "31.02.2024", "FAIL"))
    out.append((fmt(dates["medium"], g, dt.datetime(2024, 5, 9), code == "th") + " 25:61", "FAIL"))
    out.append((g["months"]["stand-alone"]["wide"]["3"], "FAIL"))
    return [(s.strip(), tag, zone, e) for s, e in out]


def main():
    root = sys.argv[1]
    w = sys.stdout
    w.write("# Generated by tools/gen_date_table.py from CLDR 48 patterns; expected instants computed by the script.\n")
    w.write("# string\tlocale\tzone\texpected UTC instant or FAIL\n")
    seen = set()
    rows = [row for tag, code, zone in LOCALES for row in rows_for(root, tag, code, zone)]
    for row in rows + hand_rows():
        if (row[0], row[1]) in seen:
            continue
        seen.add((row[0], row[1]))
        w.write("\t".join(row) + "\n")


if __name__ == "__main__":
    main()
