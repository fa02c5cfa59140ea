#!/usr/bin/env bash
# Hostile inputs against the release binary: peak memory, wall time and outcome of one `feedmill run`
# per input, each on a fresh temp config with a single source. The inputs are generated here (python3,
# standard library only) into a temp folder that is removed at the end:
#
#   gzip-bomb-10M    10 MB of zeros, gzip-encoded (~10 KB on the wire), served over HTTP on 127.0.0.1
#   gzip-bomb-1G     1 GB of zeros, gzip-encoded (~1 MB on the wire): the 20 MiB body cap must stop
#                    decompression, not the end of the stream
#   billion-laughs   the classic nine-level DTD entity bomb (would expand to 3 GB if entities were expanded)
#   deep-nesting     RSS with one item whose description nests 1,000,000 elements deep
#   deep-html        RSS with one item whose description is escaped HTML nesting 300,000 <div>s deep
#                    (the XML is flat; the HTML sanitizer sees the nesting)
#   title-5MB        RSS with one item whose title is a single 5 MB line
#   title-lt-run     RSS with one item whose title is 1,000,000 '<' (escaped) and then 'a>'
#   content-50MB     RSS with one item whose content:encoded is 50 MB of HTML
#   items-1M-rss     RSS with 1,000,000 tiny items (~29 MB; body cap raised to 64 MiB for this one)
#   items-1M-json    JSON Feed with 1,000,000 tiny items (~29 MB; body cap raised likewise)
#
# Prints a table: input, size on disk (or on the wire), peak RSS, wall time, outcome (the source's
# report row). Needs GNU time at /usr/bin/time (`apt-get install -y time`).
#
#   bench/hostile.sh                       # builds release first
#   NO_BUILD=1 bench/hostile.sh            # reuse the existing release binary
#   FEEDMILL=/path/to/feedmill bench/hostile.sh   # measure another build (e.g. an older commit)
#   ONLY="title-5MB deep-html" bench/hostile.sh  # some inputs only
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target=${CARGO_TARGET_DIR:-$root/target}
bin=${FEEDMILL:-$target/release/feedmill}

[ -x /usr/bin/time ] || { echo "GNU time missing: apt-get install -y time" >&2; exit 1; }
if [ -z "${NO_BUILD:-}${FEEDMILL:-}" ]; then
    cargo build --release --quiet -p feedmill
fi

work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

python3 - "$work" <<'PY'
import gzip, os, sys, zlib

work = sys.argv[1]

def gzip_zeros(path, total):
    chunk = b"\0" * (1 << 20)
    with gzip.open(path, "wb", compresslevel=9) as f:
        for _ in range(total >> 20):
            f.write(chunk)

gzip_zeros(os.path.join(work, "bomb-10M.gz"), 10 << 20)
gzip_zeros(os.path.join(work, "bomb-1G.gz"), 1 << 30)

lol = ['<?xml version="1.0"?>', "<!DOCTYPE lolz [", ' <!ENTITY lol "lol">']
lol.append(' <!ENTITY lol1 "' + "&lol;" * 10 + '">')
for i in range(2, 10):
    lol.append(f' <!ENTITY lol{i} "' + f"&lol{i-1};" * 10 + '">')
lol.append("]>")
lol.append('<rss version="2.0"><channel><title>&lol9;</title>'
           '<item><title>&lol9;</title><link>https://example.org/1</link><description>&lol9;</description></item>'
           "</channel></rss>")
with open(os.path.join(work, "billion-laughs.xml"), "w") as f:
    f.write("\n".join(lol) + "\n")

head = '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>hostile</title><link>https://example.org/</link>\n'
tail = "</channel></rss>\n"

with open(os.path.join(work, "deep-nesting.xml"), "w") as f:
    depth = 1_000_000
    f.write(head + "<item><title>deep</title><link>https://example.org/deep</link><description>")
    f.write("<b>" * depth + "x" + "</b>" * depth)
    f.write("</description></item>" + tail)

with open(os.path.join(work, "deep-html.xml"), "w") as f:
    f.write(head + "<item><title>deep html</title><link>https://example.org/dh</link><description>")
    f.write("&lt;div&gt;" * 300_000 + "x")
    f.write("</description></item>" + tail)

with open(os.path.join(work, "title-lt-run.xml"), "w") as f:
    f.write(head + "<item><title>" + "&lt;" * 1_000_000 + "a&gt;</title><link>https://example.org/lt</link></item>" + tail)

