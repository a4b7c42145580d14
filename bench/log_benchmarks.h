// Copyright memlog authors.
//
// What the benchmarks of memlog::Log in memlog_bench.cc and sweep_bench.cc
// share: the same operations on memlog::Log (OurLog) and on the hand-written
// baseline::Log (BaselineLog), so that each benchmark is written once as a
// template over the two, and the write and read loops both binaries time.
//
//   void BM_Log_Write(benchmark::State& state) {  // range(0): record bytes
//     MeasureWrite<OurLog>(state, /*segment_size=*/1000);
//   }
//   BENCHMARK(BM_Log_Write)->Arg(100);
//
// Every operation checks its result, as a user would; failing to create a
// log aborts the benchmark binary.

#ifndef MEMLOG_BENCH_LOG_BENCHMARKS_H_
#define MEMLOG_BENCH_LOG_BENCHMARKS_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/baseline/floor.h"
#include "bench/baseline/log.h"
#include "benchmark/benchmark.h"
#include "memlog/log.h"

namespace memlog_bench {

// `size` bytes cycling through 'a' to 'z'.
inline std::string Payload(int64_t size) {
  std::string payload(static_cast<size_t>(size), '\0');
  for (size_t i = 0; i < payload.size(); ++i) {
    payload[i] = static_cast<char>('a' + i % 26);
  }
  return payload;
}

inline int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Sets the counters p50_us, p99_us and max_us from write-to-delivery
// latencies in nanoseconds (reordering them).
inline void SetLatencyCounters(benchmark::State& state,
                               std::vector<int64_t>& latencies) {
  if (latencies.empty()) return;
  std::sort(latencies.begin(), latencies.end());
  const auto micros = [&](double quantile) {
    const size_t index = std::min(
        latencies.size() - 1, static_cast<size_t>(quantile * latencies.size()));
    return static_cast<double>(latencies[index]) / 1e3;
  };
  state.counters["p50_us"] = micros(0.50);
  state.counters["p99_us"] = micros(0.99);
  state.counters["max_us"] = static_cast<double>(latencies.back()) / 1e3;
}

struct OurLog {
  using LogType = memlog::Log;
  using StreamType = memlog::Stream;

  static std::unique_ptr<memlog::Log> New(
      int64_t segment_size, absl::Duration wait_spin = absl::ZeroDuration()) {
    memlog::Options options;
    options.segment_size = segment_size;
    options.wait_spin = wait_spin;
    absl::StatusOr<std::unique_ptr<memlog::Log>> log =
        memlog::Log::Create(std::move(options));
    if (!log.ok()) {
      std::fprintf(stderr, "%s\n", log.status().ToString().c_str());
      std::abort();
    }
    return *std::move(log);
  }
  static bool Write(memlog::Log& log, std::string_view data) {
    absl::StatusOr<memlog::Offset> offset = log.Write(data);
    benchmark::DoNotOptimize(offset);
    return offset.ok();
  }
  static bool Read(const memlog::Log& log, int64_t offset) {
    absl::StatusOr<memlog::Record> record = log.Read(offset);
    benchmark::DoNotOptimize(record);
    return record.ok();
  }
  static int64_t Latest(const memlog::Log& log) { return log.Range().latest; }
  static memlog::Stream StreamFrom(const memlog::Log& log, int64_t start,
                                   std::stop_token stop = {}) {
    absl::StatusOr<memlog::Stream> stream =
        log.StreamFrom(start, std::move(stop));
    if (!stream.ok()) {
      std::fprintf(stderr, "%s\n", stream.status().ToString().c_str());
      std::abort();
    }
    return *std::move(stream);
  }
  // Returns the first 8 bytes of the next record, or -1 when the stream ends.
  static int64_t NextStamp(memlog::Stream& stream) {
    absl::StatusOr<memlog::RecordView> record = stream.Next();
    if (!record.ok()) return -1;
    int64_t stamp;
    std::memcpy(&stamp, record->data().data(), sizeof(stamp));
    return stamp;
  }
};

struct BaselineLog {
  using LogType = baseline::Log;
  using StreamType = baseline::Log::Stream;

