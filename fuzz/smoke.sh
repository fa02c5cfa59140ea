#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 30) from the seeded corpus and fails if any finds a crash,
# timeout or OOM. Meant for CI and for a quick check after touching a parser; see README.md.
#
#   fuzz/smoke.sh [SECONDS] [TARGET...]      # all targets by default
#   FUZZ_ARGS="-jobs=1 -workers=1" fuzz/smoke.sh 300 parse   # extra libFuzzer flags
#
# cargo-fuzz needs nightly flags (-Zsanitizer); on a stable toolchain RUSTC_BOOTSTRAP=1 unlocks them.
set -euo pipefail

fuzz=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(parse decode dates urls sanitize config)

rustc -V | grep -q nightly || export RUSTC_BOOTSTRAP=1
cd "$fuzz"
"$fuzz/seed.sh" >/dev/null

# Longest input per target: whole documents for the parsers, a line for dates and URLs.
max_len() {
    case $1 in
        dates) echo 512 ;;
        urls) echo 4096 ;;
        config) echo 16384 ;;
        *) echo 262144 ;;
    esac
}

# Built first so the times below are fuzzing only. -a (debug assertions and overflow checks, so an
# integer overflow panics instead of wrapping) is cargo-fuzz's default; spelled out to keep it so.
nice -n 10 cargo fuzz build -a

failed=()
for t in "${targets[@]}"; do
    log="$fuzz/artifacts/$t.log"
    mkdir -p "$fuzz/artifacts"
    start=$(date +%s)
    # shellcheck disable=SC2086
    if nice -n 10 cargo fuzz run -a "$t" -- -max_total_time="$seconds" -max_len="$(max_len "$t")" \
        -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 ${FUZZ_ARGS:-} >"$log" 2>&1; then
        status=ok
    else
        status=FAILED
        failed+=("$t")
    fi
    runs=$(grep -oP 'stat::number_of_executed_units: \K[0-9]+' "$log" | tail -n 1)
    printf '%-9s %-6s %6ss %10s executions  (log: %s)\n' "$t" "$status" "$(($(date +%s) - start))" "${runs:-?}" "$log"
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "findings in: ${failed[*]} (inputs in fuzz/artifacts/<target>/)" >&2
    exit 1
fi
