// Copyright memlog authors.
//
// memlog::Stream: reads a log in offset order, waiting for records that are
// not written yet.
//
//   absl::StatusOr<memlog::Stream> stream =
//       log->StreamFrom(offset, stop_source.get_token());
//   if (!stream.ok()) return stream.status();  // offset before the start
//   for (;;) {
//     absl::StatusOr<memlog::RecordView> record = stream->Next();
//     if (record.ok()) { Handle(*record); continue; }
//     if (memlog::IsLagged(record.status())) continue;  // some were purged
//     break;  // cancelled, or the log was closed and fully read
//   }
//
// Waiting sleeps on a condition variable that each write signals; an idle
// stream uses no CPU and wakes as soon as the record it waits for is written.
//
// Thread-safety: a Stream is used by one thread at a time (it is a cursor);
// any number of streams may read one log concurrently with its writers.
// Lifetime: the log must outlive the stream. The views a stream returns do
// not depend on the stream or the log (see RecordView).

#ifndef MEMLOG_STREAM_H_
#define MEMLOG_STREAM_H_

#include <cstddef>
#include <stop_token>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "memlog/notification.h"
#include "memlog/options.h"
#include "memlog/read_result.h"
#include "memlog/record.h"

namespace memlog {

class Log;

class Stream {
 public:
  // Streams are made by `Log::StreamFrom()`. Movable, not copyable: two
  // copies would silently share one position.
  Stream(Stream&&) noexcept = default;
  Stream& operator=(Stream&&) noexcept = default;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Returns the record at `position()` and advances past it, waiting until it
  // is written. Ends, without advancing, with:
  // - kCancelled (IsWaitCancelled) once the stream's stop token is triggered;
  // - kFailedPrecondition (IsClosed) when the log is closed and every record
  //   written before the close has been returned;
  // - kDataLoss (IsLagged) when records at `position()` were purged before
  //   this stream read them: `LaggedCount(status)` says how many were missed
  //   (`IsLaggedCountExact(status)` is always true here) and the stream
  //   moves on to the earliest record, so the next call continues from
  //   there;
  // - kInvalidArgument (IsImpossibleOffset) once the stream has returned the
  //   record at kMaxOffset, the last offset a log can have: no record can
  //   follow it.
  absl::StatusOr<RecordView> Next();

  // As Next(), but gives up at `deadline` with kDeadlineExceeded
  // (IsWaitTimedOut), leaving the stream usable.
  absl::StatusOr<RecordView> NextUntil(absl::Time deadline);
  absl::StatusOr<RecordView> NextFor(absl::Duration timeout) {
    return NextUntil(absl::Now() + timeout);
  }

  // Waits as NextUntil() does for at least one record, then fills `batch`
  // with the records that are already written, up to `batch.size()`, without
  // waiting for more. Returns the count read (at least 1) with OK, or 0 with
  // the status Next() would have returned. An empty batch returns 0 with OK
  // at once.
  ReadResult NextBatch(absl::Span<RecordView> batch,
                       absl::Time deadline = absl::InfiniteFuture());

  // --- For event loops: never blocks (see memlog/notification.h). ---

  // As Next(), but returns at once: ends, without advancing, with
  // kOutOfRange (IsFutureOffset) when the record at `position()` is not
  // written yet, and otherwise as Next() does (a closed log that has been
  // read to its end: IsClosed).
  absl::StatusOr<RecordView> TryNext();

  // As NextBatch(), but returns at once: the count of records already
  // written (at least 1) with OK, or 0 with the status TryNext() would have
  // returned.
  ReadResult TryNextBatch(absl::Span<RecordView> batch);

  // Asks for `handler` to run once the record at `position()` is written,
  // or the log is closed: Log::NotifyWhenWritten(position(), handler), with
  // its threads, errors and handle. Call it after TryNext() returned
  // IsFutureOffset; when the handler runs, call TryNext() again.
  absl::StatusOr<WriteNotification> NotifyWhenReady(
      WriteHandler handler) const;

  // The offset of the record the next successful call returns first.
  Offset position() const { return position_; }

 private:
  friend class Log;
  Stream(const Log* log, Offset start, std::stop_token stop)
      : log_(log), position_(start), stop_(std::move(stop)) {}

  // Moves a stream whose position was purged to the earliest record and
  // returns the kLagged status for it, or OK to read again.
  absl::Status SkipPurged();

  const Log* log_;
  Offset position_;
  std::stop_token stop_;
};

}  // namespace memlog

#endif  // MEMLOG_STREAM_H_
