#!/usr/bin/env bash
# Installs Debian's chromium for the dashboard's browser test (test/dev/dashboard.test.ts), which
# drives it with playwright-core. .ci/run calls this; a developer may run it too (needs root or sudo).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "chromium already installed: $(command -v chromium)"
  exit 0
fi
SUDO=""
[ "$(id -u)" != 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
command -v chromium
