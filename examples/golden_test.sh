#!/usr/bin/env bash
# Runs an example and compares what it prints with its golden file.
# Usage: golden_test.sh <example binary> <golden file>
set -euo pipefail

readonly binary="$1"
readonly golden="$2"

actual="$(mktemp)"
trap 'rm -f "${actual}"' EXIT
"${binary}" > "${actual}"
if ! diff -u "${golden}" "${actual}"; then
  echo "FAIL: ${binary} printed something else than ${golden} (diff above)" >&2
  exit 1
fi
