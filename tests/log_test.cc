// Copyright memlog authors.
//
// The specification of memlog::Log (memlog/log.h): writes, reads, batch
// reads, retention across segments, options, limits, timestamps, closing and
// the lifetime of zero-copy views. Streams are specified in stream_test.cc,
// concurrent use in log_concurrency_test.cc.

#include "memlog/log.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fake_clock.h"
#include "tests/log_test_support.h"

namespace memlog {

// Test output: "{earliest, latest}" instead of bytes.
void PrintTo(const OffsetRange& range, std::ostream* os) {
  *os << "{" << range.earliest << ", " << range.latest << "}";
}

namespace {

using test::MakeLog;
using test::Message;
using test::Payload;
using test::WriteRecords;

using ::testing::HasSubstr;

// The bytes of the record at `offset`, or the read's status as text (so that
// a failed read fails the comparison instead of crashing the test).
std::string DataAt(const Log& log, Offset offset) {
  absl::StatusOr<Record> record = log.Read(offset);
  return record.ok() ? record->data : "<" + record.status().ToString() + ">";
}
std::string ViewDataAt(const Log& log, Offset offset) {
  absl::StatusOr<RecordView> view = log.ReadView(offset);
  return view.ok() ? std::string(view->data())
                   : "<" + view.status().ToString() + ">";
}

// The earliest offset retained after `writes` writes, as the Go original
// behaves: the write that finds the active segment full makes it the history
// and purges the previous history.
Offset ExpectedEarliest(Offset start, int64_t segment_size, int64_t writes) {
  const int64_t last_segment = (writes - 1) / segment_size;
  return start + segment_size * std::max<int64_t>(0, last_segment - 1);
}

using test::FakeClock;

// ---------------------------------------------------------------------------
// Creation and options.

TEST(LogTest, CreateWithDefaultOptionsUsesGoDefaults) {
  const Options options;
  EXPECT_EQ(options.start_offset, 0);
  EXPECT_EQ(options.segment_size, 1024);
  EXPECT_EQ(options.max_record_bytes, 1024 << 10);
  std::unique_ptr<Log> log = MakeLog();
  EXPECT_EQ(log->options().start_offset, 0);
  EXPECT_EQ(log->options().segment_size, 1024);
  EXPECT_EQ(log->options().max_record_bytes, 1 << 20);
  EXPECT_FALSE(log->closed());
}

struct InvalidOptionsCase {
  std::string name;
  Options options;
  std::string field;  // the field the message must name
  int64_t value;      // the rejected value, also named
  int64_t low;        // the valid range, also named
  int64_t high;
};

class LogInvalidOptionsTest
    : public testing::TestWithParam<InvalidOptionsCase> {};

TEST_P(LogInvalidOptionsTest, CreateRejectsFieldNamingItsValidRange) {
  const InvalidOptionsCase& c = GetParam();
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Create(c.options);
  ASSERT_FALSE(log.ok());
  EXPECT_TRUE(IsInvalidOptions(log.status())) << log.status();
  EXPECT_EQ(log.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(log.status()), HasSubstr(c.field));
  EXPECT_THAT(Message(log.status()), HasSubstr(std::to_string(c.value)));
  EXPECT_THAT(Message(log.status()), HasSubstr(std::to_string(c.low)));
  EXPECT_THAT(Message(log.status()), HasSubstr(std::to_string(c.high)));

  // ValidateOptions is the same check, without creating a log.
  const absl::Status validated = ValidateOptions(c.options);
  EXPECT_TRUE(IsInvalidOptions(validated)) << validated;
  EXPECT_EQ(Message(validated), Message(log.status()));
}

INSTANTIATE_TEST_SUITE_P(
    AllFields, LogInvalidOptionsTest,
    testing::Values(InvalidOptionsCase{"NegativeStartOffset",
                                       {.start_offset = -1},
                                       "start_offset",
                                       -1,
                                       0,
                                       kMaxOffset},
                    InvalidOptionsCase{"StartOffsetBeyondMax",
                                       {.start_offset = kMaxOffset + 1},
                                       "start_offset",
                                       kMaxOffset + 1,
                                       0,
                                       kMaxOffset},
                    InvalidOptionsCase{"ZeroSegmentSize",
                                       {.segment_size = 0},
                                       "segment_size",
                                       0,
                                       1,
                                       kMaxSegmentSize},
                    InvalidOptionsCase{"NegativeSegmentSize",
                                       {.segment_size = -5},
                                       "segment_size",
                                       -5,
                                       1,
                                       kMaxSegmentSize},
                    InvalidOptionsCase{"SegmentSizeBeyondMax",
                                       {.segment_size = kMaxSegmentSize + 1},
                                       "segment_size",
                                       kMaxSegmentSize + 1,
                                       1,
                                       kMaxSegmentSize},
                    InvalidOptionsCase{"ZeroMaxRecordBytes",
                                       {.max_record_bytes = 0},
                                       "max_record_bytes",
                                       0,
                                       1,
                                       kMaxRecordBytesLimit},
                    InvalidOptionsCase{"NegativeMaxRecordBytes",
                                       {.max_record_bytes = -1},
                                       "max_record_bytes",
                                       -1,
                                       1,
                                       kMaxRecordBytesLimit},
                    InvalidOptionsCase{
                        "MaxRecordBytesBeyondLimit",
                        {.max_record_bytes = kMaxRecordBytesLimit + 1},
                        "max_record_bytes",
                        kMaxRecordBytesLimit + 1,
                        1,
                        kMaxRecordBytesLimit}),
    [](const testing::TestParamInfo<InvalidOptionsCase>& test) {
      return test.param.name;
    });

TEST(LogTest, CreateAcceptsEveryBoundaryOfTheValidRanges) {
  for (const Options& options : {
           Options{.start_offset = 0},
           Options{.start_offset = kMaxOffset},
           Options{.segment_size = 1},
           Options{.segment_size = kMaxSegmentSize},
           Options{.max_record_bytes = 1},
           Options{.max_record_bytes = kMaxRecordBytesLimit},
       }) {
    EXPECT_TRUE(ValidateOptions(options).ok()) << ValidateOptions(options);
    absl::StatusOr<std::unique_ptr<Log>> log = Log::Create(options);
    ASSERT_TRUE(log.ok()) << log.status();
    // Storage is allocated lazily, so even the largest segment size is
    // usable at once.
    EXPECT_TRUE((*log)->Write("x").ok());
  }
}

// ---------------------------------------------------------------------------
// The empty log.

TEST(LogTest, EmptyLogHasInvalidRange) {
  std::unique_ptr<Log> log = MakeLog();
  EXPECT_EQ(log->Range(), (OffsetRange{kInvalidOffset, kInvalidOffset}));
  EXPECT_EQ(log->Range().earliest, -1);
  EXPECT_EQ(log->Range().latest, -1);
}

TEST(LogTest, EmptyLogReadsOfTheStartOffsetAreFutureOffsets) {
  std::unique_ptr<Log> log = MakeLog({.start_offset = 111});
  absl::StatusOr<Record> record = log->Read(111);
  EXPECT_TRUE(IsFutureOffset(record.status())) << record.status();
  EXPECT_EQ(record.status().code(), absl::StatusCode::kOutOfRange);

  absl::StatusOr<Record> later = log->Read(333);
  EXPECT_TRUE(IsFutureOffset(later.status())) << later.status();
  EXPECT_THAT(Message(later.status()), HasSubstr("333"));
  EXPECT_THAT(Message(later.status()), HasSubstr("111"));

  EXPECT_TRUE(IsFutureOffset(log->ReadView(111).status()));
}

TEST(LogTest, EmptyLogReadsBeforeTheStartOffsetAreImpossibleOffsets) {
  std::unique_ptr<Log> log = MakeLog({.start_offset = 111});
  for (Offset offset : {Offset{110}, Offset{0}, Offset{-1}, Offset{-999}}) {
    SCOPED_TRACE(offset);
    EXPECT_TRUE(memlog::IsImpossibleOffset(log->Read(offset).status()));
    EXPECT_TRUE(memlog::IsImpossibleOffset(log->ReadView(offset).status()));
  }
}

TEST(LogTest, EmptyLogReadBatchReturnsNothingWithFutureOffset) {
  std::unique_ptr<Log> log = MakeLog();
  std::vector<Record> batch(3);
  ReadResult result = log->ReadBatch(0, absl::MakeSpan(batch));
  EXPECT_EQ(result.count, 0);
  EXPECT_TRUE(IsFutureOffset(result.status)) << result.status;
  EXPECT_FALSE(result.ok());
}

// ---------------------------------------------------------------------------
// Writes and reads.

TEST(LogTest, WritesGetDenseOffsetsFromTheStartOffset) {
  for (Offset start : {Offset{0}, Offset{1}, Offset{10}, Offset{1} << 40}) {
    SCOPED_TRACE(start);
    std::unique_ptr<Log> log = MakeLog({.start_offset = start});
    for (Offset expected = start; expected < start + 5; ++expected) {
      absl::StatusOr<Offset> offset = log->Write(Payload(expected));
      ASSERT_TRUE(offset.ok()) << offset.status();
      EXPECT_EQ(*offset, expected);
      EXPECT_EQ(log->Range(), (OffsetRange{start, expected}));
    }
  }
}

TEST(LogTest, ReadReturnsTheWrittenBytesAndOffset) {
  std::unique_ptr<Log> log = MakeLog({.start_offset = 10});
  WriteRecords(*log, 5);
  for (Offset offset = 10; offset < 15; ++offset) {
    absl::StatusOr<Record> record = log->Read(offset);
    ASSERT_TRUE(record.ok()) << record.status();
    EXPECT_EQ(record->metadata.offset, offset);
    EXPECT_EQ(record->data, Payload(offset));
  }
}

TEST(LogTest, ReadViewReturnsTheSameRecordAsRead) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 5);
  for (Offset offset = 0; offset < 5; ++offset) {
    absl::StatusOr<RecordView> view = log->ReadView(offset);
    absl::StatusOr<Record> record = log->Read(offset);
    ASSERT_TRUE(view.ok()) << view.status();
    ASSERT_TRUE(record.ok()) << record.status();
    EXPECT_EQ(view->offset(), offset);
    EXPECT_EQ(view->data(), Payload(offset));
    EXPECT_EQ(view->metadata(), record->metadata);
    EXPECT_EQ(view->created(), record->metadata.created);
    EXPECT_EQ(view->ToRecord(), *record);
  }
}

