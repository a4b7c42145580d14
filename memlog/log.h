// Copyright memlog authors.
//
// memlog::Log: an in-memory, thread-safe, append-only log of immutable records
// addressed by increasing offsets.
//
// A program that pulls events from a durable source (a legacy API, a
// database) writes them here and serves them to many consumers, in order,
// concurrently, each at its own pace, with bounded memory:
//
//   absl::StatusOr<std::unique_ptr<memlog::Log>> log = memlog::Log::Create();
//   if (!log.ok()) return log.status();
//   absl::StatusOr<memlog::Offset> offset = (*log)->Write("Hello World");
//   absl::StatusOr<memlog::Record> record = (*log)->Read(*offset);
//
// Retention: records are kept in two segments of `Options::segment_size`
// records, the active one and the history. The write that finds the active
// segment full seals it, makes it the history (purging the previous history)
// and lands in a new active segment. With segment_size 10 and start offset 0,
// after 20 writes Range() is {0, 19}; after 21 writes it is {10, 20}. A full
// log so holds between segment_size + 1 and 2 * segment_size records.
//
// Thread-safety: a Log has internal synchronization and every method may be
// called concurrently from any number of threads. Writes are serialized by one
// writer lock; reads take no lock and never block each other or the writers.
//
// Memory ordering: once Write() returns offset N, every read of N from any
// thread sees the complete record, and no reader ever sees a partly written
// record. Range() and streams see records in offset order: if offset N is
// visible, so is every retained offset below N.
//
// Errors: every failure is a status value, never an exception or a crash; the
// predicates in memlog/status.h tell the kinds apart.

#ifndef MEMLOG_LOG_H_
#define MEMLOG_LOG_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "memlog/internal/mutex.h"
#include "memlog/internal/segment.h"
#include "memlog/notification.h"
#include "memlog/options.h"
#include "memlog/read_result.h"
#include "memlog/reader.h"
#include "memlog/record.h"
#include "memlog/stats.h"
#include "memlog/status.h"
#include "memlog/stream.h"

namespace memlog {
namespace sharded {
class Stream;
namespace internal {
struct Shard;
}  // namespace internal
}  // namespace sharded

namespace internal {
class WriteNotifier;
struct ShardWrites;
}  // namespace internal

// The earliest and latest offsets a log holds; both kInvalidOffset when it is
// empty.
struct OffsetRange {
  Offset earliest = kInvalidOffset;
  Offset latest = kInvalidOffset;

  friend bool operator==(const OffsetRange&, const OffsetRange&) = default;
};

// What a log holds, from its own accounting.
struct MemoryUsage {
  int64_t records = 0;          // records retained (readable)
  int64_t payload_bytes = 0;    // their payload bytes
  int64_t allocated_bytes = 0;  // all slot and payload storage allocated
  // The payload part of allocated_bytes: what Options::max_segment_bytes
  // bounds (twice over, see options.h).
  int64_t payload_storage_bytes = 0;
  int64_t segments = 0;  // segment objects, live, pinned or spare
};

// The outcome of Log::WriteBatch(): the offsets given to the batch's records,
// consecutive from `first`, and why the write stopped short, if it did.
struct [[nodiscard]] WriteBatchResult {
  Offset first = kInvalidOffset;  // kInvalidOffset when none was written
  int64_t count = 0;
  absl::Status status;

  bool ok() const { return status.ok(); }
  // The offset of the last record written; kInvalidOffset if none was.
  Offset last() const { return count == 0 ? kInvalidOffset : first + count - 1; }
};

// Where Log::OffsetAt() found a time.
struct OffsetAtTime {
  // The first retained offset whose record was created at or after the time.
  Offset offset = kInvalidOffset;
  // True when the time lies at or before the earliest retained record and
  // records have been purged: records created at or after the time may be
  // among them, so a consumer starting here may have missed some.
  bool may_have_missed = false;
};

namespace internal {
// Where a replica write lands; see memlog/replica.h.
struct ReplicaPosition {
  Offset offset;
  int64_t created_unix_nanos;
};
}  // namespace internal

class Log {
 public:
  // Creates an empty log. Allocates no record storage until the first write.
  // Fails with kInvalidArgument (IsInvalidOptions) naming the bad field and
  // its valid range.
  static absl::StatusOr<std::unique_ptr<Log>> Create(Options options = {});

  // REQUIRES: no call on this log is in progress and no Stream of it is
  // used afterwards. RecordViews and WriteNotification handles outlive the
  // log safely. Pending NotifyWhenWritten() handlers run here, on this
  // thread, with IsClosed; they must not use this log.
  ~Log();

