#!/usr/bin/env bash
# Workers on one PostgreSQL state (#21), latency-bound: the refresh corpus (`refresh serve`, 50-entry
# feeds in six formats, a quarter gzipped) on the loopback server with every answer delayed DELAY_MS
# (100 ms, as on the internet), and in the same script run:
#
# (a) scaling: 1, 2 and 4 `feedmill run` workers (WORKERS) started together on a fresh PostgreSQL schema,
#     cold (every source new), N sources (10,000): wall time from the first start to the last exit,
#     sources per second, CPU (user + system of every worker, from `refresh measure`) per source, the
#     speed-up over one worker (#21's target: 4 workers ≥ 3×); one SQLite run of the same N beside them.
# (b) one worker on PostgreSQL against one on SQLite (the same binary, the same corpus): cold, then
#     all-304 (a second run, nothing changed), ROUNDS rounds alternating which backend goes first, at
#     ROUNDS_N sources (N by default): medians, and the median of the paired ratios PostgreSQL/SQLite
#     (#21's target: within 1.5×).
#
# Checked on every run: it exits 0, and the server's per-feed counters (`GET /_counts`) saw each source
# asked exactly once and nothing else (all 200 cold, all 304 unchanged). Outputs compared with `diff -r`
# (index.html's fetch times masked, as `compare.sh` does): each PostgreSQL scaling run against the SQLite
# one; in each round PostgreSQL's against SQLite's, after the cold and the all-304 run.
#
# The generated config has `[fetch] concurrency = CONCURRENCY` (16) and `per_host = PER_HOST` (64). The
# sources are spread over HOSTS loopback addresses (127.0.0.1, 127.0.0.2, …; 16), as a real list spans
# many hosts; `per_host` counts leases across all workers, so with HOSTS=1 it is one shared limit of 64
# and 4 workers × 16 in flight fill it: the host's limit, not the workers, then sets the pace.
#
#   eval "$(.ci/postgres start)"                 # a throwaway cluster; or any server you can CREATE SCHEMA on
#   STATE_URL=$FEEDMILL_TEST_POSTGRES bench/workers.sh
#   N=2000 ROUNDS=1 WORKERS="1 2" bench/workers.sh
#   ENTRIES=2 bench/workers.sh                   # 2-entry feeds: little CPU a source, the latency alone
#   HOSTS=1 bench/workers.sh                     # every source on one host: per_host is the limit
#   ROUNDS_N=2000 bench/workers.sh               # the scaling at N, the rounds at 2,000 sources
#   FEEDMILL=/path/feedmill REFRESH=/path/refresh OUT=/tmp/w bench/workers.sh
#
# STATE_URL defaults to FEEDMILL_TEST_POSTGRES; each PostgreSQL measurement gets a new schema in it
# (`bench/pg-schema.sh`). Results: OUT/results.tsv, one line per measured run; each run's folder keeps
# its config, outputs, `state` (SQLite) and the workers' stderr. Exit status 1 when a run failed, a
# source was not fetched exactly once, or outputs differ; the table is printed either way.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-10000}
ROUNDS=${ROUNDS:-3}
ROUNDS_N=${ROUNDS_N:-$N}
WORKERS=${WORKERS:-1 2 4}
DELAY_MS=${DELAY_MS:-100}
# Entries per feed: 50, as the refresh corpus; 2 makes a run latency-bound even on two cores.
ENTRIES=${ENTRIES:-50}
CONCURRENCY=${CONCURRENCY:-16}
PER_HOST=${PER_HOST:-64}
HOSTS=${HOSTS:-16}
STATE_URL=${STATE_URL:-${FEEDMILL_TEST_POSTGRES:-}}
OUT=${OUT:-$(mktemp -d /tmp/feedmill-workers.XXXXXX)}
target=${CARGO_TARGET_DIR:-target}

if [[ -z $STATE_URL ]]; then
    echo "usage: STATE_URL=postgresql://… bench/workers.sh (or FEEDMILL_TEST_POSTGRES from .ci/postgres start)" >&2
    exit 2
fi
if ((ROUNDS_N > N)); then
    echo "ROUNDS_N ($ROUNDS_N) cannot exceed N ($N): the rounds use the first ROUNDS_N sources" >&2
    exit 2
