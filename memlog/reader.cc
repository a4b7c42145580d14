// Copyright memlog authors.

#include "memlog/reader.h"

#include <utility>

#include "memlog/internal/errors.h"
#include "memlog/log.h"

namespace memlog {

Reader::Reader(const Log& log) : log_(&log), earliest_(&log.earliest_) {}

absl::StatusOr<BorrowedRecord> Reader::ReadAndPin(Offset offset) try {
  absl::StatusOr<internal::SegmentRef> segment = log_->AcquireSegment(offset);
  if (!segment.ok()) return segment.status();
  // Keep the newer of the two pinned segments (and any empty place): readers
  // mostly move forward, from the history into the active segment.
  internal::SegmentRef& replaced =
      !pinned_[0] ? pinned_[0]
      : !pinned_[1]
          ? pinned_[1]
          : (pinned_[0]->base() < pinned_[1]->base() ? pinned_[0]
                                                     : pinned_[1]);
  replaced = *std::move(segment);
  blocks_[static_cast<size_t>(&replaced - pinned_.data())] = {};
  return Borrow(replaced->slot(offset - replaced->base()), offset);
} catch (const std::bad_alloc&) {
  return internal::OutOfMemoryError("the read's status");
}

}  // namespace memlog