TEST(LogTest, ReadViewPointsIntoTheLogInsteadOfCopying) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 3);
  absl::StatusOr<RecordView> first = log->ReadView(1);
  absl::StatusOr<RecordView> second = log->ReadView(1);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->data().data(), second->data().data());

  std::vector<RecordView> batch(3);
  ReadResult result = log->ReadBatchView(0, absl::MakeSpan(batch));
  ASSERT_EQ(result.count, 3);
  EXPECT_EQ(batch[1].data().data(), first->data().data());
}

TEST(LogTest, WriteCopiesTheCallersBytes) {
  std::unique_ptr<Log> log = MakeLog();
  std::string data = "original";
  ASSERT_TRUE(log->Write(data).ok());
  data.assign("changed!");
  EXPECT_EQ(DataAt(*log, 0), "original");
  EXPECT_EQ(ViewDataAt(*log, 0), "original");
}

TEST(LogTest, BinaryPayloadsWithEveryByteValueSurviveIntact) {
  std::unique_ptr<Log> log = MakeLog();
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  const std::string nul_only(5, '\0');
  ASSERT_TRUE(log->Write(all_bytes).ok());
  ASSERT_TRUE(log->Write(nul_only).ok());
  EXPECT_EQ(DataAt(*log, 0), all_bytes);
  EXPECT_EQ(DataAt(*log, 1), nul_only);
  EXPECT_EQ(ViewDataAt(*log, 1).size(), 5u);
}

