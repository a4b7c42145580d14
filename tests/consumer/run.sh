#!/usr/bin/env bash
# Builds and tests this consumer workspace the way a user's project would:
# memlog comes in through local_repository plus memlog_dependencies(), and only
# its public targets and headers are used. CI calls it from a clean clone.
#
# Usage: tests/consumer/run.sh [bazel startup flags, e.g. --output_base=DIR]
#
# This is a workspace of its own, so Bazel gives it its own output base and
# server; it never competes with the main workspace's.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# The main repository's wrapper installs the Debian packages the build needs.
readonly BAZEL=(../../bazelw "$@")

run() {
  printf '\n=== (in tests/consumer) %s\n' "$*"
  "$@"
}

run "${BAZEL[@]}" test //...
run "${BAZEL[@]}" run //:program
