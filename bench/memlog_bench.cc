// Copyright memlog authors.
//
// Benchmarks of memlog::Log (memlog/log.h) against the hand-written C++
// baseline (bench/baseline/log.h) and the floor (bench/baseline/floor.h). All
// run in this one binary, and the table printed at the end gives memlog's
// results as ratios to theirs from the same run:
//
//   ./bazelw run --config=opt //bench:memlog_bench
//
// bench/README.md says what each benchmark measures and how to read it.

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "bench/baseline/floor.h"
#include "bench/baseline/log.h"
#include "bench/heap_counter.h"
#include "bench/log_benchmarks.h"
#include "bench/ratio_reporter.h"
#include "benchmark/benchmark.h"
#include "memlog/log.h"

namespace memlog_bench {
namespace {

// The Go README's setting; a full log retains two segments.
constexpr int64_t kSegmentSize = 1000;
constexpr int64_t kRetained = 2 * kSegmentSize;
constexpr int64_t kSmallPayload = 100;
constexpr size_t kBatchSize = 100;

int64_t ProcessCpuNanos() {
  timespec now;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

// The shared adapters (bench/log_benchmarks.h) with this binary's segment size.
struct Ours : OurLog {
  static std::unique_ptr<memlog::Log> New(
      absl::Duration wait_spin = absl::ZeroDuration()) {
    return OurLog::New(kSegmentSize, wait_spin);
  }
};

struct Baseline : BaselineLog {
  static std::unique_ptr<baseline::Log> New() {
    return BaselineLog::New(kSegmentSize);
  }
};

// --- Write: one thread appends `bytes`-byte records (MeasureWrite). ---

void BM_Log_Write(benchmark::State& state) {
  MeasureWrite<OurLog>(state, kSegmentSize);
}
BENCHMARK(BM_Log_Write)->ArgName("bytes")->Arg(100)->Arg(1024)->Arg(65536);

void BM_BaselineLog_Write(benchmark::State& state) {
  MeasureWrite<BaselineLog>(state, kSegmentSize);
}
BENCHMARK(BM_BaselineLog_Write)
    ->ArgName("bytes")
    ->Arg(100)
    ->Arg(1024)
    ->Arg(65536);

void BM_Floor_Write(benchmark::State& state) {
  MeasureFloorWrite(state, kRetained);
}
BENCHMARK(BM_Floor_Write)->ArgName("bytes")->Arg(100)->Arg(1024)->Arg(65536);

// --- Read: one thread reads every retained record in turn (MeasureRead). ---

void BM_Log_Read(benchmark::State& state) {
  MeasureRead<OurLog>(state, kSegmentSize);
}
BENCHMARK(BM_Log_Read)->ArgName("bytes")->Arg(100)->Arg(1024)->Arg(65536);

void BM_BaselineLog_Read(benchmark::State& state) {
  MeasureRead<BaselineLog>(state, kSegmentSize);
}
BENCHMARK(BM_BaselineLog_Read)
    ->ArgName("bytes")
    ->Arg(100)
    ->Arg(1024)
    ->Arg(65536);

void BM_Log_ReadView(benchmark::State& state) {
  MeasureReadView(state, kSegmentSize);
}
BENCHMARK(BM_Log_ReadView)->ArgName("bytes")->Arg(100)->Arg(1024)->Arg(65536);

// A memlog::Reader: zero-copy like ReadView, but the segment stays pinned
// across reads, so a read touches no shared reference count.
void BM_Log_ReaderRead(benchmark::State& state) {
  const std::string payload = Payload(state.range(0));
  auto log = Ours::New();
  Fill<Ours>(*log, payload, kRetained);
  memlog::Reader reader(*log);
  int64_t offset = 0;
  for (auto _ : state) {
    absl::StatusOr<memlog::BorrowedRecord> record = reader.Read(offset);
    if (!record.ok()) {
      state.SkipWithError("read failed");
      break;
    }
    benchmark::DoNotOptimize(record->data().data());
    if (++offset == kRetained) offset = 0;
  }
  SetThroughput(state, state.iterations(), state.iterations() * state.range(0));
}
BENCHMARK(BM_Log_ReaderRead)
    ->ArgName("bytes")
    ->Arg(100)
    ->Arg(1024)
    ->Arg(65536);

void BM_Floor_Read(benchmark::State& state) {
  MeasureFloorRead(state, kRetained);
}
BENCHMARK(BM_Floor_Read)->ArgName("bytes")->Arg(100)->Arg(1024)->Arg(65536);

// --- ReadBatch: batches of 100 consecutive 100-byte records. ---
//
// The batch is reused across iterations, as a consumer would reuse it.

template <typename Entry, typename ReadBatchFn>
void ReadBatch(benchmark::State& state, ReadBatchFn read_batch) {
  std::vector<Entry> batch(kBatchSize);
  int64_t start = 0;
  for (auto _ : state) {
    const size_t count = read_batch(start, batch);
    if (count != kBatchSize) {
      state.SkipWithError("short batch");
      break;
    }
    benchmark::DoNotOptimize(batch.data());
    start += kBatchSize;
    if (start == kRetained) start = 0;
  }
  SetThroughput(state, state.iterations() * kBatchSize,
                state.iterations() * kBatchSize * kSmallPayload);
}

void BM_Log_ReadBatch(benchmark::State& state) {
  auto log = Ours::New();
  Fill<Ours>(*log, Payload(kSmallPayload), kRetained);
  ReadBatch<memlog::Record>(
      state, [&](int64_t start, std::vector<memlog::Record>& batch) {
        return log->ReadBatch(start, absl::MakeSpan(batch)).count;
      });
}
BENCHMARK(BM_Log_ReadBatch);

void BM_Log_ReadBatchView(benchmark::State& state) {
  auto log = Ours::New();
  Fill<Ours>(*log, Payload(kSmallPayload), kRetained);
  ReadBatch<memlog::RecordView>(
      state, [&](int64_t start, std::vector<memlog::RecordView>& batch) {
        return log->ReadBatchView(start, absl::MakeSpan(batch)).count;
      });
}
BENCHMARK(BM_Log_ReadBatchView);

void BM_BaselineLog_ReadBatch(benchmark::State& state) {
  auto log = Baseline::New();
  Fill<Baseline>(*log, Payload(kSmallPayload), kRetained);
  ReadBatch<baseline::Record>(
      state, [&](int64_t start, std::vector<baseline::Record>& batch) {
        return log->ReadBatch(start, batch).count;
      });
}
BENCHMARK(BM_BaselineLog_ReadBatch);

// --- Contended: 100-byte records, threads sharing one log. ---
//
// WriteWithReaders: thread 0 writes; every other thread reads (owning Read)
// one of the 100 latest records, as consumers tailing the log do, finding the
// latest through Range(). As in any Threads(n) benchmark every thread runs the
// same number of iterations, so the workload is one read per write per
// reader; items/s counts all operations. Counters: writes/s, reads/s, and
// reads whose record was purged before they got to it (missed). 3 threads
// (1 writer + 2 readers) oversubscribe the 2 cores.
//
// ConcurrentWrite: every thread writes.

template <typename Impl>
void WriteWithReaders(benchmark::State& state) {
  // Thread 0 makes the log before the loop's start barrier and deletes it
  // after the end barrier, so every thread sees it while it runs.
  static typename Impl::LogType* log = nullptr;
  const std::string payload = Payload(kSmallPayload);
  if (state.thread_index() == 0) {
    log = Impl::New().release();
    Fill<Impl>(*log, payload, kRetained + 1);
    for (auto _ : state) {
      if (!Impl::Write(*log, payload)) {
        state.SkipWithError("write failed");
        break;
      }
    }
    state.counters["writes"] =
        benchmark::Counter(state.iterations(), benchmark::Counter::kIsRate);
  } else {
    int64_t back = 0;
    int64_t missed = 0;
    for (auto _ : state) {
      // A reader preempted while the writer wrote a segment's worth finds
      // its record purged: counted as missed, as a lagging consumer would.
      if (!Impl::Read(*log, Impl::Latest(*log) - back)) ++missed;
      if (++back == 100) back = 0;
    }
    state.counters["reads"] =
        benchmark::Counter(static_cast<double>(state.iterations() - missed),
                           benchmark::Counter::kIsRate);
    state.counters["missed"] = static_cast<double>(missed);
  }
  SetThroughput(state, state.iterations(), state.iterations() * kSmallPayload);
  if (state.thread_index() == 0) {
    delete log;
    log = nullptr;
  }
}

void BM_Log_WriteWithReaders(benchmark::State& state) {
  WriteWithReaders<Ours>(state);
}
BENCHMARK(BM_Log_WriteWithReaders)
    ->Threads(2)
    ->Threads(3)
    ->UseRealTime()
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

void BM_BaselineLog_WriteWithReaders(benchmark::State& state) {
  WriteWithReaders<Baseline>(state);
}
BENCHMARK(BM_BaselineLog_WriteWithReaders)
    ->Threads(2)
    ->Threads(3)
    ->UseRealTime()
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

template <typename Impl>
void ConcurrentWrite(benchmark::State& state) {
  static typename Impl::LogType* log = nullptr;
  const std::string payload = Payload(kSmallPayload);
  if (state.thread_index() == 0) {
    log = Impl::New().release();
    Fill<Impl>(*log, payload, kRetained + 1);
  }
  for (auto _ : state) {
    if (!Impl::Write(*log, payload)) {
      state.SkipWithError("write failed");
      break;
    }
  }
  SetThroughput(state, state.iterations(), state.iterations() * kSmallPayload);
  if (state.thread_index() == 0) {
    delete log;
    log = nullptr;
  }
}

void BM_Log_ConcurrentWrite(benchmark::State& state) {
  ConcurrentWrite<Ours>(state);
}
BENCHMARK(BM_Log_ConcurrentWrite)
    ->Threads(2)
    ->UseRealTime()
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

void BM_BaselineLog_ConcurrentWrite(benchmark::State& state) {
  ConcurrentWrite<Baseline>(state);
}
BENCHMARK(BM_BaselineLog_ConcurrentWrite)
    ->Threads(2)
    ->UseRealTime()
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

// ConcurrentRead: every thread reads (owning) the retained records in turn,
// each from its own starting point; nothing is written.
template <typename Impl>
void ConcurrentRead(benchmark::State& state) {
  static typename Impl::LogType* log = nullptr;
  if (state.thread_index() == 0) {
    log = Impl::New().release();
    Fill<Impl>(*log, Payload(kSmallPayload), kRetained);
  }
  int64_t offset = state.thread_index() * kSegmentSize / 2;
  for (auto _ : state) {
    if (!Impl::Read(*log, offset)) {
      state.SkipWithError("read failed");
      break;
    }
    if (++offset == kRetained) offset = 0;
  }
  SetThroughput(state, state.iterations(), state.iterations() * kSmallPayload);
  if (state.thread_index() == 0) {
    delete log;
    log = nullptr;
  }
}

void BM_Log_ConcurrentRead(benchmark::State& state) {
  ConcurrentRead<Ours>(state);
}
BENCHMARK(BM_Log_ConcurrentRead)
    ->Threads(2)
    ->UseRealTime()
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

void BM_BaselineLog_ConcurrentRead(benchmark::State& state) {
  ConcurrentRead<Baseline>(state);
}
BENCHMARK(BM_BaselineLog_ConcurrentRead)
    ->Threads(2)
    ->UseRealTime()
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

// --- Stream wake-up latency. ---
//
// A writer stamps the steady clock into each 100-byte record and writes one
// every millisecond; a stream blocked in Next() takes the time again when the
// record is delivered. Counters: p50, p99 and max of write -> delivery, in
// microseconds, over kWakeupSamples records.

constexpr int kWakeupSamples = 1000;

template <typename Impl, typename... NewArgs>
void StreamWakeup(benchmark::State& state, NewArgs... new_args) {
  std::vector<int64_t> latencies;
  for (auto _ : state) {
    auto log = Impl::New(new_args...);
    latencies.clear();
    latencies.reserve(kWakeupSamples);
    std::latch started(1);
    std::thread consumer([&] {
      auto stream = Impl::StreamFrom(*log, 0);
      started.count_down();
      for (int i = 0; i < kWakeupSamples; ++i) {
        const int64_t stamp = Impl::NextStamp(stream);
        const int64_t now = SteadyNanos();
        if (stamp < 0) return;
        latencies.push_back(now - stamp);
      }
    });
    started.wait();
    std::string payload = Payload(kSmallPayload);
    auto tick = std::chrono::steady_clock::now();
    for (int i = 0; i < kWakeupSamples; ++i) {
      tick += std::chrono::milliseconds(1);
      std::this_thread::sleep_until(tick);
      const int64_t stamp = SteadyNanos();
      std::memcpy(payload.data(), &stamp, sizeof(stamp));
      if (!Impl::Write(*log, payload)) std::abort();
    }
    consumer.join();
  }
  if (latencies.size() != kWakeupSamples) {
    state.SkipWithError("stream ended early");
    return;
  }
  SetLatencyCounters(state, latencies);
  state.SetItemsProcessed(kWakeupSamples);
}

void BM_Log_StreamWakeup(benchmark::State& state) { StreamWakeup<Ours>(state); }
BENCHMARK(BM_Log_StreamWakeup)
    ->Iterations(1)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The same with the wait policy that spins before sleeping, for longer than
// the writer's 1 ms period: the consumer polls on its own core (the
// Disruptor's busy-spin strategy) and never sleeps.
void BM_Log_StreamWakeupSpin(benchmark::State& state) {
  StreamWakeup<Ours>(state, absl::Milliseconds(5));
}
BENCHMARK(BM_Log_StreamWakeupSpin)
    ->Iterations(1)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_BaselineLog_StreamWakeup(benchmark::State& state) {
  StreamWakeup<Baseline>(state);
}
BENCHMARK(BM_BaselineLog_StreamWakeup)
    ->Iterations(1)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// --- Idle cost: 8 streams blocked on an empty log for one second. ---
//
// The process CPU time spent over the idle second (nothing else runs then:
// the benchmark thread sleeps). Counter: cpu_us_per_s, in total for all 8.

constexpr int kIdleStreams = 8;

template <typename Impl>
void IdleStreams(benchmark::State& state) {
  double cpu_us_per_s = 0;
  for (auto _ : state) {
    auto log = Impl::New();
    std::stop_source stop;
    std::latch started(kIdleStreams);
    std::vector<std::thread> streams;
    for (int i = 0; i < kIdleStreams; ++i) {
      streams.emplace_back([&] {
        auto stream = Impl::StreamFrom(*log, 0, stop.get_token());
        started.count_down();
        Impl::NextStamp(stream);  // returns when cancelled
      });
    }
    started.wait();
    // Lets every stream reach its wait (or its first poll) before measuring.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const int64_t cpu_start = ProcessCpuNanos();
    const int64_t wall_start = SteadyNanos();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const int64_t cpu = ProcessCpuNanos() - cpu_start;
    const int64_t wall = SteadyNanos() - wall_start;
    stop.request_stop();
    for (std::thread& stream : streams) stream.join();
    cpu_us_per_s =
        (static_cast<double>(cpu) / 1e3) / (static_cast<double>(wall) / 1e9);
  }
  state.counters["cpu_us_per_s"] = cpu_us_per_s;
}

void BM_Log_IdleStreams(benchmark::State& state) { IdleStreams<Ours>(state); }
BENCHMARK(BM_Log_IdleStreams)
    ->Iterations(1)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_BaselineLog_IdleStreams(benchmark::State& state) {
  IdleStreams<Baseline>(state);
}
BENCHMARK(BM_BaselineLog_IdleStreams)
    ->Iterations(1)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// --- Memory: heap bytes held per record beyond its payload. ---
//
// Counted the same way for both logs: the live heap bytes (malloc's usable
// sizes) of the log, from creation. full_B: when the log holds 2000 records,
// its most; min_B: after the next write purges a segment and 1001 remain
// (the storage stays, for reuse). memlog's own accounting
// (Log::memory_usage()) is reported beside it as own_full_B.

template <typename Impl>
void MemoryPerRecord(benchmark::State& state) {
  const std::string payload = Payload(state.range(0));
  const auto size = static_cast<double>(payload.size());
  double full = 0, min = 0, own_full = 0;
  for (auto _ : state) {
    HeapCounter heap;
    auto log = Impl::New();
    Fill<Impl>(*log, payload, kRetained);
    full = static_cast<double>(heap.live_bytes()) / kRetained - size;
    if constexpr (std::is_same_v<Impl, Ours>) {
      const memlog::MemoryUsage usage = log->memory_usage();
      own_full =
          static_cast<double>(usage.allocated_bytes - usage.payload_bytes) /
          static_cast<double>(usage.records);
    }
    Fill<Impl>(*log, payload, 1);
    min = static_cast<double>(heap.live_bytes()) / (kSegmentSize + 1) - size;
  }
  state.counters["full_B"] = full;
  state.counters["min_B"] = min;
  if constexpr (std::is_same_v<Impl, Ours>) {
    state.counters["own_full_B"] = own_full;
  }
}

void BM_Log_MemoryPerRecord(benchmark::State& state) {
  MemoryPerRecord<Ours>(state);
}
BENCHMARK(BM_Log_MemoryPerRecord)
    ->ArgName("bytes")
    ->Arg(100)
    ->Arg(1024)
    ->Arg(65536)
    ->Iterations(1);

void BM_BaselineLog_MemoryPerRecord(benchmark::State& state) {
  MemoryPerRecord<Baseline>(state);
}
BENCHMARK(BM_BaselineLog_MemoryPerRecord)
    ->ArgName("bytes")
    ->Arg(100)
    ->Arg(1024)
    ->Arg(65536)
    ->Iterations(1);

// --- WriteBatch: one thread appends batches of 100 records of 100 B. ---
//
// Compared per record with single writes of the baseline and with the
// floor's writes: the batch pays one lock, one clock reading and one wake-up
// check per 100 records.

void BM_Log_WriteBatch(benchmark::State& state) {
  const std::string payload = Payload(100);
  const std::vector<std::string_view> batch(100, payload);
  auto log = Ours::New();
  Fill<Ours>(*log, payload, kRetained + 1);
  for (auto _ : state) {
    const memlog::WriteBatchResult written = log->WriteBatch(batch);
    if (!written.ok()) {
      state.SkipWithError("write failed");
      break;
    }
  }
  SetThroughput(state, state.iterations() * 100,
                state.iterations() * 100 * 100);
}
BENCHMARK(BM_Log_WriteBatch);

// --- OffsetAt: find the first record at or after a time in a full log. ---
//
// The baseline is what a user without OffsetAt writes: a linear scan of the
// retained records, oldest first, through a zero-copy Reader.

// A full log whose record i was created at i microseconds past the epoch.
std::unique_ptr<memlog::Log> TimedLog() {
  auto now = std::make_shared<int64_t>(0);
  auto log = memlog::Log::Create({.segment_size = kSegmentSize,
                                  .clock = [now] {
                                    return absl::FromUnixMicros((*now)++);
                                  }})
                 .value();
  const std::string payload = Payload(100);
  for (int64_t i = 0; i < kRetained + kSegmentSize / 2; ++i) {
    (void)log->Write(payload);
  }
  return log;
}

void BM_Log_OffsetAt(benchmark::State& state) {
  const std::unique_ptr<memlog::Log> log = TimedLog();
  const memlog::OffsetRange range = log->Range();
  int64_t i = 0;
  for (auto _ : state) {
    const absl::Time t = absl::FromUnixMicros(range.earliest +
                                              i++ % (range.latest -
                                                     range.earliest + 1));
    absl::StatusOr<memlog::OffsetAtTime> at = log->OffsetAt(t);
    benchmark::DoNotOptimize(at);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Log_OffsetAt);

void BM_LinearScan_OffsetAt(benchmark::State& state) {
  const std::unique_ptr<memlog::Log> log = TimedLog();
  const memlog::OffsetRange range = log->Range();
  memlog::Reader reader(*log);
  int64_t i = 0;
  for (auto _ : state) {
    const absl::Time t = absl::FromUnixMicros(range.earliest +
                                              i++ % (range.latest -
                                                     range.earliest + 1));
    memlog::Offset found = memlog::kInvalidOffset;
    for (memlog::Offset o = range.earliest; o <= range.latest; ++o) {
      absl::StatusOr<memlog::BorrowedRecord> record = reader.Read(o);
      if (record.ok() && record->created() >= t) {
        found = o;
        break;
      }
    }
    benchmark::DoNotOptimize(found);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LinearScan_OffsetAt);

// --- The ratio table. ---

std::vector<Row> Rows() {
  std::vector<Row> rows;
  const auto speedup = [&](std::string title, std::string ours,
                           std::string reference, double target = 0,
                           std::string metric = "items_per_second") {
    rows.push_back({.title = std::move(title),
                    .ours = std::move(ours),
                    .reference = std::move(reference),
                    .metric = std::move(metric),
                    .kind = RowKind::kSpeedup,
                    .target = target});
  };
  const auto floor_gap = [&](std::string title, std::string ours,
                             std::string floor, double target = 0) {
    rows.push_back({.title = std::move(title),
                    .ours = std::move(ours),
                    .reference = std::move(floor),
                    .kind = RowKind::kFloorGap,
                    .target = target,
                    .reference_label = "floor"});
  };
  for (const char* bytes : {"100", "1024", "65536"}) {
    const std::string arg = std::string("/bytes:") + bytes;
    const std::string label = std::string(bytes) + " B";
    const bool small = std::string(bytes) == "100";
    speedup("Write " + label, "BM_Log_Write" + arg,
            "BM_BaselineLog_Write" + arg, small ? 5 : 0);
    floor_gap("Write " + label + " vs floor", "BM_Log_Write" + arg,
              "BM_Floor_Write" + arg, small ? 2.5 : 0);
    speedup("ReadView " + label + " vs baseline Read", "BM_Log_ReadView" + arg,
            "BM_BaselineLog_Read" + arg, small ? 10 : 0);
    speedup("Reader::Read (zero-copy, pinned) " + label +
                " vs baseline Read",
            "BM_Log_ReaderRead" + arg, "BM_BaselineLog_Read" + arg,
            small ? 10 : 0);
    speedup("Read " + label, "BM_Log_Read" + arg, "BM_BaselineLog_Read" + arg,
            small ? 2 : 0);
    floor_gap("Read " + label + " vs floor", "BM_Log_Read" + arg,
              "BM_Floor_Read" + arg);
  }
  speedup("WriteBatch 100 x 100 B, per record, vs baseline Write",
          "BM_Log_WriteBatch", "BM_BaselineLog_Write/bytes:100", 5);
  floor_gap("WriteBatch 100 x 100 B, per record, vs floor", "BM_Log_WriteBatch",
            "BM_Floor_Write/bytes:100", 2.5);
  speedup("OffsetAt in a full log vs a linear scan", "BM_Log_OffsetAt",
          "BM_LinearScan_OffsetAt");
  speedup("ReadBatch 100 x 100 B", "BM_Log_ReadBatch",
          "BM_BaselineLog_ReadBatch");
  speedup("ReadBatchView 100 x 100 B vs baseline ReadBatch",
          "BM_Log_ReadBatchView", "BM_BaselineLog_ReadBatch");
  const std::string contended = "/repeats:5/real_time/threads:";
  speedup("1 writer + 1 reader, one read per write: operations/s",
          "BM_Log_WriteWithReaders" + contended + "2",
          "BM_BaselineLog_WriteWithReaders" + contended + "2");
  speedup("1 writer + 2 readers, one read per write each: operations/s",
          "BM_Log_WriteWithReaders" + contended + "3",
          "BM_BaselineLog_WriteWithReaders" + contended + "3");
  speedup("2 writers: writes/s", "BM_Log_ConcurrentWrite" + contended + "2",
          "BM_BaselineLog_ConcurrentWrite" + contended + "2");
  speedup("2 readers: reads/s", "BM_Log_ConcurrentRead" + contended + "2",
          "BM_BaselineLog_ConcurrentRead" + contended + "2");
  const std::string wakeup = "/iterations:1/repeats:3/real_time";
  for (const auto& [metric, target] :
       {std::pair<const char*, double>{"p50_us", 20},
        {"p99_us", 200},
        {"max_us", 0}}) {
    rows.push_back({.title = std::string("Stream wake-up ") + metric,
                    .ours = "BM_Log_StreamWakeup" + wakeup,
                    .reference = "BM_BaselineLog_StreamWakeup" + wakeup,
                    .metric = metric,
                    .kind = RowKind::kBelow,
                    .unit = Unit::kMicros,
                    .lower_is_better = true,
                    .target = target});
  }
  for (const auto& [metric, target] :
       {std::pair<const char*, double>{"p50_us", 1}, {"p99_us", 5}}) {
    rows.push_back({.title = std::string("Stream wake-up, spinning, ") + metric,
                    .ours = "BM_Log_StreamWakeupSpin" + wakeup,
                    .reference = "BM_BaselineLog_StreamWakeup" + wakeup,
                    .metric = metric,
                    .kind = RowKind::kBelow,
                    .unit = Unit::kMicros,
                    .lower_is_better = true,
                    .target = target});
  }
  rows.push_back({.title = "Idle: 8 blocked streams, CPU per second",
                  .ours = "BM_Log_IdleStreams" + wakeup,
                  .reference = "BM_BaselineLog_IdleStreams" + wakeup,
                  .metric = "cpu_us_per_s",
                  .kind = RowKind::kBelow,
                  .unit = Unit::kMicrosPerSecond,
                  .lower_is_better = true,
                  .target = 1000});
  for (const char* bytes : {"100", "1024", "65536"}) {
    const std::string arg = std::string("/bytes:") + bytes + "/iterations:1";
    const bool small = std::string(bytes) == "100";
    rows.push_back({.title = std::string("Memory per record beyond ") + bytes +
                             " B, log full",
                    .ours = "BM_Log_MemoryPerRecord" + arg,
                    .reference = "BM_BaselineLog_MemoryPerRecord" + arg,
                    .metric = "full_B",
                    .kind = RowKind::kBelow,
                    .unit = Unit::kBytes,
                    .lower_is_better = true,
                    .target = small ? 32.0 : 0.0});
    rows.push_back({.title = std::string("Memory per record beyond ") + bytes +
                             " B, just purged",
                    .ours = "BM_Log_MemoryPerRecord" + arg,
                    .reference = "BM_BaselineLog_MemoryPerRecord" + arg,
                    .metric = "min_B",
                    .kind = RowKind::kBelow,
                    .unit = Unit::kBytes,
                    .lower_is_better = true});
  }
  return rows;
}

}  // namespace
}  // namespace memlog_bench

int main(int argc, char** argv) {
  return memlog_bench::RunWithRatios(argc, argv, memlog_bench::Rows());
}
