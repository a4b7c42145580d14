// Copyright memlog authors.
//
// baseline::Log: the in-memory log a C++ developer writes without memlog. The
// benchmarks run it in the same binary as memlog::Log and print memlog's
// results as ratios to it.
//
// It is the straightforward rendition of the Go original: records are
// std::strings in two std::vectors (the active segment and the history) under
// one std::shared_mutex. Writers lock it exclusively, readers shared; a read
// returns a copy; a stream polls, sleeping 10 ms whenever it has caught up, as
// Go's Stream does. Retention is exactly memlog's (and Go's): the write that
// finds the active segment full makes it the history, purging the old one.
//
// Minimal, but not careless, so that the comparison is honest:
// - both segments are reserved up front (Go preallocates them too), and a
//   rotation reuses the vectors' capacity;
// - the payload is copied before the lock is taken, so the lock covers only
//   the bookkeeping;
// - batch reads assign into the caller's records, reusing their capacity;
// - timestamps come from the coarse real-time clock that memlog uses by
//   default, so that the ratio measures the data structure, not the clock.
//
//   baseline::Log log(/*segment_size=*/1000);
//   int64_t offset = log.Write("hello");
//   baseline::ReadResult r = log.Read(offset);
//
// Thread-safety: every Log method may be called concurrently from any number
// of threads. A Stream is used by one thread at a time.

#ifndef MEMLOG_BENCH_BASELINE_LOG_H_
#define MEMLOG_BENCH_BASELINE_LOG_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <shared_mutex>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace memlog_bench::baseline {

enum class Status {
  kOk,
  kInvalidArgument,  // empty or oversize data
  kFutureOffset,     // not written yet
  kOutOfRange,       // purged
  kCancelled,        // a stream's stop token was triggered
  kNotFound,         // sharded: the record belongs to another key
};

struct Record {
  int64_t offset = -1;
  int64_t created_unix_nanos = 0;
  std::string data;
};

struct ReadResult {
  Status status = Status::kOk;
  Record record;
};

struct BatchResult {
  size_t count = 0;
  Status status = Status::kOk;
};

struct OffsetRange {
  int64_t earliest = -1;
  int64_t latest = -1;
};

// The interval at which a stream that has caught up polls again, as in Go.
inline constexpr std::chrono::milliseconds kPollInterval{10};

// Returns the coarse real-time clock in nanoseconds (memlog's default clock).
int64_t CoarseNowUnixNanos();

class Log {
 public:
  class Stream;

  // A log of two segments of `segment_size` records, starting at offset 0.
  explicit Log(int64_t segment_size, int64_t max_record_bytes = 1 << 20);

  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Appends a copy of `data`; returns its offset, or -1 if `data` is empty or
  // larger than `max_record_bytes`.
  int64_t Write(std::string_view data);

  // Returns a copy of the record at `offset`, or kFutureOffset / kOutOfRange.
  ReadResult Read(int64_t offset) const;

  // Copies consecutive records from `start` into `batch`; Go's semantics:
  // kFutureOffset with the partial count at the end of the log, kOutOfRange
  // with 0 if `start` was purged.
  BatchResult ReadBatch(int64_t start, std::span<Record> batch) const;

  // The earliest and latest offsets; {-1, -1} when empty.
  OffsetRange Range() const;

  // A polling stream from `start`; its Next() ends with kCancelled once
  // `stop` is triggered. REQUIRES: the log outlives the stream.
  Stream StreamFrom(int64_t start, std::stop_token stop = {}) const;

  // Live records, and their payload bytes. Takes the lock.
  int64_t records() const;
  int64_t payload_bytes() const;

 private:
  // Returns the record at `offset` or the reason it cannot be read.
  // REQUIRES: mu_ held (shared or exclusive).
  Status Locate(int64_t offset, const Record** record) const;
  int64_t EarliestLocked() const;

  const size_t segment_size_;
  const int64_t max_record_bytes_;
  mutable std::shared_mutex mu_;
  std::vector<Record> history_;  // guarded by mu_
  std::vector<Record> active_;   // guarded by mu_
  int64_t next_ = 0;             // guarded by mu_
};

class Log::Stream {
 public:
  // Returns the record at the stream's position and advances, polling every
  // kPollInterval until it is written; kCancelled once stopped; kOutOfRange
  // if the position was purged.
  ReadResult Next();

  int64_t position() const { return position_; }

 private:
  friend class Log;
  Stream(const Log* log, int64_t start, std::stop_token stop)
      : log_(log), position_(start), stop_(std::move(stop)) {}

  const Log* log_;
  int64_t position_;
  std::stop_token stop_;
};

}  // namespace memlog_bench::baseline

#endif  // MEMLOG_BENCH_BASELINE_LOG_H_
