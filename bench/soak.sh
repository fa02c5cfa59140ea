#!/usr/bin/env bash
# The soak: one `feedmill watch` over N loopback sources for a long time, of which 1% gain a post every
# CHANGE_EVERY seconds (`refresh serve`, bench/src/bin/refresh/soak.rs), sampling the watch's resident
# memory (/proc/PID/status VmRSS and VmHWM) every SAMPLE seconds into a CSV. At the end it prints the
# RSS after the first refresh and at 1, 3, 10, 15, 30 and 60 minutes and at the end, the slope after
# minute 10 (MiB a minute), and how far the end is from minute 10 (the issue asks for within 10%). The CSV also
# splits the RSS (anonymous, file-backed, shared) and has the watch's threads, open file descriptors,
# the WAL's size and the CPU time used so far, to tell what grows and what a change costs.
#
#   bench/soak.sh                          # N=1000, one hour
#   DURATION=900 bench/soak.sh             # 15 minutes
#   OUT=/tmp/soak-a FEEDMILL=/path/to/feedmill MALLOC_ARENA_MAX=2 bench/soak.sh
#   SUMMARY=/tmp/soak-a/rss.csv bench/soak.sh    # the figures of a soak so far
#   STATE_URL=postgresql://user:pw@127.0.0.1:5432/db bench/soak.sh   # one PostgreSQL worker
#
# STATE_URL: the first run and the watch keep their state on that PostgreSQL server (through
# `FEEDMILL_STATE_URL`), in a new schema (`bench/pg-schema.sh`; its name goes to OUT/schema, the URL with
# its password nowhere). Only the watch is sampled: the server's own memory is not the worker's. The WAL
# column is then 0 (there is no SQLite file).
#
# EVERY is `watch --every` (default 20s, so every source is asked every cycle and each new post is met
# within a cycle). COLD=1 starts the watch on an empty store instead of after a `feedmill run`. The
# watch's own stderr (a line per refresh) goes to OUT/watch.log, the server's to
# OUT/server.log. Any environment (MALLOC_ARENA_MAX, FEEDMILL_LOG…) reaches the watch unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-1000}
DURATION=${DURATION:-3600}
EVERY=${EVERY:-20s}
CHANGE_EVERY=${CHANGE_EVERY:-20}
SAMPLE=${SAMPLE:-5}
OUT=${OUT:-$(mktemp -d /tmp/feedmill-soak.XXXXXX)}
target=${CARGO_TARGET_DIR:-target}

