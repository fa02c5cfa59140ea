#!/usr/bin/env bash
# Before/after harness for refactors: two release builds of feedmill, the same work, compared.
#
# (a) Same outputs: writes the bench corpus once (`examples/corpus_dir.rs`, N sources as files), gives each
#     binary its own copy and runs it cold, again with nothing changed, and again after every 100th feed
#     gained a post (`--revise`); after each run every output file must be byte-identical between the two
#     (`diff -r`). A difference, or a run that fails, stops the script with the file(s) named (exit 1).
# (b) Same speed: the refresh benchmark (`src/bin/refresh/`, a loopback server) once per binary and
#     round, alternating ROUNDS times: old, new, then new, old, and so on, so neither side always goes
#     first. Prints each side's median wall time, CPU time and peak RSS for the cold and all-304 runs,
#     and the median over the rounds of the paired ratio new/old (each round's two runs are next to
#     each other in time, so a slow hour cancels out).
#
#   git worktree add --detach /tmp/old <rev> && (cd /tmp/old && CARGO_TARGET_DIR=/tmp/old-target \
#       cargo build --release -p feedmill) && cp /tmp/old-target/release/feedmill /tmp/feedmill-old
#   cargo build --release -p feedmill
#   bench/compare.sh /tmp/feedmill-old target/release/feedmill          # N=1000 ROUNDS=5
#   N=10000 ROUNDS=3 bench/compare.sh OLD NEW
#   SKIP_TIMING=1 bench/compare.sh OLD NEW                              # (a) only
#
# Exit status: 0 when the outputs are identical (the timing is for reading, not a verdict), 1 when they
# differ or a run failed, 2 on bad usage.
set -euo pipefail

if [[ $# -ne 2 || ! -x $1 || ! -x $2 ]]; then
    echo "usage: bench/compare.sh OLD_FEEDMILL NEW_FEEDMILL (two executables; env N=1000 ROUNDS=5 SKIP_TIMING=)" >&2
    exit 2
fi
old=$(realpath "$1")
new=$(realpath "$2")
n=${N:-1000}
rounds=${ROUNDS:-5}
cd "$(dirname "$0")/.."

cargo build --release --quiet -p feedmill-bench --example corpus_dir --bin refresh
target=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
corpus_dir=$target/release/examples/corpus_dir
refresh=$target/release/refresh

work=$(mktemp -d "${TMPDIR:-/tmp}/feedmill-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "old: $old"
echo "new: $new"

# (a) ----------------------------------------------------------------------------------------------
echo "(a) outputs on the file corpus, $n sources"
"$corpus_dir" "$work/corpus" "$n"
cp -r "$work/corpus" "$work/old"
cp -r "$work/corpus" "$work/new"

# Runs one side in its own folder (the config's paths are relative to it); a failed run stops the script.
run() {
    local side=$1 binary=$2 status=0
    (cd "$work/$side" && "$binary" -q run -c feeds.toml) >"$work/$side.log" 2>&1 || status=$?
    if [[ $status -ne 0 ]]; then
        echo "FAILED: $side ($binary) exited $status on the $3 run; its output:" >&2
        tail -20 "$work/$side.log" >&2
        exit 1
    fi
}

# index.html shows when each source was last fetched: the only wall-clock time in the outputs, which two
# runs cannot share. Compared copies have those times (and nothing else) masked; every other file is
# compared as written.
masked_copy() {
    rm -rf "$work/cmp/$1"
    mkdir -p "$work/cmp"
    cp -r "$work/$1/out" "$work/cmp/$1"
    if [[ -f $work/cmp/$1/index.html ]]; then
        sed -i 's|Last successful fetch: <time datetime="[^"]*">[^<]*</time>|Last successful fetch: (masked)|g' \
            "$work/cmp/$1/index.html"
    fi
}

same_outputs() {
    local what=$1 count
    masked_copy old
    masked_copy new
    if ! diff -r -q "$work/cmp/old" "$work/cmp/new" >"$work/diff.txt" 2>&1; then
        echo "DIFFERENT outputs after the $what run (old/ vs new/, index.html's fetch times masked):" >&2
        cat "$work/diff.txt" >&2
        # The first differing file's first lines, to see what kind of difference it is.
        local first
        first=$(sed -n 's/^Files \(.*\) and .* differ$/\1/p' "$work/diff.txt" | head -1)
        if [[ -n $first ]]; then
            diff -u "$first" "${first/\/cmp\/old\//\/cmp\/new\/}" | head -30 >&2 || true
        fi
        exit 1
    fi
    count=$(find "$work/cmp/old" -type f | wc -l)
    if [[ $count -eq 0 ]]; then
        echo "FAILED: the $what run wrote no output file" >&2
        exit 1
    fi
    echo "  $what run: $count output files, all byte-identical (index.html: but for its fetch times)"
}

for what in cold unchanged; do
    run old "$old" "$what"
    run new "$new" "$what"
    same_outputs "$what"
done
"$corpus_dir" "$work/old" "$n" --revise
"$corpus_dir" "$work/new" "$n" --revise
run old "$old" "1%-changed"
run new "$new" "1%-changed"
same_outputs "1%-changed"

if [[ -n ${SKIP_TIMING:-} ]]; then
    exit 0
fi

# (b) ----------------------------------------------------------------------------------------------
echo "(b) refresh benchmark, $n sources, $rounds alternating rounds (old, new; new, old; ...)"
: >"$work/all.tsv"
for round in $(seq 1 "$rounds"); do
    order="old new"
    if ((round % 2 == 0)); then
        order="new old"
    fi
    for side in $order; do
        binary=$old
        [[ $side == new ]] && binary=$new
        : >"$work/round.tsv"
        "$refresh" --sources "$n" --rounds 1 --feedmill "$binary" --record "$work/round.tsv" \
            >"$work/refresh-$side-$round.txt" 2>&1 || {
            echo "FAILED: the refresh benchmark with $side ($binary), round $round:" >&2
            tail -20 "$work/refresh-$side-$round.txt" >&2
            exit 1
        }
        if grep -q '^warning' "$work/refresh-$side-$round.txt"; then
            grep '^warning' "$work/refresh-$side-$round.txt" | sed "s/^/  $side, round $round: /" >&2
        fi
        # side, round, phase, wall s, CPU s, peak RSS KiB, exit code
        sed "s/^/$side\t$round\t/" "$work/round.tsv" >>"$work/all.tsv"
        awk -F'\t' -v s="$side" -v r="$round" '$1 == "cold" || $1 == "all-304" {
            printf "  round %s %-3s %-7s %7.3f s wall %7.3f s CPU %7.1f MiB\n", r, s, $1, $2, $3, $4 / 1024 }' \
            "$work/round.tsv"
    done
done

# Median of the numbers on stdin (the upper middle one for an even count, as the refresh bench takes it).
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int(NR / 2) + 1]; else print "nan" }'
}