TEST(LogTest, DefaultRecordViewIsEmpty) {
  const RecordView view;
  EXPECT_EQ(view.offset(), kInvalidOffset);
  EXPECT_TRUE(view.data().empty());
  EXPECT_EQ(view.ToRecord().metadata.offset, kInvalidOffset);
  EXPECT_EQ(Record().metadata.offset, kInvalidOffset);
}

TEST(LogTest, ReadOfAFutureOffsetNamesItAndTheLatest) {
  std::unique_ptr<Log> log = MakeLog({.start_offset = 500});
  WriteRecords(*log, 4);  // 500..503
  absl::StatusOr<Record> record = log->Read(504);
  EXPECT_TRUE(IsFutureOffset(record.status())) << record.status();
  EXPECT_FALSE(memlog::IsPurgedOffset(record.status()));

  absl::StatusOr<Record> far = log->Read(777);
  EXPECT_TRUE(IsFutureOffset(far.status())) << far.status();
  EXPECT_EQ(far.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(Message(far.status()), HasSubstr("777"));
  EXPECT_THAT(Message(far.status()), HasSubstr("503"));
}

TEST(LogTest, ReadBeforeTheStartOffsetNamesItAndTheStart) {
  std::unique_ptr<Log> log = MakeLog({.start_offset = 1000});
  WriteRecords(*log, 3);
  absl::StatusOr<Record> record = log->Read(999);
  EXPECT_TRUE(memlog::IsImpossibleOffset(record.status())) << record.status();
  EXPECT_FALSE(memlog::IsPurgedOffset(record.status()));
  EXPECT_FALSE(IsFutureOffset(record.status()));
  EXPECT_EQ(record.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(record.status()), HasSubstr("999"));
  EXPECT_THAT(Message(record.status()), HasSubstr("1000"));
}

TEST(LogTest, ReadOfANegativeOffsetIsAnImpossibleOffset) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 3);
  EXPECT_TRUE(memlog::IsImpossibleOffset(log->Read(-1).status()));
  EXPECT_TRUE(memlog::IsImpossibleOffset(log->Read(kInvalidOffset).status()));
  EXPECT_TRUE(memlog::IsImpossibleOffset(log->ReadView(-42).status()));
  std::vector<Record> batch(2);
  ReadResult result = log->ReadBatch(-1, absl::MakeSpan(batch));
  EXPECT_EQ(result.count, 0);
  EXPECT_TRUE(memlog::IsImpossibleOffset(result.status)) << result.status;
  EXPECT_EQ(result.status.code(), absl::StatusCode::kInvalidArgument);
}

TEST(LogTest, ReadPastMaxOffsetIsAnImpossibleOffset) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 3);
  const Offset past = std::numeric_limits<Offset>::max();  // kMaxOffset + 1
  EXPECT_TRUE(memlog::IsImpossibleOffset(log->Read(past).status()));
  EXPECT_TRUE(memlog::IsImpossibleOffset(log->ReadView(past).status()));
  std::vector<Record> batch(2);
  ReadResult result = log->ReadBatch(past, absl::MakeSpan(batch));
  EXPECT_EQ(result.count, 0);
  EXPECT_TRUE(memlog::IsImpossibleOffset(result.status)) << result.status;
  // kMaxOffset itself is merely not written yet.
  EXPECT_TRUE(IsFutureOffset(log->Read(kMaxOffset).status()));
}

TEST(LogTest, ReadOfAPurgedOffsetNamesItAndTheEarliest) {
  std::unique_ptr<Log> log =
      MakeLog({.start_offset = 500, .segment_size = 5});
  WriteRecords(*log, 11);  // 500..510; the write of 510 purged 500..504
  ASSERT_EQ(log->Range(), (OffsetRange{505, 510}));
  absl::StatusOr<Record> record = log->Read(502);
  EXPECT_TRUE(memlog::IsPurgedOffset(record.status())) << record.status();
  EXPECT_FALSE(IsFutureOffset(record.status()));
  EXPECT_EQ(record.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(record.status()), HasSubstr("502"));
  EXPECT_THAT(Message(record.status()), HasSubstr("505"));
}

// ---------------------------------------------------------------------------
// Record size limits.

TEST(LogTest, EmptyRecordIsRejectedAndTakesNoOffset) {
  std::unique_ptr<Log> log = MakeLog();
  absl::StatusOr<Offset> offset = log->Write("");
  EXPECT_TRUE(IsEmptyRecord(offset.status())) << offset.status();
  EXPECT_FALSE(IsRecordTooLarge(offset.status()));
  EXPECT_EQ(offset.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(offset.status()), HasSubstr("empty"));
  EXPECT_TRUE(IsEmptyRecord(log->Write(std::string_view()).status()));
  EXPECT_EQ(log->Range(), OffsetRange{});
  EXPECT_EQ(log->Write("a").value(), 0);
}

TEST(LogTest, RecordOfExactlyMaxRecordBytesIsAccepted) {
  std::unique_ptr<Log> log = MakeLog({.max_record_bytes = 64});
  const std::string data(64, 'm');
  absl::StatusOr<Offset> offset = log->Write(data);
  ASSERT_TRUE(offset.ok()) << offset.status();
  EXPECT_EQ(DataAt(*log, *offset), data);
}

TEST(LogTest, RecordOneByteOverMaxRecordBytesIsRejectedAndTakesNoOffset) {
  std::unique_ptr<Log> log = MakeLog({.max_record_bytes = 64});
  absl::StatusOr<Offset> offset = log->Write(std::string(65, 'm'));
  EXPECT_TRUE(IsRecordTooLarge(offset.status())) << offset.status();
  EXPECT_FALSE(IsEmptyRecord(offset.status()));
  EXPECT_EQ(offset.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(offset.status()), HasSubstr("65"));
  EXPECT_THAT(Message(offset.status()), HasSubstr("64"));
  EXPECT_EQ(log->Range(), OffsetRange{});
  EXPECT_EQ(log->Write("a").value(), 0);
}

