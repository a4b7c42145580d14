// Copyright memlog authors.

#include "memlog/replica.h"

#include <utility>

#include "absl/strings/cord.h"

namespace memlog {
namespace {

// Not an ErrorKind of memlog/status.h: only mirrors make this error.
constexpr char kReplicaRefusedUrl[] = "memlog.dev/ReplicaRefused";

}  // namespace

absl::StatusOr<Offset> ReplicaWriter::Append(Log& log, Offset offset,
                                             absl::Time created,
                                             std::string_view data) {
  const internal::ReplicaPosition position{offset, absl::ToUnixNanos(created)};
  absl::StatusOr<Offset> written = log.Append(data, &position);
  // As Write(): the handlers run after the writer lock is released.
  if (written.ok()) log.NotifyWritten(*written);
  return written;
}

bool IsReplicaRefused(const absl::Status& status) {
  return !status.ok() &&
         status.code() == absl::StatusCode::kFailedPrecondition &&
         status.GetPayload(kReplicaRefusedUrl).has_value();
}

namespace internal {
absl::Status ReplicaRefusedError(std::string message) {
  absl::Status status(absl::StatusCode::kFailedPrecondition, message);
  status.SetPayload(kReplicaRefusedUrl, absl::Cord("replica_refused"));
  return status;
}
}  // namespace internal

}  // namespace memlog
