#!/usr/bin/env bash
# EXPLAIN ANALYZE of every statement a page sends, as the page sends it (tenant role,
# row-level security on). Uses the statements bench/load.sh kept in BENCH_DIR/sql.
#
#   bench/explain.sh N            N: the page's number in load.sh's list (0 = dashboard)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BENCH_DIR=${BENCH_DIR:-/var/tmp/clienthub-bench}
PG_PORT=${PG_PORT:-5440}
file=$BENCH_DIR/sql/page-$1.sql
[ -f "$file" ] || { echo "no $file: run bench/load.sh first" >&2; exit 1; }
running=$(as_pg "$PG_BIN/pg_ctl" -D "$BENCH_DIR/pg" status >/dev/null 2>&1 && echo yes || echo no)
[ "$running" = yes ] || pg_start "$BENCH_DIR/pg" "$PG_PORT"
python3 - "$file" <<'PY' | psql -X "postgres://postgres@127.0.0.1:$PG_PORT/clienthub_bench" 2>&1 | grep -v "^SET$\|^BEGIN$\|^COMMIT$"
import sys
for stmt in open(sys.argv[1]).read().split(";\n"):
    s = stmt.strip().rstrip(";")
    if not s:
        continue
    head = s.split(None, 1)[0].upper()
    if head in ("SELECT", "WITH", "UPDATE", "INSERT", "DELETE") and "set_config(" not in s:
        print("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, SUMMARY ON) " + s + ";")
    else:
        print(s + ";")
PY
[ "$running" = yes ] || pg_stop "$BENCH_DIR/pg"
