// Copyright memlog authors.
//
// The specification of memlog::Stream (memlog/stream.h) and Log::WaitFor:
// streams from the past, the latest record and the future; blocking until a
// write; ending on cancellation, deadline, close and purge.
//
// No test sleeps. Where a thread must be waiting before another acts, the
// test hands over with a latch; if the waiter has not reached its wait yet,
// it finds the state already changed, so every interleaving leads to the same
// result.

#include "memlog/stream.h"

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <latch>
#include <limits>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "memlog/log.h"
#include "tests/log_test_support.h"

namespace memlog {
namespace {

using test::MakeLog;
using test::Payload;
using test::WriteRecords;

// The offset of a stream's result, or its status as text.
std::string Describe(const absl::StatusOr<RecordView>& record) {
  if (!record.ok()) return record.status().ToString();
  return "offset " + std::to_string(record->offset()) + ": " +
         std::string(record->data());
}

// Expects the next record of `stream` to be `offset` with Payload(offset).
void ExpectNext(Stream& stream, Offset offset) {
  absl::StatusOr<RecordView> record = stream.Next();
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->offset(), offset);
  EXPECT_EQ(record->data(), Payload(offset));
}

// A deadline that has passed: the deadline forms must not wait at all.
const absl::Time kPast = absl::InfinitePast();

// ---------------------------------------------------------------------------
// Where a stream starts.

TEST(StreamTest, StreamFromThePastReturnsEveryRecordInOrder) {
  std::unique_ptr<Log> log = MakeLog({.start_offset = 10});
  WriteRecords(*log, 5);
  Stream stream = log->StreamFrom(10).value();
  EXPECT_EQ(stream.position(), 10);
  for (Offset offset = 10; offset < 15; ++offset) {
    ExpectNext(stream, offset);
    EXPECT_EQ(stream.position(), offset + 1);
  }
}

TEST(StreamTest, StreamFromTheMiddleStartsThere) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 5);
  Stream stream = log->StreamFrom(3).value();
  ExpectNext(stream, 3);
  ExpectNext(stream, 4);
}

TEST(StreamTest, StreamFromTheLatestReturnsItThenWaits) {
  std::unique_ptr<Log> log = MakeLog({.start_offset = 10});
  WriteRecords(*log, 5);
  Stream stream = log->StreamFrom(log->Range().latest).value();
  ExpectNext(stream, 14);
  absl::StatusOr<RecordView> none = stream.NextUntil(kPast);
  EXPECT_TRUE(memlog::IsWaitTimedOut(none.status())) << Describe(none);
  EXPECT_EQ(stream.position(), 15);
  WriteRecords(*log, 1);
  ExpectNext(stream, 15);
}

TEST(StreamTest, StreamFromTheFutureReturnsNothingUntilItIsWritten) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 2);
  Stream stream = log->StreamFrom(5).value();
  for (int i = 0; i < 4; ++i) {
    // Offsets 2..4 are written, but the stream waits for 5.
    absl::StatusOr<RecordView> none = stream.NextUntil(kPast);
    EXPECT_TRUE(memlog::IsWaitTimedOut(none.status())) << Describe(none);
    EXPECT_EQ(stream.position(), 5);
    WriteRecords(*log, 1);
  }
  ExpectNext(stream, 5);
}

TEST(StreamTest, StreamOfAnEmptyLogWaitsForTheFirstRecord) {
  std::unique_ptr<Log> log = MakeLog({.start_offset = 7});
  Stream stream = log->StreamFrom(7).value();
  EXPECT_TRUE(memlog::IsWaitTimedOut(stream.NextUntil(kPast).status()));
  WriteRecords(*log, 1);
  ExpectNext(stream, 7);
}

