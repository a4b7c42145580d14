// Copyright memlog authors.

#include "memlog/status.h"

#include <array>
#include <charconv>
#include <string>
#include <utility>

#include "absl/strings/cord.h"

namespace memlog {
namespace {

// The payload that marks a status as memlog's, and of which kind.
constexpr char kKindUrl[] = "memlog.dev/ErrorKind";
// The payload that carries LaggedCount().
constexpr char kLaggedUrl[] = "memlog.dev/LaggedCount";

struct KindInfo {
  ErrorKind kind;
  const char* name;
  absl::StatusCode code;
};

constexpr std::array<KindInfo, 13> kKinds = {{
    {ErrorKind::kInvalidOptions, "invalid_options",
     absl::StatusCode::kInvalidArgument},
    {ErrorKind::kEmptyRecord, "empty_record",
     absl::StatusCode::kInvalidArgument},
    {ErrorKind::kRecordTooLarge, "record_too_large",
     absl::StatusCode::kInvalidArgument},
    {ErrorKind::kInvalidKey, "invalid_key", absl::StatusCode::kInvalidArgument},
    {ErrorKind::kFutureOffset, "future_offset", absl::StatusCode::kOutOfRange},
    {ErrorKind::kOutOfRange, "out_of_range", absl::StatusCode::kOutOfRange},
    {ErrorKind::kOffsetOverflow, "offset_overflow",
     absl::StatusCode::kResourceExhausted},
    {ErrorKind::kClosed, "closed", absl::StatusCode::kFailedPrecondition},
    {ErrorKind::kLagged, "lagged", absl::StatusCode::kDataLoss},
    {ErrorKind::kCancelled, "cancelled", absl::StatusCode::kCancelled},
    {ErrorKind::kDeadlineExceeded, "deadline_exceeded",
     absl::StatusCode::kDeadlineExceeded},
    {ErrorKind::kKeyNotFound, "key_not_found", absl::StatusCode::kNotFound},
    {ErrorKind::kBadSharder, "bad_sharder", absl::StatusCode::kInternal},
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
bool IsFutureOffset(const absl::Status& s) {
  return Is(s, ErrorKind::kFutureOffset);
}
bool IsOutOfRange(const absl::Status& s) {
  return Is(s, ErrorKind::kOutOfRange);
}
bool IsOffsetOverflow(const absl::Status& s) {
  return Is(s, ErrorKind::kOffsetOverflow);
}
bool IsClosed(const absl::Status& s) { return Is(s, ErrorKind::kClosed); }
bool IsLagged(const absl::Status& s) { return Is(s, ErrorKind::kLagged); }
bool IsCancelled(const absl::Status& s) {
  return Is(s, ErrorKind::kCancelled);
}
bool IsDeadlineExceeded(const absl::Status& s) {
  return Is(s, ErrorKind::kDeadlineExceeded);
}
bool IsKeyNotFound(const absl::Status& s) {
  return Is(s, ErrorKind::kKeyNotFound);
}
bool IsBadSharder(const absl::Status& s) {
  return Is(s, ErrorKind::kBadSharder);
}

int64_t LaggedCount(const absl::Status& status) {
  if (!IsLagged(status)) return 0;
  const auto payload = status.GetPayload(kLaggedUrl);
  if (!payload.has_value()) return 0;
  const std::string text(*payload);
  int64_t missed = 0;
  std::from_chars(text.data(), text.data() + text.size(), missed);
  return missed;
}

absl::Status MakeError(ErrorKind kind, std::string message) {
  const KindInfo& info = InfoOf(kind);
  absl::Status status(info.code, message);
  status.SetPayload(kKindUrl, absl::Cord(info.name));
  return status;
}

absl::Status MakeLaggedError(int64_t missed, std::string message) {
  absl::Status status = MakeError(ErrorKind::kLagged, std::move(message));
  status.SetPayload(kLaggedUrl, absl::Cord(std::to_string(missed)));
  return status;
}

}  // namespace memlog
