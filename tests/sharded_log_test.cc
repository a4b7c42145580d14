// Copyright memlog authors.
//
// The specification of memlog::sharded::Log (sharded/log.h): options, writes
// and reads by key, the per-key offset contract, batch reads, ranges, purges
// per shard, isolation of keys that share a shard, whole-shard access,
// closing, views, and per-key order under concurrent writers. Sharders are
// specified in sharder_test.cc, streams in sharded_stream_test.cc, memory in
// sharded_memory_test.cc.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <latch>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "memlog/status.h"
#include "sharded/log.h"
#include "tests/sharded_test_support.h"
#include "tests/log_test_support.h"

namespace memlog {

// Test output: "{earliest, latest}" instead of bytes.
void PrintTo(const OffsetRange& range, std::ostream* os) {
  *os << "{" << range.earliest << ", " << range.latest << "}";
}

namespace sharded {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;

using ::memlog::test::Message;
using test::MustWrite;
using test::SharedShardLog;
using test::TableSharder;

// Reads every retained record of `key` with ReadBatch and returns their data.
std::vector<std::string> AllData(const Log& log, std::string_view key) {
  std::vector<std::string> data;
  std::vector<Record> batch(3);  // small, so that reads span several calls
  Offset start = log.Range(key).value().earliest;
  if (start == kInvalidOffset) return data;
  for (;;) {
    ReadResult read = log.ReadBatch(key, start, absl::MakeSpan(batch));
    for (int64_t i = 0; i < read.count; ++i) {
      EXPECT_EQ(batch[static_cast<size_t>(i)].key, key);
      data.push_back(batch[static_cast<size_t>(i)].data);
    }
    if (!read.ok()) {
      EXPECT_TRUE(IsFutureOffset(read.status)) << read.status;
      return data;
    }
    start = batch[static_cast<size_t>(read.count - 1)].metadata.offset + 1;
  }
}

// --- Options ---------------------------------------------------------------

TEST(ShardedLogOptionsTest, DefaultsAreAThousandShardsAndMemlogDefaults) {
  const Options options;
  EXPECT_EQ(options.num_shards, 1000u);
  EXPECT_EQ(options.shard.start_offset, 0);
  EXPECT_EQ(options.shard.segment_size, kDefaultSegmentSize);
  EXPECT_EQ(options.shard.max_record_bytes, kDefaultMaxRecordBytes);
  EXPECT_FALSE(options.shard.clock);
  EXPECT_EQ(options.sharder, nullptr);
  std::unique_ptr<Log> log = Log::Create().value();
  EXPECT_EQ(log->num_shards(), 1000u);
}

TEST(ShardedLogOptionsTest, RejectsFewerThanTwoShards) {
  for (const size_t shards : {size_t{0}, size_t{1}}) {
    absl::StatusOr<std::unique_ptr<Log>> log =
        Log::Create({.num_shards = shards, .shard = {}});
    EXPECT_TRUE(IsInvalidOptions(log.status())) << log.status();
    EXPECT_THAT(Message(log.status()),
                HasSubstr("Options::num_shards is " + std::to_string(shards) +
                          "; valid range is [2, 1048576]"));
  }
  EXPECT_TRUE(Log::Create({.num_shards = 2, .shard = {}}).ok());
}

TEST(ShardedLogOptionsTest, RejectsAbsurdlyManyShards) {
  for (const size_t shards :
       {kMaxNumShards + 1, std::numeric_limits<size_t>::max()}) {
    absl::StatusOr<std::unique_ptr<Log>> log =
        Log::Create({.num_shards = shards, .shard = {}});
    EXPECT_TRUE(IsInvalidOptions(log.status())) << log.status();
    EXPECT_THAT(Message(log.status()),
                HasSubstr("valid range is [2, 1048576]"));
  }
  EXPECT_TRUE(Log::Create({.num_shards = kMaxNumShards, .shard = {}}).ok());
}

TEST(ShardedLogOptionsTest, RejectsBadShardOptionsNamingTheField) {
  struct Case {
    Options options;
    std::string field;
  };
  std::vector<Case> cases;
  cases.push_back({{.shard = {.start_offset = -1}}, "start_offset"});
  cases.push_back({{.shard = {.segment_size = 0}}, "segment_size"});
  cases.push_back({{.shard = {.segment_size = -5}}, "segment_size"});
  cases.push_back({{.shard = {.max_record_bytes = 0}}, "max_record_bytes"});
  cases.push_back({{.shard = {.max_record_bytes = kMaxRecordBytesLimit + 1}},
                   "max_record_bytes"});
  for (Case& c : cases) {
    absl::StatusOr<std::unique_ptr<Log>> log =
        Log::Create(std::move(c.options));
    EXPECT_TRUE(IsInvalidOptions(log.status())) << log.status();
    EXPECT_THAT(Message(log.status()), HasSubstr("Options::" + c.field));
  }
}

// --- Writes and reads ------------------------------------------------------

TEST(ShardedLogTest, ReadReturnsTheRecordWithItsKeyAndTimestamp) {
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  std::unique_ptr<Log> log =
      Log::Create({.shard = {.clock = [now] { return now; }}}).value();
  const Offset offset = MustWrite(*log, "users", "tom");
  EXPECT_EQ(offset, 0);

  absl::StatusOr<Record> record = log->Read("users", offset);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(*record, (Record{{0, now}, "users", "tom"}));

  absl::StatusOr<RecordView> view = log->ReadView("users", offset);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->key(), "users");
  EXPECT_EQ(view->data(), "tom");
  EXPECT_EQ(view->offset(), 0);
  EXPECT_EQ(view->created(), now);
  EXPECT_EQ(view->ToRecord(), *record);
}

TEST(ShardedLogTest, KeysAndDataMayHoldAnyBytes) {
  std::unique_ptr<Log> log = SharedShardLog();
  const std::string key("a", 1);
  const std::string data("\0\x80\xff\n", 4);
  const Offset offset = MustWrite(*log, key, data);
  EXPECT_EQ(log->Read(key, offset).value().data, data);

  // A long key whose length takes a multi-byte prefix.
  std::unique_ptr<Log> hashed =
      Log::Create({.num_shards = 4, .shard = {}}).value();
  const std::string long_key(300, '\x01');
  const Offset long_offset = MustWrite(*hashed, long_key, data);
  absl::StatusOr<Record> record = hashed->Read(long_key, long_offset);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->key, long_key);
  EXPECT_EQ(record->data, data);
}