TEST(LogTest, DefaultLimitAcceptsOneMebibyteAndRejectsOneByteMore) {
  std::unique_ptr<Log> log = MakeLog();
  const std::string max(1 << 20, 'a');
  absl::StatusOr<Offset> offset = log->Write(max);
  ASSERT_TRUE(offset.ok()) << offset.status();
  EXPECT_EQ(ViewDataAt(*log, *offset), max);
  EXPECT_TRUE(
      IsRecordTooLarge(log->Write(std::string((1 << 20) + 1, 'a')).status()));
}

TEST(LogTest, MaxRecordBytesOfOneAcceptsSingleBytes) {
  std::unique_ptr<Log> log = MakeLog({.max_record_bytes = 1});
  EXPECT_TRUE(log->Write("a").ok());
  EXPECT_TRUE(IsRecordTooLarge(log->Write("ab").status()));
}

// ---------------------------------------------------------------------------
// Timestamps.

TEST(LogTest, CreatedIsTheInjectedClocksTimeAtTheWrite) {
  const absl::Time t0 = absl::FromCivil(absl::CivilSecond(2021, 1, 2, 3, 4, 5),
                                        absl::UTCTimeZone());
  FakeClock clock(t0 + absl::Nanoseconds(6));
  std::unique_ptr<Log> log = MakeLog({.clock = clock.AsFunction()});
  ASSERT_TRUE(log->Write("first").ok());
  clock.Advance(absl::Nanoseconds(1));
  ASSERT_TRUE(log->Write("second").ok());
  clock.Advance(absl::Hours(25));
  ASSERT_TRUE(log->Write("third").ok());

  EXPECT_EQ(log->Read(0)->metadata.created, t0 + absl::Nanoseconds(6));
  EXPECT_EQ(log->Read(1)->metadata.created, t0 + absl::Nanoseconds(7));
  EXPECT_EQ(log->ReadView(2)->created(),
            t0 + absl::Nanoseconds(7) + absl::Hours(25));
  std::vector<Record> batch(3);
  ASSERT_EQ(log->ReadBatch(0, absl::MakeSpan(batch)).count, 3);
  EXPECT_EQ(batch[1].metadata.created, t0 + absl::Nanoseconds(7));
  EXPECT_EQ(absl::FormatTime("%Y-%m-%d %H:%M:%E9S", batch[0].metadata.created,
                             absl::UTCTimeZone()),
            "2021-01-02 03:04:05.000000006");
}

TEST(LogTest, ClockIsCalledOncePerWrite) {
  FakeClock clock(absl::UnixEpoch());
  std::unique_ptr<Log> log = MakeLog({.clock = clock.AsFunction()});
  WriteRecords(*log, 3);
  EXPECT_EQ(clock.calls(), 3);
}

TEST(LogTest, CreatedDefaultsToTheRealTimeClock) {
  std::unique_ptr<Log> log = MakeLog();
  const absl::Time before = absl::Now();
  ASSERT_TRUE(log->Write("now").ok());
  const absl::Time after = absl::Now();
  // The default clock is coarse (a kernel tick); a wide margin keeps this
  // a check of which clock is used, not of its resolution.
  const absl::Time created = log->Read(0)->metadata.created;
  EXPECT_GE(created, before - absl::Seconds(1));
  EXPECT_LE(created, after + absl::Seconds(1));
}

// ---------------------------------------------------------------------------
// Batch reads, as the Go example and documentation state them.

TEST(LogTest, ReadBatchOfFifteenRecordsReadsTenThenFiveAndFutureOffset) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 15);
  std::vector<Record> batch(10);
  ReadResult first = log->ReadBatch(0, absl::MakeSpan(batch));
  EXPECT_TRUE(first.ok()) << first.status;
  ASSERT_EQ(first.count, 10);
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(batch[i].metadata.offset, static_cast<Offset>(i));
    EXPECT_EQ(batch[i].data, Payload(static_cast<Offset>(i)));
  }
  ReadResult second = log->ReadBatch(10, absl::MakeSpan(batch));
  EXPECT_TRUE(IsFutureOffset(second.status)) << second.status;
  ASSERT_EQ(second.count, 5);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(batch[i].metadata.offset, static_cast<Offset>(10 + i));
    EXPECT_EQ(batch[i].data, Payload(static_cast<Offset>(10 + i)));
  }
}

TEST(LogTest, ReadBatchEndingExactlyAtTheLatestIsFullAndOk) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 10);
  std::vector<Record> batch(4);
  ReadResult result = log->ReadBatch(6, absl::MakeSpan(batch));
  EXPECT_TRUE(result.ok()) << result.status;
  EXPECT_EQ(result.count, 4);
  EXPECT_EQ(batch[3].metadata.offset, 9);
}

TEST(LogTest, ReadBatchStartingInTheFutureReadsNothing) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 10);
  std::vector<Record> batch(4);
  for (Offset start : {Offset{10}, Offset{11}, Offset{1000}}) {
    ReadResult result = log->ReadBatch(start, absl::MakeSpan(batch));
    EXPECT_EQ(result.count, 0);
    EXPECT_TRUE(IsFutureOffset(result.status)) << result.status;
  }
}

TEST(LogTest, ReadBatchStartingAtAPurgedOffsetReadsNothing) {
  std::unique_ptr<Log> log = MakeLog({.segment_size = 2});
  WriteRecords(*log, 5);  // retains 2..4
  ASSERT_EQ(log->Range(), (OffsetRange{2, 4}));
  std::vector<Record> batch(4);
  ReadResult result = log->ReadBatch(1, absl::MakeSpan(batch));
  EXPECT_EQ(result.count, 0);
  EXPECT_TRUE(memlog::IsPurgedOffset(result.status)) << result.status;
}

