// Copyright memlog authors.
//
// The specification of Log::NotifyWhenWritten() and WriteNotification
// (memlog/notification.h), and of the streams' non-blocking calls
// (Stream::TryNext(), TryNextBatch(), NotifyWhenReady()) that event loops
// drive with them. The concurrent cases run under TSan in CI.
//
// No test sleeps: a handler that must have run is checked after the call
// documented to run it has returned; races are checked by their invariant
// ("exactly one of cancelled and ran"), which holds in every interleaving.

#include "memlog/notification.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <latch>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "memlog/log.h"
#include "memlog/stream.h"
#include "sharded/log.h"

namespace memlog {
namespace {

std::unique_ptr<Log> MakeLog(Options options = {}) {
  return Log::Create(std::move(options)).value();
}

void MustWrite(Log& log, int n = 1) {
  for (int i = 0; i < n; ++i) ASSERT_TRUE(log.Write("record").ok());
}

// Records the statuses a handler was run with.
struct Calls {
  std::mutex mu;
  std::vector<absl::Status> statuses;
  std::thread::id thread;

  WriteHandler Handler() {
    return [this](absl::Status status) {
      std::lock_guard<std::mutex> lock(mu);
      statuses.push_back(std::move(status));
      thread = std::this_thread::get_id();
    };
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return statuses.size();
  }
};

TEST(NotifyWhenWrittenTest, RunsOnceOnTheWritersThreadWhenTheOffsetIsWritten) {
  auto log = MakeLog();
  Calls calls;
  absl::StatusOr<WriteNotification> pending =
      log->NotifyWhenWritten(1, calls.Handler());
  ASSERT_TRUE(pending.ok()) << pending.status();
  EXPECT_TRUE(pending->engaged());
  MustWrite(*log);  // offset 0: not the one asked for
  EXPECT_EQ(calls.count(), 0u);
  std::thread writer([&] { MustWrite(*log); });  // offset 1
  const std::thread::id writer_id = writer.get_id();
  writer.join();
  ASSERT_EQ(calls.count(), 1u);
  EXPECT_TRUE(calls.statuses[0].ok());
  EXPECT_EQ(calls.thread, writer_id);
  MustWrite(*log, 3);
  EXPECT_EQ(calls.count(), 1u);
  EXPECT_FALSE(pending->Cancel());  // it has run
}

TEST(NotifyWhenWrittenTest, AnOffsetAlreadyWrittenRunsAtOnceWithAnEmptyHandle) {
  auto log = MakeLog();
  MustWrite(*log, 2);
  Calls calls;
  absl::StatusOr<WriteNotification> done =
      log->NotifyWhenWritten(1, calls.Handler());
  ASSERT_TRUE(done.ok());
  EXPECT_FALSE(done->engaged());
  ASSERT_EQ(calls.count(), 1u);
  EXPECT_TRUE(calls.statuses[0].ok());
  EXPECT_EQ(calls.thread, std::this_thread::get_id());
}

TEST(NotifyWhenWrittenTest, AWriteRunsOnlyTheRequestsForOffsetsItReached) {
  auto log = MakeLog();
  std::vector<int> ran(10, 0);
  std::vector<WriteNotification> pending;
  for (Offset offset = 9; offset >= 0; --offset) {
    pending.push_back(
        log->NotifyWhenWritten(offset, [&ran, offset](absl::Status) {
              ++ran[static_cast<size_t>(offset)];
            }).value());
  }
  MustWrite(*log, 5);  // offsets 0..4
  EXPECT_EQ(ran, (std::vector<int>{1, 1, 1, 1, 1, 0, 0, 0, 0, 0}));
  MustWrite(*log, 5);
  EXPECT_EQ(ran, std::vector<int>(10, 1));
}

TEST(NotifyWhenWrittenTest, ACancelledRequestNeverRunsAndItsHandlerIsDestroyed) {
  auto log = MakeLog();
  auto owned = std::make_shared<int>(0);
  bool ran = false;
  WriteNotification pending =
      log->NotifyWhenWritten(0, [&ran, owned](absl::Status) { ran = true; })
          .value();
  EXPECT_EQ(owned.use_count(), 2);
  EXPECT_TRUE(pending.Cancel());
  EXPECT_EQ(owned.use_count(), 1);  // the handler is gone
  EXPECT_FALSE(pending.engaged());
  EXPECT_FALSE(pending.Cancel());
  MustWrite(*log);
  EXPECT_FALSE(ran);
}

TEST(NotifyWhenWrittenTest, DestroyingTheHandleCancels) {
  auto log = MakeLog();
  bool ran = false;
  {
    WriteNotification pending =
        log->NotifyWhenWritten(0, [&ran](absl::Status) { ran = true; })
            .value();
    WriteNotification moved = std::move(pending);
    EXPECT_TRUE(moved.engaged());
  }
  MustWrite(*log);
  EXPECT_FALSE(ran);
}

TEST(NotifyWhenWrittenTest, CloseRunsPendingRequestsWithClosed) {
  auto log = MakeLog();
  Calls calls;
  WriteNotification pending = log->NotifyWhenWritten(3, calls.Handler()).value();
  log->Close();
  ASSERT_EQ(calls.count(), 1u);
  EXPECT_TRUE(IsClosed(calls.statuses[0])) << calls.statuses[0];
  // After the close a request for a future offset is answered at once, and
  // one for a written offset is still OK.
  Calls after;
  EXPECT_FALSE(log->NotifyWhenWritten(5, after.Handler())->engaged());
  ASSERT_EQ(after.count(), 1u);
  EXPECT_TRUE(IsClosed(after.statuses[0]));
}

TEST(NotifyWhenWrittenTest, AWrittenOffsetIsOkEvenOnAClosedLog) {
  auto log = MakeLog();
  MustWrite(*log);
  log->Close();
  Calls calls;
  ASSERT_TRUE(log->NotifyWhenWritten(0, calls.Handler()).ok());
  ASSERT_EQ(calls.count(), 1u);
  EXPECT_TRUE(calls.statuses[0].ok());
}

TEST(NotifyWhenWrittenTest, DestroyingTheLogRunsPendingRequestsAndHandlesOutliveIt) {
  auto log = MakeLog();
  Calls calls;
  WriteNotification pending = log->NotifyWhenWritten(0, calls.Handler()).value();
  log.reset();
  ASSERT_EQ(calls.count(), 1u);
  EXPECT_TRUE(IsClosed(calls.statuses[0]));
  EXPECT_FALSE(pending.Cancel());  // safe: the registry outlives the log
}

TEST(NotifyWhenWrittenTest, ImpossibleOffsetsFailWithoutRunningTheHandler) {
  auto log = MakeLog({.start_offset = 10});
  Calls calls;
  EXPECT_TRUE(IsImpossibleOffset(
      log->NotifyWhenWritten(9, calls.Handler()).status()));
  EXPECT_TRUE(IsImpossibleOffset(
      log->NotifyWhenWritten(kMaxOffset + 1, calls.Handler()).status()));
  EXPECT_TRUE(IsImpossibleOffset(
      log->NotifyWhenWritten(-1, calls.Handler()).status()));
  EXPECT_EQ(calls.count(), 0u);
}

TEST(NotifyWhenWrittenTest, AHandlerRunsOutsideTheWriterLockAndMayUseTheLog) {
  // Write() and memory_usage() take the writer lock: a handler run under it
  // would deadlock here.
  auto log = MakeLog();
  std::vector<Offset> chain;
  WriteNotification next;
  std::function<void(Offset)> arm = [&](Offset offset) {
    next = log->NotifyWhenWritten(offset, [&, offset](absl::Status status) {
                 ASSERT_TRUE(status.ok());
                 chain.push_back(offset);
                 EXPECT_GE(log->memory_usage().records, 1);
                 if (offset < 4) {
                   arm(offset + 1);
                   ASSERT_TRUE(log->Write("from a handler").ok());
                 }
               }).value();
  };
  arm(0);
  MustWrite(*log);
  EXPECT_EQ(chain, (std::vector<Offset>{0, 1, 2, 3, 4}));
}

TEST(NotifyWhenWrittenTest, AThrowingHandlerDoesNotFailTheWrite) {
  auto log = MakeLog();
  WriteNotification pending =
      log->NotifyWhenWritten(0, [](absl::Status) {
           throw std::runtime_error("handler bug");
         }).value();
  EXPECT_TRUE(log->Write("record").ok());
}

// Invariant: 10,000 requests from 4 threads while a writer writes 10,000
// records: every handler runs exactly once, with OK, and no thread is held
// per request.
TEST(NotifyWhenWrittenTest, TenThousandConcurrentRequestsEachRunExactlyOnce) {
  constexpr int kRequests = 10'000;
  constexpr int kThreads = 4;
  auto log = MakeLog({.segment_size = 1024});
  std::vector<std::atomic<int>> ran(kRequests);
  std::vector<std::vector<WriteNotification>> handles(kThreads);
  std::latch start(kThreads + 1);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = t; i < kRequests; i += kThreads) {
        absl::StatusOr<WriteNotification> n = log->NotifyWhenWritten(
            i, [&ran, i](absl::Status status) {
              if (status.ok()) ran[static_cast<size_t>(i)].fetch_add(1);
            });
        ASSERT_TRUE(n.ok());
        handles[static_cast<size_t>(t)].push_back(*std::move(n));
      }
    });
  }
  start.arrive_and_wait();
  for (int i = 0; i < kRequests; ++i) ASSERT_TRUE(log->Write("r").ok());
  for (std::thread& thread : threads) thread.join();
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_EQ(ran[static_cast<size_t>(i)].load(), 1) << "offset " << i;
  }
}

