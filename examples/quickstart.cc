// Copyright memlog authors.
//
// The smallest memlog program: create a log, write a record, read it back.
// Mirrors the Go memlog `Example` and prints the same lines:
//
//   reading record at offset 0
//   Data: Hello World

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "memlog/log.h"

int main() {
  // Default options: start offset 0, 1024 records per segment, records of up
  // to 1 MiB.
  absl::StatusOr<std::unique_ptr<memlog::Log>> log = memlog::Log::Create();
  if (!log.ok()) {
    absl::PrintF("create log: %s\n", log.status().ToString());
    return 1;
  }

  // Write copies the bytes into the log and returns the record's offset.
  absl::StatusOr<memlog::Offset> offset = (*log)->Write("Hello World");
  if (!offset.ok()) {
    absl::PrintF("write: %s\n", offset.status().ToString());
    return 1;
  }

  absl::PrintF("reading record at offset %d\n", *offset);
  // Read returns an owning copy; ReadView would return the bytes in place.
  absl::StatusOr<memlog::Record> record = (*log)->Read(*offset);
  if (!record.ok()) {
    absl::PrintF("read: %s\n", record.status().ToString());
    return 1;
  }
  absl::PrintF("Data: %s\n", record->data);
  return 0;
}
