#!/usr/bin/env bash
# The refresh macro benchmark (bench/src/bin/refresh/): `feedmill run` cold, again when every source
# answers 304, and again after 1% of the feeds changed, over N local sources served on 127.0.0.1, beside
# a bare reqwest client with the same concurrency. Prints wall time, CPU time, peak RSS and requests of
# each (medians of ROUNDS rounds), their ratios, and which output files the 1%-changed run rewrote.
#
#   bench/refresh.sh                 # N=200, ROUNDS=5
#   N=1000 ROUNDS=3 bench/refresh.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p feedmill
exec cargo run --release --quiet -p feedmill-bench --bin refresh -- --sources "${N:-200}" --rounds "${ROUNDS:-5}" "$@"
