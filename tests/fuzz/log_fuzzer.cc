// Copyright memlog authors.
//
// Model-based fuzzing of memlog::Log: the input is decoded into a program of
// operations (create with random options, write, batch write, read, batch
// reads, reads through a memlog::Reader, range, stream steps, waits, seeks by
// time, trims, clock steps forwards and backwards, stats, close, recreate)
// that runs against the library and against LogModel, a deliberately naive
// reference that transcribes the documented behaviour (two std::deque
// segments and the purge rules by count, bytes and age, literally). Any
// difference aborts.
//
// Input encoding (see FuzzInput: past the end, every byte reads as 0):
//   options:  start mode, [start bytes], segment mode, [segment byte],
//             limit mode, [limit byte], byte-limit mode, [bytes],
//             age mode, [age byte], clock byte
//   then, until the input ends, one opcode byte (mod kOpCount) per operation
//   followed by that operation's argument bytes.
//
// Clocks (the clock byte mod 4): 0 the real one (then no time is checked,
// and max_age is not used); 1 a fake one stepping 1 us per call; 2 and 3 a
// driven one that returns what kAdvanceClock and kSetClock set, forwards or
// backwards, to the infinite past and future too. max_age forces the driven
// clock.
//
// Byte retention is exercised with the limits the model predicts exactly
// (LogModel::ByteSeal() says why): kMinSegmentBytes, and limits no input can
// reach; and with limits from 4 KiB + 1 to about 70 KiB, where the model
// allows a seal wherever the documented rule does, demands one where the
// rule does, and is told after each write what the library did
// (LogModel::Observe()); the bound of options.h on payload storage is
// checked with every limit.
//
// Single-threaded on purpose: the model is only obviously correct when the
// order of operations is fixed. Concurrency is covered by the stress tests.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "memlog/log.h"
#include "memlog/reader.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/log_model.h"

namespace memlog::fuzz {
namespace {

// A stream and what the model says about it.
struct StreamUnderTest {
  std::stop_source stop;
  Stream stream;
  Offset position;  // the model's idea of the stream's position
  bool cancelled = false;
};

// A view held across later operations and what it must keep showing.
struct HeldView {
  RecordView view;
  Offset offset;
  std::string data;
  std::optional<int64_t> created_nanos;
};

void CheckHeldViews(const std::deque<HeldView>& held) {
  for (const HeldView& h : held) {
    MEMLOG_FUZZ_CHECK(h.view.offset() == h.offset && h.view.data() == h.data,
                      "held view of offset %lld changed",
                      static_cast<long long>(h.offset));
    if (h.created_nanos.has_value()) {
      MEMLOG_FUZZ_CHECK(absl::ToUnixNanos(h.view.created()) == *h.created_nanos,
                        "held view of offset %lld changed its time",
                        static_cast<long long>(h.offset));
    }
  }
}

// ---------------------------------------------------------------------------
// Decoding.

std::string DecodeData(FuzzInput& in, const LogModel& model, int64_t serial) {
  const int64_t size = PickDataSize(in, model.max_record_bytes());
  return MakeData(size, serial, in.Byte());
}

enum Op : uint8_t {
  kWrite,
  kWrite2,  // writes are the most common operation
  kRead,
  kReadView,
  kReadBatch,
  kReadBatchView,
  kRange,
  kOpenStream,
  kStreamNext,
  kStreamNextBatch,
  kCancelStream,
  kWaitFor,
  kMemoryUsage,
  kDropView,
  kClose,
  kRecreate,
  kReaderRead,
  kReaderRelease,
  // Added with retention and time; appended so that older seeds decode the
  // same.
  kWriteBatch,
  kTrim,
  kOffsetAt,
  kAdvanceClock,
  kSetClock,
  kStats,
  kNextOffset,
  kOpCount
};

// Decodes Options::max_segment_bytes and Options::max_age: mostly off, else
// a limit the model predicts or observes, or one that Create() must
// refuse.
void DecodeRetentionFields(FuzzInput& in, Options& options) {
  switch (in.Below(8)) {
    case 3:
      // Observed (ByteRule::kObserved): from just above 4 KiB, where the
      // second chunk has almost no room, to some 70 KiB.
      options.max_segment_bytes =
          kMinSegmentBytes + 1 + (int64_t{in.Byte()} << in.Below(9));
      break;
    case 4:
    case 5:
      options.max_segment_bytes = kMinSegmentBytes;
      break;
    case 6: {
      static constexpr int64_t kBad[] = {
          0,         -1, kMinSegmentBytes - 1, kMaxSegmentBytes + 1,
          kInt64Min, kInt64Max};
      options.max_segment_bytes = kBad[in.Below(std::size(kBad))];
      break;
    }
    case 7:
      options.max_segment_bytes = in.Below(2) == 0
                                      ? kMaxSegmentBytes
                                      : LogModel::kUnreachableSegmentBytes;
      break;
    default:
      break;
  }
  DecodeMaxAge(in, options);
}

class Harness {
 public:
  explicit Harness(FuzzInput& in) : in_(in) {}