TEST(StreamTest, StreamFromBeforeTheStartOffsetIsAnImpossibleOffset) {
  std::unique_ptr<Log> log = MakeLog({.start_offset = 100});
  WriteRecords(*log, 3);
  for (Offset start : {Offset{99}, Offset{50}, Offset{0}, Offset{-1},
                       std::numeric_limits<Offset>::min()}) {
    SCOPED_TRACE(start);
    absl::StatusOr<Stream> stream = log->StreamFrom(start);
    EXPECT_TRUE(memlog::IsImpossibleOffset(stream.status())) << stream.status();
    EXPECT_EQ(stream.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_FALSE(IsLagged(stream.status()));
  }
  // The start offset itself is fine.
  Stream stream = log->StreamFrom(100).value();
  ExpectNext(stream, 100);
}

TEST(StreamTest, StreamFromPastMaxOffsetIsAnImpossibleOffset) {
  std::unique_ptr<Log> log = MakeLog();
  absl::StatusOr<Stream> stream =
      log->StreamFrom(std::numeric_limits<Offset>::max());
  EXPECT_TRUE(memlog::IsImpossibleOffset(stream.status())) << stream.status();
  EXPECT_TRUE(log->StreamFrom(kMaxOffset).ok());
}

TEST(StreamTest, MovedStreamKeepsItsPosition) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 3);
  Stream stream = log->StreamFrom(0).value();
  ExpectNext(stream, 0);
  Stream moved = std::move(stream);
  EXPECT_EQ(moved.position(), 1);
  ExpectNext(moved, 1);
  Stream assigned = log->StreamFrom(0).value();
  assigned = std::move(moved);
  ExpectNext(assigned, 2);
}

TEST(StreamTest, ViewsFromAStreamOutliveTheStreamAndTheLog) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 2);
  absl::StatusOr<RecordView> record;
  {
    Stream stream = log->StreamFrom(1).value();
    record = stream.Next();
  }
  log.reset();
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->data(), Payload(1));
}

// ---------------------------------------------------------------------------
// Blocking until a write.

TEST(StreamTest, NextBlocksUntilAWriteWakesIt) {
  std::unique_ptr<Log> log = MakeLog();
  std::latch reader_started(1);
  absl::StatusOr<RecordView> record;
  std::thread reader([&] {
    Stream stream = log->StreamFrom(0).value();
    reader_started.count_down();
    record = stream.Next();
  });
  reader_started.wait();
  WriteRecords(*log, 1);
  reader.join();
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->offset(), 0);
  EXPECT_EQ(record->data(), Payload(0));
}

// The writer waits for the reader to take each record before it writes the
// next, so the reader is (nearly always) asleep in Next() when the write
// comes: each round exercises the wake-up.
TEST(StreamTest, EachWriteWakesTheWaitingStreamInTurn) {
  constexpr int kRounds = 200;
  std::unique_ptr<Log> log = MakeLog({.segment_size = 16});
  std::mutex mu;
  std::condition_variable taken_cv;
  Offset taken = -1;
  std::vector<std::string> seen;
  std::thread reader([&] {
    Stream stream = log->StreamFrom(0).value();
    for (int i = 0; i < kRounds; ++i) {
      absl::StatusOr<RecordView> record = stream.Next();
      std::lock_guard<std::mutex> lock(mu);
      seen.push_back(Describe(record));
      taken = record.ok() ? record->offset() : -2;
      taken_cv.notify_one();
    }
  });
  for (Offset offset = 0; offset < kRounds; ++offset) {
    WriteRecords(*log, 1);
    std::unique_lock<std::mutex> lock(mu);
    taken_cv.wait(lock, [&] { return taken != offset - 1; });
    if (taken != offset) break;  // the comparison below shows what came
  }
  log->Close();  // ends the reader early if a round went wrong
  reader.join();
  ASSERT_EQ(seen.size(), static_cast<size_t>(kRounds));
  for (Offset offset = 0; offset < kRounds; ++offset) {
    EXPECT_EQ(seen[offset],
              "offset " + std::to_string(offset) + ": " + Payload(offset));
  }
}

TEST(StreamTest, ManyStreamsEachReceiveEveryRecordInOrder) {
  constexpr int kReaders = 4;
  constexpr int kRecords = 100;
  std::unique_ptr<Log> log = MakeLog({.segment_size = 1024});
  std::vector<std::vector<Offset>> offsets(kReaders);
  std::vector<absl::Status> endings(kReaders);
  std::latch started(kReaders);
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      Stream stream = log->StreamFrom(0).value();
      started.count_down();
      for (;;) {
        absl::StatusOr<RecordView> record = stream.Next();
        if (!record.ok()) {
          endings[r] = record.status();
          return;
        }
        if (record->data() != Payload(record->offset())) {
          endings[r] = absl::DataLossError("corrupt record");
          return;
        }
        offsets[r].push_back(record->offset());
      }
    });
  }
  started.wait();
  WriteRecords(*log, kRecords);
  log->Close();
  for (std::thread& reader : readers) reader.join();
  std::vector<Offset> all(kRecords);
  for (int i = 0; i < kRecords; ++i) all[i] = i;
  for (int r = 0; r < kReaders; ++r) {
    EXPECT_TRUE(IsClosed(endings[r])) << endings[r];
    EXPECT_EQ(offsets[r], all) << "reader " << r;
  }
}

