#!/usr/bin/env bash
# Debian's chromium and chromium-driver for the real-browser tests (tests/ui/test_browser.py).
# Installs them when missing and run as root (as CI is); prints the browser's path on success.
# Playwright's and Selenium Manager's own browser downloads are not used: the system browser is.
set -euo pipefail
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "chromium/chromedriver missing: run as root or apt-get install chromium chromium-driver" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi
command -v chromium
