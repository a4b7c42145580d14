// Copyright memlog authors.

#include "memlog/log.h"

#include <algorithm>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <climits>

#include <chrono>
#include <new>
#include <utility>

#include "absl/strings/str_cat.h"
#include "memlog/internal/errors.h"
#include "memlog/internal/record_pieces.h"
#include "memlog/internal/write_notifier.h"
#include "memlog/replica.h"

namespace memlog {

using internal::Segment;
using internal::SegmentRef;

absl::StatusOr<std::unique_ptr<Log>> Log::Create(Options options) try {
  if (absl::Status status = ValidateOptions(options); !status.ok()) {
    return status;
  }
  return std::unique_ptr<Log>(new Log(std::move(options)));
} catch (const std::bad_alloc&) {
  return internal::OutOfMemoryError("a log");
}

Log::Log(Options options, std::shared_ptr<internal::HugePageArena> arena)
    : options_(std::move(options)),
      custom_clock_(static_cast<bool>(options_.clock)),
      has_max_age_(options_.max_age.has_value()),
      next_(options_.start_offset),
      start_offset_(options_.start_offset),
      earliest_(options_.start_offset),
      notifier_(std::make_shared<internal::WriteNotifier>()),
      arena_(std::move(arena)) {}

Log::~Log() {
  // Pending requests are answered, so that no handler waits forever; their
  // handles may outlive the log.
  notifier_->RunAll(next_.load(std::memory_order_acquire),
                    "log was destroyed; the offset will never be written");
  internal::MutexLock lock(&mu_);
  // Drop the log's own references first, then let every segment go as soon
  // as no view holds it.
  if (Segment* history = history_.load(std::memory_order_relaxed)) {
    history->Unref();
  }
  if (Segment* active = active_.load(std::memory_order_relaxed)) {
    active->Unref();
  }
  for (Segment* segment : segments_) segment->Orphan();
}

absl::StatusOr<int64_t> Log::NowUnixNanos() const {
  if (custom_clock_) {
    try {
      // Saturates outside what int64 nanoseconds since 1970 can hold.
      return absl::ToUnixNanos(options_.clock());
    } catch (...) {
      return internal::CallbackFailedError("Options::clock");
    }
  }
  timespec now;
  clock_gettime(CLOCK_REALTIME_COARSE, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

absl::Status Log::WriteFailed(absl::Status status) const {
  std::atomic<int64_t>* counter = &counters_.failures_invalid;
  if (IsClosed(status)) {
    counter = &counters_.failures_closed;
  } else if (IsOffsetOverflow(status)) {
    counter = &counters_.failures_overflow;
  } else if (IsOutOfMemory(status)) {
    counter = &counters_.failures_out_of_memory;
  } else if (IsCallbackFailed(status)) {
    counter = &counters_.failures_callback;
  }
  counter->fetch_add(1, std::memory_order_relaxed);
  return status;
}

absl::StatusOr<Offset> Log::Write(std::string_view data) {
  absl::StatusOr<Offset> offset = Append(data, nullptr);
  if (offset.ok()) NotifyWritten(*offset);
  return offset;
}

void Log::NotifyWritten(Offset written) const {
  // This load comes after the write's critical section (see
  // internal/write_notifier.h for why relaxed is enough).
  if (notifications_used_.load(std::memory_order_relaxed) &&
      notifier_->has_pending()) {
    notifier_->RunWritten(written + 1);
  }
}

absl::StatusOr<WriteNotification> Log::NotifyWhenWritten(
    Offset offset, WriteHandler handler) const try {
  if (offset < options_.start_offset || offset > kMaxOffset) {
    return ImpossibleOffsetError(offset);
  }
  if (!handler) return WriteNotification();
  if (next_.load(std::memory_order_acquire) > offset) {
    internal::WriteNotifier::Run(handler, absl::OkStatus());
    return WriteNotification();
  }
  // Before the request is counted, so that a write that sees the count (see
  // below) also sees the flag.
  notifications_used_.store(true, std::memory_order_relaxed);
  WriteNotification notification = notifier_->Add(offset, handler);
  // Counted in the registry first, then checked under the writer lock: a
  // write either shows here or sees the request (write_notifier.h).
  bool written;
  bool closed;
  {
    internal::MutexLock lock(&mu_);
    written = next_.load(std::memory_order_relaxed) > offset;
    closed = closed_;
  }
  if (!written && !closed) return notification;
  // Answer it here unless a write or Close() took it first. The status is
  // made first: once taken, the handler must run.
  absl::Status status;
  if (!written) {
    try {
      status = MakeError(ErrorKind::kClosed,
                         absl::StrCat("log is closed; offset ", offset,
                                      " will never be written"));
    } catch (const std::bad_alloc&) {
      status = absl::Status(absl::StatusCode::kFailedPrecondition, "");
    }
  }
  WriteHandler mine;
  if (internal::WriteNotifier::Take(notification, &mine)) {
    internal::WriteNotifier::Run(mine, status);
  }
  return WriteNotification();
} catch (const std::bad_alloc&) {
  return internal::OutOfMemoryError("a write notification");
}

absl::StatusOr<Offset> Log::Append(
    std::string_view data, const internal::ReplicaPosition* replica) try {
  if (absl::Status status =
          ValidateRecordData(data, options_.max_record_bytes);
      !status.ok()) {
    return WriteFailed(std::move(status));
  }
  bool wake_streams;
  absl::StatusOr<Offset> offset;
  {
    LockWriter();
    internal::MutexLock lock(&mu_, internal::MutexLock::Adopt{});
    offset = AppendValidLocked(data, replica, &wake_streams);
  }
  if (wake_streams) WakeWaiters();
  return offset;
} catch (const std::bad_alloc&) {
  return WriteFailed(internal::OutOfMemoryError("the write's status"));
}

template <typename Bytes>
absl::StatusOr<Offset> Log::AppendValidLocked(
    Bytes data, const internal::ReplicaPosition* replica,
    bool* wake_streams) {
  *wake_streams = false;
  if (closed_) {
    return WriteFailed(
        MakeError(ErrorKind::kClosed, "log is closed; writes are refused"));
  }
  Offset offset = next_.load(std::memory_order_relaxed);
  if (offset > kMaxOffset) {
    return WriteFailed(MakeError(
        ErrorKind::kOffsetOverflow,
        absl::StrCat("offset ", kMaxOffset,
                     " (kMaxOffset) was the last; no offset is left for "
                     "another record")));
  }
  int64_t created;
  if (replica == nullptr) {
    // Before anything changes: a clock that throws leaves the log as it
    // was.
    const absl::StatusOr<int64_t> now = NowUnixNanos();
    if (!now.ok()) return WriteFailed(now.status());
    // Monotonic: a clock stepping back never orders records out of time.
    created = std::max(*now, last_created_);
    if (has_max_age_) PurgeByAge(*now);
  } else {
    // The first record of a log that never held one may skip ahead: the
    // offsets before it then read as purged.
    const bool may_skip = offset == options_.start_offset &&
                          active_.load(std::memory_order_relaxed) == nullptr;
    if (absl::Status refused = CheckReplicaPosition(*replica, offset, may_skip);
        !refused.ok()) {
      return WriteFailed(std::move(refused));
    }
    created = replica->created_unix_nanos;
    if (may_skip && replica->offset != offset) {
      // Not records written: stats() leaves them out.
      skipped_offsets_.store(replica->offset - offset,
                             std::memory_order_relaxed);
      offset = replica->offset;
    }
    if (has_max_age_) {
      const absl::StatusOr<int64_t> now = NowUnixNanos();
      if (!now.ok()) return WriteFailed(now.status());
      PurgeByAge(*now);
    }
  }
  if (absl::Status stored = AppendLocked(data, created, offset);
      !stored.ok()) {
    return WriteFailed(std::move(stored));
  }
  last_created_ = created;
  next_.store(offset + 1, std::memory_order_release);
  *wake_streams = waiters_.load(std::memory_order_relaxed) > 0;
  return offset;
}

WriteBatchResult Log::WriteBatch(
    absl::Span<const std::string_view> records) try {
  WriteBatchResult result;
  // One pass over the sizes, which builds a status only for a bad record.
  const auto max_record_bytes = static_cast<size_t>(options_.max_record_bytes);
  int64_t bytes = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    const size_t size = records[i].size();
    if (size == 0 || size > max_record_bytes) [[unlikely]] {
      const absl::Status status =
          ValidateRecordData(records[i], options_.max_record_bytes);
      result.status = WriteFailed(MakeError(
          *GetErrorKind(status),
          absl::StrCat("record ", i, " of the batch: ", status.message(),
                       "; no record of the batch was written")));
      return result;
    }
    bytes += static_cast<int64_t>(size);
  }
  if (records.empty()) return result;
  const auto n = static_cast<int64_t>(records.size());
  bool wake_streams;
  {
    LockWriter();
    internal::MutexLock lock(&mu_, internal::MutexLock::Adopt{});
    if (closed_) {
      result.status = WriteFailed(
          MakeError(ErrorKind::kClosed, "log is closed; writes are refused"));
      return result;
    }
    const Offset first = next_.load(std::memory_order_relaxed);
    if (first > kMaxOffset || kMaxOffset - first < n - 1) {
      result.status = WriteFailed(MakeError(
          ErrorKind::kOffsetOverflow,
          absl::StrCat("a batch of ", n, " records from offset ", first,
                       " would pass kMaxOffset (", kMaxOffset,
                       "); no record of the batch was written")));
      return result;
    }
    const absl::StatusOr<int64_t> now = NowUnixNanos();
    if (!now.ok()) {
      result.status = WriteFailed(now.status());
      return result;
    }
    const int64_t created = std::max(*now, last_created_);
    if (options_.max_age.has_value()) PurgeByAge(*now);
    if (absl::Status stored =
            AppendBatchLocked(records, created, first, &result.count);
        !stored.ok()) {
      result.status = WriteFailed(std::move(stored));
      bytes = 0;
      for (int64_t i = 0; i < result.count; ++i) {
        bytes += static_cast<int64_t>(records[static_cast<size_t>(i)].size());
      }
    }
    // The batch becomes readable by offset at once (segments publish each
    // run of records as it is stored, in order; next_ is what reads by
    // offset and Range() check).
    next_.store(first + result.count, std::memory_order_release);
    bytes_written_.store(bytes_written_.load(std::memory_order_relaxed) + bytes,
                         std::memory_order_relaxed);
    if (result.count > 0) {
      result.first = first;
      last_created_ = created;
    }
    wake_streams =
        waiters_.load(std::memory_order_relaxed) > 0 && result.count > 0;
  }
  if (wake_streams) WakeWaiters();
  if (result.count > 0) NotifyWritten(result.last());
  return result;
} catch (const std::bad_alloc&) {
  WriteBatchResult failed;
  failed.status = WriteFailed(internal::OutOfMemoryError("a batch write"));
  return failed;
}

absl::Status Log::AppendBatchLocked(absl::Span<const std::string_view> records,
                                    int64_t created, Offset first,
                                    int64_t* stored) {
  size_t done = 0;
  while (done < records.size()) {
    Segment* active = active_.load(std::memory_order_relaxed);
    if (active == nullptr || active->full() ||
        !active->Fits(records[done].size())) {
      const PurgeReason reason = active == nullptr || active->full()
                                     ? PurgeReason::kCount
                                     : PurgeReason::kBytes;
      if (!RotateSegments(first + static_cast<Offset>(done), reason)) {
        *stored = static_cast<int64_t>(done);
        return internal::OutOfMemoryError("a new segment");
      }
      active = active_.load(std::memory_order_relaxed);
    }
    // As many records as the segment takes, in one tight loop.
    done += active->AppendBatch(records.data() + done, records.size() - done,
                                created);
    if (done < records.size() && !active->full() &&
        active->Fits(records[done].size())) {
      // It stopped for want of memory. The status must not throw: the
      // records stored so far are numbered only once this returns.
      *stored = static_cast<int64_t>(done);
      try {
        return internal::OutOfMemoryError(
            absl::StrCat("a record of ", records[done].size(), " bytes"));
      } catch (const std::bad_alloc&) {
        return internal::OutOfMemoryError("a record");
      }
    }
  }
  *stored = static_cast<int64_t>(done);
  return absl::OkStatus();
}

template <typename Bytes>
absl::Status Log::AppendLocked(Bytes data, int64_t created, Offset offset,
                               bool count_bytes) {
  const size_t size = internal::RecordSize(data);
  Segment* active = active_.load(std::memory_order_relaxed);
  if (active == nullptr || active->full() || !active->Fits(size)) {
    const PurgeReason reason = active == nullptr || active->full()
                                   ? PurgeReason::kCount
                                   : PurgeReason::kBytes;
    if (!RotateSegments(offset, reason)) {
      return internal::OutOfMemoryError("a new segment");
    }
    active = active_.load(std::memory_order_relaxed);
  }
  if (!active->Append(data, created)) {
    return internal::OutOfMemoryError(
        absl::StrCat("a record of ", size, " bytes"));
  }
  if (count_bytes) {
    bytes_written_.store(bytes_written_.load(std::memory_order_relaxed) +
                             static_cast<int64_t>(size),
                         std::memory_order_relaxed);
  }
  return absl::OkStatus();
}

// A sharded log's shards store their records as pieces (ShardWrites).
template absl::StatusOr<Offset> Log::AppendValidLocked<internal::RecordPieces>(
    internal::RecordPieces data, const internal::ReplicaPosition* replica,
    bool* wake_streams);

bool Log::PurgeByAge(int64_t now) {
  // Saturating: a max_age reaching before 1677 purges nothing.
  const int64_t age = absl::ToInt64Nanoseconds(*options_.max_age);
  if (now < INT64_MIN + age) return true;
  const int64_t cutoff = now - age;
  const auto history_too_old = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const Segment* history = history_.load(std::memory_order_relaxed);
    return history != nullptr && history->count() > 0 &&
           history->last_created() < cutoff;
  };
  if (history_too_old()) PurgeHistory(PurgeReason::kAge);
  // Seal the active segment once its first record is old, so that it
  // becomes the history and is purged as a whole when its last one is.
  const Segment* active = active_.load(std::memory_order_relaxed);
  if (active != nullptr && active->count() > 0 &&
      active->first_created() < cutoff) {
    if (!RotateSegments(next_.load(std::memory_order_relaxed),
                        PurgeReason::kAge)) {
      return false;
    }
    if (history_too_old()) PurgeHistory(PurgeReason::kAge);
  }
  return true;
}

void Log::CountPurged(const Segment* segment, PurgeReason reason) {
  std::atomic<int64_t>& counter =
      reason == PurgeReason::kCount   ? counters_.purged_by_count
      : reason == PurgeReason::kBytes ? counters_.purged_by_bytes
                                      : counters_.purged_by_age;
  counter.store(counter.load(std::memory_order_relaxed) + segment->count(),
                std::memory_order_relaxed);
}

void Log::PurgeHistory(PurgeReason reason) {
  Segment* const history = history_.load(std::memory_order_relaxed);
  const Segment* const active = active_.load(std::memory_order_relaxed);
  // As in RotateSegments(): earliest_ first, then the history goes.
  earliest_.store(active->base(), std::memory_order_release);
  history_.store(nullptr, std::memory_order_release);
  CountPurged(history, reason);
  history->Unref();
}

absl::Status Log::CheckReplicaPosition(
    const internal::ReplicaPosition& replica, Offset next,
    bool may_skip) const {
  if (may_skip) {
    if (replica.offset < options_.start_offset || replica.offset > kMaxOffset) {
      return ImpossibleOffsetError(replica.offset);
    }
  } else if (replica.offset != next) {
    return internal::ReplicaRefusedError(
        absl::StrCat("replica write at offset ", replica.offset,
                     " refused: the next offset is ", next));
  }
  if (replica.created_unix_nanos < last_created_) {
    return internal::ReplicaRefusedError(absl::StrCat(
        "replica write at offset ", replica.offset, " refused: created ",
        replica.created_unix_nanos,
        " ns is earlier than the previous record's ", last_created_, " ns"));
  }
  return absl::OkStatus();
}

void Log::LockWriter() const {
  if (mu_.try_lock()) return;
  // Another writer holds the lock for a few tens of nanoseconds: spinning
  // briefly beats sleeping in the kernel and being woken.
  for (int spin = 0; spin < 100; ++spin) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if (mu_.try_lock()) return;
  }
  mu_.lock();
}

