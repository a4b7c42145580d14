// Copyright memlog authors.
//
// The reference model shared by the fuzzers: LogModel, a deliberately naive
// transcription of memlog::Log's documented behaviour (two std::deque
// segments and the purge rules by count, bytes and age, literally; batch
// writes; seeks by time; the stats counters), and the helpers that compare
// the library's statuses with the model's expectations.

#ifndef MEMLOG_TESTS_FUZZ_LOG_MODEL_H_
#define MEMLOG_TESTS_FUZZ_LOG_MODEL_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "memlog/log.h"
#include "tests/fuzz/fuzz_input.h"

namespace memlog::fuzz {

inline constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
inline constexpr int64_t kClockStartNanos = 1'700'000'000'000'000'000;
inline constexpr int64_t kClockStepNanos = 1'000;

inline const char* KindName(std::optional<ErrorKind> kind) {
  if (!kind.has_value()) return "OK";
  switch (*kind) {
    case ErrorKind::kInvalidOptions:
      return "InvalidOptions";
    case ErrorKind::kEmptyRecord:
      return "EmptyRecord";
    case ErrorKind::kRecordTooLarge:
      return "RecordTooLarge";
    case ErrorKind::kInvalidKey:
      return "InvalidKey";
    case ErrorKind::kImpossibleOffset:
      return "ImpossibleOffset";
    case ErrorKind::kInvalidShard:
      return "InvalidShard";
    case ErrorKind::kFutureOffset:
      return "FutureOffset";
    case ErrorKind::kPurgedOffset:
      return "PurgedOffset";
    case ErrorKind::kOffsetOverflow:
      return "OffsetOverflow";
    case ErrorKind::kOutOfMemory:
      return "OutOfMemory";
    case ErrorKind::kClosed:
      return "Closed";
    case ErrorKind::kLagged:
      return "Lagged";
    case ErrorKind::kWaitCancelled:
      return "WaitCancelled";
    case ErrorKind::kWaitTimedOut:
      return "WaitTimedOut";
    case ErrorKind::kKeyNotFound:
      return "KeyNotFound";
    case ErrorKind::kBadSharder:
      return "BadSharder";
    case ErrorKind::kCallbackFailed:
      return "CallbackFailed";
  }
  return "?";
}

// The status code each kind is documented to use (memlog/status.h).
inline absl::StatusCode CodeOf(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidOptions:
    case ErrorKind::kEmptyRecord:
    case ErrorKind::kRecordTooLarge:
    case ErrorKind::kInvalidKey:
    case ErrorKind::kImpossibleOffset:
    case ErrorKind::kInvalidShard:
      return absl::StatusCode::kInvalidArgument;
    case ErrorKind::kFutureOffset:
      return absl::StatusCode::kOutOfRange;
    case ErrorKind::kPurgedOffset:
      return absl::StatusCode::kNotFound;
    case ErrorKind::kOffsetOverflow:
    case ErrorKind::kOutOfMemory:
      return absl::StatusCode::kResourceExhausted;
    case ErrorKind::kClosed:
      return absl::StatusCode::kFailedPrecondition;
    case ErrorKind::kLagged:
      return absl::StatusCode::kDataLoss;
    case ErrorKind::kWaitCancelled:
      return absl::StatusCode::kCancelled;
    case ErrorKind::kWaitTimedOut:
      return absl::StatusCode::kDeadlineExceeded;
    case ErrorKind::kKeyNotFound:
      return absl::StatusCode::kNotFound;
    case ErrorKind::kBadSharder:
    case ErrorKind::kCallbackFailed:
      return absl::StatusCode::kInternal;
  }
  return absl::StatusCode::kUnknown;
}

// Checks that `status` is exactly the expected outcome: OK, or the expected
// kind with its documented code.
inline void CheckStatus(const absl::Status& status,
                        std::optional<ErrorKind> expected,
                        const char* operation, int64_t argument) {
  const std::optional<ErrorKind> actual = GetErrorKind(status);
  MEMLOG_FUZZ_CHECK(status.ok() == !expected.has_value() && actual == expected,
                    "%s(%lld): expected %s, got %s", operation,
                    static_cast<long long>(argument), KindName(expected),
                    status.ToString().c_str());
  if (expected.has_value()) {
    MEMLOG_FUZZ_CHECK(
        status.code() == CodeOf(*expected), "%s(%lld): %s has code %d",
        operation, static_cast<long long>(argument), status.ToString().c_str(),
        static_cast<int>(status.code()));
    MEMLOG_FUZZ_CHECK(!status.message().empty(), "%s: status without message",
                      operation);
  }
}

