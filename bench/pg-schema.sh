#!/usr/bin/env bash
# Prints a URL of the PostgreSQL server SERVER_URL whose connections work in a new, empty schema, for a
# measurement that must start from nothing: `CREATE SCHEMA`, then the URL with
# `options=-csearch_path%3D<schema>` (as tests/integration/workers.rs `fresh_schema` does). The schema is
# not dropped: benchmarks run on a throwaway cluster (`.ci/postgres start`).
#
#   url=$(bench/pg-schema.sh "$FEEDMILL_TEST_POSTGRES" [PREFIX])
set -euo pipefail
server=${1:?usage: bench/pg-schema.sh SERVER_URL [PREFIX]}
schema=${2:-bench}_$(date +%s)_$$_$RANDOM
# psql reads the password from the URL; it is never echoed.
psql "$server" -qAt -v ON_ERROR_STOP=1 -c "CREATE SCHEMA $schema" >/dev/null
case $server in
*\?*) echo "$server&options=-csearch_path%3D$schema" ;;
*) echo "$server?options=-csearch_path%3D$schema" ;;
esac