// ---------------------------------------------------------------------------
// Deadlines.

TEST(StreamTest, NextUntilAPastDeadlineReturnsAWrittenRecord) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 1);
  Stream stream = log->StreamFrom(0).value();
  absl::StatusOr<RecordView> record = stream.NextUntil(kPast);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->offset(), 0);
}

TEST(StreamTest, NextUntilAPastDeadlineWithoutARecordExceedsItAndStays) {
  std::unique_ptr<Log> log = MakeLog();
  Stream stream = log->StreamFrom(0).value();
  const absl::Time past = absl::Now() - absl::Seconds(1);
  absl::StatusOr<RecordView> record = stream.NextUntil(past);
  EXPECT_TRUE(memlog::IsWaitTimedOut(record.status())) << Describe(record);
  EXPECT_EQ(record.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(stream.position(), 0);
  // The stream stays usable.
  WriteRecords(*log, 1);
  ExpectNext(stream, 0);
}

TEST(StreamTest, NextForZeroOrNegativeTimeoutDoesNotWait) {
  std::unique_ptr<Log> log = MakeLog();
  Stream stream = log->StreamFrom(0).value();
  EXPECT_TRUE(
      memlog::IsWaitTimedOut(stream.NextFor(absl::ZeroDuration()).status()));
  EXPECT_TRUE(
      memlog::IsWaitTimedOut(stream.NextFor(-absl::Seconds(1)).status()));
  WriteRecords(*log, 1);
  absl::StatusOr<RecordView> record = stream.NextFor(absl::ZeroDuration());
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->offset(), 0);
}

TEST(StreamTest, NextForIsWokenByAWriteBeforeItsTimeout) {
  std::unique_ptr<Log> log = MakeLog();
  std::latch reader_started(1);
  absl::StatusOr<RecordView> record;
  std::thread reader([&] {
    Stream stream = log->StreamFrom(0).value();
    reader_started.count_down();
    // Far longer than the test may run: only the write can end the wait.
    record = stream.NextFor(absl::Hours(1));
  });
  reader_started.wait();
  WriteRecords(*log, 1);
  reader.join();
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->offset(), 0);
}

// ---------------------------------------------------------------------------
// Cancellation.

TEST(StreamTest, NextOnACancelledStreamReturnsCancelledWithoutAdvancing) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 3);
  std::stop_source stop;
  Stream stream = log->StreamFrom(0, stop.get_token()).value();
  ExpectNext(stream, 0);
  stop.request_stop();
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<RecordView> record = stream.Next();
    EXPECT_TRUE(memlog::IsWaitCancelled(record.status())) << Describe(record);
    EXPECT_EQ(record.status().code(), absl::StatusCode::kCancelled);
    EXPECT_EQ(stream.position(), 1);
  }
}

TEST(StreamTest, CancellingABlockedNextEndsIt) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 1);
  std::stop_source stop;
  std::latch reader_started(1);
  absl::StatusOr<RecordView> record;
  Offset position = -1;
  std::thread reader([&] {
    Stream stream = log->StreamFrom(1, stop.get_token()).value();
    reader_started.count_down();
    record = stream.Next();
    position = stream.position();
  });
  reader_started.wait();
  stop.request_stop();
  reader.join();
  EXPECT_TRUE(memlog::IsWaitCancelled(record.status())) << Describe(record);
  EXPECT_EQ(position, 1);
  // Cancelling the stream does not touch the log.
  EXPECT_FALSE(log->closed());
  EXPECT_TRUE(log->Write("after").ok());
}