TEST(ShardedLogTest, KeysDifferingOnlyInLengthOrLastByteAreDistinct) {
  // One shard, so that the keys share its index, which holds keys of up to
  // 16 bytes in its entries and longer ones apart.
  std::unique_ptr<Log> log = SharedShardLog();
  const std::string sixteen(16, 'k');
  const std::vector<std::string> keys = {
      std::string(15, 'k'), sixteen,        sixteen + "k",
      sixteen + "l",        std::string(1, 'k'), std::string(300, 'k')};
  for (int round = 0; round < 3; ++round) {
    for (const std::string& key : keys) MustWrite(*log, key, key);
  }
  for (const std::string& key : keys) {
    absl::StatusOr<OffsetRange> range = log->Range(key);
    ASSERT_TRUE(range.ok()) << range.status();
    absl::StatusOr<Record> record = log->Read(key, range->latest);
    ASSERT_TRUE(record.ok()) << record.status();
    EXPECT_EQ(record->key, key);
    EXPECT_EQ(record->data, key);
    EXPECT_EQ(range->latest - range->earliest,
              2 * static_cast<Offset>(keys.size()));
  }
}

TEST(ShardedLogTest, RejectsAnEmptyKey) {
  std::unique_ptr<Log> log = Log::Create().value();
  absl::StatusOr<Offset> offset = log->Write("", "data");
  EXPECT_TRUE(IsInvalidKey(offset.status())) << offset.status();
  EXPECT_EQ(offset.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsInvalidKey(log->Read("", 0).status()));
  EXPECT_TRUE(IsInvalidKey(log->Range("").status()));
}

TEST(ShardedLogTest, AcceptsKeysUpToTheLimit) {
  std::unique_ptr<Log> log =
      Log::Create({.num_shards = 4, .shard = {}}).value();
  const std::string longest(kMaxKeyBytes, 'k');
  EXPECT_TRUE(log->Write(longest, "data").ok());
  const std::string too_long(kMaxKeyBytes + 1, 'k');
  absl::StatusOr<Offset> offset = log->Write(too_long, "data");
  EXPECT_TRUE(IsInvalidKey(offset.status())) << offset.status();
  EXPECT_THAT(Message(offset.status()), HasSubstr("kMaxKeyBytes (65536)"));
}

TEST(ShardedLogTest, RejectsEmptyData) {
  std::unique_ptr<Log> log = Log::Create().value();
  absl::StatusOr<Offset> offset = log->Write("users", "");
  EXPECT_TRUE(IsEmptyRecord(offset.status())) << offset.status();
  EXPECT_EQ(log->Range("users").value(), OffsetRange{});
}

