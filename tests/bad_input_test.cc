// Copyright memlog authors.
//
// Bad input, table-driven: every invalid option and argument is rejected with
// a status of the documented kind whose message names what was wrong and
// what is valid, and none of them damages the log: after each one, a write
// and a read of it still work and the offsets stay dense.
//
// Covered for memlog::Log: options (start offset, segment size, record
// size limit, byte and age retention) at and beyond every bound, including
// INT64_MIN/INT64_MAX and infinite durations; the offset overflow at
// kMaxOffset, by single and batch writes; records of exactly the limit and
// one byte over; empty records, alone and in batches; empty batches; reads
// (Log and Reader), batch reads, waits and streams at -1, INT64_MIN,
// INT64_MAX, before the start and after the end; OffsetAt() at infinite
// times and just outside the records' times; Trim() of empty, closed and
// purged-out logs; streams started far in the future, then cancelled or
// closed.
//
// Covered for memlog::sharded::Log: shard counts 0, 1, 2 and absurdly large;
// the per-shard options; a null sharder (the default), one that returns an
// index out of range, one that fails, one whose Validate() refuses the log;
// empty keys and keys of exactly and over kMaxKeyBytes; reads of another
// key's offset; shard indices past the last; streams far in the future.

#include <atomic>
#include <cstdint>
#include <functional>
#include <latch>
#include <limits>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "memlog/log.h"
#include "memlog/reader.h"
#include "sharded/log.h"
#include "tests/fake_clock.h"
#include "tests/log_test_support.h"

