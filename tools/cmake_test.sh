#!/usr/bin/env bash
# Configures, builds and tests the CMake build (CI runs this): every library,
# example, test and benchmark, then ctest, which runs every GoogleTest case,
# the examples' golden tests and the fuzzers' corpus replays. Installs the
# Debian packages it needs first.
#
#   tools/cmake_test.sh [build folder]   # default: build/
#
# Extra configure arguments come from CMAKE_ARGS, e.g.
#   CMAKE_ARGS=-DCMAKE_BUILD_TYPE=Release tools/cmake_test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=tools/install_packages.sh
source tools/install_packages.sh
memlog_require_packages cmake pkg-config g++ libabsl-dev libxxhash-dev \
  libgtest-dev libgmock-dev libbenchmark-dev

readonly build="${1:-build}"
readonly jobs="${MEMLOG_JOBS:-2}"
read -r -a extra <<<"${CMAKE_ARGS:-}"

cmake -S . -B "${build}" -DMEMLOG_BUILD_BENCHMARKS=ON "${extra[@]}"
cmake --build "${build}" -j "${jobs}"
# Every test case is a ctest test (several hundred); the lines of those that
# pass are left out, failures print in full, and ctest's summary follows.
ctest --test-dir "${build}" -j "${jobs}" --output-on-failure |
  grep -vE '^ *(Start +[0-9]+: |[0-9]+/[0-9]+ Test +#[0-9]+: .* +Passed +[0-9.]+ sec$)'