// Invariant: for a request cancelled while the write of its offset races
// with it, exactly one of "Cancel() returned true" and "the handler ran"
// holds.
TEST(NotifyWhenWrittenTest, CancelRacingWithTheWriteIsExactlyOnce) {
  constexpr int kRounds = 2'000;
  auto log = MakeLog();
  for (int round = 0; round < kRounds; ++round) {
    const Offset offset = log->Range().latest + 1;
    std::atomic<int> ran{0};
    WriteNotification pending =
        log->NotifyWhenWritten(offset, [&ran](absl::Status) { ++ran; })
            .value();
    std::thread writer([&] { MustWrite(*log); });
    const bool cancelled = pending.Cancel();
    writer.join();
    ASSERT_EQ(cancelled ? 0 : 1, ran.load()) << "round " << round;
  }
}

// Invariant: requests made while another thread closes the log each run
// exactly once, OK if their offset was written and IsClosed otherwise.
TEST(NotifyWhenWrittenTest, RequestsRacingWithCloseEachRunExactlyOnce) {
  constexpr int kRequests = 2'000;
  auto log = MakeLog();
  MustWrite(*log, 10);
  std::vector<std::atomic<int>> ok(kRequests), closed(kRequests);
  std::vector<WriteNotification> handles;
  std::latch start(2);
  std::thread closer([&] {
    start.arrive_and_wait();
    log->Close();
  });
  start.arrive_and_wait();
  for (int i = 0; i < kRequests; ++i) {
    const size_t at = static_cast<size_t>(i);
    handles.push_back(log->NotifyWhenWritten(
                             i % 20, [&, at](absl::Status status) {
                               (status.ok() ? ok : closed)[at].fetch_add(1);
                             })
                          .value());
  }
  closer.join();
  for (int i = 0; i < kRequests; ++i) {
    const size_t at = static_cast<size_t>(i);
    ASSERT_EQ(ok[at].load() + closed[at].load(), 1) << "request " << i;
    ASSERT_EQ(ok[at].load(), i % 20 < 10 ? 1 : 0) << "request " << i;
  }
}