# The figures of a CSV: at each mark the median RSS of the minute up to it (a sample can fall inside a
# refresh, which takes a few seconds of the 20), and the highest RSS in that minute; the slope after minute
# 10 over every sample (least squares).
summarize() {
    awk -F, -v first="$2" '
        NR == 1 { next }
        { t[n] = $1; rss[n] = $2 / 1024; rf = $10; cpu = $11; n++ }
        function mark(name, at,    i, k, m, v, hi, j, x) {
            k = 0; hi = 0
            for (i = 0; i < n; i++) if (t[i] > at - 60 && t[i] <= at) { v[k++] = rss[i]; if (rss[i] > hi) hi = rss[i] }
            if (k == 0) return -1
            for (i = 1; i < k; i++) { x = v[i]; for (j = i - 1; j >= 0 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
            m = k % 2 ? v[int(k / 2)] : (v[k / 2 - 1] + v[k / 2]) / 2
            printf "%-24s %9.1f %9.1f\n", name, m, hi
            return m
        }
        END {
            printf "%-24s %9s %9s\n", "RSS MiB", "median", "max"
            if (first > 0) for (i = 0; i < n; i++) if (t[i] >= first) { printf "%-24s %9.1f\n", "after the first refresh", rss[i]; break }
            split("1 3 10 15 30 60", marks, " ")
            for (m = 1; m <= 6; m++) if (t[n - 1] >= marks[m] * 60) { v = mark(marks[m] " min", marks[m] * 60); if (marks[m] == 10) at10 = v }
            last = mark(sprintf("end (%.0f s)", t[n - 1]), t[n - 1])
            k = 0; sx = 0; sy = 0; sxx = 0; sxy = 0
            for (i = 0; i < n; i++) if (t[i] >= 600) { x = t[i] / 60; k++; sx += x; sy += rss[i]; sxx += x * x; sxy += x * rss[i] }
            if (k > 2) printf "slope after minute 10: %+.3f MiB/min (%d samples)\n", (k * sxy - sx * sy) / (k * sxx - sx * sx), k
            if (cpu != "" && rf > 0) printf "CPU: %.1f s over %d refreshes, %.3f s a refresh\n", cpu, rf, cpu / rf
            if (at10 > 0) printf "end vs minute 10: %+.1f%% (target: within 10%%)\n", (last - at10) / at10 * 100
        }' "$1"
}

# SUMMARY=path/to/rss.csv: only print the figures of an earlier (or running) soak.
if [[ -n ${SUMMARY:-} ]]; then
    summarize "$SUMMARY" 0
    exit
fi

if [[ -z ${FEEDMILL:-} || -z ${REFRESH:-} ]]; then
    cargo build --release --quiet -p feedmill -p feedmill-bench --bin feedmill --bin refresh
fi
FEEDMILL=${FEEDMILL:-$target/release/feedmill}
REFRESH=${REFRESH:-$target/release/refresh}
mkdir -p "$OUT"
rm -rf "$OUT/.feedmill" "$OUT/out" "$OUT/addr"

server=
watch=
cleanup() {
    for pid in $watch $server; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$REFRESH" serve "$OUT" --sources "$N" --change-every "$CHANGE_EVERY" 2>"$OUT/server.log" &
server=$!
while [[ ! -s $OUT/addr ]]; do
    kill -0 "$server" 2>/dev/null || { echo "the server died: $(cat "$OUT/server.log")" >&2; exit 1; }
    sleep 0.2
done

# The store is filled by a `feedmill run` of its own first (a watch is normally started on a store that
# has been running): a cold first refresh inside the watch would leave tens of MiB of freed heap that
# later growth fills unseen, so RSS would stay flat for a long time even with a leak.
if [[ -n ${STATE_URL:-} ]]; then
    FEEDMILL_STATE_URL=$(bench/pg-schema.sh "$STATE_URL" soak)
    export FEEDMILL_STATE_URL
    echo "${FEEDMILL_STATE_URL##*search_path%3D}" >"$OUT/schema"
fi
if [[ ${COLD:-0} != 1 ]]; then
    "$FEEDMILL" -q run -c "$OUT/feeds.toml" 2>"$OUT/run.log" || { echo "the first run failed: $(tail -5 "$OUT/run.log")" >&2; exit 1; }
fi
"$FEEDMILL" watch -c "$OUT/feeds.toml" --every "$EVERY" 2>"$OUT/watch.log" &
watch=$!
start=$(date +%s.%N)
state=SQLite
[[ -z ${STATE_URL:-} ]] || state="PostgreSQL schema $(cat "$OUT/schema")"
echo "soak: $N sources on $state, watch --every $EVERY, 1% new posts every ${CHANGE_EVERY}s, ${DURATION}s; pid $watch; $OUT" >&2

csv=$OUT/rss.csv
echo "seconds,rss_kib,hwm_kib,anon_kib,file_kib,shmem_kib,threads,fds,wal_kib,refreshes,cpu_s" >"$csv"
first_refresh=
while :; do
    now=$(date +%s.%N)
    t=$(awk -v a="$start" -v b="$now" 'BEGIN { printf "%.1f", b - a }')
    status=/proc/$watch/status
    [[ -r $status ]] || { echo "the watch exited: $(tail -5 "$OUT/watch.log")" >&2; exit 1; }
    rss=$(awk '/^VmRSS:/ { print $2 }' "$status")
    hwm=$(awk '/^VmHWM:/ { print $2 }' "$status")
    threads=$(awk '/^Threads:/ { print $2 }' "$status")
    anon=$(awk '/^RssAnon:/ { print $2 }' "$status")
    file=$(awk '/^RssFile:/ { print $2 }' "$status")
    shmem=$(awk '/^RssShmem:/ { print $2 }' "$status")
    wal=$( (du -k -c "$OUT"/.feedmill/*-wal 2>/dev/null || true) | awk 'END { print $1 + 0 }')
    # utime + stime, in clock ticks (fields 14 and 15; the name in field 2 has no spaces here).
    cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$watch/stat")
    fds=$(find "/proc/$watch/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    refreshes=$(grep -cE '^[0-9]{4}-.* ok' "$OUT/watch.log" || true)
    echo "$t,$rss,$hwm,$anon,$file,$shmem,$threads,$fds,$wal,$refreshes,$cpu" >>"$csv"
    if [[ -z $first_refresh && $refreshes -ge 1 ]]; then
        first_refresh=$t
        echo "first refresh done at ${t}s: RSS $((rss / 1024)) MiB" >&2
    fi
    awk -v t="$t" -v d="$DURATION" 'BEGIN { exit !(t >= d) }' && break
    sleep "$SAMPLE"
done

summarize "$csv" "${first_refresh:-0}"
echo "refreshes: $(grep -cE '^[0-9]{4}-.* ok' "$OUT/watch.log" || true); errors: $(grep -c '^error' "$OUT/watch.log" || true); samples: $csv" >&2
