// Copyright memlog authors.
//
// memlog::ReadResult: the outcome of a batch read, which can be partly
// successful.

#ifndef MEMLOG_READ_RESULT_H_
#define MEMLOG_READ_RESULT_H_

#include <cstddef>

#include "absl/status/status.h"

namespace memlog {

// How many entries of a batch were filled (always from index 0), and why the
// read stopped short, if it did. Entries at `count` and beyond are unchanged.
// A result can carry both: e.g. 5 records and a future-offset status when the
// batch ran past the end of the log.
struct [[nodiscard]] ReadResult {
  size_t count = 0;
  absl::Status status;

  bool ok() const { return status.ok(); }
};

}  // namespace memlog

#endif  // MEMLOG_READ_RESULT_H_
