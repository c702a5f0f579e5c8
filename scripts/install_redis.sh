#!/usr/bin/env bash
# Install Debian's redis-server when it is missing (CI runs as root): the Celery broker of the
# local-process deployment test and bench, which start a Redis of their own on a free port.
# Usage: scripts/install_redis.sh
set -euo pipefail
if command -v redis-server >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; } >&2
else
  echo "redis-server is not installed and cannot be installed here" >&2
  exit 1
fi
