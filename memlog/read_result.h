// Copyright memlog authors.
//
// memlog::ReadResult: the outcome of a batch read, which can be partly
// successful.

#ifndef MEMLOG_READ_RESULT_H_
#define MEMLOG_READ_RESULT_H_

#include <cstdint>

#include "absl/status/status.h"

namespace memlog {

// How many entries of a batch were filled (always from index 0), and why the
// read stopped short, if it did. What happens to entries at `count` and beyond
// is up to each call (ReadBatch leaves them unchanged, ReadBatchView empties
// them).
// A result can carry both: e.g. 5 records and a future-offset status when the
// batch ran past the end of the log.
//
// `count` is an int64_t, like offsets, so that `start + count` needs no cast.
struct [[nodiscard]] ReadResult {
  int64_t count = 0;
  absl::Status status;

  bool ok() const { return status.ok(); }
};

}  // namespace memlog

#endif  // MEMLOG_READ_RESULT_H_