fi
if [[ -z ${FEEDMILL:-} || -z ${REFRESH:-} ]]; then
    cargo build --release --quiet -p feedmill -p feedmill-bench --bin feedmill --bin refresh
fi
FEEDMILL=${FEEDMILL:-$target/release/feedmill}
REFRESH=${REFRESH:-$target/release/refresh}
# The SQLite runs must not inherit a state URL from the environment.
unset FEEDMILL_STATE_URL
mkdir -p "$OUT"
results=$OUT/results.tsv
: >"$results"
failed=0

server=
cleanup() {
    [[ -z $server ]] || kill "$server" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/load.txt"
rm -rf "$OUT/serve"
"$REFRESH" serve "$OUT/serve" --sources "$N" --entries "$ENTRIES" --change-every 0 --delay-ms "$DELAY_MS" \
    --concurrency "$CONCURRENCY" --per-host "$PER_HOST" --hosts "$HOSTS" 2>"$OUT/server.log" &
server=$!
while [[ ! -s $OUT/serve/addr ]]; do
    kill -0 "$server" 2>/dev/null || { echo "the server died: $(cat "$OUT/server.log")" >&2; exit 1; }
    sleep 0.2
done
addr=$(cat "$OUT/serve/addr")

# The generated config cut to its first $1 sources.
config_of() {
    awk -v n="$1" '/^\[\[sources\]\]/ { k++ } k <= n' "$OUT/serve/feeds.toml"
}

# The server's counters: `requests full not_modified bytes`, then one line per feed.
counts() {
    curl -sf --noproxy '*' "http://$addr/_counts" >"$1"
}

# Between two snapshots, with the first $3 feeds configured: requests, 200s, 304s, feeds asked once,
# feeds never asked, feeds asked more than once, requests for feeds outside the config.
fetched() {
    awk -v n="$3" '
        NR == FNR { b[FNR] = $0; next }
        FNR == 1 { split(b[1], x, " "); split($0, y, " "); req = y[1] - x[1]; full = y[2] - x[2]; nm = y[3] - x[3]; next }
        { d = $1 - b[FNR]; if (FNR - 2 < n) { if (d == 1) once++; else if (d == 0) never++; else more++ } else extra += d }
        END { printf "%d %d %d %d %d %d %d\n", req, full, nm, once, never, more, extra }' "$1" "$2"
}

# index.html shows when each source was last fetched, which two runs cannot share: masked in the copy.
masked_copy() { # from to
    rm -rf "$2"
    cp -r "$1" "$2"
    if [[ -f $2/index.html ]]; then
        sed -i 's|Last successful fetch: <time datetime="[^"]*">[^<]*</time>|Last successful fetch: (masked)|g' "$2/index.html"
    fi
}

# Compares two masked output folders; sets `verdict` to "same (K files)" or "DIFFERENT" (the files named
# on stderr).
same() { # a b what
    local files
    files=$(find "$1" -type f 2>/dev/null | wc -l)
    if [[ $files -eq 0 ]]; then
        echo "FAILED: $3: no output in $1" >&2
        failed=1
        verdict="none"
    elif diff -r -q "$1" "$2" >"$OUT/diff.txt" 2>&1; then
        verdict="same ($files files)"
    else
        echo "DIFFERENT outputs, $3:" >&2
        head -20 "$OUT/diff.txt" >&2
        failed=1
        verdict="DIFFERENT"
    fi
}

# Runs K workers of `feedmill run` together in DIR on STATE (a URL, or "sqlite"), N sources, and appends
# a results line: kind backend workers round phase n wall_s cpu_s max_rss_kib exits fetched-check.
measure_run() { # kind backend workers round phase dir state n want
    local kind=$1 backend=$2 k=$3 round=$4 phase=$5 dir=$6 state=$7 n=$8 want=$9
    local i t0 t1 wall cpu rss exits check pids=()
    counts "$dir/counts.before"
    t0=$(date +%s.%N)
    for i in $(seq 1 "$k"); do
        if [[ $state == sqlite ]]; then
            "$REFRESH" measure -- "$FEEDMILL" -q run -c "$dir/feeds.toml" >"$dir/usage.$phase.$i" 2>"$dir/$phase.$i.log" &
        else
            FEEDMILL_STATE_URL=$state "$REFRESH" measure -- "$FEEDMILL" -q run -c "$dir/feeds.toml" \
                >"$dir/usage.$phase.$i" 2>"$dir/$phase.$i.log" &
        fi
        pids+=($!)
    done
    for i in "${pids[@]}"; do
        wait "$i" || true
    done
    t1=$(date +%s.%N)
    counts "$dir/counts.after"
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    # Each usage file: wall_ns cpu_ns max_rss_kib exit_code.
    cpu=$(cat "$dir"/usage."$phase".* | awk '{ s += $2 } END { printf "%.3f", s / 1e9 }')
    rss=$(cat "$dir"/usage."$phase".* | awk '$3 > m { m = $3 } END { print m + 0 }')
    exits=$(cat "$dir"/usage."$phase".* | awk '{ printf "%s%s", sep, $4; sep = "," } END { if (!NR) printf "none" }')
    read -r req full nm once never more extra < <(fetched "$dir/counts.before" "$dir/counts.after" "$n")
    local answered=$full
    [[ $want == 200 ]] || answered=$nm
    if [[ $once -eq $n && $extra -eq 0 && $answered -eq $n ]]; then
        check="once"
    else
        check="BAD: $req requests ($full 200, $nm 304), $once sources once, $never never, $more more than once, $extra outside"
        echo "FAILED: $kind $backend ×$k round $round $phase: $check" >&2
        failed=1
    fi
    if [[ ! $exits =~ ^0(,0)*$ ]]; then
        echo "FAILED: $kind $backend ×$k round $round $phase: exit codes $exits; see $dir/$phase.*.log" >&2
        tail -3 "$dir/$phase".*.log >&2 || true
        failed=1
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$backend" "$k" "$round" "$phase" "$n" \
        "$wall" "$cpu" "$rss" "$exits" "$check" >>"$results"
    printf '  %-7s %-10s ×%s round %s %-7s %6d sources %8.2f s wall %8.2f s CPU  fetched: %s\n' \
        "$kind" "$backend" "$k" "$round" "$phase" "$n" "$wall" "$cpu" "$check"
}

# A fresh folder with the config of the first $2 sources (a SQLite state goes to its .feedmill/).
prepare() { # dir n
    rm -rf "$1"
    mkdir -p "$1"
    config_of "$2" >"$1/feeds.toml"
}

echo "workers: $N sources of $ENTRIES entries (rounds: $ROUNDS_N), ${DELAY_MS} ms a response, concurrency $CONCURRENCY, per_host $PER_HOST, $HOSTS host(s); $OUT"

# (a) -------------------------------------------------------------------------------------------------
echo "(a) scaling, cold, $N sources: workers $WORKERS on PostgreSQL, and one SQLite run"
declare -A same_as
dir=$OUT/scale-sqlite
prepare "$dir" "$N"
measure_run scale sqlite 1 1 cold "$dir" sqlite "$N" 200
masked_copy "$dir/out" "$dir/cmp"
for k in $WORKERS; do
    dir=$OUT/scale-pg-$k
    prepare "$dir" "$N"
    measure_run scale postgresql "$k" 1 cold "$dir" "$(bench/pg-schema.sh "$STATE_URL" "w$k")" "$N" 200
    masked_copy "$dir/out" "$dir/cmp"
    same "$dir/cmp" "$OUT/scale-sqlite/cmp" "$k PostgreSQL workers against one SQLite run"
    same_as[$k]=$verdict
done

# (b) -------------------------------------------------------------------------------------------------
echo "(b) one worker, PostgreSQL against SQLite, $ROUNDS_N sources, $ROUNDS rounds alternating"
declare -A round_same
for round in $(seq 1 "$ROUNDS"); do
    order="postgresql sqlite"
    ((round % 2 == 1)) || order="sqlite postgresql"
    for backend in $order; do
        dir=$OUT/round-$round-$backend
        prepare "$dir" "$ROUNDS_N"
        state=sqlite
        [[ $backend == sqlite ]] || state=$(bench/pg-schema.sh "$STATE_URL" "r$round")
        measure_run pair "$backend" 1 "$round" cold "$dir" "$state" "$ROUNDS_N" 200
        masked_copy "$dir/out" "$dir/cmp-cold"
        measure_run pair "$backend" 1 "$round" all-304 "$dir" "$state" "$ROUNDS_N" 304
        masked_copy "$dir/out" "$dir/cmp-304"
    done
    for phase in cold 304; do
        same "$OUT/round-$round-postgresql/cmp-$phase" "$OUT/round-$round-sqlite/cmp-$phase" \
            "round $round after the $phase run, PostgreSQL against SQLite"
        round_same[$round-$phase]=$verdict
    done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/load.txt"

# The table -------------------------------------------------------------------------------------------
col() { # kind backend workers phase column
    awk -F'\t' -v k="$1" -v b="$2" -v w="$3" -v p="$4" -v c="$5" '$1 == k && $2 == b && $3 == w && $5 == p { print $c }' "$results"
}
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "nan" }'
}

