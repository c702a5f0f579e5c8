#!/usr/bin/env bash
# Build the images the compose file runs, on a host that cannot pull from a registry:
#   ctdata-base:bookworm     Debian 12 from `debootstrap --variant=minbase` + `docker import`
#                            (built once, then reused by tag)
#   ctdata-postgres:15       deploy/images/postgres on that base
#   ctdata-redis:7           deploy/images/redis on that base
#   ctdata-airflow:latest    the Dockerfile on that base
# (Docker's layer cache makes the last three quick when nothing changed.)
# Usage: scripts/build_images.sh [--ca-bundle FILE]
#   --ca-bundle FILE   CA certificates the build must trust (a TLS-inspecting proxy's), copied
#                      to deploy/certs/ for the build and removed afterwards
# Tags can be changed with CTDATA_BASE_IMAGE, POSTGRES_IMAGE, REDIS_IMAGE and CTDATA_IMAGE.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${CTDATA_BASE_IMAGE:-ctdata-base:bookworm}
postgres=${POSTGRES_IMAGE:-ctdata-postgres:15}
redis=${REDIS_IMAGE:-ctdata-redis:7}
image=${CTDATA_IMAGE:-ctdata-airflow:latest}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ca_bundle="" root="" copied=""
if [ "${1:-}" = --ca-bundle ]; then ca_bundle=$2; fi
cleanup() { rm -rf "$root"; if [ -n "$copied" ]; then rm -f "$copied"; fi; }
trap cleanup EXIT
export DOCKER_BUILDKIT=0  # the classic builder: no buildx plugin or frontend image needed

exists() { docker image inspect "$1" >/dev/null 2>&1; }
say() { echo "build_images: $*" >&2; }

if ! exists "$base"; then
  say "$base from debootstrap (minbase bookworm)"
  root=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$root" "$mirror" >&2
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import - "$base" >/dev/null
fi
for pair in "$postgres:deploy/images/postgres" "$redis:deploy/images/redis"; do
  tag=${pair%:deploy/*} context=deploy/${pair#*:deploy/}
  say "$tag from $context"
  docker build --network host --build-arg BASE_IMAGE="$base" -t "$tag" "$context" >&2
done

if [ -n "$ca_bundle" ]; then
  copied=deploy/certs/build-ca-bundle.crt
  cp "$ca_bundle" "$copied"
fi
say "$image from the Dockerfile"
docker build --network host --build-arg BASE_IMAGE="$base" -t "$image" . >&2
echo "$image"
