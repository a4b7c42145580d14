// Copyright memlog authors.
//
// The reference model shared by the fuzzers: LogModel, a deliberately naive
// transcription of memlog::Log's documented behaviour (the retained records
// split into a history and an active segment, and the purge rules by count,
// bytes and age, literally; batch writes; seeks by time; the stats
// counters), and the helpers that compare the library's statuses with the
// model's expectations.
//
// Where the documentation leaves a choice open (when a byte limit other
// than the two the model predicts seals a segment), the model keeps every
// segmentation the rules allow and the harness tells it what the library
// shows after each write (LogModel::Observe()), which must match one.

#ifndef MEMLOG_TESTS_FUZZ_LOG_MODEL_H_
#define MEMLOG_TESTS_FUZZ_LOG_MODEL_H_

#include <algorithm>
#include <array>
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
  // The bytes the record takes in its log, which the byte limit and the
  // byte counters count: the data for a memlog::Log; a sharded log's shard
  // stores the key with it.
  int64_t stored_bytes = 0;
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
  std::array<int64_t, 3> purged = {0, 0, 0};  // by ModelPurge
  int64_t failures_invalid = 0;
  int64_t failures_closed = 0;
  int64_t failures_overflow = 0;
};

// How the model knows whether a write seals the active segment by bytes
// (Options::max_segment_bytes).
enum class ByteRule {
  kOff,
  // A limit of kMinSegmentBytes: predicted exactly (LogModel::ByteSeal()).
  kExact,
  // A limit of at least kUnreachableSegmentBytes, which no input reaches.
  kUnreachable,
  // Any other limit. When the library seals then depends on how its payload
  // chunks grow, which the documentation leaves open: the model allows a
  // seal wherever the documented rule permits one, demands one where the
  // rule does, and learns from Observe() which the library chose.
  kObserved,
};

// A fake clock that steps kClockStepNanos per reading from kClockStartNanos,
// unless the harness holds it still. The library's clock and the model's
// prediction of it each have one, so that a reading too many or too few
// shows as a difference in `created`.
struct SteppingClock {
  int64_t readings = 0;
  bool held = false;

  int64_t Read() {
    const int64_t steps = held ? readings : readings++;
    return kClockStartNanos + steps * kClockStepNanos;
  }
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

  static ByteRule RuleFor(std::optional<int64_t> max_segment_bytes) {
    if (!max_segment_bytes.has_value()) return ByteRule::kOff;
    if (*max_segment_bytes == kMinSegmentBytes) return ByteRule::kExact;
    if (*max_segment_bytes >= kUnreachableSegmentBytes) {
      return ByteRule::kUnreachable;
    }
    return ByteRule::kObserved;
  }

  // A model of a log created with `options`, whose Options::clock is the
  // real one, or a stepping clock predicted by `stepping` (shared by the
  // shards of a sharded log, which read one clock), or returns what
  // `driven` holds (the fuzzer moves it). REQUIRES: valid `options`; a fake
  // clock if `options.max_age` is set.
  LogModel(const Options& options, std::shared_ptr<SteppingClock> stepping,
           std::shared_ptr<const absl::Time> driven)
      : start_(options.start_offset),
        segment_size_(options.segment_size),
        max_record_bytes_(options.max_record_bytes),
        stepping_(std::move(stepping)),
        driven_(std::move(driven)),
        max_segment_bytes_(options.max_segment_bytes),
        max_age_(options.max_age),
        byte_rule_(RuleFor(options.max_segment_bytes)),
        next_(options.start_offset),
        records_base_(options.start_offset),
        states_{Segments{options.start_offset, options.start_offset}} {
    MEMLOG_FUZZ_CHECK(!max_age_.has_value() || times_known(),
                      "max_age needs a fake clock in the model");
  }

  // Whether records' `created` is known (the clock is a fake one).
  bool times_known() const { return stepping_ != nullptr || driven_ != nullptr; }