echo
echo "(a) scaling: $N sources, cold, ${DELAY_MS} ms a response, concurrency $CONCURRENCY each, per_host $PER_HOST over all workers, $HOSTS host(s)"
printf '%-22s %9s %11s %9s %13s %9s %-8s %s\n' "" "wall s" "sources/s" "CPU s" "CPU ms/source" "speed-up" "fetched" "outputs"
one=$(col scale postgresql 1 cold 7)
row() { # label backend workers outputs
    local wall cpu rate
    wall=$(col scale "$2" "$3" cold 7)
    [[ -n $wall ]] || return 0
    cpu=$(col scale "$2" "$3" cold 8)
    rate=$(awk -v n="$N" -v w="$wall" 'BEGIN { printf "%.1f", n / w }')
    printf '%-22s %9.2f %11s %9.2f %13.2f %9s %-8s %s\n' "$1" "$wall" "$rate" "$cpu" \
        "$(awk -v c="$cpu" -v n="$N" 'BEGIN { print c / n * 1000 }')" \
        "$(if [[ -n $one && $2 == postgresql ]]; then awk -v a="$one" -v b="$wall" 'BEGIN { printf "%.2f×", a / b }'; else echo "—"; fi)" \
        "$(col scale "$2" "$3" cold 11)" "$4"
}
row "SQLite, 1 process" sqlite 1 "(reference)"
for k in $WORKERS; do
    row "PostgreSQL, $k worker(s)" postgresql "$k" "${same_as[$k]} against SQLite"
