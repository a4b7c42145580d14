// Copyright memlog authors.
//
// The specification of time, retention and counters of sharded::Log: each
// shard applies the byte and age limits of its memlog::Options and its key
// index follows every purge, whatever sealed the segment; max_total_bytes
// bounds the whole log even when one key takes most of the writes; OffsetAt
// seeks a key's records by time.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "sharded/log.h"
#include "tests/fake_clock.h"
#include "tests/sharded_test_support.h"

namespace memlog::sharded {
namespace {

using ::memlog::test::FakeClock;
using test::MustWrite;
using test::SharedShardLog;

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

// Every record of `key` that the log still has, in order, read by key.
std::vector<std::string> KeyRecords(const Log& log, std::string_view key) {
  const OffsetRange range = log.Range(key).value();
  if (range.earliest == kInvalidOffset) return {};
  std::vector<Record> batch(4096);
  const ReadResult read =
      log.ReadBatch(key, range.earliest, absl::MakeSpan(batch));
  std::vector<std::string> data;
  for (int64_t i = 0; i < read.count; ++i) {
    data.push_back(batch[static_cast<size_t>(i)].data);
  }
  return data;
}

// Checks that Range(key) and ReadBatch(key) agree with the shard's range:
// the key's records are exactly those of its shard at or after the shard's
// earliest retained offset.
void ExpectIndexInStep(const Log& log, std::string_view key) {
  const OffsetRange shard = log.ShardRange(log.ShardFor(key).value()).value();
  const OffsetRange range = log.Range(key).value();
  if (range.earliest == kInvalidOffset) return;
  EXPECT_GE(range.earliest, shard.earliest) << key;
  EXPECT_TRUE(log.Read(key, range.earliest).ok()) << key;
  EXPECT_TRUE(log.Read(key, range.latest).ok()) << key;
}

TEST(ShardedRetentionTest, TheKeyIndexFollowsPurgesByBytes) {
  std::unique_ptr<Log> log =
      SharedShardLog({.shard = {.segment_size = 1000,
                                .max_segment_bytes = kMinSegmentBytes}});
  const std::string record(1000, 'x');
  for (int i = 0; i < 40; ++i) {
    MustWrite(*log, i % 3 == 0 ? "a" : "b", record);
    ExpectIndexInStep(*log, "a");
    ExpectIndexInStep(*log, "b");
  }
  // About four records per segment: far fewer than 40 retained.
  EXPECT_LE(KeyRecords(*log, "a").size() + KeyRecords(*log, "b").size(), 8u);
  EXPECT_GT(log->stats().records_purged_by_bytes, 0);
}

TEST(ShardedRetentionTest, TheKeyIndexFollowsPurgesByAgeAndTrim) {
  FakeClock clock(kT0);
  std::unique_ptr<Log> log = SharedShardLog(
      {.shard = {.clock = clock.AsFunction(), .max_age = absl::Minutes(1)}});
  MustWrite(*log, "a", "old a");
  MustWrite(*log, "b", "old b");
  clock.Advance(absl::Minutes(2));
  ASSERT_TRUE(log->Trim().ok());
  EXPECT_EQ(log->Range("a").value(), OffsetRange{});
  EXPECT_TRUE(KeyRecords(*log, "a").empty());
  const Offset fresh = MustWrite(*log, "a", "new a");
  EXPECT_EQ(fresh, 2);  // offsets go on
  EXPECT_EQ(log->Range("a").value(), (OffsetRange{2, 2}));
  EXPECT_EQ(KeyRecords(*log, "a"), std::vector<std::string>{"new a"});
  EXPECT_EQ(log->stats().records_purged_by_age, 2);
}

TEST(ShardedRetentionTest, ReadBatchReportsAStartPurgedByAgeWithAllElse) {
  FakeClock clock(kT0);
  std::unique_ptr<Log> log = SharedShardLog(
      {.shard = {.clock = clock.AsFunction(), .max_age = absl::Minutes(1)}});
  MustWrite(*log, "a", "old a");
  clock.Advance(absl::Minutes(2));
  ASSERT_TRUE(log->Trim().ok());
  ASSERT_EQ(log->ShardRange(0).value(), OffsetRange{});
  // Offset 0 was written and purged: ReadBatch() says so, as Read() does,
  // although the shard retains no record at all.
  EXPECT_TRUE(IsPurgedOffset(log->Read("a", 0).status()));
  std::vector<Record> batch(1);
  const ReadResult read = log->ReadBatch("a", 0, absl::MakeSpan(batch));
  EXPECT_TRUE(IsPurgedOffset(read.status)) << read.status;
  EXPECT_EQ(read.count, 0);
}

TEST(ShardedRetentionTest, AKeysStreamReportsAnAgePurgeAndGoesOn) {
  FakeClock clock(kT0);
  std::unique_ptr<Log> log = SharedShardLog(
      {.shard = {.clock = clock.AsFunction(), .max_age = absl::Minutes(1)}});
  absl::StatusOr<Stream> stream = log->StreamFrom("a", 0);
  ASSERT_TRUE(stream.ok());
  MustWrite(*log, "a", "1");
  MustWrite(*log, "a", "2");
  clock.Advance(absl::Minutes(2));
  ASSERT_TRUE(log->Trim().ok());
  absl::StatusOr<RecordView> lagged = stream->NextFor(absl::Seconds(5));
  ASSERT_TRUE(IsLagged(lagged.status())) << lagged.status();
  // The stream had seen none of the key's records, and the shard kept
  // none: how many were missed is unknown, and the report says so.
  EXPECT_FALSE(IsLaggedCountExact(lagged.status()));
  MustWrite(*log, "a", "3");
  EXPECT_EQ(stream->NextFor(absl::Seconds(5))->data(), "3");
  EXPECT_EQ(log->stats().lag_events, 1);
}

TEST(ShardedRetentionTest, TotalBytesBoundHoldsWithOneKeyTakingMostWrites) {
  constexpr size_t kShards = 8;
  constexpr int64_t kTotal = 2 * kShards * (16 << 10);  // 16 KiB segments
  std::unique_ptr<Log> log =
      Log::Create({.num_shards = kShards, .max_total_bytes = kTotal}).value();
  for (int i = 0; i < 20000; ++i) {
    // One key with 90% of the writes, the rest spread over 50 keys.
    const std::string key =
        i % 10 != 0 ? std::string("hot") : "cold-" + std::to_string(i % 50);
    ASSERT_TRUE(log->Write(key, std::string(200 + i % 300, 'p')).ok());
    if (i % 100 == 0) {
      ASSERT_LE(log->memory_usage().payload_storage_bytes, kTotal)
          << "after write " << i;
    }
  }
  EXPECT_LE(log->memory_usage().payload_storage_bytes, kTotal);
  EXPECT_FALSE(KeyRecords(*log, "hot").empty());
}

TEST(ShardedRetentionTest, TotalBytesIsValidated) {
  EXPECT_TRUE(IsInvalidOptions(
      Log::Create({.num_shards = 8, .max_total_bytes = 1000}).status()));
  EXPECT_TRUE(IsInvalidOptions(
      Log::Create({.num_shards = 8,
                   .shard = {.max_segment_bytes = 1 << 20},
                   .max_total_bytes = 64 << 20})
          .status()));
}

TEST(ShardedRetentionTest, OffsetAtSeeksAKeysRecordsByTime) {
  FakeClock clock(kT0);
  std::unique_ptr<Log> log =
      SharedShardLog({.shard = {.segment_size = 4,
                                .clock = clock.AsFunction()}});
  std::map<int, Offset> a_at;  // second -> offset of key "a"
  for (int i = 0; i < 12; ++i) {
    const Offset offset = MustWrite(*log, i % 2 == 0 ? "a" : "b", "r");
    if (i % 2 == 0) a_at[i] = offset;
    clock.Advance(absl::Seconds(1));
  }
  // Shard 0 retains offsets 4..11: segments of 4, the first purged.
  ASSERT_EQ(log->ShardRange(0).value(), (OffsetRange{4, 11}));
  absl::StatusOr<OffsetAtTime> at = log->OffsetAt("a", kT0 + absl::Seconds(9));
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(at->offset, a_at[10]);
  EXPECT_FALSE(at->may_have_missed);
  at = log->OffsetAt("a", kT0);
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(at->offset, a_at[4]);
  EXPECT_TRUE(at->may_have_missed);
  EXPECT_TRUE(
      IsFutureOffset(log->OffsetAt("a", kT0 + absl::Seconds(11)).status()));
  EXPECT_TRUE(IsFutureOffset(log->OffsetAt("c", kT0).status()));
  EXPECT_EQ(log->ShardOffsetAt(0, kT0 + absl::Seconds(9))->offset, 9);
  EXPECT_TRUE(IsInvalidShard(log->ShardOffsetAt(2, kT0).status()));
}

TEST(ShardedRetentionTest, StatsAreTheSumOfTheShards) {
  std::unique_ptr<Log> log = SharedShardLog();
  MustWrite(*log, "a", "12");
  MustWrite(*log, "c", "345");
  const LogStats total = log->stats();
  EXPECT_EQ(total.records_written, 2);
  EXPECT_EQ(total.bytes_written, (1 + 1 + 2) + (1 + 1 + 3));  // stored form
  EXPECT_EQ(log->ShardStats(0)->records_written, 1);
  EXPECT_EQ(log->ShardStats(1)->records_written, 1);
  EXPECT_TRUE(IsInvalidShard(log->ShardStats(2).status()));
}

}  // namespace
}  // namespace memlog::sharded