// ---------------------------------------------------------------------------
// The reference model.

struct ModelRecord {
  Offset offset;
  std::string key;  // sharded logs only
  std::string data;
  std::optional<int64_t> created_nanos;  // known when the clock is faked
};

template <typename T>
struct Outcome {
  std::optional<ErrorKind> error;
  T value{};
};

// Why the model sealed a segment (Log's PurgeReason), to count purges.
enum class ModelPurge { kCount, kBytes, kAge };

// The result of a batch write: Log::WriteBatch()'s, plus the index of the
// bad record when the batch was refused for one.
struct ModelBatch {
  std::optional<ErrorKind> error;
  Offset first = kInvalidOffset;
  int64_t count = 0;
  int64_t bad_index = -1;
};

// What the model counts of LogStats (all of it but the stream gauges and
// lag counters, which the harness counts, and the failures that cannot
// happen in a fuzzer: out of memory, a throwing clock).
struct ModelStats {
  int64_t bytes_written = 0;
  int64_t segments_rotated = 0;
  int64_t purged[3] = {0, 0, 0};  // by ModelPurge
  int64_t failures_invalid = 0;
  int64_t failures_closed = 0;
  int64_t failures_overflow = 0;
};

class LogModel {
 public:
  static std::optional<ErrorKind> Validate(const Options& o) {
    const bool valid =
        o.start_offset >= 0 && o.start_offset <= kMaxOffset &&
        o.segment_size >= 1 && o.segment_size <= kMaxSegmentSize &&
        o.max_record_bytes >= 1 && o.max_record_bytes <= kMaxRecordBytesLimit &&
        (!o.max_segment_bytes.has_value() ||
         (*o.max_segment_bytes >= kMinSegmentBytes &&
          *o.max_segment_bytes <= kMaxSegmentBytes)) &&
        (!o.max_age.has_value() ||
         (*o.max_age >= kMinMaxAge && *o.max_age <= kMaxMaxAge));
    if (valid) return std::nullopt;
    return ErrorKind::kInvalidOptions;
  }

  // Byte limits at or above this cannot bind within one fuzz input (see
  // ByteSeal()).
  static constexpr int64_t kUnreachableSegmentBytes = int64_t{1} << 30;

  // `clock_writes` counts the writes that called the stepping fake clock
  // (shared by the shards of a sharded log); null when the clock is the real
  // one.
  LogModel(Offset start_offset, int64_t segment_size, int64_t max_record_bytes,
           std::shared_ptr<int64_t> clock_writes)
      : start_(start_offset),
        segment_size_(segment_size),
        max_record_bytes_(max_record_bytes),
        clock_writes_(std::move(clock_writes)),
        next_(start_offset),
        earliest_(start_offset),
        active_base_(start_offset) {}

  // A model of a log with retention by bytes and age. `driven_clock`, if
  // set, is what Options::clock returns: the fuzzer moves it. REQUIRES:
  // valid `options`; a driven or stepping clock if `options.max_age` is set;
  // a byte limit of kMinSegmentBytes or at least kUnreachableSegmentBytes.
  LogModel(const Options& options, std::shared_ptr<int64_t> clock_writes,
           std::shared_ptr<const absl::Time> driven_clock)
      : LogModel(options.start_offset, options.segment_size,
                 options.max_record_bytes, std::move(clock_writes)) {
    driven_clock_ = std::move(driven_clock);
    max_segment_bytes_ = options.max_segment_bytes;
    max_age_ = options.max_age;
    MEMLOG_FUZZ_CHECK(!max_age_.has_value() || times_known(),
                      "max_age needs a fake clock in the model");
    MEMLOG_FUZZ_CHECK(!max_segment_bytes_.has_value() ||
                          *max_segment_bytes_ == kMinSegmentBytes ||
                          *max_segment_bytes_ >= kUnreachableSegmentBytes,
                      "the model cannot predict a byte limit of %lld",
                      static_cast<long long>(*max_segment_bytes_));
  }

