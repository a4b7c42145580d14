// Copyright memlog authors.
//
// Streams over a sharded log: memlog::sharded::Stream reads one key's records
// in order, waiting for the next one; memlog::sharded::ShardStream reads every
// record of one shard, whatever its key.
//
//   absl::StatusOr<memlog::sharded::Stream> stream =
//       log->StreamFrom("users", 0, stop_source.get_token());
//   if (!stream.ok()) return stream.status();
//   for (;;) {
//     absl::StatusOr<memlog::sharded::RecordView> record = stream->Next();
//     if (record.ok()) { Handle(*record); continue; }
//     if (memlog::IsLagged(record.status())) continue;  // some were purged
//     break;  // cancelled, or the log was closed and fully read
//   }
//
// A key's stream sleeps on its shard's log and is woken by every write to the
// shard. A write of another key costs it one index lookup under the shard's
// lock and it sleeps again; it never scans other keys' records.
//
// Thread-safety: a stream is used by one thread at a time (it is a cursor);
// any number of streams may read one log concurrently with its writers.
// Lifetime: the log must outlive the stream. The views a stream returns do not
// depend on the stream or the log (see RecordView).

#ifndef MEMLOG_SHARDED_STREAM_H_
#define MEMLOG_SHARDED_STREAM_H_

#include <cstddef>
#include <array>
#include <cstdint>
#include <stop_token>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "memlog/log.h"
#include "sharded/record.h"

namespace memlog::sharded {

class Log;
namespace internal {
class KeyIndex;
struct Shard;
}  // namespace internal

// Reads the records of one key in offset order, from a start offset on.
// Made by `Log::StreamFrom()`.
class Stream {
 public:
  // Movable, not copyable: two copies would silently share one position.
  Stream(Stream&&) noexcept = default;
  Stream& operator=(Stream&&) noexcept = default;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Returns the key's first record at or after `position()` and moves past
  // it, waiting until one is written. Ends, without returning a record, with:
  // - kCancelled (IsWaitCancelled) once the stream's stop token is triggered;
  // - kFailedPrecondition (IsClosed) when the log is closed and every record
  //   of the key written before the close has been returned;
  // - kDataLoss (IsLagged) when the shard purged offsets from `position()` on
  //   before this stream read them and some of the key's records may have
  //   gone with them. The stream moves on to the shard's earliest retained
  //   offset, so the next call continues with the key's earliest retained
  //   record. `LaggedCount(status)` is the exact number of the key's records
  //   missed when the shard still knows it: when the key kept a retained
  //   record all along since this stream last looked. Otherwise (the key fell
  //   silent for a whole segment of its shard's writes) it is a lower bound,
  //   possibly 0; `IsLaggedCountExact(status)` tells which. A purge that took
  //   none of the key's records, as far as the exact count shows, is not
  //   reported;
  // - kInvalidArgument (IsImpossibleOffset) once the stream has passed the
  //   record at kMaxOffset: no record can follow it.
  absl::StatusOr<RecordView> Next();

  // As Next(), but gives up at `deadline` with kDeadlineExceeded
  // (IsWaitTimedOut), leaving the stream usable.
  absl::StatusOr<RecordView> NextUntil(absl::Time deadline);
  absl::StatusOr<RecordView> NextFor(absl::Duration timeout) {
    return NextUntil(absl::Now() + timeout);
  }

  // Waits as NextUntil() does for at least one record of the key, then fills
  // `batch` with the key's records that are already written, up to
  // `batch.size()`, without waiting for more. Returns the count read (at
  // least 1) with OK, or 0 with the status Next() would have returned.
  ReadResult NextBatch(absl::Span<RecordView> batch,
                       absl::Time deadline = absl::InfiniteFuture());

  // --- For event loops: never blocks (see memlog/notification.h). ---

  // As Next(), but returns at once: ends with kOutOfRange (IsFutureOffset)
  // when the key has no record at or after `position()` yet (the stream may
  // have moved past other keys' records), and otherwise as Next() does.
  absl::StatusOr<RecordView> TryNext();

  // As NextBatch(), but returns at once: the count of the key's records
  // already written (at least 1) with OK, or 0 with the status TryNext()
  // would have returned.
  ReadResult TryNextBatch(absl::Span<RecordView> batch);