with open(os.path.join(work, "title-5MB.xml"), "w") as f:
    f.write(head + "<item><title>")
    f.write("Қазақ title " * (5 * 1024 * 1024 // len("Қазақ title ".encode())))
    f.write("</title><link>https://example.org/t</link></item>" + tail)

with open(os.path.join(work, "content-50MB.xml"), "w") as f:
    f.write(head + "<item><title>big</title><link>https://example.org/big</link><content:encoded>")
    para = "&lt;p&gt;" + "word " * 200 + "&lt;/p&gt;\n"
    f.write(para * (50 * 1024 * 1024 // len(para)))
    f.write("</content:encoded></item>" + tail)

with open(os.path.join(work, "items-1M-rss.xml"), "w") as f:
    f.write(head)
    f.writelines(f"<item><title>{i}</title></item>\n" for i in range(1_000_000))
    f.write(tail)

with open(os.path.join(work, "items-1M-json.json"), "w") as f:
    f.write('{"version":"https://jsonfeed.org/version/1.1","title":"hostile","items":[\n')
    f.write(",\n".join(f'{{"id":"{i}","title":"{i}"}}' for i in range(1_000_000)))
    f.write("\n]}\n")
PY

# A tiny HTTP server that serves the gzip files with `Content-Encoding: gzip`, on a free loopback port.
cat >"$work/serve.py" <<'PY'
import http.server, os, sys

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = os.path.join(sys.argv[1], os.path.basename(self.path))
        try:
            data = open(path, "rb").read()
        except OSError:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(os.path.join(sys.argv[1], "port"), "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
PY
python3 "$work/serve.py" "$work" &
server_pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")

# run NAME URL [BODY_CAP]: one `feedmill run` on a fresh config; prints one table row.
run() {
    local name=$1 url=$2 cap=${3:-} dir=$work/run-$1 size
    if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then return; fi
    mkdir -p "$dir"
    {
        echo '[output]'
        echo "dir = \"$dir/out\""
        echo '[state]'
        echo "path = \"$dir/state.db\""
        if [ -n "$cap" ]; then
            echo '[fetch]'
            echo "max_body_size = \"$cap\""
        fi
        echo '[[sources]]'
        echo "name = \"$name\""
        echo "url = \"$url\""
    } >"$dir/feeds.toml"
    case $url in
        http*) size=$(stat -c %s "$work/$(basename "$url")") ;;
        *) size=$(stat -c %s "$url") ;;
    esac
    local code=0
    /usr/bin/time -v -o "$dir/time" "$bin" run -c "$dir/feeds.toml" >"$dir/stdout" 2>"$dir/stderr" || code=$?
    local rss wall outcome
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f MiB", $2 / 1024}' "$dir/time")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$dir/time")
    # The source's row of the run report (status, entries kept), and why it failed or the first
    # warning about a limit.
    local row status entries detail
    row=$(grep -E "^$name +" "$dir/stderr" | head -n1 || true)
    status=$(awk '{print $2}' <<<"$row")
    entries=$(awk '{print $4}' <<<"$row")
    if [ "$status" = FAILED ]; then
        detail=$(grep -m1 '^error: ' "$dir/stderr" | sed "s|^error: $name: ||; s|http://127.0.0.1:[0-9]*/||" || true)
    else
        detail=$(grep 'WARN' "$dir/stderr" | grep -m1 -iE 'only the first|deeper|longer|cut|dropped|never expanded' \
            | sed 's/^ *WARN //; s/ source=.*//' || true)
    fi
    outcome="${status:-?} (${entries:-0} entries) ${detail}"
    printf '%-15s %12s %12s %9s  exit %s: %s\n' "$name" "$size" "$rss" "$wall" "$code" "${outcome:0:120}"
}

printf '%-15s %12s %12s %9s  %s\n' input bytes "peak RSS" wall outcome
run gzip-bomb-10M "http://127.0.0.1:$port/bomb-10M.gz"
run gzip-bomb-1G "http://127.0.0.1:$port/bomb-1G.gz"
run billion-laughs "$work/billion-laughs.xml"
run deep-nesting "$work/deep-nesting.xml"
run deep-html "$work/deep-html.xml"
run title-5MB "$work/title-5MB.xml"
run title-lt-run "$work/title-lt-run.xml"
run content-50MB "$work/content-50MB.xml" 64MiB
run items-1M-rss "$work/items-1M-rss.xml" 64MiB
run items-1M-json "$work/items-1M-json.json" 64MiB
if [ -n "${KEEP:-}" ]; then
    trap - EXIT
    kill "$server_pid" 2>/dev/null || true
    echo "kept: $work"
fi