  void Run() {
    Create();
    for (int steps = 0; steps < 4096 && !in_.empty(); ++steps) Step();
    CheckHeldViews(held_);
    streams_.clear();
    reader_.reset();
    log_.reset();
    // Views outlive the log.
    CheckHeldViews(held_);
  }

 private:
  void Create() {
    streams_.clear();  // streams and readers must not outlive their log
    reader_.reset();
    log_.reset();
    model_.reset();
    Options options;
    DecodeLogFields(in_, options);
    DecodeRetentionFields(in_, options);
    uint32_t clock = in_.Below(4);
    if (options.max_age.has_value() && clock == 0) clock = 2;
    now_ = std::make_shared<absl::Time>(absl::FromUnixNanos(kClockStartNanos));
    if (clock == 1) {
      options.clock = FakeClock(std::make_shared<SteppingClock>());
    } else if (clock >= 2) {
      options.clock = [now = now_] { return *now; };
    }
    driven_ = clock >= 2;
    lag_events_ = 0;
    records_missed_ = 0;
    absl::StatusOr<std::unique_ptr<Log>> log = Log::Create(options);
    const std::optional<ErrorKind> expected = LogModel::Validate(options);
    CheckStatus(log.status(), expected, "Create", options.segment_size);
    CheckStatus(ValidateOptions(options), expected, "ValidateOptions",
                options.start_offset);
    if (!log.ok()) return;
    log_ = *std::move(log);
    reader_.emplace(*log_);
    model_.emplace(options,
                   clock == 1 ? std::make_shared<SteppingClock>() : nullptr,
                   driven_ ? now_ : nullptr);
  }

