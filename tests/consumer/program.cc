// A program built outside the memlog repository, against its public headers
// only: it writes a few records to a memlog::Log and to a
// memlog::sharded::Log and reads them back.
#include <cstddef>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "memlog/log.h"
#include "memlog/status.h"
#include "sharded/log.h"

namespace {

absl::Status RunLog() {
  absl::StatusOr<std::unique_ptr<memlog::Log>> log =
      memlog::Log::Create({.segment_size = 16});
  if (!log.ok()) return log.status();

  for (std::string_view data : {"Hello", "from", "a consumer"}) {
    absl::StatusOr<memlog::Offset> offset = (*log)->Write(data);
    if (!offset.ok()) return offset.status();
  }

  const memlog::OffsetRange range = (*log)->Range();
  for (memlog::Offset offset = range.earliest; offset <= range.latest;
       ++offset) {
    absl::StatusOr<memlog::Record> record = (*log)->Read(offset);
    if (!record.ok()) return record.status();
    std::cout << "memlog " << record->metadata.offset << ": " << record->data
              << "\n";
  }
  return absl::OkStatus();
}

absl::Status RunShardedLog() {
  absl::StatusOr<std::unique_ptr<memlog::sharded::Log>> log =
      memlog::sharded::Log::Create({.num_shards = 4, .shard = {}});
  if (!log.ok()) return log.status();

  for (std::string_view user : {"tom", "sarah", "ajit"}) {
    absl::StatusOr<memlog::Offset> offset = (*log)->Write("users", user);
    if (!offset.ok()) return offset.status();
  }
  absl::StatusOr<memlog::Offset> group = (*log)->Write("groups", "friends");
  if (!group.ok()) return group.status();

  std::vector<memlog::sharded::Record> users(10);
  memlog::ReadResult read =
      (*log)->ReadBatch("users", 0, absl::MakeSpan(users));
  // Running out of the key's records before the batch is full is expected.
  if (!read.ok() && !memlog::IsFutureOffset(read.status)) return read.status;
  std::cout << "sharded: reading all users...\n";
  for (size_t i = 0; i < static_cast<size_t>(read.count); ++i) {
    std::cout << "- " << users[i].data << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

int main() {
  absl::Status status = RunLog();
  if (status.ok()) status = RunShardedLog();
  if (!status.ok()) {
    std::cerr << "error: " << status << "\n";
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
