// Copyright memlog authors.

#include "memlog/log.h"

#include <algorithm>
#include <time.h>

#include <chrono>
#include <new>
#include <utility>

#include "absl/strings/str_cat.h"
#include "memlog/internal/errors.h"

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

Log::Log(Options options)
    : options_(std::move(options)),
      next_(options_.start_offset),
      earliest_(options_.start_offset) {}

Log::~Log() {
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
  if (options_.clock) {
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

absl::StatusOr<Offset> Log::Write(std::string_view data) try {
  if (absl::Status status =
          ValidateRecordData(data, options_.max_record_bytes);
      !status.ok()) {
    return status;
  }

  bool wake_streams;
  Offset offset;
  {
    LockWriter();
    internal::MutexLock lock(&mu_, internal::MutexLock::Adopt{});
    if (closed_) {
      return MakeError(ErrorKind::kClosed, "log is closed; writes are refused");
    }
    offset = next_.load(std::memory_order_relaxed);
    if (offset > kMaxOffset) {
      return MakeError(ErrorKind::kOffsetOverflow,
                       absl::StrCat("offset ", kMaxOffset,
                                    " (kMaxOffset) was the last; no offset is "
                                    "left for another record"));
    }
    // Before anything changes: a clock that throws leaves the log as it was.
    const absl::StatusOr<int64_t> created = NowUnixNanos();
    if (!created.ok()) return created.status();
    Segment* active = active_.load(std::memory_order_relaxed);
    if (active == nullptr || active->full()) {
      if (!RotateSegments(offset)) {
        return internal::OutOfMemoryError("a new segment");
      }
      active = active_.load(std::memory_order_relaxed);
    }
    if (!active->Append(data, *created)) {
      return internal::OutOfMemoryError(
          absl::StrCat("a record of ", data.size(), " bytes"));
    }
    next_.store(offset + 1, std::memory_order_release);
    wake_streams = waiters_ > 0;
  }
  if (wake_streams) written_.notify_all();
  return offset;
} catch (const std::bad_alloc&) {
  return internal::OutOfMemoryError("the write's status");
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

bool Log::RotateSegments(Offset base) {
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
    old_history->Unref();
  }
  Segment* fresh = ClaimSpareSegment();
  if (fresh == nullptr) {
    // Out of memory: the history stays purged and the full active segment
    // stays active; the next write tries again.
    return false;
  }
  fresh->Reset(base);
  fresh->Activate();
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
  auto* segment = new (std::nothrow) Segment(options_.segment_size);
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

absl::StatusOr<SegmentRef> Log::AcquireSegment(Offset offset) const {
  if (offset < options_.start_offset || offset > kMaxOffset) {
    return ImpossibleOffsetError(offset);
  }
  const Offset next = next_.load(std::memory_order_acquire);
  if (offset >= next) return FutureOffsetError(offset, next);
  // `offset` is written, so it lies in the active segment, the history, or a
  // purged segment. A segment found through a stale pointer may since have
  // been reused for later offsets; its base tells, once it is pinned.
  //
  // Fast path: guess the segment from the active one's base, and pin only it.
  Segment* active = active_.load(std::memory_order_acquire);
  Segment* guess = offset >= active->peek_base()
                       ? active
                       : history_.load(std::memory_order_acquire);
  if (guess != nullptr && guess->TryRef()) {
    SegmentRef ref = SegmentRef::Adopt(guess);
    const Offset index = offset - guess->base();
    if (index >= 0 && index < guess->published() &&
        offset >= earliest_.load(std::memory_order_acquire)) {
      return ref;
    }
  }
  // A rotation raced with the guess: look at both segments.
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
  absl::StatusOr<SegmentRef> segment = AcquireSegment(offset);
  if (!segment.ok()) return segment.status();
  const internal::Slot& slot = (*segment)->slot(offset - (*segment)->base());
  return RecordView(*std::move(segment), slot, offset);
} catch (const std::bad_alloc&) {
  return internal::OutOfMemoryError("the read's status");
}

absl::StatusOr<Record> Log::Read(Offset offset) const try {
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
        const auto n = static_cast<int64_t>(records.size());
        for (int64_t i = 0; i < n; ++i) {
          const internal::Slot& slot = segment->slot(first + i);
          Record& record = records[static_cast<size_t>(i)];
          try {
            // assign() reuses the capacity of a batch read repeatedly.
            record.data.assign(slot.data, slot.size);
          } catch (const std::bad_alloc&) {
            return i;  // this entry is unchanged but for its capacity
          }
          record.metadata = {offset + i,
                             absl::FromUnixNanos(slot.created_unix_nanos)};
        }
        return n;
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
        Segment* const held = segment.get();
        for (int64_t i = 0; i + 1 < n; ++i) {
          views[static_cast<size_t>(i)] = RecordView(
              SegmentRef::Adopt(held), held->slot(first + i), offset + i);
        }
        views[static_cast<size_t>(n - 1)] = RecordView(
            std::move(segment), held->slot(first + n - 1), offset + n - 1);
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
  if (next == options_.start_offset) return {};
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

absl::Status Log::WaitFor(Offset offset, absl::Time deadline,
                          std::stop_token stop) const try {
  if (offset < options_.start_offset || offset > kMaxOffset) {
    return ImpossibleOffsetError(offset);
  }
  const auto written = [&] {
    return next_.load(std::memory_order_acquire) > offset;
  };
  if (written()) return absl::OkStatus();
  internal::MutexLock lock(&mu_);
  const auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return written() || closed_;
  };
  ++waiters_;
  if (deadline == absl::InfiniteFuture()) {
    written_.wait(lock, stop, done);
  } else {
    written_.wait_until(lock, stop, absl::ToChronoTime(deadline), done);
  }
  --waiters_;
  if (written()) return absl::OkStatus();
  if (closed_) {
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
  written_.notify_all();
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
  }
  for (const Segment* segment : {history_.load(std::memory_order_relaxed),
                                 active_.load(std::memory_order_relaxed)}) {
    if (segment == nullptr) continue;
    usage.records += segment->published();
    usage.payload_bytes += segment->payload_bytes();
  }
  return usage;
}

}  // namespace memlog