TEST(ShardedLogTest, LimitsTheDataNotCountingTheKey) {
  std::unique_ptr<Log> log =
      Log::Create({.num_shards = 4, .shard = {.max_record_bytes = 10}}).value();
  EXPECT_TRUE(log->Write("a long key that is longer than ten bytes",
                         std::string(10, 'x'))
                  .ok());
  absl::StatusOr<Offset> offset = log->Write("key", std::string(11, 'x'));
  EXPECT_TRUE(IsRecordTooLarge(offset.status())) << offset.status();
  EXPECT_THAT(Message(offset.status()),
              HasSubstr("larger than Options::max_record_bytes (10)"));
}

TEST(ShardedLogTest, FailedWritesLeaveTheLogUsable) {
  std::unique_ptr<Log> log = SharedShardLog({.shard = {.max_record_bytes = 4}});
  EXPECT_FALSE(log->Write("a", "").ok());
  EXPECT_FALSE(log->Write("a", "12345").ok());
  EXPECT_FALSE(log->Write("", "1").ok());
  EXPECT_EQ(MustWrite(*log, "a", "1"), 0);
  EXPECT_THAT(AllData(*log, "a"), ElementsAre("1"));
}

// --- The per-key offset contract -------------------------------------------

TEST(ShardedLogOffsetsTest, KeysSharingAShardShareItsOffsetsWithGaps) {
  std::unique_ptr<Log> log = SharedShardLog();
  EXPECT_EQ(MustWrite(*log, "a", "a0"), 0);
  EXPECT_EQ(MustWrite(*log, "b", "b0"), 1);
  EXPECT_EQ(MustWrite(*log, "b", "b1"), 2);
  EXPECT_EQ(MustWrite(*log, "a", "a1"), 3);
  EXPECT_EQ(MustWrite(*log, "a", "a2"), 4);
  EXPECT_EQ(log->Range("a").value(), (OffsetRange{0, 4}));
  EXPECT_EQ(log->Range("b").value(), (OffsetRange{1, 2}));
  EXPECT_EQ(log->ShardRange(0).value(), (OffsetRange{0, 4}));
}

TEST(ShardedLogOffsetsTest, ShardsNumberTheirRecordsIndependently) {
  std::unique_ptr<Log> log = SharedShardLog({.shard = {.start_offset = 100}});
  EXPECT_EQ(MustWrite(*log, "a", "a0"), 100);
  EXPECT_EQ(MustWrite(*log, "c", "c0"), 100);  // another shard: same offset
  EXPECT_EQ(MustWrite(*log, "c", "c1"), 101);
  EXPECT_EQ(MustWrite(*log, "a", "a1"), 101);
  EXPECT_EQ(log->Read("a", 100).value().data, "a0");
  EXPECT_EQ(log->Read("c", 100).value().data, "c0");
}

TEST(ShardedLogOffsetsTest, ReadingAnotherKeysOffsetIsKeyNotFound) {
  std::unique_ptr<Log> log = SharedShardLog();
  MustWrite(*log, "a", "secret of a");
  const Offset b_offset = MustWrite(*log, "b", "b0");
  absl::StatusOr<Record> record = log->Read("a", b_offset);
  EXPECT_TRUE(IsKeyNotFound(record.status())) << record.status();
  EXPECT_EQ(record.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(record.status()),
              HasSubstr("offset 1 of shard 0 holds no record of key \"a\""));
  // The error says nothing about the record that is there.
  EXPECT_THAT(Message(record.status()), Not(HasSubstr("\"b\"")));
  EXPECT_THAT(Message(record.status()), Not(HasSubstr("b0")));
  EXPECT_TRUE(IsKeyNotFound(log->ReadView("a", b_offset).status()));
  EXPECT_TRUE(IsKeyNotFound(log->Read("b", 0).status()));
}