  // Whether records' `created` is known (the clock is a fake one).
  bool times_known() const {
    return clock_writes_ != nullptr || driven_clock_ != nullptr;
  }

  Outcome<Offset> Write(const std::string& data, std::string key = "") {
    if (std::optional<ErrorKind> bad = Invalid(data)) {
      ++stats_.failures_invalid;
      return {bad};
    }
    if (closed_) {
      ++stats_.failures_closed;
      return {ErrorKind::kClosed};
    }
    if (next_ > kMaxOffset) {
      ++stats_.failures_overflow;
      return {ErrorKind::kOffsetOverflow};
    }
    const std::optional<int64_t> created = CreatedNow();
    Append(data, std::move(key), created);
    return {std::nullopt, next_++};
  }

  // As Log::WriteBatch(): validated whole first, then one clock reading and
  // one age purge for the batch, whose records share a `created` and rotate
  // within it like single writes (no out-of-memory in a fuzzer, so a batch
  // is all or nothing).
  ModelBatch WriteBatch(const std::vector<std::string>& records) {
    ModelBatch out;
    for (size_t i = 0; i < records.size(); ++i) {
      if (std::optional<ErrorKind> bad = Invalid(records[i])) {
        ++stats_.failures_invalid;
        out.error = bad;
        out.bad_index = static_cast<int64_t>(i);
        return out;
      }
    }
    if (records.empty()) return out;
    const auto n = static_cast<int64_t>(records.size());
    if (closed_) {
      ++stats_.failures_closed;
      out.error = ErrorKind::kClosed;
      return out;
    }
    if (next_ > kMaxOffset || kMaxOffset - next_ < n - 1) {
      ++stats_.failures_overflow;
      out.error = ErrorKind::kOffsetOverflow;
      return out;
    }
    const std::optional<int64_t> created = CreatedNow();
    out.first = next_;
    for (const std::string& data : records) {
      Append(data, "", created);
      ++next_;
      ++out.count;
    }
    return out;
  }

  // As Log::Trim(): the age purge a write would make, nothing else.
  void Trim() {
    if (!max_age_.has_value()) return;
    PurgeByAge(ReadClock());
  }

  // As Log::OffsetAt(). REQUIRES: times_known().
  Outcome<OffsetAtTime> OffsetAt(absl::Time t) const {
    const int64_t target = absl::ToUnixNanos(t);
    for (const auto* segment : {&history_, &active_}) {
      for (const ModelRecord& record : *segment) {
        if (*record.created_nanos < target) continue;
        return {std::nullopt,
                OffsetAtTime{record.offset, earliest_ > start_ &&
                                                record.offset == earliest_}};
      }
    }
    return {ErrorKind::kFutureOffset};
  }

  // The earliest offset readable (once one is): the first of the history,
  // or of the active segment, or where writing continues once max_age has
  // purged both.
  Offset earliest() const { return earliest_; }
  Offset next() const { return next_; }
  Offset start() const { return start_; }
  int64_t segment_size() const { return segment_size_; }
  int64_t max_record_bytes() const { return max_record_bytes_; }
  bool closed() const { return closed_; }
  bool empty() const { return next_ == start_; }
  const ModelStats& stats() const { return stats_; }

  OffsetRange Range() const {
    if (earliest_ >= next_) return {};
    return {earliest_, next_ - 1};
  }

  // No record can ever have an offset before the start or past kMaxOffset.
  bool Impossible(Offset offset) const {
    return offset < start_ || offset > kMaxOffset;
  }

  // The outcome of reading `offset`, with the record when it exists.
  Outcome<const ModelRecord*> Read(Offset offset) const {
    if (Impossible(offset)) return {ErrorKind::kImpossibleOffset};
    if (offset >= next_) return {ErrorKind::kFutureOffset};
    if (offset < earliest_) return {ErrorKind::kPurgedOffset};
    // Each segment holds consecutive offsets.
    for (const std::deque<ModelRecord>* segment : {&history_, &active_}) {
      if (segment->empty()) continue;
      const int64_t index = offset - segment->front().offset;
      if (index >= 0 && index < static_cast<int64_t>(segment->size())) {
        return {std::nullopt, &(*segment)[static_cast<size_t>(index)]};
      }
    }
    MEMLOG_FUZZ_CHECK(false, "model: retained offset %lld in no segment",
                      static_cast<long long>(offset));
    return {ErrorKind::kPurgedOffset};
  }

