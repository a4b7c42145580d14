// Copyright memlog authors.
//
// memlog::Reader: reads records of a log without touching any counter that
// other readers share.
//
// Log::ReadView() pins the record's segment with an atomic reference count,
// so each view is a free-standing value; that count is one cache line all
// readers write. A Reader instead keeps the (at most two) segments it last
// read from pinned, and reads further records of them with plain loads: no
// atomic read-modify-write per record, no contention between readers. It
// re-pins only when a read reaches a segment it does not hold.
//
//   memlog::Reader reader(*log);
//   for (memlog::Offset offset : offsets) {
//     absl::StatusOr<memlog::BorrowedRecord> record = reader.Read(offset);
//     if (record.ok()) Send(record->data());  // valid until the next Read()
//   }
//
// Thread-safety: a Reader is used by one thread at a time (it is a cursor);
// any number of Readers may read one log concurrently with its writers.
// Lifetime: the log must outlive the Reader. A BorrowedRecord stays valid
// until the next call on the Reader that returned it, or its destruction;
// copy the bytes (or use Log::ReadView) to keep them longer.
// NOTE: the segments a Reader holds stay allocated even after the log purges
// them; Release() (or destroying the Reader) lets them go. An idle Reader so
// keeps at most two segments of memory alive.

#ifndef MEMLOG_READER_H_
#define MEMLOG_READER_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <string_view>

#include "absl/base/attributes.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "memlog/internal/segment.h"
#include "memlog/options.h"

namespace memlog {

class Log;

// A record read through a Reader: its bytes stay in the log's storage and
// are valid until the Reader's next call (see above). Cheap to copy.
class BorrowedRecord {
 public:
  Offset offset() const { return offset_; }
  absl::Time created() const {
    return absl::FromUnixNanos(slot_.created_unix_nanos);
  }
  std::string_view data() const { return {slot_.data, slot_.size}; }

 private:
  friend class Reader;
  BorrowedRecord(const internal::Slot& slot, Offset offset)
      : slot_(slot), offset_(offset) {}

  internal::Slot slot_;
  Offset offset_;
};

class Reader {
 public:
  // REQUIRES: `log` outlives the Reader.
  explicit Reader(const Log& log);

  // Movable; not copyable (a copy would pin the same segments twice).
  Reader(Reader&&) noexcept = default;
  Reader& operator=(Reader&&) noexcept = default;
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Returns the record at `offset`, borrowed. Fails exactly as
  // Log::ReadView() does: IsFutureOffset if it is not written yet,
  // IsPurgedOffset if it was purged, IsImpossibleOffset if it lies before the
  // start offset or past kMaxOffset. Any `offset` is safe to pass.
  // Invalidates the record the previous call returned.
  ABSL_ATTRIBUTE_ALWAYS_INLINE absl::StatusOr<BorrowedRecord> Read(
      Offset offset) {
    for (size_t i = 0; i < pinned_.size(); ++i) {
      const internal::Segment* const segment = pinned_[i].get();
      if (segment == nullptr) continue;
      // Compared before subtracting: `offset` is unchecked and may be far
      // below the base (INT64_MIN), where the difference would overflow.
      const Offset base = segment->base();
      if (offset < base) continue;
      const Offset index = offset - base;
      if (index < segment->published()) {
        if (Purged(offset)) break;
        internal::Segment::Block& block = blocks_[i];
        if (index < block.first || index >= block.end) {
          block = segment->block_of(index);
        }
        return Borrow(segment->slot_in(block, index), offset);
      }
    }
    return ReadAndPin(offset);
  }

  // Lets go of the pinned segments; the next read pins again.
  void Release() {
    pinned_ = {};
    blocks_ = {};
  }

 private:
  static BorrowedRecord Borrow(const internal::Slot& slot, Offset offset) {
    return BorrowedRecord(slot, offset);
  }
  // Whether the log has purged `offset` (a pinned segment outlives its
  // purge; reads must agree with Log::Range()).
  bool Purged(Offset offset) const {
    return offset < earliest_->load(std::memory_order_acquire);
  }
  absl::StatusOr<BorrowedRecord> ReadAndPin(Offset offset);

  const Log* log_;
  // The log's earliest offset, read inline by Purged().
  const std::atomic<Offset>* earliest_;
  // The segments last read from; a read that needs another one replaces the
  // one with the older records. For each, the block of entries last read
  // from (empty at first).
  std::array<internal::SegmentRef, 2> pinned_;
  std::array<internal::Segment::Block, 2> blocks_;
};

}  // namespace memlog

#endif  // MEMLOG_READER_H_