  // Writes a record; `stored_bytes` is what it takes in the log (the data's
  // size if negative).
  Outcome<Offset> Write(const std::string& data, std::string key = "",
                        int64_t stored_bytes = -1) {
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
    Append(data, std::move(key), created,
           stored_bytes >= 0 ? stored_bytes
                             : static_cast<int64_t>(data.size()));
    Settle();
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
      Append(data, "", created, static_cast<int64_t>(data.size()));
      ++next_;
      ++out.count;
    }
    Settle();
    return out;
  }

  // As Log::Trim(): the age purge a write would make, nothing else.
  void Trim() {
    if (!max_age_.has_value()) return;
    PurgeByAge(ReadClock());
    Settle();
  }

  // With ByteRule::kObserved, tells the model what the library shows after
  // a write or Trim(): its earliest retained offset (NextOffset() when it
  // retains none) and its counters. The model keeps the segmentations that
  // match (they differ only in where the active segment starts, which no
  // read shows) and fails if none does: no sequence of seals that the
  // documented rules allow explains what the library did.
  void Observe(Offset earliest, const LogStats& seen, const char* operation) {
    const std::array<int64_t, 3> purged = {seen.records_purged_by_count,
                                           seen.records_purged_by_bytes,
                                           seen.records_purged_by_age};
    std::vector<Segments> matching;
    for (const Segments& s : states_) {
      if (s.earliest == earliest && s.rotated == seen.segments_rotated &&
          s.purged == purged) {
        matching.push_back(s);
      }
    }
    if (matching.empty()) {
      const Segments& s = states_.front();
      MEMLOG_FUZZ_CHECK(
          !matching.empty(),
          "%s: no seal the rules allow explains earliest %lld, %lld "
          "rotations, purged %lld/%lld/%lld (count/bytes/age); the model's "
          "first of %zu: earliest %lld, active from %lld, %lld rotations, "
          "purged %lld/%lld/%lld",
          operation, static_cast<long long>(earliest),
          static_cast<long long>(seen.segments_rotated),
          static_cast<long long>(purged[0]), static_cast<long long>(purged[1]),
          static_cast<long long>(purged[2]), states_.size(),
          static_cast<long long>(s.earliest),
          static_cast<long long>(s.active_base),
          static_cast<long long>(s.rotated),
          static_cast<long long>(s.purged[0]),
          static_cast<long long>(s.purged[1]),
          static_cast<long long>(s.purged[2]));
    }
    states_ = std::move(matching);
    Settle();
  }

  // As Log::OffsetAt(). REQUIRES: times_known().
  Outcome<OffsetAtTime> OffsetAt(absl::Time t) const {
    const int64_t target = absl::ToUnixNanos(t);
    const Offset earliest = this->earliest();
    for (Offset o = earliest; o < next_; ++o) {
      const ModelRecord& record = At(o);
      if (*record.created_nanos < target) continue;
      return {std::nullopt,
              OffsetAtTime{o, earliest > start_ && o == earliest}};
    }
    return {ErrorKind::kFutureOffset};
  }

  // The earliest offset readable (once one is): the first of the history,
  // or of the active segment, or where writing continues once max_age has
  // purged both.
  Offset earliest() const { return Settled().earliest; }
  Offset next() const { return next_; }
  Offset start() const { return start_; }
  int64_t segment_size() const { return segment_size_; }
  int64_t max_record_bytes() const { return max_record_bytes_; }
  std::optional<int64_t> max_segment_bytes() const {
    return max_segment_bytes_;
  }
  ByteRule byte_rule() const { return byte_rule_; }
  bool observes_byte_seals() const { return byte_rule_ == ByteRule::kObserved; }
  // How many segmentations of the retained records the model still allows.
  size_t possible_states() const { return states_.size(); }
  // The largest stored size of a record written.
  int64_t largest_record() const { return largest_record_; }
  bool closed() const { return closed_; }
  bool empty() const { return next_ == start_; }

  ModelStats stats() const {
    ModelStats stats = stats_;
    const Segments& s = Settled();
    stats.segments_rotated = s.rotated;
    stats.purged = s.purged;
    return stats;
  }

  OffsetRange Range() const {
    const Offset earliest = this->earliest();
    if (earliest >= next_) return {};
    return {earliest, next_ - 1};
  }

  // No record can ever have an offset before the start or past kMaxOffset.
  bool Impossible(Offset offset) const {
    return offset < start_ || offset > kMaxOffset;
  }

  // The outcome of reading `offset`, with the record when it exists.
  Outcome<const ModelRecord*> Read(Offset offset) const {
    if (Impossible(offset)) return {ErrorKind::kImpossibleOffset};
    if (offset >= next_) return {ErrorKind::kFutureOffset};
    if (offset < earliest()) return {ErrorKind::kPurgedOffset};
    return {std::nullopt, &At(offset)};
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

  int64_t retained_records() const { return next_ - earliest(); }
  int64_t retained_bytes() const {
    int64_t bytes = 0;
    ForEachRetained(
        [&](const ModelRecord& record) { bytes += record.stored_bytes; });
    return bytes;
  }

  // Calls f(record) for each retained record, in offset order.
  template <typename F>
  void ForEachRetained(F f) const {
    for (Offset o = earliest(); o < next_; ++o) f(At(o));
  }

  void Close() { closed_ = true; }

 private:
  // One way the retained records may be split into segments, with the
  // counters that follow from it: the history holds [earliest,
  // active_base), the active segment [active_base, next_).
  struct Segments {
    Offset earliest;
    Offset active_base;
    int64_t active_bytes = 0;
    int64_t rotated = 0;
    std::array<int64_t, 3> purged = {0, 0, 0};  // by ModelPurge

    friend bool operator==(const Segments&, const Segments&) = default;
  };

  // What a write may do to the active segment by bytes.
  struct SealChoice {
    bool may_stay;
    bool may_seal;
  };

  std::optional<ErrorKind> Invalid(const std::string& data) const {
    if (data.empty()) return ErrorKind::kEmptyRecord;
    if (static_cast<int64_t>(data.size()) > max_record_bytes_) {
      return ErrorKind::kRecordTooLarge;
    }
    return std::nullopt;
  }

  // A retained record (of some segmentation still allowed).
  const ModelRecord& At(Offset offset) const {
    return records_[static_cast<size_t>(offset - records_base_)];
  }

  // The segmentation the observable answers come from. Every one allowed
  // agrees on them once Observe() has filtered them (they differ only in
  // where the active segment starts), and without ByteRule::kObserved
  // there is only one.
  const Segments& Settled() const {
    const Segments& first = states_.front();
    for (const Segments& s : states_) {
      MEMLOG_FUZZ_CHECK(s.earliest == first.earliest &&
                            s.rotated == first.rotated &&
                            s.purged == first.purged,
                        "model: %zu segmentations disagree; the harness must "
                        "Observe() the library after each write",
                        states_.size());
    }
    return first;
  }

  // Drops duplicate segmentations, and the records none of them retains.
  void Settle() {
    std::vector<Segments> unique;
    for (const Segments& s : states_) {
      if (std::find(unique.begin(), unique.end(), s) == unique.end()) {
        unique.push_back(s);
      }
    }
    states_ = std::move(unique);
    // Where the active segment may start is bounded by the records retained
    // since the last rotation, so this stays small.
    MEMLOG_FUZZ_CHECK(states_.size() <= 4096, "model: %zu segmentations",
                      states_.size());
    Offset earliest = next_;
    for (const Segments& s : states_) earliest = std::min(earliest, s.earliest);
    while (records_base_ < earliest) {
      records_.pop_front();
      ++records_base_;
    }
  }

  // The clock's reading for one write, batch or Trim(), in unix nanoseconds
  // (saturated, as the log stores it). REQUIRES: times_known().
  int64_t ReadClock() {
    if (driven_ != nullptr) return absl::ToUnixNanos(*driven_);
    return stepping_->Read();
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
    for (Segments& s : states_) {
      const auto history_too_old = [&] {
        return s.earliest < s.active_base &&
               *At(s.active_base - 1).created_nanos < cutoff;
      };
      if (history_too_old()) PurgeHistory(s, ModelPurge::kAge);
      if (s.active_base < next_ && *At(s.active_base).created_nanos < cutoff) {
        Rotate(s, ModelPurge::kAge);
        if (history_too_old()) PurgeHistory(s, ModelPurge::kAge);
      }
    }
  }

  // Whether appending `size` bytes seals the active segment of `s` by
  // bytes (options.h: "the active segment is also sealed when the next
  // record would take its payload storage past this many bytes").
  //
  // Payload storage is at least the payload in use, so a record that would
  // take the active segment's payload past the limit always seals it (but
  // never an empty one: a record larger than the limit is stored alone).
  // Below that, the library seals when the record fits neither in the room
  // its payload chunks have left nor in a new chunk within the limit
  // (Segment::Fits()), and chunk sizes follow the records seen so far
  // (Segment::NextChunkSize()): only two cases are predictable.
  // - A limit of kMinSegmentBytes (4 KiB): a segment's first chunk is
  //   min(kFirstChunkBytes = 4 KiB, room left) = the whole limit, so a
  //   segment has at most one chunk of exactly the limit (also when reused;
  //   a lone larger record gets a chunk of its own, released on reuse), and
  //   the payload rule is exact.
  // - Limits of at least kUnreachableSegmentBytes (1 GiB): a chunk wastes
  //   less than one record (4 KiB) and is at most max(1 MiB, record), so
  //   payload storage stays below 2 * payload + 1 MiB, far below the limit
  //   for the payload one input can write (checked below).
  // Any other limit may seal anywhere the active segment holds a record:
  // ByteRule::kObserved.
  SealChoice ByteSeal(const Segments& s, int64_t size) const {
    const bool active_empty = s.active_base == next_;
    switch (byte_rule_) {
      case ByteRule::kOff:
        return {true, false};
      case ByteRule::kUnreachable:
        MEMLOG_FUZZ_CHECK(s.active_bytes + size <= *max_segment_bytes_ / 4,
                          "model: the byte limit %lld became reachable",
                          static_cast<long long>(*max_segment_bytes_));
        return {true, false};
      case ByteRule::kExact: {
        const bool seal =
            !active_empty && s.active_bytes + size > *max_segment_bytes_;
        return {!seal, seal};
      }
      case ByteRule::kObserved:
        if (active_empty) return {true, false};
        if (s.active_bytes + size > *max_segment_bytes_) return {false, true};
        return {true, true};
    }
    return {true, false};
  }

  // Log::AppendLocked(): a full active segment is sealed first (count),
  // else one the record does not fit (bytes). Then the record lands in the
  // active segment.
  void Append(const std::string& data, std::string key,
              std::optional<int64_t> created, int64_t size) {
    std::vector<Segments> after;
    for (Segments s : states_) {
      if (next_ - s.active_base == segment_size_) {
        Rotate(s, ModelPurge::kCount);
        s.active_bytes = size;
        after.push_back(s);
        continue;
      }
      const SealChoice choice = ByteSeal(s, size);
      if (choice.may_stay) {
        Segments stays = s;
        stays.active_bytes += size;
        after.push_back(stays);
      }
      if (choice.may_seal) {
        Rotate(s, ModelPurge::kBytes);
        s.active_bytes = size;
        after.push_back(s);
      }
    }
    states_ = std::move(after);
    records_.push_back({next_, std::move(key), data, created, size});
    largest_record_ = std::max(largest_record_, size);
    stats_.bytes_written += size;
  }

  // Seals the active segment (never empty here), which becomes the
  // history, purging the old history; the new active one starts at next_.
  void Rotate(Segments& s, ModelPurge reason) const {
    s.purged[static_cast<size_t>(reason)] += s.active_base - s.earliest;
    s.earliest = s.active_base;
    s.active_base = next_;
    s.active_bytes = 0;
    ++s.rotated;
  }

  static void PurgeHistory(Segments& s, ModelPurge reason) {
    s.purged[static_cast<size_t>(reason)] += s.active_base - s.earliest;
    s.earliest = s.active_base;
  }

  const Offset start_;
  const int64_t segment_size_;
  const int64_t max_record_bytes_;
  const std::shared_ptr<SteppingClock> stepping_;
  const std::shared_ptr<const absl::Time> driven_;
  const std::optional<int64_t> max_segment_bytes_;
  const std::optional<absl::Duration> max_age_;
  const ByteRule byte_rule_;
  Offset next_;
  int64_t last_created_ = kInt64Min;
  int64_t largest_record_ = 0;
  bool closed_ = false;
  // Every record some allowed segmentation retains: offsets [records_base_,
  // next_).
  std::deque<ModelRecord> records_;
  Offset records_base_;
  // The segmentations still allowed: one, but with ByteRule::kObserved.
  std::vector<Segments> states_;
  // The counters that do not depend on the segmentation.
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

// Checks the bound of options.h on payload storage: each segment's stays
// within `limit` (Options::max_segment_bytes), plus the one record larger
// than the limit that it may hold alone, and holds the payload in use. A
// log keeps two segments, more only while views pin purged ones (whose
// storage they keep, see RecordView), so the bound is per segment. For a
// sharded log `usage` is the sum over its shards, each with `limit`.
inline void CheckStorageBound(const MemoryUsage& usage,
                              std::optional<int64_t> limit,
                              int64_t largest_record, const char* operation) {
  MEMLOG_FUZZ_CHECK(usage.payload_storage_bytes >= usage.payload_bytes,
                    "%s: payload storage %lld < payload %lld", operation,
                    static_cast<long long>(usage.payload_storage_bytes),
                    static_cast<long long>(usage.payload_bytes));
  if (!limit.has_value()) return;
  const int64_t alone = largest_record > *limit ? largest_record : 0;
  const int64_t bound = usage.segments * (*limit + alone);
  MEMLOG_FUZZ_CHECK(usage.payload_storage_bytes <= bound,
                    "%s: payload storage %lld in %lld segments of limit %lld "
                    "(largest record %lld): more than %lld",
                    operation,
                    static_cast<long long>(usage.payload_storage_bytes),
                    static_cast<long long>(usage.segments),
                    static_cast<long long>(*limit),
                    static_cast<long long>(largest_record),
                    static_cast<long long>(bound));
}

// Options::clock reading `clock` (see SteppingClock).
inline std::function<absl::Time()> FakeClock(
    std::shared_ptr<SteppingClock> clock) {
  return [clock] { return absl::FromUnixNanos(clock->Read()); };
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

// Decodes Options::max_age: mostly off, else from 1 ms to 256 ms (which the
// driven clock's steps reach), the bounds, or one that Create() must refuse.
inline void DecodeMaxAge(FuzzInput& in, Options& options) {
  switch (in.Below(8)) {
    case 4:
    case 5:
      options.max_age = absl::Milliseconds(1 + in.Byte());
      break;
    case 6: {
      static const absl::Duration kBad[] = {
          absl::ZeroDuration(),  -absl::Nanoseconds(1),
          kMinMaxAge - absl::Nanoseconds(1),
          kMaxMaxAge + absl::Nanoseconds(1), absl::InfiniteDuration(),
          -absl::InfiniteDuration()};
      options.max_age = kBad[in.Below(std::size(kBad))];
      break;
    }
    case 7:
      options.max_age = in.Below(2) == 0 ? kMinMaxAge : kMaxMaxAge;
      break;
    default:
      break;
  }
}

// A record size for a batch: mostly valid, small or in steps of 512 bytes
// up to 5 KiB (to fill segments under a 4 KiB byte limit, and to pass it
// and a segment's 4 KiB first chunk), sometimes anything PickDataSize()
// gives, empty and too large included.
inline int64_t PickBatchRecordSize(FuzzInput& in, int64_t limit) {
  switch (in.Below(4)) {
    case 0:
      return PickDataSize(in, limit);
    case 1:
      return std::min<int64_t>(limit, 512 * (1 + in.Below(10)));
    default:
      return 1 + in.Below(static_cast<uint32_t>(std::min<int64_t>(limit, 64)));
  }
}

// Moves a driven clock forwards: up to 255 nanoseconds, 100-microsecond
// steps, milliseconds or seconds.
inline void AdvanceClock(FuzzInput& in, absl::Time& now) {
  static const absl::Duration kUnits[] = {
      absl::Nanoseconds(1), absl::Microseconds(100), absl::Milliseconds(1),
      absl::Seconds(1)};
  const absl::Duration unit = kUnits[in.Below(std::size(kUnits))];
  now += unit * in.Byte();
}

// Sets a driven clock: backwards (as NTP may step a real one), to the
// infinite past or future, or anywhere.
inline void SetClock(FuzzInput& in, absl::Time& now) {
  switch (in.Below(5)) {
    case 0:
      now -= absl::Milliseconds(in.Byte());
      break;
    case 1:
      now -= absl::Seconds(in.Byte());
      break;
    case 2:
      now = absl::InfinitePast();
      break;
    case 3:
      now = absl::InfiniteFuture();
      break;
    default:
      now = absl::FromUnixNanos(in.Int64());
      break;
  }
}

}  // namespace memlog::fuzz

#endif  // MEMLOG_TESTS_FUZZ_LOG_MODEL_H_
