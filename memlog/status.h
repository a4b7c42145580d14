// Copyright memlog authors.
//
// The errors of memlog, and one predicate per failure kind.
//
// Every memlog call that can fail returns an `absl::Status` (or a
// `absl::StatusOr<T>`); no exception leaves the API. The status code follows
// Abseil's guidance (`absl/status/status.h`): kOutOfRange only for what a
// later write may make valid (a future offset), kInvalidArgument for what is
// wrong in any state. The kind of failure is carried as a payload so that
// callers tell kinds apart with the predicates below, never by reading the
// message. Messages say what was asked and what is valid, e.g.
// "offset 17 is purged; earliest available is 1024".
//
//   absl::StatusOr<memlog::Record> r = log->Read(offset);
//   if (memlog::IsFutureOffset(r.status())) { /* wait, or stream instead */ }
//
// No predicate here shares its name with one of Abseil's, so they may be
// called unqualified inside any namespace.
//
// Thread-safety: all functions here are pure and safe to call concurrently.

#ifndef MEMLOG_STATUS_H_
#define MEMLOG_STATUS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"

namespace memlog {

// The kinds of failure memlog reports. Each has a predicate below; the code
// each kind uses is given in brackets.
enum class ErrorKind {
  // [kInvalidArgument] An `Options` field is outside its valid range.
  kInvalidOptions,
  // [kInvalidArgument] A record with no bytes was written.
  kEmptyRecord,
  // [kInvalidArgument] A record larger than `Options::max_record_bytes`.
  kRecordTooLarge,
  // [kInvalidArgument] A key that is empty or longer than
  // `sharded::kMaxKeyBytes` (sharded logs).
  kInvalidKey,
  // [kInvalidArgument] An offset that no record of this log can ever have:
  // negative, before the log's start offset, or past kMaxOffset.
  kImpossibleOffset,
  // [kInvalidArgument] A shard index >= the number of shards (sharded logs).
  kInvalidShard,
  // [kOutOfRange] The offset is not written yet; it may exist later.
  kFutureOffset,
  // [kNotFound] The offset was written but its record has been purged; it
  // will never be readable again.
  kPurgedOffset,
  // [kResourceExhausted] The next offset would exceed `kMaxOffset`.
  kOffsetOverflow,
  // [kResourceExhausted] Memory could not be allocated. Nothing was changed:
  // the call may be retried once memory is available.
  kOutOfMemory,
  // [kFailedPrecondition] The log was closed.
  kClosed,
  // [kDataLoss] A stream fell behind: records it had not read were purged.
  // `LaggedCount()` tells how many, `IsLaggedCountExact()` whether that
  // count is exact or a lower bound; the stream continues from the earliest.
  kLagged,
  // [kCancelled] A blocking call was cancelled through its stop token.
  kWaitCancelled,
  // [kDeadlineExceeded] A blocking call reached its deadline.
  kWaitTimedOut,
  // [kNotFound] A key that an explicit key table does not know, or a record
  // that does not belong to the key asked for (sharded logs).
  kKeyNotFound,
  // [kInternal] A user-supplied sharder returned a shard that does not exist
  // (sharded logs).
  kBadSharder,
  // [kInternal] A user-supplied callback (`Options::clock`, a sharder) threw
  // an exception. The call that ran it changed nothing.
  kCallbackFailed,
};

// Returns the memlog kind of `status`, or nullopt when `status` is OK or was
// not made by memlog.
std::optional<ErrorKind> GetErrorKind(const absl::Status& status);

// Returns the name of `kind`, as used in the status payload: "future_offset".
const char* ErrorKindName(ErrorKind kind);

// Predicates, one per kind. Each is false for an OK status and for statuses
// that memlog did not make, with one exception: IsOutOfMemory() is also true
// for a kResourceExhausted status with neither message nor payload, which is
// how memlog reports running out of memory when not even the error's message
// can be allocated.
bool IsInvalidOptions(const absl::Status& status);
bool IsEmptyRecord(const absl::Status& status);
bool IsRecordTooLarge(const absl::Status& status);
bool IsInvalidKey(const absl::Status& status);
bool IsImpossibleOffset(const absl::Status& status);
bool IsInvalidShard(const absl::Status& status);
bool IsFutureOffset(const absl::Status& status);
bool IsPurgedOffset(const absl::Status& status);
bool IsOffsetOverflow(const absl::Status& status);
bool IsOutOfMemory(const absl::Status& status);
bool IsClosed(const absl::Status& status);
bool IsLagged(const absl::Status& status);
bool IsWaitCancelled(const absl::Status& status);
bool IsWaitTimedOut(const absl::Status& status);
bool IsKeyNotFound(const absl::Status& status);
bool IsBadSharder(const absl::Status& status);
bool IsCallbackFailed(const absl::Status& status);

// For a status with `IsLagged(status)`, returns how many records the stream
// missed; otherwise 0.
int64_t LaggedCount(const absl::Status& status);

// For a status with `IsLagged(status)`, returns whether `LaggedCount()` is
// the exact number of records missed (true) or a lower bound (false; per-key
// streams of a sharded log cannot always know, see sharded/stream.h).
// Returns false for any other status.
bool IsLaggedCountExact(const absl::Status& status);

// Makes a status of the given kind with the code documented above. For use by
// memlog's own libraries (and by custom sharders that want to report
// `kKeyNotFound`); `message` should say what was asked and what is valid.
absl::Status MakeError(ErrorKind kind, std::string message);

// Makes a `kLagged` status that records `missed` for `LaggedCount()` and
// `exact` for `IsLaggedCountExact()`.
absl::Status MakeLaggedError(int64_t missed, bool exact, std::string message);

}  // namespace memlog

#endif  // MEMLOG_STATUS_H_
