// Copyright memlog authors.
//
// The specification of the streams of a sharded log (sharded/stream.h): a
// key's stream returns only that key's records, in order, waits for the next
// one, ends on cancellation, deadline and close, and reports purges with the
// count of the key's records it missed. Whole-shard streams return every key.

#include <latch>
#include <memory>
#include <stop_token>
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
#include "sharded/stream.h"
#include "tests/sharded_test_support.h"
#include "tests/log_test_support.h"

namespace memlog::sharded {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using ::memlog::test::Message;
using test::MustWrite;
using test::SharedShardLog;
using test::TableSharder;

// The data of the next record, or the status as text.
std::string NextData(Stream& stream) {
  absl::StatusOr<RecordView> record = stream.NextUntil(absl::InfinitePast());
  return record.ok() ? std::string(record->data())
                     : "<" + record.status().ToString() + ">";
}

// A deadline that has passed: the stream returns what is written, never
// waits.
constexpr absl::Time kNoWait = absl::InfinitePast();

TEST(ShardedStreamTest, ReturnsOnlyItsKeysRecordsInOrder) {
  std::unique_ptr<Log> log = SharedShardLog();
  for (const char key : std::string("abbabaab")) {
    MustWrite(*log, std::string(1, key), std::string(1, key) + "!");
  }
  Stream stream = log->StreamFrom("a", 0).value();
  std::vector<Offset> offsets;
  for (;;) {
    absl::StatusOr<RecordView> record = stream.NextUntil(kNoWait);
    if (!record.ok()) {
      EXPECT_TRUE(memlog::IsWaitTimedOut(record.status())) << record.status();
      break;
    }
    EXPECT_EQ(record->key(), "a");
    EXPECT_EQ(record->data(), "a!");
    offsets.push_back(record->offset());
  }
  EXPECT_THAT(offsets, ElementsAre(0, 3, 5, 6));
  // It looked at everything written: the next record comes from offset 8 on.
  EXPECT_EQ(stream.position(), 8);
  EXPECT_EQ(stream.key(), "a");
}

TEST(ShardedStreamTest, StartsAtTheKeysFirstRecordAtOrAfterStart) {
  std::unique_ptr<Log> log = SharedShardLog();
  for (const char key : std::string("abab")) {
    MustWrite(*log, std::string(1, key), std::string(1, key));
  }
  Stream stream = log->StreamFrom("a", 1).value();
  absl::StatusOr<RecordView> record = stream.NextUntil(kNoWait);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->offset(), 2);
}

TEST(ShardedStreamTest, WaitsForTheKeysNextRecordIgnoringOtherKeys) {
  std::unique_ptr<Log> log = SharedShardLog();
  Stream stream = log->StreamFrom("a", 0).value();
  std::latch waiting(1);
  absl::StatusOr<RecordView> received;
  std::thread reader([&] {
    waiting.count_down();
    received = stream.Next();
  });
  waiting.wait();
  // Records of another key in the same shard wake the stream but are not
  // returned; the key's record is.
  MustWrite(*log, "b", "not for a");
  MustWrite(*log, "b", "not for a either");
  MustWrite(*log, "a", "for a");
  reader.join();
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(received->key(), "a");
  EXPECT_EQ(received->data(), "for a");
  EXPECT_EQ(received->offset(), 2);
}

TEST(ShardedStreamTest, StreamOfAnUnusedShardWakesOnItsFirstWrite) {
  std::unique_ptr<Log> log = SharedShardLog();
  Stream stream = log->StreamFrom("c", 0).value();
  std::thread writer([&] { MustWrite(*log, "c", "first"); });
  absl::StatusOr<RecordView> record = stream.Next();
  writer.join();
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->data(), "first");
}

