// Copyright memlog authors.
//
// memlog::ReplicaWriter and sharded::ShardReplicaWriter: the write path of
// mirrors, which take each record's offset and `created` from their source.

#include "memlog/replica.h"

#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "memlog/log.h"
#include "sharded/log.h"
#include "sharded/replica.h"

namespace memlog {
namespace {

absl::Time At(int64_t nanos) { return absl::FromUnixNanos(nanos); }

std::unique_ptr<Log> NewLog(Options options = {}) {
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Create(std::move(options));
  EXPECT_TRUE(log.ok()) << log.status();
  return *std::move(log);
}

TEST(ReplicaWriterTest, KeepsTheGivenOffsetAndCreated) {
  std::unique_ptr<Log> log = NewLog({.start_offset = 1});
  ASSERT_EQ(*ReplicaWriter::Append(*log, 1, At(1000), "a"), 1);
  ASSERT_EQ(*ReplicaWriter::Append(*log, 2, At(1000), "b"), 2);
  ASSERT_EQ(*ReplicaWriter::Append(*log, 3, At(2000), "c"), 3);
  EXPECT_EQ(*log->Read(1), (Record{{1, At(1000)}, "a"}));
  EXPECT_EQ(*log->Read(3), (Record{{3, At(2000)}, "c"}));
  EXPECT_EQ(log->Range(), (OffsetRange{1, 3}));
}

TEST(ReplicaWriterTest, FirstRecordMaySkipAheadAndEarlierOffsetsReadAsPurged) {
  std::unique_ptr<Log> log = NewLog({.start_offset = 1, .segment_size = 4});
  ASSERT_EQ(*ReplicaWriter::Append(*log, 1000, At(5), "x"), 1000);
  EXPECT_EQ(log->Range(), (OffsetRange{1000, 1000}));
  EXPECT_EQ(log->stats().records_written, 1);
  EXPECT_TRUE(IsPurgedOffset(log->Read(999).status()));
  EXPECT_TRUE(IsImpossibleOffset(log->Read(0).status()));
  // A stream from the start reports the skipped offsets as a lag, then
  // continues at the first record.
  absl::StatusOr<Stream> stream = log->StreamFrom(1);
  ASSERT_TRUE(stream.ok());
  absl::StatusOr<RecordView> lagged = stream->Next();
  ASSERT_TRUE(IsLagged(lagged.status())) << lagged.status();
  EXPECT_EQ(LaggedCount(lagged.status()), 999);
  absl::StatusOr<RecordView> first = stream->Next();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->offset(), 1000);
  // Later records fill segments based at the first one, and purge as usual.
  for (Offset o = 1001; o < 1010; ++o) {
    ASSERT_TRUE(ReplicaWriter::Append(*log, o, At(5), "y").ok());
  }
  EXPECT_EQ(log->Range(), (OffsetRange{1004, 1009}));
}

TEST(ReplicaWriterTest, RefusesAnOffsetOtherThanTheNext) {
  std::unique_ptr<Log> log = NewLog();
  ASSERT_TRUE(ReplicaWriter::Append(*log, 5, At(1), "a").ok());
  for (Offset wrong : {Offset{4}, Offset{5}, Offset{7}}) {
    absl::StatusOr<Offset> refused = ReplicaWriter::Append(*log, wrong, At(1), "b");
    EXPECT_TRUE(IsReplicaRefused(refused.status())) << wrong << refused.status();
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(log->Range(), (OffsetRange{5, 5}));
}

TEST(ReplicaWriterTest, RefusesACreatedEarlierThanThePreviousRecords) {
  std::unique_ptr<Log> log = NewLog({.segment_size = 2});
  ASSERT_TRUE(ReplicaWriter::Append(*log, 0, At(100), "a").ok());
  ASSERT_TRUE(ReplicaWriter::Append(*log, 1, At(200), "b").ok());
  // The previous record is in the sealed segment: still compared.
  EXPECT_TRUE(IsReplicaRefused(
      ReplicaWriter::Append(*log, 2, At(199), "c").status()));
  EXPECT_TRUE(ReplicaWriter::Append(*log, 2, At(200), "c").ok());
}

TEST(ReplicaWriterTest, RefusesAFirstOffsetBeforeTheStart) {
  std::unique_ptr<Log> log = NewLog({.start_offset = 10});
  EXPECT_TRUE(IsImpossibleOffset(
      ReplicaWriter::Append(*log, 9, At(1), "a").status()));
  EXPECT_EQ(log->Range(), OffsetRange{});
}

TEST(ReplicaWriterTest, FailsAsWriteDoesForBadDataAndAClosedLog) {
  std::unique_ptr<Log> log = NewLog({.max_record_bytes = 3});
  EXPECT_TRUE(IsEmptyRecord(ReplicaWriter::Append(*log, 0, At(1), "").status()));
  EXPECT_TRUE(
      IsRecordTooLarge(ReplicaWriter::Append(*log, 0, At(1), "abcd").status()));
  log->Close();
  EXPECT_TRUE(IsClosed(ReplicaWriter::Append(*log, 0, At(1), "a").status()));
}

TEST(ShardReplicaWriterTest, WritesAKeyAtTheShardsNextOffset) {
  absl::StatusOr<std::unique_ptr<sharded::Log>> log =
      sharded::Log::Create({.num_shards = 4, .shard = {.start_offset = 1}});
  ASSERT_TRUE(log.ok());
  const size_t shard = *(*log)->ShardFor("k");
  ASSERT_EQ(*sharded::ShardReplicaWriter::Append(**log, shard, "k", 1, At(7),
                                                  "v1"),
            1);
  ASSERT_EQ(*sharded::ShardReplicaWriter::Append(**log, shard, "k", 2, At(8),
                                                  "v2"),
            2);
  absl::StatusOr<sharded::Record> read = (*log)->Read("k", 2);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, (sharded::Record{{2, At(8)}, "k", "v2"}));
  EXPECT_EQ(*(*log)->Range("k"), (OffsetRange{1, 2}));
}

TEST(ShardReplicaWriterTest, RefusesAnotherShardsKeyAndABadShard) {
  absl::StatusOr<std::unique_ptr<sharded::Log>> log =
      sharded::Log::Create({.num_shards = 4});
  ASSERT_TRUE(log.ok());
  const size_t shard = *(*log)->ShardFor("k");
  EXPECT_TRUE(IsReplicaRefused(sharded::ShardReplicaWriter::Append(
                                   **log, (shard + 1) % 4, "k", 0, At(1), "v")
                                   .status()));
  EXPECT_TRUE(IsInvalidShard(
      sharded::ShardReplicaWriter::Append(**log, 4, "k", 0, At(1), "v")
          .status()));
  EXPECT_EQ(*(*log)->ShardRange(shard), OffsetRange{});
}

TEST(ShardReplicaWriterTest, FirstRecordOfAShardMaySkipAheadThenOffsetsAreDense) {
  absl::StatusOr<std::unique_ptr<sharded::Log>> log =
      sharded::Log::Create({.num_shards = 4, .shard = {.segment_size = 4}});
  ASSERT_TRUE(log.ok());
  const size_t shard = *(*log)->ShardFor("k");
  EXPECT_EQ(
      sharded::ShardReplicaWriter::Append(**log, shard, "k", 10, At(1), "a")
          .value_or(kInvalidOffset),
      10);
  EXPECT_TRUE(IsReplicaRefused(
      sharded::ShardReplicaWriter::Append(**log, shard, "k", 12, At(1), "b")
          .status()));
  // Past a segment boundary of the skipped-to start, so the key index
  // follows a rotation at an offset no count boundary predicts.
  for (Offset offset = 11; offset < 20; ++offset) {
    ASSERT_EQ(sharded::ShardReplicaWriter::Append(**log, shard, "k", offset,
                                                  At(1), "b")
                  .value_or(kInvalidOffset),
              offset);
  }
  EXPECT_TRUE(IsPurgedOffset((*log)->Read("k", 3).status()));
  const absl::StatusOr<OffsetRange> range = (*log)->Range("k");
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*range, ((*log)->ShardRange(shard)).value());
  EXPECT_EQ(range->latest, 19);
  absl::StatusOr<sharded::RecordView> latest = (*log)->ReadView("k", 19);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->data(), "b");
}

}  // namespace
}  // namespace memlog
