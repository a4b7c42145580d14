// Copyright memlog authors.

#include "memlog/options.h"


#include "absl/strings/str_cat.h"
#include "memlog/status.h"

namespace memlog {
namespace {

absl::Status CheckRange(const char* field, int64_t value, int64_t low,
                        int64_t high) {
  if (value >= low && value <= high) return absl::OkStatus();
  return MakeError(ErrorKind::kInvalidOptions,
                   absl::StrCat("Options::", field, " is ", value,
                                "; valid range is [", low, ", ", high, "]"));
}

}  // namespace

absl::Status ValidateOptions(const Options& options) {
  if (absl::Status s =
          CheckRange("start_offset", options.start_offset, 0, kMaxOffset);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckRange("segment_size", options.segment_size, 1,
                                  kMaxSegmentSize);
      !s.ok()) {
    return s;
  }
  return CheckRange("max_record_bytes", options.max_record_bytes, 1,
                    kMaxRecordBytesLimit);
}

}  // namespace memlog
