// Copyright memlog authors.
//
// The records of a log: `Header`, the owning `Record` and the zero-copy
// `RecordView`.
//
//   absl::StatusOr<memlog::RecordView> view = log->ReadView(offset);
//   if (view.ok()) Consume(view->data());   // no copy of the payload
//
// Thread-safety: these are values. Distinct objects may be used from distinct
// threads freely; one object may be read (const calls) from many threads at
// once. A RecordView may be copied to and destroyed on any thread.

#ifndef MEMLOG_RECORD_H_
#define MEMLOG_RECORD_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "memlog/internal/segment.h"
#include "memlog/options.h"

namespace memlog {

// Metadata of a record.
struct Header {
  // The record's position in its log; kInvalidOffset in an empty Record.
  Offset offset = kInvalidOffset;
  // When the log accepted the write (UTC), from `Options::clock`.
  absl::Time created;

  friend bool operator==(const Header&, const Header&) = default;
};

// A record with its own copy of the bytes.
struct Record {
  Header metadata;
  std::string data;

  friend bool operator==(const Record&, const Record&) = default;
};

// A record read in place: `data()` points into the log's storage, not into a
// copy.
//
// Lifetime: the bytes stay valid and unchanged for as long as this view (or a
// copy of it) exists, even after the record is purged from the log and even
// after the log is destroyed: the view keeps the storage of the record's
// segment alive. PERFORMANCE WARNING: so a view held for long keeps a whole
// segment's memory alive; copy the record (`ToRecord()`) to keep just it.
//
// A default-constructed view is empty: offset() is kInvalidOffset and data()
// is empty.
class RecordView {
 public:
  RecordView() = default;

  Offset offset() const { return offset_; }
  absl::Time created() const { return absl::FromUnixNanos(created_); }
  Header metadata() const { return {offset(), created()}; }
  std::string_view data() const { return {data_, size_}; }

  // Returns an owning copy of the record.
  Record ToRecord() const { return {metadata(), std::string(data())}; }

 private:
  friend class Log;

  RecordView(internal::SegmentRef segment, const internal::Slot& slot,
             Offset offset)
      : segment_(std::move(segment)),
        data_(slot.data),
        size_(slot.size),
        created_(slot.created_unix_nanos),
        offset_(offset) {}

  internal::SegmentRef segment_;
  const char* data_ = nullptr;
  uint32_t size_ = 0;
  int64_t created_ = 0;
  Offset offset_ = kInvalidOffset;
};

}  // namespace memlog

#endif  // MEMLOG_RECORD_H_
