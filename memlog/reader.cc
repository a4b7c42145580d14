// Copyright memlog authors.

#include "memlog/reader.h"

#include <utility>

#include "memlog/internal/errors.h"
#include "memlog/log.h"

namespace memlog {

bool Reader::Purged(Offset offset) const {
  return offset < log_->earliest_.load(std::memory_order_acquire);
}

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
  return Borrow(replaced->slot(offset - replaced->base()), offset);
} catch (const std::bad_alloc&) {
  return internal::OutOfMemoryError("the read's status");
}

}  // namespace memlog
