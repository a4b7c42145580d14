// Copyright memlog authors.
//
// internal::ShardWrites: how sharded::Log writes its shards' logs. Not part
// of the public API. A shard writes its log under a lock of its own (the
// key index must follow the log), so it appends without running the
// NotifyWhenWritten() handlers and runs them once that lock is released:
// handlers never run under a writer's lock.

#ifndef MEMLOG_INTERNAL_SHARD_WRITES_H_
#define MEMLOG_INTERNAL_SHARD_WRITES_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "memlog/log.h"

namespace memlog::internal {

struct ShardWrites {
  // Log::Write() without running the handlers.
  static absl::StatusOr<Offset> Append(Log& log, std::string_view data) {
    return log.Append(data, nullptr);
  }
  // ReplicaWriter::Append() (memlog/replica.h) without running the
  // handlers.
  static absl::StatusOr<Offset> AppendReplica(Log& log, Offset offset,
                                              absl::Time created,
                                              std::string_view data) {
    const ReplicaPosition position{offset, absl::ToUnixNanos(created)};
    return log.Append(data, &position);
  }
  // Runs the handlers of every offset written so far. One relaxed load when
  // none is pending.
  static void Notify(const Log& log) { log.NotifyWritten(log.NextOffset() - 1); }
};

}  // namespace memlog::internal

#endif  // MEMLOG_INTERNAL_SHARD_WRITES_H_
