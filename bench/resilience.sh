#!/usr/bin/env bash
# What the app does when its neighbours fail: PostgreSQL stopped under load and started
# again, the mail server down, and a SIGTERM in the middle of requests. Prints what it
# measured; exits non-zero when the app does not hold up. See bench/README.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
PG_PORT=${PG_PORT:-5442}
PORT=${APP_PORT:-18110}
SMTP_PORT=${SMTP_PORT:-2526}
for tool in wrk psql curl python3; do
  command -v $tool >/dev/null || { echo "$tool is missing: run bench/deps.sh" >&2; exit 1; }
done
demo_cluster resilience "$PG_PORT"
# Mail goes to a port where nothing listens yet: the mail server is down.
APP=$(APP_DATA_DIR=$DIR/data app_start "$PORT" "$DIR/app.log" DATABASE_URL="$DB" \
  SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" CLIENTHUB__JOBS__POLL_INTERVAL_MS=100)
PIDS+=("$APP")
BASE=http://127.0.0.1:$PORT
wait_for "$BASE/health"
jar=$DIR/owner.jar
sign_in "$BASE" owner@northwind.example "$jar"
COOKIE=$(cookie_header "$jar")

echo "PostgreSQL stopped under load, then started again"
# A probe: one request after another, each line "seconds-since-start status duration".
T0=$EPOCHREALTIME
probe() {
  local start=$T0
  while [ ! -f "$DIR/stop-probe" ]; do
    local t=$EPOCHREALTIME
    local out
    out=$(curl -s -o /dev/null -m 30 -w '%{http_code} %{time_total}' -b "$jar" "$BASE/dashboard" || echo "000 30")
    echo "$(awk -v a="$t" -v b="$start" 'BEGIN { printf "%.2f", a - b }') $out"
    sleep 0.05
  done
}
probe >"$DIR/probe.txt" &
PROBE=$!
wrk -t2 -c16 -d22s -H "Cookie: $COOKIE" "$BASE/clients" >"$DIR/wrk.txt" 2>&1 &
WRK=$!
sleep 4
t_stop=$EPOCHREALTIME
pg_stop "$DIR/pg" immediate
sleep 2
ready_down=$(curl -s -o /dev/null -m 10 -w '%{http_code} %{time_total}' "$BASE/ready")
page_down=$(curl -s -m 10 -b "$jar" "$BASE/dashboard")
sleep 4
pg_start "$DIR/pg" "$PG_PORT"
t_start=$EPOCHREALTIME
wait "$WRK" || true
touch "$DIR/stop-probe"
wait "$PROBE" || true
ready_up=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/ready")
kill -0 "$APP" || fail "the app died"
# Probe lines while the database was down (status not 200), and the first 200 after.
read -r worst down_codes < <(awk '$2 != 200 { if ($3 > w) w = $3; c[$2]++ } END { s = ""; for (k in c) s = s k "×" c[k] " "; printf "%.2f %s\n", w, s }' "$DIR/probe.txt")
back_after=$(awk -v s="$(awk -v a="$t_start" -v b="$T0" 'BEGIN { print a - b }')" \
  '$1 >= s && $2 == 200 { printf "%.2f", $1 + $3 - s; exit }' "$DIR/probe.txt")
[ "${ready_down%% *}" = 503 ] || fail "/ready said ${ready_down%% *} while PostgreSQL was down"
grep -q "briefly unavailable" <<<"$page_down" || fail "the page shown while down is not the 503 page"
awk -v w="$worst" 'BEGIN { exit !(w < 3) }' || fail "a request hung ${worst}s while PostgreSQL was down"
[ "$ready_up" = 200 ] || fail "/ready did not recover ($ready_up)"
tail -1 "$DIR/probe.txt" | grep -q " 200 " || fail "pages did not come back"
check "while down: /ready answered ${ready_down#* }s with 503; pages got the 503 page (${down_codes% }); slowest answer ${worst}s"
check "PostgreSQL back: pages served again ${back_after}s later, without a restart (the same process, pid $APP)"
check "under load meanwhile: $(awk '/Requests\/sec/ { printf "%s req/s over the run", $2 }' "$DIR/wrk.txt")"

echo "The mail server down, then back"
token=$(csrf_of "$BASE/profile" "$jar")
curl -s -o /dev/null -c "$DIR/anon.jar" -b "$DIR/anon.jar" "$BASE/password/forgot"
anon_token=$(curl -s -c "$DIR/anon.jar" -b "$DIR/anon.jar" "$BASE/password/forgot" |
  sed -n 's/.*<meta name="csrf-token" content="\([^"]*\)".*/\1/p' | head -1)
status=$(post "$BASE/password/forgot" "$DIR/anon.jar" "$anon_token" -d email=admin@northwind.example)
[ "$status" = 303 ] || [ "$status" = 200 ] || fail "asking for a reset link got $status"
for _ in $(seq 50); do [ "$(sql "SELECT count(*) FROM jobs WHERE attempts > 0")" != 0 ] && break; sleep 0.1; done
failing=$(sql "SELECT status || ', attempt ' || attempts || ': ' || left(coalesce(last_error, ''), 60) FROM jobs")
check "with the server down, the reset mail waits: $failing"
# An hour passes: each retry is brought forward as its backoff falls due.
for _ in $(seq 8); do
  sql "UPDATE jobs SET run_at = now() WHERE status = 'pending'" >/dev/null
  before=$(sql "SELECT attempts FROM jobs")
  for _ in $(seq 50); do [ "$(sql "SELECT attempts FROM jobs")" != "$before" ] && break; sleep 0.1; done
done
status_after=$(sql "SELECT status || ' after ' || attempts || ' attempts' FROM jobs")
[[ $status_after == pending* ]] || fail "the mail was given up: $status_after"
python3 -c "
import smtpd, asyncore, sys
class Sink(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kw):
        open('$DIR/received.eml', 'wb').write(data if isinstance(data, bytes) else data.encode())
Sink(('127.0.0.1', $SMTP_PORT), None, decode_data=False)
asyncore.loop()
" 2>/dev/null &
PIDS+=($!)
sleep 0.5
sql "UPDATE jobs SET run_at = now() WHERE status = 'pending'" >/dev/null
for _ in $(seq 100); do [ -s "$DIR/received.eml" ] && break; sleep 0.1; done
grep -qi "^Subject: .*password" "$DIR/received.eml" || fail "the mail did not arrive once the server was back"
check "$status_after (over an hour of backoff), then delivered when the server came back: $(grep -i '^Subject:' "$DIR/received.eml" | tr -d '\r')"

echo "SIGTERM during requests"
head -c 2250000 /dev/urandom | base64 -w 76 >"$DIR/upload.txt"
truncate -s 3000000 "$DIR/upload.txt"
token=$(csrf_of "$BASE/files" "$jar")
# An upload that takes about 3 s (a slow connection), under way when the signal comes.
curl -s -o /dev/null -w '%{http_code}' -b "$jar" -H 'Sec-Fetch-Site: same-origin' --limit-rate 1M \
  -F "csrf_token=$token" -F "file=@$DIR/upload.txt;filename=during-shutdown.txt" "$BASE/files" >"$DIR/upload.status" &
UPLOAD=$!
sleep 1
t_term=$EPOCHREALTIME
kill -TERM "$APP"
sleep 0.3
refused=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$BASE/health" || true)
wait "$UPLOAD" || true
for _ in $(seq 100); do kill -0 "$APP" 2>/dev/null || break; sleep 0.1; done
kill -0 "$APP" 2>/dev/null && fail "the app did not exit after SIGTERM"
exited=$(awk -v a="$EPOCHREALTIME" -v b="$t_term" 'BEGIN { printf "%.1f", a - b }')
[ "$(cat "$DIR/upload.status")" = 303 ] || fail "the upload in flight got $(cat "$DIR/upload.status")"
[ "$(sql "SELECT count(*) FROM files WHERE original_name = 'during-shutdown.txt' AND size_bytes = 3000000")" = 1 ] ||
  fail "the uploaded file is not stored"
[ "$refused" = 000 ] || fail "a new request after SIGTERM got $refused"
running=$(sql "SELECT count(*) FROM jobs WHERE status = 'running'")
[ "$running" = 0 ] || fail "$running job(s) left claimed"
check "an upload in flight (3 MB at 1 MB/s) finished with 303 and was stored; new connections were refused"
check "the process exited ${exited}s after SIGTERM, with no job left claimed"
echo "All checks passed."
