#!/usr/bin/env bash
# Uses memlog the three ways a non-Bazel project does, as CI does on a clean
# clone, each with the program and test of tests/consumer/:
#
# 1. find_package: memlog is configured, built and installed into a
#    temporary prefix, and this project finds it there
#    (find_package(memlog CONFIG REQUIRED), target_link_libraries(...
#    memlog::sharded)); ctest runs the test, then the program runs;
# 2. add_subdirectory: the same project, with memlog added from this
#    checkout instead;
# 3. pkg-config: the program compiled by hand with g++ and
#    `pkg-config --cflags --libs memlog` against the install of 1.
#
# The three programs must print the same lines. Installs the Debian packages
# it needs first. Usage: tests/consumer_cmake/run.sh [work folder] (default:
# a temporary folder, removed at the end).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../.." && pwd)"

# shellcheck source=tools/install_packages.sh
source "${root}/tools/install_packages.sh"
memlog_require_packages cmake pkg-config g++ libabsl-dev libxxhash-dev \
  libgtest-dev libgmock-dev

if (($# > 0)); then
  work="$1"
  rm -rf "${work}"
  mkdir -p "${work}"
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/memlog_consumer_cmake.XXXXXX")"
  trap 'rm -rf "${work}"' EXIT
fi
readonly prefix="${work}/prefix"
readonly jobs="${MEMLOG_JOBS:-2}"

run() {
  printf '\n=== (in tests/consumer_cmake) %s\n' "$*"
  "$@"
}

# Runs a program built here, keeping what it prints in <program>.out.
run_program() {
  printf '\n=== (in tests/consumer_cmake) %s\n' "$1"
  "$1" >"$1.out"
  cat "$1.out"
}

# 1. Install memlog (the libraries only), then build against the install.
run cmake -S "${root}" -B "${work}/memlog" -DCMAKE_BUILD_TYPE=Release \
  -DMEMLOG_BUILD_TESTS=OFF -DMEMLOG_BUILD_EXAMPLES=OFF
run cmake --build "${work}/memlog" -j "${jobs}"
run cmake --install "${work}/memlog" --prefix "${prefix}"

run cmake -S "${here}" -B "${work}/find_package" \
  -DCMAKE_PREFIX_PATH="${prefix}"
run cmake --build "${work}/find_package" -j "${jobs}"
run ctest --test-dir "${work}/find_package" --output-on-failure
run_program "${work}/find_package/program"

# 2. The same project with memlog from the checkout.
run cmake -S "${here}" -B "${work}/add_subdirectory" \
  -DMEMLOG_SOURCE_DIR="${root}"
run cmake --build "${work}/add_subdirectory" -j "${jobs}"
run ctest --test-dir "${work}/add_subdirectory" --output-on-failure
run_program "${work}/add_subdirectory/program"

# 3. pkg-config, with the flags a user would write.
export PKG_CONFIG_PATH="${prefix}/lib/pkgconfig${PKG_CONFIG_PATH:+:${PKG_CONFIG_PATH}}"
read -r -a flags <<<"$(pkg-config --cflags --libs memlog)"
run g++ -std=c++20 -Wall -Wextra -Wpedantic -Werror \
  "${root}/tests/consumer/program.cc" -o "${work}/pkg_config_program" \
  "${flags[@]}"
run_program "${work}/pkg_config_program"

diff -u "${work}/find_package/program.out" "${work}/add_subdirectory/program.out"
diff -u "${work}/find_package/program.out" "${work}/pkg_config_program.out"
echo
echo "consumer_cmake: find_package, add_subdirectory and pkg-config builds agree"
