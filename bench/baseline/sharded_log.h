// Copyright memlog authors.
//
// baseline::ShardedLog: the key-partitioned log a C++ developer writes without
// memlog, after Go's sharded package. The benchmarks run it in the same binary
// as memlog::sharded::Log and print memlog's results as ratios to it.
//
// Records are routed to one of N shards by std::hash of the key, computed
// under one global mutex per call, as Go's default sharder shares one hasher
// under a lock. Each shard is a baseline::Log-style pair of std::vector
// segments under a std::shared_mutex, growing on demand. Offsets are per
// shard, so a key's offsets have gaps where other keys of its shard wrote.
//
// Each record also carries its key, so that a read or a stream by key returns
// only that key's records: the guarantee memlog::sharded::Log gives (Go's
// package does not; without the key a consumer could not tell the records of
// its shard apart). A key stream polls its shard, reading and skipping the
// other keys' records one by one, and sleeps kPollInterval when caught up.
//
// Thread-safety: every ShardedLog method may be called concurrently. A
// KeyStream is used by one thread at a time.

#ifndef MEMLOG_BENCH_BASELINE_SHARDED_LOG_H_
#define MEMLOG_BENCH_BASELINE_SHARDED_LOG_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "bench/baseline/log.h"

namespace memlog_bench::baseline {

struct KeyedRecord {
  int64_t offset = -1;
  int64_t created_unix_nanos = 0;
  std::string key;
  std::string data;
};

struct KeyedReadResult {
  Status status = Status::kOk;
  KeyedRecord record;
};

class ShardedLog {
 public:
  class KeyStream;

  ShardedLog(size_t num_shards, int64_t segment_size,
             int64_t max_record_bytes = 1 << 20);

  ShardedLog(const ShardedLog&) = delete;
  ShardedLog& operator=(const ShardedLog&) = delete;

  // Appends `data` under `key` to the key's shard; returns the offset in that
  // shard, or -1 for an empty key or empty or oversize data.
  int64_t Write(std::string_view key, std::string_view data);

  // Returns a copy of the record at `offset` of `key`'s shard if it belongs
  // to `key`; kNotFound if it belongs to another key; kFutureOffset or
  // kOutOfRange as baseline::Log.
  KeyedReadResult Read(std::string_view key, int64_t offset) const;

  // A polling stream of `key`'s records from `offset` of its shard on.
  // REQUIRES: the log outlives the stream.
  KeyStream StreamFrom(std::string_view key, int64_t offset,
                       std::stop_token stop = {}) const;

  // The shard `key` is routed to.
  size_t ShardOf(std::string_view key) const;

 private:
  class Shard {
   public:
    explicit Shard(size_t segment_size) : segment_size_(segment_size) {}
    int64_t Write(KeyedRecord record);
    KeyedReadResult Read(int64_t offset) const;

   private:
    const size_t segment_size_;
    mutable std::shared_mutex mu_;
    std::vector<KeyedRecord> history_;  // guarded by mu_
    std::vector<KeyedRecord> active_;   // guarded by mu_
    int64_t next_ = 0;                  // guarded by mu_
  };

  const int64_t max_record_bytes_;
  mutable std::mutex hash_mu_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

class ShardedLog::KeyStream {
 public:
  // Returns the next record of the stream's key and advances past it,
  // polling every kPollInterval when caught up; kCancelled once stopped;
  // kOutOfRange if the position was purged.
  KeyedReadResult Next();

 private:
  friend class ShardedLog;
  KeyStream(const Shard* shard, std::string key, int64_t offset,
            std::stop_token stop)
      : shard_(shard),
        key_(std::move(key)),
        position_(offset),
        stop_(std::move(stop)) {}

  const Shard* shard_;
  std::string key_;
  int64_t position_;
  std::stop_token stop_;
};

}  // namespace memlog_bench::baseline

#endif  // MEMLOG_BENCH_BASELINE_SHARDED_LOG_H_