  // Not copyable or movable: streams and readers refer to it by address.
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Appends a copy of `data` as a new record and returns its offset. Wakes
  // the streams waiting for it. Fails, writing nothing, with:
  // - kInvalidArgument (IsEmptyRecord) if `data` is empty;
  // - kInvalidArgument (IsRecordTooLarge) if `data` is larger than
  //   `Options::max_record_bytes`;
  // - kFailedPrecondition (IsClosed) after Close();
  // - kResourceExhausted (IsOffsetOverflow) once kMaxOffset was written;
  // - kResourceExhausted (IsOutOfMemory) if memory for the record cannot be
  //   allocated. The record is not written; the log stays usable and accepts
  //   writes again once memory is available. NOTE: such a write may still
  //   have sealed the active segment and purged the history, as a successful
  //   write at that point would have (Range() tells). Likewise, when sealing
  //   a segment for Options::max_age runs out of memory, the write goes on
  //   into the current segment and a later write or Trim() seals it;
  // - kInternal (IsCallbackFailed) if `Options::clock` threw; nothing is
  //   written.
  absl::StatusOr<Offset> Write(std::string_view data);

  // Appends `records` as consecutive records under one acquisition of the
  // writer lock, with one clock reading (they share a `created`) and one
  // wake-up of the waiting streams. Validates every record first: if any is
  // empty or too large, writes none and fails with its status, whose message
  // names the index of the first bad one. Fails writing none with IsClosed,
  // with IsOffsetOverflow if the batch does not fit below kMaxOffset, and
  // with IsCallbackFailed if the clock throws. An empty batch writes nothing
  // and returns OK with count 0, whatever the log's state.
  //
  // A batch may span rotations like any run of writes (a batch of more than
  // segment_size records rotates within itself, and its own later records
  // may purge its earlier ones). Its records become readable together when
  // the call returns (a Reader or stream that already holds the segment may
  // see them, in order, a little earlier). If memory runs out part way, the
  // records stored so far stay written and the result says how many
  // (count) with IsOutOfMemory.
  WriteBatchResult WriteBatch(absl::Span<const std::string_view> records);

  // Returns a copy of the record at `offset`. Fails with:
  // - kOutOfRange (IsFutureOffset) if `offset` is not written yet;
  // - kNotFound (IsPurgedOffset) if it was written and has been purged;
  // - kInvalidArgument (IsImpossibleOffset) if no record can ever have it: it
  //   lies before the start offset (negative offsets included) or past
  //   kMaxOffset;
  // - kResourceExhausted (IsOutOfMemory) if the copy cannot be allocated.
  absl::StatusOr<Record> Read(Offset offset) const;

  // As Read(), without copying the payload: the view points into the log's
  // storage and stays valid while held (see RecordView). Allocates nothing,
  // so never fails with IsOutOfMemory.
  absl::StatusOr<RecordView> ReadView(Offset offset) const;

  // Reads consecutive records starting at `start` into `batch[0..]`, up to
  // `batch.size()` of them, and returns how many it read with:
  // - OK if the batch was filled (also when its last entry is the latest
  //   record, or when `batch` is empty);
  // - IsFutureOffset if the end of the log came first: the count says how
  //   many were read, 0 when `start` itself is not written yet;
  // - IsPurgedOffset with count 0 if `start` was purged (and with the count
  //   read so far, in the rare case that a concurrent purge overtakes the
  //   batch);
  // - IsImpossibleOffset with count 0 if `start` lies before the start offset
  //   or past kMaxOffset, and with the count read if the batch reached the
  //   record at kMaxOffset, after which no record can ever follow;
  // - IsOutOfMemory with the count copied so far if a copy cannot be
  //   allocated.
  // Entries at `count` and beyond are left as they were.
  ReadResult ReadBatch(Offset start, absl::Span<Record> batch) const;

  // As ReadBatch(), filling views instead of copies (never IsOutOfMemory).
  // Entries at `count` and beyond are emptied, so that a reused batch does
  // not keep the segments of an earlier read alive.
  ReadResult ReadBatchView(Offset start, absl::Span<RecordView> batch) const;

  // PERFORMANCE: each view above pins its segment with an atomic reference
  // count that all readers share. A thread that reads many records can use a
  // memlog::Reader (memlog/reader.h) instead, which reads pinned segments
  // with plain loads.

