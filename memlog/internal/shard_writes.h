// Copyright memlog authors.
//
// internal::ShardWrites: how sharded::Log writes its shards' logs. Not part
// of the public API.
//
// A shard keeps its key index under its log's own writer lock, so that a
// write takes one lock: the shard locks WriterLock(log), updates its index
// around AppendLocked(), releases the lock, and only then wakes the log's
// sleeping streams (Wake()) and runs its NotifyWhenWritten() handlers
// (Notify()): nothing waits, and no user code runs, under a writer's lock.

#ifndef MEMLOG_INTERNAL_SHARD_WRITES_H_
#define MEMLOG_INTERNAL_SHARD_WRITES_H_

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "memlog/internal/mutex.h"
#include "memlog/internal/record_pieces.h"
#include "memlog/internal/segment.h"
#include "memlog/log.h"

namespace memlog::internal {

struct ShardWrites {
  // The log's writer lock. Held by every write, Trim() and Close() of the
  // log, and briefly by a stream that is about to sleep.
  static Mutex& WriterLock(const Log& log) ABSL_LOCK_RETURNED(log.mu_) {
    return log.mu_;
  }

  // Write() of the record `data` holds in pieces, under WriterLock(log),
  // without waking streams or running handlers; with `replica`, the replica
  // write of memlog/replica.h. Sets `*wake` if Wake(log) must follow once the
  // lock is released. REQUIRES: WriterLock(log) is held, and the record's
  // size is between 1 and log.options().max_record_bytes.
  static absl::StatusOr<Offset> AppendLocked(Log& log,
                                             const RecordPieces& data,
                                             const ReplicaPosition* replica,
                                             bool* wake)
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return log.AppendValidLocked(data, replica, wake);
  }

  // Prefetch hints for a write about to be made (Segment's
  // PrefetchWriterLines() and PrefetchNextRecord()): the log's lines that a
  // write touches and its active segment's writer lines. Before the writer
  // lock is taken, so that these misses overlap the lock's own.
  static void PrefetchBeforeLock(const Log& log) {
    __builtin_prefetch(&log.mu_, 1);
    __builtin_prefetch(&log.next_, 1);
    if (const Segment* active = log.active_.load(std::memory_order_relaxed)) {
      active->PrefetchWriterLines();
    }
  }
  // Where the log's next record of `size` bytes goes, once the writer lock
  // is held. REQUIRES: WriterLock(log) is held.
  static void PrefetchNextRecord(const Log& log, size_t size)
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (const Segment* active = log.active_.load(std::memory_order_relaxed);
        active != nullptr && !active->full()) {
      active->PrefetchNextRecord(size);
    }
  }

  // Log::Trim() under WriterLock(log). REQUIRES: WriterLock(log) is held.
  static absl::Status TrimLocked(Log& log) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return log.TrimLocked();
  }

  // The earliest offset the log retains, or the next one to be written when
  // it retains none. Exact under WriterLock(log); a snapshot otherwise.
  static Offset EarliestRetained(const Log& log) {
    const OffsetRange range = log.Range();
    return range.earliest != kInvalidOffset ? range.earliest
                                            : log.NextOffset();
  }

  // Wakes the streams sleeping on the log. REQUIRES: WriterLock(log) is not
  // held.
  static void Wake(const Log& log) { log.WakeWaiters(); }

  // Runs the handlers of every offset written so far. One relaxed load when
  // none is pending. REQUIRES: WriterLock(log) is not held.
  static void Notify(const Log& log) {
    log.NotifyWritten(log.NextOffset() - 1);
  }

  // The replica position of sharded/replica.h in the log's terms.
  static ReplicaPosition Position(Offset offset, absl::Time created) {
    return ReplicaPosition{offset, absl::ToUnixNanos(created)};
  }
};

}  // namespace memlog::internal

#endif  // MEMLOG_INTERNAL_SHARD_WRITES_H_