// Invariant: destroying a log while other threads still hold (and cancel)
// handles of its requests is safe; each handler runs at most once.
TEST(NotifyWhenWrittenTest, HandlesCancelledAfterTheLogIsGoneAreSafe) {
  auto log = MakeLog();
  std::atomic<int> ran{0};
  std::vector<WriteNotification> handles;
  for (int i = 0; i < 100; ++i) {
    handles.push_back(
        log->NotifyWhenWritten(i, [&ran](absl::Status) { ++ran; }).value());
  }
  std::latch start(2);
  std::thread canceller([&] {
    start.arrive_and_wait();
    for (WriteNotification& handle : handles) handle.Cancel();
  });
  start.arrive_and_wait();
  log.reset();
  canceller.join();
  EXPECT_LE(ran.load(), 100);
}

// --- Streams without blocking. ---

TEST(StreamTryNextTest, ReturnsWrittenRecordsThenFutureOffsetWithoutAdvancing) {
  auto log = MakeLog();
  Stream stream = log->StreamFrom(0).value();
  EXPECT_TRUE(IsFutureOffset(stream.TryNext().status()));
  EXPECT_EQ(stream.position(), 0);
  MustWrite(*log, 3);
  RecordView batch[5];
  ReadResult read = stream.TryNextBatch(absl::MakeSpan(batch));
  EXPECT_TRUE(read.ok());
  EXPECT_EQ(read.count, 3);
  EXPECT_EQ(batch[2].offset(), 2);
  EXPECT_TRUE(IsFutureOffset(stream.TryNext().status()));
  EXPECT_EQ(stream.position(), 3);
}

