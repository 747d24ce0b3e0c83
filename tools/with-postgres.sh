#!/usr/bin/env bash
# Runs a command with STOCKWIRE_TEST_PG_URL pointing at a PostgreSQL the tests may use.
# Order: an URL already given; a server on 127.0.0.1:5432 with trust auth (a throwaway database
# is created and dropped); otherwise a private throwaway cluster in a temp dir (installs
# Debian's postgresql when missing). Tests fail loudly if none can be had; they never skip.
set -euo pipefail
if [ -n "${STOCKWIRE_TEST_PG_URL:-}" ]; then exec "$@"; fi

py=${PY:-python3}
db="stockwire_test_$$"
cleanup=()
run_cleanup() { for c in "${cleanup[@]}"; do eval "$c" || true; done; }
trap run_cleanup EXIT

if command -v psql >/dev/null 2>&1 && psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
  psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -qc "create database $db" >/dev/null
  cleanup+=("psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -qc 'drop database if exists $db with (force)' >/dev/null")
  export STOCKWIRE_TEST_PG_URL="postgresql://postgres@127.0.0.1:5432/$db"
else
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$bindir" ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends postgresql
    bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  dir=$(mktemp -d /tmp/stockwire-pg.XXXXXX)
  port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  runas=()
  if [ "$(id -u)" -eq 0 ]; then chown -R nobody "$dir"; runas=(runuser -u nobody --); fi
  "${runas[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -A trust >/dev/null
  "${runas[@]}" "$bindir/pg_ctl" -D "$dir/data" -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" -l "$dir/log" -w start >/dev/null
  cleanup+=("${runas[*]} $bindir/pg_ctl -D $dir/data -m immediate stop >/dev/null; rm -rf $dir")
  "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "create database $db" >/dev/null
  export STOCKWIRE_TEST_PG_URL="postgresql://postgres@127.0.0.1:$port/$db"
fi
"$@"