TEST(LogTest, ReadBatchLeavesEntriesPastTheCountUnchanged) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 3);
  const Record sentinel{{12345, absl::UnixEpoch()}, "untouched"};
  std::vector<Record> batch(6, sentinel);
  ReadResult result = log->ReadBatch(1, absl::MakeSpan(batch));
  ASSERT_EQ(result.count, 2);
  EXPECT_TRUE(IsFutureOffset(result.status));
  for (size_t i = 2; i < batch.size(); ++i) EXPECT_EQ(batch[i], sentinel);
}

TEST(LogTest, ReadBatchViewEmptiesEntriesPastTheCount) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 6);
  std::vector<RecordView> views(6);
  ASSERT_EQ(log->ReadBatchView(0, absl::MakeSpan(views)).count, 6);
  // Reused: the entries the second read does not fill are emptied, so they
  // pin nothing.
  ReadResult view_result = log->ReadBatchView(4, absl::MakeSpan(views));
  ASSERT_EQ(view_result.count, 2);
  EXPECT_TRUE(IsFutureOffset(view_result.status));
  EXPECT_EQ(views[0].offset(), 4);
  EXPECT_EQ(views[1].offset(), 5);
  for (size_t i = 2; i < views.size(); ++i) {
    EXPECT_EQ(views[i].offset(), kInvalidOffset);
    EXPECT_EQ(views[i].data(), "");
  }
  // Also when the read fails outright.
  ASSERT_EQ(log->ReadBatchView(0, absl::MakeSpan(views)).count, 6);
  ReadResult none = log->ReadBatchView(6, absl::MakeSpan(views));
  EXPECT_EQ(none.count, 0);
  for (const RecordView& view : views) {
    EXPECT_EQ(view.offset(), kInvalidOffset);
  }
}

// The fix for a suspicion of issue #10 (entries past the count kept their
// views): a short read into a reused batch lets go of the segments its old
// entries pinned. Measured by the segments the log must create: if the
// emptied entries still pinned the purged segments, the log could not reuse
// them and would create another one at the next rotation.
TEST(LogTest, AShortViewBatchReadReleasesTheSegmentsItsOldEntriesPinned) {
  std::unique_ptr<Log> log = MakeLog({.segment_size = 2});
  WriteRecords(*log, 4);  // segments A {0, 1} and B {2, 3}
  std::vector<RecordView> views(4);
  ASSERT_EQ(log->ReadBatchView(0, absl::MakeSpan(views)).count, 4);
  WriteRecords(*log, 4);  // C {4, 5}, D {6, 7}; A and B purged but pinned
  ASSERT_EQ(log->Range(), (OffsetRange{4, 7}));
  ASSERT_EQ(log->memory_usage().segments, 4);

  ReadResult read = log->ReadBatchView(7, absl::MakeSpan(views));
  ASSERT_EQ(read.count, 1);  // views[1..3] no longer pin A or B
  WriteRecords(*log, 4);     // two rotations: they reuse A and B
  EXPECT_EQ(log->memory_usage().segments, 4);
  EXPECT_EQ(views[0].data(), Payload(7));
}

TEST(LogTest, ReadBatchIntoAnEmptyBatchIsOk) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 3);
  for (Offset start : {Offset{0}, Offset{2}, Offset{3}}) {
    ReadResult result = log->ReadBatch(start, {});
    EXPECT_EQ(result.count, 0);
    EXPECT_TRUE(result.ok()) << result.status;
    ReadResult views = log->ReadBatchView(start, {});
    EXPECT_EQ(views.count, 0);
    EXPECT_TRUE(views.ok()) << views.status;
  }
}

// ---------------------------------------------------------------------------
// Segments and purges. The Go example of the issue: segment size 10.

TEST(LogTest, TwentyWritesFillBothSegmentsAndTheTwentyFirstPurgesTheFirst) {
  std::unique_ptr<Log> log = MakeLog({.segment_size = 10});
  WriteRecords(*log, 20);
  EXPECT_EQ(log->Range(), (OffsetRange{0, 19}));
  EXPECT_TRUE(log->Read(0).ok());
  WriteRecords(*log, 1);
  EXPECT_EQ(log->Range(), (OffsetRange{10, 20}));
  EXPECT_TRUE(memlog::IsPurgedOffset(log->Read(9).status()));
  EXPECT_TRUE(log->Read(10).ok());
}

TEST(LogTest, RetentionSwingsBetweenSegmentSizePlusOneAndTwiceIt) {
  constexpr int64_t kSegment = 10;
  std::unique_ptr<Log> log = MakeLog({.segment_size = kSegment});
  WriteRecords(*log, 2 * kSegment);
  std::set<int64_t> retained_counts;
  for (int i = 0; i < 5 * kSegment; ++i) {
    WriteRecords(*log, 1);
    const OffsetRange range = log->Range();
    retained_counts.insert(range.latest - range.earliest + 1);
  }
  EXPECT_EQ(*retained_counts.begin(), kSegment + 1);
  EXPECT_EQ(*retained_counts.rbegin(), 2 * kSegment);
  EXPECT_EQ(retained_counts.size(), static_cast<size_t>(kSegment));
}

struct Geometry {
  int64_t segment_size;
  Offset start_offset;
};

// Every boundary of every segment size: Range() and reads after each write.
class LogSegmentTest : public testing::TestWithParam<Geometry> {
 protected:
  int64_t segment_size() const { return GetParam().segment_size; }
  Offset start() const { return GetParam().start_offset; }
  // Whether a check of every offset is affordable after this write.
  bool CheckAllAfter(int64_t writes) const {
    const int64_t position = writes % segment_size();
    return segment_size() <= 3 || position == 0 || position == 1 ||
           position == segment_size() - 1;
  }
};

