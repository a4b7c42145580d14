#!/usr/bin/env bash
# The static checks of the Bazel build, for both modes (CI runs this):
# - buildifier in check mode: every Starlark file is formatted as buildifier
#   formats it (fix with `tools/buildifier.sh -mode=fix <files>`);
# - buildifier's linter, with its default warnings: any finding fails (among
#   them a rule used without loading it, as Bazel 9 requires);
# - tools/check_deps.py: MODULE.bazel and memlog_dependencies() both declare
#   every repository a BUILD file uses, with the versions the comments say;
# - buildifier again over the README's Starlark blocks.
# No Bazel that reads MODULE.bazel runs here, so these stand in for a Bzlmod
# build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=tools/install_packages.sh
source tools/install_packages.sh
memlog_require_commands git python3

# Every Starlark file of the repository, the consumer workspace's too,
# tracked or new (ignored ones excepted).
mapfile -t files < <(git ls-files --cached --others --exclude-standard |
  grep -E '(^|/)(BUILD|BUILD\.bazel|WORKSPACE|WORKSPACE\.bazel|WORKSPACE\.bzlmod|MODULE\.bazel)$|\.(bzl|BUILD)$' |
  while read -r file; do [[ -f "${file}" ]] && echo "${file}"; done)

echo "buildifier: ${#files[@]} files"
tools/buildifier.sh -mode=check -lint=warn "${files[@]}"
echo "buildifier: formatted, no lint findings"
python3 tools/check_deps.py

# The README's Starlark blocks are what users copy: each must be formatted
# and lint-free too, as the file it belongs in (MODULE.bazel for bazel_dep
# and overrides, WORKSPACE for repositories, else BUILD).
snippets="$(mktemp -d)"
trap 'rm -rf "${snippets}"' EXIT
python3 - "${snippets}" <<'PYTHON'
import pathlib
import re
import sys

out = pathlib.Path(sys.argv[1])
text = pathlib.Path("README.md").read_text()
for number, block in enumerate(re.findall(r"```python\n(.*?)```", text, re.S)):
    if re.search(r"\b(bazel_dep|\w+_override)\(", block):
        name = "MODULE.bazel"
    elif re.search(r"\b(local_repository|http_archive|memlog_dependencies)\(",
                   block):
        name = "WORKSPACE"
    else:
        name = "BUILD"
    folder = out / f"block{number:02d}"
    folder.mkdir()
    (folder / name).write_text(block)
PYTHON
mapfile -t blocks < <(find "${snippets}" -type f | sort)
tools/buildifier.sh -mode=check -lint=warn "${blocks[@]}"
echo "buildifier: the README's ${#blocks[@]} Starlark blocks are formatted, no lint findings"
