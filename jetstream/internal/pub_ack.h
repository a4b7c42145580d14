// Copyright memlog authors.
//
// The JetStream publish acknowledgement, read from the server's reply:
//   {"stream":"EVENTS","seq":7}                      stored at sequence 7
//   {"stream":"EVENTS","seq":7,"duplicate":true}     already stored, at 7
//   {"error":{"code":400,"err_code":10071,"description":"wrong last ..."}}
// The Publisher publishes with its own reply subjects (jetstream/publisher.cc
// says why), so it reads the replies itself. Internal.
//
// Thread-safety: pure functions.

#ifndef MEMLOG_JETSTREAM_INTERNAL_PUB_ACK_H_
#define MEMLOG_JETSTREAM_INTERNAL_PUB_ACK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace memlog::jetstream::internal {

struct PubAck {
  bool stored = false;  // false: the server refused the message (see error)
  uint64_t sequence = 0;
  bool duplicate = false;
  int64_t error_code = 0;  // JetStream's err_code, when refused
  std::string error;       // the server's description, when refused
};

// Parses `json`; nullopt if it is not a publish acknowledgement (malformed,
// or neither a sequence nor an error).
std::optional<PubAck> ParsePubAck(std::string_view json);

}  // namespace memlog::jetstream::internal

#endif  // MEMLOG_JETSTREAM_INTERNAL_PUB_ACK_H_
