// Copyright memlog authors.
//
// memlog::ReplicaWriter: the write path of mirrors, which copy a log that
// another system numbers (memlog::jetstream::Mirror copies a JetStream
// stream, whose sequence numbers become the mirror's offsets, and whose
// message timestamps become the records' `created`).
//
//   absl::StatusOr<memlog::Offset> offset = memlog::ReplicaWriter::Append(
//       *log, /*offset=*/seq, /*created=*/absl::FromUnixNanos(ts), data);
//
// NOTE: this is not an API for ordinary writers. Log::Write() numbers and
// timestamps records itself; a replica write takes both from its source, so
// that two mirrors of one source hold identical logs. Mixing the two on one
// log is allowed but makes the log's offsets mean nothing in the source.
//
// Thread-safety: as Log::Write(); replica writes and ordinary writes are
// serialized by the log's writer lock. Memory ordering: as Log::Write().

#ifndef MEMLOG_REPLICA_H_
#define MEMLOG_REPLICA_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "memlog/log.h"

namespace memlog {

class ReplicaWriter {
 public:
  // Appends a copy of `data` at `offset` with `created` as its timestamp, and
  // returns `offset`. `offset` must be the log's next offset (one past its
  // latest record), except for the very first record of a log that never
  // held one: that may be at any offset >= `Options::start_offset`, and the
  // offsets before it then read as purged (IsPurgedOffset; a stream from
  // them reports the gap as a lag), exactly as if the log had held and
  // purged them. `created` must not be earlier than the previous record's
  // (timestamps are monotonic per log). Fails, writing nothing, with:
  // - kFailedPrecondition (IsReplicaRefused) if `offset` is not the next
  //   offset, or `created` is earlier than the previous record's;
  // - kInvalidArgument (IsImpossibleOffset) if the first record's `offset`
  //   lies before the start offset or past kMaxOffset;
  // - every error of Log::Write() but IsCallbackFailed (the clock is not
  //   read).
  static absl::StatusOr<Offset> Append(Log& log, Offset offset,
                                       absl::Time created,
                                       std::string_view data);
};

// True for the refusal of a replica write described above; false for an OK
// status and every other status.
bool IsReplicaRefused(const absl::Status& status);

namespace internal {
// Makes the status IsReplicaRefused() recognises.
absl::Status ReplicaRefusedError(std::string message);
}  // namespace internal

}  // namespace memlog

#endif  // MEMLOG_REPLICA_H_
