#!/usr/bin/env bash
# Two app instances behind nginx on loopback against one PostgreSQL: checks that
# sessions, CSRF tokens, chat fan-out, the job queue, login throttling and rate limits
# hold across instances, then puts load through nginx. See bench/README.md.
#
#   bench/scale-out.sh            CONNS=32 DURATION=10 by default
set -euo pipefail
source "$(dirname "$0")/lib.sh"
CONNS=${CONNS:-32}
DURATION=${DURATION:-10}
PG_PORT=${PG_PORT:-5441}
A=${A_PORT:-18101}
B=${B_PORT:-18102}
PROXY=${PROXY_PORT:-18100}
for tool in nginx wrk psql curl; do
  command -v $tool >/dev/null || { echo "$tool is missing: run bench/deps.sh" >&2; exit 1; }
done

stop_nginx() { [ ! -f "$DIR/nginx.pid" ] || kill "$(cat "$DIR/nginx.pid")" 2>/dev/null || true; }
ON_EXIT=stop_nginx
demo_cluster scale "$PG_PORT"

# Both instances: one database, one secret key, one data folder (a shared volume in
# production), nginx's address trusted for X-Forwarded-For, links built on nginx's URL.
KEY=$(new_secret_key)
for port in $A $B; do
  PIDS+=("$(APP_DATA_DIR=$DIR/data app_start "$port" "$DIR/app-$port.log" DATABASE_URL="$DB" SECRET_KEY="$KEY" \
    APP_URL="http://127.0.0.1:$PROXY" CLIENTHUB__SERVER__TRUSTED_PROXIES=127.0.0.2 \
    CLIENTHUB__JOBS__POLL_INTERVAL_MS=20)")
done
mkdir -p "$DIR/nginx-tmp"
chmod 777 "$DIR/nginx-tmp"
sed -e "s|@DIR@|$DIR|g" -e "s|@PORT@|$PROXY|g" -e "s|@A@|$A|g" -e "s|@B@|$B|g" \
  "$ROOT/bench/nginx.conf.in" >"$DIR/nginx.conf"
nginx -c "$DIR/nginx.conf" -p "$DIR" -g 'daemon on;' 2>/dev/null
wait_for "http://127.0.0.1:$A/health"
wait_for "http://127.0.0.1:$B/health"
NGINX=http://127.0.0.1:$PROXY
wait_for "$NGINX/health"
upstream() { curl -s -o /dev/null -D - "$@" | tr -d '\r' | sed -n 's/^x-upstream: //Ip'; }

echo "Two instances (:$A, :$B) behind nginx (:$PROXY), one PostgreSQL (:$PG_PORT)"

echo "Sessions"
jar=$DIR/owner.jar
sign_in "$NGINX" owner@northwind.example "$jar"
served=""
for _ in 1 2 3 4 5 6; do
  out=$(curl -s -D - -b "$jar" "$NGINX/dashboard" | tr -d '\r')
  grep -q '^HTTP/1.1 200' <<<"$out" && grep -q 'Olivia Bennett' <<<"$out" || fail "a signed-in page was not served"
  served+=" $(sed -n 's/^x-upstream: //Ip' <<<"$out")"
done
[ "$(tr ' ' '\n' <<<"$served" | sort -u | grep -c .)" = 2 ] || fail "the pages did not come from both instances:$served"
check "one sign-in, six pages, served by both instances:$served"

echo "CSRF"
for _ in 1 2 3; do
  token=$(csrf_of "$NGINX/clients/new" "$jar")
  got_on=$(upstream -b "$jar" "$NGINX/health")
  status=$(post "$NGINX/clients" "$jar" "$token" --data-urlencode "name=Scale Out $RANDOM" -d email=scale@out.example)
  [ "$status" = 303 ] || fail "a form whose token came from another instance was refused ($status)"
done
[ "$(sql "SELECT count(*) FROM clients WHERE name LIKE 'Scale Out %'")" = 3 ] || fail "clients not created"
status=$(post "$NGINX/clients" "$jar" "not-the-token" -d name=Forged)
[ "$status" = 403 ] || fail "a wrong token was accepted ($status)"
check "tokens minted by one instance are accepted by the other (3 clients created); a wrong token gets 403"

