#!/usr/bin/env bash
# Runs buildifier, the Starlark formatter and linter, with the arguments
# given. The version is pinned, with its checksum, in
# tools/buildifier/package-lock.json (the npm package @bazel/buildifier, which
# ships the Linux binary); the first run installs it with `npm ci` into a
# cache folder outside the work tree, and installs npm itself if it is
# missing. To move to another version, change tools/buildifier/package.json
# and run `npm install --package-lock-only` there.
#
#   tools/buildifier.sh --version
#   tools/buildifier.sh -mode=fix BUILD
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/install_packages.sh
source "${here}/install_packages.sh"

readonly LOCK="${here}/buildifier/package-lock.json"
version="$(sed -n 's/^ *"@bazel\/buildifier": "\(.*\)"$/\1/p' \
  "${here}/buildifier/package.json")"
readonly version
readonly prefix="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/memlog/buildifier-${version}"
readonly binary="${prefix}/node_modules/.bin/buildifier"

# Reinstalls when the cached copy is missing or was made from another lock.
if [[ ! -x "${binary}" ]] || ! cmp -s "${LOCK}" "${prefix}/package-lock.json"; then
  memlog_require_commands npm
  mkdir -p "${prefix}"
  cp "${here}/buildifier/package.json" "${LOCK}" "${prefix}/"
  echo "buildifier.sh: installing @bazel/buildifier ${version} ..." >&2
  npm ci --prefix "${prefix}" --no-audit --no-fund --loglevel=error >&2
fi
exec "${binary}" "$@"
