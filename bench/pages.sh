#!/usr/bin/env bash
# Server time of the work pages on a large organization, read from each response's
# Server-Timing header (time inside the app: routing, SQL, rendering).
#
#   bench/pages.sh [BASE_URL]        default http://127.0.0.1:8080
#
# Signs in as the demo owner, then requests each page ROUNDS times one after another
# and prints p50 / p95 / max in milliseconds. Needs a database grown with
# `clienthub seed-bench` (bench/load.sh makes one); DATABASE_URL lets it pick real ids.
set -euo pipefail

BASE=${1:-http://127.0.0.1:8080}
ROUNDS=${ROUNDS:-40}
EMAIL=${EMAIL:-owner@northwind.example}
PASSWORD=${PASSWORD:-clienthub-demo}
DB=${DATABASE_URL:?set DATABASE_URL to the benchmark database}
jar=$(mktemp)
trap 'rm -f "$jar"' EXIT

sql() { psql "$DB" -XAtq -c "$1"; }
org=$(sql "SELECT o.id FROM organizations o JOIN memberships m ON m.org_id = o.id JOIN users u ON u.id = m.user_id
           WHERE u.email = '$EMAIL' LIMIT 1")
# A big project (45 cards), a client deep in the name order, a cursor 9,000 rows in.
project=$(sql "SELECT project_id FROM tasks WHERE org_id = '$org' GROUP BY project_id ORDER BY count(*) DESC LIMIT 1")
client=$(sql "SELECT id FROM clients WHERE org_id = '$org' ORDER BY lower(name) DESC, id DESC LIMIT 1")
deep_clients=$(sql "SELECT id || '~' || lower(name) FROM clients WHERE org_id = '$org'
                    ORDER BY lower(name), id OFFSET 9000 LIMIT 1")
deep_tasks=$(sql "SELECT id FROM tasks WHERE org_id = '$org' ORDER BY id DESC OFFSET 90000 LIMIT 1")
assignee=$(sql "SELECT user_id FROM memberships WHERE org_id = '$org' AND client_id IS NULL ORDER BY user_id LIMIT 1")
task=$(sql "SELECT id FROM tasks WHERE project_id = '$project' AND parent_id IS NULL ORDER BY id LIMIT 1")
enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

csrf=$(curl -s -c "$jar" -b "$jar" "$BASE/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
status=$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" \
  --data-urlencode "csrf_token=$csrf" --data-urlencode "email=$EMAIL" --data-urlencode "password=$PASSWORD" "$BASE/login")
[ "$status" = 303 ] || { echo "sign-in failed ($status)" >&2; exit 1; }

pages=(
  "Clients, first page|/clients"
  "Clients, search 'rossi'|/clients?q=rossi"
  "Clients, search 'ana schmidt 1'|/clients?q=ana+schmidt+1"
  "Clients, sorted by email desc|/clients?sort=email&dir=desc"
  "Clients, page 9,000 rows in|/clients?after=$(enc "$deep_clients")"
  "Client page|/clients/$client"
  "Projects, first page|/projects"
  "Projects, status active + search|/projects?status=active&q=website"
  "Project page|/projects/$project"
  "Tasks, first page|/tasks"
  "Tasks, assignee + priority|/tasks?assignee=$assignee&priority=high"
  "Tasks, status + due before|/tasks?status=todo&due_before=2027-01-01"
  "Tasks, 90,000 rows in|/tasks?before=$deep_tasks"
  "Board (45 cards)|/projects/$project/board"
  "Task page|/tasks/$task"
  "Dashboard (totals, owed, chart)|/dashboard"
  "Health (floor)|/health"
)

printf '%-36s %8s %8s %8s %6s\n' "page" "p50 ms" "p95 ms" "max ms" "bytes"
for entry in "${pages[@]}"; do
  name=${entry%%|*}
  path=${entry#*|}
  times=()
  bytes=0
  for _ in $(seq "$ROUNDS"); do
    out=$(curl -s -D - -o /tmp/bench-page.$$ -b "$jar" -w '%{http_code}' "$BASE$path")
    code=${out: -3}
    [ "$code" = 200 ] || { echo "$path answered $code" >&2; exit 1; }
    t=$(printf '%s' "$out" | tr -d '\r' | sed -n 's/^server-timing: app;dur=\([0-9.]*\).*/\1/Ip')
    times+=("$t")
    bytes=$(stat -c %s /tmp/bench-page.$$)
    sleep 0.03 # stay under the read rate limit
  done
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  pick() { printf '%s\n' "$sorted" | sed -n "$1p"; }
  n=${#times[@]}
  printf '%-36s %8s %8s %8s %6s\n' "$name" "$(pick $(((n + 1) / 2)))" "$(pick $(((n * 95 + 99) / 100)))" "$(pick "$n")" "$bytes"
done
rm -f /tmp/bench-page.$$
