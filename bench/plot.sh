#!/usr/bin/env bash
# Draws the sweep charts of bench/plots/ with bench/plot.py on Debian's
# python3-matplotlib, installing it when missing (the interpreter is
# /usr/bin/python3, which sees Debian's packages whatever python3 is on
# PATH).
#
#   bench/plot.sh --run   # runs //bench:sweep_bench --config=opt, then draws
#   bench/plot.sh         # draws again from bench/plots/sweep.json
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/install_packages.sh
source "${here}/../tools/install_packages.sh"
memlog_require_packages python3-matplotlib
exec /usr/bin/python3 "${here}/plot.py" "$@"
