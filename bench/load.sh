#!/usr/bin/env bash
# The work pages under load on the large dataset, each beside two floors: `/health` (the
# framework's) and the page's own SQL replayed by pgbench at the same concurrency (the
# database's). Prints a Markdown table; see bench/README.md.
#
#   bench/load.sh                 CONNS=32 DURATION=10 SCALE=1 ORGS=1000 by default
#
# Runs everything on a private PostgreSQL cluster under BENCH_DIR (seeded once with
# `clienthub seed-bench`, kept for the next run) and one release instance.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

BENCH_DIR=${BENCH_DIR:-/var/tmp/clienthub-bench}
PG_PORT=${PG_PORT:-5440}
APP_PORT=${APP_PORT:-18090}
CONNS=${CONNS:-32}
DURATION=${DURATION:-10}
SCALE=${SCALE:-1}
ORGS=${ORGS:-1000}
ROUNDS=${ROUNDS:-30}
for tool in wrk pgbench psql curl python3; do
  command -v $tool >/dev/null || { echo "$tool is missing: run bench/deps.sh" >&2; exit 1; }
done

build_release
work=$(mktemp -d)
pg_start "$BENCH_DIR/pg" "$PG_PORT" -c logging_collector=on -c log_destination=csvlog -c log_directory=log \
  -c log_filename=pg -c log_rotation_size=0 -c log_rotation_age=0
