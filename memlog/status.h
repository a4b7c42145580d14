// Copyright memlog authors.
//
// The errors of memlog, and one predicate per failure kind.
//
// Every memlog call that can fail returns an `absl::Status` (or a
// `absl::StatusOr<T>`). The status code follows Abseil's guidance
// (`absl/status/status.h`); the kind of failure is carried as a payload so that
// callers can tell kinds apart with the predicates below instead of comparing
// message strings. Messages say what was asked and what is valid, e.g.
// "offset 17 is purged; earliest available is 1024".
//
//   absl::StatusOr<memlog::Record> r = log->Read(offset);
//   if (memlog::IsFutureOffset(r.status())) { /* wait, or stream instead */ }
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
  // [kInvalidArgument] An empty key (sharded logs).
  kInvalidKey,
  // [kOutOfRange] The offset is not written yet; it may exist later.
  kFutureOffset,
  // [kOutOfRange] The offset was purged, or lies before the log's start
  // offset (or is negative); it will never be readable.
  kOutOfRange,
  // [kResourceExhausted] The next offset would exceed `kMaxOffset`.
  kOffsetOverflow,
  // [kFailedPrecondition] The log was closed.
  kClosed,
  // [kDataLoss] A stream fell behind: records it had not read were purged.
  // `LaggedCount()` tells how many; the stream continues from the earliest.
  kLagged,
  // [kCancelled] A blocking call was cancelled through its stop token.
  kCancelled,
  // [kDeadlineExceeded] A blocking call reached its deadline.
  kDeadlineExceeded,
  // [kNotFound] A key that an explicit key table does not know, or a record
  // that does not belong to the key asked for (sharded logs).
  kKeyNotFound,
  // [kInternal] A user-supplied sharder misbehaved (sharded logs).
  kBadSharder,
};

// Returns the memlog kind of `status`, or nullopt when `status` is OK or was
// not made by memlog.
std::optional<ErrorKind> GetErrorKind(const absl::Status& status);

// Predicates, one per kind. Each is false for an OK status and for statuses
// that memlog did not make.
//
// NOTE: call them qualified (`memlog::IsOutOfRange(s)`). Abseil has functions
// of the same names for status codes, which argument-dependent lookup finds
// too; and `absl::IsOutOfRange(s)` is true for both future and purged offsets
// (both use kOutOfRange), where the memlog predicates tell them apart.
bool IsInvalidOptions(const absl::Status& status);
bool IsEmptyRecord(const absl::Status& status);
bool IsRecordTooLarge(const absl::Status& status);
bool IsInvalidKey(const absl::Status& status);
bool IsFutureOffset(const absl::Status& status);
bool IsOutOfRange(const absl::Status& status);
bool IsOffsetOverflow(const absl::Status& status);
bool IsClosed(const absl::Status& status);
bool IsLagged(const absl::Status& status);
bool IsCancelled(const absl::Status& status);
bool IsDeadlineExceeded(const absl::Status& status);
bool IsKeyNotFound(const absl::Status& status);
bool IsBadSharder(const absl::Status& status);

// For a status with `IsLagged(status)`, returns how many records the stream
// missed; otherwise 0.
int64_t LaggedCount(const absl::Status& status);

// Makes a status of the given kind with the code documented above. For use by
// memlog's own libraries (and by custom sharders that want to report
// `kKeyNotFound`); `message` should say what was asked and what is valid.
absl::Status MakeError(ErrorKind kind, std::string message);

// Makes a `kLagged` status that records `missed` for `LaggedCount()`.
absl::Status MakeLaggedError(int64_t missed, std::string message);

}  // namespace memlog

#endif  // MEMLOG_STATUS_H_