  // Records from `start`, up to `size`, with Go's batch semantics: the
  // status of the first offset that could not be read ends the batch (past
  // kMaxOffset, that is an impossible offset).
  Outcome<std::vector<const ModelRecord*>> ReadBatch(Offset start,
                                                     size_t size) const {
    Outcome<std::vector<const ModelRecord*>> out;
    if (size == 0) return out;
    for (Offset o = start; out.value.size() < size; ++o) {
      Outcome<const ModelRecord*> one = Read(o);
      if (one.error.has_value()) {
        out.error = one.error;
        break;
      }
      out.value.push_back(one.value);
    }
    return out;
  }

  std::optional<ErrorKind> WaitFor(Offset offset) const {
    if (Impossible(offset)) return ErrorKind::kImpossibleOffset;
    if (offset < next_) return std::nullopt;
    if (closed_) return ErrorKind::kClosed;
    return ErrorKind::kWaitTimedOut;
  }

  int64_t retained_records() const {
    return static_cast<int64_t>(history_.size() + active_.size());
  }
  int64_t retained_bytes() const {
    int64_t bytes = 0;
    for (const auto* segment : {&history_, &active_}) {
      for (const ModelRecord& record : *segment) {
        bytes += static_cast<int64_t>(record.data.size());
      }
    }
    return bytes;
  }

  // Calls f(record) for each retained record, in offset order.
  template <typename F>
  void ForEachRetained(F f) const {
    for (const auto* segment : {&history_, &active_}) {
      for (const ModelRecord& record : *segment) f(record);
    }
  }

  void Close() { closed_ = true; }

 private:
  std::optional<ErrorKind> Invalid(const std::string& data) const {
    if (data.empty()) return ErrorKind::kEmptyRecord;
    if (static_cast<int64_t>(data.size()) > max_record_bytes_) {
      return ErrorKind::kRecordTooLarge;
    }
    return std::nullopt;
  }

  // The clock's reading for one write, batch or Trim(), in unix nanoseconds
  // (saturated, as the log stores it). REQUIRES: times_known().
  int64_t ReadClock() {
    if (driven_clock_ != nullptr) return absl::ToUnixNanos(*driven_clock_);
    return kClockStartNanos + (*clock_writes_)++ * kClockStepNanos;
  }

  // Reads the clock for a write, applies max_age, and returns the `created`
  // of the records written now: never below the previous record's
  // (monotonic). Unknown (nullopt) with the real clock.
  std::optional<int64_t> CreatedNow() {
    std::optional<int64_t> created;
    if (times_known()) {
      const int64_t now = ReadClock();
      if (max_age_.has_value()) PurgeByAge(now);
      last_created_ = std::max(now, last_created_);
      created = last_created_;
    }
    return created;
  }

  // The age rule, as options.h and log.h state it: first purge the history
  // if its last record is older than now - max_age; then, if the active
  // segment's first record is older, seal it and purge again if the new
  // history is too old.
  void PurgeByAge(int64_t now) {
    const int64_t age = absl::ToInt64Nanoseconds(*max_age_);
    if (now < kInt64Min + age) return;  // a cutoff before 1677 purges nothing
    const int64_t cutoff = now - age;
    const auto history_too_old = [&] {
      return !history_.empty() && *history_.back().created_nanos < cutoff;
    };
    if (history_too_old()) PurgeHistory(ModelPurge::kAge);
    if (!active_.empty() && *active_.front().created_nanos < cutoff) {
      Rotate(ModelPurge::kAge);
      if (history_too_old()) PurgeHistory(ModelPurge::kAge);
    }
  }

