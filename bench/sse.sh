#!/usr/bin/env bash
# Live chat under load: one release instance against its own database, STREAMS (1000)
# server-sent-event streams, and what it does meanwhile. See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 16384 2>/dev/null || ulimit -n "$(ulimit -Hn)"
SERVER=${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
DB=clienthub_bench_sse
PORT=${PORT:-18080}
cargo build --release --quiet
psql -q "$SERVER/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
export DATABASE_URL="$SERVER/$DB"
./target/release/clienthub seed-demo >/dev/null
DATA_DIR=$(mktemp -d) PORT=$PORT APP_URL=http://127.0.0.1:$PORT RUST_LOG=warn \
  CLIENTHUB__RATE_LIMIT__READ_PER_SECOND=100000 CLIENTHUB__RATE_LIMIT__READ_BURST=100000 \
  CLIENTHUB__RATE_LIMIT__WRITE_PER_SECOND=100000 CLIENTHUB__RATE_LIMIT__WRITE_BURST=100000 \
  ./target/release/clienthub serve >/tmp/clienthub-sse-bench.log 2>&1 &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.2; done
BASE=http://127.0.0.1:$PORT SERVER_PID=$SERVER_PID cargo bench --quiet --bench sse
