// Copyright memlog authors.
//
// The specification of Log::WriteBatch(): all records validated before any
// is written, consecutive offsets, one clock reading, and rotations within a
// batch exactly as for the same records written one by one.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "memlog/log.h"
#include "tests/fake_clock.h"

namespace memlog {
namespace {

using test::FakeClock;

TEST(LogBatchTest, ABatchGetsConsecutiveOffsetsAndOneTimestamp) {
  FakeClock clock(absl::FromUnixSeconds(1'700'000'000));
  std::unique_ptr<Log> log =
      Log::Create({.start_offset = 10, .clock = clock.AsFunction()}).value();
  ASSERT_TRUE(log->Write("before").ok());
  const std::vector<std::string_view> records = {"a", "b", "c"};
  const WriteBatchResult written = log->WriteBatch(records);
  ASSERT_TRUE(written.ok()) << written.status;
  EXPECT_EQ(written.first, 11);
  EXPECT_EQ(written.count, 3);
  EXPECT_EQ(written.last(), 13);
  EXPECT_EQ(clock.calls(), 2);  // one for the write, one for the batch
  for (Offset o = 11; o <= 13; ++o) {
    EXPECT_EQ(log->Read(o)->data, records[static_cast<size_t>(o - 11)]);
  }
  EXPECT_EQ(log->stats().records_written, 4);
}

TEST(LogBatchTest, ABadRecordFailsTheWholeBatchAndNamesItsIndex) {
  std::unique_ptr<Log> log = Log::Create({.max_record_bytes = 4}).value();
  const std::vector<std::string_view> with_empty = {"a", "", "c"};
  WriteBatchResult result = log->WriteBatch(with_empty);
  EXPECT_TRUE(IsEmptyRecord(result.status)) << result.status;
  EXPECT_NE(result.status.message().find("record 1 of the batch"),
            std::string::npos);
  EXPECT_EQ(result.count, 0);
  EXPECT_EQ(result.first, kInvalidOffset);
  const std::vector<std::string_view> with_large = {"a", "b", "12345"};
  result = log->WriteBatch(with_large);
  EXPECT_TRUE(IsRecordTooLarge(result.status)) << result.status;
  EXPECT_NE(result.status.message().find("record 2 of the batch"),
            std::string::npos);
  EXPECT_EQ(log->Range(), OffsetRange{});  // nothing written
  EXPECT_EQ(log->Write("ok").value(), 0);  // and still usable
}

TEST(LogBatchTest, AnEmptyBatchWritesNothing) {
  std::unique_ptr<Log> log = Log::Create().value();
  const WriteBatchResult result = log->WriteBatch({});
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(result.count, 0);
  EXPECT_EQ(result.last(), kInvalidOffset);
  EXPECT_EQ(log->Range(), OffsetRange{});
}

TEST(LogBatchTest, ABatchPastKMaxOffsetWritesNone) {
  std::unique_ptr<Log> log =
      Log::Create({.start_offset = kMaxOffset - 1}).value();
  const std::vector<std::string_view> three = {"a", "b", "c"};
  const WriteBatchResult result = log->WriteBatch(three);
  EXPECT_TRUE(IsOffsetOverflow(result.status)) << result.status;
  EXPECT_EQ(log->Range(), OffsetRange{});
  const std::vector<std::string_view> two = {"a", "b"};
  EXPECT_EQ(log->WriteBatch(two).last(), kMaxOffset);
}

TEST(LogBatchTest, ABatchAfterCloseWritesNone) {
  std::unique_ptr<Log> log = Log::Create().value();
  log->Close();
  const std::vector<std::string_view> one = {"a"};
  EXPECT_TRUE(IsClosed(log->WriteBatch(one).status));
}

TEST(LogBatchTest, ABatchSpanningRotationsRetainsWhatSingleWritesWould) {
  std::unique_ptr<Log> batched = Log::Create({.segment_size = 4}).value();
  std::unique_ptr<Log> single = Log::Create({.segment_size = 4}).value();
  std::vector<std::string> storage;
  for (int i = 0; i < 11; ++i) storage.push_back("r" + std::to_string(i));
  const std::vector<std::string_view> records(storage.begin(), storage.end());
  ASSERT_TRUE(batched->WriteBatch(records).ok());
  for (std::string_view record : records) ASSERT_TRUE(single->Write(record).ok());
  EXPECT_EQ(batched->Range(), single->Range());
  EXPECT_EQ(batched->Range(), (OffsetRange{4, 10}));
  for (Offset o = 4; o <= 10; ++o) {
    EXPECT_EQ(batched->Read(o)->data, single->Read(o)->data);
  }
}

TEST(LogBatchTest, ABatchUnderAByteBoundSealsSegmentsAsSingleWritesWould) {
  const Options options = {.segment_size = 100,
                           .max_segment_bytes = kMinSegmentBytes};
  std::unique_ptr<Log> batched = Log::Create(options).value();
  std::unique_ptr<Log> single = Log::Create(options).value();
  std::vector<std::string> storage;
  for (int i = 0; i < 40; ++i) {
    storage.push_back(
        std::string(300 + 37 * (i % 5), static_cast<char>('a' + i)));
  }
  const std::vector<std::string_view> records(storage.begin(), storage.end());
  ASSERT_TRUE(batched->WriteBatch(records).ok());
  for (std::string_view record : records) {
    ASSERT_TRUE(single->Write(record).ok());
  }
  EXPECT_GT(batched->stats().records_purged_by_bytes, 0);
  EXPECT_EQ(batched->stats().records_purged_by_bytes,
            single->stats().records_purged_by_bytes);
  EXPECT_EQ(batched->stats().segments_rotated,
            single->stats().segments_rotated);
  EXPECT_EQ(batched->Range(), single->Range());
  for (Offset o = batched->Range().earliest; o <= batched->Range().latest;
       ++o) {
    EXPECT_EQ(batched->Read(o)->data, storage[static_cast<size_t>(o)]);
  }
  EXPECT_EQ(batched->memory_usage().payload_storage_bytes,
            single->memory_usage().payload_storage_bytes);
}

TEST(LogBatchTest, ABatchWakesAWaitingStreamOnce) {
  std::unique_ptr<Log> log = Log::Create().value();
  absl::StatusOr<Stream> stream = log->StreamFrom(0);
  ASSERT_TRUE(stream.ok());
  const std::vector<std::string_view> records = {"a", "b"};
  ASSERT_TRUE(log->WriteBatch(records).ok());
  std::vector<RecordView> views(4);
  const ReadResult read =
      stream->NextBatch(absl::MakeSpan(views), absl::Now() + absl::Seconds(5));
  EXPECT_EQ(read.count, 2);
}

}  // namespace
}  // namespace memlog