// Checks that exactly [earliest, latest] is readable with the right bytes,
// that everything from the start offset to before `earliest` is out of range
// and that latest + 1 is a future offset.
void ExpectExactlyRetained(const Log& log, Offset start, Offset earliest,
                           Offset latest) {
  EXPECT_TRUE(memlog::IsImpossibleOffset(log.Read(start - 1).status()));
  for (Offset offset = start; offset < earliest; ++offset) {
    ASSERT_TRUE(memlog::IsPurgedOffset(log.Read(offset).status()))
        << "offset " << offset << ": " << log.Read(offset).status();
    ASSERT_TRUE(memlog::IsPurgedOffset(log.ReadView(offset).status()))
        << offset;
  }
  for (Offset offset = earliest; offset <= latest; ++offset) {
    absl::StatusOr<Record> record = log.Read(offset);
    ASSERT_TRUE(record.ok()) << "offset " << offset << ": " << record.status();
    ASSERT_EQ(record->metadata.offset, offset);
    ASSERT_EQ(record->data, Payload(offset));
    absl::StatusOr<RecordView> view = log.ReadView(offset);
    ASSERT_TRUE(view.ok()) << "offset " << offset << ": " << view.status();
    ASSERT_EQ(view->offset(), offset);
    ASSERT_EQ(view->data(), Payload(offset));
  }
  EXPECT_TRUE(IsFutureOffset(log.Read(latest + 1).status()));
  EXPECT_TRUE(IsFutureOffset(log.ReadView(latest + 1).status()));
}

TEST_P(LogSegmentTest, RangeAndReadsAreExactBeforeAndAfterEveryPurge) {
  std::unique_ptr<Log> log =
      MakeLog({.start_offset = start(), .segment_size = segment_size()});
  EXPECT_EQ(log->Range(), OffsetRange{});
  for (int64_t writes = 1; writes <= 4 * segment_size() + 1; ++writes) {
    SCOPED_TRACE(testing::Message() << "after " << writes << " writes");
    WriteRecords(*log, 1);
    const Offset latest = start() + writes - 1;
    const Offset earliest = ExpectedEarliest(start(), segment_size(), writes);
    ASSERT_EQ(log->Range(), (OffsetRange{earliest, latest}));
    const int64_t retained = latest - earliest + 1;
    if (writes > segment_size()) {
      EXPECT_GE(retained, segment_size() + 1);
    }
    EXPECT_LE(retained, 2 * segment_size());

    // The edges, after every write.
    if (earliest == start()) {
      EXPECT_TRUE(memlog::IsImpossibleOffset(log->Read(earliest - 1).status()));
    } else {
      EXPECT_TRUE(memlog::IsPurgedOffset(log->Read(earliest - 1).status()));
    }
    EXPECT_EQ(DataAt(*log, earliest), Payload(earliest));
    EXPECT_EQ(DataAt(*log, latest), Payload(latest));
    EXPECT_TRUE(IsFutureOffset(log->Read(latest + 1).status()));
    if (CheckAllAfter(writes)) {
      ExpectExactlyRetained(*log, start(), earliest, latest);
    }
    ASSERT_FALSE(HasFailure());
  }
}

TEST_P(LogSegmentTest, PurgeHappensOnTheWriteThatFindsTheActiveSegmentFull) {
  std::unique_ptr<Log> log =
      MakeLog({.start_offset = start(), .segment_size = segment_size()});
  WriteRecords(*log, 2 * segment_size());
  // Both segments are full, and nothing is purged until another write.
  EXPECT_EQ(log->Range(),
            (OffsetRange{start(), start() + 2 * segment_size() - 1}));
  EXPECT_TRUE(log->Read(start()).ok());
  WriteRecords(*log, 1);
  EXPECT_EQ(log->Range(), (OffsetRange{start() + segment_size(),
                                       start() + 2 * segment_size()}));
  EXPECT_TRUE(memlog::IsPurgedOffset(log->Read(start()).status()));
  EXPECT_TRUE(
      memlog::IsPurgedOffset(log->Read(start() + segment_size() - 1).status()));
  EXPECT_TRUE(log->Read(start() + segment_size()).ok());
}

// The result ReadBatch must give for a log holding [earliest, latest].
ReadResult ExpectedBatch(Offset log_start, Offset earliest, Offset latest,
                         Offset start, int64_t size) {
  if (size == 0) return {0, absl::OkStatus()};
  if (start < log_start) {
    return {0, MakeError(ErrorKind::kImpossibleOffset, "")};
  }
  if (start < earliest) return {0, MakeError(ErrorKind::kPurgedOffset, "")};
  if (start > latest) return {0, MakeError(ErrorKind::kFutureOffset, "")};
  const int64_t available = latest - start + 1;
  if (size <= available) return {size, absl::OkStatus()};
  return {available, MakeError(ErrorKind::kFutureOffset, "")};
}

