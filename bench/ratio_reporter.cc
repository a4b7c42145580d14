// Copyright memlog authors.

#include "bench/ratio_reporter.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"

namespace memlog_bench {
namespace {

// Prints every run as the console reporter does and keeps each benchmark's
// counters (with repetitions, the per-repetition values) for the table.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter(std::vector<Row> rows, OutputOptions options)
      : ConsoleReporter(options), rows_(std::move(rows)) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      // With repetitions, the median aggregate if it is reported, else the
      // median of the repetitions (see Value()).
      auto& values =
          run.run_type == Run::RT_Iteration ? values_[run.run_name.str()]
          : run.aggregate_name == "median"  ? medians_[run.run_name.str()]
                                            : ignored_;
      for (const auto& [name, counter] : run.counters) {
        values[name].push_back(counter.value);
      }
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    PrintTable();
  }

 private:
  // The median over repetitions of `metric` of `benchmark`, or NaN.
  double Value(const std::string& benchmark, const std::string& metric) const {
    auto found = medians_.find(benchmark);
    if (found == medians_.end()) found = values_.find(benchmark);
    if (found == values_.end()) return NAN;
    const auto counter = found->second.find(metric);
    if (counter == found->second.end()) return NAN;
    std::vector<double> values = counter->second;
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  }

  static std::string Format(double value, Unit unit) {
    if (std::isnan(value)) return "not run";
    char text[64];
    switch (unit) {
      case Unit::kRate:
        if (value >= 1e9) {
          std::snprintf(text, sizeof(text), "%.2f G/s", value / 1e9);
        } else if (value >= 1e6) {
          std::snprintf(text, sizeof(text), "%.2f M/s", value / 1e6);
        } else if (value >= 1e3) {
          std::snprintf(text, sizeof(text), "%.2f k/s", value / 1e3);
        } else {
          std::snprintf(text, sizeof(text), "%.1f /s", value);
        }
        break;
      case Unit::kMicros:
        std::snprintf(text, sizeof(text), "%.1f us", value);
        break;
      case Unit::kBytes:
        std::snprintf(text, sizeof(text), "%.1f B", value);
        break;
      case Unit::kMicrosPerSecond:
        std::snprintf(text, sizeof(text), "%.1f us/s", value);
        break;
      case Unit::kRatio:
        std::snprintf(text, sizeof(text), "%.2fx", value);
        break;
    }
    return text;
  }

  static std::string FormatRatio(double ratio) {
    if (std::isnan(ratio)) return "-";
    if (std::isinf(ratio) || ratio >= 1e4) return ">10000x";
    char text[32];
    std::snprintf(text, sizeof(text), ratio >= 100 ? "%.0fx" : "%.2fx", ratio);
    return text;
  }

  static std::string FormatTarget(const Row& row) {
    if (row.target == 0) return "-";
    char text[64];
    switch (row.kind) {
      case RowKind::kSpeedup:
        std::snprintf(text, sizeof(text), ">= %gx", row.target);
        return text;
      case RowKind::kFloorGap:
        std::snprintf(text, sizeof(text), "<= %gx floor", row.target);
        return text;
      case RowKind::kBelow:
        return (row.unit == Unit::kBytes ? "<= " : "< ") +
               Format(row.target, row.unit);
    }
    return "-";
  }

  void PrintTable() const {
    struct Line {
      std::string cells[6];
    };
    std::vector<Line> lines;
    lines.push_back({{"case", "ours", "reference", "ratio", "target", ""}});
    int met = 0, missed = 0;
    for (const Row& row : rows_) {
      const double ours = Value(row.ours, row.metric);
      const double reference =
          row.reference.empty() ? NAN : Value(row.reference, row.metric);
      double ratio = NAN;
      if (row.kind == RowKind::kFloorGap) {
        ratio = reference / ours;
      } else {
        ratio = row.lower_is_better ? reference / ours : ours / reference;
      }
      std::string verdict;
      if (row.target != 0 && !std::isnan(ours)) {
        bool ok = false;
        switch (row.kind) {
          case RowKind::kSpeedup:
            ok = ratio >= row.target;
            break;
          case RowKind::kFloorGap:
            ok = ratio <= row.target;
            break;
          case RowKind::kBelow:
            ok = row.unit == Unit::kBytes ? ours <= row.target
                                          : ours < row.target;
            break;
        }
        verdict = ok ? "met" : "MISSED";
        (ok ? met : missed)++;
      }
      lines.push_back(
          {{row.title, Format(ours, row.unit),
            row.reference.empty() ? "-"
                                  : Format(reference, row.unit) + " (" +
                                        row.reference_label + ")",
            FormatRatio(ratio), FormatTarget(row), verdict}});
    }
    size_t widths[6] = {};
    for (const Line& line : lines) {
      for (int i = 0; i < 6; ++i) {
        widths[i] = std::max(widths[i], line.cells[i].size());
      }
    }
    std::string out =
        "\nRatios (this run; ratio = how many times better ours is than the "
        "reference,\nexcept \"floor\" rows: how many times the floor's time "
        "ours takes)\n\n";
    for (size_t l = 0; l < lines.size(); ++l) {
      out += "|";
      for (int i = 0; i < 6; ++i) {
        std::string cell = lines[l].cells[i];
        cell.resize(widths[i], ' ');
        out += " " + cell + " |";
      }
      out += "\n";
      if (l == 0) {
        out += "|";
        for (int i = 0; i < 6; ++i) {
          out += (i == 0 ? ":" : "-") + std::string(widths[i], '-') +
                 (i == 0 ? "-" : ":") + "|";
        }
        out += "\n";
      }
    }
    char summary[96];
    std::snprintf(summary, sizeof(summary), "\ntargets: %d met, %d missed\n",
                  met, missed);
    out += summary;
    std::fputs(out.c_str(), stdout);
    std::fflush(stdout);
  }

  const std::vector<Row> rows_;
  using Counters = std::map<std::string, std::vector<double>>;
  // benchmark name -> counter name -> values (one per repetition).
  std::map<std::string, Counters> values_;
  // benchmark name -> counter name -> {median aggregate}.
  std::map<std::string, Counters> medians_;
  Counters ignored_;
};

}  // namespace

int RunWithRatios(int argc, char** argv, std::vector<Row> rows) {
  // glibc and libstdc++ skip atomic operations in mutexes and malloc while a
  // process has only ever had one thread. A program that uses a concurrent
  // log has more, so make this process multi-threaded for good before
  // measuring anything: otherwise the single-threaded benchmarks would time
  // locks that cost a third of what they cost in real use.
  std::thread([] {}).join();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter(std::move(rows),
                         isatty(STDOUT_FILENO)
                             ? benchmark::ConsoleReporter::OO_ColorTabular
                             : benchmark::ConsoleReporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

}  // namespace memlog_bench