  void Step() {
    const uint8_t op = in_.Below(kOpCount);
    if (trace_) std::fprintf(stderr, "op %d\n", op);
    if (op == kRecreate || !log_) {
      Create();
      return;
    }
    LogModel& model = *model_;
    Log& log = *log_;
    switch (op) {
      case kWrite:
      case kWrite2: {
        const std::string data = DecodeData(in_, model, serial_++);
        absl::StatusOr<Offset> offset = log.Write(data);
        Outcome<Offset> expected = model.Write(data);
        CheckStatus(offset.status(), expected.error, "Write",
                    static_cast<int64_t>(data.size()));
        if (offset.ok()) {
          MEMLOG_FUZZ_CHECK(*offset == expected.value,
                            "Write: offset %lld, model %lld",
                            static_cast<long long>(*offset),
                            static_cast<long long>(expected.value));
        }
        ObserveSeals("Write");
        break;
      }
      case kRead: {
        const Offset offset = PickOffset(in_, model);
        absl::StatusOr<Record> record = log.Read(offset);
        Outcome<const ModelRecord*> expected = model.Read(offset);
        CheckStatus(record.status(), expected.error, "Read", offset);
        if (record.ok()) {
          CheckRecord(record->metadata.offset, record->data,
                      record->metadata.created, *expected.value, "Read");
        }
        break;
      }
      case kReadView: {
        const Offset offset = PickOffset(in_, model);
        absl::StatusOr<RecordView> view = log.ReadView(offset);
        Outcome<const ModelRecord*> expected = model.Read(offset);
        CheckStatus(view.status(), expected.error, "ReadView", offset);
        if (view.ok()) {
          CheckRecord(view->offset(), view->data(), view->created(),
                      *expected.value, "ReadView");
          Hold(*std::move(view), *expected.value);
        }
        break;
      }
      case kReadBatch:
      case kReadBatchView: {
        const Offset start = PickOffset(in_, model);
        const size_t size = in_.Below(static_cast<uint32_t>(
            std::min<int64_t>(model.segment_size(), 8) * 3 + 2));
        Outcome<std::vector<const ModelRecord*>> expected =
            model.ReadBatch(start, size);
        ReadResult result;
        if (op == kReadBatch) {
          std::vector<Record> batch(size);
          result = log.ReadBatch(start, absl::MakeSpan(batch));
          const size_t count = CheckedCount(result, size);
          for (size_t i = 0; i < std::min(count, expected.value.size()); ++i) {
            CheckRecord(batch[i].metadata.offset, batch[i].data,
                        batch[i].metadata.created, *expected.value[i],
                        "ReadBatch");
          }
          // Copies past the count are left as they were.
          for (size_t i = count; i < size; ++i) {
            MEMLOG_FUZZ_CHECK(batch[i].metadata.offset == kInvalidOffset &&
                                  batch[i].data.empty(),
                              "ReadBatch wrote entry %zu past its count %zu", i,
                              count);
          }
        } else {
          // Filled with a held view first, if there is one: the entries past
          // the count must be emptied, not left pinning its segment.
          std::vector<RecordView> batch(
              size, held_.empty() ? RecordView() : held_.back().view);
          result = log.ReadBatchView(start, absl::MakeSpan(batch));
          const size_t count = CheckedCount(result, size);
          for (size_t i = 0; i < std::min(count, expected.value.size()); ++i) {
            CheckRecord(batch[i].offset(), batch[i].data(), batch[i].created(),
                        *expected.value[i], "ReadBatchView");
          }
          for (size_t i = count; i < size; ++i) {
            MEMLOG_FUZZ_CHECK(
                batch[i].offset() == kInvalidOffset && batch[i].data().empty(),
                "ReadBatchView left entry %zu past its count %zu", i, count);
          }
          if (count > 0 && !expected.value.empty()) {
            Hold(batch[0], *expected.value[0]);
          }
        }
        CheckStatus(result.status, expected.error, "ReadBatch", start);
        MEMLOG_FUZZ_CHECK(
            result.count == static_cast<int64_t>(expected.value.size()),
            "ReadBatch(%lld, %zu): count %lld, model %zu",
            static_cast<long long>(start), size,
            static_cast<long long>(result.count), expected.value.size());
        break;
      }
      case kRange: {
        const OffsetRange range = log.Range();
        const OffsetRange expected = model.Range();
        MEMLOG_FUZZ_CHECK(range == expected,
                          "Range: {%lld, %lld}, model {%lld, %lld}",
                          static_cast<long long>(range.earliest),
                          static_cast<long long>(range.latest),
                          static_cast<long long>(expected.earliest),
                          static_cast<long long>(expected.latest));
        MEMLOG_FUZZ_CHECK(log.closed() == model.closed(), "closed() differs");
        break;
      }
      case kOpenStream: {
        if (streams_.size() >= 4) streams_.pop_front();
        const Offset start = PickOffset(in_, model);
        std::stop_source stop;
        absl::StatusOr<Stream> stream = log.StreamFrom(start, stop.get_token());
        // A start no record can have is refused at once.
        CheckStatus(stream.status(),
                    model.Impossible(start)
                        ? std::optional<ErrorKind>(ErrorKind::kImpossibleOffset)
                        : std::nullopt,
                    "StreamFrom", start);
        if (!stream.ok()) break;
        streams_.push_back({std::move(stop), *std::move(stream), start});
        break;
      }
      case kStreamNext:
      case kStreamNextBatch: {
        if (streams_.empty()) break;
        StreamUnderTest& s =
            streams_[in_.Below(static_cast<uint32_t>(streams_.size()))];
        const size_t size = op == kStreamNext ? 1 : in_.Below(6);
        // A deadline in the past: the stream returns what exists, never
        // blocks (this program is single-threaded).
        const absl::Time deadline =
            in_.Below(2) == 0 ? absl::InfinitePast() : absl::UnixEpoch();
        StepStream(s, size, deadline, op == kStreamNext);
        break;
      }
      case kCancelStream: {
        if (streams_.empty()) break;
        StreamUnderTest& s =
            streams_[in_.Below(static_cast<uint32_t>(streams_.size()))];
        s.stop.request_stop();
        s.cancelled = true;
        break;
      }
      case kWaitFor: {
        const Offset offset = PickOffset(in_, model);
        CheckStatus(log.WaitFor(offset, absl::InfinitePast()),
                    model.WaitFor(offset), "WaitFor", offset);
        break;
      }
      case kMemoryUsage: {
        const MemoryUsage usage = log.memory_usage();
        MEMLOG_FUZZ_CHECK(usage.records == model.retained_records() &&
                              usage.payload_bytes == model.retained_bytes(),
                          "memory_usage: %lld records of %lld bytes, model "
                          "%lld of %lld",
                          static_cast<long long>(usage.records),
                          static_cast<long long>(usage.payload_bytes),
                          static_cast<long long>(model.retained_records()),
                          static_cast<long long>(model.retained_bytes()));
        MEMLOG_FUZZ_CHECK(usage.allocated_bytes >= usage.payload_bytes,
                          "memory_usage: allocated %lld < payload %lld",
                          static_cast<long long>(usage.allocated_bytes),
                          static_cast<long long>(usage.payload_bytes));
        CheckStorageBound(usage, model.max_segment_bytes(),
                          model.largest_record(), "memory_usage");
        break;
      }
      case kDropView:
        CheckHeldViews(held_);
        if (!held_.empty()) held_.pop_front();
        break;
      case kClose:
        log.Close();
        model.Close();
        break;
      case kReaderRead: {
        // Reads through the Reader must fail or succeed exactly as Read()
        // does, whatever segments it holds pinned from earlier reads.
        const Offset offset = PickOffset(in_, model);
        absl::StatusOr<BorrowedRecord> record = reader_->Read(offset);
        Outcome<const ModelRecord*> expected = model.Read(offset);
        CheckStatus(record.status(), expected.error, "Reader::Read", offset);
        if (record.ok()) {
          CheckRecord(record->offset(), record->data(), record->created(),
                      *expected.value, "Reader::Read");
        }
        break;
      }
      case kReaderRelease:
        reader_->Release();
        break;
      case kWriteBatch:
        WriteBatch();
        break;
      case kTrim:
        CheckStatus(log.Trim(), std::nullopt, "Trim", 0);
        model.Trim();
        ObserveSeals("Trim");
        break;
      case kOffsetAt:
        OffsetAt();
        break;
      case kAdvanceClock:
        AdvanceClock(in_, *now_);
        break;
      case kSetClock:
        SetClock(in_, *now_);
        break;
      case kStats:
        CheckStats();
        break;
      case kNextOffset:
        MEMLOG_FUZZ_CHECK(log.NextOffset() == model.next(),
                          "NextOffset %lld, model %lld",
                          static_cast<long long>(log.NextOffset()),
                          static_cast<long long>(model.next()));
        break;
      default:
        break;
    }
  }

