#!/usr/bin/env bash
# Makes a release archive and prints what its release notes give users: the
# archive's name, its SHA-256 (hex, for http_archive) and its integrity
# (Subresource Integrity, for archive_override and the registry), and the
# WORKSPACE and MODULE.bazel blocks that use it.
#
#   tools/release.sh [out folder] [url]   # default: ., and the file's own URL
#
# The archive is `git archive` of the tag v<version> when it exists, else of
# HEAD (committed files only), under the single top folder memlog-<version>;
# <version> is MODULE.bazel's (tools/check_deps.py holds CMake's to it).
# tests/consumer/run.sh builds the consumer from such an archive, with the
# printed http_archive block.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# shellcheck source=tools/install_packages.sh
source "${root}/tools/install_packages.sh"
memlog_require_commands git python3

out="$(mkdir -p "${1:-.}" && cd "${1:-.}" && pwd)"
version="$(sed -n 's/^    version = "\(.*\)",$/\1/p' "${root}/MODULE.bazel" | head -n 1)"
readonly out version
readonly name="memlog-${version}"
readonly archive="${out}/${name}.tar.gz"
readonly url="${2:-file://${archive}}"

ref=HEAD
if git -C "${root}" rev-parse -q --verify "refs/tags/v${version}" >/dev/null; then
  ref="v${version}"
fi
git -C "${root}" archive --format=tar.gz --prefix="${name}/" \
  -o "${archive}" "${ref}"

sha256="$(sha256sum "${archive}" | cut -d ' ' -f 1)"
integrity="sha256-$(python3 -c 'import base64, sys
print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())' "${sha256}")"

cat <<NOTES
archive:      ${archive} (of ${ref})
strip_prefix: ${name}
sha256:       ${sha256}
integrity:    ${integrity}

# WORKSPACE
load("@bazel_tools//tools/build_defs/repo:http.bzl", "http_archive")

http_archive(
    name = "memlog",
    sha256 = "${sha256}",
    strip_prefix = "${name}",
    urls = ["${url}"],
)

load("@memlog//bazel:repositories.bzl", "memlog_dependencies")

memlog_dependencies()

# MODULE.bazel
bazel_dep(name = "memlog", version = "${version}")
archive_override(
    module_name = "memlog",
    integrity = "${integrity}",
    strip_prefix = "${name}",
    urls = ["${url}"],
)
NOTES
