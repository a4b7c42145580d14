// Copyright memlog authors.
//
// What the benchmarks of memlog::sharded::Log in sharded_bench.cc and
// sweep_bench.cc share: the same operations on memlog::sharded::Log
// (OurShardedLog) and on the hand-written baseline::ShardedLog
// (BaselineShardedLog), the keys they write, and the write and read loops
// both binaries time.
//
//   const std::vector<std::string> keys = MakeKeys(10'000);
//   auto log = OurShardedLog::New(/*num_shards=*/1000, /*segment_size=*/1000);
//   WriteRoundRobin<OurShardedLog>(*log, keys, payload, 2'000'000);
//   MeasureKeyedWrite<OurShardedLog>(state, *log, keys, payload);
//
// Every operation checks its result, as a user would; failing to create a
// log aborts the benchmark binary.

#ifndef MEMLOG_BENCH_SHARDED_BENCHMARKS_H_
#define MEMLOG_BENCH_SHARDED_BENCHMARKS_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/baseline/sharded_log.h"
#include "bench/log_benchmarks.h"
#include "benchmark/benchmark.h"
#include "sharded/log.h"

namespace memlog_bench {

// "key-000000000042": 16 bytes.
inline std::string MakeKey(int64_t i) {
  char key[32];
  std::snprintf(key, sizeof(key), "key-%012lld", static_cast<long long>(i));
  return key;
}

// MakeKey(0) to MakeKey(n - 1).
inline std::vector<std::string> MakeKeys(int64_t n) {
  std::vector<std::string> keys;
  keys.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) keys.push_back(MakeKey(i));
  return keys;
}

struct OurShardedLog {
  using LogType = memlog::sharded::Log;

  static std::unique_ptr<LogType> New(size_t num_shards, int64_t segment_size) {
    memlog::sharded::Options options;
    options.num_shards = num_shards;
    options.shard.segment_size = segment_size;
    absl::StatusOr<std::unique_ptr<LogType>> log =
        LogType::Create(std::move(options));
    if (!log.ok()) {
      std::fprintf(stderr, "%s\n", log.status().ToString().c_str());
      std::abort();
    }
    return *std::move(log);
  }
  // Returns the offset written, or -1.
  static int64_t Write(LogType& log, std::string_view key,
                       std::string_view data) {
    absl::StatusOr<memlog::Offset> offset = log.Write(key, data);
    return offset.ok() ? *offset : -1;
  }
  static bool Read(const LogType& log, std::string_view key, int64_t offset) {
    absl::StatusOr<memlog::sharded::Record> record = log.Read(key, offset);
    benchmark::DoNotOptimize(record);
    return record.ok();
  }
  static size_t ShardOf(const LogType& log, std::string_view key) {
    return log.ShardFor(key).value();
  }
};

struct BaselineShardedLog {
  using LogType = baseline::ShardedLog;

  static std::unique_ptr<LogType> New(size_t num_shards, int64_t segment_size) {
    return std::make_unique<LogType>(num_shards, segment_size);
  }
  static int64_t Write(LogType& log, std::string_view key,
                       std::string_view data) {
    return log.Write(key, data);
  }
  static bool Read(const LogType& log, std::string_view key, int64_t offset) {
    baseline::KeyedReadResult result = log.Read(key, offset);
    benchmark::DoNotOptimize(result);
    return result.status == baseline::Status::kOk;
  }
  static size_t ShardOf(const LogType& log, std::string_view key) {
    return log.ShardOf(key);
  }
};

// (index into the keys, offset) of a record written.
using KeyedOffset = std::pair<int, int64_t>;

// Writes `payload` under the keys round-robin, `n` records in total; the
// (key, offset) pairs written go to `written` (if given) while it has
// capacity left. Aborts if a write fails.
template <typename Impl>
void WriteRoundRobin(typename Impl::LogType& log,
                     const std::vector<std::string>& keys,
                     std::string_view payload, int64_t n,
                     std::vector<KeyedOffset>* written = nullptr) {
  const auto num_keys = static_cast<int64_t>(keys.size());
  for (int64_t i = 0; i < n; ++i) {
    const int key = static_cast<int>(i % num_keys);
    const int64_t offset = Impl::Write(log, keys[key], payload);
    if (offset < 0) std::abort();
    if (written != nullptr && written->size() < written->capacity()) {
      written->emplace_back(key, offset);
    }
  }
}

// --- Write: one thread writes `payload`, cycling over the keys. ---
template <typename Impl>
void MeasureKeyedWrite(benchmark::State& state, typename Impl::LogType& log,
                       const std::vector<std::string>& keys,
                       std::string_view payload) {
  size_t key = 0;
  for (auto _ : state) {
    if (Impl::Write(log, keys[key], payload) < 0) {
      state.SkipWithError("write failed");
      break;
    }
    if (++key == keys.size()) key = 0;
  }
  SetThroughput(state, state.iterations(),
                state.iterations() * static_cast<int64_t>(payload.size()));
}

// --- Read: one thread reads retained records by key and offset. ---
//
// Writes `read_set` records round-robin over the keys first, then reads
// those still retained with `read(log, key, offset)` in write order, so that
// consecutive reads go to different keys and shards. (A shard whose keys got
// more than a segment of the read set has purged the earliest of them.)
template <typename Impl, typename ReadFn>
void MeasureKeyedRead(benchmark::State& state, typename Impl::LogType& log,
                      const std::vector<std::string>& keys,
                      std::string_view payload, int64_t read_set, ReadFn read) {
  std::vector<KeyedOffset> written;
  written.reserve(static_cast<size_t>(read_set));
  WriteRoundRobin<Impl>(log, keys, payload, read_set, &written);
  std::erase_if(written, [&](const KeyedOffset& record) {
    return !read(log, keys[record.first], record.second);
  });
  if (written.empty()) {
    state.SkipWithError("no record of the read set is retained");
    return;
  }
  size_t next = 0;
  for (auto _ : state) {
    const auto& [key, offset] = written[next];
    if (!read(log, keys[key], offset)) {
      state.SkipWithError("read failed");
      break;
    }
    if (++next == written.size()) next = 0;
  }
  SetThroughput(state, state.iterations(),
                state.iterations() * static_cast<int64_t>(payload.size()));
}

}  // namespace memlog_bench

#endif  // MEMLOG_BENCH_SHARDED_BENCHMARKS_H_