  // With a byte limit the model cannot predict, tells it what the library
  // did (see LogModel::Observe()).
  void ObserveSeals(const char* operation) {
    if (!model_->observes_byte_seals()) return;
    const OffsetRange range = log_->Range();
    model_->Observe(
        range.earliest != kInvalidOffset ? range.earliest : log_->NextOffset(),
        log_->stats(), operation);
    if (trace_) {
      std::fprintf(stderr, "  %s: %zu possible segmentations\n", operation,
                   model_->possible_states());
    }
  }

  void WriteBatch() {
    LogModel& model = *model_;
    const size_t n = in_.Below(9);
    std::vector<std::string> records;
    for (size_t i = 0; i < n; ++i) {
      const int64_t size = PickBatchRecordSize(in_, model.max_record_bytes());
      records.push_back(MakeData(size, serial_++, in_.Byte()));
    }
    const std::vector<std::string_view> views(records.begin(), records.end());
    const WriteBatchResult result = log_->WriteBatch(views);
    const ModelBatch expected = model.WriteBatch(records);
    CheckStatus(result.status, expected.error, "WriteBatch",
                static_cast<int64_t>(n));
    MEMLOG_FUZZ_CHECK(
        result.first == expected.first && result.count == expected.count,
        "WriteBatch of %zu: first %lld count %lld, model %lld %lld", n,
        static_cast<long long>(result.first),
        static_cast<long long>(result.count),
        static_cast<long long>(expected.first),
        static_cast<long long>(expected.count));
    if (expected.bad_index >= 0) {
      const std::string named =
          "record " + std::to_string(expected.bad_index) + " of the batch";
      MEMLOG_FUZZ_CHECK(
          result.status.message().find(named) != std::string_view::npos,
          "WriteBatch: \"%s\" does not name %s",
          std::string(result.status.message()).c_str(), named.c_str());
    }
    ObserveSeals("WriteBatch");
  }