bool Log::RotateSegments(Offset base, PurgeReason reason) {
  Segment* const old_history = history_.load(std::memory_order_relaxed);
  Segment* const old_active = active_.load(std::memory_order_relaxed);
  // The purge. `earliest_` moves first: a reader that finds the old history
  // gone (its TryRef() fails, an acquire of the count released below) then
  // sees an `earliest_` past the offsets it held.
  earliest_.store(old_active != nullptr ? old_active->base() : base,
                  std::memory_order_release);
  // The log lets go of the history. It becomes free, and reusable below,
  // unless a reader or view still holds it. history_ no longer names it from
  // here on, whatever fails next: the log's reference is gone.
  if (old_history != nullptr) {
    history_.store(nullptr, std::memory_order_release);
    CountPurged(old_history, reason);
    old_history->Unref();
  }
  Segment* fresh = ClaimSpareSegment();
  if (fresh == nullptr) {
    // Out of memory: the history stays purged and the full active segment
    // stays active; the next write tries again.
    return false;
  }
  // A segment that held one record larger than the byte bound keeps that
  // much storage: too much to keep for reuse.
  if (fresh->over_budget()) fresh->ReleaseStorage();
  fresh->Reset(base);
  fresh->Activate();
  if (old_active != nullptr) {
    counters_.segments_rotated.store(
        counters_.segments_rotated.load(std::memory_order_relaxed) + 1,
        std::memory_order_relaxed);
  }
  // Readers load active_ before history_; storing history_ first means that a
  // reader who sees the fresh active segment also sees the sealed one.
  history_.store(old_active, std::memory_order_release);
  active_.store(fresh, std::memory_order_release);
  return true;
}

