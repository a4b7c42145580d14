// Copyright memlog authors.

#include "memlog/options.h"

#include <string_view>

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
  if (absl::Status s = CheckRange("max_record_bytes", options.max_record_bytes,
                                  1, kMaxRecordBytesLimit);
      !s.ok()) {
    return s;
  }
  if (options.max_segment_bytes.has_value()) {
    if (absl::Status s =
            CheckRange("max_segment_bytes", *options.max_segment_bytes,
                       kMinSegmentBytes, kMaxSegmentBytes);
        !s.ok()) {
      return s;
    }
  }
  if (options.max_age.has_value() &&
      (*options.max_age < kMinMaxAge || *options.max_age > kMaxMaxAge)) {
    return MakeError(
        ErrorKind::kInvalidOptions,
        absl::StrCat("Options::max_age is ",
                     absl::FormatDuration(*options.max_age),
                     "; valid range is [", absl::FormatDuration(kMinMaxAge),
                     ", ", absl::FormatDuration(kMaxMaxAge), "]"));
  }
  if (options.wait_spin < absl::ZeroDuration() ||
      options.wait_spin > absl::Seconds(1)) {
    return MakeError(ErrorKind::kInvalidOptions,
                     absl::StrCat("Options::wait_spin is ",
                                  absl::FormatDuration(options.wait_spin),
                                  "; valid range is [0, 1s]"));
  }
  return absl::OkStatus();
}

absl::Status ValidateRecordData(std::string_view data,
                                int64_t max_record_bytes) {
  if (data.empty()) {
    return MakeError(ErrorKind::kEmptyRecord,
                     "record data is empty; a record holds at least 1 byte");
  }
  if (static_cast<int64_t>(data.size()) > max_record_bytes) {
    return MakeError(ErrorKind::kRecordTooLarge,
                     absl::StrCat("record of ", data.size(),
                                  " bytes is larger than "
                                  "Options::max_record_bytes (",
                                  max_record_bytes, ")"));
  }
  return absl::OkStatus();
}

}  // namespace memlog