TEST(ShardedStreamTest, AFutureStartWaitsForTheKeyAtOrAfterIt) {
  std::unique_ptr<Log> log = SharedShardLog();
  Stream stream = log->StreamFrom("a", 3).value();
  MustWrite(*log, "a", "0");
  MustWrite(*log, "a", "1");
  EXPECT_TRUE(memlog::IsWaitTimedOut(stream.NextUntil(kNoWait).status()));
  MustWrite(*log, "b", "2");
  MustWrite(*log, "a", "3");
  EXPECT_EQ(NextData(stream), "3");
}

TEST(ShardedStreamTest, AStartBeforeTheStartOffsetIsAnImpossibleOffset) {
  std::unique_ptr<Log> log = SharedShardLog({.shard = {.start_offset = 10}});
  MustWrite(*log, "a", "a");
  // Refused when the stream is made, for a used shard and an unused one.
  for (const char* key : {"a", "c"}) {
    SCOPED_TRACE(key);
    absl::StatusOr<Stream> stream = log->StreamFrom(key, 5);
    EXPECT_TRUE(memlog::IsImpossibleOffset(stream.status())) << stream.status();
    EXPECT_EQ(stream.status().code(), absl::StatusCode::kInvalidArgument);
  }
  absl::StatusOr<ShardStream> shard_stream = log->ShardStreamFrom(0, 9);
  EXPECT_TRUE(memlog::IsImpossibleOffset(shard_stream.status()))
      << shard_stream.status();
  EXPECT_TRUE(memlog::IsImpossibleOffset(log->ShardStreamFrom(1, -1).status()));
  // The start offset itself is fine.
  Stream stream = log->StreamFrom("a", 10).value();
  EXPECT_EQ(NextData(stream), "a");
}

