#!/usr/bin/env bash
# Runs browser_test.py (headless Chromium against examples/http_server),
# bounded in time whatever the browser does.
set -euo pipefail
exec timeout --kill-after=10 120 python3 "$1" "$2"
