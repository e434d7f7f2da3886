#!/usr/bin/env bash
# Makes sure what `make test` needs is on this machine: PostgreSQL listening on
# 127.0.0.1:5432, libpq headers, Chromium and chromedriver, poppler-utils. Installs missing
# Debian packages when run as root; starts PostgreSQL if it is installed but stopped.
set -euo pipefail

as_root() { [ "$(id -u)" = 0 ]; }
apt_updated=
apt_install() {
  if ! as_root; then
    echo "missing: $* — install these packages (as root: apt-get install $*)" >&2
    exit 1
  fi
  if [ -z "$apt_updated" ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

missing=()
dpkg -s libpq-dev >/dev/null 2>&1 || missing+=(libpq-dev)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
# pdftotext reads the PDFs back in tests; pdftoppm turns them into pictures to look at.
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt_install "${missing[@]}"
fi

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ! pg_up; then
  if as_root && command -v pg_ctlcluster >/dev/null 2>&1; then
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$version" ]; then
      version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
      pg_createcluster "$version" main >/dev/null
    fi
    echo "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    # The tests connect over TCP as postgres with the password 'postgres'
    # (a trust-auth server ignores it). Set it on a server we started ourselves.
    runuser -u postgres -- psql -q -c "ALTER USER postgres PASSWORD 'postgres'" >/dev/null
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { echo "PostgreSQL is not reachable on 127.0.0.1:5432 (set TEST_DATABASE_URL to use another server)" >&2; exit 1; }
fi