  // Whether appending `size` bytes seals the active segment by bytes.
  //
  // The library seals when the record fits neither in the room its payload
  // chunks have left nor in a new chunk within the limit
  // (Segment::Fits()), and chunk sizes follow the records seen so far
  // (Segment::NextChunkSize()), so in general the model cannot predict the
  // moment. It is exact in two cases, the only ones the fuzzer creates:
  // - A limit of kMinSegmentBytes (4 KiB), with records of at most 4 KiB:
  //   a segment's first chunk is min(kFirstChunkBytes = 4 KiB, room left)
  //   = the whole limit, so a segment has at most one chunk, of exactly the
  //   limit, also when reused, and a record fits iff the segment is empty
  //   or its payload plus the record stays within the limit.
  // - Limits of at least kUnreachableSegmentBytes (1 GiB): a chunk wastes
  //   less than one record (4 KiB) and is at most max(1 MiB, record), so
  //   payload storage stays below 2 * payload + 1 MiB, far below the limit
  //   for the payload one input can write (checked below).
  bool ByteSeal(int64_t size) const {
    if (!max_segment_bytes_.has_value() || active_.empty()) return false;
    const int64_t limit = *max_segment_bytes_;
    if (limit == kMinSegmentBytes) {
      MEMLOG_FUZZ_CHECK(size <= limit, "model: a %lld-byte record under a "
                        "4 KiB limit is not predictable",
                        static_cast<long long>(size));
      return active_payload_ + size > limit;
    }
    MEMLOG_FUZZ_CHECK(active_payload_ + size <= limit / 4,
                      "model: the byte limit %lld became reachable",
                      static_cast<long long>(limit));
    return false;
  }

  // Log::AppendLocked(): a full active segment is sealed first (count),
  // else one the record does not fit (bytes).
  void Append(const std::string& data, std::string key,
              std::optional<int64_t> created) {
    const auto size = static_cast<int64_t>(data.size());
    if (static_cast<int64_t>(active_.size()) == segment_size_) {
      Rotate(ModelPurge::kCount);
    } else if (ByteSeal(size)) {
      Rotate(ModelPurge::kBytes);
    }
    active_.push_back({next_, std::move(key), data, created});
    active_payload_ += size;
    stats_.bytes_written += size;
  }

  // Seals the active segment (never empty here), which becomes the
  // history, purging the old history; the new active one starts at next_.
  void Rotate(ModelPurge reason) {
    earliest_ = active_base_;
    stats_.purged[static_cast<int>(reason)] +=
        static_cast<int64_t>(history_.size());
    history_ = std::move(active_);
    active_.clear();
    active_base_ = next_;
    active_payload_ = 0;
    ++stats_.segments_rotated;
  }

  void PurgeHistory(ModelPurge reason) {
    earliest_ = active_base_;
    stats_.purged[static_cast<int>(reason)] +=
        static_cast<int64_t>(history_.size());
    history_.clear();
  }

  const Offset start_;
  const int64_t segment_size_;
  const int64_t max_record_bytes_;
  const std::shared_ptr<int64_t> clock_writes_;
  std::shared_ptr<const absl::Time> driven_clock_;
  std::optional<int64_t> max_segment_bytes_;
  std::optional<absl::Duration> max_age_;
  Offset next_;
  Offset earliest_;
  Offset active_base_;  // the first offset of the active segment
  int64_t active_payload_ = 0;
  int64_t last_created_ = kInt64Min;
  bool closed_ = false;
  std::deque<ModelRecord> history_;
  std::deque<ModelRecord> active_;
  ModelStats stats_;
};

// Checks a record the library returned against the model's.
inline void CheckRecord(Offset offset, std::string_view data,
                        absl::Time created, const ModelRecord& expected,
                        const char* operation) {
  MEMLOG_FUZZ_CHECK(offset == expected.offset, "%s: offset %lld, model %lld",
                    operation, static_cast<long long>(offset),
                    static_cast<long long>(expected.offset));
  MEMLOG_FUZZ_CHECK(data == expected.data,
                    "%s(%lld): %zu bytes differ from the model's %zu",
                    operation, static_cast<long long>(offset), data.size(),
                    expected.data.size());
  if (expected.created_nanos.has_value()) {
    MEMLOG_FUZZ_CHECK(absl::ToUnixNanos(created) == *expected.created_nanos,
                      "%s(%lld): created %lld, model %lld", operation,
                      static_cast<long long>(offset),
                      static_cast<long long>(absl::ToUnixNanos(created)),
                      static_cast<long long>(*expected.created_nanos));
  }
}

