// Copyright memlog authors.

#include "sharded/stream.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "memlog/internal/errors.h"
#include "memlog/status.h"
#include "sharded/internal/codec.h"
#include "sharded/internal/key_index.h"
#include "sharded/internal/shard.h"

namespace memlog::sharded {
namespace {

using internal::KeyIndex;
using internal::QuoteKey;
using internal::RecordAccess;

// Offsets located per hold of the shard's lock.
constexpr size_t kChunk = 64;

}  // namespace

absl::Status Stream::SkipPurged(const KeyIndex& index, Offset earliest) {
  const Offset from = position_;
  // `from` < earliest, so this is the key's first retained record.
  const KeyIndex::Cursor first = index.Seek(key_, from);
  // The report is made before the stream moves on, so that a failure to
  // make it (out of memory) leaves the lag to be reported by the next call.
  absl::Status lagged;
  if (first.chain != kInvalidOffset && first.chain == known_chain_) {
    // The chain's records numbered known_seq_ up to first.seq lay at offsets
    // from `from` to `earliest` - 1: exactly the ones missed.
    const int64_t missed = first.seq - known_seq_;
    if (missed > 0) {
      lagged = MakeLaggedError(
          missed, /*exact=*/true,
          absl::StrCat("stream of key ", QuoteKey(key_), " fell behind: ",
                       missed, " of its records at offsets from ", from,
                       " were purged; continuing from offset ", earliest));
    }
  } else {
    // The key's count from before is lost. A chain that began at `from` or
    // later had its first first.seq records purged, all of them unread.
    const int64_t at_least =
        first.chain != kInvalidOffset && first.chain >= from ? first.seq : 0;
    lagged = MakeLaggedError(
        at_least, /*exact=*/false,
        absl::StrCat("stream of key ", QuoteKey(key_),
                     " fell behind: its shard purged offsets ", from, " to ",
                     earliest - 1, " before the stream read them; at least ",
                     at_least,
                     " of them held the key's records (the shard no longer "
                     "knows how many); continuing from offset ",
                     earliest));
  }
  position_ = earliest;
  return lagged;
}

absl::Status Stream::WaitError(const absl::Status& waited) const {
  const std::string prefix =
      absl::StrCat("stream of key ", QuoteKey(key_), " at offset ", position_);
  const std::optional<ErrorKind> kind = GetErrorKind(waited);
  if (kind == ErrorKind::kWaitCancelled) {
    return MakeError(ErrorKind::kWaitCancelled,
                     absl::StrCat(prefix, " was cancelled"));
  }
  if (kind == ErrorKind::kWaitTimedOut) {
    return MakeError(
        ErrorKind::kWaitTimedOut,
        absl::StrCat(prefix,
                     ": no record of the key was written before the deadline"));
  }
  if (kind == ErrorKind::kClosed) {
    return MakeError(
        ErrorKind::kClosed,
        absl::StrCat(prefix,
                     ": the log is closed and every record of the key was "
                     "returned"));
  }
  return waited;
}

absl::StatusOr<RecordView> Stream::Next() {
  return NextUntil(absl::InfiniteFuture());
}

absl::StatusOr<RecordView> Stream::NextUntil(absl::Time deadline) {
  // The common case of a stream read record by record: the next record was
  // located already.
  if (located_next_ < located_end_ && !stop_.stop_requested()) {
    return NextLocated(deadline);
  }
  return NextOfBatch(deadline);
}

absl::StatusOr<RecordView> Stream::NextLocated(absl::Time deadline) {
  // Read and decoded in place, in the one StatusOr every path returns (so
  // that it is the caller's): no copy of the view on the way out.
  absl::StatusOr<RecordView> view(absl::in_place);
  const Offset offset = located_[located_next_];
  if (log_->PinView(offset, RecordAccess::Stored(&*view))) {
    if (RecordAccess::DecodeInPlace(&*view)) {
      ++located_next_;
      position_ = offset + 1;
      ++known_seq_;
    } else {
      view = RecordAccess::Decode(std::move(*RecordAccess::Stored(&*view)));
    }
    return view;
  }
  // Purged since it was located: NextBatch() reports the lag.
  located_next_ = located_end_ = 0;
  view = NextOfBatch(deadline);
  return view;
}

absl::StatusOr<RecordView> Stream::NextOfBatch(absl::Time deadline) {
  RecordView record;
  ReadResult result = NextBatch(absl::MakeSpan(&record, 1), deadline);
  if (!result.ok()) return result.status;
  return record;
}

ReadResult Stream::NextBatch(absl::Span<RecordView> batch,
                             absl::Time deadline) try {
  if (batch.empty()) return {};
  const Offset start_offset = log_->options().start_offset;
  size_t total = 0;
  Offset offsets[kChunk];
  for (;;) {
    if (stop_.stop_requested()) {
      if (total > 0) return {static_cast<int64_t>(total), absl::OkStatus()};
      return {0, WaitError(MakeError(ErrorKind::kWaitCancelled, ""))};
    }
    // Records located by an earlier call: read without the lock.
    while (located_next_ < located_end_ && total < batch.size()) {
      const Offset offset = located_[located_next_];
      RecordView& view = batch[total];
      if (!log_->PinView(offset, RecordAccess::Stored(&view))) {
        // Purged since: the locked path below reports the lag.
        located_next_ = located_end_ = 0;
        break;
      }
      if (!RecordAccess::DecodeInPlace(&view)) {
        const absl::Status corrupt =
            RecordAccess::Decode(std::move(*RecordAccess::Stored(&view)))
                .status();
        view = RecordView();
        return {static_cast<int64_t>(total), corrupt};
      }
      ++total;
      ++located_next_;
      position_ = offset + 1;
      ++known_seq_;
    }
    if (total == batch.size()) {
      return {static_cast<int64_t>(total), absl::OkStatus()};
    }
    // Locates at least kLocated records, so that a stream read one record
    // at a time takes the lock once per kLocated of them.
    const size_t wanted =
        std::min(kChunk, std::max(kLocated, batch.size() - total));
    size_t found = 0;
    KeyIndex::Cursor cursor;
    {
      memlog::internal::MutexLock lock(&shard_->mu);
      if (position_ < start_offset) {
        return {0, log_->ReadView(position_).status()};
      }
      // Under the lock the log's range is stable and the index covers
      // exactly its retained records, all of [earliest, next).
      const OffsetRange range = log_->Range();
      const Offset next = log_->NextOffset();
      // With every record purged by age the range is empty, and nothing
      // before `next` is retained.
      const Offset earliest =
          range.earliest != kInvalidOffset ? range.earliest : next;
      if (position_ < earliest && earliest > start_offset) {
        // Return what was read first; the next call reports the purge.
        if (total > 0) return {static_cast<int64_t>(total), absl::OkStatus()};
        absl::Status lagged = SkipPurged(shard_->index, earliest);
        if (!lagged.ok()) {
          log_->CountLag(LaggedCount(lagged));
          cursor = shard_->index.Seek(key_, position_);
          known_chain_ = cursor.chain;
          known_seq_ = cursor.seq;
          return {0, std::move(lagged)};
        }
      }
      cursor = shard_->index.Seek(key_, position_);
      found = shard_->index.Collect(key_, position_,
                                    absl::MakeSpan(offsets, wanted));
      // Nothing of the key before `next`: no need to look there again.
      // Only when returning nothing: a call that returns records leaves the
      // stream just past the last of them.
      if (found == 0 && total == 0 && position_ < next) position_ = next;
      if (position_ <= next) {
        known_chain_ = cursor.chain;
        known_seq_ = cursor.seq;
      }
    }

    size_t read = 0;
    bool purged = false;
    for (; read < found && total < batch.size(); ++read) {
      absl::StatusOr<memlog::RecordView> stored = log_->ReadView(offsets[read]);
      if (!stored.ok()) {  // purged since the lookup: rescan
        purged = true;
        break;
      }
      absl::StatusOr<RecordView> view =
          RecordAccess::Decode(*std::move(stored));
      if (!view.ok()) return {static_cast<int64_t>(total), view.status()};
      batch[total++] = *std::move(view);
      position_ = offsets[read] + 1;
      known_seq_ = cursor.seq + static_cast<int64_t>(read) + 1;
    }
    if (total == batch.size()) {
      // The rest were located beyond the batch (at most kLocated - 1).
      if (!purged) {
        located_end_ = static_cast<uint32_t>(
            std::copy(offsets + read, offsets + found, located_.begin()) -
            located_.begin());
        located_next_ = 0;
      }
      return {static_cast<int64_t>(total), absl::OkStatus()};
    }
    if (purged) continue;
    if (found == wanted) continue;  // a full chunk: there may be more already
    if (total > 0) return {static_cast<int64_t>(total), absl::OkStatus()};
    // Sleep until the shard writes `position_`. A write of another key wakes
    // this stream too; the rescan is one index lookup, then it sleeps again.
    if (absl::Status waited = log_->WaitFor(position_, deadline, stop_);
        !waited.ok()) {
      return {0, WaitError(waited)};
    }
  }
} catch (const std::bad_alloc&) {
  return {0, memlog::internal::OutOfMemoryError("the stream's status")};
}

absl::StatusOr<RecordView> ShardStream::NextUntil(absl::Time deadline) {
  RecordView record;
  ReadResult result = NextBatch(absl::MakeSpan(&record, 1), deadline);
  if (!result.ok()) return result.status;
  return record;
}

absl::StatusOr<RecordView> Stream::TryNext() {
  RecordView record;
  ReadResult result = TryNextBatch(absl::MakeSpan(&record, 1));
  if (!result.ok()) return result.status;
  return record;
}

ReadResult Stream::TryNextBatch(absl::Span<RecordView> batch) {
  // A deadline already past: NextBatch() reads what is there and gives up
  // instead of sleeping.
  ReadResult result = NextBatch(batch, absl::UnixEpoch());
  if (result.count == 0 && IsWaitTimedOut(result.status)) {
    try {
      result.status = MakeError(
          ErrorKind::kFutureOffset,
          absl::StrCat("stream of key ", QuoteKey(key_),
                       ": no record of the key at or after offset ",
                       position_, " is written yet"));
    } catch (const std::bad_alloc&) {
      result.status =
          memlog::internal::OutOfMemoryError("the stream's status");
    }
  }
  return result;
}

absl::StatusOr<WriteNotification> Stream::NotifyWhenReady(
    WriteHandler handler) const {
  return log_->NotifyWhenWritten(position_, std::move(handler));
}

absl::StatusOr<RecordView> ShardStream::TryNext() {
  RecordView record;
  ReadResult result = TryNextBatch(absl::MakeSpan(&record, 1));
  if (!result.ok()) return result.status;
  return record;
}

ReadResult ShardStream::TryNextBatch(absl::Span<RecordView> batch) {
  return DecodeInto(batch, [this](absl::Span<memlog::RecordView> stored) {
    return stream_.TryNextBatch(stored);
  });
}

ReadResult ShardStream::NextBatch(absl::Span<RecordView> batch,
                                  absl::Time deadline) {
  return DecodeInto(batch,
                    [this, deadline](absl::Span<memlog::RecordView> stored) {
                      return stream_.NextBatch(stored, deadline);
                    });
}

template <typename Read>
ReadResult ShardStream::DecodeInto(absl::Span<RecordView> batch, Read read) {
  // The stored records are read into a buffer of memlog views, then decoded
  // into `batch`; the buffer is on the stack unless the batch is large.
  memlog::RecordView small[kChunk];
  std::vector<memlog::RecordView> large;
  absl::Span<memlog::RecordView> stored = absl::MakeSpan(small, kChunk);
  if (batch.size() > kChunk) {
    try {
      large.resize(batch.size());
    } catch (const std::bad_alloc&) {
      return {0, memlog::internal::OutOfMemoryError("a stream's batch")};
    }
    stored = absl::MakeSpan(large);
  }
  ReadResult result = read(stored.first(batch.size()));
  for (int64_t i = 0; i < result.count; ++i) {
    const auto entry = static_cast<size_t>(i);
    absl::StatusOr<RecordView> view =
        RecordAccess::Decode(std::move(stored[entry]));
    if (!view.ok()) return {i, view.status()};
    batch[entry] = *std::move(view);
  }
  return result;
}

}  // namespace memlog::sharded