TEST(ShardedStreamTest, AStreamOfABadShardIsAnInvalidShard) {
  std::unique_ptr<Log> log = SharedShardLog();
  absl::StatusOr<ShardStream> stream = log->ShardStreamFrom(2, 0);
  EXPECT_TRUE(memlog::IsInvalidShard(stream.status())) << stream.status();
  EXPECT_EQ(stream.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ShardedStreamTest, CancellingEndsABlockedNext) {
  std::unique_ptr<Log> log = SharedShardLog();
  std::stop_source stop;
  Stream stream = log->StreamFrom("a", 0, stop.get_token()).value();
  std::latch waiting(1);
  absl::StatusOr<RecordView> received;
  std::thread reader([&] {
    waiting.count_down();
    received = stream.Next();
  });
  waiting.wait();
  MustWrite(*log, "b", "other key");  // wakes it; it waits again
  stop.request_stop();
  reader.join();
  EXPECT_TRUE(memlog::IsWaitCancelled(received.status())) << received.status();
  EXPECT_THAT(Message(received.status()), HasSubstr("\"a\""));
  // A cancelled stream stays cancelled, even with records to return.
  MustWrite(*log, "a", "late");
  EXPECT_TRUE(memlog::IsWaitCancelled(stream.Next().status()));
}

TEST(ShardedStreamTest, ADeadlineLeavesTheStreamUsable) {
  std::unique_ptr<Log> log = SharedShardLog();
  Stream stream = log->StreamFrom("a", 0).value();
  absl::StatusOr<RecordView> record =
      stream.NextUntil(absl::Now() + absl::Milliseconds(1));
  EXPECT_TRUE(memlog::IsWaitTimedOut(record.status())) << record.status();
  MustWrite(*log, "a", "now");
  EXPECT_EQ(NextData(stream), "now");
}

TEST(ShardedStreamTest, CloseReturnsWhatWasWrittenThenEnds) {
  std::unique_ptr<Log> log = SharedShardLog();
  MustWrite(*log, "a", "before close");
  Stream stream = log->StreamFrom("a", 0).value();
  Stream idle = log->StreamFrom("c", 0).value();
  std::latch waiting(1);
  absl::StatusOr<RecordView> idle_result;
  std::thread reader([&] {
    waiting.count_down();
    idle_result = idle.Next();
  });
  waiting.wait();
  log->Close();
  reader.join();
  EXPECT_TRUE(IsClosed(idle_result.status())) << idle_result.status();
  EXPECT_EQ(NextData(stream), "before close");
  EXPECT_TRUE(IsClosed(stream.Next().status()));
}

TEST(ShardedStreamTest, NextBatchReturnsTheKeysWrittenRecordsWithoutWaiting) {
  std::unique_ptr<Log> log = SharedShardLog();
  for (int i = 0; i < 200; ++i) {
    MustWrite(*log, "a", std::to_string(i));
    MustWrite(*log, "b", "noise");
  }
  Stream stream = log->StreamFrom("a", 0).value();
  // More than fits in one index chunk, fewer than the batch holds.
  std::vector<RecordView> batch(250);
  ReadResult read = stream.NextBatch(absl::MakeSpan(batch));
  ASSERT_TRUE(read.ok()) << read.status;
  ASSERT_EQ(read.count, 200);
  for (size_t i = 0; i < static_cast<size_t>(read.count); ++i) {
    EXPECT_EQ(batch[i].key(), "a");
    EXPECT_EQ(batch[i].data(), std::to_string(i));
  }
  // Nothing more: the next batch waits, here until a deadline.
  EXPECT_TRUE(memlog::IsWaitTimedOut(
      stream.NextBatch(absl::MakeSpan(batch), kNoWait).status));
}

// --- Purges and lag --------------------------------------------------------

TEST(ShardedStreamLagTest, ReportsTheExactCountOfTheKeysMissedRecords) {
  // Segment size 4. The stream reads a's record at 0, then falls behind while
  // a and b write 12 more records: a b a b | a b a b | a b a b. The writes
  // of 8 and 12 purge offsets 0..7, with a's records at 2, 4 and 6.
  std::unique_ptr<Log> log = SharedShardLog({.shard = {.segment_size = 4}});
  MustWrite(*log, "a", "a0");
  Stream stream = log->StreamFrom("a", 0).value();
  EXPECT_EQ(NextData(stream), "a0");
  for (int i = 1; i <= 12; ++i) {
    MustWrite(*log, i % 2 == 0 ? "a" : "b", "x" + std::to_string(i));
  }
  ASSERT_EQ(log->ShardRange(0).value(), (OffsetRange{8, 12}));

  absl::StatusOr<RecordView> lagged = stream.Next();
  EXPECT_TRUE(IsLagged(lagged.status())) << lagged.status();
  EXPECT_EQ(LaggedCount(lagged.status()), 3);
  EXPECT_TRUE(IsLaggedCountExact(lagged.status()));
  EXPECT_THAT(Message(lagged.status()),
              HasSubstr("3 of its records at offsets from 1 were purged; "
                        "continuing from offset 8"));
  // It continues with the key's earliest retained record.
  EXPECT_EQ(log->Range("a").value().earliest, 8);
  EXPECT_EQ(NextData(stream), "x8");
  EXPECT_EQ(NextData(stream), "x10");
  EXPECT_EQ(NextData(stream), "x12");
}

TEST(ShardedStreamLagTest, RecordsFoundAheadThenPurgedAreReportedExactly) {
  // Segment size 4. a writes at 0, 2 and 4; the stream returns 0. b's writes
  // then purge 0..3 (the write of 8), taking a's 2, which the stream has not
  // returned: exactly one record missed, whatever the stream looked up ahead.
  std::unique_ptr<Log> log = SharedShardLog({.shard = {.segment_size = 4}});
  for (int i = 0; i <= 4; ++i) {
    MustWrite(*log, i % 2 == 0 ? "a" : "b", "x" + std::to_string(i));
  }
  Stream stream = log->StreamFrom("a", 0).value();
  EXPECT_EQ(NextData(stream), "x0");
  for (int i = 5; i <= 9; ++i) MustWrite(*log, "b", "x" + std::to_string(i));
  MustWrite(*log, "a", "x10");
  ASSERT_EQ(log->ShardRange(0).value(), (OffsetRange{4, 10}));

  absl::StatusOr<RecordView> lagged = stream.Next();
  EXPECT_TRUE(IsLagged(lagged.status())) << lagged.status();
  EXPECT_EQ(LaggedCount(lagged.status()), 1);
  EXPECT_TRUE(IsLaggedCountExact(lagged.status()));
  EXPECT_EQ(NextData(stream), "x4");
  EXPECT_EQ(NextData(stream), "x10");
}

TEST(ShardedStreamLagTest, APurgeOfOnlyOtherKeysRecordsIsNotALag) {
  // a writes at 0 and 4, b everything else. The stream has read a's 0 when
  // the write of 8 purges 0..3, which held none of a's unread records.
  std::unique_ptr<Log> log = SharedShardLog({.shard = {.segment_size = 4}});
  MustWrite(*log, "a", "a0");
  Stream stream = log->StreamFrom("a", 0).value();
  EXPECT_EQ(NextData(stream), "a0");
  for (const char* key : {"b", "b", "b", "a", "b", "b", "b", "b"}) {
    MustWrite(*log, key, std::string(key) + "!");
  }
  ASSERT_EQ(log->ShardRange(0).value(), (OffsetRange{4, 8}));
  absl::StatusOr<RecordView> record = stream.Next();
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->offset(), 4);
}

