#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the tests that check the stores on PostgreSQL, and print
# its SQLAlchemy URL. Installs Debian's postgresql package when missing (CI runs as root).
# Usage: export CTDATA_TEST_POSTGRES_URL=$(scripts/start_postgres.sh)
set -euo pipefail
port=${CTDATA_TEST_POSTGRES_PORT:-54329}
data=${CTDATA_TEST_POSTGRES_DIR:-/tmp/ctdata-postgres}

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/pg_ctl" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >&2
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  else
    echo "PostgreSQL is not installed and cannot be installed here" >&2
    exit 1
  fi
fi

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if ! as_postgres "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
  rm -rf "$data"
  mkdir -p "$data"
  [ "$(id -u)" = 0 ] && chown postgres "$data"
  as_postgres "$bin/initdb" -D "$data" -A trust -U ctdata >/dev/null
  as_postgres "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-p $port -k $data -c listen_addresses=127.0.0.1" start >/dev/null
  as_postgres "$bin/createdb" -h 127.0.0.1 -p "$port" -U ctdata ctdata_test
fi
echo "postgresql+psycopg://ctdata@127.0.0.1:$port/ctdata_test"
