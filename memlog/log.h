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
#include <condition_variable>
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
#include "memlog/options.h"
#include "memlog/read_result.h"
#include "memlog/reader.h"
#include "memlog/record.h"
#include "memlog/status.h"
#include "memlog/stream.h"

namespace memlog {

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
  int64_t segments = 0;         // segment objects, live, pinned or spare
};

class Log {
 public:
  // Creates an empty log. Allocates no record storage until the first write.
  // Fails with kInvalidArgument (IsInvalidOptions) naming the bad field and
  // its valid range.
  static absl::StatusOr<std::unique_ptr<Log>> Create(Options options = {});

  // REQUIRES: no call on this log is in progress and no Stream of it is
  // used afterwards. RecordViews outlive the log safely.
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
  //   write at that point would have (Range() tells);
  // - kInternal (IsCallbackFailed) if `Options::clock` threw; nothing is
  //   written.
  absl::StatusOr<Offset> Write(std::string_view data);

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

  // Returns the earliest and latest offsets readable now, or
  // {kInvalidOffset, kInvalidOffset} when nothing was written. `earliest`
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

  // Closes the log: later writes fail with IsClosed, and waiting streams
  // return the records written before, then IsClosed. Reads keep working.
  // Idempotent.
  void Close();
  bool closed() const;

  const Options& options() const { return options_; }

  // Reports the records and memory this log holds. Takes the writer lock.
  MemoryUsage memory_usage() const;

 private:
  friend class Reader;
  explicit Log(Options options);

  // Takes a reference on the segment holding the written record at `offset`
  // or returns the future-offset or out-of-range status for it.
  absl::StatusOr<internal::SegmentRef> AcquireSegment(Offset offset) const;
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

  // Seals the active segment and installs a fresh one whose first offset is
  // `base`, purging the history. Returns false if memory ran out.
  bool RotateSegments(Offset base) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns a claimed segment for reuse, or a new one, or nullptr.
  internal::Segment* ClaimSpareSegment() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Reads the clock, or returns kCallbackFailed if Options::clock threw.
  absl::StatusOr<int64_t> NowUnixNanos() const;

  const Options options_;

  // The writer lock: serializes writes and rotations, and is the lock that
  // waiting streams sleep under. Its own cache line, away from what readers
  // load.
  alignas(64) mutable internal::Mutex mu_;
  mutable std::condition_variable_any written_;
  mutable int waiters_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
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
};

}  // namespace memlog

#endif  // MEMLOG_LOG_H_