namespace memlog {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

using Predicate = bool (*)(const absl::Status&);

// Options with one field or a few set, to keep the table rows short.
Options MakeOptions(Offset start_offset, int64_t segment_size,
                    int64_t max_record_bytes = kDefaultMaxRecordBytes) {
  Options options;
  options.start_offset = start_offset;
  options.segment_size = segment_size;
  options.max_record_bytes = max_record_bytes;
  return options;
}
Options StartOffset(Offset value) {
  return MakeOptions(value, kDefaultSegmentSize);
}
Options SegmentSize(int64_t value) { return MakeOptions(0, value); }
Options MaxRecordBytes(int64_t value) {
  return MakeOptions(0, kDefaultSegmentSize, value);
}
Options MaxSegmentBytes(int64_t value) {
  Options options;
  options.max_segment_bytes = value;
  return options;
}

using test::Message;

// ---------------------------------------------------------------------------
// Options.

struct BadOptionsCase {
  std::string name;
  Options options;
  std::string field;  // named in the message as "Options::<field>"
  int64_t value;      // the rejected value, named in the message
  int64_t low;        // the valid range, named as "[low, high]"
  int64_t high;
};

class BadOptionsTest : public testing::TestWithParam<BadOptionsCase> {};

TEST_P(BadOptionsTest, CreateFailsNamingTheFieldAndItsValidRange) {
  const BadOptionsCase& c = GetParam();
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Create(c.options);
  ASSERT_FALSE(log.ok()) << "accepted " << c.name;
  EXPECT_TRUE(IsInvalidOptions(log.status())) << log.status();
  EXPECT_EQ(log.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(log.status()),
              AllOf(HasSubstr(absl::StrCat("Options::", c.field)),
                    HasSubstr(absl::StrCat(c.value)),
                    HasSubstr(absl::StrCat("[", c.low, ", ", c.high, "]"))));
  // Only that field is wrong: fixing it gives a working log.
  Options fixed = c.options;
  if (c.field == "start_offset") fixed.start_offset = 0;
  if (c.field == "segment_size") fixed.segment_size = 4;
  if (c.field == "max_record_bytes") fixed.max_record_bytes = 16;
  if (c.field == "max_segment_bytes") fixed.max_segment_bytes = kMinSegmentBytes;
  absl::StatusOr<std::unique_ptr<Log>> good = Log::Create(fixed);
  ASSERT_TRUE(good.ok()) << good.status();
  absl::StatusOr<Offset> offset = (*good)->Write("x");
  ASSERT_TRUE(offset.ok()) << offset.status();
  EXPECT_EQ((*good)->Read(*offset)->data, "x");
}

INSTANTIATE_TEST_SUITE_P(
    Memlog, BadOptionsTest,
    testing::Values(
        BadOptionsCase{"StartOffsetMinusOne", StartOffset(-1), "start_offset",
                       -1, 0, kMaxOffset},
        BadOptionsCase{"StartOffsetInt64Min", StartOffset(kInt64Min),
                       "start_offset", kInt64Min, 0, kMaxOffset},
        BadOptionsCase{"StartOffsetInt64Max", StartOffset(kInt64Max),
                       "start_offset", kInt64Max, 0, kMaxOffset},
        BadOptionsCase{"SegmentSizeZero", SegmentSize(0), "segment_size", 0, 1,
                       kMaxSegmentSize},
        BadOptionsCase{"SegmentSizeNegative", SegmentSize(-1), "segment_size",
                       -1, 1, kMaxSegmentSize},
        BadOptionsCase{"SegmentSizeInt64Min", SegmentSize(kInt64Min),
                       "segment_size", kInt64Min, 1, kMaxSegmentSize},
        BadOptionsCase{"SegmentSizeOneOverMax",
                       SegmentSize(kMaxSegmentSize + 1), "segment_size",
                       kMaxSegmentSize + 1, 1, kMaxSegmentSize},
        BadOptionsCase{"SegmentSizeInt64Max", SegmentSize(kInt64Max),
                       "segment_size", kInt64Max, 1, kMaxSegmentSize},
        BadOptionsCase{"MaxRecordBytesZero", MaxRecordBytes(0),
                       "max_record_bytes", 0, 1, kMaxRecordBytesLimit},
        BadOptionsCase{"MaxRecordBytesNegative", MaxRecordBytes(-1),
                       "max_record_bytes", -1, 1, kMaxRecordBytesLimit},
        BadOptionsCase{"MaxRecordBytesInt64Min", MaxRecordBytes(kInt64Min),
                       "max_record_bytes", kInt64Min, 1, kMaxRecordBytesLimit},
        BadOptionsCase{"MaxRecordBytesOneOverLimit",
                       MaxRecordBytes(kMaxRecordBytesLimit + 1),
                       "max_record_bytes", kMaxRecordBytesLimit + 1, 1,
                       kMaxRecordBytesLimit},
        BadOptionsCase{"MaxRecordBytesInt64Max", MaxRecordBytes(kInt64Max),
                       "max_record_bytes", kInt64Max, 1, kMaxRecordBytesLimit},
        BadOptionsCase{"MaxSegmentBytesZero", MaxSegmentBytes(0),
                       "max_segment_bytes", 0, kMinSegmentBytes,
                       kMaxSegmentBytes},
        BadOptionsCase{"MaxSegmentBytesNegative", MaxSegmentBytes(-1),
                       "max_segment_bytes", -1, kMinSegmentBytes,
                       kMaxSegmentBytes},
        BadOptionsCase{"MaxSegmentBytesInt64Min", MaxSegmentBytes(kInt64Min),
                       "max_segment_bytes", kInt64Min, kMinSegmentBytes,
                       kMaxSegmentBytes},
        BadOptionsCase{"MaxSegmentBytesOneUnderMin",
                       MaxSegmentBytes(kMinSegmentBytes - 1),
                       "max_segment_bytes", kMinSegmentBytes - 1,
                       kMinSegmentBytes, kMaxSegmentBytes},
        BadOptionsCase{"MaxSegmentBytesOneOverMax",
                       MaxSegmentBytes(kMaxSegmentBytes + 1),
                       "max_segment_bytes", kMaxSegmentBytes + 1,
                       kMinSegmentBytes, kMaxSegmentBytes},
        BadOptionsCase{"MaxSegmentBytesInt64Max", MaxSegmentBytes(kInt64Max),
                       "max_segment_bytes", kInt64Max, kMinSegmentBytes,
                       kMaxSegmentBytes}),
    [](const testing::TestParamInfo<BadOptionsCase>& test) {
      return test.param.name;
    });

// Options::max_age, a duration: the message names it as absl formats it.
struct BadMaxAgeCase {
  std::string name;
  absl::Duration max_age;
};

class BadMaxAgeTest : public testing::TestWithParam<BadMaxAgeCase> {};

TEST_P(BadMaxAgeTest, CreateFailsNamingTheFieldAndItsValidRange) {
  const BadMaxAgeCase& c = GetParam();
  absl::StatusOr<std::unique_ptr<Log>> log =
      Log::Create({.max_age = c.max_age});
  ASSERT_FALSE(log.ok()) << "accepted " << c.name;
  EXPECT_TRUE(IsInvalidOptions(log.status())) << log.status();
  EXPECT_EQ(log.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(log.status()),
              AllOf(HasSubstr("Options::max_age"),
                    HasSubstr(absl::FormatDuration(c.max_age)),
                    HasSubstr(absl::StrCat("[", absl::FormatDuration(kMinMaxAge),
                                           ", ",
                                           absl::FormatDuration(kMaxMaxAge),
                                           "]"))));
  // Each bound itself is valid.
  for (absl::Duration bound : {kMinMaxAge, kMaxMaxAge}) {
    absl::StatusOr<std::unique_ptr<Log>> good =
        Log::Create({.max_age = bound});
    ASSERT_TRUE(good.ok()) << good.status();
    EXPECT_EQ((*good)->Write("x").value(), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Memlog, BadMaxAgeTest,
    testing::Values(
        BadMaxAgeCase{"Zero", absl::ZeroDuration()},
        BadMaxAgeCase{"Negative", -absl::Nanoseconds(1)},
        BadMaxAgeCase{"MinusInfinite", -absl::InfiniteDuration()},
        BadMaxAgeCase{"OneNanosecondUnderMin",
                      kMinMaxAge - absl::Nanoseconds(1)},
        BadMaxAgeCase{"OneNanosecondOverMax",
                      kMaxMaxAge + absl::Nanoseconds(1)},
        BadMaxAgeCase{"Infinite", absl::InfiniteDuration()}),
    [](const testing::TestParamInfo<BadMaxAgeCase>& test) {
      return test.param.name;
    });


TEST(BadOptionsTest, WaitSpinOutsideZeroToOneSecondIsRejectedByName) {
  for (const absl::Duration spin :
       {absl::Nanoseconds(-1), absl::Seconds(1) + absl::Nanoseconds(1),
        absl::InfiniteDuration(), -absl::InfiniteDuration()}) {
    SCOPED_TRACE(absl::FormatDuration(spin));
    absl::StatusOr<std::unique_ptr<Log>> log =
        Log::Create({.wait_spin = spin});
    ASSERT_FALSE(log.ok());
    EXPECT_TRUE(IsInvalidOptions(log.status())) << log.status();
    EXPECT_THAT(Message(log.status()),
                AllOf(HasSubstr("Options::wait_spin"),
                      HasSubstr("valid range is [0, 1s]")));
  }
  for (const absl::Duration spin : {absl::ZeroDuration(), absl::Seconds(1)}) {
    EXPECT_TRUE(Log::Create({.wait_spin = spin}).ok());
  }
}

// The largest valid sizes cost nothing up front: storage follows the records
// written, so creating and using such a log neither throws std::bad_alloc nor
// reserves memory for the whole segment.
TEST(BadInputTest, LargestSegmentSizeAllocatesLazily) {
  absl::StatusOr<std::unique_ptr<Log>> log =
      Log::Create(MakeOptions(0, kMaxSegmentSize, kMaxRecordBytesLimit));
  ASSERT_TRUE(log.ok()) << log.status();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE((*log)->Write("record").ok());
  EXPECT_EQ((*log)->Read(99)->data, "record");
  const MemoryUsage usage = (*log)->memory_usage();
  EXPECT_EQ(usage.records, 100);
  EXPECT_LT(usage.allocated_bytes, 64 << 10);
}

// ---------------------------------------------------------------------------
// Bad calls on a live log.
//
// Each case runs on a log with start offset 100, segment size 4 and a 16-byte
// record limit, holding offsets 104..109 after 10 writes (100..103 purged).

constexpr Offset kStart = 100;
constexpr int64_t kSegment = 4;
constexpr int64_t kLimit = 16;
constexpr Offset kEarliest = 104;
constexpr Offset kLatest = 109;

struct BadCallCase {
  std::string name;
  // Makes the call and returns its status.
  std::function<absl::Status(Log&)> call;
  Predicate predicate;
  absl::StatusCode code;
  std::vector<std::string> message_parts;  // each must appear in the message
};

// Nothing changed: the same records, and the next write gets the next
// offset (a failed write consumes none) and reads back.
void ExpectUnchangedAndUsable(Log& log) {
  EXPECT_EQ(log.Range(), (OffsetRange{kEarliest, kLatest}));
  EXPECT_EQ(log.NextOffset(), kLatest + 1);
  for (Offset o = kEarliest; o <= kLatest; ++o) {
    EXPECT_EQ(log.Read(o)->data, absl::StrCat("r", o));
  }
  absl::StatusOr<Offset> offset = log.Write("after");
  ASSERT_TRUE(offset.ok()) << offset.status();
  EXPECT_EQ(*offset, kLatest + 1);
  EXPECT_EQ(log.Read(kLatest + 1)->data, "after");
  std::vector<Record> batch(3);
  ReadResult read = log.ReadBatch(kLatest - 1, absl::MakeSpan(batch));
  EXPECT_TRUE(read.ok()) << read.status;
  EXPECT_EQ(read.count, 3);
  EXPECT_EQ(batch[2].data, "after");
}

// The log of the table above.
template <typename Case>
class LiveLogTest : public testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Log>> log =
        Log::Create(MakeOptions(kStart, kSegment, kLimit));
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    for (Offset o = kStart; o <= kLatest; ++o) {
      ASSERT_EQ(log_->Write(absl::StrCat("r", o)).value(), o);
    }
    ASSERT_EQ(log_->Range(), (OffsetRange{kEarliest, kLatest}));
  }

  std::unique_ptr<Log> log_;
};

class BadCallTest : public LiveLogTest<BadCallCase> {};

TEST_P(BadCallTest, FailsWithItsKindAndLeavesTheLogUsable) {
  const BadCallCase& c = GetParam();
  const absl::Status status = c.call(*log_);
  ASSERT_FALSE(status.ok()) << c.name << " succeeded";
  EXPECT_TRUE(c.predicate(status)) << status;
  EXPECT_EQ(status.code(), c.code) << status;
  for (const std::string& part : c.message_parts) {
    EXPECT_THAT(Message(status), HasSubstr(part));
  }
  ExpectUnchangedAndUsable(*log_);
}

absl::Status ReadStatus(const Log& log, Offset offset) {
  return log.Read(offset).status();
}
absl::Status ReadViewStatus(const Log& log, Offset offset) {
  return log.ReadView(offset).status();
}
// A batch read that must read nothing: returns its status, or an error if it
// read something.
absl::Status EmptyBatchStatus(const Log& log, Offset start) {
  std::vector<Record> batch(4);
  ReadResult result = log.ReadBatch(start, absl::MakeSpan(batch));
  if (result.count != 0) return absl::InternalError("batch read records");
  return result.status;
}
absl::Status EmptyBatchViewStatus(const Log& log, Offset start) {
  std::vector<RecordView> batch(4);
  ReadResult result = log.ReadBatchView(start, absl::MakeSpan(batch));
  if (result.count != 0) return absl::InternalError("batch read records");
  return result.status;
}
// A read through a fresh Reader, which pins nothing yet.
absl::Status ReaderStatus(const Log& log, Offset offset) {
  Reader reader(log);
  return reader.Read(offset).status();
}
// A read through a Reader that holds both retained segments pinned (bases
// 104 and 108), so that the read is first compared with each pinned
// segment's range: the path where INT64_MIN - base once overflowed.
absl::Status PinnedReaderStatus(const Log& log, Offset offset) {
  Reader reader(log);
  if (!reader.Read(kEarliest).ok() || !reader.Read(kLatest).ok()) {
    return absl::InternalError("reads of retained records failed");
  }
  absl::Status status = reader.Read(offset).status();
  // The failed read leaves the Reader usable.
  absl::StatusOr<BorrowedRecord> again = reader.Read(kLatest);
  if (!again.ok() || again->data() != absl::StrCat("r", kLatest)) {
    return absl::InternalError("the Reader broke after a failed read");
  }
  return status;
}
// One step of a stream that cannot return a record: never waits. A start
// that no stream can have fails StreamFrom() itself.
absl::Status StreamStatus(const Log& log, Offset start) {
  absl::StatusOr<Stream> stream = log.StreamFrom(start);
  if (!stream.ok()) return stream.status();
  return stream->NextUntil(absl::InfinitePast()).status();
}

// OffsetAt() of `t`, computed from the log (the records carry the real
// clock's times), as a status.
absl::Status OffsetAtStatus(const Log& log,
                            const std::function<absl::Time(const Log&)>& t) {
  return log.OffsetAt(t(log)).status();
}
absl::Time CreatedAt(const Log& log, Offset offset) {
  return log.Read(offset)->metadata.created;
}
// A batch write that must write nothing: its status, or an error if it
// wrote something.
absl::Status FailedBatchStatus(Log& log,
                               const std::vector<std::string_view>& records) {
  WriteBatchResult result = log.WriteBatch(records);
  if (result.count != 0 || result.first != kInvalidOffset) {
    return absl::InternalError("the failed batch wrote records");
  }
  return result.status;
}

// Read and batch-read cases for one offset: all six calls must fail the
// same way.
std::vector<BadCallCase> ReadCases(const std::string& name, Offset offset,
                                   Predicate predicate, absl::StatusCode code,
                                   std::vector<std::string> parts) {
  return {
      {"Read" + name, [=](Log& l) { return ReadStatus(l, offset); }, predicate,
       code, parts},
      {"ReadView" + name, [=](Log& l) { return ReadViewStatus(l, offset); },
       predicate, code, parts},
      {"ReadBatch" + name, [=](Log& l) { return EmptyBatchStatus(l, offset); },
       predicate, code, parts},
      {"ReadBatchView" + name,
       [=](Log& l) { return EmptyBatchViewStatus(l, offset); }, predicate, code,
       parts},
      {"ReaderRead" + name, [=](Log& l) { return ReaderStatus(l, offset); },
       predicate, code, parts},
      {"PinnedReaderRead" + name,
       [=](Log& l) { return PinnedReaderStatus(l, offset); }, predicate, code,
       parts},
  };
}

// What messages about impossible offsets name: the valid offsets.
const std::string kValidOffsets =
    absl::StrCat("[", kStart, ", ", kMaxOffset, "]");

std::vector<BadCallCase> AllBadCalls() {
  std::vector<BadCallCase> cases = {
      {"WriteEmpty",
       [](Log& l) { return l.Write("").status(); },
       IsEmptyRecord,
       absl::StatusCode::kInvalidArgument,
       {"empty"}},
      {"WriteOneOverTheLimit",
       [](Log& l) { return l.Write(std::string(kLimit + 1, 'x')).status(); },
       IsRecordTooLarge,
       absl::StatusCode::kInvalidArgument,
       {"17 bytes", "max_record_bytes", "16"}},
      {"WriteFarOverTheLimit",
       [](Log& l) { return l.Write(std::string(1 << 20, 'x')).status(); },
       IsRecordTooLarge,
       absl::StatusCode::kInvalidArgument,
       {"1048576 bytes", "max_record_bytes"}},
      {"StreamFromMinusOne",
       [](Log& l) { return StreamStatus(l, -1); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {"-1", kValidOffsets}},
      {"StreamFromInt64Min",
       [](Log& l) { return StreamStatus(l, kInt64Min); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {absl::StrCat(kInt64Min), kValidOffsets}},
      {"StreamBeforeTheStart",
       [](Log& l) { return StreamStatus(l, kStart - 1); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {"99", kValidOffsets}},
      {"StreamFromInt64Max",
       [](Log& l) { return StreamStatus(l, kInt64Max); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {absl::StrCat(kInt64Max), kValidOffsets}},
      {"StreamFromKMaxOffsetDoesNotWaitPastItsDeadline",
       [](Log& l) { return StreamStatus(l, kMaxOffset); },
       IsWaitTimedOut,
       absl::StatusCode::kDeadlineExceeded,
       {}},
      // Offsets that will never be written: WaitFor() fails at once, with
      // no deadline to end it otherwise.
      {"WaitForMinusOne",
       [](Log& l) { return l.WaitFor(-1); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {"-1", kValidOffsets}},
      {"WaitForInt64Min",
       [](Log& l) { return l.WaitFor(kInt64Min); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {kValidOffsets}},
      {"WaitForBeforeTheStart",
       [](Log& l) { return l.WaitFor(kStart - 1); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {"99", kValidOffsets}},
      {"WaitForInt64Max",
       [](Log& l) { return l.WaitFor(kInt64Max); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {absl::StrCat(kInt64Max), kValidOffsets}},
      {"WaitForKMaxOffsetDoesNotWaitPastItsDeadline",
       [](Log& l) { return l.WaitFor(kMaxOffset, absl::InfinitePast()); },
       IsWaitTimedOut,
       absl::StatusCode::kDeadlineExceeded,
       {}},
      {"WaitForCancelledBeforeItStarts",
       [](Log& l) {
         std::stop_source stop;
         stop.request_stop();
         return l.WaitFor(kMaxOffset, absl::InfiniteFuture(), stop.get_token());
       },
       IsWaitCancelled,
       absl::StatusCode::kCancelled,
       {}},
      // Times after every record: none is at or after them yet. The message
      // names where a stream of the records to come starts.
      {"OffsetAtInfiniteFuture",
       [](Log& l) {
         return OffsetAtStatus(l, [](const Log&) {
           return absl::InfiniteFuture();
         });
       },
       IsFutureOffset,
       absl::StatusCode::kOutOfRange,
       {"start at offset 110"}},
      {"OffsetAtJustAfterTheLatest",
       [](Log& l) {
         return OffsetAtStatus(l, [](const Log& log) {
           return CreatedAt(log, kLatest) + absl::Nanoseconds(1);
         });
       },
       IsFutureOffset,
       absl::StatusCode::kOutOfRange,
       {"start at offset 110"}},
      // Batches with one bad record write none of them, and say which.
      {"WriteBatchOfOneEmptyRecord",
       [](Log& l) { return FailedBatchStatus(l, {""}); },
       IsEmptyRecord,
       absl::StatusCode::kInvalidArgument,
       {"record 0 of the batch", "no record of the batch was written"}},
      {"WriteBatchWithAnEmptyRecordInTheMiddle",
       [](Log& l) { return FailedBatchStatus(l, {"a", "b", "", "c"}); },
       IsEmptyRecord,
       absl::StatusCode::kInvalidArgument,
       {"record 2 of the batch", "no record of the batch was written"}},
      {"WriteBatchOfOneTooLargeRecord",
       [](Log& l) {
         const std::string big(kLimit + 1, 'x');
         return FailedBatchStatus(l, {big});
       },
       IsRecordTooLarge,
       absl::StatusCode::kInvalidArgument,
       {"record 0 of the batch", "17 bytes", "max_record_bytes (16)",
        "no record of the batch was written"}},
      {"WriteBatchWithATooLargeRecordLast",
       [](Log& l) {
         const std::string big(kLimit + 1, 'x');
         return FailedBatchStatus(l, {"a", "b", "c", "d", "e", big});
       },
       IsRecordTooLarge,
       absl::StatusCode::kInvalidArgument,
       {"record 5 of the batch", "17 bytes"}},
      {"WriteBatchNamesTheFirstBadRecord",
       [](Log& l) {
         const std::string big(kLimit + 1, 'x');
         return FailedBatchStatus(l, {"a", big, ""});
       },
       IsRecordTooLarge,
       absl::StatusCode::kInvalidArgument,
       {"record 1 of the batch"}},
  };
  constexpr absl::StatusCode kImpossible = absl::StatusCode::kInvalidArgument;
  constexpr absl::StatusCode kPurged = absl::StatusCode::kNotFound;
  constexpr absl::StatusCode kFuture = absl::StatusCode::kOutOfRange;
  for (auto& more : {
           ReadCases("MinusOne", -1, IsImpossibleOffset, kImpossible,
                     {"-1", kValidOffsets}),
           ReadCases("Int64Min", kInt64Min, IsImpossibleOffset, kImpossible,
                     {absl::StrCat(kInt64Min), kValidOffsets}),
           ReadCases("BeforeTheStart", kStart - 1, IsImpossibleOffset,
                     kImpossible, {"99", kValidOffsets}),
           ReadCases("Zero", 0, IsImpossibleOffset, kImpossible,
                     {kValidOffsets}),
           ReadCases("Purged", kEarliest - 1, IsPurgedOffset, kPurged,
                     {"103", "purged", "earliest available is 104"}),
           ReadCases("FirstPurged", kStart, IsPurgedOffset, kPurged,
                     {"100", "purged", "earliest available is 104"}),
           ReadCases("OneAfterTheLatest", kLatest + 1, IsFutureOffset, kFuture,
                     {"110", "not written yet", "latest is 109"}),
           ReadCases("Int64Max", kInt64Max, IsImpossibleOffset, kImpossible,
                     {absl::StrCat(kInt64Max), kValidOffsets}),
           ReadCases("KMaxOffset", kMaxOffset, IsFutureOffset, kFuture,
                     {"latest is 109"}),
       }) {
    cases.insert(cases.end(), more.begin(), more.end());
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Memlog, BadCallTest, testing::ValuesIn(AllBadCalls()),
                         [](const testing::TestParamInfo<BadCallCase>& test) {
                           return test.param.name;
                         });

// Calls at the edges that are not errors, on the same log: each succeeds
// with the documented result (the call checks it, returning an error if
// not) and leaves the log as usable.
struct EdgeCallCase {
  std::string name;
  std::function<absl::Status(Log&)> call;
};

class EdgeCallTest : public LiveLogTest<EdgeCallCase> {};

TEST_P(EdgeCallTest, SucceedsAndLeavesTheLogUsable) {
  const EdgeCallCase& c = GetParam();
  const absl::Status status = c.call(*log_);
  EXPECT_TRUE(status.ok()) << c.name << ": " << status;
  ExpectUnchangedAndUsable(*log_);
}

// OffsetAt() of `t`: OK if it found `offset` with `may_have_missed`.
absl::Status ExpectOffsetAt(const Log& log, absl::Time t, Offset offset,
                            bool may_have_missed) {
  absl::StatusOr<OffsetAtTime> at = log.OffsetAt(t);
  if (!at.ok()) return at.status();
  if (at->offset != offset || at->may_have_missed != may_have_missed) {
    return absl::InternalError(absl::StrCat(
        "OffsetAt found ", at->offset, " (may_have_missed ",
        at->may_have_missed, "), expected ", offset, " (", may_have_missed,
        ")"));
  }
  return absl::OkStatus();
}

std::vector<EdgeCallCase> AllEdgeCalls() {
  return {
      // Times at or before the earliest retained record find it, and say
      // that purged records (100..103) may have been at or after the time.
      {"OffsetAtInfinitePast",
       [](Log& l) {
         return ExpectOffsetAt(l, absl::InfinitePast(), kEarliest, true);
       }},
      {"OffsetAtJustBeforeTheEarliest",
       [](Log& l) {
         return ExpectOffsetAt(
             l, CreatedAt(l, kEarliest) - absl::Nanoseconds(1), kEarliest,
             true);
       }},
      {"OffsetAtUnixEpoch",
       [](Log& l) {
         return ExpectOffsetAt(l, absl::UnixEpoch(), kEarliest, true);
       }},
      // The latest record's own time finds the first record of that time
      // (the coarse clock gives many records one time).
      {"OffsetAtTheLatestsTime",
       [](Log& l) {
         const absl::Time t = CreatedAt(l, kLatest);
         Offset first = kLatest;
         while (first > kEarliest && CreatedAt(l, first - 1) == t) --first;
         return ExpectOffsetAt(l, t, first, first == kEarliest);
       }},
      {"WriteBatchOfNoRecords",
       [](Log& l) {
         WriteBatchResult result = l.WriteBatch({});
         if (!result.ok()) return result.status;
         if (result.count != 0 || result.first != kInvalidOffset ||
             result.last() != kInvalidOffset) {
           return absl::InternalError("the empty batch wrote records");
         }
         return absl::OkStatus();
       }},
      // Without max_age, Trim() has nothing to do.
      {"TrimWithoutMaxAge", [](Log& l) { return l.Trim(); }},
  };
}

INSTANTIATE_TEST_SUITE_P(Memlog, EdgeCallTest,
                         testing::ValuesIn(AllEdgeCalls()),
                         [](const testing::TestParamInfo<EdgeCallCase>& test) {
                           return test.param.name;
                         });

// The regression test for a signed overflow that UBSan caught: a Reader
// holding the segment of a log that starts at 10 computed INT64_MIN - 10.
TEST(BadInputTest, ReaderReadOfInt64MinAfterAReadIsAnImpossibleOffset) {
  auto log = Log::Create(StartOffset(10)).value();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->Write("x").ok());
  Reader reader(*log);
  ASSERT_EQ(reader.Read(10).value().data(), "x");
  for (Offset offset :
       {kInt64Min, kInt64Min + 1, Offset{-1}, Offset{9}, kInt64Max}) {
    SCOPED_TRACE(offset);
    const absl::Status status = reader.Read(offset).status();
    EXPECT_TRUE(IsImpossibleOffset(status)) << status;
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(reader.Read(12).value().offset(), 12);
  EXPECT_TRUE(IsFutureOffset(reader.Read(13).status()));
}

// ---------------------------------------------------------------------------
// Limits that are not errors, and errors that are not argument errors.

TEST(BadInputTest, RecordOfExactlyTheLimitIsAccepted) {
  auto log = Log::Create(MaxRecordBytes(1)).value();
  EXPECT_EQ(log->Write("a").value(), 0);
  EXPECT_TRUE(IsRecordTooLarge(log->Write("ab").status()));
  EXPECT_EQ(log->Write("b").value(), 1);

  auto big = Log::Create(MaxRecordBytes(1 << 20)).value();
  const std::string exact(1 << 20, 'x');
  EXPECT_EQ(big->Write(exact).value(), 0);
  EXPECT_EQ(big->Read(0)->data, exact);
  EXPECT_TRUE(IsRecordTooLarge(big->Write(exact + "y").status()));
}

TEST(BadInputTest, EmptyBatchReadsNothingAndSucceedsAnywhere) {
  auto log = Log::Create().value();
  ASSERT_TRUE(log->Write("x").ok());
  for (Offset start : {kInt64Min, Offset{-1}, Offset{0}, kInt64Max}) {
    ReadResult result = log->ReadBatch(start, {});
    EXPECT_EQ(result.count, 0) << start;
    EXPECT_TRUE(result.ok()) << start << ": " << result.status;
  }
}

// Writing at kMaxOffset works once; the write after it fails with
// IsOffsetOverflow, never wrapping around, and the log stays readable.
TEST(BadInputTest, StartAtMaxOffsetWritesOnceThenOverflows) {
  auto log = Log::Create(StartOffset(kMaxOffset)).value();
  EXPECT_EQ(log->Write("last").value(), kMaxOffset);
  for (int attempt = 0; attempt < 3; ++attempt) {
    const absl::Status status = log->Write("more").status();
    EXPECT_TRUE(IsOffsetOverflow(status)) << status;
    EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_THAT(Message(status), HasSubstr(absl::StrCat(kMaxOffset)));
  }
  EXPECT_EQ(log->Range(), (OffsetRange{kMaxOffset, kMaxOffset}));
  EXPECT_EQ(log->Read(kMaxOffset)->data, "last");
  EXPECT_TRUE(IsImpossibleOffset(log->Read(kInt64Max).status()));

  std::vector<Record> batch(3);
  ReadResult read = log->ReadBatch(kMaxOffset, absl::MakeSpan(batch));
  EXPECT_EQ(read.count, 1);
  // No record can follow kMaxOffset: the batch ends at an offset no record
  // can ever have, not at one that may be written later.
  EXPECT_TRUE(IsImpossibleOffset(read.status)) << read.status;
  EXPECT_EQ(batch[0].data, "last");

  // A stream reads the last record, then learns at once that no record can
  // follow it (it used to block forever, or until the close).
  Stream stream = log->StreamFrom(kMaxOffset).value();
  EXPECT_EQ(stream.Next()->data(), "last");
  EXPECT_EQ(stream.position(), kInt64Max);
  EXPECT_TRUE(IsImpossibleOffset(stream.Next().status()));
  EXPECT_TRUE(
      IsImpossibleOffset(stream.NextUntil(absl::InfinitePast()).status()));
  std::vector<RecordView> views(2);
  ReadResult none = stream.NextBatch(absl::MakeSpan(views));
  EXPECT_EQ(none.count, 0);
  EXPECT_TRUE(IsImpossibleOffset(none.status)) << none.status;
  EXPECT_EQ(stream.position(), kInt64Max);
  log->Close();
  EXPECT_TRUE(IsImpossibleOffset(stream.Next().status()));
}

TEST(BadInputTest, OverflowAfterPurgesNearMaxOffset) {
  auto log = Log::Create(MakeOptions(kMaxOffset - 4, 2)).value();
  for (Offset o = kMaxOffset - 4; o <= kMaxOffset; ++o) {
    ASSERT_EQ(log->Write(absl::StrCat(o)).value(), o);
  }
  EXPECT_TRUE(IsOffsetOverflow(log->Write("x").status()));
  EXPECT_EQ(log->Range(), (OffsetRange{kMaxOffset - 2, kMaxOffset}));
  EXPECT_TRUE(memlog::IsPurgedOffset(log->Read(kMaxOffset - 3).status()));
  EXPECT_EQ(log->Read(kMaxOffset)->data, absl::StrCat(kMaxOffset));
  // A stream left behind near the end learns exactly what it missed.
  Stream stream = log->StreamFrom(kMaxOffset - 4).value();
  absl::StatusOr<RecordView> lagged = stream.Next();
  EXPECT_TRUE(IsLagged(lagged.status())) << lagged.status();
  EXPECT_EQ(LaggedCount(lagged.status()), 2);
  EXPECT_TRUE(IsLaggedCountExact(lagged.status()));
  EXPECT_EQ(stream.Next()->offset(), kMaxOffset - 2);
}

// A batch that does not fit below kMaxOffset writes none of its records; one
// that ends exactly at kMaxOffset is written whole.
TEST(BadInputTest, BatchPastMaxOffsetWritesNothingAndOneEndingAtItFits) {
  auto log = Log::Create(StartOffset(kMaxOffset - 3)).value();
  ASSERT_EQ(log->Write("first").value(), kMaxOffset - 3);
  const std::vector<std::string_view> four = {"a", "b", "c", "d"};
  WriteBatchResult overflow = log->WriteBatch(four);
  EXPECT_TRUE(IsOffsetOverflow(overflow.status)) << overflow.status;
  EXPECT_EQ(overflow.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(Message(overflow.status),
              AllOf(HasSubstr("a batch of 4 records"),
                    HasSubstr(absl::StrCat("from offset ", kMaxOffset - 2)),
                    HasSubstr("no record of the batch was written")));
  EXPECT_EQ(overflow.count, 0);
  EXPECT_EQ(overflow.first, kInvalidOffset);
  EXPECT_EQ(log->NextOffset(), kMaxOffset - 2);
  EXPECT_EQ(log->stats().write_failures_overflow, 1);

  WriteBatchResult fits = log->WriteBatch({"a", "b", "c"});
  ASSERT_TRUE(fits.ok()) << fits.status;
  EXPECT_EQ(fits.first, kMaxOffset - 2);
  EXPECT_EQ(fits.last(), kMaxOffset);
  EXPECT_EQ(log->Read(kMaxOffset)->data, "c");

  // Past kMaxOffset even a batch of one overflows; an empty one still
  // succeeds, writing nothing.
  WriteBatchResult one = log->WriteBatch({"e"});
  EXPECT_TRUE(IsOffsetOverflow(one.status)) << one.status;
  EXPECT_EQ(one.count, 0);
  EXPECT_TRUE(log->WriteBatch({}).ok());
  EXPECT_EQ(log->Range(), (OffsetRange{kMaxOffset - 3, kMaxOffset}));
  EXPECT_EQ(log->stats().records_written, 4);
}

// A batch with more records than offsets remain is refused whole, before
// anything is stored: no offset is consumed and no storage allocated.
TEST(BadInputTest, BatchOfMoreOffsetsThanRemainIsRefusedBeforeAnyWrite) {
  auto log = Log::Create(MakeOptions(kMaxOffset - 1, 2)).value();
  const std::vector<std::string_view> three(3, "x");
  WriteBatchResult result = log->WriteBatch(three);
  EXPECT_TRUE(IsOffsetOverflow(result.status)) << result.status;
  EXPECT_EQ(log->Range(), OffsetRange{});
  EXPECT_EQ(log->memory_usage().allocated_bytes, 0);
  EXPECT_EQ(log->WriteBatch({"y", "z"}).last(), kMaxOffset);
}

// Trim() is a no-op where there is nothing to purge, and never an error:
// on a log never written, on a closed log (whose reads go on, so its purges
// do too), and on a log whose every record max_age already purged.
TEST(BadInputTest, TrimOfAnEmptyLogDoesNothing) {
  test::FakeClock clock(absl::FromUnixSeconds(1'700'000'000));
  auto log = Log::Create({.clock = clock.AsFunction(),
                          .max_age = absl::Seconds(10)})
                 .value();
  clock.Advance(absl::Hours(1));
  EXPECT_TRUE(log->Trim().ok());
  EXPECT_EQ(log->Range(), OffsetRange{});
  EXPECT_EQ(log->NextOffset(), 0);
  EXPECT_EQ(log->Write("x").value(), 0);
  EXPECT_EQ(log->Range(), (OffsetRange{0, 0}));
}

TEST(BadInputTest, TrimOfAClosedLogStillPurgesAndReadsGoOn) {
  test::FakeClock clock(absl::FromUnixSeconds(1'700'000'000));
  auto log = Log::Create({.segment_size = 2,
                          .clock = clock.AsFunction(),
                          .max_age = absl::Seconds(10)})
                 .value();
  ASSERT_TRUE(log->WriteBatch({"a", "b", "c"}).ok());  // segments {0,1} {2}
  clock.Advance(absl::Seconds(5));
  ASSERT_TRUE(log->Write("d").ok());  // 3, five seconds younger
  log->Close();
  EXPECT_TRUE(log->Trim().ok());
  EXPECT_EQ(log->Range(), (OffsetRange{0, 3}));
  clock.Advance(absl::Seconds(6));  // 0..2 are 11 s old, 3 is 6 s old
  EXPECT_TRUE(log->Trim().ok());
  EXPECT_EQ(log->Range(), (OffsetRange{2, 3}));
  EXPECT_EQ(log->Read(3)->data, "d");
  EXPECT_TRUE(IsPurgedOffset(log->Read(1).status()));
  EXPECT_TRUE(IsClosed(log->Write("e").status()));
  EXPECT_TRUE(log->Trim().ok());  // again: nothing more is old
  EXPECT_EQ(log->Range(), (OffsetRange{2, 3}));
}

TEST(BadInputTest, TrimOfALogThatAgePurgedEntirelyDoesNothingMore) {
  test::FakeClock clock(absl::FromUnixSeconds(1'700'000'000));
  auto log = Log::Create({.start_offset = 50,
                          .segment_size = 4,
                          .clock = clock.AsFunction(),
                          .max_age = absl::Seconds(10)})
                 .value();
  ASSERT_TRUE(log->WriteBatch({"a", "b", "c", "d", "e"}).ok());  // 50..54
  clock.Advance(absl::Minutes(1));
  ASSERT_TRUE(log->Trim().ok());
  ASSERT_EQ(log->Range(), OffsetRange{});
  const LogStats purged = log->stats();
  EXPECT_EQ(purged.records_purged_by_age, 5);
  for (int i = 0; i < 3; ++i) {
    clock.Advance(absl::Minutes(1));
    EXPECT_TRUE(log->Trim().ok());
  }
  EXPECT_EQ(log->Range(), OffsetRange{});
  EXPECT_EQ(log->stats().records_purged_by_age, 5);
  EXPECT_EQ(log->stats().segments_rotated, purged.segments_rotated);
  EXPECT_TRUE(IsFutureOffset(log->OffsetAt(absl::InfinitePast()).status()));
  EXPECT_TRUE(IsPurgedOffset(log->Read(54).status()));
  // Writing goes on where it stopped.
  EXPECT_EQ(log->NextOffset(), 55);
  EXPECT_EQ(log->Write("f").value(), 55);
  EXPECT_EQ(log->Range(), (OffsetRange{55, 55}));
  absl::StatusOr<OffsetAtTime> at = log->OffsetAt(absl::InfinitePast());
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(at->offset, 55);
  EXPECT_TRUE(at->may_have_missed);
}

TEST(BadInputTest, WriteAfterCloseFailsAndReadsKeepWorking) {
  auto log = Log::Create().value();
  ASSERT_TRUE(log->Write("before").ok());
  log->Close();
  log->Close();  // idempotent
  const absl::Status status = log->Write("after").status();
  EXPECT_TRUE(IsClosed(status)) << status;
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(log->Read(0)->data, "before");
  EXPECT_EQ(log->Range(), (OffsetRange{0, 0}));
}

// Streams started far in the future block without spinning, and end cleanly
// when cancelled or when the log closes.
TEST(BadInputTest, StreamsFarInTheFutureEndWhenClosed) {
  auto log = Log::Create().value();
  ASSERT_TRUE(log->Write("x").ok());
  constexpr int kStreams = 3;
  const Offset starts[kStreams] = {kMaxOffset, kMaxOffset - 1, 1 << 30};
  std::latch started(kStreams);
  std::vector<absl::Status> ended(kStreams);
  std::vector<std::thread> threads;
  for (int i = 0; i < kStreams; ++i) {
    threads.emplace_back([&, i] {
      Stream stream = log->StreamFrom(starts[i]).value();
      started.count_down();
      ended[static_cast<size_t>(i)] = stream.Next().status();
    });
  }
  started.wait();
  log->Close();
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < kStreams; ++i) {
    EXPECT_TRUE(IsClosed(ended[static_cast<size_t>(i)]))
        << starts[i] << ": " << ended[static_cast<size_t>(i)];
  }
}

TEST(BadInputTest, StreamsFarInTheFutureEndWhenCancelled) {
  auto log = Log::Create().value();
  std::stop_source stop;
  std::latch started(1);
  absl::Status ended;
  std::thread reader([&] {
    Stream stream = log->StreamFrom(kMaxOffset, stop.get_token()).value();
    started.count_down();
    ended = stream.Next().status();
  });
  started.wait();
  stop.request_stop();
  reader.join();
  EXPECT_TRUE(memlog::IsWaitCancelled(ended)) << ended;
  // The log is unaffected.
  EXPECT_EQ(log->Write("x").value(), 0);
  EXPECT_EQ(log->Read(0)->data, "x");
}

// ---------------------------------------------------------------------------
// memlog::sharded::Log.

namespace sh = ::memlog::sharded;

// Routes every key to `index` (possibly out of range), or fails with
// `error`; refuses logs in Validate() with `refusal` if set.
class ScriptedSharder final : public sh::Sharder {
 public:
  ScriptedSharder(size_t index, absl::Status error = absl::OkStatus(),
                  absl::Status refusal = absl::OkStatus())
      : index_(index), error_(std::move(error)), refusal_(std::move(refusal)) {}

  absl::StatusOr<size_t> ShardFor(std::string_view, size_t) const override {
    if (!error_.ok()) return error_;
    return index_;
  }
  absl::Status Validate(size_t) const override { return refusal_; }

 private:
  size_t index_;
  absl::Status error_;
  absl::Status refusal_;
};

sh::Options ShardedOptions(size_t num_shards) {
  sh::Options options;
  options.num_shards = num_shards;
  options.shard.segment_size = kSegment;
  options.shard.max_record_bytes = kLimit;
  return options;
}

struct BadShardedOptionsCase {
  std::string name;
  std::function<void(sh::Options&)> mutate;
  Predicate predicate;
  std::vector<std::string> message_parts;
};

class BadShardedOptionsTest
    : public testing::TestWithParam<BadShardedOptionsCase> {};

TEST_P(BadShardedOptionsTest, CreateFailsNamingWhatIsWrong) {
  const BadShardedOptionsCase& c = GetParam();
  sh::Options options = ShardedOptions(4);
  c.mutate(options);
  absl::StatusOr<std::unique_ptr<sh::Log>> log = sh::Log::Create(options);
  ASSERT_FALSE(log.ok()) << "accepted " << c.name;
  EXPECT_TRUE(c.predicate(log.status())) << log.status();
  EXPECT_EQ(log.status().code(), absl::StatusCode::kInvalidArgument);
  for (const std::string& part : c.message_parts) {
    EXPECT_THAT(Message(log.status()), HasSubstr(part));
  }
}

const std::string kShardRange = absl::StrCat("[2, ", sh::kMaxNumShards, "]");

INSTANTIATE_TEST_SUITE_P(
    Sharded, BadShardedOptionsTest,
    testing::Values(
        BadShardedOptionsCase{"ZeroShards",
                              [](sh::Options& o) { o.num_shards = 0; },
                              IsInvalidOptions,
                              {"Options::num_shards is 0", kShardRange}},
        BadShardedOptionsCase{"OneShard",
                              [](sh::Options& o) { o.num_shards = 1; },
                              IsInvalidOptions,
                              {"Options::num_shards is 1", kShardRange}},
        BadShardedOptionsCase{
            "OneShardOverMax",
            [](sh::Options& o) { o.num_shards = sh::kMaxNumShards + 1; },
            IsInvalidOptions,
            {absl::StrCat(sh::kMaxNumShards + 1), kShardRange}},
        BadShardedOptionsCase{
            "SizeMaxShards",
            [](sh::Options& o) {
              o.num_shards = std::numeric_limits<size_t>::max();
            },
            IsInvalidOptions,
            {absl::StrCat(std::numeric_limits<size_t>::max()), kShardRange}},
        BadShardedOptionsCase{"ZeroSegmentSize",
                              [](sh::Options& o) { o.shard.segment_size = 0; },
                              IsInvalidOptions,
                              {"Options::segment_size is 0"}},
        BadShardedOptionsCase{"NegativeStartOffset",
                              [](sh::Options& o) { o.shard.start_offset = -1; },
                              IsInvalidOptions,
                              {"Options::start_offset is -1"}},
        BadShardedOptionsCase{
            "ZeroMaxRecordBytes",
            [](sh::Options& o) { o.shard.max_record_bytes = 0; },
            IsInvalidOptions,
            {"Options::max_record_bytes is 0"}},
        BadShardedOptionsCase{
            "MaxRecordBytesInt64Max",
            [](sh::Options& o) { o.shard.max_record_bytes = kInt64Max; },
            IsInvalidOptions,
            {"Options::max_record_bytes"}},
        BadShardedOptionsCase{"SharderRefusesTheLog",
                              [](sh::Options& o) {
                                o.sharder = std::make_shared<ScriptedSharder>(
                                    0, absl::OkStatus(),
                                    MakeError(ErrorKind::kInvalidOptions,
                                              "this sharder needs 8 shards"));
                              },
                              IsInvalidOptions,
                              {"needs 8 shards"}},
        BadShardedOptionsCase{
            "KeySharderWithMoreKeysThanShards",
            [](sh::Options& o) {
              o.num_shards = 2;
              o.sharder = sh::KeySharder::FromKeys({"a", "b", "c"}).value();
            },
            IsInvalidOptions,
            {}}),
    [](const testing::TestParamInfo<BadShardedOptionsCase>& test) {
      return test.param.name;
    });

// The smallest and the largest shard counts both work; the largest
// allocates one pointer per shard and nothing else up front.
TEST(BadInputTest, ShardCountsAtTheBoundsWork) {
  for (size_t num_shards : {sh::kMinNumShards, sh::kMaxNumShards}) {
    auto log = sh::Log::Create(ShardedOptions(num_shards)).value();
    EXPECT_EQ(log->num_shards(), num_shards);
    EXPECT_EQ(log->memory_usage().allocated_bytes, 0);
    const Offset offset = log->Write("key", "value").value();
    EXPECT_EQ(log->Read("key", offset)->data, "value");
    EXPECT_LT(log->memory_usage().allocated_bytes, 64 << 10);
  }
}

TEST(BadInputTest, NullSharderMeansTheHashSharder) {
  sh::Options options = ShardedOptions(8);
  options.sharder = nullptr;
  auto log = sh::Log::Create(options).value();
  for (const std::string key : {"a", "b", "c", "d"}) {
    EXPECT_EQ(log->ShardFor(key).value(),
              sh::HashSharder().ShardFor(key, 8).value());
  }
  EXPECT_EQ(log->Read("a", log->Write("a", "x").value())->data, "x");
}

// Bad calls on a live sharded log. Keys "k1" and "k2" share shard 1 (a
// sharder that sends every key there), with 10 records written alternately
// at offsets 100..109 (so "k1" holds the even offsets) and 100..103 purged.
// Each call gets its own log when it needs a special sharder.
struct BadShardedCallCase {
  std::string name;
  std::function<absl::Status(sh::Log&)> call;
  Predicate predicate;
  absl::StatusCode code;
  std::vector<std::string> message_parts;
  // The shard index the log's sharder returns, and the error it returns.
  size_t sharder_index = 1;
  absl::Status sharder_error = absl::OkStatus();
};

class BadShardedCallTest : public testing::TestWithParam<BadShardedCallCase> {};

TEST_P(BadShardedCallTest, FailsWithItsKindAndLeavesTheLogUsable) {
  const BadShardedCallCase& c = GetParam();
  sh::Options options = ShardedOptions(3);
  options.shard.start_offset = kStart;
  // A working sharder to fill the log, then the scripted one for the call.
  auto scripted =
      std::make_shared<ScriptedSharder>(c.sharder_index, c.sharder_error);
  options.sharder = std::make_shared<ScriptedSharder>(1);
  auto log = sh::Log::Create(options).value();
  for (Offset o = kStart; o <= kLatest; ++o) {
    ASSERT_EQ(
        log->Write(o % 2 == 0 ? "k1" : "k2", absl::StrCat("r", o)).value(), o);
  }
  sh::Log* target = log.get();
  std::unique_ptr<sh::Log> misrouted;
  if (c.sharder_index != 1 || !c.sharder_error.ok()) {
    options.sharder = scripted;
    misrouted = sh::Log::Create(options).value();
    target = misrouted.get();
  }

  const absl::Status status = c.call(*target);
  ASSERT_FALSE(status.ok()) << c.name << " succeeded";
  EXPECT_TRUE(c.predicate(status)) << status;
  EXPECT_EQ(status.code(), c.code) << status;
  for (const std::string& part : c.message_parts) {
    EXPECT_THAT(Message(status), HasSubstr(part));
  }

  // The filled log is unchanged and usable.
  EXPECT_EQ(log->ShardRange(1).value(), (OffsetRange{kEarliest, kLatest}));
  EXPECT_EQ(log->Range("k1").value(), (OffsetRange{kEarliest, kLatest - 1}));
  EXPECT_EQ(log->Read("k2", kLatest)->data, absl::StrCat("r", kLatest));
  EXPECT_EQ(log->Write("k1", "after").value(), kLatest + 1);
  std::vector<sh::Record> batch(4);
  ReadResult read = log->ReadBatch("k1", kEarliest, absl::MakeSpan(batch));
  EXPECT_TRUE(read.ok()) << read.status;
  ASSERT_EQ(read.count, 4);
  EXPECT_EQ(batch[0].metadata.offset, kEarliest);
  EXPECT_EQ(batch[3].data, "after");
}

absl::Status ShardedStreamStatus(const sh::Log& log, std::string_view key,
                                 Offset start) {
  absl::StatusOr<sh::Stream> stream = log.StreamFrom(key, start);
  if (!stream.ok()) return stream.status();
  return stream->NextUntil(absl::InfinitePast()).status();
}

absl::Status ShardedBatchStatus(const sh::Log& log, std::string_view key,
                                Offset start) {
  std::vector<sh::RecordView> batch(3);
  ReadResult result = log.ReadBatchView(key, start, absl::MakeSpan(batch));
  if (result.count != 0) return absl::InternalError("batch read records");
  return result.status;
}

std::vector<BadShardedCallCase> AllBadShardedCalls() {
  const std::string long_key(sh::kMaxKeyBytes + 1, 'k');
  std::vector<BadShardedCallCase> cases = {
      {"WriteEmptyKey",
       [](sh::Log& l) { return l.Write("", "x").status(); },
       IsInvalidKey,
       absl::StatusCode::kInvalidArgument,
       {"key is empty"}},
      {"WriteKeyOverMax",
       [long_key](sh::Log& l) { return l.Write(long_key, "x").status(); },
       IsInvalidKey,
       absl::StatusCode::kInvalidArgument,
       {absl::StrCat(sh::kMaxKeyBytes + 1), "kMaxKeyBytes"}},
      {"WriteEmptyData",
       [](sh::Log& l) { return l.Write("k1", "").status(); },
       IsEmptyRecord,
       absl::StatusCode::kInvalidArgument,
       {"empty"}},
      {"WriteOneOverTheLimit",
       [](sh::Log& l) {
         return l.Write("k1", std::string(kLimit + 1, 'x')).status();
       },
       IsRecordTooLarge,
       absl::StatusCode::kInvalidArgument,
       {"17 bytes", "max_record_bytes", "16"}},
      {"ReadEmptyKey",
       [](sh::Log& l) { return l.Read("", kLatest).status(); },
       IsInvalidKey,
       absl::StatusCode::kInvalidArgument,
       {}},
      {"RangeEmptyKey",
       [](sh::Log& l) { return l.Range("").status(); },
       IsInvalidKey,
       absl::StatusCode::kInvalidArgument,
       {}},
      {"StreamEmptyKey",
       [](sh::Log& l) { return ShardedStreamStatus(l, "", 0); },
       IsInvalidKey,
       absl::StatusCode::kInvalidArgument,
       {}},
      {"ReadAnotherKeysOffset",
       [](sh::Log& l) { return l.Read("k1", kLatest).status(); },
       IsKeyNotFound,
       absl::StatusCode::kNotFound,
       {"109", "k1"}},
      {"ReadMinusOne",
       [](sh::Log& l) { return l.Read("k1", -1).status(); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {"-1"}},
      {"ReadInt64Min",
       [](sh::Log& l) { return l.Read("k1", kInt64Min).status(); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {}},
      {"ReadBeforeTheStart",
       [](sh::Log& l) { return l.Read("k1", kStart - 1).status(); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {"99"}},
      {"ReadPurged",
       [](sh::Log& l) { return l.Read("k1", kEarliest - 2).status(); },
       IsPurgedOffset,
       absl::StatusCode::kNotFound,
       {"purged"}},
      {"ReadInt64Max",
       [](sh::Log& l) { return l.Read("k1", kInt64Max).status(); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {}},
      {"ReadKMaxOffset",
       [](sh::Log& l) { return l.Read("k1", kMaxOffset).status(); },
       IsFutureOffset,
       absl::StatusCode::kOutOfRange,
       {}},
      {"ReadUnusedShard",
       [](sh::Log& l) { return l.ReadShard(0, kStart).status(); },
       IsFutureOffset,
       absl::StatusCode::kOutOfRange,
       {}},
      {"ReadUnusedShardBeforeTheStart",
       [](sh::Log& l) { return l.ReadShard(0, kStart - 1).status(); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {}},
      {"BatchMinusOne",
       [](sh::Log& l) { return ShardedBatchStatus(l, "k1", -1); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {}},
      {"BatchInt64Min",
       [](sh::Log& l) { return ShardedBatchStatus(l, "k1", kInt64Min); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {}},
      {"BatchPurged",
       [](sh::Log& l) { return ShardedBatchStatus(l, "k1", kEarliest - 1); },
       IsPurgedOffset,
       absl::StatusCode::kNotFound,
       {"purged"}},
      {"BatchInt64Max",
       [](sh::Log& l) { return ShardedBatchStatus(l, "k1", kInt64Max); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {}},
      {"BatchKMaxOffset",
       [](sh::Log& l) { return ShardedBatchStatus(l, "k1", kMaxOffset); },
       IsFutureOffset,
       absl::StatusCode::kOutOfRange,
       {}},
      {"ReadShardPastTheLast",
       [](sh::Log& l) { return l.ReadShard(3, kLatest).status(); },
       IsInvalidShard,
       absl::StatusCode::kInvalidArgument,
       {"shard 3", "0..2"}},
      {"ReadShardSizeMax",
       [](sh::Log& l) {
         return l.ReadShard(std::numeric_limits<size_t>::max(), 0).status();
       },
       IsInvalidShard,
       absl::StatusCode::kInvalidArgument,
       {absl::StrCat(std::numeric_limits<size_t>::max())}},
      {"ShardStreamPastTheLast",
       [](sh::Log& l) { return l.ShardStreamFrom(3, 0).status(); },
       IsInvalidShard,
       absl::StatusCode::kInvalidArgument,
       {"shard 3"}},
      {"ShardRangePastTheLast",
       [](sh::Log& l) { return l.ShardRange(3).status(); },
       IsInvalidShard,
       absl::StatusCode::kInvalidArgument,
       {"shard 3", "0..2"}},
      {"ShardRangeSizeMax",
       [](sh::Log& l) {
         return l.ShardRange(std::numeric_limits<size_t>::max()).status();
       },
       IsInvalidShard,
       absl::StatusCode::kInvalidArgument,
       {absl::StrCat(std::numeric_limits<size_t>::max())}},
      {"StreamBeforeTheStart",
       [](sh::Log& l) { return ShardedStreamStatus(l, "k1", kStart - 1); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {"99"}},
      {"StreamFromMinusOne",
       [](sh::Log& l) { return ShardedStreamStatus(l, "k1", -1); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {"-1"}},
      {"StreamFromInt64Max",
       [](sh::Log& l) { return ShardedStreamStatus(l, "k1", kInt64Max); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {}},
      {"StreamFromKMaxOffsetDoesNotWaitPastItsDeadline",
       [](sh::Log& l) { return ShardedStreamStatus(l, "k1", kMaxOffset); },
       IsWaitTimedOut,
       absl::StatusCode::kDeadlineExceeded,
       {}},
      {"ShardStreamBeforeTheStart",
       [](sh::Log& l) { return l.ShardStreamFrom(1, kStart - 1).status(); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {"99"}},
      {"ShardStreamOfAnUnusedShardBeforeTheStart",
       [](sh::Log& l) { return l.ShardStreamFrom(0, kStart - 1).status(); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {"99"}},
      {"ShardStreamFromInt64Max",
       [](sh::Log& l) { return l.ShardStreamFrom(1, kInt64Max).status(); },
       IsImpossibleOffset,
       absl::StatusCode::kInvalidArgument,
       {}},
      // Misbehaving sharders, on a second log routed by them.
      {"SharderIndexPastTheLast",
       [](sh::Log& l) { return l.Write("k1", "x").status(); },
       IsBadSharder,
       absl::StatusCode::kInternal,
       {"shard 3", "0..2"},
       3},
      {"SharderIndexSizeMax",
       [](sh::Log& l) { return l.Read("k1", kStart).status(); },
       IsBadSharder,
       absl::StatusCode::kInternal,
       {absl::StrCat(std::numeric_limits<size_t>::max())},
       std::numeric_limits<size_t>::max()},
      {"SharderIndexPastTheLastOnStream",
       [](sh::Log& l) { return ShardedStreamStatus(l, "k1", kStart); },
       IsBadSharder,
       absl::StatusCode::kInternal,
       {},
       7},
      {"SharderIndexPastTheLastOnShardFor",
       [](sh::Log& l) { return l.ShardFor("k1").status(); },
       IsBadSharder,
       absl::StatusCode::kInternal,
       {},
       3},
      {"SharderNotFound",
       [](sh::Log& l) { return l.Write("k1", "x").status(); },
       IsKeyNotFound,
       absl::StatusCode::kNotFound,
       {"no route"},
       0,
       MakeError(ErrorKind::kKeyNotFound, "no route for this key")},
      {"SharderOwnError",
       [](sh::Log& l) { return ShardedBatchStatus(l, "k1", kStart); },
       [](const absl::Status& s) { return !GetErrorKind(s).has_value(); },
       absl::StatusCode::kUnavailable,
       {"sharder backend down"},
       0,
       absl::UnavailableError("sharder backend down")},
  };
  return cases;
}

INSTANTIATE_TEST_SUITE_P(
    Sharded, BadShardedCallTest, testing::ValuesIn(AllBadShardedCalls()),
    [](const testing::TestParamInfo<BadShardedCallCase>& test) {
      return test.param.name;
    });

TEST(BadInputTest, ShardedKeyOfExactlyMaxKeyBytesIsAccepted) {
  auto log = sh::Log::Create(ShardedOptions(2)).value();
  const std::string key(sh::kMaxKeyBytes, 'k');
  const Offset offset = log->Write(key, std::string(kLimit, 'x')).value();
  absl::StatusOr<sh::Record> record = log->Read(key, offset);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->key, key);
  EXPECT_EQ(record->data, std::string(kLimit, 'x'));
}

// As for memlog::Stream: once a shard's record at kMaxOffset was returned,
// no record can follow, and the streams say so at once instead of waiting.
TEST(BadInputTest, ShardedStreamsPastTheLastOffsetAreImpossible) {
  sh::Options options = ShardedOptions(2);
  options.shard.start_offset = kMaxOffset;
  options.sharder = std::make_shared<ScriptedSharder>(1);
  auto log = sh::Log::Create(options).value();
  ASSERT_EQ(log->Write("k", "last").value(), kMaxOffset);
  EXPECT_TRUE(IsOffsetOverflow(log->Write("k", "more").status()));

  sh::Stream stream = log->StreamFrom("k", kMaxOffset).value();
  EXPECT_EQ(stream.Next().value().data(), "last");
  EXPECT_TRUE(IsImpossibleOffset(stream.Next().status()));
  sh::ShardStream shard_stream = log->ShardStreamFrom(1, kMaxOffset).value();
  EXPECT_EQ(shard_stream.Next().value().data(), "last");
  EXPECT_TRUE(IsImpossibleOffset(shard_stream.Next().status()));

  std::vector<sh::Record> batch(2);
  ReadResult read = log->ReadBatch("k", kMaxOffset, absl::MakeSpan(batch));
  EXPECT_EQ(read.count, 1);
  EXPECT_TRUE(IsImpossibleOffset(read.status)) << read.status;
}

TEST(BadInputTest, ShardedStreamsFarInTheFutureEndWhenClosed) {
  auto log = sh::Log::Create(ShardedOptions(4)).value();
  std::latch started(2);
  absl::Status key_end, shard_end;
  std::thread key_reader([&] {
    sh::Stream stream = log->StreamFrom("k", kMaxOffset).value();
    started.count_down();
    key_end = stream.Next().status();
  });
  std::thread shard_reader([&] {
    sh::ShardStream stream = log->ShardStreamFrom(3, kMaxOffset).value();
    started.count_down();
    shard_end = stream.Next().status();
  });
  started.wait();
  log->Close();
  key_reader.join();
  shard_reader.join();
  EXPECT_TRUE(IsClosed(key_end)) << key_end;
  EXPECT_TRUE(IsClosed(shard_end)) << shard_end;
  EXPECT_TRUE(IsClosed(log->Write("k", "x").status()));
}

}  // namespace
}  // namespace memlog
