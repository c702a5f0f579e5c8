#!/usr/bin/env bash
# Make sure a Docker daemon answers, for the deployment test. As root, installs Debian's
# docker.io, docker-compose and debootstrap when missing and starts dockerd without a bridge
# network (--bridge=none, no iptables changes): the test runs every container on the host's
# network, so all traffic stays on loopback. Exit 1, with the reason on stderr, when there is
# no daemon and none can be started.
# Usage: scripts/start_dockerd.sh
set -euo pipefail
log_dir=${CTDATA_DOCKERD_DIR:-/tmp/ctdata-dockerd}

if docker info >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "no Docker daemon answers and only root can start one" >&2
  exit 1
fi
missing=""
command -v dockerd >/dev/null || missing="$missing docker.io"
command -v docker-compose >/dev/null || missing="$missing docker-compose"
command -v debootstrap >/dev/null || missing="$missing debootstrap"
if [ -n "$missing" ]; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing; } >&2
fi

mkdir -p "$log_dir"
setsid dockerd --bridge=none --iptables=false --ip-masq=false --ip6tables=false \
  >"$log_dir/dockerd.log" 2>&1 < /dev/null &
for _ in $(seq 60); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 0.5
done
echo "dockerd did not start; the end of its log ($log_dir/dockerd.log):" >&2
tail -n 20 "$log_dir/dockerd.log" >&2
exit 1