  // Asks for `handler` to run once the shard writes `position()` (a record of
  // this key or another: call TryNext() to tell), or the log is closed; as
  // memlog::Log::NotifyWhenWritten() on the key's shard, with its threads,
  // errors and handle. Handlers run after the shard's lock is released.
  absl::StatusOr<WriteNotification> NotifyWhenReady(
      WriteHandler handler) const;

  // The shard offset from which the next record is looked for: the next
  // record returned has an offset >= position().
  Offset position() const { return position_; }
  const std::string& key() const { return key_; }

 private:
  friend class Log;
  Stream(internal::Shard* shard, const memlog::Log* log, std::string key,
         Offset start, std::stop_token stop)
      : shard_(shard),
        log_(log),
        key_(std::move(key)),
        position_(start),
        stop_(std::move(stop)) {}

  // Moves a stream whose position the shard purged to the shard's earliest
  // offset and returns the kLagged status to report, or OK if the index
  // proves that none of the key's records was missed.
  // REQUIRES: shard_->mu held (`index` is the shard's).
  absl::Status SkipPurged(const internal::KeyIndex& index, Offset earliest);
  // Restates a failed wait of the shard's log (cancelled, deadline, closed)
  // as this stream's.
  absl::Status WaitError(const absl::Status& waited) const;
  // NextUntil() of a record located already (located_next_ < located_end_),
  // and of any other, through NextBatch().
  absl::StatusOr<RecordView> NextLocated(absl::Time deadline);
  absl::StatusOr<RecordView> NextOfBatch(absl::Time deadline);

  internal::Shard* shard_;
  const memlog::Log* log_;
  std::string key_;
  Offset position_;
  std::stop_token stop_;
  // What the stream knows of its key's numbering (see KeyIndex): the chain of
  // its key's records and the number of the key's first record at or after
  // position_ in that chain. Valid when known_chain_ != kInvalidOffset; only
  // recorded while every offset below position_ is written.
  Offset known_chain_ = kInvalidOffset;
  int64_t known_seq_ = 0;
  // Offsets of the key's next records, located under the shard's lock by an
  // earlier call and not returned yet: Next() reads them without the lock or
  // an index lookup. located_[located_next_, located_end_) follow position_.
  static constexpr size_t kLocated = 16;
  std::array<Offset, kLocated> located_;
  uint32_t located_next_ = 0;
  uint32_t located_end_ = 0;
};

// Reads every record of one shard, of any key, in offset order: what a
// consumer uses that wants all the keys of a shard. Made by
// `Log::ShardStreamFrom()`. Behaves exactly like memlog::Stream on the
// shard's log (lag counts are records of the shard, of any key), and returns
// each record with its key.
class ShardStream {
 public:
  ShardStream(ShardStream&&) noexcept = default;
  ShardStream& operator=(ShardStream&&) noexcept = default;
  ShardStream(const ShardStream&) = delete;
  ShardStream& operator=(const ShardStream&) = delete;

  // As memlog::Stream::Next(), returning the record with its key.
  absl::StatusOr<RecordView> Next() {
    return NextUntil(absl::InfiniteFuture());
  }
  // As memlog::Stream::NextUntil().
  absl::StatusOr<RecordView> NextUntil(absl::Time deadline);
  absl::StatusOr<RecordView> NextFor(absl::Duration timeout) {
    return NextUntil(absl::Now() + timeout);
  }
  // As memlog::Stream::NextBatch().
  ReadResult NextBatch(absl::Span<RecordView> batch,
                       absl::Time deadline = absl::InfiniteFuture());

  // As memlog::Stream::TryNext(), TryNextBatch() and NotifyWhenReady():
  // never block. Handlers run after the shard's lock is released.
  absl::StatusOr<RecordView> TryNext();
  ReadResult TryNextBatch(absl::Span<RecordView> batch);
  absl::StatusOr<WriteNotification> NotifyWhenReady(
      WriteHandler handler) const {
    return stream_.NotifyWhenReady(std::move(handler));
  }

  Offset position() const { return stream_.position(); }
  size_t shard() const { return shard_; }

 private:
  friend class Log;
  ShardStream(memlog::Stream stream, size_t shard)
      : stream_(std::move(stream)), shard_(shard) {}

  // Reads stored records with `read(span)` and decodes them into `batch`.
  template <typename Read>
  ReadResult DecodeInto(absl::Span<RecordView> batch, Read read);

  memlog::Stream stream_;
  size_t shard_;
};

}  // namespace memlog::sharded

#endif  // MEMLOG_SHARDED_STREAM_H_
