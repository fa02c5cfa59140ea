#!/usr/bin/env bash
# Cold run vs no-change run of `feedmill run` over N local sources (default 200), served on 127.0.0.1 by
# Python's http.server (which answers If-Modified-Since with 304; run with HTTP/1.1 keep-alive and a
# listen backlog of 1024, since the default backlog of 5 drops connections and adds 1 s SYN retries
# that would measure the server, not feedmill). Prints the median wall time of each (5 rounds), their
# ratio, and what the server saw during the no-change runs.
#
#   bench/refresh.sh            # N=200
#   N=1000 ROUNDS=3 bench/refresh.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-200}
ROUNDS=${ROUNDS:-5}
cargo build --release --quiet
bin=$PWD/target/release/feedmill
work=$(mktemp -d)
trap 'kill "${server_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

python3 - "$work" "$N" <<'PY'
import os, sys
work, n = sys.argv[1], int(sys.argv[2])
os.makedirs(f"{work}/feeds")
for s in range(n):
    items = "".join(
        f"<item><title>Жаңалық {s}-{i}: Байбек айтысты қолға алады</title>"
        f"<link>https://site{s}.example.kz/post/{i}</link><guid>https://site{s}.example.kz/post/{i}</guid>"
        f"<pubDate>Thu, {1 + i % 28:02d} Jul 2019 12:{i % 60:02d}:00 +0600</pubDate>"
        f"<description>&lt;p&gt;«Nur Otan» партиясы Төрағасының Бірінші орынбасары Бауыржан Байбек жұмыс сапарымен "
        f"Қызылорда облысына барды. Мақала {i}.&lt;/p&gt;</description></item>"
        for i in range(50))
    with open(f"{work}/feeds/f{s}.xml", "w") as f:
        f.write(f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Site {s}</title>'
                f'<link>https://site{s}.example.kz/</link>{items}</channel></rss>')
PY

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 - "$port" "$work/feeds" 2> "$work/server.log" <<'PY' &
import functools, http.server, sys
class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 1024
handler = functools.partial(Handler, directory=sys.argv[2])
Server(("127.0.0.1", int(sys.argv[1])), handler).serve_forever()
PY
server_pid=$!
for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null && break; sleep 0.1; done

{
  printf '[output]\ndir = "out"\nmax_items = 100\n\n[fetch]\nconcurrency = 32\nper_host = 32\n\n'
  for s in $(seq 0 $((N - 1))); do
    printf '[[sources]]\nname = "s%d"\nurl = "http://127.0.0.1:%d/f%d.xml"\ncategories = ["c%d"]\n\n' "$s" "$port" "$s" $((s % 10))
  done
} > "$work/feeds.toml"

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
cold=() warm=()
for _ in $(seq "$ROUNDS"); do
  rm -rf "$work/.feedmill" "$work/out"
  t0=$(now); "$bin" -q run -c "$work/feeds.toml"; t1=$(now)
  cold+=("$(echo "$t1 - $t0" | bc)")
  before=$(wc -l < "$work/server.log")
  t0=$(now); "$bin" -q run -c "$work/feeds.toml"; t1=$(now)
  warm+=("$(echo "$t1 - $t0" | bc)")
  tail -n +"$((before + 1))" "$work/server.log" > "$work/warm.log"
done
requests=$(grep -c '"GET ' "$work/warm.log" || true)
not_modified=$(grep -c '" 304 ' "$work/warm.log" || true)
cold_m=$(printf '%s\n' "${cold[@]}" | median)
warm_m=$(printf '%s\n' "${warm[@]}" | median)
echo "sources: $N, rounds: $ROUNDS"
echo "cold run (empty store):  median ${cold_m}s  [${cold[*]}]"
echo "no-change run:           median ${warm_m}s  [${warm[*]}]"
echo "ratio no-change / cold:  $(echo "scale=3; $warm_m / $cold_m" | bc)"
echo "no-change run requests:  $requests ($not_modified answered 304)"
