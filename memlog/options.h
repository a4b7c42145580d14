// Copyright memlog authors.
//
// memlog::Options: how a log is sized and where its timestamps come from.
//
// An aggregate, meant for designated initialisers:
//
//   auto log = memlog::Log::Create({.start_offset = 10, .segment_size = 100});
//
// `Log::Create` validates every field and rejects a bad one with
// `kInvalidArgument` (`memlog::IsInvalidOptions`) and a message that names the
// field and its valid range.

#ifndef MEMLOG_OPTIONS_H_
#define MEMLOG_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace memlog {

// The position of a record in a log. Offsets are assigned densely and in
// increasing order, from `Options::start_offset` up to `kMaxOffset`.
using Offset = int64_t;

// The invalid offset, returned by `Log::Range()` for an empty log.
inline constexpr Offset kInvalidOffset = -1;

// The largest offset a log assigns; writing past it fails with
// `memlog::IsOffsetOverflow` and never wraps around.
inline constexpr Offset kMaxOffset = std::numeric_limits<int64_t>::max() - 1;

inline constexpr int64_t kDefaultSegmentSize = 1024;
// Segments grow lazily (storage follows the records written), so a large
// segment size costs nothing until it is used; this bound keeps offsets
// arithmetic and the slot directory small.
inline constexpr int64_t kMaxSegmentSize = int64_t{1} << 32;

inline constexpr int64_t kDefaultMaxRecordBytes = int64_t{1} << 20;  // 1 MiB
inline constexpr int64_t kMaxRecordBytesLimit = int64_t{1} << 30;    // 1 GiB

// The bounds of `Options::max_segment_bytes` (4 KiB to 1 TiB) and of
// `Options::max_age` (1 ms to 100 years).
inline constexpr int64_t kMinSegmentBytes = int64_t{4} << 10;
inline constexpr int64_t kMaxSegmentBytes = int64_t{1} << 40;
inline constexpr absl::Duration kMinMaxAge = absl::Milliseconds(1);
inline constexpr absl::Duration kMaxMaxAge = absl::Hours(24 * 365 * 100);

struct Options {
  // The offset of the first record. Valid: [0, kMaxOffset].
  Offset start_offset = 0;

  // Records per segment. A log keeps an active and a history segment, so it
  // retains between `segment_size + 1` and `2 * segment_size` records once
  // full. Valid: [1, kMaxSegmentSize].
  int64_t segment_size = kDefaultSegmentSize;

  // The largest record payload accepted, in bytes.
  // Valid: [1, kMaxRecordBytesLimit].
  int64_t max_record_bytes = kDefaultMaxRecordBytes;

  // The source of `Header::created`; called once per write while the write
  // holds the log's writer lock, so it must be cheap and must not call back
  // into the log. Tests inject a fake clock here.
  //
  // A clock that throws fails that write with kInternal
  // (`memlog::IsCallbackFailed`), writing nothing; the exception does not
  // leave the log. Times are stored as int64 nanoseconds since 1970, so a
  // time outside [1677-09-21 00:12:43.145224192, 2262-04-11
  // 23:47:16.854775807] UTC (Go's zero time, absl::InfinitePast() or
  // absl::InfiniteFuture(), say) is stored as the nearer of the two bounds.
  //
  // Empty means the system's coarse real-time clock (CLOCK_REALTIME_COARSE):
  // UTC with the resolution of the kernel tick (1 to 4 ms), read in about
  // 3 ns. Records written within one tick share a timestamp. For nanosecond
  // resolution set `clock = absl::Now`, which costs about 25 ns per write,
  // more than the rest of a write together.
  std::function<absl::Time()> clock = nullptr;

  // Retention by bytes; off (nullopt) by default. Bounds the payload storage
  // of each segment: the active segment is also sealed when the next record
  // would take its payload storage past this many bytes. So the log's
  // payload storage (what memory_usage().payload_storage_bytes reports,
  // which counts the storage a reused segment keeps, not only the bytes in
  // use) never exceeds 2 * max_segment_bytes, plus, per segment, the one
  // record larger than the limit it may hold alone. Slots (a few bytes per
  // record) come on top. Valid: [kMinSegmentBytes, kMaxSegmentBytes].
  std::optional<int64_t> max_segment_bytes = std::nullopt;

  // Retention by age; off (nullopt) by default. Records older than this are
  // purged, whole segments at a time, by the next Write() or WriteBatch()
  // and by Log::Trim() (a log that is not written needs its owner to call
  // Trim(), e.g. from a timer: no thread of the log's own does it). The
  // active segment is also sealed once its first record reaches this age.
  // Bound: after a write or Trim() at time `now` (by `clock`), no readable
  // record was created before `now - 2 * max_age`, and age never purges a
  // record created after `now - max_age`. Valid: [kMinMaxAge, kMaxMaxAge].
  std::optional<absl::Duration> max_age = std::nullopt;

  // How a stream (or WaitFor()) that has caught up waits for the next record:
  // it polls the log for up to `wait_spin`, then sleeps until a write wakes
  // it. Zero, the default, sleeps at once: an idle stream uses no CPU, and a
  // write wakes it in some 10 to 20 microseconds (a futex wake-up). A spin of
  // some tens of microseconds delivers a record written meanwhile in well
  // under a microsecond, when the consumer has a core of its own, and costs
  // up to that much CPU per wait. Valid: [0, 1 second].
  absl::Duration wait_spin = absl::ZeroDuration();
};

// Returns OK if every field of `options` is in its valid range, otherwise a
// `kInvalidArgument` status (`memlog::IsInvalidOptions`) naming the first bad
// field and its valid range.
absl::Status ValidateOptions(const Options& options);

// Returns OK if `data` may be written as a record when records may hold up to
// `max_record_bytes` bytes; otherwise the status Log::Write() fails with:
// kInvalidArgument with `memlog::IsEmptyRecord` or `memlog::IsRecordTooLarge`.
absl::Status ValidateRecordData(std::string_view data,
                                int64_t max_record_bytes);

}  // namespace memlog

#endif  // MEMLOG_OPTIONS_H_
