// Copyright memlog authors.
//
// Model-based fuzzing of memlog::Log: the input is decoded into a program of
// operations (create with random options, write, read, batch reads, reads
// through a memlog::Reader, range, stream steps, waits, close, recreate) that
// runs against the library and against LogModel, a deliberately naive reference
// that transcribes the documented behaviour (two std::deque segments and the
// purge rule, literally). Any difference aborts.
//
// Input encoding (see FuzzInput: past the end, every byte reads as 0):
//   options:  start mode, [start bytes], segment mode, [segment byte],
//             limit mode, [limit byte], clock byte
//   then, until the input ends, one opcode byte (mod kOpCount) per operation
//   followed by that operation's argument bytes.
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
  kOpCount
};

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
    const bool fake_clock = in_.Below(4) != 0;
    if (fake_clock) options.clock = FakeClock();
    absl::StatusOr<std::unique_ptr<Log>> log = Log::Create(options);
    const std::optional<ErrorKind> expected = LogModel::Validate(options);
    CheckStatus(log.status(), expected, "Create", options.segment_size);
    CheckStatus(ValidateOptions(options), expected, "ValidateOptions",
                options.start_offset);
    if (!log.ok()) return;
    log_ = *std::move(log);
    reader_.emplace(*log_);
    model_.emplace(options.start_offset, options.segment_size,
                   options.max_record_bytes,
                   fake_clock ? std::make_shared<int64_t>(0) : nullptr);
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
      default:
        break;
    }
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
};

}  // namespace
}  // namespace memlog::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  memlog::fuzz::FuzzInput in(data, size);
  memlog::fuzz::Harness harness(in);
  harness.Run();
  return 0;
}
