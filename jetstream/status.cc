// Copyright memlog authors.

#include "jetstream/status.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace memlog::jetstream {
namespace {

constexpr char kKindUrl[] = "memlog.dev/jetstream/ErrorKind";
constexpr char kCountUrl[] = "memlog.dev/jetstream/LostCount";

struct KindInfo {
  ErrorKind kind;
  const char* name;
  absl::StatusCode code;
};

constexpr KindInfo kKinds[] = {
    {ErrorKind::kStreamNotFound, "stream_not_found",
     absl::StatusCode::kNotFound},
    {ErrorKind::kForeignMessage, "foreign_message",
     absl::StatusCode::kFailedPrecondition},
    {ErrorKind::kSequenceConflict, "sequence_conflict",
     absl::StatusCode::kAborted},
    {ErrorKind::kRecordsLost, "records_lost", absl::StatusCode::kDataLoss},
    {ErrorKind::kSequenceGap, "sequence_gap", absl::StatusCode::kDataLoss},
    {ErrorKind::kRecordRefused, "record_refused",
     absl::StatusCode::kFailedPrecondition},
    {ErrorKind::kUnavailable, "unavailable", absl::StatusCode::kUnavailable},
    {ErrorKind::kNatsError, "nats_error", absl::StatusCode::kInternal},
};

const KindInfo& InfoOf(ErrorKind kind) {
  for (const KindInfo& info : kKinds) {
    if (info.kind == kind) return info;
  }
  return kKinds[0];  // unreachable: every enumerator is listed
}

bool Is(const absl::Status& status, ErrorKind kind) {
  if (status.ok()) return false;
  const KindInfo& info = InfoOf(kind);
  if (status.code() != info.code) return false;
  const auto payload = status.GetPayload(kKindUrl);
  return payload.has_value() && *payload == info.name;
}

}  // namespace

bool IsStreamNotFound(const absl::Status& s) {
  return Is(s, ErrorKind::kStreamNotFound);
}
bool IsForeignMessage(const absl::Status& s) {
  return Is(s, ErrorKind::kForeignMessage);
}
bool IsSequenceConflict(const absl::Status& s) {
  return Is(s, ErrorKind::kSequenceConflict);
}
bool IsRecordsLost(const absl::Status& s) {
  return Is(s, ErrorKind::kRecordsLost);
}
bool IsSequenceGap(const absl::Status& s) {
  return Is(s, ErrorKind::kSequenceGap);
}
bool IsRecordRefused(const absl::Status& s) {
  return Is(s, ErrorKind::kRecordRefused);
}
bool IsServerUnavailable(const absl::Status& s) {
  return Is(s, ErrorKind::kUnavailable);
}
bool IsNatsError(const absl::Status& s) { return Is(s, ErrorKind::kNatsError); }

int64_t LostCount(const absl::Status& status) {
  if (!IsRecordsLost(status) && !IsSequenceGap(status)) return 0;
  const auto payload = status.GetPayload(kCountUrl);
  int64_t count = 0;
  if (!payload.has_value() ||
      !absl::SimpleAtoi(std::string(*payload), &count)) {
    return 0;
  }
  return count;
}

absl::Status MakeError(ErrorKind kind, std::string message, int64_t count) {
  const KindInfo& info = InfoOf(kind);
  absl::Status status(info.code, std::move(message));
  status.SetPayload(kKindUrl, absl::Cord(info.name));
  if (kind == ErrorKind::kRecordsLost || kind == ErrorKind::kSequenceGap) {
    status.SetPayload(kCountUrl, absl::Cord(absl::StrCat(count)));
  }
  return status;
}

}  // namespace memlog::jetstream