TEST(StreamTryNextTest, ReportsALagThenContinuesFromTheEarliest) {
  auto log = MakeLog({.segment_size = 2});
  Stream stream = log->StreamFrom(0).value();
  MustWrite(*log, 5);  // Range {2, 4}
  absl::StatusOr<RecordView> lagged = stream.TryNext();
  EXPECT_TRUE(IsLagged(lagged.status()));
  EXPECT_EQ(LaggedCount(lagged.status()), 2);
  EXPECT_EQ(stream.TryNext()->offset(), 2);
}

TEST(StreamTryNextTest, AClosedLogIsReadToItsEndThenClosed) {
  auto log = MakeLog();
  Stream stream = log->StreamFrom(0).value();
  MustWrite(*log, 2);
  log->Close();
  EXPECT_EQ(stream.TryNext()->offset(), 0);
  EXPECT_EQ(stream.TryNext()->offset(), 1);
  EXPECT_TRUE(IsClosed(stream.TryNext().status()));
}

TEST(StreamTryNextTest, ACancelledStreamSaysSo) {
  auto log = MakeLog();
  std::stop_source stop;
  Stream stream = log->StreamFrom(0, stop.get_token()).value();
  MustWrite(*log);
  stop.request_stop();
  EXPECT_TRUE(IsWaitCancelled(stream.TryNext().status()));
}

// Invariant: one thread drives 100 streams with TryNext() and
// NotifyWhenReady() only (an event loop), while another thread writes 1,000
// records; every stream receives every record once, in order, and the loop
// never blocks on a stream.
TEST(StreamTryNextTest, OneThreadDrivesManyStreamsFromNotifications) {
  constexpr int kStreams = 100;
  constexpr int kRecords = 1'000;
  auto log = MakeLog({.segment_size = 2 * kRecords});
  struct Reader {
    Stream stream;
    Offset expected = 0;
    WriteNotification pending;
  };
  std::vector<Reader> readers;
  for (int i = 0; i < kStreams; ++i) {
    readers.push_back({log->StreamFrom(0).value(), 0, WriteNotification()});
  }
  // The loop's queue of readers to look at, filled by handlers.
  std::mutex mu;
  std::condition_variable ready_cv;
  std::vector<size_t> ready;
  for (size_t i = 0; i < readers.size(); ++i) ready.push_back(i);
  std::thread writer([&] {
    for (int i = 0; i < kRecords; ++i) ASSERT_TRUE(log->Write("r").ok());
  });
  int done = 0;
  while (done < kStreams) {
    std::vector<size_t> batch;
    {
      std::unique_lock<std::mutex> lock(mu);
      ready_cv.wait(lock, [&] { return !ready.empty(); });
      batch.swap(ready);
    }
    for (size_t i : batch) {
      Reader& reader = readers[i];
      for (;;) {
        absl::StatusOr<RecordView> record = reader.stream.TryNext();
        if (record.ok()) {
          ASSERT_EQ(record->offset(), reader.expected);
          ++reader.expected;
          if (reader.expected == kRecords) ++done;
          continue;
        }
        ASSERT_TRUE(IsFutureOffset(record.status())) << record.status();
        if (reader.expected == kRecords) break;
        reader.pending = reader.stream
                             .NotifyWhenReady([&, i](absl::Status) {
                               std::lock_guard<std::mutex> lock(mu);
                               ready.push_back(i);
                               ready_cv.notify_one();
                             })
                             .value();
        break;
      }
    }
  }
  writer.join();
  for (const Reader& reader : readers) EXPECT_EQ(reader.expected, kRecords);
}