// The spinning wait policy changes how a stream waits, not what it returns:
// woken by a write while it polls, or after it has gone to sleep (a spin
// shorter than the writer's delay), cancelled and closed as a blocking one.
TEST(StreamTest, SpinningStreamReceivesRecordsWrittenWhileItPollsOrSleeps) {
  for (const absl::Duration spin : {absl::Seconds(1), absl::Microseconds(1)}) {
    SCOPED_TRACE(absl::FormatDuration(spin));
    std::unique_ptr<Log> log =
        Log::Create({.segment_size = 4, .wait_spin = spin}).value();
    std::latch reader_started(1);
    std::vector<std::string> received;
    absl::Status ended;
    std::thread reader([&] {
      Stream stream = log->StreamFrom(0).value();
      reader_started.count_down();
      for (;;) {
        absl::StatusOr<RecordView> record = stream.Next();
        if (!record.ok()) {
          ended = record.status();
          return;
        }
        received.emplace_back(record->data());
      }
    });
    reader_started.wait();
    WriteRecords(*log, 3);
    log->Close();
    reader.join();
    EXPECT_TRUE(memlog::IsClosed(ended)) << ended;
    EXPECT_EQ(received, (std::vector<std::string>{Payload(0), Payload(1),
                                                  Payload(2)}));
  }
}

TEST(StreamTest, CancellingASpinningStreamEndsIt) {
  std::unique_ptr<Log> log =
      Log::Create({.wait_spin = absl::Seconds(1)}).value();
  std::stop_source stop;
  std::latch reader_started(1);
  absl::StatusOr<RecordView> record;
  std::thread reader([&] {
    Stream stream = log->StreamFrom(0, stop.get_token()).value();
    reader_started.count_down();
    record = stream.Next();
  });
  reader_started.wait();
  stop.request_stop();
  reader.join();
  EXPECT_TRUE(memlog::IsWaitCancelled(record.status())) << Describe(record);
}

TEST(StreamTest, JthreadStopTokenCancelsItsStreamOnDestruction) {
  std::unique_ptr<Log> log = MakeLog();
  std::latch reader_started(1);
  absl::Status ending;
  {
    std::jthread reader([&](std::stop_token stop) {
      Stream stream = log->StreamFrom(0, stop).value();
      reader_started.count_down();
      absl::StatusOr<RecordView> record = stream.Next();
      ending = record.status();
    });
    reader_started.wait();
  }  // ~jthread requests stop, then joins.
  EXPECT_TRUE(memlog::IsWaitCancelled(ending)) << ending;
}

TEST(StreamTest, CancellingOneStreamLeavesOthersWaiting) {
  std::unique_ptr<Log> log = MakeLog();
  std::stop_source cancelled;
  std::stop_source kept;
  Stream first = log->StreamFrom(0, cancelled.get_token()).value();
  Stream second = log->StreamFrom(0, kept.get_token()).value();
  cancelled.request_stop();
  EXPECT_TRUE(memlog::IsWaitCancelled(first.Next().status()));
  EXPECT_TRUE(memlog::IsWaitTimedOut(second.NextUntil(kPast).status()));
  WriteRecords(*log, 1);
  ExpectNext(second, 0);
}

// ---------------------------------------------------------------------------
// Close.

TEST(StreamTest, ClosedLogStreamReturnsWhatExistsThenClosed) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 3);
  log->Close();
  Stream stream = log->StreamFrom(0).value();
  for (Offset offset = 0; offset < 3; ++offset) ExpectNext(stream, offset);
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<RecordView> record = stream.Next();
    EXPECT_TRUE(IsClosed(record.status())) << Describe(record);
    EXPECT_EQ(record.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(stream.position(), 3);
  }
}

TEST(StreamTest, ClosingWhileBlockedEndsTheStreamWithClosed) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 2);
  std::latch reader_started(1);
  std::vector<std::string> seen;
  absl::Status ending;
  std::thread reader([&] {
    Stream stream = log->StreamFrom(0).value();
    for (;;) {
      absl::StatusOr<RecordView> record = stream.Next();
      if (!record.ok()) {
        ending = record.status();
        return;
      }
      seen.push_back(Describe(record));
      // After the records that exist it blocks in the next call.
      if (record->offset() == 1) reader_started.count_down();
    }
  });
  reader_started.wait();
  log->Close();
  reader.join();
  EXPECT_TRUE(IsClosed(ending)) << ending;
  EXPECT_EQ(seen, (std::vector<std::string>{"offset 0: " + Payload(0),
                                            "offset 1: " + Payload(1)}));
}