TEST(ShardedStreamLagTest,
     AStreamStartingAtAPurgedOffsetIsToldAtLeastWhatItMissed) {
  // a writes 0..8 alone; the write of 8 purges 0..3. A new stream from 0 has
  // seen nothing of a, so the count is what the index can prove: the 4 first
  // records of a's numbering are gone.
  std::unique_ptr<Log> log = SharedShardLog({.shard = {.segment_size = 4}});
  for (int i = 0; i <= 8; ++i) MustWrite(*log, "a", "a" + std::to_string(i));
  Stream stream = log->StreamFrom("a", 0).value();
  absl::StatusOr<RecordView> lagged = stream.Next();
  EXPECT_TRUE(IsLagged(lagged.status())) << lagged.status();
  EXPECT_EQ(LaggedCount(lagged.status()), 4);
  EXPECT_FALSE(IsLaggedCountExact(lagged.status()));
  // The message says so too, for the people who read it.
  EXPECT_THAT(Message(lagged.status()), HasSubstr("at least 4"));
  EXPECT_EQ(NextData(stream), "a4");
}

TEST(ShardedStreamLagTest, AKeySilentForASegmentGivesALowerBound) {
  // a writes at 0 and 1, then b fills two segments: a's records are purged
  // with no trace. When a writes again, the stream cannot know how many of
  // a's records it missed; it says so, and continues with a's new record.
  std::unique_ptr<Log> log = SharedShardLog({.shard = {.segment_size = 2}});
  MustWrite(*log, "a", "a0");
  Stream stream = log->StreamFrom("a", 0).value();
  EXPECT_EQ(NextData(stream), "a0");
  MustWrite(*log, "a", "a1");
  for (int i = 0; i < 4; ++i) MustWrite(*log, "b", "b");
  MustWrite(*log, "a", "a2");
  ASSERT_EQ(log->ShardRange(0).value(), (OffsetRange{4, 6}));
  absl::StatusOr<RecordView> lagged = stream.Next();
  EXPECT_TRUE(IsLagged(lagged.status())) << lagged.status();
  EXPECT_FALSE(IsLaggedCountExact(lagged.status()));
  EXPECT_THAT(Message(lagged.status()), HasSubstr("at least"));
  EXPECT_EQ(NextData(stream), "a2");
}

