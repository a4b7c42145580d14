// Copyright memlog authors.
//
// A log partitioned by key: records of "users" and "groups" go to their
// shards, and reading a key returns only its own records, in write order.
// Mirrors the Go sharded package's README example and prints the same lines:
//
//   reading all users...
//   - tom
//   - sarah
//   - ajit

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/types/span.h"
#include "memlog/status.h"
#include "sharded/log.h"

int main() {
  // Default options: 1000 shards, keys routed by their hash. Shards take
  // memory only once written to.
  absl::StatusOr<std::unique_ptr<memlog::sharded::Log>> log =
      memlog::sharded::Log::Create();
  if (!log.ok()) {
    absl::PrintF("create log: %s\n", log.status().ToString());
    return 1;
  }

  const std::vector<std::pair<std::string, std::vector<std::string>>> data = {
      {"users", {"tom", "sarah", "ajit"}},
      {"groups", {"friends", "family", "colleagues"}},
  };
  for (const auto& [key, values] : data) {
    for (const std::string& value : values) {
      if (absl::StatusOr<memlog::Offset> offset = (*log)->Write(key, value);
          !offset.ok()) {
        absl::PrintF("write: %s\n", offset.status().ToString());
        return 1;
      }
    }
  }

  absl::PrintF("reading all users...\n");
  // A key's offsets are its shard's offsets: increasing, but with gaps where
  // other keys of the shard wrote. So walk the key with ReadBatch, which
  // returns the key's next records at or after an offset, rather than with
  // offset + 1.
  memlog::Offset offset = 0;
  std::vector<memlog::sharded::Record> batch(2);
  for (;;) {
    memlog::ReadResult read =
        (*log)->ReadBatch("users", offset, absl::MakeSpan(batch));
    for (size_t i = 0; i < static_cast<size_t>(read.count); ++i) {
      absl::PrintF("- %s\n", batch[i].data);
      offset = batch[i].metadata.offset + 1;
    }
    if (memlog::IsFutureOffset(read.status)) break;  // the key's end
    if (!read.ok()) {
      absl::PrintF("read: %s\n", read.status.ToString());
      return 1;
    }
  }
  return 0;
}