TEST_P(LogSegmentTest, ReadBatchAcrossSegmentsAndAtTheEndFollowsGoSemantics) {
  const int64_t s = segment_size();
  std::unique_ptr<Log> log =
      MakeLog({.start_offset = start(), .segment_size = s});
  // Three full segments and half of a fourth: the history is full, the
  // active one is not.
  const int64_t writes = 3 * s + s / 2 + 1;
  WriteRecords(*log, writes);
  const OffsetRange range = log->Range();
  ASSERT_EQ(range.latest, start() + writes - 1);
  ASSERT_EQ(range.earliest, ExpectedEarliest(start(), s, writes));

  std::set<Offset> starts;
  std::set<size_t> sizes;
  if (s <= 3) {
    for (Offset o = start() - 1; o <= range.latest + 2; ++o) starts.insert(o);
    for (size_t n = 0; n <= static_cast<size_t>(3 * s + 2); ++n) {
      sizes.insert(n);
    }
  } else {
    const Offset boundary = range.earliest + s;  // first of the active one
    for (Offset o :
         {start() - 1, range.earliest - 1, range.earliest, range.earliest + 1,
          boundary - 1, boundary, boundary + 1, range.latest - 1, range.latest,
          range.latest + 1, range.latest + 2}) {
      starts.insert(o);
    }
    for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{2}, s - 1, s, s + 1,
                      2 * s - 1, 2 * s, 2 * s + 1}) {
      sizes.insert(static_cast<size_t>(n));
    }
  }

  for (Offset from : starts) {
    for (size_t size : sizes) {
      SCOPED_TRACE(testing::Message()
                   << "ReadBatch(" << from << ", " << size << ") of ["
                   << range.earliest << ", " << range.latest << "]");
      const ReadResult want =
          ExpectedBatch(start(), range.earliest, range.latest, from,
                        static_cast<int64_t>(size));
      std::vector<Record> batch(size);
      const ReadResult got = log->ReadBatch(from, absl::MakeSpan(batch));
      ASSERT_EQ(got.count, want.count) << got.status;
      ASSERT_EQ(GetErrorKind(got.status), GetErrorKind(want.status))
          << got.status;
      std::vector<RecordView> views(size);
      const ReadResult got_views =
          log->ReadBatchView(from, absl::MakeSpan(views));
      ASSERT_EQ(got_views.count, want.count) << got_views.status;
      ASSERT_EQ(GetErrorKind(got_views.status), GetErrorKind(want.status))
          << got_views.status;
      for (int64_t i = 0; i < want.count; ++i) {
        const Offset offset = from + i;
        ASSERT_EQ(batch[i].metadata.offset, offset);
        ASSERT_EQ(batch[i].data, Payload(offset));
        ASSERT_EQ(views[i].offset(), offset);
        ASSERT_EQ(views[i].data(), Payload(offset));
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(SegmentSizes, LogSegmentTest,
                         testing::Values(Geometry{1, 0}, Geometry{2, 0},
                                         Geometry{3, 0}, Geometry{1024, 0},
                                         Geometry{1, 42}, Geometry{2, 42},
                                         Geometry{3, 42}, Geometry{1024, 42}),
                         [](const testing::TestParamInfo<Geometry>& test) {
                           return "Segment" +
                                  std::to_string(test.param.segment_size) +
                                  "Start" +
                                  std::to_string(test.param.start_offset);
                         });

// ---------------------------------------------------------------------------
// Views outlive purges and the log.

TEST(LogTest, ViewStaysIntactAfterItsRecordIsPurged) {
  std::unique_ptr<Log> log = MakeLog({.segment_size = 1});
  WriteRecords(*log, 1);
  absl::StatusOr<RecordView> view = log->ReadView(0);
  ASSERT_TRUE(view.ok()) << view.status();
  const char* const bytes = view->data().data();

  // Many more rotations: the purged segment must neither be freed nor
  // reused while the view holds it.
  WriteRecords(*log, 100);
  ASSERT_TRUE(memlog::IsPurgedOffset(log->Read(0).status()));
  EXPECT_EQ(view->offset(), 0);
  EXPECT_EQ(view->data(), Payload(0));
  EXPECT_EQ(view->data().data(), bytes);
}

TEST(LogTest, BatchViewsStayIntactAfterTheirRecordsArePurged) {
  std::unique_ptr<Log> log = MakeLog({.segment_size = 3});
  WriteRecords(*log, 5);
  std::vector<RecordView> views(5);
  ASSERT_EQ(log->ReadBatchView(0, absl::MakeSpan(views)).count, 5);
  WriteRecords(*log, 30);
  ASSERT_TRUE(memlog::IsPurgedOffset(log->Read(4).status()));
  for (Offset offset = 0; offset < 5; ++offset) {
    EXPECT_EQ(views[offset].offset(), offset);
    EXPECT_EQ(views[offset].data(), Payload(offset));
  }
}

TEST(LogTest, AReusedViewBatchLetsGoOfTheViewsItHeld) {
  // The batch first holds views of two segments of one log, then is reused
  // for another log after the first is gone: each earlier view's reference
  // is dropped exactly once (ASan and LSan check the segments are freed, and
  // only once).
  std::unique_ptr<Log> first = MakeLog({.segment_size = 2});
  WriteRecords(*first, 4);  // segments {0, 1} and {2, 3}
  std::vector<RecordView> views(4);
  ASSERT_EQ(first->ReadBatchView(0, absl::MakeSpan(views)).count, 4);
  first.reset();
  EXPECT_EQ(views[1].data(), Payload(1));

  std::unique_ptr<Log> second = MakeLog({.segment_size = 2});
  WriteRecords(*second, 3);
  ReadResult read = second->ReadBatchView(1, absl::MakeSpan(views));
  EXPECT_EQ(read.count, 2);
  EXPECT_EQ(views[0].data(), Payload(1));
  EXPECT_EQ(views[1].data(), Payload(2));
  // Entries past the count are emptied: the first log's segments are let go
  // of here (ASan checks they are freed exactly once).
  EXPECT_EQ(views[2].offset(), kInvalidOffset);
  EXPECT_EQ(views[3].data(), "");

  // Overwritten again, the batch lets go of the second log's old segments:
  // once purged, they are free for the log to reuse, and later rotations
  // allocate no further segment.
  WriteRecords(*second, 9);  // offsets 0..11: history {8, 9}, active {10, 11}
  ASSERT_EQ(second->ReadBatchView(8, absl::MakeSpan(views)).count, 4);
  const int64_t segments = second->memory_usage().segments;
  WriteRecords(*second, 8);
  EXPECT_EQ(second->memory_usage().segments, segments);
}

TEST(LogTest, ViewsStayIntactAfterTheLogIsDestroyed) {
  std::unique_ptr<Log> log = MakeLog({.segment_size = 2});
  WriteRecords(*log, 3);  // the history holds 0..1, the active one 2
  absl::StatusOr<RecordView> old = log->ReadView(0);
  absl::StatusOr<RecordView> newest = log->ReadView(2);
  ASSERT_TRUE(old.ok() && newest.ok());
  RecordView copy = *old;
  log.reset();
  EXPECT_EQ(old->data(), Payload(0));
  EXPECT_EQ(newest->data(), Payload(2));
  EXPECT_EQ(newest->offset(), 2);
  // Copies share the storage; the last one to go frees it (ASan checks).
  old = RecordView();
  EXPECT_EQ(copy.data(), Payload(0));
}

TEST(LogTest, ViewOfAPurgedRecordStaysIntactAfterTheLogIsDestroyed) {
  std::unique_ptr<Log> log = MakeLog({.segment_size = 1});
  WriteRecords(*log, 1);
  RecordView view = log->ReadView(0).value();
  WriteRecords(*log, 5);
  log.reset();
  EXPECT_EQ(view.data(), Payload(0));
}

// ---------------------------------------------------------------------------
// Offset overflow.

TEST(LogTest, WriteAtMaxOffsetSucceedsAndTheNextOverflowsWithoutWrapping) {
  std::unique_ptr<Log> log = MakeLog({.start_offset = kMaxOffset});
  absl::StatusOr<Offset> last = log->Write("last");
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(*last, kMaxOffset);

  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<Offset> overflow = log->Write("one too many");
    EXPECT_TRUE(IsOffsetOverflow(overflow.status())) << overflow.status();
    EXPECT_EQ(overflow.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_THAT(Message(overflow.status()),
                HasSubstr(std::to_string(kMaxOffset)));
  }
  EXPECT_EQ(log->Range(), (OffsetRange{kMaxOffset, kMaxOffset}));
  EXPECT_EQ(DataAt(*log, kMaxOffset), "last");
  // Before the start offset, not purged.
  EXPECT_TRUE(memlog::IsImpossibleOffset(log->Read(kMaxOffset - 1).status()));

  std::vector<Record> batch(3);
  ReadResult result = log->ReadBatch(kMaxOffset, absl::MakeSpan(batch));
  EXPECT_EQ(result.count, 1);
  // The batch ran past kMaxOffset, where no record can ever be: not a future
  // offset, which a later write could make readable.
  EXPECT_TRUE(IsImpossibleOffset(result.status)) << result.status;
}

TEST(LogTest, OverflowAcrossASegmentBoundaryKeepsTheLogIntact) {
  std::unique_ptr<Log> log =
      MakeLog({.start_offset = kMaxOffset - 2, .segment_size = 1});
  WriteRecords(*log, 3);
  EXPECT_EQ(log->Range(), (OffsetRange{kMaxOffset - 1, kMaxOffset}));
  EXPECT_TRUE(IsOffsetOverflow(log->Write("x").status()));
  EXPECT_EQ(log->Range(), (OffsetRange{kMaxOffset - 1, kMaxOffset}));
  EXPECT_EQ(DataAt(*log, kMaxOffset - 1), Payload(kMaxOffset - 1));
  EXPECT_EQ(DataAt(*log, kMaxOffset), Payload(kMaxOffset));
}

// ---------------------------------------------------------------------------
// Close.

TEST(LogTest, WriteAfterCloseFailsAndWritesNothing) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 2);
  log->Close();
  EXPECT_TRUE(log->closed());
  absl::StatusOr<Offset> offset = log->Write("late");
  EXPECT_TRUE(IsClosed(offset.status())) << offset.status();
  EXPECT_EQ(offset.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(offset.status()), HasSubstr("closed"));
  EXPECT_EQ(log->Range(), (OffsetRange{0, 1}));
}

TEST(LogTest, ReadsKeepWorkingAfterClose) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 3);
  log->Close();
  EXPECT_EQ(DataAt(*log, 1), Payload(1));
  EXPECT_EQ(ViewDataAt(*log, 2), Payload(2));
  std::vector<Record> batch(3);
  EXPECT_EQ(log->ReadBatch(0, absl::MakeSpan(batch)).count, 3);
  EXPECT_TRUE(IsFutureOffset(log->Read(3).status()));
}