column_of() { # side phase column
    awk -F'\t' -v s="$1" -v p="$2" -v c="$3" '$1 == s && $3 == p { print $c }' "$work/all.tsv"
}

printf '\n%-9s %10s %10s %10s | %10s %10s %10s | %s\n' "medians" "old wall" "old CPU" "old MiB" \
    "new wall" "new CPU" "new MiB" "new/old wall, CPU, RSS: median of the paired ratios (range)"
for phase in cold all-304 bare bare-304; do
    ratios=()
    for col in 4 5 6; do
        ratios+=("$(paste <(column_of old "$phase" "$col") <(column_of new "$phase" "$col") |
            awk -F'\t' '$1 > 0 { print $2 / $1 }' | sort -g |
            awk '{ v[NR] = $1 } END { if (NR) printf "%.3f (%.3f–%.3f)", v[int(NR / 2) + 1], v[1], v[NR]; else printf "n/a" }')")
    done
    printf '%-9s %9.3fs %9.3fs %10.1f | %9.3fs %9.3fs %10.1f | %s, %s, %s\n' "$phase" \
        "$(column_of old "$phase" 4 | median)" "$(column_of old "$phase" 5 | median)" \
        "$(column_of old "$phase" 6 | median | awk '{ print $1 / 1024 }')" \
        "$(column_of new "$phase" 4 | median)" "$(column_of new "$phase" 5 | median)" \
        "$(column_of new "$phase" 6 | median | awk '{ print $1 / 1024 }')" \
        "${ratios[0]}" "${ratios[1]}" "${ratios[2]}"
done
echo "(bare and bare-304 are the benchmark's own client in the same rounds: their ratio shows the noise.)"
if awk -F'\t' '$7 != 0 { bad = 1 } END { exit !bad }' "$work/all.tsv"; then
    echo "FAILED: runs that exited non-zero (side, round, phase, wall, CPU, KiB, exit code):" >&2
    awk -F'\t' '$7 != 0' "$work/all.tsv" >&2
    exit 1
fi
