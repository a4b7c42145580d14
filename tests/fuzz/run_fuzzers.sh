#!/usr/bin/env bash
# Fuzzes each libFuzzer target for a bounded time (CI runs this; so can you).
#
# Builds the targets with clang (--config=fuzz: libFuzzer, ASan, UBSan) in an
# output base of their own, so that the gcc build cache is kept, then runs
# each one for FUZZ_SECONDS (default 60) starting from a writable copy of its
# checked-in seed corpus; the repository is never modified. A difference from
# the model or a sanitizer report fails the script and prints the input that
# caused it, as hex, with the command that replays it.
#
#   tests/fuzz/run_fuzzers.sh                 # every fuzzer, 60 s each
#   FUZZ_SECONDS=10 tests/fuzz/run_fuzzers.sh log_fuzzer
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

readonly FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
readonly OUTPUT_BASE="${FUZZ_OUTPUT_BASE:-${HOME:-/tmp}/.cache/bazel_fuzz}"
if (($# > 0)); then
  FUZZERS=("$@")
else
  FUZZERS=(log_fuzzer sharded_fuzzer)
fi

bazel_fuzz() {
  ./bazelw --output_base="${OUTPUT_BASE}" "$1" --config=fuzz "${@:2}"
}

targets=()
for name in "${FUZZERS[@]}"; do targets+=("//tests/fuzz:${name}"); done
# No convenience symlinks: bazel-bin & co. keep pointing at the gcc build.
bazel_fuzz build --symlink_prefix=/ "${targets[@]}"
bin_dir="$(bazel_fuzz info bazel-bin 2>/dev/null)"

work="$(mktemp -d "${TMPDIR:-/tmp}/memlog_fuzz.XXXXXX")"
trap 'rm -rf "${work}"' EXIT

status=0
for name in "${FUZZERS[@]}"; do
  printf '\n--- fuzzing %s for %ss\n' "${name}" "${FUZZ_SECONDS}"
  mkdir -p "${work}/${name}/corpus" "${work}/${name}/artifacts"
  cp -R "tests/fuzz/corpus/${name}/." "${work}/${name}/corpus/"
  if ! "${bin_dir}/tests/fuzz/${name}" \
      -max_total_time="${FUZZ_SECONDS}" \
      -timeout=20 \
      -rss_limit_mb=4096 \
      -print_final_stats=1 \
      -artifact_prefix="${work}/${name}/artifacts/" \
      "${work}/${name}/corpus" 2>"${work}/${name}/log"; then
    status=1
    tail -n 60 "${work}/${name}/log"
    for artifact in "${work}/${name}/artifacts/"*; do
      [[ -f "${artifact}" ]] || continue
      printf '\nfailing input %s (hex):\n' "$(basename "${artifact}")"
      od -An -v -tx1 "${artifact}"
      printf 'replay: save it as tests/fuzz/corpus/%s/<name> and run\n' "${name}"
      printf '  ./bazelw test //tests/fuzz:%s_corpus_test\n' "${name}"
    done
  else
    grep -E '^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' \
      "${work}/${name}/log" || true
    printf '%s: %s inputs in the corpus after fuzzing\n' "${name}" \
      "$(find "${work}/${name}/corpus" -type f | wc -l)"
  fi
done
exit "${status}"
