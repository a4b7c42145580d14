// Copyright memlog authors.

#include "memlog/stream.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "memlog/log.h"

namespace memlog {

absl::Status Stream::SkipPurged(const absl::Status& out_of_range) {
  if (position_ < log_->options().start_offset) return out_of_range;
  const Offset earliest = log_->Range().earliest;
  // The read saw the purge, so `earliest` is past the position; the check
  // keeps a stream from ever moving backwards regardless.
  if (earliest <= position_) return absl::OkStatus();
  const int64_t missed = earliest - position_;
  const Offset from = position_;
  position_ = earliest;
  return MakeLaggedError(
      missed, absl::StrCat("stream fell behind: ", missed,
                           " records from offset ", from,
                           " were purged; continuing from offset ", earliest));
}

absl::StatusOr<RecordView> Stream::Next() {
  return NextUntil(absl::InfiniteFuture());
}

absl::StatusOr<RecordView> Stream::NextUntil(absl::Time deadline) {
  RecordView record;
  ReadResult result = NextBatch(absl::MakeSpan(&record, 1), deadline);
  if (!result.ok()) return result.status;
  return record;
}

ReadResult Stream::NextBatch(absl::Span<RecordView> batch,
                             absl::Time deadline) {
  if (batch.empty()) return {};
  for (;;) {
    if (stop_.stop_requested()) {
      return {0, MakeError(ErrorKind::kCancelled,
                           absl::StrCat("stream at offset ", position_,
                                        " was cancelled"))};
    }
    ReadResult result = log_->ReadBatchView(position_, batch);
    position_ += static_cast<Offset>(result.count);
    if (result.count > 0) return {result.count, absl::OkStatus()};
    if (memlog::IsOutOfRange(result.status)) {
      absl::Status skipped = SkipPurged(result.status);
      if (skipped.ok()) continue;
      return {0, std::move(skipped)};
    }
    // Not written yet: sleep until it is (or the stream must stop).
    if (absl::Status waited = log_->WaitFor(position_, deadline, stop_);
        !waited.ok()) {
      return {0, waited};
    }
  }
}

}  // namespace memlog