TEST(ShardedLogOffsetsTest, ReadBeyondTheShardIsFutureAndPurgedIsPurged) {
  std::unique_ptr<Log> log = SharedShardLog({.shard = {.segment_size = 2}});
  EXPECT_TRUE(IsFutureOffset(log->Read("a", 0).status()));  // shard unused
  EXPECT_TRUE(memlog::IsImpossibleOffset(log->Read("a", -1).status()));
  for (int i = 0; i < 5; ++i) MustWrite(*log, "a", "a" + std::to_string(i));
  // Segments {0,1} {2,3} {4}: the write of 4 purged {0,1}.
  EXPECT_TRUE(memlog::IsPurgedOffset(log->Read("a", 1).status()));
  EXPECT_EQ(log->Read("a", 1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(log->Read("a", 2).value().data, "a2");
  EXPECT_TRUE(IsFutureOffset(log->Read("a", 5).status()));
  EXPECT_TRUE(IsFutureOffset(log->Read("a", kMaxOffset).status()));
  EXPECT_TRUE(memlog::IsImpossibleOffset(
      log->Read("a", std::numeric_limits<Offset>::min()).status()));
  EXPECT_TRUE(memlog::IsImpossibleOffset(
      log->Read("a", std::numeric_limits<Offset>::max()).status()));
}

// --- Batches ---------------------------------------------------------------

class ShardedLogBatchTest : public ::testing::Test {
 protected:
  // Shard 0 holds, at offsets 0..9: a b a b b a a b a b.
  void SetUp() override {
    log_ = SharedShardLog();
    for (const char key : std::string("ababbaabab")) {
      const std::string name(1, key);
      MustWrite(*log_, name, name + std::to_string(counts_[key]++));
    }
  }

  std::vector<Offset> Offsets(absl::Span<const Record> records) {
    std::vector<Offset> offsets;
    for (const Record& r : records) offsets.push_back(r.metadata.offset);
    return offsets;
  }

  std::unique_ptr<Log> log_;
  absl::flat_hash_map<char, int> counts_;
};

TEST_F(ShardedLogBatchTest, ReadsTheKeysNextRecordsSkippingOtherKeys) {
  std::vector<Record> batch(3);
  ReadResult read = log_->ReadBatch("a", 0, absl::MakeSpan(batch));
  EXPECT_TRUE(read.ok()) << read.status;
  EXPECT_EQ(read.count, 3);
  EXPECT_THAT(Offsets(batch), ElementsAre(0, 2, 5));
  EXPECT_EQ(batch[0].data, "a0");
  EXPECT_EQ(batch[1].data, "a1");
  EXPECT_EQ(batch[2].data, "a2");
  for (const Record& r : batch) EXPECT_EQ(r.key, "a");
}

TEST_F(ShardedLogBatchTest, StartsAtTheKeysFirstRecordAtOrAfterStart) {
  std::vector<Record> batch(2);
  // Offset 3 holds b; a's next record is at 5.
  ReadResult read = log_->ReadBatch("a", 3, absl::MakeSpan(batch));
  EXPECT_TRUE(read.ok()) << read.status;
  EXPECT_THAT(Offsets(batch), ElementsAre(5, 6));
}

TEST_F(ShardedLogBatchTest, ABatchEndingAtTheKeysLatestRecordIsOk) {
  std::vector<Record> batch(5);  // a has exactly 5 records
  ReadResult read = log_->ReadBatch("a", 0, absl::MakeSpan(batch));
  EXPECT_TRUE(read.ok()) << read.status;
  EXPECT_EQ(read.count, 5);
  EXPECT_THAT(Offsets(batch), ElementsAre(0, 2, 5, 6, 8));
}

TEST_F(ShardedLogBatchTest, ABatchRunningPastTheKeysRecordsIsPartial) {
  std::vector<Record> batch(4);
  ReadResult read = log_->ReadBatch("b", 4, absl::MakeSpan(batch));
  EXPECT_EQ(read.count, 3);
  EXPECT_TRUE(IsFutureOffset(read.status)) << read.status;
  EXPECT_THAT(Offsets(absl::MakeSpan(batch).first(3)), ElementsAre(4, 7, 9));
  EXPECT_EQ(batch[3], Record{});  // untouched
}

TEST_F(ShardedLogBatchTest, AStartWithNoLaterRecordOfTheKeyIsFuture) {
  std::vector<Record> batch(2);
  // a's latest is at 8; offset 9 (b's) and 10 (unwritten) have none of a.
  for (const Offset start : {9, 10, 1000}) {
    ReadResult read = log_->ReadBatch("a", start, absl::MakeSpan(batch));
    EXPECT_EQ(read.count, 0);
    EXPECT_TRUE(IsFutureOffset(read.status)) << read.status;
    EXPECT_THAT(Message(read.status),
                HasSubstr("the key's latest record is at offset 8"));
  }
  ReadResult none = log_->ReadBatch("c", 0, absl::MakeSpan(batch));
  EXPECT_EQ(none.count, 0);
  EXPECT_TRUE(IsFutureOffset(none.status)) << none.status;
}

TEST_F(ShardedLogBatchTest, AStartBeforeTheStartOffsetIsAnImpossibleOffset) {
  std::vector<Record> batch(2);
  ReadResult read = log_->ReadBatch("a", -1, absl::MakeSpan(batch));
  EXPECT_EQ(read.count, 0);
  EXPECT_TRUE(memlog::IsImpossibleOffset(read.status)) << read.status;
  EXPECT_EQ(read.status.code(), absl::StatusCode::kInvalidArgument);
  std::vector<RecordView> views(2);
  ReadResult view_read = log_->ReadBatchView("a", -1, absl::MakeSpan(views));
  EXPECT_EQ(view_read.count, 0);
  EXPECT_TRUE(memlog::IsImpossibleOffset(view_read.status)) << view_read.status;
}

TEST_F(ShardedLogBatchTest, ReadBatchViewEmptiesEntriesPastTheCount) {
  std::vector<RecordView> views(8);
  const ReadResult all = log_->ReadBatchView("a", 0, absl::MakeSpan(views));
  ASSERT_GE(all.count, 2);
  // Reused for a read of fewer records: the rest are emptied, pinning
  // nothing.
  const ReadResult one = log_->ReadBatchView(
      "a", views[static_cast<size_t>(all.count - 1)].offset(),
      absl::MakeSpan(views));
  ASSERT_EQ(one.count, 1);
  for (size_t i = 1; i < views.size(); ++i) {
    EXPECT_EQ(views[i].offset(), kInvalidOffset) << i;
    EXPECT_EQ(views[i].key(), "") << i;
  }
  // Copies past the count are left as they were.
  const Record sentinel{{12345, absl::UnixEpoch()}, "k", "untouched"};
  std::vector<Record> copies(8, sentinel);
  const ReadResult copied =
      log_->ReadBatch("a", views[0].offset(), absl::MakeSpan(copies));
  ASSERT_EQ(copied.count, 1);
  for (size_t i = 1; i < copies.size(); ++i) EXPECT_EQ(copies[i], sentinel);
}

TEST_F(ShardedLogBatchTest, AnEmptyBatchIsOk) {
  ReadResult read = log_->ReadBatch("a", 0, {});
  EXPECT_TRUE(read.ok());
  EXPECT_EQ(read.count, 0);
}

TEST_F(ShardedLogBatchTest, ViewsMatchCopies) {
  std::vector<RecordView> views(5);
  ReadResult read = log_->ReadBatchView("b", 0, absl::MakeSpan(views));
  EXPECT_TRUE(read.ok()) << read.status;
  std::vector<Record> copies(5);
  ASSERT_TRUE(log_->ReadBatch("b", 0, absl::MakeSpan(copies)).ok());
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(views[i].ToRecord(), copies[i]);
}

TEST(ShardedLogBatchLargeTest, ReadsBatchesLargerThanOneIndexChunk) {
  std::unique_ptr<Log> log = SharedShardLog();
  std::vector<std::string> expected;
  for (int i = 0; i < 300; ++i) {
    MustWrite(*log, "b", "noise");
    expected.push_back("a" + std::to_string(i));
    MustWrite(*log, "a", expected.back());
  }
  std::vector<Record> batch(301);
  ReadResult read = log->ReadBatch("a", 0, absl::MakeSpan(batch));
  EXPECT_EQ(read.count, 300);
  EXPECT_TRUE(IsFutureOffset(read.status)) << read.status;
  std::vector<std::string> data;
  for (int64_t i = 0; i < read.count; ++i) {
    data.push_back(batch[static_cast<size_t>(i)].data);
  }
  EXPECT_THAT(data, ElementsAreArray(expected));
}

// --- Purges ----------------------------------------------------------------

TEST(ShardedLogPurgeTest, EachShardPurgesLikeAMemlogLog) {
  // Segment size 3, as memlog::Log: after 6 writes the shard holds {0, 5};
  // the 7th write purges the first segment.
  std::unique_ptr<Log> log = SharedShardLog({.shard = {.segment_size = 3}});
  for (int i = 0; i < 6; ++i) MustWrite(*log, "a", "a" + std::to_string(i));
  MustWrite(*log, "c", "c0");
  EXPECT_EQ(log->ShardRange(0).value(), (OffsetRange{0, 5}));
  MustWrite(*log, "a", "a6");
  EXPECT_EQ(log->ShardRange(0).value(), (OffsetRange{3, 6}));
  EXPECT_EQ(log->Range("a").value(), (OffsetRange{3, 6}));
  EXPECT_THAT(AllData(*log, "a"), ElementsAre("a3", "a4", "a5", "a6"));
  // The other shard purges on its own schedule: untouched.
  EXPECT_EQ(log->ShardRange(1).value(), (OffsetRange{0, 0}));
  EXPECT_EQ(log->Read("c", 0).value().data, "c0");
}

TEST(ShardedLogPurgeTest, APurgeDropsEveryKeysRecordsInTheSegment) {
  std::unique_ptr<Log> log = SharedShardLog({.shard = {.segment_size = 2}});
  MustWrite(*log, "a", "a0");  // 0 ┐ segment 0
  MustWrite(*log, "b", "b0");  // 1 ┘
  MustWrite(*log, "b", "b1");  // 2 ┐ segment 1
  MustWrite(*log, "b", "b2");  // 3 ┘
  EXPECT_EQ(log->Range("a").value(), (OffsetRange{0, 0}));
  MustWrite(*log, "b", "b3");  // 4: purges segment 0
  EXPECT_EQ(log->Range("a").value(), OffsetRange{});
  EXPECT_EQ(log->Range("b").value(), (OffsetRange{2, 4}));
  EXPECT_TRUE(AllData(*log, "a").empty());
  EXPECT_THAT(AllData(*log, "b"), ElementsAre("b1", "b2", "b3"));
}

TEST(ShardedLogPurgeTest, ABatchFromAPurgedStartIsPurged) {
  std::unique_ptr<Log> log = SharedShardLog({.shard = {.segment_size = 2}});
  for (int i = 0; i < 5; ++i) MustWrite(*log, "a", "a" + std::to_string(i));
  std::vector<Record> batch(2);
  ReadResult read = log->ReadBatch("a", 0, absl::MakeSpan(batch));
  EXPECT_EQ(read.count, 0);
  EXPECT_TRUE(memlog::IsPurgedOffset(read.status)) << read.status;
  EXPECT_EQ(read.status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(read.status), HasSubstr("earliest available is 2"));
  // The key's range says where to resume.
  const Offset earliest = log->Range("a").value().earliest;
  EXPECT_EQ(earliest, 2);
  EXPECT_TRUE(log->ReadBatch("a", earliest, absl::MakeSpan(batch)).ok());
}

TEST(ShardedLogPurgeTest, ExactBoundariesForSeveralSegmentSizes) {
  for (const int64_t segment : {1, 2, 3, 1024}) {
    std::unique_ptr<Log> log =
        SharedShardLog({.shard = {.segment_size = segment}});
    for (int64_t i = 0; i < 2 * segment; ++i) {
      MustWrite(*log, i % 2 == 0 ? "a" : "b", "x");
    }
    EXPECT_EQ(log->ShardRange(0).value(), (OffsetRange{0, 2 * segment - 1}))
        << "segment size " << segment;
    MustWrite(*log, "a", "x");
    EXPECT_EQ(log->ShardRange(0).value(), (OffsetRange{segment, 2 * segment}))
        << "segment size " << segment;
    // The key index agrees with the log about what is left.
    const OffsetRange a = log->Range("a").value();
    EXPECT_GE(a.earliest, segment);
    EXPECT_EQ(a.latest, 2 * segment);
  }
}

// --- Isolation of keys in one shard ----------------------------------------

TEST(ShardedLogIsolationTest, KeysInOneShardNeverSeeEachOthersRecords) {
  // Invariant: whatever the read, a key only ever gets records written under
  // it, across purges.
  std::unique_ptr<Log> log = SharedShardLog({.shard = {.segment_size = 4}});
  std::vector<std::string> written_a;
  std::vector<std::string> written_b;
  for (int i = 0; i < 37; ++i) {
    const bool to_a = (i * 7) % 3 != 0;
    auto& written = to_a ? written_a : written_b;
    written.push_back((to_a ? "a" : "b") + std::to_string(i));
    MustWrite(*log, to_a ? "a" : "b", written.back());
  }
  for (const std::string_view key : {"a", "b"}) {
    const auto& written = key == "a" ? written_a : written_b;
    const OffsetRange shard = log->ShardRange(0).value();
    // Read and ReadView at every retained offset: the key's own, or
    // KeyNotFound.
    std::vector<std::string> by_offset;
    for (Offset offset = shard.earliest; offset <= shard.latest; ++offset) {
      absl::StatusOr<Record> record = log->Read(key, offset);
      absl::StatusOr<RecordView> view = log->ReadView(key, offset);
      ASSERT_EQ(record.ok(), view.ok());
      if (!record.ok()) {
        EXPECT_TRUE(IsKeyNotFound(record.status())) << record.status();
        continue;
      }
      EXPECT_EQ(record->key, key);
      EXPECT_EQ(view->key(), key);
      by_offset.push_back(record->data);
    }
    // Batches and ranges give the same records, which are the newest ones
    // written under the key.
    EXPECT_EQ(AllData(*log, key), by_offset);
    ASSERT_LE(by_offset.size(), written.size());
    EXPECT_TRUE(std::equal(by_offset.begin(), by_offset.end(),
                           written.end() - by_offset.size()));
  }
}

// --- Whole shards ----------------------------------------------------------

TEST(ShardedLogShardTest, ShardForTellsWhereAKeysRecordsGo) {
  std::unique_ptr<Log> log =
      Log::Create({.num_shards = 8, .shard = {}}).value();
  const size_t shard = log->ShardFor("users").value();
  EXPECT_LT(shard, 8u);
  const Offset offset = MustWrite(*log, "users", "tom");
  EXPECT_EQ(log->ShardRange(shard).value(), (OffsetRange{offset, offset}));
  absl::StatusOr<RecordView> record = log->ReadShard(shard, offset);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->key(), "users");
  EXPECT_EQ(record->data(), "tom");
}

TEST(ShardedLogShardTest, ReadShardReturnsEveryKeysRecords) {
  std::unique_ptr<Log> log = SharedShardLog();
  MustWrite(*log, "a", "a0");
  MustWrite(*log, "b", "b0");
  EXPECT_EQ(log->ReadShard(0, 0).value().ToRecord().key, "a");
  EXPECT_EQ(log->ReadShard(0, 1).value().ToRecord().key, "b");
  EXPECT_TRUE(IsFutureOffset(log->ReadShard(0, 2).status()));
  EXPECT_TRUE(IsFutureOffset(log->ReadShard(1, 0).status()));  // unused
}

TEST(ShardedLogShardTest, AShardIndexOutOfRangeIsRefused) {
  std::unique_ptr<Log> log = SharedShardLog();
  absl::StatusOr<OffsetRange> range = log->ShardRange(2);
  EXPECT_TRUE(memlog::IsInvalidShard(range.status())) << range.status();
  EXPECT_EQ(range.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(range.status()),
              HasSubstr("shard 2 does not exist; shards are 0..1"));
  absl::StatusOr<RecordView> record = log->ReadShard(2, 0);
  EXPECT_TRUE(memlog::IsInvalidShard(record.status())) << record.status();
  EXPECT_EQ(record.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(record.status()),
              HasSubstr("shard 2 does not exist; shards are 0..1"));
  EXPECT_TRUE(memlog::IsInvalidShard(log->ShardStreamFrom(2, 0).status()));
  // An unused shard that exists is merely empty.
  EXPECT_EQ(log->ShardRange(1).value(), OffsetRange{});
}

TEST(ShardedLogShardTest, MemoryUsageSumsTheShards) {
  std::unique_ptr<Log> log = SharedShardLog();
  EXPECT_EQ(log->memory_usage().records, 0);
  EXPECT_EQ(log->memory_usage().allocated_bytes, 0);
  MustWrite(*log, "a", "a0");
  MustWrite(*log, "c", "c0");
  MustWrite(*log, "c", "c1");
  const MemoryUsage usage = log->memory_usage();
  EXPECT_EQ(usage.records, 3);
  // Each stored record holds a 1-byte length, a 1-byte key and 2 bytes.
  EXPECT_EQ(usage.payload_bytes, 3 * 4);
  EXPECT_GT(usage.allocated_bytes, 0);
}

// --- Closing ---------------------------------------------------------------

TEST(ShardedLogCloseTest, WritesFailAfterCloseAndReadsStillWork) {
  std::unique_ptr<Log> log = SharedShardLog();
  MustWrite(*log, "a", "a0");
  EXPECT_FALSE(log->closed());
  log->Close();
  log->Close();  // idempotent
  EXPECT_TRUE(log->closed());
  absl::StatusOr<Offset> offset = log->Write("a", "a1");
  EXPECT_TRUE(IsClosed(offset.status())) << offset.status();
  // Also on a shard that was never used before the close.
  EXPECT_TRUE(IsClosed(log->Write("c", "c0").status()));
  EXPECT_EQ(log->Read("a", 0).value().data, "a0");
  EXPECT_EQ(log->Range("a").value(), (OffsetRange{0, 0}));
}

// --- Views -----------------------------------------------------------------

TEST(ShardedLogViewTest, AViewOutlivesPurgesAndTheLog) {
  std::unique_ptr<Log> log = SharedShardLog({.shard = {.segment_size = 2}});
  MustWrite(*log, "a", "first of a");
  RecordView view = log->ReadView("a", 0).value();
  for (int i = 0; i < 10; ++i) MustWrite(*log, "b", "b");
  EXPECT_TRUE(memlog::IsPurgedOffset(log->Read("a", 0).status()));
  log.reset();
  EXPECT_EQ(view.key(), "a");
  EXPECT_EQ(view.data(), "first of a");
  EXPECT_EQ(view.offset(), 0);
}

TEST(ShardedLogViewTest, ADefaultViewIsEmpty) {
  const RecordView view;
  EXPECT_EQ(view.offset(), kInvalidOffset);
  EXPECT_TRUE(view.key().empty());
  EXPECT_TRUE(view.data().empty());
}

// --- Concurrency -----------------------------------------------------------

TEST(ShardedLogConcurrencyTest,
     EachKeyKeepsItsWriteOrderUnderConcurrentWriters) {
  // Invariant: with many threads writing many keys that share a few shards,
  // each key's records read back in the order its writer wrote them, at
  // strictly increasing offsets, and never mixed with another key's. Readers
  // running alongside see, per key, a prefix of that order.
  constexpr int kWriters = 4;
  constexpr int kKeysPerWriter = 8;
  constexpr int kRecordsPerKey = 150;
  std::unique_ptr<Log> log =
      Log::Create({.num_shards = 3, .shard = {.segment_size = 1 << 16}})
          .value();
  auto key_of = [](int writer, int k) {
    return "w" + std::to_string(writer) + "k" + std::to_string(k);
  };

  std::latch start(kWriters + 1);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      start.arrive_and_wait();
      for (int i = 0; i < kRecordsPerKey; ++i) {
        for (int k = 0; k < kKeysPerWriter; ++k) {
          ASSERT_TRUE(log->Write(key_of(w, k), std::to_string(i)).ok());
        }
      }
    });
  }
  std::atomic<bool> done{false};
  std::thread reader([&] {
    start.arrive_and_wait();
    std::vector<Record> batch(64);
    while (!done.load()) {
      for (int w = 0; w < kWriters; ++w) {
        const std::string key = key_of(w, 0);
        ReadResult read = log->ReadBatch(key, 0, absl::MakeSpan(batch));
        for (int64_t i = 0; i < read.count; ++i) {
          ASSERT_EQ(batch[static_cast<size_t>(i)].key, key);
          ASSERT_EQ(batch[static_cast<size_t>(i)].data, std::to_string(i));
        }
      }
    }
  });
  for (std::thread& t : threads) t.join();
  done.store(true);
  reader.join();

  for (int w = 0; w < kWriters; ++w) {
    for (int k = 0; k < kKeysPerWriter; ++k) {
      const std::string key = key_of(w, k);
      std::vector<Record> all(kRecordsPerKey + 1);
      ReadResult read = log->ReadBatch(key, 0, absl::MakeSpan(all));
      ASSERT_EQ(read.count, kRecordsPerKey) << key;
      for (int i = 0; i < kRecordsPerKey; ++i) {
        EXPECT_EQ(all[i].key, key);
        EXPECT_EQ(all[i].data, std::to_string(i)) << key;
        if (i > 0) {
          EXPECT_GT(all[i].metadata.offset, all[i - 1].metadata.offset);
        }
      }
    }
  }
}

