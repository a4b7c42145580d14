// Copyright memlog authors.
//
// Turns nats.c's results into memlog::jetstream statuses. Internal.

#ifndef MEMLOG_JETSTREAM_INTERNAL_NATS_STATUS_H_
#define MEMLOG_JETSTREAM_INTERNAL_NATS_STATUS_H_

#include <string_view>

#include <nats/nats.h>

#include "absl/status/status.h"

namespace memlog::jetstream::internal {

// The status of a nats.c call `what` that returned `s` and, for JetStream
// API calls, the server's `error_code` (0 if none): IsStreamNotFound,
// IsServerUnavailable (timeouts, no connection, no responders) or IsNatsError.
absl::Status FromNats(natsStatus s, jsErrCode error_code,
                      std::string_view what);

}  // namespace memlog::jetstream::internal

#endif  // MEMLOG_JETSTREAM_INTERNAL_NATS_STATUS_H_