  // Returns the first retained offset whose record was created at or after
  // `t`, found by binary search (O(log n) per segment, no scan), with
  // `may_have_missed` set when `t` lies at or before the earliest retained
  // record and records have been purged. Fails with kOutOfRange
  // (IsFutureOffset) when every retained record is older than `t` (or the
  // log holds none): the message names NextOffset(), where a stream picks up
  // the records written from now on. Timestamps are monotonic
  // (memlog/record.h), so the result is exact.
  //
  // To stream everything since `t`:
  //   log->StreamFrom(log->OffsetAt(t).value_or(
  //       memlog::OffsetAtTime{log->NextOffset()}).offset)
  absl::StatusOr<OffsetAtTime> OffsetAt(absl::Time t) const;

  // Returns the offset the next write will get (one past the latest
  // record; the start offset before the first write). Lock-free.
  Offset NextOffset() const {
    return next_.load(std::memory_order_acquire);
  }

  // Returns the earliest and latest offsets readable now, or
  // {kInvalidOffset, kInvalidOffset} when the log holds no record: nothing
  // was written, or max_age purged every record (NextOffset() still tells
  // where writing continues). `earliest`
  // moves forward when a segment is purged. Either may have moved on by the
  // time the caller looks; neither ever moves backwards.
  OffsetRange Range() const;

  // Returns a stream positioned at `start`, which may be purged, the latest
  // record, or an offset not written yet. Its blocking calls end with
  // kCancelled (IsWaitCancelled) once `stop` is triggered. Fails with
  // kInvalidArgument (IsImpossibleOffset) if `start` lies before the start
  // offset or past kMaxOffset.
  // REQUIRES: this log outlives the stream.
  absl::StatusOr<Stream> StreamFrom(Offset start,
                                    std::stop_token stop = {}) const;

  // Blocks until `offset` is written. Returns OK then (also when it has been
  // purged since), or else:
  // - kInvalidArgument (IsImpossibleOffset) at once if `offset` lies before the
  //   start offset or past kMaxOffset: it will never be written;
  // - kFailedPrecondition (IsClosed) if the log is closed first;
  // - kCancelled (IsWaitCancelled) if `stop` is triggered first;
  // - kDeadlineExceeded (IsWaitTimedOut) at `deadline`.
  absl::Status WaitFor(Offset offset, absl::Time deadline = absl::InfiniteFuture(),
                       std::stop_token stop = {}) const;

  // Purges what Options::max_age says is too old, by the clock, as the next
  // write would: a log that is not written calls this from its own timer to
  // release old records during quiet periods. A no-op without max_age.
  // Works on a closed log too (reads go on, so purges do). Fails with
  // IsCallbackFailed if the clock throws, and IsOutOfMemory if sealing the
  // active segment needs memory that cannot be had (nothing changes then).
  absl::Status Trim();

  // Returns the log's live counters (memlog/stats.h) without taking the
  // writer lock.
  LogStats stats() const;

  // Asks for `handler` to run once `offset` is written, without a thread
  // waiting for it: for event loops (see memlog/notification.h). The handler
  // runs exactly once, unless the returned handle cancels it first:
  // - with OK, on the thread of the Write() that wrote `offset`, after that
  //   write has released the writer lock and before Write() returns; or at
  //   once, on this thread before this call returns, if `offset` is already
  //   written (the handle returned is then empty);
  // - with kFailedPrecondition (IsClosed), on the thread of Close() (or at
  //   once if the log is already closed), or on the thread destroying the
  //   log if it is destroyed first.
  // Only the requests for offsets a write has reached are run by it; others
  // are not touched. Fails, without running or keeping the handler, with:
  // - kInvalidArgument (IsImpossibleOffset) if `offset` lies before the start
  //   offset or past kMaxOffset;
  // - kResourceExhausted (IsOutOfMemory) if the request cannot be stored.
  // REQUIRES: `handler` is not empty.
  absl::StatusOr<WriteNotification> NotifyWhenWritten(
      Offset offset, WriteHandler handler) const;

  // Closes the log: later writes fail with IsClosed, and waiting streams
  // return the records written before, then IsClosed. Pending
  // NotifyWhenWritten() handlers run (see there). Reads keep working.
  // Idempotent.
  void Close();
  bool closed() const;

  const Options& options() const { return options_; }

  // Reports the records and memory this log holds. Takes the writer lock.
  MemoryUsage memory_usage() const;

 private:
  friend class Reader;
  // Sharded logs write their shards with Append() under a lock of their
  // own and run the notifications once that lock is released.
  friend struct internal::ShardWrites;
  friend class ReplicaWriter;
  // With `arena`, the segments' slot blocks and payload chunks come from it
  // (a sharded log's shards share one: internal/huge_page_arena.h).
  explicit Log(Options options,
               std::shared_ptr<internal::HugePageArena> arena = nullptr);

