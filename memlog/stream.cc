// Copyright memlog authors.

#include "memlog/stream.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "memlog/internal/errors.h"
#include "memlog/log.h"

namespace memlog {

absl::Status Stream::SkipPurged() {
  // Not Range().earliest: when max_age purged every record, Range() is
  // empty, and the stream moves on to the next offset to be written.
  const Offset earliest = log_->earliest_.load(std::memory_order_acquire);
  // The read saw the purge, so `earliest` is past the position; the check
  // keeps a stream from ever moving backwards regardless.
  if (earliest <= position_) return absl::OkStatus();
  const int64_t missed = earliest - position_;
  // The report is made before the stream moves on, so that a failure to
  // make it (out of memory) leaves the lag to be reported by the next call.
  absl::Status lagged = MakeLaggedError(
      missed, /*exact=*/true,
      absl::StrCat("stream fell behind: ", missed, " records from offset ",
                   position_, " were purged; continuing from offset ",
                   earliest));
  position_ = earliest;
  log_->CountLag(missed);
  return lagged;
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
                             absl::Time deadline) try {
  if (batch.empty()) return {};
  for (;;) {
    if (stop_.stop_requested()) {
      return {0, MakeError(ErrorKind::kWaitCancelled,
                           absl::StrCat("stream at offset ", position_,
                                        " was cancelled"))};
    }
    // A stream that has caught up waits without asking for a record first:
    // the read would build a future-offset status, with its message, each
    // time. NextOffset(), not Range(): Range() is empty once max_age purged
    // every record, while writing goes on past the start offset.
    if (position_ >= log_->NextOffset() && position_ <= kMaxOffset) {
      if (absl::Status waited = log_->WaitFor(position_, deadline, stop_);
          !waited.ok()) {
        return {0, waited};
      }
      continue;
    }
    ReadResult result = log_->ReadBatchView(position_, batch);
    position_ += result.count;
    if (result.count > 0) return {result.count, absl::OkStatus()};
    if (IsPurgedOffset(result.status)) {
      absl::Status skipped = SkipPurged();
      if (skipped.ok()) continue;
      return {0, std::move(skipped)};
    }
    // Before the start offset or past kMaxOffset: no record can come.
    if (!IsFutureOffset(result.status)) return {0, std::move(result.status)};
    // Not written yet: sleep until it is (or the stream must stop).
    if (absl::Status waited = log_->WaitFor(position_, deadline, stop_);
        !waited.ok()) {
      return {0, waited};
    }
  }
} catch (const std::bad_alloc&) {
  return {0, internal::OutOfMemoryError("the stream's status")};
}

absl::StatusOr<RecordView> Stream::TryNext() {
  RecordView record;
  ReadResult result = TryNextBatch(absl::MakeSpan(&record, 1));
  if (!result.ok()) return result.status;
  return record;
}

ReadResult Stream::TryNextBatch(absl::Span<RecordView> batch) try {
  if (batch.empty()) return {};
  bool saw_closed = false;
  for (;;) {
    if (stop_.stop_requested()) {
      return {0, MakeError(ErrorKind::kWaitCancelled,
                           absl::StrCat("stream at offset ", position_,
                                        " was cancelled"))};
    }
    ReadResult result = log_->ReadBatchView(position_, batch);
    position_ += result.count;
    if (result.count > 0) return {result.count, absl::OkStatus()};
    if (IsPurgedOffset(result.status)) {
      absl::Status skipped = SkipPurged();
      if (skipped.ok()) continue;
      return {0, std::move(skipped)};
    }
    if (!IsFutureOffset(result.status)) return {0, std::move(result.status)};
    if (saw_closed) {
      return {0, MakeError(ErrorKind::kClosed,
                           absl::StrCat("log is closed; the stream returned "
                                        "every record, up to offset ",
                                        position_ - 1))};
    }
    // The close is published after the last write, so one more read once it
    // shows finds every record written before it.
    if (!log_->closed()) return {0, std::move(result.status)};
    saw_closed = true;
  }
} catch (const std::bad_alloc&) {
  return {0, internal::OutOfMemoryError("the stream's status")};
}

absl::StatusOr<WriteNotification> Stream::NotifyWhenReady(
    WriteHandler handler) const {
  return log_->NotifyWhenWritten(position_, std::move(handler));
}

}  // namespace memlog
