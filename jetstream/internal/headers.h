// Copyright memlog authors.
//
// The headers memlog puts on its JetStream messages. Internal.

#ifndef MEMLOG_JETSTREAM_INTERNAL_HEADERS_H_
#define MEMLOG_JETSTREAM_INTERNAL_HEADERS_H_

#include <nats/nats.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"

namespace memlog::jetstream::internal {

inline constexpr char kOffsetHeader[] = "Memlog-Offset";
inline constexpr char kCreatedHeader[] = "Memlog-Created";
inline constexpr char kKeyHeader[] = "Memlog-Key";

// The decimal integer header `name` of `msg`, or nullopt if absent or bad.
inline std::optional<int64_t> IntHeader(natsMsg* msg, const char* name) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, name, &value) != NATS_OK || value == nullptr) {
    return std::nullopt;
  }
  int64_t parsed = 0;
  if (!absl::SimpleAtoi(value, &parsed)) return std::nullopt;
  return parsed;
}

}  // namespace memlog::jetstream::internal

#endif  // MEMLOG_JETSTREAM_INTERNAL_HEADERS_H_