  static std::unique_ptr<baseline::Log> New(int64_t segment_size) {
    return std::make_unique<baseline::Log>(segment_size);
  }
  static bool Write(baseline::Log& log, std::string_view data) {
    int64_t offset = log.Write(data);
    benchmark::DoNotOptimize(offset);
    return offset >= 0;
  }
  static bool Read(const baseline::Log& log, int64_t offset) {
    baseline::ReadResult result = log.Read(offset);
    benchmark::DoNotOptimize(result);
    return result.status == baseline::Status::kOk;
  }
  static int64_t Latest(const baseline::Log& log) { return log.Range().latest; }
  static baseline::Log::Stream StreamFrom(const baseline::Log& log,
                                          int64_t start,
                                          std::stop_token stop = {}) {
    return log.StreamFrom(start, std::move(stop));
  }
  static int64_t NextStamp(baseline::Log::Stream& stream) {
    baseline::ReadResult result = stream.Next();
    if (result.status != baseline::Status::kOk) return -1;
    int64_t stamp;
    std::memcpy(&stamp, result.record.data.data(), sizeof(stamp));
    return stamp;
  }
};

template <typename Impl>
bool Fill(typename Impl::LogType& log, std::string_view payload, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (!Impl::Write(log, payload)) return false;
  }
  return true;
}

inline void SetThroughput(benchmark::State& state, int64_t items,
                          int64_t bytes) {
  state.SetItemsProcessed(items);
  state.SetBytesProcessed(bytes);
}

// --- Write: one thread appends state.range(0)-byte records. ---
//
// The log (two segments of `segment_size` records) is filled past its first
// rotation before timing, so the loop measures the steady state: memlog
// reuses the purged segment's storage, the baseline its vectors' capacity.
template <typename Impl>
void MeasureWrite(benchmark::State& state, int64_t segment_size) {
  const std::string payload = Payload(state.range(0));
  auto log = Impl::New(segment_size);
  Fill<Impl>(*log, payload, 2 * segment_size + 1);
  for (auto _ : state) {
    if (!Impl::Write(*log, payload)) {
      state.SkipWithError("write failed");
      break;
    }
  }
  SetThroughput(state, state.iterations(), state.iterations() * state.range(0));
}

// The floor's write into a ring of `records` records of state.range(0) bytes.
inline void MeasureFloorWrite(benchmark::State& state, int64_t records) {
  const std::string payload = Payload(state.range(0));
  baseline::Floor floor(payload.size(), records);
  for (auto _ : state) floor.Write(payload);
  SetThroughput(state, state.iterations(), state.iterations() * state.range(0));
}

// --- Read: one thread reads every retained record in turn. ---
//
// The log holds two full segments of `segment_size` records of
// state.range(0) bytes. Read returns an owning copy; ReadView a view into the
// log's storage (the loop does not touch the payload bytes, as a consumer
// that hands the view to writev() would not).
template <typename Impl>
void MeasureRead(benchmark::State& state, int64_t segment_size) {
  const std::string payload = Payload(state.range(0));
  auto log = Impl::New(segment_size);
  const int64_t retained = 2 * segment_size;
  Fill<Impl>(*log, payload, retained);
  int64_t offset = 0;
  for (auto _ : state) {
    if (!Impl::Read(*log, offset)) {
      state.SkipWithError("read failed");
      break;
    }
    if (++offset == retained) offset = 0;
  }
  SetThroughput(state, state.iterations(), state.iterations() * state.range(0));
}

inline void MeasureReadView(benchmark::State& state, int64_t segment_size) {
  const std::string payload = Payload(state.range(0));
  auto log = OurLog::New(segment_size);
  const int64_t retained = 2 * segment_size;
  Fill<OurLog>(*log, payload, retained);
  int64_t offset = 0;
  for (auto _ : state) {
    absl::StatusOr<memlog::RecordView> view = log->ReadView(offset);
    if (!view.ok()) {
      state.SkipWithError("read failed");
      break;
    }
    benchmark::DoNotOptimize(view->data().data());
    if (++offset == retained) offset = 0;
  }
  SetThroughput(state, state.iterations(), state.iterations() * state.range(0));
}

// The floor's read (a copy out) of each of `records` records in turn.
inline void MeasureFloorRead(benchmark::State& state, int64_t records) {
  const std::string payload = Payload(state.range(0));
  baseline::Floor floor(payload.size(), records);
  for (int64_t i = 0; i < records; ++i) floor.Write(payload);
  std::string out(payload.size(), '\0');
  int64_t index = 0;
  for (auto _ : state) {
    floor.Read(index, out.data(), out.size());
    benchmark::ClobberMemory();
    if (++index == records) index = 0;
  }
  SetThroughput(state, state.iterations(), state.iterations() * state.range(0));
}

}  // namespace memlog_bench

#endif  // MEMLOG_BENCH_LOG_BENCHMARKS_H_
