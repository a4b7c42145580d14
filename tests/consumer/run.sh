#!/usr/bin/env bash
# Builds and tests this consumer workspace the way a user's project would:
# memlog comes in through local_repository plus memlog_dependencies(), and only
# its public targets and headers are used; then the same consumer with memlog
# from a release archive (http_archive). CI calls it from a clean clone.
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

# The same consumer with memlog from a release archive instead, declared with
# the http_archive block that tools/release.sh prints for the release notes
# (a file:// URL here), in a copy of this workspace outside the repository.
# It has a Bazel server of its own, stopped at the end.
readonly archive_workspace="${TMPDIR:-/tmp}/memlog_consumer_archive"
rm -rf "${archive_workspace}"
mkdir -p "${archive_workspace}/release"
cp BUILD .bazelrc program.cc consumer_test.cc "${archive_workspace}/"
../../tools/release.sh "${archive_workspace}/release" \
  >"${archive_workspace}/release/notes"
{
  echo 'workspace(name = "memlog_consumer")'
  echo
  # The lines between "# WORKSPACE" and the blank line before the next block.
  awk '/^# / { block = $0; next } block == "# WORKSPACE" { print }' \
    "${archive_workspace}/release/notes" | sed '$d'
} >"${archive_workspace}/WORKSPACE"
readonly ARCHIVE_BAZEL=("$(pwd)/../../bazelw")
readonly BUILDIFIER=("$(pwd)/../../tools/buildifier.sh")
(
  cd "${archive_workspace}"
  run cat WORKSPACE
  # What users copy is formatted and lint-free as buildifier wants it.
  run "${BUILDIFIER[@]}" -mode=check -lint=warn WORKSPACE
  run "${ARCHIVE_BAZEL[@]}" test //...
  run "${ARCHIVE_BAZEL[@]}" run //:program
  "${ARCHIVE_BAZEL[@]}" shutdown
)