  void OffsetAt() {
    const LogModel& model = *model_;
    const int64_t delta = static_cast<int64_t>(in_.Below(3)) - 1;
    absl::Time t;
    switch (in_.Below(6)) {
      case 0:
        t = absl::InfinitePast();
        break;
      case 1:
        t = absl::InfiniteFuture();
        break;
      case 2:
      case 3: {
        // Near a record's time: the ties and the neighbours of a search.
        Outcome<const ModelRecord*> record = model.Read(PickOffset(in_, model));
        t = record.error.has_value() || !record.value->created_nanos
                ? *now_
                : absl::FromUnixNanos(*record.value->created_nanos);
        t += absl::Nanoseconds(delta);
        break;
      }
      case 4:
        t = *now_ + absl::Nanoseconds(delta);
        break;
      default:
        t = absl::FromUnixNanos(in_.Int64());
        break;
    }
    const absl::StatusOr<OffsetAtTime> at = log_->OffsetAt(t);
    if (!model.times_known()) {
      // The real clock: only what holds whatever the times are.
      if (at.ok()) {
        const OffsetRange range = log_->Range();
        MEMLOG_FUZZ_CHECK(at->offset >= range.earliest &&
                              at->offset <= range.latest,
                          "OffsetAt: %lld outside the range",
                          static_cast<long long>(at->offset));
      } else {
        CheckStatus(at.status(), ErrorKind::kFutureOffset, "OffsetAt", 0);
      }
      return;
    }
    const Outcome<OffsetAtTime> expected = model.OffsetAt(t);
    CheckStatus(at.status(), expected.error, "OffsetAt", absl::ToUnixNanos(t));
    if (at.ok()) {
      MEMLOG_FUZZ_CHECK(
          at->offset == expected.value.offset &&
              at->may_have_missed == expected.value.may_have_missed,
          "OffsetAt(%lld): %lld (may_have_missed %d), model %lld (%d)",
          static_cast<long long>(absl::ToUnixNanos(t)),
          static_cast<long long>(at->offset), at->may_have_missed,
          static_cast<long long>(expected.value.offset),
          expected.value.may_have_missed);
    } else if (expected.error == ErrorKind::kFutureOffset) {
      // The message says where the records to come start.
      const std::string next =
          "start at offset " + std::to_string(model.next());
      MEMLOG_FUZZ_CHECK(
          at.status().message().find(next) != std::string_view::npos,
          "OffsetAt: \"%s\" does not name %s",
          std::string(at.status().message()).c_str(), next.c_str());
    }
  }