done

echo
echo "(b) one worker, PostgreSQL/SQLite: $ROUNDS_N sources, $ROUNDS rounds (medians; ratio: median of the paired ratios, range)"
printf '%-8s %12s %12s %22s %12s %12s %22s\n' "" "PG wall s" "SQLite wall" "PG/SQLite wall" "PG CPU s" "SQLite CPU" "PG/SQLite CPU"
for phase in cold all-304; do
    ratio() { # column
        paste <(col pair postgresql 1 "$phase" "$1") <(col pair sqlite 1 "$phase" "$1") |
            awk -F'\t' '$2 > 0 { print $1 / $2 }' | sort -g |
            awk '{ v[NR] = $1 } END { if (NR) printf "%.2f (%.2f–%.2f)", v[int((NR + 1) / 2)], v[1], v[NR]; else printf "n/a" }'
    }
    printf '%-8s %12.2f %12.2f %22s %12.2f %12.2f %22s\n' "$phase" \
        "$(col pair postgresql 1 "$phase" 7 | median)" "$(col pair sqlite 1 "$phase" 7 | median)" "$(ratio 7)" \
        "$(col pair postgresql 1 "$phase" 8 | median)" "$(col pair sqlite 1 "$phase" 8 | median)" "$(ratio 8)"
done
for round in $(seq 1 "$ROUNDS"); do
    echo "round $round outputs, PostgreSQL against SQLite: cold ${round_same[$round-cold]}, all-304 ${round_same[$round-304]}"
done
echo "fetch checks: $(awk -F'\t' '$11 == "once" { ok++ } END { printf "%d of %d runs asked each source exactly once", ok, NR }' "$results")"
cat "$OUT/load.txt"
echo "results: $results"
exit "$failed"
