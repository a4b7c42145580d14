// Copyright memlog authors.
//
// The specification of sharded::Log::WriteBatch(): a key's batch gets
// consecutive offsets of its shard; a multi-key batch is grouped by shard and
// keeps each key's order; bad input writes nothing and names the record.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "sharded/log.h"
#include "tests/sharded_test_support.h"

namespace memlog::sharded {
namespace {

using test::MustWrite;
using test::SharedShardLog;

TEST(ShardedBatchTest, AKeysBatchGetsConsecutiveOffsetsOfItsShard) {
  std::unique_ptr<Log> log = SharedShardLog({.shard = {.segment_size = 4}});
  MustWrite(*log, "b", "other key first");
  const std::vector<std::string_view> records = {"1", "2", "3", "4", "5"};
  const WriteBatchResult written = log->WriteBatch("a", records);
  ASSERT_TRUE(written.ok()) << written.status;
  EXPECT_EQ(written.first, 1);
  EXPECT_EQ(written.count, 5);
  for (Offset o = 1; o <= 5; ++o) {
    EXPECT_EQ(log->Read("a", o)->data,
              records[static_cast<size_t>(o - 1)]);
  }
  // The batch spanned a rotation; the key's index followed it.
  EXPECT_EQ(log->Range("a").value(), (OffsetRange{1, 5}));
}

TEST(ShardedBatchTest, ABadRecordOrKeyFailsTheWholeBatch) {
  std::unique_ptr<Log> log = SharedShardLog();
  const std::vector<std::string_view> with_empty = {"1", ""};
  WriteBatchResult result = log->WriteBatch("a", with_empty);
  EXPECT_TRUE(IsEmptyRecord(result.status)) << result.status;
  EXPECT_NE(result.status.message().find("record 1 of the batch"),
            std::string::npos);
  EXPECT_TRUE(IsInvalidKey(log->WriteBatch("", {"x"}).status));
  EXPECT_EQ(log->ShardRange(0).value(), OffsetRange{});
  EXPECT_TRUE(log->WriteBatch("a", {}).ok());
}

TEST(ShardedBatchTest, AMultiKeyBatchKeepsEachKeysOrderAcrossShards) {
  std::unique_ptr<Log> log = SharedShardLog();
  const std::vector<KeyedRecord> records = {
      {"a", "a1"}, {"c", "c1"}, {"b", "b1"}, {"a", "a2"}, {"c", "c2"}};
  std::vector<Offset> offsets(records.size());
  ASSERT_TRUE(log->WriteBatch(records, absl::MakeSpan(offsets)).ok());
  // Shard 0 ("a", "b") in input order, shard 1 ("c") likewise.
  EXPECT_EQ(offsets, (std::vector<Offset>{0, 0, 1, 2, 1}));
  std::vector<Record> a(4);
  ASSERT_EQ(log->ReadBatch("a", 0, absl::MakeSpan(a)).count, 2);
  EXPECT_EQ(a[0].data, "a1");
  EXPECT_EQ(a[1].data, "a2");
  EXPECT_EQ(log->Read("c", 1)->data, "c2");
}

TEST(ShardedBatchTest, AMultiKeyBatchWithABadRecordWritesNone) {
  std::unique_ptr<Log> log = SharedShardLog();
  const std::vector<KeyedRecord> records = {{"a", "ok"}, {"", "no key"}};
  std::vector<Offset> offsets(records.size());
  const absl::Status status = log->WriteBatch(records, absl::MakeSpan(offsets));
  EXPECT_TRUE(IsInvalidKey(status)) << status;
  EXPECT_NE(status.message().find("record 1 of the batch"), std::string::npos);
  EXPECT_EQ(offsets, (std::vector<Offset>{kInvalidOffset, kInvalidOffset}));
  EXPECT_EQ(log->ShardRange(0).value(), OffsetRange{});
  std::vector<Offset> too_few(1);
  EXPECT_TRUE(IsInvalidOptions(
      log->WriteBatch(records, absl::MakeSpan(too_few))));
}

TEST(ShardedBatchTest, AMultiKeyBatchWithAKeyTheSharderRefusesNamesIt) {
  // A key table routes only the keys it names: "d" cannot be routed.
  std::unique_ptr<Log> log =
      Log::Create({.num_shards = 2,
                   .sharder = KeySharder::FromKeys({"a", "b"}).value()})
          .value();
  const std::vector<KeyedRecord> records = {{"a", "ok"}, {"d", "unknown"}};
  std::vector<Offset> offsets(records.size());
  const absl::Status status = log->WriteBatch(records, absl::MakeSpan(offsets));
  EXPECT_TRUE(IsKeyNotFound(status)) << status;
  // sharded/log.h: "Validates and routes every record first, writing none
  // if any fails (the status names its index)".
  EXPECT_NE(status.message().find("record 1 of the batch"), std::string::npos)
      << status;
  EXPECT_EQ(offsets, (std::vector<Offset>{kInvalidOffset, kInvalidOffset}));
  EXPECT_EQ(log->ShardRange(0).value(), OffsetRange{});
}

}  // namespace
}  // namespace memlog::sharded
