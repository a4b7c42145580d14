// Copyright memlog authors.
//
// Benchmarks of memlog::sharded::Log (sharded/log.h) against the hand-written
// C++ baseline (bench/baseline/sharded_log.h), in one binary, with the ratios
// of the same run printed at the end:
//
//   ./bazelw run --config=opt //bench:sharded_bench
//
// The setting throughout: 1000 shards, 10,000 distinct 16-byte keys, 100-byte
// payloads, 1000 records per shard segment. bench/README.md says what each
// benchmark measures and how to read it.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "bench/baseline/sharded_log.h"
#include "bench/heap_counter.h"
#include "bench/ratio_reporter.h"
#include "bench/sharded_benchmarks.h"
#include "benchmark/benchmark.h"
#include "sharded/log.h"

namespace memlog_bench {
namespace {

constexpr size_t kNumShards = 1000;
constexpr int kNumKeys = 10'000;
constexpr int64_t kSegmentSize = 1000;
constexpr int64_t kPayloadBytes = 100;
// Writes after which every shard has rotated its segments at least once
// (each shard gets about 1/kNumShards of them), so that loops measure the
// steady state where purged storage is reused.
constexpr int64_t kWarmUpWrites = 2 * kSegmentSize * kNumShards + kNumKeys;

const std::vector<std::string>& Keys() {
  static const auto* keys = new std::vector<std::string>(MakeKeys(kNumKeys));
  return *keys;
}

// The payload of every record here.
const std::string& RecordPayload() {
  static const auto* payload = new std::string(Payload(kPayloadBytes));
  return *payload;
}

// The shared adapters (bench/sharded_benchmarks.h) with this binary's
// numbers of shards and records per segment, and streams by key.
struct Ours : OurShardedLog {
  static std::unique_ptr<LogType> New() {
    return OurShardedLog::New(kNumShards, kSegmentSize);
  }
  // Reads `n` records of `key` from `start` with a stream; returns how many
  // it read.
  static int64_t StreamRecords(const LogType& log, std::string_view key,
                               int64_t start, int64_t n) {
    absl::StatusOr<memlog::sharded::Stream> stream = log.StreamFrom(key, start);
    if (!stream.ok()) return 0;
    for (int64_t i = 0; i < n; ++i) {
      absl::StatusOr<memlog::sharded::RecordView> record = stream->Next();
      if (!record.ok()) return i;
      benchmark::DoNotOptimize(record->data().data());
    }
    return n;
  }
};

struct Baseline : BaselineShardedLog {
  static std::unique_ptr<LogType> New() {
    return BaselineShardedLog::New(kNumShards, kSegmentSize);
  }
  static int64_t StreamRecords(const LogType& log, std::string_view key,
                               int64_t start, int64_t n) {
    LogType::KeyStream stream = log.StreamFrom(key, start);
    for (int64_t i = 0; i < n; ++i) {
      baseline::KeyedReadResult record = stream.Next();
      if (record.status != baseline::Status::kOk) return i;
      benchmark::DoNotOptimize(record.record.data.data());
    }
    return n;
  }
};

// Returns a log of Impl that was written kWarmUpWrites records, made on the
// first call and kept until the process exits (about 0.4 GB each for memlog
// and the baseline). The Write, Read and ParallelWrite benchmarks share it,
// so that the warm-up, which takes longer than a measurement, is paid once.
template <typename Impl>
typename Impl::LogType& WarmLog() {
  static typename Impl::LogType* log = [] {
    typename Impl::LogType* made = Impl::New().release();
    WriteRoundRobin<Impl>(*made, Keys(), RecordPayload(), kWarmUpWrites);
    return made;
  }();
  return *log;
}

// --- Write: one thread writes 100-byte records, cycling over the keys. ---

void BM_ShardedLog_Write(benchmark::State& state) {
  MeasureKeyedWrite<Ours>(state, WarmLog<Ours>(), Keys(), RecordPayload());
}
BENCHMARK(BM_ShardedLog_Write);

void BM_BaselineShardedLog_Write(benchmark::State& state) {
  MeasureKeyedWrite<Baseline>(state, WarmLog<Baseline>(), Keys(),
                              RecordPayload());
}
BENCHMARK(BM_BaselineShardedLog_Write);

// --- Read: one thread reads retained records by key and offset. ---
//
// The (key, offset) pairs are those of 100,000 writes made after the warm-up,
// all retained (each shard got about 100 of them), read in write order, so
// consecutive reads go to different shards.

constexpr int64_t kReadSet = 100'000;

void BM_ShardedLog_Read(benchmark::State& state) {
  MeasureKeyedRead<Ours>(state, WarmLog<Ours>(), Keys(), RecordPayload(),
                         kReadSet, Ours::Read);
}
BENCHMARK(BM_ShardedLog_Read);

void BM_ShardedLog_ReadView(benchmark::State& state) {
  MeasureKeyedRead<Ours>(
      state, WarmLog<Ours>(), Keys(), RecordPayload(), kReadSet,
      [](const Ours::LogType& log, std::string_view key, int64_t offset) {
        absl::StatusOr<memlog::sharded::RecordView> view =
            log.ReadView(key, offset);
        if (!view.ok()) return false;
        benchmark::DoNotOptimize(view->data().data());
        return true;
      });
}
BENCHMARK(BM_ShardedLog_ReadView);

void BM_BaselineShardedLog_Read(benchmark::State& state) {
  MeasureKeyedRead<Baseline>(state, WarmLog<Baseline>(), Keys(),
                             RecordPayload(), kReadSet, Baseline::Read);
}
BENCHMARK(BM_BaselineShardedLog_Read);

// --- ParallelWrite: 1 or 2 writer threads on disjoint sets of shards. ---
//
// Thread t writes only keys whose shard is congruent to t modulo 2, so two
// threads never write to the same shard; one thread writes the even-shard
// keys. The ratio threads:2 / threads:1 is how well writes to different
// shards scale (2 cores: at most 2x).

template <typename Impl>
void ParallelWrite(benchmark::State& state) {
  static typename Impl::LogType* log = nullptr;
  static std::vector<int> by_parity[2];
  if (state.thread_index() == 0) {
    log = &WarmLog<Impl>();
    for (auto& keys : by_parity) keys.clear();
    for (int key = 0; key < kNumKeys; ++key) {
      by_parity[Impl::ShardOf(*log, Keys()[key]) % 2].push_back(key);
    }
  }
  const std::vector<std::string>& keys = Keys();
  // Filled by thread 0 before the loop's start barrier; read after it.
  const std::vector<int>& mine = by_parity[state.thread_index() % 2];
  size_t next = 0;
  for (auto _ : state) {
    if (Impl::Write(*log, keys[mine[next]], RecordPayload()) < 0) {
      state.SkipWithError("write failed");
      break;
    }
    if (++next == mine.size()) next = 0;
  }
  SetThroughput(state, state.iterations(), state.iterations() * kPayloadBytes);
}

void BM_ShardedLog_ParallelWrite(benchmark::State& state) {
  ParallelWrite<Ours>(state);
}
BENCHMARK(BM_ShardedLog_ParallelWrite)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

void BM_BaselineShardedLog_ParallelWrite(benchmark::State& state) {
  ParallelWrite<Baseline>(state);
}
BENCHMARK(BM_BaselineShardedLog_ParallelWrite)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

// --- KeyStream: one key's stream when 10 keys share its shard. ---
//
// 10 keys of one shard are written round-robin, 200 records each (the
// shard's full retention, nothing purged); each iteration opens a stream of
// the first key at offset 0 and reads its 200 records (all written, so the
// stream never waits). items/s: records of the key delivered.

constexpr int kKeysPerShard = 10;
constexpr int64_t kRecordsPerKey = 2 * kSegmentSize / kKeysPerShard;

template <typename Impl>
void KeyStream(benchmark::State& state) {
  auto log = Impl::New();
  // The first kKeysPerShard keys that share a shard with key 0.
  std::vector<std::string> keys = {MakeKey(0)};
  const size_t shard = Impl::ShardOf(*log, keys[0]);
  for (int64_t i = 1; keys.size() < kKeysPerShard; ++i) {
    std::string key = MakeKey(i);
    if (Impl::ShardOf(*log, key) == shard) keys.push_back(std::move(key));
  }
  for (int64_t i = 0; i < kRecordsPerKey; ++i) {
    for (const std::string& key : keys) {
      if (Impl::Write(*log, key, RecordPayload()) < 0) std::abort();
    }
  }
  for (auto _ : state) {
    if (Impl::StreamRecords(*log, keys[0], 0, kRecordsPerKey) !=
        kRecordsPerKey) {
      state.SkipWithError("stream ended early");
      break;
    }
  }
  const int64_t records = state.iterations() * kRecordsPerKey;
  SetThroughput(state, records, records * kPayloadBytes);
}

void BM_ShardedLog_KeyStream(benchmark::State& state) {
  KeyStream<Ours>(state);
}
BENCHMARK(BM_ShardedLog_KeyStream);

// As KeyStream, reading with NextBatch() 100 records at a time.
struct OursBatched : Ours {
  static int64_t StreamRecords(const LogType& log, std::string_view key,
                               int64_t start, int64_t n) {
    absl::StatusOr<memlog::sharded::Stream> stream = log.StreamFrom(key, start);
    if (!stream.ok()) return 0;
    std::vector<memlog::sharded::RecordView> batch(100);
    int64_t read = 0;
    while (read < n) {
      const size_t wanted =
          std::min(batch.size(), static_cast<size_t>(n - read));
      memlog::ReadResult result =
          stream->NextBatch(absl::MakeSpan(batch.data(), wanted));
      if (!result.ok()) return read;
      benchmark::DoNotOptimize(batch.data());
      read += static_cast<int64_t>(result.count);
    }
    return read;
  }
};

void BM_ShardedLog_KeyStreamBatch(benchmark::State& state) {
  KeyStream<OursBatched>(state);
}
BENCHMARK(BM_ShardedLog_KeyStreamBatch);

void BM_BaselineShardedLog_KeyStream(benchmark::State& state) {
  KeyStream<Baseline>(state);
}
BENCHMARK(BM_BaselineShardedLog_KeyStream);

// --- Memory: heap bytes held per record beyond its 100-byte payload. ---
//
// Counted as in memlog_bench (heap_counter.h: live bytes from malloc's usable
// sizes), from the log's creation: shards, segments, the key index, and the
// key stored with each record all count. full_B: after 2,000,000 writes, the
// most the shards retain (2 segments of 1000 each), though keys do not spread
// evenly, so that some shards have purged by then; steady_B: after 2,000,000
// more, when every shard has rotated and keeps its purged segment's storage
// for reuse. Both divide by the records retained (the same purge rule for
// both logs). own_full_B is the shards' own accounting (memory_usage(), as
// memlog_bench's): their storage beyond the stored records (key and data),
// without the key index.

constexpr int64_t kMemoryWrites = 2 * kSegmentSize * kNumShards;

// The records a shard that was written `n` records retains.
int64_t Retained(int64_t n) {
  return n <= kSegmentSize ? n : kSegmentSize + (n - 1) % kSegmentSize + 1;
}

template <typename Impl>
void MemoryPerRecord(benchmark::State& state) {
  double full = 0, steady = 0, own_full = 0;
  for (auto _ : state) {
    HeapCounter heap;
    auto log = Impl::New();
    std::vector<int64_t> per_shard(kNumShards, 0);
    const auto retained = [&] {
      int64_t records = 0;
      for (const int64_t n : per_shard) records += Retained(n);
      return static_cast<double>(records);
    };
    const auto write = [&](int64_t n) {
      const std::vector<std::string>& keys = Keys();
      for (int64_t i = 0; i < n; ++i) {
        const std::string& key = keys[static_cast<size_t>(i % kNumKeys)];
        if (Impl::Write(*log, key, RecordPayload()) < 0) std::abort();
        ++per_shard[Impl::ShardOf(*log, key)];
      }
    };
    write(kMemoryWrites);
    full = static_cast<double>(heap.live_bytes()) / retained() - kPayloadBytes;
    if constexpr (std::is_same_v<Impl, Ours>) {
      const memlog::MemoryUsage usage = log->memory_usage();
      own_full =
          static_cast<double>(usage.allocated_bytes - usage.payload_bytes) /
          static_cast<double>(usage.records);
    }
    write(kMemoryWrites);
    steady =
        static_cast<double>(heap.live_bytes()) / retained() - kPayloadBytes;
  }
  state.counters["full_B"] = full;
  state.counters["steady_B"] = steady;
  if constexpr (std::is_same_v<Impl, Ours>) {
    state.counters["own_full_B"] = own_full;
  }
}

void BM_ShardedLog_MemoryPerRecord(benchmark::State& state) {
  MemoryPerRecord<Ours>(state);
}
BENCHMARK(BM_ShardedLog_MemoryPerRecord)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

void BM_BaselineShardedLog_MemoryPerRecord(benchmark::State& state) {
  MemoryPerRecord<Baseline>(state);
}
BENCHMARK(BM_BaselineShardedLog_MemoryPerRecord)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// --- The ratio table. ---

std::vector<Row> Rows() {
  const std::string one = "/repeats:5/real_time/threads:1";
  const std::string two = "/repeats:5/real_time/threads:2";
  return {
      {.title = "Write 100 B (1000 shards, 10k keys)",
       .ours = "BM_ShardedLog_Write",
       .reference = "BM_BaselineShardedLog_Write"},
      {.title = "Read 100 B",
       .ours = "BM_ShardedLog_Read",
       .reference = "BM_BaselineShardedLog_Read"},
      {.title = "ReadView 100 B vs baseline Read",
       .ours = "BM_ShardedLog_ReadView",
       .reference = "BM_BaselineShardedLog_Read"},
      {.title = "2 writers on distinct shards vs 1 writer",
       .ours = "BM_ShardedLog_ParallelWrite" + two,
       .reference = "BM_ShardedLog_ParallelWrite" + one,
       .target = 1.6,
       .reference_label = "ours, 1 writer"},
      {.title = "Baseline: 2 writers vs 1 writer (information)",
       .ours = "BM_BaselineShardedLog_ParallelWrite" + two,
       .reference = "BM_BaselineShardedLog_ParallelWrite" + one,
       .reference_label = "baseline, 1 writer"},
      {.title = "1 writer",
       .ours = "BM_ShardedLog_ParallelWrite" + one,
       .reference = "BM_BaselineShardedLog_ParallelWrite" + one},
      {.title = "2 writers on distinct shards",
       .ours = "BM_ShardedLog_ParallelWrite" + two,
       .reference = "BM_BaselineShardedLog_ParallelWrite" + two},
      {.title = "Key stream, 10 keys sharing the shard",
       .ours = "BM_ShardedLog_KeyStream",
       .reference = "BM_BaselineShardedLog_KeyStream"},
      {.title = "Key stream NextBatch(100) vs baseline Next()",
       .ours = "BM_ShardedLog_KeyStreamBatch",
       .reference = "BM_BaselineShardedLog_KeyStream"},
      {.title = "Memory per record beyond 100 B, key index included, full",
       .ours = "BM_ShardedLog_MemoryPerRecord/iterations:1",
       .reference = "BM_BaselineShardedLog_MemoryPerRecord/iterations:1",
       .metric = "full_B",
       .kind = RowKind::kBelow,
       .unit = Unit::kBytes,
       .lower_is_better = true},
      {.title = "Memory per record beyond 100 B, key index included, steady",
       .ours = "BM_ShardedLog_MemoryPerRecord/iterations:1",
       .reference = "BM_BaselineShardedLog_MemoryPerRecord/iterations:1",
       .metric = "steady_B",
       .kind = RowKind::kBelow,
       .unit = Unit::kBytes,
       .lower_is_better = true},
  };
}

}  // namespace
}  // namespace memlog_bench

int main(int argc, char** argv) {
  return memlog_bench::RunWithRatios(argc, argv, memlog_bench::Rows());
}