  void CheckStats() {
    const LogModel& model = *model_;
    const LogStats got = log_->stats();
    const ModelStats want = model.stats();
    const auto check = [](int64_t actual, int64_t expected, const char* name) {
      MEMLOG_FUZZ_CHECK(actual == expected, "stats().%s is %lld, model %lld",
                        name, static_cast<long long>(actual),
                        static_cast<long long>(expected));
    };
    check(got.records_written, model.next() - model.start(), "records_written");
    check(got.bytes_written, want.bytes_written, "bytes_written");
    check(got.segments_rotated, want.segments_rotated, "segments_rotated");
    check(got.records_purged_by_count,
          want.purged[static_cast<int>(ModelPurge::kCount)],
          "records_purged_by_count");
    check(got.records_purged_by_bytes,
          want.purged[static_cast<int>(ModelPurge::kBytes)],
          "records_purged_by_bytes");
    check(got.records_purged_by_age,
          want.purged[static_cast<int>(ModelPurge::kAge)],
          "records_purged_by_age");
    check(got.write_failures_invalid, want.failures_invalid,
          "write_failures_invalid");
    check(got.write_failures_closed, want.failures_closed,
          "write_failures_closed");
    check(got.write_failures_overflow, want.failures_overflow,
          "write_failures_overflow");
    check(got.write_failures_out_of_memory, 0, "write_failures_out_of_memory");
    check(got.write_failures_callback, 0, "write_failures_callback");
    check(got.streams_waiting, 0, "streams_waiting");
    check(got.lag_events, lag_events_, "lag_events");
    check(got.records_missed, records_missed_, "records_missed");
    // Every record written is retained or purged, by exactly one reason.
    check(want.purged[0] + want.purged[1] + want.purged[2] +
              model.retained_records(),
          model.next() - model.start(), "records purged + retained");
  }

