// Copyright memlog authors.
//
// The errors of memlog::jetstream, one predicate per failure kind.
//
// The Publisher and the Mirror report failures as `absl::Status` values, as
// the rest of memlog does (memlog/status.h): the kind rides in a payload, so
// callers tell kinds apart with these predicates, never by reading messages.
// Errors of the logs themselves keep memlog's own kinds (a mirror that cannot
// store an oversized message stops with `memlog::IsRecordTooLarge`), and a
// mirror that fell behind its stream reports `memlog::IsLagged`, as a
// memlog::Stream does.
//
//   if (memlog::jetstream::IsRecordsLost(publisher->status())) {
//     Alert(memlog::jetstream::LostCount(publisher->status()));
//   }
//
// No predicate here shares its name with one of Abseil's (absl::IsUnavailable
// exists), so they may be called unqualified.
//
// Thread-safety: all functions here are pure and safe to call concurrently.

#ifndef MEMLOG_JETSTREAM_STATUS_H_
#define MEMLOG_JETSTREAM_STATUS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace memlog::jetstream {

// The kinds of failure; the status code of each is in brackets.
enum class ErrorKind {
  // [kNotFound] The stream does not exist on the server.
  kStreamNotFound,
  // [kFailedPrecondition] The stream holds a message this component did not
  // publish (it lacks the Memlog-Offset header, or, for a sharded mirror, the
  // Memlog-Key header), where one of ours was expected.
  kForeignMessage,
  // [kAborted] The stream's sequence numbers disagree with the publisher's:
  // someone else publishes to the stream's subjects, or the stream was
  // purged or recreated under the publisher. Nothing was written out of
  // order; the publisher stopped.
  kSequenceConflict,
  // [kDataLoss] The source log purged records before they were published.
  // `LostCount()` says how many.
  kRecordsLost,
  // [kDataLoss] The stream skips sequence numbers (messages deleted, or
  // removed by a per-subject limit) where the mirror needs the next one; the
  // mirror stopped rather than renumber. `LostCount()` says how many.
  kSequenceGap,
  // [kFailedPrecondition] The stream refused a record for a reason that no
  // retry can change: it is larger than the stream's `max_msg_size`. The
  // publisher stopped at that record rather than resend it forever; the
  // message names its offset and the server's reason. The records before it
  // are in the stream.
  kRecordRefused,
  // [kUnavailable] The server could not be reached, or did not answer in
  // time.
  kUnavailable,
  // [kInternal] nats.c reported an error that fits no kind above.
  kNatsError,
};

bool IsStreamNotFound(const absl::Status& status);
bool IsForeignMessage(const absl::Status& status);
bool IsSequenceConflict(const absl::Status& status);
bool IsRecordsLost(const absl::Status& status);
bool IsSequenceGap(const absl::Status& status);
bool IsRecordRefused(const absl::Status& status);
bool IsServerUnavailable(const absl::Status& status);
bool IsNatsError(const absl::Status& status);

// For IsRecordsLost() or IsSequenceGap(), how many records are missing;
// otherwise 0.
int64_t LostCount(const absl::Status& status);

// Makes a status of `kind` with the documented code (and `count` for
// LostCount()). For memlog's own libraries.
absl::Status MakeError(ErrorKind kind, std::string message, int64_t count = 0);

}  // namespace memlog::jetstream

#endif  // MEMLOG_JETSTREAM_STATUS_H_
