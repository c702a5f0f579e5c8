#!/usr/bin/env bash
# Start a throwaway Redis (Debian's redis-server) on loopback for the deployment tests and the
# Celery bench, and print its URL. Installs redis-server when missing (CI runs as root).
# Usage: export CTDATA_TEST_REDIS_URL=$(scripts/start_redis.sh)
set -euo pipefail
port=${CTDATA_TEST_REDIS_PORT:-63799}
dir=${CTDATA_TEST_REDIS_DIR:-/tmp/ctdata-redis}

if ! command -v redis-server >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; } >&2
  else
    echo "redis-server is not installed and cannot be installed here" >&2
    exit 1
  fi
fi

if ! redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then
  mkdir -p "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
    --dir "$dir" --logfile "$dir/redis.log" --pidfile "$dir/redis.pid" >&2
  for _ in $(seq 50); do
    redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
echo "redis://127.0.0.1:$port/0"