  void StepStream(StreamUnderTest& s, size_t size, absl::Time deadline,
                  bool single) {
    const LogModel& model = *model_;
    // The model's stream step: cancellation first, then the record(s) at the
    // position, a lag report for a purged position, or why there is none.
    std::optional<ErrorKind> expected_error;
    int64_t expected_lag = 0;
    std::vector<const ModelRecord*> expected_records;
    Offset expected_position = s.position;
    if (!single && size == 0) {
      // An empty batch returns at once with nothing.
    } else if (s.cancelled) {
      expected_error = ErrorKind::kWaitCancelled;
    } else if (model.Impossible(s.position)) {
      // Past the record at kMaxOffset: none can follow, closed or not.
      // (StreamFrom() refuses a start before the start offset.)
      expected_error = ErrorKind::kImpossibleOffset;
    } else if (s.position >= model.next()) {
      expected_error =
          model.closed() ? ErrorKind::kClosed : ErrorKind::kWaitTimedOut;
    } else if (s.position < model.earliest()) {
      expected_error = ErrorKind::kLagged;
      expected_lag = model.earliest() - s.position;
      expected_position = model.earliest();
    } else {
      Outcome<std::vector<const ModelRecord*>> batch =
          model.ReadBatch(s.position, size);
      expected_records = std::move(batch.value);
      expected_position =
          s.position + static_cast<Offset>(expected_records.size());
    }

    std::vector<RecordView> got;
    absl::Status status;
    if (single) {
      absl::StatusOr<RecordView> view = s.stream.NextUntil(deadline);
      status = view.status();
      if (view.ok()) got.push_back(*std::move(view));
    } else {
      std::vector<RecordView> batch(size);
      ReadResult result = s.stream.NextBatch(absl::MakeSpan(batch), deadline);
      status = result.status;
      batch.resize(CheckedCount(result, size));
      got = std::move(batch);
      MEMLOG_FUZZ_CHECK(
          result.ok() || result.count == 0, "NextBatch: %lld records with %s",
          static_cast<long long>(result.count), status.ToString().c_str());
    }
    CheckStatus(status, expected_error, single ? "Next" : "NextBatch",
                s.position);
    if (expected_error == ErrorKind::kLagged) {
      MEMLOG_FUZZ_CHECK(LaggedCount(status) == expected_lag,
                        "lagged by %lld, model %lld",
                        static_cast<long long>(LaggedCount(status)),
                        static_cast<long long>(expected_lag));
      // A memlog::Stream always knows exactly what it missed.
      MEMLOG_FUZZ_CHECK(IsLaggedCountExact(status), "lag count not exact: %s",
                        status.ToString().c_str());
      ++lag_events_;
      records_missed_ += expected_lag;
    }
    MEMLOG_FUZZ_CHECK(got.size() == expected_records.size(),
                      "stream at %lld: %zu records, model %zu",
                      static_cast<long long>(s.position), got.size(),
                      expected_records.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CheckRecord(got[i].offset(), got[i].data(), got[i].created(),
                  *expected_records[i], "stream");
    }
    s.position = expected_position;
    MEMLOG_FUZZ_CHECK(s.stream.position() == s.position,
                      "stream position %lld, model %lld",
                      static_cast<long long>(s.stream.position()),
                      static_cast<long long>(s.position));
    if (!got.empty()) Hold(got.back(), *expected_records.back());
  }

  // The count of a batch result, checked to lie in [0, size].
  static size_t CheckedCount(const ReadResult& result, size_t size) {
    MEMLOG_FUZZ_CHECK(
        result.count >= 0 && result.count <= static_cast<int64_t>(size),
        "batch of %zu: count %lld", size, static_cast<long long>(result.count));
    return static_cast<size_t>(result.count);
  }

  void Hold(RecordView view, const ModelRecord& record) {
    if (held_.size() >= 16) held_.pop_front();
    held_.push_back(
        {std::move(view), record.offset, record.data, record.created_nanos});
  }

  FuzzInput& in_;
  // MEMLOG_FUZZ_TRACE=1 prints each operation, to see what an input does.
  const bool trace_ = std::getenv("MEMLOG_FUZZ_TRACE") != nullptr;
  std::unique_ptr<Log> log_;
  // Reads of log_ through a Reader, kept across operations so that its
  // pinned segments age while the log purges.
  std::optional<Reader> reader_;
  std::optional<LogModel> model_;
  std::deque<StreamUnderTest> streams_;
  std::deque<HeldView> held_;
  int64_t serial_ = 0;
  // The driven clock's time, and whether log_ uses it.
  std::shared_ptr<absl::Time> now_ =
      std::make_shared<absl::Time>(absl::FromUnixNanos(kClockStartNanos));
  bool driven_ = false;
  // The lag reports the model expected of log_'s streams (stats()).
  int64_t lag_events_ = 0;
  int64_t records_missed_ = 0;
};

}  // namespace
}  // namespace memlog::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  memlog::fuzz::FuzzInput in(data, size);
  memlog::fuzz::Harness harness(in);
  harness.Run();
  return 0;
}