TEST(ShardedStreamLagTest, AStreamThatKeepsUpIsNeverLagged) {
  // Invariant: a stream that reads each record of its key as it is written
  // sees them all, however many purges other keys cause.
  std::unique_ptr<Log> log = SharedShardLog({.shard = {.segment_size = 3}});
  Stream stream = log->StreamFrom("a", 0).value();
  for (int i = 0; i < 30; ++i) {
    for (int j = 0; j < 5; ++j) MustWrite(*log, "b", "b");
    MustWrite(*log, "a", "a" + std::to_string(i));
    EXPECT_EQ(NextData(stream), "a" + std::to_string(i));
  }
}

// --- Whole-shard streams -----------------------------------------------------

TEST(ShardStreamTest, ReturnsEveryKeysRecordsOfTheShard) {
  std::unique_ptr<Log> log = SharedShardLog();
  MustWrite(*log, "a", "a0");
  MustWrite(*log, "c", "c0");
  MustWrite(*log, "b", "b0");
  ShardStream stream = log->ShardStreamFrom(0, 0).value();
  EXPECT_EQ(stream.shard(), 0u);
  std::vector<std::string> seen;
  std::vector<RecordView> batch(8);
  ReadResult read = stream.NextBatch(absl::MakeSpan(batch));
  ASSERT_TRUE(read.ok()) << read.status;
  for (size_t i = 0; i < static_cast<size_t>(read.count); ++i) {
    seen.push_back(std::string(batch[i].key()) + "=" +
                   std::string(batch[i].data()));
  }
  EXPECT_THAT(seen, ElementsAre("a=a0", "b=b0"));
  EXPECT_EQ(stream.position(), 2);
  EXPECT_TRUE(memlog::IsWaitTimedOut(stream.NextUntil(kNoWait).status()));
}

TEST(ShardStreamTest, NextBatchFillsALargeBatchWithWhatIsWritten) {
  std::unique_ptr<Log> log = SharedShardLog();
  for (int i = 0; i < 100; ++i) {
    MustWrite(*log, i % 2 ? "a" : "b", std::to_string(i));
  }
  ShardStream stream = log->ShardStreamFrom(0, 0).value();
  std::vector<RecordView> batch(150);
  ReadResult read = stream.NextBatch(absl::MakeSpan(batch));
  ASSERT_TRUE(read.ok()) << read.status;
  ASSERT_EQ(read.count, 100);
  for (size_t i = 0; i < static_cast<size_t>(read.count); ++i) {
    EXPECT_EQ(batch[i].key(), i % 2 ? "a" : "b");
    EXPECT_EQ(batch[i].data(), std::to_string(i));
  }
}

TEST(ShardStreamTest, ReportsLagInRecordsOfTheShard) {
  std::unique_ptr<Log> log = SharedShardLog({.shard = {.segment_size = 2}});
  for (int i = 0; i < 5; ++i) MustWrite(*log, i % 2 ? "a" : "b", "x");
  ShardStream stream = log->ShardStreamFrom(0, 0).value();
  absl::StatusOr<RecordView> lagged = stream.Next();
  EXPECT_TRUE(IsLagged(lagged.status())) << lagged.status();
  EXPECT_EQ(LaggedCount(lagged.status()), 2);
  EXPECT_TRUE(IsLaggedCountExact(lagged.status()));
  EXPECT_EQ(stream.Next().value().offset(), 2);
}

// --- Concurrency -----------------------------------------------------------