APP_PID=
cleanup() {
  [ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null
  pg_stop "$BENCH_DIR/pg"
  rm -rf "$work"
}
trap cleanup EXIT
SERVER=postgres://postgres@127.0.0.1:$PG_PORT
DB=$SERVER/clienthub_bench
sql() { psql "$DB" -XAtq -c "$1"; }

seeded=$BENCH_DIR/seeded-scale-$SCALE-orgs-$ORGS
if [ ! -f "$seeded" ]; then
  rm -f "$BENCH_DIR"/seeded-*
  psql -q "$SERVER/postgres" -c "DROP DATABASE IF EXISTS clienthub_bench WITH (FORCE)" -c "CREATE DATABASE clienthub_bench"
  echo "Seeding (scale $SCALE, $ORGS small organizations):"
  DATABASE_URL=$DB DATA_DIR=$work "$BIN" seed-bench --scale "$SCALE" --orgs "$ORGS"
  psql -q "$DB" -c "VACUUM ANALYZE"
  touch "$seeded"
fi

APP_PID=$(app_start "$APP_PORT" "$BENCH_DIR/app.log" DATABASE_URL="$DB" CLIENTHUB__JOBS__IN_PROCESS_WORKER=false)
BASE=http://127.0.0.1:$APP_PORT
wait_for "$BASE/health"
sign_in "$BASE" owner@northwind.example "$work/jar"
COOKIE=$(cookie_header "$work/jar")

org=$(sql "SELECT id FROM organizations WHERE name = 'Northwind Studio'")
project=$(sql "SELECT project_id FROM tasks WHERE org_id = '$org' GROUP BY project_id ORDER BY count(*) DESC, project_id LIMIT 1")
invoice=$(sql "SELECT d.id FROM invoices d WHERE d.org_id = '$org' AND d.status = 'paid'
               AND (SELECT count(*) FROM invoice_items i WHERE i.invoice_id = d.id) = 5 ORDER BY d.id DESC LIMIT 1")
pages=(
  "Dashboard|/dashboard"
  "Clients list|/clients"
  "Tasks board (90 cards)|/projects/$project/board"
  "Invoices list|/invoices"
  "Invoice page (5 lines)|/invoices/$invoice"
  "Invoice PDF (1 page)|/invoices/$invoice/pdf"
)

# Each page's statements, from PostgreSQL's log, as a pgbench script.
csvlog=$BENCH_DIR/pg/log/pg.csv
psql -q "$DB" -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null
declare -A statements
for i in "${!pages[@]}"; do
  path=${pages[$i]#*|}
  curl -fs -o /dev/null -H "Cookie: $COOKIE" "$BASE$path"
  sleep 0.5
  offset=$(stat -c %s "$csvlog")
  statements[$i]=$(curl -fs -D - -o /dev/null -H "Cookie: $COOKIE" "$BASE$path" | tr -d '\r' |
    sed -n 's/^server-timing: .*desc="\([0-9]*\) statements".*/\1/Ip')
  sleep 0.5
  python3 "$ROOT/bench/replay.py" "$csvlog" "$offset" >"$work/page-$i.sql"
  mkdir -p "$BENCH_DIR/sql" && cp "$work/page-$i.sql" "$BENCH_DIR/sql/page-$i.sql" # for EXPLAIN ANALYZE
done
psql -q "$DB" -c "ALTER SYSTEM RESET log_statement" -c "SELECT pg_reload_conf()" >/dev/null

# Server time of one request at a time (Server-Timing), p50 over ROUNDS.
server_p50() {
  for _ in $(seq "$ROUNDS"); do
    curl -fs -D - -o /dev/null -H "Cookie: $COOKIE" "$BASE$1" | tr -d '\r' | sed -n 's/^server-timing: app;dur=\([0-9.]*\).*/\1/Ip'
  done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# CPU time (ms) used so far by a process and the children it has reaped: for the
# cluster's postmaster that includes its backends, live ones added.
CLK_TCK=$(getconf CLK_TCK)
cpu_ms() {
  local ticks=0 pid
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] || continue
    # Fields after the command name: utime, stime, cutime, cstime are 14-17.
    ticks=$((ticks + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 + $14 + $15 }')))
  done
  echo $((ticks * 1000 / CLK_TCK))
}
pg_cpu_ms() {
  local postmaster
  postmaster=$(head -1 "$BENCH_DIR/pg/postmaster.pid")
  cpu_ms "$postmaster" $(pgrep -P "$postmaster")
}

# wrk's figures in milliseconds: req/s, p50, p99; then the CPU milliseconds the app and
# PostgreSQL spent per request meanwhile.
to_ms() { awk '{ v = $1; if (v ~ /us$/) v = v / 1000; else if (v ~ /ms$/) v = v + 0; else if (v ~ /s$/) v = v * 1000; printf "%.1f", v }'; }
load() {
  local out app0 pg0 app1 pg1 requests
  app0=$(cpu_ms "$APP_PID") pg0=$(pg_cpu_ms)
  # /health is the framework's floor: no session to load, so no cookie.
  local auth=(-H "Cookie: $COOKIE")
  [ "$1" = /health ] && auth=()
  out=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency "${auth[@]}" "$BASE$1")
  app1=$(cpu_ms "$APP_PID") pg1=$(pg_cpu_ms)
  if grep -q "Non-2xx" <<<"$out"; then echo "$1: $(grep Non-2xx <<<"$out")" >&2; fi
  requests=$(awk '/requests in/ { print $1 }' <<<"$out")
  printf '%s %s %s %s %s\n' "$(awk '/Requests\/sec/ { printf "%.0f", $2 }' <<<"$out")" \
    "$(awk '$1 == "50%" { print $2 }' <<<"$out" | to_ms)" "$(awk '$1 == "99%" { print $2 }' <<<"$out" | to_ms)" \
    "$(awk -v t=$((app1 - app0)) -v n="$requests" 'BEGIN { printf "%.2f", t / n }')" \
    "$(awk -v t=$((pg1 - pg0)) -v n="$requests" 'BEGIN { printf "%.2f", t / n }')"
}
floor() {
  # The session settings the app's pool sets on each connection (db::SessionDefaults).
  PGOPTIONS="-c jit=off -c statement_timeout=10000" pgbench -n -M prepared -c "$CONNS" -j 2 -T "$DURATION" -f "$1" "$DB" 2>/dev/null |
    awk '/^tps/ { printf "%.0f", $3 }'
}

read -r health_rps health_p50 health_p99 _ _ < <(load /health)
echo
echo "$(nproc) cores, $CONNS connections, ${DURATION} s per run; /health: $health_rps req/s, p50 $health_p50 ms, p99 $health_p99 ms"
echo
echo "| page | req/s | p50 ms | p99 ms | DB floor (pgbench tps) | of the floor | statements | server time p50 ms (one at a time) | CPU ms per request: app | PostgreSQL |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for i in "${!pages[@]}"; do
  name=${pages[$i]%%|*}
  path=${pages[$i]#*|}
  seq_p50=$(server_p50 "$path")
  read -r rps p50 p99 app_cpu pg_cpu < <(load "$path")
  tps=$(floor "$work/page-$i.sql")
  share=$(awk -v a="$rps" -v b="$tps" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "–" }')
  echo "| $name | $rps | $p50 | $p99 | $tps | $share | ${statements[$i]} | $seq_p50 | $app_cpu | $pg_cpu |"
done
echo
echo "Server peak RSS: $(peak_rss_mib "$APP_PID") MiB"