Segment* Log::ClaimSpareSegment() {
  // Reuse the free segment with the most storage (usually the history just
  // purged). Further spares exist only after views pinned segments for a
  // while: keep their objects, which a stale reader may still touch, but not
  // their storage.
  Segment* claimed = nullptr;
  for (Segment* segment : segments_) {
    if (!segment->TryClaim()) continue;
    if (claimed != nullptr &&
        claimed->allocated_bytes() < segment->allocated_bytes()) {
      std::swap(claimed, segment);
    }
    if (claimed == nullptr) {
      claimed = segment;
    } else {
      segment->ReleaseStorage();
      segment->Unclaim();
    }
  }
  if (claimed != nullptr) return claimed;
  // Room in segments_ first, so that the new segment cannot leak.
  try {
    segments_.reserve(segments_.size() + 1);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
  auto* segment = new (std::nothrow)
      Segment(options_.segment_size, options_.max_segment_bytes.value_or(0),
              arena_);
  if (segment == nullptr) return nullptr;
  segments_.push_back(segment);
  return segment;
}

absl::Status Log::FutureOffsetError(Offset offset, Offset next) const {
  return MakeError(
      ErrorKind::kFutureOffset,
      next == options_.start_offset
          ? absl::StrCat("offset ", offset,
                         " is not written yet; the log is empty and its first "
                         "offset will be ",
                         next)
          : absl::StrCat("offset ", offset,
                         " is not written yet; latest is ", next - 1));
}

absl::Status Log::ImpossibleOffsetError(Offset offset) const {
  return MakeError(
      ErrorKind::kImpossibleOffset,
      absl::StrCat("offset ", offset, " can never hold a record: offsets of "
                   "this log are [", options_.start_offset, ", ", kMaxOffset,
                   "]"));
}

absl::Status Log::PurgedOffsetError(Offset offset) const {
  return MakeError(
      ErrorKind::kPurgedOffset,
      absl::StrCat("offset ", offset, " is purged; earliest available is ",
                   earliest_.load(std::memory_order_acquire)));
}

inline Segment* Log::PinSegment(Offset offset) const {
  // Impossible and future offsets are left to AcquireSegment() (next_ never
  // passes kMaxOffset + 1).
  if (offset < start_offset_ ||
      offset >= next_.load(std::memory_order_acquire)) {
    return nullptr;
  }
  // `offset` is written, so it lies in the active segment, the history, or a
  // purged segment. A segment found through a stale pointer may since have
  // been reused for later offsets; its base tells, once it is pinned. Guess
  // the segment from the active one's base, and pin only it.
  Segment* const active = active_.load(std::memory_order_acquire);
  Segment* const guess = offset >= active->peek_base()
                             ? active
                             : history_.load(std::memory_order_acquire);
  if (guess == nullptr || !guess->TryRef()) return nullptr;
  const Offset index = offset - guess->base();
  if (index >= 0 && index < guess->published() &&
      offset >= earliest_.load(std::memory_order_acquire)) {
    return guess;
  }
  guess->Unref();
  return nullptr;
}

absl::StatusOr<SegmentRef> Log::AcquireSegment(Offset offset) const {
  if (Segment* segment = PinSegment(offset)) return SegmentRef::Adopt(segment);
  if (offset < start_offset_ || offset > kMaxOffset) {
    return ImpossibleOffsetError(offset);
  }
  const Offset next = next_.load(std::memory_order_acquire);
  if (offset >= next) return FutureOffsetError(offset, next);
  // A rotation raced with the guess, or the offset is purged: look at both
  // segments.
  for (const std::atomic<Segment*>* slot : {&active_, &history_}) {
    Segment* segment = slot->load(std::memory_order_acquire);
    if (segment == nullptr || !segment->TryRef()) continue;
    SegmentRef ref = SegmentRef::Adopt(segment);
    const Offset index = offset - segment->base();
    if (index >= 0 && index < segment->published()) {
      // Purged since the caller could have seen Range(): `earliest_` moves
      // before the history is released.
      if (offset < earliest_.load(std::memory_order_acquire)) break;
      return ref;
    }
  }
  return PurgedOffsetError(offset);
}

absl::StatusOr<RecordView> Log::ReadView(Offset offset) const try {
  if (Segment* segment = PinSegment(offset)) [[likely]] {
    return RecordView(SegmentRef::Adopt(segment),
                      segment->slot(offset - segment->base()), offset);
  }
  absl::StatusOr<SegmentRef> segment = AcquireSegment(offset);
  if (!segment.ok()) return segment.status();
  const internal::Slot& slot = (*segment)->slot(offset - (*segment)->base());
  return RecordView(*std::move(segment), slot, offset);
} catch (const std::bad_alloc&) {
  return internal::OutOfMemoryError("the read's status");
}

bool Log::PinView(Offset offset, RecordView* out) const {
  Segment* const segment = PinSegment(offset);
  if (segment == nullptr) return false;
  *out = RecordView(SegmentRef::Adopt(segment),
                    segment->slot(offset - segment->base()), offset);
  return true;
}

absl::StatusOr<Record> Log::Read(Offset offset) const try {
  if (Segment* segment = PinSegment(offset)) [[likely]] {
    const SegmentRef pinned = SegmentRef::Adopt(segment);
    const internal::Slot slot = segment->slot(offset - segment->base());
    return Record{{offset, absl::FromUnixNanos(slot.created_unix_nanos)},
                  std::string(slot.data, slot.size)};
  }
  absl::StatusOr<SegmentRef> segment = AcquireSegment(offset);
  if (!segment.ok()) return segment.status();
  const internal::Slot& slot = (*segment)->slot(offset - (*segment)->base());
  return Record{{offset, absl::FromUnixNanos(slot.created_unix_nanos)},
                std::string(slot.data, slot.size)};
} catch (const std::bad_alloc&) {
  return internal::OutOfMemoryError("a copy of a record");
}

template <typename Entry, typename FillEntries>
ReadResult Log::ReadBatchInto(Offset start, absl::Span<Entry> batch,
                              FillEntries fill_entries) const {
  ReadResult result;
  Offset offset = start;
  const auto size = static_cast<int64_t>(batch.size());
  try {
    while (result.count < size) {
      absl::StatusOr<SegmentRef> segment = AcquireSegment(offset);
      if (!segment.ok()) {
        result.status = segment.status();
        return result;
      }
      // Everything this segment has published from `offset` on is readable
      // under the one reference.
      const Segment& held = *segment->get();
      const int64_t first = offset - held.base();
      const int64_t available = held.published() - first;
      const int64_t n = std::min(available, size - result.count);
      const int64_t filled =
          fill_entries(*std::move(segment), first,
                       batch.subspan(static_cast<size_t>(result.count),
                                     static_cast<size_t>(n)),
                       offset);
      result.count += filled;
      offset += filled;
      if (filled < n) {
        result.status = internal::OutOfMemoryError("a copy of a record");
        return result;
      }
    }
  } catch (const std::bad_alloc&) {
    result.status = internal::OutOfMemoryError("the read's status");
  }
  return result;
}

ReadResult Log::ReadBatch(Offset start, absl::Span<Record> batch) const {
  return ReadBatchInto(
      start, batch,
      [](SegmentRef segment, int64_t first, absl::Span<Record> records,
         Offset offset) -> int64_t {
        int64_t i = 0;
        // One try for the run, not one per record: the loop stays tight.
        try {
          segment->ForEachSlot(
              first, static_cast<int64_t>(records.size()),
              [&](const internal::Slot& slot) {
                // Read the time before the copy, and set it after (so that
                // a failed copy leaves the entry as it was): bytes written
                // through a char pointer may alias anything, so a read of
                // the slot after the copy waits for the copy's stores. That
                // cost ReadBatch a third of its speed.
                const absl::Time created =
                    absl::FromUnixNanos(slot.created_unix_nanos);
                Record& record = records[static_cast<size_t>(i)];
                // assign() reuses the capacity of a batch read repeatedly.
                record.data.assign(slot.data, slot.size);
                record.metadata = {offset + i, created};
                ++i;
              });
        } catch (const std::bad_alloc&) {
          // Entry i is unchanged but for its capacity.
        }
        return i;
      });
}

void Log::ReleaseViews(absl::Span<RecordView> views) {
  // A reused batch still holds the views of the last read. Release their
  // references with one atomic subtraction per run of views that share a
  // segment, rather than one per view as overwriting them would.
  Segment* run = nullptr;
  int64_t run_length = 0;
  for (RecordView& view : views) {
    Segment* segment = view.segment_.Release();
    if (segment != run) {
      if (run != nullptr) run->Unref(run_length);
      run = segment;
      run_length = 0;
    }
    if (segment != nullptr) ++run_length;
  }
  if (run != nullptr) run->Unref(run_length);
}

ReadResult Log::ReadBatchView(Offset start,
                              absl::Span<RecordView> batch) const {
  ReadResult result = ReadBatchInto(
      start, batch,
      [](SegmentRef segment, int64_t first, absl::Span<RecordView> views,
         Offset offset) -> int64_t {
        if (views.empty()) return 0;
        ReleaseViews(views);
        // One atomic add for the whole run: each view adopts one reference,
        // the last one the caller's.
        const auto n = static_cast<int64_t>(views.size());
        segment->Ref(n - 1);
        Segment* const held = segment.Release();
        int64_t i = 0;
        held->ForEachSlot(first, n, [&](const internal::Slot& slot) {
          views[static_cast<size_t>(i)] =
              RecordView(SegmentRef::Adopt(held), slot, offset + i);
          ++i;
        });
        return n;
      });
  // Views left from an earlier read of a reused batch would keep their
  // segments (and memory) alive for no reader.
  const absl::Span<RecordView> unused =
      batch.subspan(static_cast<size_t>(result.count));
  ReleaseViews(unused);
  for (RecordView& view : unused) view = RecordView();
  return result;
}

OffsetRange Log::Range() const {
  // Load earliest first: whatever is purged later, the latest loaded after it
  // is never smaller.
  const Offset earliest = earliest_.load(std::memory_order_acquire);
  const Offset next = next_.load(std::memory_order_acquire);
  // Nothing written, or every record purged by age.
  if (earliest >= next) return {};
  return {earliest, next - 1};
}

absl::StatusOr<Stream> Log::StreamFrom(Offset start,
                                       std::stop_token stop) const try {
  if (start < options_.start_offset || start > kMaxOffset) {
    return ImpossibleOffsetError(start);
  }
  return Stream(this, start, std::move(stop));
} catch (const std::bad_alloc&) {
  return internal::OutOfMemoryError("the stream's status");
}

namespace {

// Sleeps while `*word` holds `expected`, for at most `timeout` (null: no
// limit). Returns early on a wake-up, a signal, or a changed word.
void FutexWait(const std::atomic<uint32_t>* word, uint32_t expected,
               const timespec* timeout) {
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
  syscall(SYS_futex, reinterpret_cast<const uint32_t*>(word),
          FUTEX_WAIT_PRIVATE, expected, timeout, nullptr, 0);
}

void FutexWakeAll(const std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<const uint32_t*>(word),
          FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

}  // namespace

void Log::WakeWaiters() const {
  wake_word_.fetch_add(1, std::memory_order_release);
  FutexWakeAll(&wake_word_);
}

absl::Status Log::WaitFor(Offset offset, absl::Time deadline,
                          std::stop_token stop) const try {
  if (offset < options_.start_offset || offset > kMaxOffset) {
    return ImpossibleOffsetError(offset);
  }
  const auto written = [&] {
    return next_.load(std::memory_order_acquire) > offset;
  };
  const auto done = [&] {
    return written() || closed_flag_.load(std::memory_order_acquire) ||
           stop.stop_requested();
  };
  if (written()) return absl::OkStatus();
  // The wait policy: poll first, if asked to, for a record written soon.
  if (options_.wait_spin > absl::ZeroDuration() && !done()) {
    const absl::Time spin_end =
        std::min(deadline, absl::Now() + options_.wait_spin);
    int polls = 0;
    while (!done()) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      // Reading the clock costs more than a poll: every 64th poll. No
      // yield: a spinning consumer is one that was given a core of its own,
      // and a sched_yield() here would delay the delivery it spins for by a
      // system call.
      if ((++polls & 63) == 0 && absl::Now() >= spin_end) break;
    }
  }
  if (!done() && absl::Now() < deadline) {
    {
      internal::MutexLock lock(&mu_);
      waiters_.fetch_add(1, std::memory_order_relaxed);
    }
    counters_.streams_waiting.fetch_add(1, std::memory_order_relaxed);
    {
      // A stop request wakes every waiter of the log; the others see their
      // condition unchanged and sleep again.
      std::stop_callback wake_on_stop(stop, [this] { WakeWaiters(); });
      for (;;) {
        const uint32_t word = wake_word_.load(std::memory_order_acquire);
        if (done()) break;
        if (deadline == absl::InfiniteFuture()) {
          FutexWait(&wake_word_, word, nullptr);
          continue;
        }
        const absl::Duration left = deadline - absl::Now();
        if (left <= absl::ZeroDuration()) break;
        const timespec timeout = absl::ToTimespec(left);
        FutexWait(&wake_word_, word, &timeout);
      }
    }
    waiters_.fetch_sub(1, std::memory_order_relaxed);
    counters_.streams_waiting.fetch_sub(1, std::memory_order_relaxed);
  }
  if (written()) return absl::OkStatus();
  if (closed_flag_.load(std::memory_order_acquire)) {
    return MakeError(ErrorKind::kClosed,
                     absl::StrCat("log is closed; offset ", offset,
                                  " will never be written"));
  }
  if (stop.stop_requested()) {
    return MakeError(ErrorKind::kWaitCancelled,
                     absl::StrCat("wait for offset ", offset, " was cancelled"));
  }
  return MakeError(ErrorKind::kWaitTimedOut,
                   absl::StrCat("offset ", offset,
                                " was not written before the deadline"));
} catch (const std::bad_alloc&) {
  return internal::OutOfMemoryError("the wait's status");
}

void Log::Close() {
  {
    internal::MutexLock lock(&mu_);
    closed_ = true;
    closed_flag_.store(true, std::memory_order_release);
  }
  WakeWaiters();
  notifier_->RunAll(next_.load(std::memory_order_acquire),
                    "log is closed; the offset will never be written");
}

bool Log::closed() const {
  return closed_flag_.load(std::memory_order_acquire);
}

MemoryUsage Log::memory_usage() const {
  internal::MutexLock lock(&mu_);
  MemoryUsage usage;
  usage.segments = static_cast<int64_t>(segments_.size());
  for (const Segment* segment : segments_) {
    usage.allocated_bytes += segment->allocated_bytes();
    usage.payload_storage_bytes += segment->payload_storage_bytes();
  }
  for (const Segment* segment : {history_.load(std::memory_order_relaxed),
                                 active_.load(std::memory_order_relaxed)}) {
    if (segment == nullptr) continue;
    usage.records += segment->published();
    usage.payload_bytes += segment->payload_bytes();
  }
  return usage;
}

absl::StatusOr<OffsetAtTime> Log::OffsetAt(absl::Time t) const try {
  const int64_t target = absl::ToUnixNanos(t);  // saturates, as the clock
  // Search the segments oldest first: pinned, so that a concurrent purge
  // cannot reuse them under the search.
  const Offset earliest = earliest_.load(std::memory_order_acquire);
  for (const std::atomic<Segment*>* slot : {&history_, &active_}) {
    Segment* segment = slot->load(std::memory_order_acquire);
    if (segment == nullptr || !segment->TryRef()) continue;
    const SegmentRef ref = SegmentRef::Adopt(segment);
    const int64_t published = segment->published();
    // The first published index not below earliest (purges move it on).
    const int64_t from = std::clamp<int64_t>(earliest - segment->base(), 0,
                                             published);
    int64_t low = from;
    int64_t high = published;
    while (low < high) {
      const int64_t mid = low + (high - low) / 2;
      if (segment->created(mid) < target) {
        low = mid + 1;
      } else {
        high = mid;
      }
    }
    if (low == published) continue;
    const Offset offset = segment->base() + low;
    // The purged records were all created at or before the earliest one, so
    // some of them may be at or after `t` only if this is the earliest.
    return OffsetAtTime{offset, earliest > options_.start_offset &&
                                    offset == earliest};
  }
  const Offset next = next_.load(std::memory_order_acquire);
  return MakeError(
      ErrorKind::kFutureOffset,
      absl::StrCat("no retained record was created at or after ",
                   absl::FormatTime(t),
                   "; the records written from now on start at offset ",
                   next));
} catch (const std::bad_alloc&) {
  return internal::OutOfMemoryError("the seek's status");
}

absl::Status Log::Trim() try {
  if (!options_.max_age.has_value()) return absl::OkStatus();
  internal::MutexLock lock(&mu_);
  return TrimLocked();
} catch (const std::bad_alloc&) {
  return internal::OutOfMemoryError("the trim's status");
}

absl::Status Log::TrimLocked() {
  if (!options_.max_age.has_value()) return absl::OkStatus();
  const absl::StatusOr<int64_t> now = NowUnixNanos();
  if (!now.ok()) return now.status();
  if (!PurgeByAge(*now)) {
    return internal::OutOfMemoryError("sealing the active segment");
  }
  return absl::OkStatus();
}

LogStats Log::stats() const {
  const auto load = [](const std::atomic<int64_t>& counter) {
    return counter.load(std::memory_order_relaxed);
  };
  LogStats stats;
  stats.records_written = next_.load(std::memory_order_relaxed) -
                          options_.start_offset - load(skipped_offsets_);
  stats.bytes_written = load(bytes_written_);
  stats.segments_rotated = load(counters_.segments_rotated);
  stats.records_purged_by_count = load(counters_.purged_by_count);
  stats.records_purged_by_bytes = load(counters_.purged_by_bytes);
  stats.records_purged_by_age = load(counters_.purged_by_age);
  stats.write_failures_invalid = load(counters_.failures_invalid);
  stats.write_failures_closed = load(counters_.failures_closed);
  stats.write_failures_overflow = load(counters_.failures_overflow);
  stats.write_failures_out_of_memory = load(counters_.failures_out_of_memory);
  stats.write_failures_callback = load(counters_.failures_callback);
  stats.streams_waiting = load(counters_.streams_waiting);
  stats.lag_events = load(counters_.lag_events);
  stats.records_missed = load(counters_.records_missed);
  return stats;
}

LogStats& LogStats::operator+=(const LogStats& other) {
  records_written += other.records_written;
  bytes_written += other.bytes_written;
  segments_rotated += other.segments_rotated;
  records_purged_by_count += other.records_purged_by_count;
  records_purged_by_bytes += other.records_purged_by_bytes;
  records_purged_by_age += other.records_purged_by_age;
  write_failures_invalid += other.write_failures_invalid;
  write_failures_closed += other.write_failures_closed;
  write_failures_overflow += other.write_failures_overflow;
  write_failures_out_of_memory += other.write_failures_out_of_memory;
  write_failures_callback += other.write_failures_callback;
  streams_waiting += other.streams_waiting;
  lag_events += other.lag_events;
  records_missed += other.records_missed;
  return *this;
}

}  // namespace memlog
