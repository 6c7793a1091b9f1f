#!/usr/bin/env bash
# Installs Debian's Chromium for the report's browser tests when it is missing
# (with sudo when not root). Playwright drives this system browser at /usr/bin/chromium,
# the path the tests and the benchmark use; it never downloads one of its own.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium not found and apt-get unavailable: the browser tests will be skipped" >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