// A fake clock for Options::clock that steps kClockStepNanos per call from
// kClockStartNanos, and the counter the model uses to predict it.
inline std::function<absl::Time()> FakeClock() {
  auto calls = std::make_shared<int64_t>(0);
  return [calls] {
    return absl::FromUnixNanos(kClockStartNanos + (*calls)++ * kClockStepNanos);
  };
}

// Decodes memlog::Options (also sharded::Options::shard), but for the clock.
inline void DecodeLogFields(FuzzInput& in, Options& options) {
  switch (in.Below(8)) {
    case 0:
      options.start_offset = 0;
      break;
    case 1:
      options.start_offset = in.Byte();
      break;
    case 2:
      options.start_offset = kMaxOffset - in.Below(8);
      break;
    case 3:
      options.start_offset = in.Int64();
      break;  // often invalid
    case 4:
      options.start_offset = -1 - in.Byte();
      break;
    case 5:
      options.start_offset = kInt64Max;
      break;
    case 6:
      options.start_offset = kInt64Min;
      break;
    default:
      options.start_offset = 1000;
      break;
  }
  switch (in.Below(10)) {
    case 0:
      options.segment_size = kMaxSegmentSize;
      break;
    case 1:
      options.segment_size = -static_cast<int64_t>(in.Byte());
      break;
    case 2:
      options.segment_size = kMaxSegmentSize + 1 + in.Byte();
      break;
    case 3:
      options.segment_size = 1 + in.Byte();
      break;
    default:
      options.segment_size = 1 + in.Below(8);
      break;
  }
  switch (in.Below(10)) {
    case 0:
      options.max_record_bytes = 0;
      break;
    case 1:
      options.max_record_bytes = kMaxRecordBytesLimit;
      break;
    case 2:
      options.max_record_bytes = kMaxRecordBytesLimit + 1;
      break;
    case 3:
      options.max_record_bytes = -1;
      break;
    default:
      options.max_record_bytes = 1 + in.Below(64);
      break;
  }
}

// An offset of interest for the current state of `model`: near the ends of
// the retained window, before the start, or one of the extremes.
inline Offset PickOffset(FuzzInput& in, const LogModel& model) {
  const int64_t delta = static_cast<int64_t>(in.Below(5)) - 2;
  switch (in.Below(8)) {
    case 0:
      return SaturatingAdd(model.earliest(), delta);
    case 1:
      return SaturatingAdd(model.next() - 1, delta);
    case 2:
      return model.next();
    case 3:
      return SaturatingAdd(model.start(), -1 - in.Below(3));
    case 4: {
      static constexpr Offset kSpecial[] = {-1,         kInt64Min, kInt64Max,
                                            kMaxOffset, 0,         1};
      return kSpecial[in.Below(std::size(kSpecial))];
    }
    case 5:
      return in.Int64();
    case 6:
      return SaturatingAdd(
          SaturatingAdd(model.earliest(), -model.segment_size()), in.Byte());
    default:
      return model.earliest();
  }
}

// Payload bytes of `size` derived from a serial number and a salt byte.
inline std::string MakeData(int64_t size, int64_t serial, uint8_t salt) {
  std::string data(static_cast<size_t>(size), '\0');
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<char>(
        (serial * 131 + salt + static_cast<int64_t>(i) * 7) & 0xff);
  }
  return data;
}

// A payload size for a log that accepts `limit` bytes: empty, exactly the
// limit, one over, or a small size.
inline int64_t PickDataSize(FuzzInput& in, int64_t limit) {
  switch (in.Below(8)) {
    case 0:
      return 0;
    // Exactly the limit and one over, for limits small enough to write.
    case 1:
      return std::min<int64_t>(limit, 1 << 12);
    case 2:
      return limit < (1 << 12) ? limit + 1 : 1 + in.Byte();
    default:
      return 1 + in.Below(static_cast<uint32_t>(std::min<int64_t>(limit, 64)));
  }
}

}  // namespace memlog::fuzz

#endif  // MEMLOG_TESTS_FUZZ_LOG_MODEL_H_