TEST(StreamTest, RecordsWrittenJustBeforeCloseAreStillReturned) {
  std::unique_ptr<Log> log = MakeLog();
  std::latch reader_started(1);
  std::vector<Offset> offsets;
  absl::Status ending;
  std::thread reader([&] {
    Stream stream = log->StreamFrom(0).value();
    reader_started.count_down();
    for (;;) {
      absl::StatusOr<RecordView> record = stream.Next();
      if (!record.ok()) {
        ending = record.status();
        return;
      }
      offsets.push_back(record->offset());
    }
  });
  reader_started.wait();
  WriteRecords(*log, 3);
  log->Close();
  reader.join();
  EXPECT_TRUE(IsClosed(ending)) << ending;
  EXPECT_EQ(offsets, (std::vector<Offset>{0, 1, 2}));
}

// ---------------------------------------------------------------------------
// Overtaken by purges.

TEST(StreamTest, StreamOvertakenByPurgesReportsLaggedThenContinues) {
  std::unique_ptr<Log> log = MakeLog({.segment_size = 2});
  Stream stream = log->StreamFrom(0).value();
  WriteRecords(*log, 7);  // segments 0-1, 2-3, 4-5, 6: retains 4..6
  ASSERT_EQ(log->Range().earliest, 4);
  absl::StatusOr<RecordView> record = stream.Next();
  EXPECT_TRUE(IsLagged(record.status())) << Describe(record);
  EXPECT_EQ(record.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(LaggedCount(record.status()), 4);
  EXPECT_EQ(stream.position(), 4);
  ExpectNext(stream, 4);
  ExpectNext(stream, 5);
  ExpectNext(stream, 6);
}

TEST(StreamTest, LaggedCountIsExactForEverySegmentSizeAndPosition) {
  for (int64_t segment_size = 1; segment_size <= 3; ++segment_size) {
    for (int64_t writes = 1; writes <= 4 * segment_size + 1; ++writes) {
      std::unique_ptr<Log> log =
          MakeLog({.start_offset = 20, .segment_size = segment_size});
      WriteRecords(*log, writes);
      const OffsetRange range = log->Range();
      for (Offset from = 20; from <= range.latest; ++from) {
        SCOPED_TRACE(testing::Message()
                     << "segment size " << segment_size << ", " << writes
                     << " writes, stream from " << from);
        Stream stream = log->StreamFrom(from).value();
        if (from < range.earliest) {
          absl::StatusOr<RecordView> lagged = stream.Next();
          ASSERT_TRUE(IsLagged(lagged.status())) << Describe(lagged);
          EXPECT_EQ(LaggedCount(lagged.status()), range.earliest - from);
          EXPECT_EQ(stream.position(), range.earliest);
        }
        for (Offset o = std::max(from, range.earliest); o <= range.latest;
             ++o) {
          ExpectNext(stream, o);
        }
        EXPECT_TRUE(memlog::IsWaitTimedOut(stream.NextUntil(kPast).status()));
      }
    }
  }
}

TEST(StreamTest, LaggedMessageNamesTheMissedRecordsAndWhereItContinues) {
  std::unique_ptr<Log> log =
      MakeLog({.start_offset = 300, .segment_size = 10});
  Stream stream = log->StreamFrom(303).value();
  WriteRecords(*log, 31);  // 300..330: retains 320..330
  absl::StatusOr<RecordView> record = stream.Next();
  ASSERT_TRUE(IsLagged(record.status())) << Describe(record);
  EXPECT_EQ(LaggedCount(record.status()), 17);
  const std::string message(record.status().message());
  EXPECT_NE(message.find("17"), std::string::npos) << message;
  EXPECT_NE(message.find("320"), std::string::npos) << message;
}

TEST(StreamTest, StreamThatReadSomeThenFellBehindMissesOnlyTheRest) {
  std::unique_ptr<Log> log = MakeLog({.segment_size = 3});
  WriteRecords(*log, 2);
  Stream stream = log->StreamFrom(0).value();
  ExpectNext(stream, 0);
  WriteRecords(*log, 8);  // 0..9: retains 6..9
  ASSERT_EQ(log->Range().earliest, 6);
  absl::StatusOr<RecordView> record = stream.Next();
  ASSERT_TRUE(IsLagged(record.status())) << Describe(record);
  EXPECT_EQ(LaggedCount(record.status()), 5);  // 1..5
  ExpectNext(stream, 6);
}

TEST(StreamTest, WaitingStreamOvertakenWhileAwayReportsLagged) {
  std::unique_ptr<Log> log = MakeLog({.segment_size = 1});
  WriteRecords(*log, 1);
  Stream stream = log->StreamFrom(1).value();
  EXPECT_TRUE(memlog::IsWaitTimedOut(stream.NextUntil(kPast).status()));
  WriteRecords(*log, 4);  // 0..4: retains 3..4
  absl::StatusOr<RecordView> record = stream.NextUntil(kPast);
  ASSERT_TRUE(IsLagged(record.status())) << Describe(record);
  EXPECT_EQ(LaggedCount(record.status()), 2);
  ExpectNext(stream, 3);
}

// ---------------------------------------------------------------------------
// NextBatch.

TEST(StreamTest, NextBatchFillsTheBatchFromWrittenRecords) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 10);
  Stream stream = log->StreamFrom(2).value();
  std::vector<RecordView> batch(4);
  ReadResult result = stream.NextBatch(absl::MakeSpan(batch));
  EXPECT_TRUE(result.ok()) << result.status;
  ASSERT_EQ(result.count, 4);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(batch[i].offset(), static_cast<Offset>(2 + i));
    EXPECT_EQ(batch[i].data(), Payload(static_cast<Offset>(2 + i)));
  }
  EXPECT_EQ(stream.position(), 6);
}

