#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the test fixtures and the test tables, so the fuzzers start from
# real feeds, pages, dates and configs instead of from nothing. Idempotent: it only adds seed-* files,
# and leaves whatever the fuzzers have added to the corpus alone. The corpus is not committed.
#
#   fuzz/seed.sh            # from anywhere
set -euo pipefail

fuzz=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$fuzz")
corpus="$fuzz/corpus"
mkdir -p "$corpus"/{parse,decode,dates,urls,sanitize,config}

# One corpus file per line of stdin, named seed-<tag>-<n>, with an optional leading byte (the targets'
# "pick" byte, as a printf escape such as '\001').
lines_to() {
    local dir=$1 tag=$2 prefix=${3:-} n=0
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        n=$((n + 1))
        { printf "$prefix"; printf '%s' "$line"; } >"$dir/seed-$tag-$n"
    done
}

documents=(
    "$root"/tests/fixtures/feeds/*.xml "$root"/tests/fixtures/feeds/*.json
    "$root"/tests/fixtures/sites/*/*.html "$root"/tests/fixtures/sites/*/*.xml
    "$root"/examples/feeds/*
)

# parse: every fixture document as it is.
for f in "${documents[@]}"; do
    cp "$f" "$corpus/parse/seed-$(basename "$(dirname "$f")")-$(basename "$f")"
done

# decode: the same documents behind three Content-Type headers: none, windows-1251 and koi8-r
# (pick bytes 0, 3 and 4; see CONTENT_TYPES in fuzz_targets/decode.rs).
for f in "${documents[@]}"; do
    name=$(basename "$(dirname "$f")")-$(basename "$f")
    for pick in 000 003 004; do
        { printf "\\$pick"; cat "$f"; } >"$corpus/decode/seed-$pick-$name"
    done
done

# dates: every input of the date tests' tables (first string of each tuple), in two contexts, and the
# explicit-format cases as "pattern\ninput".
dates="$root/src/normalize/dates.rs"
grep -oP '^\s*\("\K[^"]+(?=", (UTC|ALA|MSK|NYC|"[^"]*"))' "$dates" | lines_to "$corpus/dates" table '\000'
n=0
while IFS=$'\t' read -r input pattern; do
    n=$((n + 1))
    printf '\001%s\n%s' "$pattern" "$input" >"$corpus/dates/seed-format-$n"
done < <(grep -oP '^\s*\("\K[^"]+", "[^"]*%[^"]*(?=")' "$dates" | sed 's/", "/\t/')
lines_to "$corpus/dates" extra '\011' <<'DATES'
11 Шілде, 2019 сағат 12:20
кеше 12:20
бүгін 09:15
2 часа назад
вчера в 23:59
today 3 PM
31 December 12:20
29 февраля 2024
2019-07-11T12:20:00.123456789+14:00
Sun, 27 Oct 2024 02:30:00
DATES

# urls: the links in the fixtures, plus shapes canonical has to keep straight.
grep -rohE 'https?://[^"<> '"'"']+' "${documents[@]}" | sort -u | head -300 | lines_to "$corpus/urls" fixture
lines_to "$corpus/urls" extra <<'URLS'
https://www.Abai.kz:443/post/95211?utm_source=fb&b=2&a=1#comments
http://abai.kz:8080/x?a=1&a=0&fbclid=XYZ
https://user:pass@www.example.org/a%20b?z=1&y=%D0%B0
http://[::1]:80/path/../x?q=a+b
https://xn--80aswg.xn--p1ai/путь?ключ=значение
//cdn.example.org/a.jpg
/relative/path?x=1
https://example.org/?&&=&a
https://www./
URLS

# sanitize: the fixture pages (HTML fragments in all but name), with and without a base, and the
# classic attacks.
for f in "$root"/tests/fixtures/sites/*/*.html "$root"/tests/fixtures/feeds/hostile-html.xml; do
    name=$(basename "$(dirname "$f")")-$(basename "$f")
    { printf '\001'; cat "$f"; } >"$corpus/sanitize/seed-$name"
done
lines_to "$corpus/sanitize" attack '\001' <<'HTML'
<p onclick="x()">Сәлем<script>alert(1)</script></p><img src="a.jpg" onerror="alert(2)">
<a href="javascript:alert(3)">x</a><a href="jav&#x09;ascript:alert(4)">y</a><a href=" JaVaScRiPt:alert(5)">z</a>
<img src="data:image/svg+xml;base64,PHN2Zz4="><img srcset="a.jpg 1x, javascript:alert(1) 2x">
<svg><a xlink:href="javascript:alert(1)">s</a></svg><math><mi href="javascript:alert(1)">m</mi></math>
<table><form><tr><td><a href="/x">cell</a></form></table><noscript><p title="</noscript><img src=x onerror=alert(1)>">
<video poster="vbscript:msgbox(1)" src="/v.mp4"></video><iframe src="https://evil.example/"></iframe>
<style>p{}</style><template><script>alert(1)</script></template><!--<script>-->text
HTML

# config: the bundled configs and the config tests' full example.
cp "$root/feeds.toml" "$corpus/config/seed-feeds.toml"
cp "$root/examples/real-world.toml" "$corpus/config/seed-real-world.toml"
sed -n '/^const GOOD: &str = r#"/,/^"#;/p' "$root/src/config/tests.rs" | sed '1d;$d' >"$corpus/config/seed-good.toml"

for t in parse decode dates urls sanitize config; do
    printf '%-9s %5d files\n' "$t" "$(find "$corpus/$t" -type f | wc -l)"
done
