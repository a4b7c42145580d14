// Copyright memlog authors.
//
// The specification of time in memlog::Log: `created` timestamps never go
// backwards within a log, and Log::OffsetAt(t) finds the first retained
// record created at or after t.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "memlog/log.h"
#include "tests/fake_clock.h"

namespace memlog {
namespace {

using test::FakeClock;

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

std::unique_ptr<Log> MakeLog(FakeClock& clock, Options options = {}) {
  options.clock = clock.AsFunction();
  return Log::Create(std::move(options)).value();
}

TEST(LogTimeTest, CreatedNeverGoesBackwardsWhenTheClockStepsBack) {
  FakeClock clock(kT0);
  std::unique_ptr<Log> log = MakeLog(clock);
  ASSERT_TRUE(log->Write("a").ok());
  clock.Set(kT0 - absl::Hours(1));  // NTP stepped the clock back
  ASSERT_TRUE(log->Write("b").ok());
  clock.Set(kT0 + absl::Seconds(1));
  ASSERT_TRUE(log->Write("c").ok());
  EXPECT_EQ(log->Read(0)->metadata.created, kT0);
  EXPECT_EQ(log->Read(1)->metadata.created, kT0);  // held at the previous one
  EXPECT_EQ(log->Read(2)->metadata.created, kT0 + absl::Seconds(1));
}

TEST(LogTimeTest, ClockTimesBeyondInt64NanosecondsAreStoredAtTheBounds) {
  // Stored as int64 nanoseconds since 1970: what lies outside saturates.
  const absl::Time earliest = absl::FromUnixNanos(INT64_MIN);
  const absl::Time latest = absl::FromUnixNanos(INT64_MAX);
  const absl::Time go_zero_time = absl::FromCivil(
      absl::CivilSecond(1, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  std::vector<absl::Time> times = {go_zero_time, absl::InfinitePast(),
                                   absl::InfiniteFuture(), kT0};
  size_t call = 0;
  std::unique_ptr<Log> log =
      Log::Create({.clock = [&] { return times[call++]; }}).value();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(log->Write("r").ok());
  EXPECT_EQ(log->Read(0)->metadata.created, earliest);
  EXPECT_EQ(log->Read(1)->metadata.created, earliest);
  EXPECT_EQ(log->Read(2)->metadata.created, latest);
  EXPECT_EQ(log->Read(3)->metadata.created, latest);  // monotonic from there
}

// Records at kT0 + 0s, 1s, ..., 9s in segments of 4.
std::unique_ptr<Log> TenSecondsOfRecords(FakeClock& clock,
                                         Options options = {}) {
  options.segment_size = 4;
  std::unique_ptr<Log> log = MakeLog(clock, std::move(options));
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(log->Write("r" + std::to_string(i)).ok());
    clock.Advance(absl::Seconds(1));
  }
  return log;
}

TEST(LogTimeTest, OffsetAtFindsTheFirstRecordCreatedAtOrAfterTheTime) {
  FakeClock clock(kT0);
  std::unique_ptr<Log> log = TenSecondsOfRecords(clock);
  ASSERT_EQ(log->Range(), (OffsetRange{4, 9}));  // 0..3 purged
  EXPECT_EQ(log->OffsetAt(kT0 + absl::Seconds(6))->offset, 6);
  // Between two records: the later one.
  EXPECT_EQ(log->OffsetAt(kT0 + absl::Milliseconds(6500))->offset, 7);
  EXPECT_FALSE(log->OffsetAt(kT0 + absl::Seconds(6))->may_have_missed);
  // In the active segment, and its last record.
  EXPECT_EQ(log->OffsetAt(kT0 + absl::Seconds(9))->offset, 9);
}

TEST(LogTimeTest, OffsetAtBeforeTheEarliestReturnsItAndSaysRecordsMayBeMissed) {
  FakeClock clock(kT0);
  std::unique_ptr<Log> log = TenSecondsOfRecords(clock);
  for (absl::Time t : {kT0, kT0 + absl::Seconds(4), absl::InfinitePast()}) {
    absl::StatusOr<OffsetAtTime> at = log->OffsetAt(t);
    ASSERT_TRUE(at.ok()) << at.status();
    EXPECT_EQ(at->offset, 4);
    EXPECT_TRUE(at->may_have_missed) << t;
  }
}

TEST(LogTimeTest, OffsetAtOfALogThatPurgedNothingMissesNothing) {
  FakeClock clock(kT0);
  std::unique_ptr<Log> log = MakeLog(clock, {.start_offset = 5});
  ASSERT_TRUE(log->Write("only").ok());
  absl::StatusOr<OffsetAtTime> at = log->OffsetAt(absl::InfinitePast());
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(at->offset, 5);
  EXPECT_FALSE(at->may_have_missed);
}

TEST(LogTimeTest, OffsetAtAfterTheLatestIsAFutureOffsetNamingWhereToStream) {
  FakeClock clock(kT0);
  std::unique_ptr<Log> log = TenSecondsOfRecords(clock);
  for (absl::Time t : {kT0 + absl::Seconds(10), absl::InfiniteFuture()}) {
    absl::StatusOr<OffsetAtTime> at = log->OffsetAt(t);
    EXPECT_TRUE(IsFutureOffset(at.status())) << at.status();
    EXPECT_NE(at.status().message().find("start at offset 10"),
              std::string::npos)
        << at.status();
  }
  EXPECT_EQ(log->NextOffset(), 10);
}

TEST(LogTimeTest, OffsetAtOfAnEmptyLogIsAFutureOffset) {
  FakeClock clock(kT0);
  std::unique_ptr<Log> log = MakeLog(clock, {.start_offset = 3});
  EXPECT_TRUE(IsFutureOffset(log->OffsetAt(kT0).status()));
  EXPECT_EQ(log->NextOffset(), 3);
}

TEST(LogTimeTest, OffsetAtOfEqualTimestampsIsTheFirstOfThem) {
  FakeClock clock(kT0);
  std::unique_ptr<Log> log = MakeLog(clock, {.segment_size = 3});
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(log->Write("same tick").ok());
  clock.Advance(absl::Milliseconds(4));
  ASSERT_TRUE(log->Write("next tick").ok());
  ASSERT_EQ(log->Range(), (OffsetRange{3, 7}));
  EXPECT_EQ(log->OffsetAt(kT0)->offset, 3);  // 0..2 purged; 3 is the first
  EXPECT_EQ(log->OffsetAt(kT0 + absl::Milliseconds(1))->offset, 7);
}

TEST(LogTimeTest, StreamingFromATimeIsOneLine) {
  FakeClock clock(kT0);
  std::unique_ptr<Log> log = TenSecondsOfRecords(clock);
  const absl::Time since = kT0 + absl::Seconds(7);
  // The README's one-liner.
  absl::StatusOr<Stream> stream = log->StreamFrom(
      log->OffsetAt(since).value_or(OffsetAtTime{log->NextOffset()}).offset);
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ(stream->Next()->data(), "r7");
}

}  // namespace
}  // namespace memlog