TEST(StreamTest, NextBatchReturnsWhatIsWrittenWithoutWaitingForMore) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 3);
  Stream stream = log->StreamFrom(1).value();
  std::vector<RecordView> batch(10);
  ReadResult result = stream.NextBatch(absl::MakeSpan(batch));
  EXPECT_TRUE(result.ok()) << result.status;
  ASSERT_EQ(result.count, 2);
  EXPECT_EQ(batch[0].offset(), 1);
  EXPECT_EQ(batch[1].offset(), 2);
  EXPECT_EQ(stream.position(), 3);
}

TEST(StreamTest, NextBatchSpansSegmentBoundaries) {
  std::unique_ptr<Log> log = MakeLog({.segment_size = 3});
  WriteRecords(*log, 6);  // segments 0-2 and 3-5
  Stream stream = log->StreamFrom(1).value();
  std::vector<RecordView> batch(5);
  ReadResult result = stream.NextBatch(absl::MakeSpan(batch));
  EXPECT_TRUE(result.ok()) << result.status;
  ASSERT_EQ(result.count, 5);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(batch[i].offset(), static_cast<Offset>(1 + i));
  }
}

TEST(StreamTest, NextBatchWithAPastDeadlineAndNoRecordReturnsNothing) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 2);
  Stream stream = log->StreamFrom(2).value();
  std::vector<RecordView> batch(3);
  ReadResult result = stream.NextBatch(absl::MakeSpan(batch), kPast);
  EXPECT_EQ(result.count, 0);
  EXPECT_TRUE(memlog::IsWaitTimedOut(result.status)) << result.status;
  EXPECT_EQ(stream.position(), 2);
}

TEST(StreamTest, NextBatchWaitsForAtLeastOneRecord) {
  std::unique_ptr<Log> log = MakeLog();
  std::latch reader_started(1);
  ReadResult result;
  std::vector<RecordView> batch(8);
  std::thread reader([&] {
    Stream stream = log->StreamFrom(0).value();
    reader_started.count_down();
    result = stream.NextBatch(absl::MakeSpan(batch));
  });
  reader_started.wait();
  WriteRecords(*log, 3);
  reader.join();
  EXPECT_TRUE(result.ok()) << result.status;
  // The reader may wake after the first write or after all three.
  ASSERT_GE(result.count, 1);
  ASSERT_LE(result.count, 3);
  for (int64_t i = 0; i < result.count; ++i) {
    EXPECT_EQ(batch[i].offset(), static_cast<Offset>(i));
  }
}

