// Copyright memlog authors.
//
// memlog::sharded::ShardReplicaWriter: the write path of mirrors of a sharded
// log, one source (a JetStream stream) per shard. See memlog/replica.h for
// what a replica write is and why it is kept out of Log::Write().
//
//   absl::StatusOr<memlog::Offset> offset =
//       memlog::sharded::ShardReplicaWriter::Append(
//           *log, shard, key, /*offset=*/seq, absl::FromUnixNanos(ts), data);
//
// Thread-safety: as sharded::Log::Write().

#ifndef MEMLOG_SHARDED_REPLICA_H_
#define MEMLOG_SHARDED_REPLICA_H_

#include <cstddef>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "memlog/replica.h"
#include "sharded/log.h"

namespace memlog::sharded {

class ShardReplicaWriter {
 public:
  // Appends `data` as a record of `key` at `offset` of shard `shard`, with
  // `created` as its timestamp, and returns `offset`. `offset` must be the
  // shard's next offset, except for the first record a shard ever holds,
  // which may skip ahead as memlog::ReplicaWriter's does (a mirror that
  // starts past a stream's first sequence): the shard then starts there, and
  // the offsets before it read as purged. `created` must not be earlier
  // than the shard's previous record's. Fails, writing nothing, with:
  // - kFailedPrecondition (memlog::IsReplicaRefused) if `key` does not belong
  //   to `shard` under the log's sharder, if `offset` is not the next
  //   offset, or if `created` is earlier than the previous record's;
  // - kInvalidArgument (IsInvalidShard) if `shard` >= num_shards();
  // - every error of Log::Write() for `key` and `data`.
  static absl::StatusOr<Offset> Append(Log& log, size_t shard,
                                       std::string_view key, Offset offset,
                                       absl::Time created,
                                       std::string_view data);
};

}  // namespace memlog::sharded

#endif  // MEMLOG_SHARDED_REPLICA_H_
