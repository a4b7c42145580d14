// Copyright memlog authors.
//
// The reference model shared by the fuzzers: LogModel, a deliberately naive
// transcription of memlog::Log's documented behaviour (two std::deque
// segments and the purge rule, literally), and the helpers that compare the
// library's statuses with the model's expectations.

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

class LogModel {
 public:
  static std::optional<ErrorKind> Validate(const Options& o) {
    const bool valid =
        o.start_offset >= 0 && o.start_offset <= kMaxOffset &&
        o.segment_size >= 1 && o.segment_size <= kMaxSegmentSize &&
        o.max_record_bytes >= 1 && o.max_record_bytes <= kMaxRecordBytesLimit;
    if (valid) return std::nullopt;
    return ErrorKind::kInvalidOptions;
  }

  // `clock_writes` counts the writes that called the fake clock (shared by
  // the shards of a sharded log); null when the clock is the real one.
  LogModel(Offset start_offset, int64_t segment_size, int64_t max_record_bytes,
           std::shared_ptr<int64_t> clock_writes)
      : start_(start_offset),
        segment_size_(segment_size),
        max_record_bytes_(max_record_bytes),
        clock_writes_(std::move(clock_writes)),
        next_(start_offset) {}

  Outcome<Offset> Write(const std::string& data, std::string key = "") {
    if (data.empty()) return {ErrorKind::kEmptyRecord};
    if (static_cast<int64_t>(data.size()) > max_record_bytes_) {
      return {ErrorKind::kRecordTooLarge};
    }
    if (closed_) return {ErrorKind::kClosed};
    if (next_ > kMaxOffset) return {ErrorKind::kOffsetOverflow};
    // The purge rule, as documented: the write that finds the active segment
    // full seals it, makes it the history (dropping the old history) and
    // lands in a fresh active segment.
    if (static_cast<int64_t>(active_.size()) == segment_size_) {
      history_ = std::move(active_);
      active_.clear();
    }
    std::optional<int64_t> created;
    if (clock_writes_ != nullptr) {
      created = kClockStartNanos + (*clock_writes_)++ * kClockStepNanos;
    }
    active_.push_back({next_, std::move(key), data, created});
    return {std::nullopt, next_++};
  }

  Offset earliest() const {
    if (!history_.empty()) return history_.front().offset;
    if (!active_.empty()) return active_.front().offset;
    return start_;
  }
  Offset next() const { return next_; }
  Offset start() const { return start_; }
  int64_t segment_size() const { return segment_size_; }
  int64_t max_record_bytes() const { return max_record_bytes_; }
  bool closed() const { return closed_; }
  bool empty() const { return next_ == start_; }

  OffsetRange Range() const {
    if (empty()) return {};
    return {earliest(), next_ - 1};
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
    // Each segment holds consecutive offsets.
    for (const std::deque<ModelRecord>* segment : {&history_, &active_}) {
      if (segment->empty()) continue;
      const int64_t index = offset - segment->front().offset;
      if (index >= 0 && index < static_cast<int64_t>(segment->size())) {
        return {std::nullopt, &(*segment)[static_cast<size_t>(index)]};
      }
    }
    return {ErrorKind::kPurgedOffset};  // unreachable if the model is right
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
  const Offset start_;
  const int64_t segment_size_;
  const int64_t max_record_bytes_;
  const std::shared_ptr<int64_t> clock_writes_;
  Offset next_;
  bool closed_ = false;
  std::deque<ModelRecord> history_;
  std::deque<ModelRecord> active_;
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
