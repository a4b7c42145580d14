// Copyright memlog authors.

#include "jetstream/internal/nats_status.h"

#include "absl/strings/str_cat.h"
#include "jetstream/status.h"

namespace memlog::jetstream::internal {

absl::Status FromNats(natsStatus s, jsErrCode error_code,
                      std::string_view what) {
  if (s == NATS_OK) return absl::OkStatus();
  std::string message = absl::StrCat(std::string(what), ": ", natsStatus_GetText(s));
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0') absl::StrAppend(&message, " (", last, ")");
  if (error_code != 0) {
    absl::StrAppend(&message, " [JetStream error ", static_cast<int>(error_code),
                    "]");
  }
  if (error_code == JSStreamNotFoundErr) {
    return MakeError(ErrorKind::kStreamNotFound, std::move(message));
  }
  switch (s) {
    case NATS_TIMEOUT:
    case NATS_NO_SERVER:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NO_RESPONDERS:
    case NATS_STALE_CONNECTION:
    case NATS_IO_ERROR:
      return MakeError(ErrorKind::kUnavailable, std::move(message));
    default:
      break;
  }
  if (error_code == JSClusterNotAvailErr || error_code == JSNotEnabledErr ||
      error_code == JSStreamOfflineErr || error_code == JSClusterNoPeersErr) {
    return MakeError(ErrorKind::kUnavailable, std::move(message));
  }
  return MakeError(ErrorKind::kNatsError, std::move(message));
}

}  // namespace memlog::jetstream::internal