// --- Sharded logs: per-key streams and shard streams. ---

std::unique_ptr<sharded::Log> TwoKeysOneShard() {
  // Two shards, with "a" and "b" both on shard 0.
  class Sharder final : public sharded::Sharder {
   public:
    absl::StatusOr<size_t> ShardFor(std::string_view key,
                                    size_t) const override {
      return key == "c" ? 1 : 0;
    }
  };
  return sharded::Log::Create(
             {.num_shards = 2, .sharder = std::make_shared<Sharder>()})
      .value();
}

TEST(ShardedTryNextTest, AKeysStreamSkipsOtherKeysWithoutBlocking) {
  auto log = TwoKeysOneShard();
  sharded::Stream stream = log->StreamFrom("a", 0).value();
  ASSERT_TRUE(log->Write("b", "not mine").ok());
  EXPECT_TRUE(IsFutureOffset(stream.TryNext().status()));
  EXPECT_EQ(stream.position(), 1);  // past b's record
  ASSERT_TRUE(log->Write("a", "mine").ok());
  absl::StatusOr<sharded::RecordView> record = stream.TryNext();
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->offset(), 1);
  EXPECT_EQ(record->data(), "mine");
}

TEST(ShardedTryNextTest, AKeysHandlerRunsAfterTheShardLockAndMayReadTheKey) {
  // The handler reads the key's stream, which takes the shard's lock: run
  // under that lock, it would deadlock.
  auto log = TwoKeysOneShard();
  sharded::Stream stream = log->StreamFrom("a", 0).value();
  std::vector<std::string> got;
  WriteNotification pending =
      stream
          .NotifyWhenReady([&](absl::Status status) {
            ASSERT_TRUE(status.ok());
            absl::StatusOr<sharded::RecordView> record = stream.TryNext();
            ASSERT_TRUE(record.ok()) << record.status();
            got.emplace_back(record->data());
          })
          .value();
  ASSERT_TRUE(log->Write("a", "first").ok());
  EXPECT_EQ(got, std::vector<std::string>{"first"});
}

TEST(ShardedTryNextTest, AShardStreamReturnsEveryKeyAndClosesOnClose) {
  auto log = TwoKeysOneShard();
  sharded::ShardStream stream = log->ShardStreamFrom(0, 0).value();
  Calls calls;
  WriteNotification pending = stream.NotifyWhenReady(calls.Handler()).value();
  ASSERT_TRUE(log->Write("a", "1").ok());
  ASSERT_TRUE(log->Write("b", "2").ok());
  EXPECT_EQ(calls.count(), 1u);
  EXPECT_EQ(stream.TryNext()->key(), "a");
  EXPECT_EQ(stream.TryNext()->key(), "b");
  EXPECT_TRUE(IsFutureOffset(stream.TryNext().status()));
  Calls closed;
  pending = stream.NotifyWhenReady(closed.Handler()).value();
  log->Close();
  ASSERT_EQ(closed.count(), 1u);
  EXPECT_TRUE(IsClosed(closed.statuses[0]));
  EXPECT_TRUE(IsClosed(stream.TryNext().status()));
}

}  // namespace
}  // namespace memlog
