// Copyright memlog authors.

#include "memlog/status.h"

#include <array>
#include <charconv>
#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "memlog/internal/errors.h"

namespace memlog {
namespace {

// The payload that marks a status as memlog's, and of which kind.
constexpr char kKindUrl[] = "memlog.dev/ErrorKind";
// The payload that carries LaggedCount(): the count, after kLowerBoundMark
// when it is a lower bound.
constexpr char kLaggedUrl[] = "memlog.dev/LaggedCount";
constexpr char kLowerBoundMark[] = ">=";

struct KindInfo {
  ErrorKind kind;
  const char* name;
  absl::StatusCode code;
};

constexpr std::array<KindInfo, 17> kKinds = {{
    {ErrorKind::kInvalidOptions, "invalid_options",
     absl::StatusCode::kInvalidArgument},
    {ErrorKind::kEmptyRecord, "empty_record",
     absl::StatusCode::kInvalidArgument},
    {ErrorKind::kRecordTooLarge, "record_too_large",
     absl::StatusCode::kInvalidArgument},
    {ErrorKind::kInvalidKey, "invalid_key", absl::StatusCode::kInvalidArgument},
    {ErrorKind::kImpossibleOffset, "impossible_offset",
     absl::StatusCode::kInvalidArgument},
    {ErrorKind::kInvalidShard, "invalid_shard",
     absl::StatusCode::kInvalidArgument},
    {ErrorKind::kFutureOffset, "future_offset", absl::StatusCode::kOutOfRange},
    {ErrorKind::kPurgedOffset, "purged_offset", absl::StatusCode::kNotFound},
    {ErrorKind::kOffsetOverflow, "offset_overflow",
     absl::StatusCode::kResourceExhausted},
    {ErrorKind::kOutOfMemory, "out_of_memory",
     absl::StatusCode::kResourceExhausted},
    {ErrorKind::kClosed, "closed", absl::StatusCode::kFailedPrecondition},
    {ErrorKind::kLagged, "lagged", absl::StatusCode::kDataLoss},
    {ErrorKind::kWaitCancelled, "wait_cancelled", absl::StatusCode::kCancelled},
    {ErrorKind::kWaitTimedOut, "wait_timed_out",
     absl::StatusCode::kDeadlineExceeded},
    {ErrorKind::kKeyNotFound, "key_not_found", absl::StatusCode::kNotFound},
    {ErrorKind::kBadSharder, "bad_sharder", absl::StatusCode::kInternal},
    {ErrorKind::kCallbackFailed, "callback_failed",
     absl::StatusCode::kInternal},
}};

const KindInfo& InfoOf(ErrorKind kind) {
  for (const KindInfo& info : kKinds) {
    if (info.kind == kind) return info;
  }
  return kKinds[0];  // unreachable: every enumerator is listed
}

bool Is(const absl::Status& status, ErrorKind kind) {
  return GetErrorKind(status) == kind;
}

}  // namespace

std::optional<ErrorKind> GetErrorKind(const absl::Status& status) {
  if (status.ok()) return std::nullopt;
  const auto payload = status.GetPayload(kKindUrl);
  if (!payload.has_value()) return std::nullopt;
  for (const KindInfo& info : kKinds) {
    if (*payload == info.name && status.code() == info.code) return info.kind;
  }
  return std::nullopt;
}

const char* ErrorKindName(ErrorKind kind) { return InfoOf(kind).name; }

bool IsInvalidOptions(const absl::Status& s) {
  return Is(s, ErrorKind::kInvalidOptions);
}
bool IsEmptyRecord(const absl::Status& s) {
  return Is(s, ErrorKind::kEmptyRecord);
}
bool IsRecordTooLarge(const absl::Status& s) {
  return Is(s, ErrorKind::kRecordTooLarge);
}
bool IsInvalidKey(const absl::Status& s) {
  return Is(s, ErrorKind::kInvalidKey);
}
bool IsImpossibleOffset(const absl::Status& s) {
  return Is(s, ErrorKind::kImpossibleOffset);
}
bool IsInvalidShard(const absl::Status& s) {
  return Is(s, ErrorKind::kInvalidShard);
}
bool IsFutureOffset(const absl::Status& s) {
  return Is(s, ErrorKind::kFutureOffset);
}
bool IsPurgedOffset(const absl::Status& s) {
  return Is(s, ErrorKind::kPurgedOffset);
}
bool IsOffsetOverflow(const absl::Status& s) {
  return Is(s, ErrorKind::kOffsetOverflow);
}
bool IsOutOfMemory(const absl::Status& s) {
  // The bare form is what internal::OutOfMemoryError() returns when even the
  // message could not be allocated.
  return Is(s, ErrorKind::kOutOfMemory) ||
         (s.code() == absl::StatusCode::kResourceExhausted &&
          s.message().empty() && !s.GetPayload(kKindUrl).has_value());
}
bool IsClosed(const absl::Status& s) {
  return Is(s, ErrorKind::kClosed);
}
bool IsLagged(const absl::Status& s) {
  return Is(s, ErrorKind::kLagged);
}
bool IsWaitCancelled(const absl::Status& s) {
  return Is(s, ErrorKind::kWaitCancelled);
}
bool IsWaitTimedOut(const absl::Status& s) {
  return Is(s, ErrorKind::kWaitTimedOut);
}
bool IsKeyNotFound(const absl::Status& s) {
  return Is(s, ErrorKind::kKeyNotFound);
}
bool IsBadSharder(const absl::Status& s) {
  return Is(s, ErrorKind::kBadSharder);
}
bool IsCallbackFailed(const absl::Status& s) {
  return Is(s, ErrorKind::kCallbackFailed);
}

int64_t LaggedCount(const absl::Status& status) {
  if (!IsLagged(status)) return 0;
  const auto payload = status.GetPayload(kLaggedUrl);
  if (!payload.has_value()) return 0;
  const std::string text(*payload);
  const size_t digits = text.starts_with(kLowerBoundMark) ? 2 : 0;
  int64_t missed = 0;
  std::from_chars(text.data() + digits, text.data() + text.size(), missed);
  return missed;
}

bool IsLaggedCountExact(const absl::Status& status) {
  if (!IsLagged(status)) return false;
  const auto payload = status.GetPayload(kLaggedUrl);
  return payload.has_value() && !payload->StartsWith(kLowerBoundMark);
}

absl::Status MakeError(ErrorKind kind, std::string message) {
  const KindInfo& info = InfoOf(kind);
  absl::Status status(info.code, std::move(message));
  status.SetPayload(kKindUrl, absl::Cord(info.name));
  return status;
}

absl::Status MakeLaggedError(int64_t missed, bool exact, std::string message) {
  absl::Status status = MakeError(ErrorKind::kLagged, std::move(message));
  status.SetPayload(kLaggedUrl,
                    absl::Cord(absl::StrCat(exact ? "" : kLowerBoundMark,
                                            missed)));
  return status;
}

namespace internal {

absl::Status OutOfMemoryError(std::string_view what) noexcept {
  try {
    return MakeError(ErrorKind::kOutOfMemory,
                     absl::StrCat("out of memory for ",
                                  absl::string_view(what.data(), what.size()),
                                  "; the call did not complete, retry once "
                                  "memory is available"));
  } catch (...) {
    return absl::Status(absl::StatusCode::kResourceExhausted, "");
  }
}

absl::Status CallbackFailedError(std::string_view callback) noexcept {
  try {
    std::string what = "an exception that is not a std::exception";
    try {
      throw;
    } catch (const std::exception& e) {
      what = absl::StrCat("std::exception: ", e.what());
    } catch (...) {
    }
    return MakeError(ErrorKind::kCallbackFailed,
                     absl::StrCat(absl::string_view(callback.data(), callback.size()),
                                  " threw ", what,
                                  "; it must not throw, and nothing was "
                                  "changed"));
  } catch (...) {
    return OutOfMemoryError("the error of a failed callback");
  }
}

}  // namespace internal
}  // namespace memlog