echo "Chat fan-out"
token=$(csrf_of "http://127.0.0.1:$A/chat" "$jar")
post "http://127.0.0.1:$A/chat/channels" "$jar" "$token" -d name=scale-out >/dev/null
channel=$(sql "SELECT id FROM chat_channels WHERE name = 'scale-out'")
member=$DIR/member.jar
sign_in "http://127.0.0.1:$B" member@northwind.example "$member"
curl -s -N -b "$jar" "http://127.0.0.1:$A/chat/channels/$channel/stream" >"$DIR/stream-a.txt" &
PIDS+=($!)
curl -s -N -b "$member" "http://127.0.0.1:$B/chat/channels/$channel/stream" >"$DIR/stream-b.txt" &
PIDS+=($!)
sleep 1
word="fan-out-$RANDOM$RANDOM"
token=$(csrf_of "http://127.0.0.1:$B/chat/channels/$channel" "$member")
[ "$(post "http://127.0.0.1:$B/chat/channels/$channel/messages" "$member" "$token" -d "body=$word")" = 303 ] ||
  fail "posting a message failed"
for _ in $(seq 50); do grep -q "$word" "$DIR/stream-a.txt" && grep -q "$word" "$DIR/stream-b.txt" && break; sleep 0.1; done
grep -q "$word" "$DIR/stream-a.txt" || fail "the stream on the other instance did not get the message"
check "a message posted on :$B reached the streams open on :$A and :$B"

echo "Job queue"
JOBS=${JOBS:-300}
sql "INSERT INTO jobs (id, kind, payload)
     SELECT gen_random_uuid(), 'email', jsonb_build_object('to', 'reader' || g || '@example.com',
            'subject', 'Scale-out mail ' || g, 'text', 'Hello', 'html', '<p>Hello</p>')
     FROM generate_series(1, $JOBS) g" >/dev/null
for _ in $(seq 300); do
  [ "$(sql "SELECT count(*) FROM jobs WHERE status <> 'done'")" = 0 ] && break
  sleep 0.1
done
done_jobs=$(sql "SELECT count(*) FROM jobs WHERE status = 'done' AND attempts = 1")
workers=$(sql "SELECT count(DISTINCT locked_by) FROM jobs WHERE status = 'done'")
files=$(grep -l "Scale-out mail" "$DIR"/data/mail/* 2>/dev/null | wc -l)
distinct=$(grep -h "^Subject: Scale-out mail" "$DIR"/data/mail/* 2>/dev/null | sort -u | wc -l)
[ "$files" = "$JOBS" ] && [ "$distinct" = "$JOBS" ] || fail "$files mails written for $JOBS jobs ($distinct distinct)"
[ "$workers" = 2 ] || fail "only $workers worker(s) took jobs"
check "$JOBS mail jobs: $done_jobs done at the first attempt by $workers workers, $files mails written, none twice"

echo "Login throttling and the client's address"
# attempt PASSWORD [curl args…]: one sign-in as the member through nginx; prints "status upstream".
attempt() {
  local token
  token=$(curl -s -c "$DIR/guess.jar" -b "$DIR/guess.jar" "$NGINX/login" |
    sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
  curl -s -o /dev/null -w '%{http_code} %header{x-upstream}\n' -b "$DIR/guess.jar" -c "$DIR/guess.jar" \
    -H 'Sec-Fetch-Site: same-origin' --data-urlencode "csrf_token=$token" -d email=member@northwind.example \
    --data-urlencode "password=$1" "${@:2}" "$NGINX/login"
}
served=""
for n in $(seq 10); do
  # Each attempt is two requests (the form, the post): shift nginx's rotation every
  # other time so that the posts go to both instances.
  [ $((n % 2)) = 0 ] && curl -s -o /dev/null "$NGINX/health"
  read -r status on < <(attempt "guess$n" -H 'X-Forwarded-For: 198.51.100.77')
  [ "$status" = 400 ] || fail "failed attempt $n got $status"
  served+=" $on"
done
[ "$(tr ' ' '\n' <<<"$served" | sort -u | grep -c .)" = 2 ] || fail "the attempts did not reach both instances"
read -r status on < <(attempt clienthub-demo)
[ "$status" = 429 ] || fail "the right password after 10 failures on two instances got $status, not 429"
ips=$(sql "SELECT string_agg(DISTINCT ip, ',') FROM login_failures")
[ "$ips" = 127.0.0.1 ] || fail "failures were counted against $ips, not the client's address 127.0.0.1"
check "10 failed sign-ins spread over both instances lock the account on both (429), counted in PostgreSQL"
check "the address counted is the client's (127.0.0.1, from nginx), not nginx's own nor the forged 198.51.100.77"

echo "Rate limit across instances (nginx, per client address)"
codes=$(seq 400 | xargs -P 16 -I{} curl -s -o /dev/null -w '%{http_code}\n' --interface 127.0.0.3 "$NGINX/login" | sort | uniq -c | tr -s ' ' | tr '\n' ',')
grep -q " 429" <<<"$codes" || fail "400 quick requests from 127.0.0.3 were all served: $codes"
check "400 quick requests from one address (127.0.0.3) through nginx: ${codes%,} (status counts)"

echo "Load through nginx ($CONNS connections, ${DURATION}s per run)"
COOKIE=$(cookie_header "$jar")
run_wrk() {
  wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -H "Cookie: $COOKIE" "$1" |
    awk '/Requests\/sec/ { rps = $2 } $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 } /Non-2xx/ { bad = $NF }
         END { printf "%.0f req/s, p50 %s, p99 %s%s", rps, p50, p99, bad ? ", " bad " non-2xx" : "" }'
}
echo "  /clients through nginx (both instances): $(run_wrk "$NGINX/clients")"
echo "  /clients on one instance directly:       $(run_wrk "http://127.0.0.1:$A/clients")"
echo "  /health through nginx:                   $(run_wrk "$NGINX/health")"
echo "All checks passed."