TEST(ShardedStreamConcurrencyTest, EachKeysStreamSeesExactlyItsRecordsInOrder) {
  // Invariant: with writers of several keys sharing two shards, and no
  // purges, each key's stream returns exactly that key's records, in the
  // order written, with strictly increasing offsets and nothing else.
  constexpr int kKeys = 6;
  constexpr int kRecordsPerKey = 200;
  std::unique_ptr<Log> log =
      Log::Create({.num_shards = 2, .shard = {.segment_size = 1 << 16}})
          .value();
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kKeys);
  for (int k = 0; k < kKeys; ++k) {
    threads.emplace_back([&, k] {
      const std::string key = "key" + std::to_string(k);
      Stream stream = log->StreamFrom(key, 0).value();
      Offset last = kInvalidOffset;
      std::vector<RecordView> batch(16);
      int expected = 0;
      while (expected < kRecordsPerKey) {
        ReadResult read = stream.NextBatch(absl::MakeSpan(batch));
        if (!read.ok()) {
          failures[k] = read.status.ToString();
          return;
        }
        for (size_t i = 0; i < static_cast<size_t>(read.count); ++i) {
          if (batch[i].key() != key ||
              batch[i].data() != std::to_string(expected) ||
              batch[i].offset() <= last) {
            failures[k] = "unexpected record " + std::string(batch[i].key()) +
                          "=" + std::string(batch[i].data());
            return;
          }
          last = batch[i].offset();
          ++expected;
        }
      }
    });
  }
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kRecordsPerKey; ++i) {
        for (int k = w; k < kKeys; k += 2) {
          ASSERT_TRUE(
              log->Write("key" + std::to_string(k), std::to_string(i)).ok());
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int k = 0; k < kKeys; ++k) EXPECT_EQ(failures[k], "") << "key" << k;
}

TEST(ShardedStreamConcurrencyTest, LagCountsAddUpWhilePurgesOvertakeStreams) {
  // Invariant: with small segments, so that purges overtake the streams, each
  // key's stream returns the key's records in write order, and every gap in
  // what it returns was announced: exact lag counts add up to exactly the
  // records skipped, and once a lower bound ("at least") was reported, the
  // gap is at least what was announced (IsLaggedCountExact() tells which).
  // After the close, a stream that knows its count exactly ends with IsClosed
  // having returned the key's last record.
  constexpr int kKeys = 4;
  constexpr int kRecordsPerKey = 2000;
  std::unique_ptr<Log> log =
      Log::Create({.num_shards = 2, .shard = {.segment_size = 8}}).value();
  std::vector<std::string> failures(kKeys);
  std::vector<std::thread> threads;
  for (int k = 0; k < kKeys; ++k) {
    threads.emplace_back([&, k] {
      const std::string key = "key" + std::to_string(k);
      Stream stream = log->StreamFrom(key, 0).value();
      // The number the next record carries: exactly, or (after a lower-bound
      // lag report) at least.
      int64_t expected = 0;
      bool exact = true;
      for (;;) {
        absl::StatusOr<RecordView> record = stream.Next();
        if (IsLagged(record.status())) {
          expected += LaggedCount(record.status());
          if (!IsLaggedCountExact(record.status())) exact = false;
          continue;
        }
        if (IsClosed(record.status())) {
          if (exact ? expected != kRecordsPerKey : expected > kRecordsPerKey) {
            failures[k] = "closed after " + std::to_string(expected);
          }
          return;
        }
        if (!record.ok()) {
          failures[k] = record.status().ToString();
          return;
        }
        const int64_t number = std::stoll(std::string(record->data()));
        if (record->key() != key || number < expected ||
            (exact && number != expected)) {
          failures[k] = "expected " + std::to_string(expected) + ", got " +
                        std::string(record->key()) + "=" +
                        std::string(record->data());
          return;
        }
        expected = number + 1;
        exact = true;
      }
    });
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kRecordsPerKey; ++i) {
        for (int k = w; k < kKeys; k += 2) {
          ASSERT_TRUE(
              log->Write("key" + std::to_string(k), std::to_string(i)).ok());
        }
      }
    });
  }
  for (std::thread& t : writers) t.join();
  log->Close();
  for (std::thread& t : threads) t.join();
  for (int k = 0; k < kKeys; ++k) {
    EXPECT_EQ(failures[k], "") << "key" << k;
  }
}

}  // namespace
}  // namespace memlog::sharded
