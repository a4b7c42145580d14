// Copyright memlog authors.
//
// The benchmarks' main(): runs the benchmarks selected on the command line,
// prints each result as Google Benchmark does, and then a table of ratios
// between results of the same run, each with its target from issue 5.
//
//   int main(int argc, char** argv) {
//     return memlog_bench::RunWithRatios(argc, argv, {
//         {.title = "Write 100 B", .ours = "BM_Log_Write/bytes:100",
//          .reference = "BM_BaselineLog_Write/bytes:100",
//          .kind = memlog_bench::RowKind::kSpeedup, .target = 5},
//     });
//   }
//
// A row names two benchmarks by their full names (as printed, including
// "/real_time/threads:2") and a metric, a counter both report. A row whose
// benchmarks were filtered out prints "not run". With repetitions, each
// benchmark's median is used.

#ifndef MEMLOG_BENCH_RATIO_REPORTER_H_
#define MEMLOG_BENCH_RATIO_REPORTER_H_

#include <string>
#include <vector>

namespace memlog_bench {

enum class RowKind {
  // ours / reference for a metric where higher is better (a rate), reference
  // / ours for one where lower is better; the target is a minimum ratio.
  kSpeedup,
  // reference (the floor) / ours, both rates: how many times the floor's
  // time ours takes; the target is a maximum.
  kFloorGap,
  // ours's value against an absolute bound (`target`, in `unit`), with the
  // reference shown and the ratio (how many times better ours is) beside it.
  kBelow,
};

enum class Unit { kRate, kMicros, kBytes, kMicrosPerSecond, kRatio };

struct Row {
  std::string title = {};
  std::string ours = {};
  std::string reference = {};  // may be empty (kBelow only)
  std::string metric = "items_per_second";
  RowKind kind = RowKind::kSpeedup;
  Unit unit = Unit::kRate;
  bool lower_is_better = false;
  double target = 0;  // 0: no target, the row is for information
  std::string reference_label = "baseline";
};

// Runs the benchmarks like BENCHMARK_MAIN(), then prints the ratio table.
// Returns the process exit code.
int RunWithRatios(int argc, char** argv, std::vector<Row> rows);

}  // namespace memlog_bench

#endif  // MEMLOG_BENCH_RATIO_REPORTER_H_
