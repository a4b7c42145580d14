// Copyright memlog authors.
//
// The records of a sharded log: the owning `Record` and the zero-copy
// `RecordView`, each carrying the key it was written under.
//
//   absl::StatusOr<memlog::sharded::RecordView> view =
//       log->ReadView("users", offset);
//   if (view.ok()) Greet(view->key(), view->data());  // no copies
//
// Thread-safety: these are values. Distinct objects may be used from distinct
// threads freely; one object may be read (const calls) from many threads at
// once. A RecordView may be copied to and destroyed on any thread.

#ifndef MEMLOG_SHARDED_RECORD_H_
#define MEMLOG_SHARDED_RECORD_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/time/time.h"
#include "memlog/record.h"

namespace memlog::sharded {

// The longest key a sharded log accepts, in bytes.
inline constexpr size_t kMaxKeyBytes = size_t{64} << 10;  // 64 KiB

// A record to write with its key, for Log::WriteBatch(). Refers to the
// caller's bytes, which must stay valid during the call.
struct KeyedRecord {
  std::string_view key;
  std::string_view data;
};

namespace internal {
struct RecordAccess;
}  // namespace internal

// A record with its own copy of the key and the bytes.
struct Record {
  // `metadata.offset` is the record's offset in its shard (see sharded/log.h
  // for what offsets mean in a sharded log).
  Header metadata;
  std::string key;
  std::string data;

  friend bool operator==(const Record&, const Record&) = default;
};

// A record read in place: `key()` and `data()` point into the shard's storage,
// not into copies.
//
// Lifetime: as for memlog::RecordView, the bytes stay valid and unchanged for
// as long as this view (or a copy of it) exists, even after the record is
// purged and after the log is destroyed. PERFORMANCE WARNING: a view held for
// long keeps the memory of a whole segment of its shard alive; copy the record
// (`ToRecord()`) to keep just it.
//
// A default-constructed view is empty: offset() is kInvalidOffset, key() and
// data() are empty.
class RecordView {
 public:
  RecordView() = default;

  Offset offset() const { return record_.offset(); }
  absl::Time created() const { return record_.created(); }
  Header metadata() const { return record_.metadata(); }
  std::string_view key() const {
    return record_.data().substr(key_begin_, key_size_);
  }
  std::string_view data() const {
    return record_.data().substr(key_begin_ + key_size_);
  }

  // Returns an owning copy of the record.
  Record ToRecord() const {
    return {metadata(), std::string(key()), std::string(data())};
  }

 private:
  friend struct internal::RecordAccess;

  RecordView(memlog::RecordView record, uint32_t key_begin, uint32_t key_size)
      : record_(std::move(record)),
        key_begin_(key_begin),
        key_size_(key_size) {}

  // The stored record: [varint key length][key][data].
  memlog::RecordView record_;
  uint32_t key_begin_ = 0;
  uint32_t key_size_ = 0;
};

}  // namespace memlog::sharded

#endif  // MEMLOG_SHARDED_RECORD_H_