TEST(ShardedLogConcurrencyTest,
     ConcurrentWritersOfOneKeyGetUniqueOrderedOffsets) {
  // Invariant: offsets returned for one key are unique, and a thread's
  // records appear in its write order among the key's records.
  constexpr int kWriters = 4;
  constexpr int kRecordsPerWriter = 300;
  std::unique_ptr<Log> log =
      Log::Create({.num_shards = 4, .shard = {.segment_size = 4096}}).value();
  std::latch start(kWriters);
  std::vector<std::vector<Offset>> offsets(kWriters);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      start.arrive_and_wait();
      for (int i = 0; i < kRecordsPerWriter; ++i) {
        absl::StatusOr<Offset> offset =
            log->Write("shared", std::to_string(w) + ":" + std::to_string(i));
        ASSERT_TRUE(offset.ok()) << offset.status();
        offsets[w].push_back(*offset);
      }
    });
  }
  for (std::thread& t : threads) t.join();

  std::vector<Offset> all;
  for (const auto& mine : offsets) {
    EXPECT_TRUE(std::is_sorted(mine.begin(), mine.end()));
    all.insert(all.end(), mine.begin(), mine.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
  std::vector<int> next(kWriters, 0);
  std::vector<Record> batch(kWriters * kRecordsPerWriter);
  ReadResult read = log->ReadBatch("shared", 0, absl::MakeSpan(batch));
  ASSERT_TRUE(read.ok()) << read.status;
  for (const Record& record : batch) {
    const int w = record.data[0] - '0';
    EXPECT_EQ(record.data, std::to_string(w) + ":" + std::to_string(next[w]++));
  }
}

}  // namespace
}  // namespace sharded
}  // namespace memlog
