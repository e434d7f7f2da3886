# Shared by the bench/ scripts: a private PostgreSQL cluster, the release binary, an
# app instance, a signed-in session. Source it; every function is small on purpose.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$ROOT/target/release/clienthub
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

# PostgreSQL refuses to run as root: as root, its commands run as the postgres user.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# pg_start DIR PORT [-c name=value …]: initializes DIR once, then starts the cluster.
pg_start() {
  local dir=$1 port=$2
  shift 2
  if [ ! -f "$dir/PG_VERSION" ]; then
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_pg "$PG_BIN/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  as_pg "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 $*" start >/dev/null
}

pg_stop() { as_pg "$PG_BIN/pg_ctl" -D "$1" -m "${2:-fast}" -w stop >/dev/null 2>&1 || true; }

build_release() { (cd "$ROOT" && cargo build --release --quiet --bin clienthub); }

# app_start PORT LOG [VAR=value …]: one instance in the background; prints its pid.
# Rate limits are lifted (the load comes from one address) unless the caller sets them.
# Starts an instance with its rate limits lifted: a limit refills at most one request per
# millisecond, so it is the burst that lets a benchmark's tens of thousands per second in.
app_start() {
  local port=$1 log=$2
  shift 2
  env DATA_DIR="${APP_DATA_DIR:-$(mktemp -d)}" PORT="$port" APP_URL="http://127.0.0.1:$port" RUST_LOG=warn \
    CLIENTHUB__RATE_LIMIT__READ_PER_SECOND=100000 CLIENTHUB__RATE_LIMIT__READ_BURST=1000000000 \
    CLIENTHUB__RATE_LIMIT__WRITE_PER_SECOND=100000 CLIENTHUB__RATE_LIMIT__WRITE_BURST=1000000000 \
    CLIENTHUB__RATE_LIMIT__AUTH_PER_MINUTE=100000 CLIENTHUB__RATE_LIMIT__AUTH_BURST=100000 \
    "$@" "$BIN" serve >"$log" 2>&1 &
  echo $!
}

wait_for() {
  for _ in $(seq 100); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "no answer from $1" >&2
  return 1
}

# sign_in BASE EMAIL JAR: signs in with the demo password, keeping cookies in JAR.
sign_in() {
  local base=$1 email=$2 jar=$3 csrf status
  csrf=$(curl -s -c "$jar" -b "$jar" "$base/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
  status=$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" --data-urlencode "csrf_token=$csrf" \
    --data-urlencode "email=$email" --data-urlencode "password=${PASSWORD:-clienthub-demo}" "$base/login")
  [ "$status" = 303 ] || { echo "sign-in of $email at $base failed ($status)" >&2; return 1; }
}

# csrf_of URL JAR: the CSRF token of a signed-in page (its csrf-token meta tag).
csrf_of() {
  curl -s -b "$2" -c "$2" "$1" | sed -n 's/.*<meta name="csrf-token" content="\([^"]*\)".*/\1/p' | head -1
}

# post URL JAR TOKEN [curl args…]: a POST as a browser's form would send it; prints the status.
post() {
  local url=$1 jar=$2 token=$3
  shift 3
  curl -s -o /dev/null -w '%{http_code}' -b "$jar" -c "$jar" -H "X-CSRF-Token: $token" \
    -H 'Sec-Fetch-Site: same-origin' "$@" "$url"
}

# A fresh 64-byte key in hex, for instances that must share SECRET_KEY.
new_secret_key() { head -c 64 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

check() { printf '  \342\234\223 %s\n' "$*"; }
fail() { printf '  \342\234\227 %s\n' "$*" >&2; exit 1; }

# The Cookie header of a jar (for wrk).
cookie_header() { awk '!/^#/ || /^#HttpOnly_/ { if (NF >= 7) printf "%s=%s; ", $6, $7 }' "$1" | sed 's/; $//'; }

# demo_cluster NAME PG_PORT: a fresh folder (DIR), a private PostgreSQL in it holding
# the demo agency (SERVER, DB, sql), and cleanup on exit: the processes in PIDS are
# stopped and drained first, then PostgreSQL; KEEP=1 keeps the folder. Sets ON_EXIT
# for a script's own extra step (nginx).
demo_cluster() {
  DIR=$(mktemp -d "/var/tmp/clienthub-$1.XXXXXX")
  chmod 755 "$DIR"
  PIDS=()
  ON_EXIT=${ON_EXIT:-:}
  trap stop_demo_cluster EXIT
  build_release
  pg_start "$DIR/pg" "$2"
  SERVER=postgres://postgres@127.0.0.1:$2
  DB=$SERVER/clienthub
  psql -q "$SERVER/postgres" -c "CREATE DATABASE clienthub"
  DATABASE_URL=$DB DATA_DIR=$DIR/data "$BIN" seed-demo >/dev/null
}
sql() { psql "$DB" -XAtq -c "$1"; }

stop_demo_cluster() {
  $ON_EXIT
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  # Instances drain before they exit; PostgreSQL stays up until they have.
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  pg_stop "$DIR/pg"
  [ -n "${KEEP:-}" ] || rm -rf "$DIR"
}

# Peak resident memory of a process, in MiB.
peak_rss_mib() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