  // Write() without running the NotifyWhenWritten() handlers; with
  // `replica` set, the replica write of memlog/replica.h.
  absl::StatusOr<Offset> Append(std::string_view data,
                                const internal::ReplicaPosition* replica);
  // Append() of valid data (ValidateRecordData), under the writer lock;
  // sets `*wake_streams` if WakeWaiters() must follow once it is released.
  // `Bytes` is a std::string_view or an internal::RecordPieces (defined, and
  // instantiated for both, in log.cc).
  template <typename Bytes>
  absl::StatusOr<Offset> AppendValidLocked(
      Bytes data, const internal::ReplicaPosition* replica,
      bool* wake_streams) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Trim() under the writer lock.
  absl::Status TrimLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs the handlers of requests for offsets up to `written`. Costs one
  // relaxed load when none is pending.
  void NotifyWritten(Offset written) const;

  // Takes a reference on the segment holding the written record at `offset`
  // or returns the future-offset or out-of-range status for it.
  absl::StatusOr<internal::SegmentRef> AcquireSegment(Offset offset) const;
  // AcquireSegment()'s common case, inline: the segment pinned, or nullptr
  // if AcquireSegment() must decide (an error, or a race with a rotation).
  internal::Segment* PinSegment(Offset offset) const;
  // Reads a batch segment by segment, calling
  // fill_entries(segment, first slot index, entries, first offset) for each
  // run of entries that one segment holds.
  template <typename Entry, typename FillEntries>
  ReadResult ReadBatchInto(Offset start, absl::Span<Entry> batch,
                           FillEntries fill_entries) const;
  // Drops the references `views` hold, leaving them empty.
  static void ReleaseViews(absl::Span<RecordView> views);
  // Takes the writer lock, spinning briefly if another writer holds it.
  void LockWriter() const ABSL_EXCLUSIVE_LOCK_FUNCTION(mu_);
  absl::Status FutureOffsetError(Offset offset, Offset next) const;
  absl::Status ImpossibleOffsetError(Offset offset) const;
  absl::Status PurgedOffsetError(Offset offset) const;
  // Returns OK if a replica write may land at `replica` when `next` is the
  // next offset; `may_skip` if the log never held a record.
  absl::Status CheckReplicaPosition(const internal::ReplicaPosition& replica,
                                    Offset next, bool may_skip) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Why a segment is sealed, and so why its predecessor is purged.
  enum class PurgeReason { kCount, kBytes, kAge };
  // Stores `data` at offset `offset` (the next one) with `created`,
  // rotating first if the active segment is full or the record does not fit
  // its byte bound; returns the IsOutOfMemory status, or OK. `Bytes` as for
  // AppendValidLocked().
  template <typename Bytes>
  absl::Status AppendLocked(Bytes data, int64_t created,
                            Offset offset, bool count_bytes = true)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Stores `records` from offset `first` (the next one), all with `created`,
  // rotating as AppendLocked() does; sets `*stored` to how many it stored
  // (a prefix) and returns the IsOutOfMemory status that stopped it, or OK.
  // Never throws: the caller numbers the records stored.
  absl::Status AppendBatchLocked(absl::Span<const std::string_view> records,
                                 int64_t created, Offset first,
                                 int64_t* stored)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Seals the active segment and installs a fresh one whose first offset is
  // `base`, purging the history. Returns false if memory ran out.
  bool RotateSegments(Offset base, PurgeReason reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Purges the history segment without sealing the active one.
  void PurgeHistory(PurgeReason reason) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Applies Options::max_age at time `now` (unix nanoseconds). Returns false
  // if sealing the active segment ran out of memory.
  bool PurgeByAge(int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CountPurged(const internal::Segment* segment, PurgeReason reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Counts a failed write in the stats and returns its status.
  absl::Status WriteFailed(absl::Status status) const;
  // Returns a claimed segment for reuse, or a new one, or nullptr.
  internal::Segment* ClaimSpareSegment() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Reads the clock, or returns kCallbackFailed if Options::clock threw.
  absl::StatusOr<int64_t> NowUnixNanos() const;

  const Options options_;

  // Wakes the threads sleeping in WaitFor(). REQUIRES: mu_ not held.
  void WakeWaiters() const;

  // The writer lock: serializes writes and rotations. Its own cache line,
  // away from what readers load.
  alignas(64) mutable internal::Mutex mu_;
  // Copies of what every write asks of options_, on the line the writer
  // dirties anyway (options_ would cost a cache line of its own per write).
  const bool custom_clock_;
  const bool has_max_age_;
  // Threads in WaitFor() (which may sleep). Incremented under mu_, before
  // the waiter checks next_, so that a write that publishes later (and reads
  // this under mu_) sees it and wakes them; decremented without the lock. A
  // stale nonzero only costs a needless wake-up.
  mutable std::atomic<int> waiters_{0};
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  // The `created` of the latest record: later ones never go below it.
  int64_t last_created_ ABSL_GUARDED_BY(mu_) = INT64_MIN;
  // The futex word that waiters sleep on. Design: a waiter reads it, then
  // checks next_ and closed_flag_, and sleeps only while it still holds the
  // value read; a write that finds waiters, Close() and a waiter's stop
  // request bump it (release) after publishing, then wake the sleepers. So
  // waking never takes mu_, and no wake-up is lost between check and sleep.
  mutable std::atomic<uint32_t> wake_word_{0};
  // Every segment this log made: the active one, the history, ones pinned by
  // views, and spares kept for reuse.
  std::vector<internal::Segment*> segments_ ABSL_GUARDED_BY(mu_);

  // Published state, written under mu_ and read racily by readers. Each
  // store is a release that publishes the records written before it; readers
  // load with acquire. Stale values are fine: they make a reader see an
  // older, still consistent, log.
  //
  // The next offset to be written: one past the latest record. Written on
  // every write, so on a line of its own.
  alignas(64) std::atomic<Offset> next_;
  // options_.start_offset, which every read checks, on the line it loads
  // anyway.
  const Offset start_offset_;
  // Payload bytes written. On next_'s line, which every write dirties
  // anyway; written under mu_, read racily by stats().
  std::atomic<int64_t> bytes_written_{0};
  // Set, and never cleared, by the first NotifyWhenWritten(): until then a
  // write checks this line it dirties anyway instead of the notifier's.
  mutable std::atomic<bool> notifications_used_{false};
  // The offsets a replica's first record skipped (memlog/replica.h); written
  // once under mu_.
  std::atomic<int64_t> skipped_offsets_{0};
  // The first offset of the history segment (or of the active one before the
  // first purge): the earliest readable record once one is written. With the
  // segment pointers below, written only on rotation: read-mostly.
  alignas(64) std::atomic<Offset> earliest_;
  // The segments readers search. `history_` is stored before `active_` on
  // rotation, and readers load `active_` first, so a reader never misses a
  // retained record between the two loads.
  std::atomic<internal::Segment*> active_{nullptr};
  std::atomic<internal::Segment*> history_{nullptr};
  std::atomic<bool> closed_flag_{false};

  // Counters of rare events (stats()), on a line of their own: rotations
  // and purges (written under mu_), failed writes and stream lags (written
  // by any thread). Read racily by stats().
  struct RareCounters {
    std::atomic<int64_t> segments_rotated{0};
    std::atomic<int64_t> purged_by_count{0};
    std::atomic<int64_t> purged_by_bytes{0};
    std::atomic<int64_t> purged_by_age{0};
    std::atomic<int64_t> failures_invalid{0};
    std::atomic<int64_t> failures_closed{0};
    std::atomic<int64_t> failures_overflow{0};
    std::atomic<int64_t> failures_out_of_memory{0};
    std::atomic<int64_t> failures_callback{0};
    std::atomic<int64_t> streams_waiting{0};
    std::atomic<int64_t> lag_events{0};
    std::atomic<int64_t> records_missed{0};
  };
  alignas(64) mutable RareCounters counters_;

  // Counts a stream's lag report of `missed` records in the stats.
  void CountLag(int64_t missed) const {
    counters_.lag_events.fetch_add(1, std::memory_order_relaxed);
    counters_.records_missed.fetch_add(missed, std::memory_order_relaxed);
  }
  friend class Stream;             // reads earliest_, counts lags
  friend class sharded::Stream;    // counts lags, PinView()

  // ReadView()'s common case, written over `*out` rather than returned in
  // a StatusOr: true if `offset` is written, retained and was pinned; false
  // otherwise (`*out` untouched), and ReadView() tells why. For streams
  // that read record by record, where the StatusOr's copies cost as much
  // as the read.
  bool PinView(Offset offset, RecordView* out) const;
  // Holds its log by value (one allocation, no pointer to follow per write),
  // made with options its sharded log validated.
  friend struct sharded::internal::Shard;

  // The NotifyWhenWritten() requests; shared with their handles, which may
  // outlive the log. Its own lock, never held with mu_.
  const std::shared_ptr<internal::WriteNotifier> notifier_;
  // Where the segments' storage comes from; null: operator new.
  const std::shared_ptr<internal::HugePageArena> arena_;
};

}  // namespace memlog

#endif  // MEMLOG_LOG_H_