TEST(LogTest, CloseIsIdempotent) {
  std::unique_ptr<Log> log = MakeLog();
  log->Close();
  log->Close();
  EXPECT_TRUE(log->closed());
  EXPECT_TRUE(IsClosed(log->Write("x").status()));
}

TEST(LogTest, ValidationOfEmptyAndTooLargeRecordsStillAppliesAfterClose) {
  // Whatever is checked first, a closed log accepts nothing.
  std::unique_ptr<Log> log = MakeLog({.max_record_bytes = 4});
  log->Close();
  EXPECT_FALSE(log->Write("").ok());
  EXPECT_FALSE(log->Write("12345").ok());
  EXPECT_EQ(log->Range(), OffsetRange{});
}

// ---------------------------------------------------------------------------
// Memory accounting.

TEST(LogTest, MemoryUsageCountsTheRetainedRecords) {
  std::unique_ptr<Log> log = MakeLog({.segment_size = 4});
  MemoryUsage empty = log->memory_usage();
  EXPECT_EQ(empty.records, 0);
  EXPECT_EQ(empty.payload_bytes, 0);
  EXPECT_EQ(empty.allocated_bytes, 0);  // nothing until the first write

  WriteRecords(*log, 10);  // retains 4..9
  const OffsetRange range = log->Range();
  int64_t payload_bytes = 0;
  for (Offset o = range.earliest; o <= range.latest; ++o) {
    payload_bytes += static_cast<int64_t>(Payload(o).size());
  }
  const MemoryUsage usage = log->memory_usage();
  EXPECT_EQ(usage.records, range.latest - range.earliest + 1);
  EXPECT_EQ(usage.payload_bytes, payload_bytes);
  EXPECT_GE(usage.allocated_bytes, usage.payload_bytes);
  EXPECT_GE(usage.segments, 2);
}

}  // namespace
}  // namespace memlog
