// Copyright memlog authors.
//
// The specification of memlog under failure: when memory runs out at any
// allocation, or a user callback (the clock, the sharder) throws, every call
// returns a status instead of throwing or crashing, and afterwards:
// - no acknowledged record is lost early or changed: every offset in Range()
//   reads back exactly what its write was told it stored, and views taken
//   during the failures still read their records;
// - Range() and per-key ranges agree with what is readable;
// - the log accepts writes again once allocation succeeds.
// ASan (CI runs this test under --config=asan) adds: no leak, no
// use-after-free, no double release of a segment.
//
// Method (SQLite's malloc tests): run a scenario once to count the
// allocations it makes, then once per allocation with exactly that one
// failing, and once per allocation with it and every later one failing.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "memlog/log.h"
#include "sharded/log.h"
#include "tests/allocation_failures.h"

namespace memlog {
namespace {

using memlog_testing::AllocationFailures;

// A payload that tells its record apart: its index, padded so that some
// records need a new payload chunk.
std::string ChunkStraddlingPayload(int i) {
  std::string data = absl::StrCat("record-", i, "-");
  data.resize(i % 3 == 2 ? 5000 : 40, static_cast<char>('a' + i % 26));
  return data;
}

// A status that a call under injected failures may return: out of memory,
// or one of the kinds it returns in normal operation.
bool IsAcceptableFailure(const absl::Status& status) {
  return status.ok() || IsOutOfMemory(status) || IsFutureOffset(status) ||
         IsPurgedOffset(status) || IsLagged(status) || IsWaitTimedOut(status);
}

// What a memlog::Log scenario was told: the offsets acknowledged with their
// data, and views it still holds.
struct LogOutcome {
  std::unique_ptr<Log> log;
  std::map<Offset, std::string> acknowledged;
  std::vector<RecordView> held_views;
  std::vector<absl::Status> unexpected;  // statuses no call may return
};

// Calls the library, with its allocations counted and failed as armed when
// there are `failures`. The test's own allocations stay outside.
template <typename Call>
decltype(auto) Library(AllocationFailures* failures, Call&& call) {
  try {
    if (failures == nullptr) return call();
    return failures->Run(std::forward<Call>(call));
  } catch (const std::exception& e) {
    ADD_FAILURE() << "the library threw " << e.what();
    throw;
  }
}

void Expect(LogOutcome& outcome, const absl::Status& status) {
  if (!IsAcceptableFailure(status)) outcome.unexpected.push_back(status);
}

// Writes 14 records in segments of 4 (three rotations, one of them while a
// view pins the history), and reads them back every way there is.
void RunLogScenario(LogOutcome& outcome, AllocationFailures* failures) {
  const auto call = [failures](auto&& f) -> decltype(auto) {
    return Library(failures, f);
  };
  absl::StatusOr<std::unique_ptr<Log>> made =
      call([] { return Log::Create({.segment_size = 4}); });
  if (!made.ok()) {
    Expect(outcome, made.status());
    return;
  }
  outcome.log = *std::move(made);
  Log& log = *outcome.log;
  Reader reader(log);
  std::vector<Record> copies(3);
  std::vector<RecordView> views(3);
  for (int i = 0; i < 14; ++i) {
    const std::string payload = ChunkStraddlingPayload(i);
    absl::StatusOr<Offset> offset = call([&] { return log.Write(payload); });
    if (offset.ok()) {
      outcome.acknowledged[*offset] = payload;
    } else {
      Expect(outcome, offset.status());
    }
    const OffsetRange range = log.Range();
    if (range.latest == kInvalidOffset) continue;
    // Pin the record before the one just written across the next rotation.
    if (i % 4 == 1) {
      absl::StatusOr<RecordView> view =
          call([&] { return log.ReadView(range.latest); });
      if (view.ok()) {
        outcome.held_views.push_back(*std::move(view));
      } else {
        Expect(outcome, view.status());
      }
    }
    Expect(outcome, call([&] { return log.Read(range.earliest).status(); }));
    Expect(outcome, call([&] {
             return log.ReadBatch(range.earliest, absl::MakeSpan(copies))
                 .status;
           }));
    Expect(outcome, call([&] {
             return log.ReadBatchView(range.earliest, absl::MakeSpan(views))
                 .status;
           }));
    Expect(outcome, call([&] { return reader.Read(range.latest).status(); }));
    absl::StatusOr<Stream> stream = call([&] { return log.StreamFrom(0); });
    if (stream.ok()) {
      Expect(outcome, call([&] {
               return stream
                   ->NextBatch(absl::MakeSpan(views), absl::InfinitePast())
                   .status;
             }));
    } else {
      Expect(outcome, stream.status());
    }
    Expect(outcome, call([&] {
             return log.WaitFor(range.latest + 1, absl::InfinitePast());
           }));
  }
}

// Checks, with allocation working again, what a scenario left behind.
void CheckLogOutcome(LogOutcome& outcome) {
  for (const absl::Status& status : outcome.unexpected) {
    ADD_FAILURE() << "unexpected status: " << status;
  }
  if (outcome.log == nullptr) return;
  Log& log = *outcome.log;
  // Offsets are dense: a failed write takes none.
  Offset expected_offset = 0;
  for (const auto& [offset, data] : outcome.acknowledged) {
    EXPECT_EQ(offset, expected_offset++);
  }
  const OffsetRange range = log.Range();
  if (outcome.acknowledged.empty()) {
    EXPECT_EQ(range, OffsetRange{});
  } else {
    EXPECT_EQ(range.latest, outcome.acknowledged.rbegin()->first);
    for (const auto& [offset, data] : outcome.acknowledged) {
      absl::StatusOr<Record> record = log.Read(offset);
      if (offset < range.earliest) {
        EXPECT_TRUE(IsPurgedOffset(record.status())) << record.status();
        continue;
      }
      ASSERT_TRUE(record.ok()) << offset << ": " << record.status();
      EXPECT_EQ(record->data, data) << offset;
    }
    EXPECT_EQ(log.memory_usage().records, range.latest - range.earliest + 1);
  }
  for (const RecordView& view : outcome.held_views) {
    EXPECT_EQ(view.data(), outcome.acknowledged[view.offset()])
        << "view of offset " << view.offset();
  }
  // Usable again.
  absl::StatusOr<Offset> offset = log.Write("after the failures");
  ASSERT_TRUE(offset.ok()) << offset.status();
  EXPECT_EQ(*offset, range.latest + 1);
  EXPECT_EQ(log.Read(*offset).value().data, "after the failures");
}

// Runs `run` once to count the allocations it makes (twice, in fact: the
// first run also fills what is allocated once per process, such as per-thread
// buffers), then once per allocation with exactly that one failing, then once
// per allocation with it and every later one failing; `check`s each outcome
// with allocation working again. Records the number of injection points.
template <typename Outcome, typename Run, typename Check>
void FailEachAllocationInTurn(Run run_scenario, Check check_outcome) {
  AllocationFailures failures;
  int64_t points = 0;
  for (int pass = 0; pass < 2; ++pass) {
    Outcome outcome;
    failures.Disarm();
    run_scenario(outcome, &failures);
    points = failures.count();
    failures.Disarm();
    check_outcome(outcome);
  }
  ASSERT_GT(points, 20);
  for (const bool persistent : {false, true}) {
    for (int64_t n = 0; n < points; ++n) {
      SCOPED_TRACE(absl::StrCat("allocation ", n, " of ", points,
                                persistent ? " and all later ones" : "",
                                " failed"));
      Outcome outcome;
      failures.FailAt(n, persistent);
      run_scenario(outcome, &failures);
      EXPECT_GT(failures.failed(), 0);
      failures.Disarm();
      check_outcome(outcome);
    }
  }
  ::testing::Test::RecordProperty("injection_points",
                                  static_cast<int>(points));
}

TEST(FaultInjectionTest, LogSurvivesEveryAllocationFailure) {
  FailEachAllocationInTurn<LogOutcome>(RunLogScenario, CheckLogOutcome);
}

// Writes 30 records in batches of 1 to 7 into segments of 4, so that batches
// need new chunks and rotate, some of them twice, and reads the last one
// after each; a batch that runs out of memory keeps the records it stored
// before, and says how many.
void RunBatchScenario(LogOutcome& outcome, AllocationFailures* failures) {
  const auto call = [failures](auto&& f) -> decltype(auto) {
    return Library(failures, f);
  };
  absl::StatusOr<std::unique_ptr<Log>> made =
      call([] { return Log::Create({.segment_size = 4}); });
  if (!made.ok()) {
    Expect(outcome, made.status());
    return;
  }
  outcome.log = *std::move(made);
  Log& log = *outcome.log;
  int i = 0;
  for (int size = 1; i < 30; size = size % 7 + 1) {
    std::vector<std::string> payloads;
    for (int k = 0; k < size; ++k) {
      payloads.push_back(ChunkStraddlingPayload(i + k));
    }
    const std::vector<std::string_view> batch(payloads.begin(),
                                              payloads.end());
    const Offset next = log.NextOffset();
    const WriteBatchResult result = call([&] { return log.WriteBatch(batch); });
    Expect(outcome, result.status);
    if (result.count > 0 && result.first != next) {
      outcome.unexpected.push_back(absl::InternalError(
          absl::StrCat("batch written from ", result.first, ", not ", next)));
    }
    for (int64_t k = 0; k < result.count; ++k) {
      outcome.acknowledged[result.first + k] =
          payloads[static_cast<size_t>(k)];
    }
    i += static_cast<int>(result.ok() ? result.count : 1);
    // Read back the last record: a copy.
    if (log.Range().latest != kInvalidOffset) {
      Expect(outcome,
             call([&] { return log.Read(log.Range().latest).status(); }));
    }
  }
}

TEST(FaultInjectionTest, LogSurvivesEveryAllocationFailureInABatch) {
  FailEachAllocationInTurn<LogOutcome>(RunBatchScenario, CheckLogOutcome);
}

// The write that rotates while a view pins the history, with each of its
// allocations failing in turn: the log must let go of the history exactly
// once, so the view keeps reading its record (a second release would free
// the segment under the view and let the writer reuse its storage).
TEST(FaultInjectionTest, HistoryPinnedByAViewSurvivesAFailedRotation) {
  AllocationFailures failures;
  for (int64_t n = 0; n < 8; ++n) {
    SCOPED_TRACE(absl::StrCat("allocation ", n, " of the rotating write"));
    std::unique_ptr<Log> log = Log::Create({.segment_size = 2}).value();
    ASSERT_TRUE(log->Write("zero").ok());
    ASSERT_TRUE(log->Write("one").ok());
    const RecordView view = log->ReadView(0).value();
    ASSERT_TRUE(log->Write("two").ok());  // the history is now pinned
    ASSERT_TRUE(log->Write("three").ok());
    failures.FailAt(n);
    const absl::StatusOr<Offset> failed =
        Library(&failures, [&] { return log->Write("four"); });
    failures.Disarm();
    if (!failed.ok()) {
      EXPECT_TRUE(IsOutOfMemory(failed.status())) << failed.status();
    }
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(log->Write("later").ok());
    EXPECT_EQ(view.data(), "zero");
    EXPECT_EQ(view.offset(), 0);
  }
}

// A clock that throws on its `n`-th call, or on every call from then on.
std::function<absl::Time()> ThrowingClock(int n, bool persistent) {
  auto calls = std::make_shared<int>(0);
  return [calls, n, persistent] {
    const int call = (*calls)++;
    if (call == n || (persistent && call > n)) {
      throw std::runtime_error("clock unavailable");
    }
    return absl::FromUnixSeconds(1'700'000'000 + call);
  };
}

TEST(FaultInjectionTest, LogSurvivesAThrowingClock) {
  for (const bool persistent : {false, true}) {
    for (int n = 0; n < 10; ++n) {
      SCOPED_TRACE(absl::StrCat("clock call ", n, persistent ? " on" : ""));
      std::unique_ptr<Log> log =
          Log::Create({.segment_size = 3, .clock = ThrowingClock(n, persistent)})
              .value();
      std::vector<std::string> written;
      for (int i = 0; i < 10; ++i) {
        absl::StatusOr<Offset> offset = log->Write(ChunkStraddlingPayload(i));
        if (offset.ok()) {
          EXPECT_EQ(*offset, static_cast<Offset>(written.size()));
          written.push_back(ChunkStraddlingPayload(i));
        } else {
          EXPECT_TRUE(IsCallbackFailed(offset.status())) << offset.status();
          EXPECT_NE(offset.status().message().find("Options::clock"),
                    std::string::npos);
        }
      }
      const OffsetRange range = log->Range();
      EXPECT_EQ(range.latest, static_cast<Offset>(written.size()) - 1);
      for (Offset o = range.earliest; o <= range.latest && o >= 0; ++o) {
        EXPECT_EQ(log->Read(o).value().data, written[static_cast<size_t>(o)]);
      }
    }
  }
}

// --- sharded::Log ---

// Routes "a" and "b" to shard 0 and the rest to shard 1; throws for keys
// once armed (a sharder that throws is a bug the log must survive).
class TwoShardSharder final : public sharded::Sharder {
 public:
  explicit TwoShardSharder(int throw_at = -1) : throw_at_(throw_at) {}
  absl::StatusOr<size_t> ShardFor(std::string_view key,
                                  size_t) const override {
    if (calls_++ == throw_at_) throw std::runtime_error("routing table gone");
    return key == "a" || key == "b" ? 0 : 1;
  }

 private:
  const int throw_at_;
  mutable int calls_ = 0;  // single-threaded tests only
};

struct ShardedOutcome {
  std::unique_ptr<sharded::Log> log;
  // Per key: offset -> data, as acknowledged.
  std::map<std::string, std::map<Offset, std::string>> acknowledged;
  std::vector<sharded::RecordView> held_views;
  std::vector<absl::Status> unexpected;
};

void Expect(ShardedOutcome& outcome, const absl::Status& status) {
  if (!IsAcceptableFailure(status) && !IsCallbackFailed(status)) {
    outcome.unexpected.push_back(status);
  }
}

const char* const kKeys[] = {"a", "b", "c", "a", "a", "c", "b"};

void RunShardedScenario(ShardedOutcome& outcome, AllocationFailures* failures,
                        int sharder_throw_at = -1) {
  const auto call = [failures](auto&& f) -> decltype(auto) {
    return Library(failures, f);
  };
  auto sharder = std::make_shared<TwoShardSharder>(sharder_throw_at);
  absl::StatusOr<std::unique_ptr<sharded::Log>> made = call([&] {
    return sharded::Log::Create({.num_shards = 2,
                                 .shard = {.segment_size = 3},
                                 .sharder = sharder});
  });
  if (!made.ok()) {
    Expect(outcome, made.status());
    return;
  }
  outcome.log = *std::move(made);
  sharded::Log& log = *outcome.log;
  std::vector<sharded::Record> copies(2);
  std::vector<sharded::RecordView> views(2);
  for (int i = 0; i < 16; ++i) {
    const std::string key = kKeys[i % 7];
    const std::string payload = ChunkStraddlingPayload(i);
    absl::StatusOr<Offset> offset =
        call([&] { return log.Write(key, payload); });
    if (offset.ok()) {
      outcome.acknowledged[key][*offset] = payload;
      if (i % 5 == 0) {
        absl::StatusOr<sharded::RecordView> view =
            call([&] { return log.ReadView(key, *offset); });
        if (view.ok()) {
          outcome.held_views.push_back(*std::move(view));
        } else {
          Expect(outcome, view.status());
        }
      }
    } else {
      Expect(outcome, offset.status());
    }
    absl::StatusOr<OffsetRange> range = call([&] { return log.Range(key); });
    if (!range.ok()) {
      Expect(outcome, range.status());
      continue;
    }
    if (range->earliest == kInvalidOffset) continue;
    Expect(outcome,
           call([&] { return log.Read(key, range->latest).status(); }));
    Expect(outcome, call([&] {
             return log.ReadBatch(key, range->earliest, absl::MakeSpan(copies))
                 .status;
           }));
    Expect(outcome, call([&] {
             return log.ReadBatchView(key, 0, absl::MakeSpan(views)).status;
           }));
    absl::StatusOr<sharded::Stream> stream =
        call([&] { return log.StreamFrom(key, 0); });
    if (stream.ok()) {
      Expect(outcome, call([&] {
               return stream
                   ->NextBatch(absl::MakeSpan(views), absl::InfinitePast())
                   .status;
             }));
    } else {
      Expect(outcome, stream.status());
    }
    absl::StatusOr<sharded::ShardStream> shard_stream =
        call([&] { return log.ShardStreamFrom(1, 0); });
    if (shard_stream.ok()) {
      Expect(outcome, call([&] {
               return shard_stream
                   ->NextBatch(absl::MakeSpan(views), absl::InfinitePast())
                   .status;
             }));
    } else {
      Expect(outcome, shard_stream.status());
    }
  }
}

void CheckShardedOutcome(ShardedOutcome& outcome) {
  for (const absl::Status& status : outcome.unexpected) {
    ADD_FAILURE() << "unexpected status: " << status;
  }
  if (outcome.log == nullptr) return;
  sharded::Log& log = *outcome.log;
  for (const std::string key : {"a", "b", "c"}) {
    SCOPED_TRACE(absl::StrCat("key ", key));
    const size_t shard = log.ShardFor(key).value();
    const OffsetRange shard_range = log.ShardRange(shard).value();
    // What the key should still hold: its acknowledged records in the
    // shard's retained range.
    std::vector<std::pair<Offset, std::string>> retained;
    for (const auto& [offset, data] : outcome.acknowledged[key]) {
      if (offset >= shard_range.earliest) retained.emplace_back(offset, data);
    }
    const OffsetRange key_range = log.Range(key).value();
    if (retained.empty()) {
      EXPECT_EQ(key_range, OffsetRange{});
    } else {
      EXPECT_EQ(key_range,
                (OffsetRange{retained.front().first, retained.back().first}));
    }
    std::vector<sharded::Record> batch(32);
    const Offset from = shard_range.earliest == kInvalidOffset
                            ? 0
                            : shard_range.earliest;
    const ReadResult read = log.ReadBatch(key, from, absl::MakeSpan(batch));
    ASSERT_EQ(read.count, static_cast<int64_t>(retained.size()))
        << read.status;
    for (size_t i = 0; i < retained.size(); ++i) {
      EXPECT_EQ(batch[i].metadata.offset, retained[i].first);
      EXPECT_EQ(batch[i].data, retained[i].second);
      EXPECT_EQ(batch[i].key, key);
    }
  }
  for (const sharded::RecordView& view : outcome.held_views) {
    EXPECT_EQ(view.data(),
              outcome.acknowledged[std::string(view.key())][view.offset()]);
  }
  // Usable again: each key can be written and read back.
  for (const std::string key : {"a", "b", "c"}) {
    absl::StatusOr<Offset> offset = log.Write(key, "after the failures");
    ASSERT_TRUE(offset.ok()) << offset.status();
    EXPECT_EQ(log.Read(key, *offset).value().data, "after the failures");
    EXPECT_EQ(log.Range(key).value().latest, *offset);
  }
}

TEST(FaultInjectionTest, ShardedLogSurvivesEveryAllocationFailure) {
  FailEachAllocationInTurn<ShardedOutcome>(
      [](ShardedOutcome& outcome, AllocationFailures* failures) {
        RunShardedScenario(outcome, failures);
      },
      CheckShardedOutcome);
}

TEST(FaultInjectionTest, ShardedLogSurvivesAThrowingSharder) {
  for (int n = 0; n < 40; ++n) {
    SCOPED_TRACE(absl::StrCat("sharder call ", n, " threw"));
    ShardedOutcome outcome;
    RunShardedScenario(outcome, nullptr, n);
    CheckShardedOutcome(outcome);
  }
}

TEST(FaultInjectionTest, ShardedLogSurvivesAThrowingClock) {
  for (int n = 0; n < 12; ++n) {
    SCOPED_TRACE(absl::StrCat("clock call ", n, " threw"));
    std::unique_ptr<sharded::Log> log =
        sharded::Log::Create(
            {.num_shards = 2,
             .shard = {.segment_size = 2, .clock = ThrowingClock(n, false)},
             .sharder = std::make_shared<TwoShardSharder>()})
            .value();
    std::map<Offset, std::string> written;  // key "a" only
    for (int i = 0; i < 12; ++i) {
      absl::StatusOr<Offset> offset = log->Write("a", ChunkStraddlingPayload(i));
      if (offset.ok()) {
        written[*offset] = ChunkStraddlingPayload(i);
      } else {
        EXPECT_TRUE(IsCallbackFailed(offset.status())) << offset.status();
      }
    }
    const OffsetRange range = log->Range("a").value();
    EXPECT_EQ(range.latest, written.rbegin()->first);
    const OffsetRange shard = log->ShardRange(0).value();
    EXPECT_EQ(range.earliest, shard.earliest);
  }
}

}  // namespace
}  // namespace memlog