TEST(StreamTest, NextBatchReportsLaggedCloseAndCancelAsNext) {
  std::unique_ptr<Log> log = MakeLog({.segment_size = 1});
  std::stop_source stop;
  Stream stream = log->StreamFrom(0, stop.get_token()).value();
  WriteRecords(*log, 3);  // retains 1..2
  std::vector<RecordView> batch(4);
  ReadResult lagged = stream.NextBatch(absl::MakeSpan(batch));
  EXPECT_EQ(lagged.count, 0);
  EXPECT_TRUE(IsLagged(lagged.status)) << lagged.status;
  EXPECT_EQ(LaggedCount(lagged.status), 1);

  ReadResult rest = stream.NextBatch(absl::MakeSpan(batch));
  EXPECT_EQ(rest.count, 2);
  log->Close();
  ReadResult closed = stream.NextBatch(absl::MakeSpan(batch));
  EXPECT_EQ(closed.count, 0);
  EXPECT_TRUE(IsClosed(closed.status)) << closed.status;
  stop.request_stop();
  ReadResult cancelled = stream.NextBatch(absl::MakeSpan(batch));
  EXPECT_EQ(cancelled.count, 0);
  EXPECT_TRUE(memlog::IsWaitCancelled(cancelled.status)) << cancelled.status;
}

// ---------------------------------------------------------------------------
// Log::WaitFor.

TEST(StreamTest, WaitForAWrittenOffsetReturnsAtOnce) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 3);
  EXPECT_TRUE(log->WaitFor(0, kPast).ok());
  EXPECT_TRUE(log->WaitFor(2).ok());
}

TEST(StreamTest, WaitForAPurgedOffsetIsOk) {
  std::unique_ptr<Log> log = MakeLog({.segment_size = 1});
  WriteRecords(*log, 5);
  ASSERT_TRUE(memlog::IsPurgedOffset(log->Read(0).status()));
  EXPECT_TRUE(log->WaitFor(0, kPast).ok());
}

TEST(StreamTest, WaitForAnOffsetBeforeTheStartIsAnImpossibleOffsetAtOnce) {
  std::unique_ptr<Log> log = MakeLog({.start_offset = 10});
  WriteRecords(*log, 3);
  for (Offset offset :
       {Offset{9}, Offset{0}, Offset{-1}, std::numeric_limits<Offset>::min(),
        std::numeric_limits<Offset>::max()}) {
    SCOPED_TRACE(offset);
    // An infinite deadline: the call must not wait for what can never come.
    const absl::Status status = log->WaitFor(offset);
    EXPECT_TRUE(memlog::IsImpossibleOffset(status)) << status;
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(log->WaitFor(10).ok());
}

TEST(StreamTest, WaitForAFutureOffsetWithAPastDeadlineExceedsIt) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 3);
  const absl::Status status = log->WaitFor(3, kPast);
  EXPECT_TRUE(memlog::IsWaitTimedOut(status)) << status;
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(StreamTest, WaitForIsWokenByTheWriteOfItsOffset) {
  std::unique_ptr<Log> log = MakeLog();
  std::latch waiter_started(1);
  absl::Status status = absl::UnknownError("not run");
  std::thread waiter([&] {
    waiter_started.count_down();
    status = log->WaitFor(2);
  });
  waiter_started.wait();
  WriteRecords(*log, 3);
  waiter.join();
  EXPECT_TRUE(status.ok()) << status;
}

TEST(StreamTest, WaitForEndsWithCancelledWhenStopped) {
  std::unique_ptr<Log> log = MakeLog();
  std::stop_source stop;
  std::latch waiter_started(1);
  absl::Status status;
  std::thread waiter([&] {
    waiter_started.count_down();
    status = log->WaitFor(0, absl::InfiniteFuture(), stop.get_token());
  });
  waiter_started.wait();
  stop.request_stop();
  waiter.join();
  EXPECT_TRUE(memlog::IsWaitCancelled(status)) << status;
}

TEST(StreamTest, WaitForEndsWithClosedWhenTheLogCloses) {
  std::unique_ptr<Log> log = MakeLog();
  std::latch waiter_started(1);
  absl::Status status;
  std::thread waiter([&] {
    waiter_started.count_down();
    status = log->WaitFor(0);
  });
  waiter_started.wait();
  log->Close();
  waiter.join();
  EXPECT_TRUE(IsClosed(status)) << status;
  // And at once afterwards, for offsets never to be written.
  EXPECT_TRUE(IsClosed(log->WaitFor(5)));
}

TEST(StreamTest, WaitForAnOffsetWrittenBeforeCloseIsOk) {
  std::unique_ptr<Log> log = MakeLog();
  WriteRecords(*log, 1);
  log->Close();
  EXPECT_TRUE(log->WaitFor(0).ok());
}

}  // namespace
}  // namespace memlog
