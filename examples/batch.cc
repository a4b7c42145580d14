// Copyright memlog authors.
//
// Reads a log in batches, stopping at its end. Mirrors the Go memlog
// `Example (Batch)` and prints the same lines: 15 records read as a full
// batch of 10, then a partial batch of 5 that reaches the end of the log.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/types/span.h"
#include "memlog/log.h"

int main() {
  constexpr int kBatchSize = 10;

  absl::StatusOr<std::unique_ptr<memlog::Log>> log = memlog::Log::Create();
  if (!log.ok()) {
    absl::PrintF("create log: %s\n", log.status().ToString());
    return 1;
  }

  // Seed the log with data.
  for (int i = 0; i < 15; ++i) {
    const std::string data =
        absl::StrFormat(R"({"id":%d,"message","hello world"})", i);
    if (absl::StatusOr<memlog::Offset> offset = (*log)->Write(data);
        !offset.ok()) {
      absl::PrintF("write: %s\n", offset.status().ToString());
      return 1;
    }
  }

  memlog::Offset start = 0;
  std::vector<memlog::Record> batch(kBatchSize);
  absl::PrintF("reading batch starting at offset %d\n", start);
  memlog::ReadResult result = (*log)->ReadBatch(start, absl::MakeSpan(batch));
  if (!result.ok()) {
    absl::PrintF("read batch: %s\n", result.status.ToString());
    return 1;
  }
  absl::PrintF("records received in batch: %d\n", result.count);
  // Only the first `count` entries of the batch are valid.
  for (size_t i = 0; i < static_cast<size_t>(result.count); ++i) {
    const memlog::Record& r = batch[i];
    absl::PrintF("batch item: %d\toffset:%d\tdata: %s\n", i, r.metadata.offset,
                 r.data);
  }

  // Read the next batch; a partial batch with a future-offset status means
  // the end of the log was reached.
  start += static_cast<memlog::Offset>(result.count);
  absl::PrintF("reading batch starting at offset %d\n", start);
  result = (*log)->ReadBatch(start, absl::MakeSpan(batch));
  if (!result.ok()) {
    if (memlog::IsFutureOffset(result.status)) {
      absl::PrintF("reached end of log\n");
    } else {
      absl::PrintF("read batch: %s\n", result.status.ToString());
      return 1;
    }
  }
  absl::PrintF("records received in batch: %d\n", result.count);
  for (size_t i = 0; i < static_cast<size_t>(result.count); ++i) {
    const memlog::Record& r = batch[i];
    absl::PrintF("batch item: %d\toffset:%d\tdata: %s\n", i, r.metadata.offset,
                 r.data);
  }
  return 0;
}
