// Copyright memlog authors.
//
// The specification of retention by bytes (Options::max_segment_bytes) and
// by age (Options::max_age, Log::Trim()) of memlog::Log. Every limit is off
// unless set; the count limit (segment_size) always applies too.

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

// --- By bytes ---

TEST(LogRetentionTest, ByteLimitSealsASegmentBeforeItsPayloadStorageOverflows) {
  std::unique_ptr<Log> log =
      Log::Create({.segment_size = 1000, .max_segment_bytes = 4096}).value();
  const std::string record(1000, 'x');
  // Four records fill 4000 of 4096 bytes; the fifth starts a new segment.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->Write(record).ok());
  EXPECT_EQ(log->Range(), (OffsetRange{0, 4}));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(log->Write(record).ok());
  // Offsets 8 started the third segment and purged the first.
  EXPECT_EQ(log->Range(), (OffsetRange{4, 8}));
  EXPECT_EQ(log->stats().records_purged_by_bytes, 4);
  EXPECT_EQ(log->stats().records_purged_by_count, 0);
}

TEST(LogRetentionTest, PayloadStorageNeverExceedsTwiceTheLimit) {
  constexpr int64_t kLimit = 64 << 10;
  std::unique_ptr<Log> log =
      Log::Create({.segment_size = 1 << 20, .max_segment_bytes = kLimit})
          .value();
  for (int i = 0; i < 5000; ++i) {
    // Sizes from 1 to 3000 bytes, so that chunks fill unevenly.
    ASSERT_TRUE(log->Write(std::string(1 + (i * 7919) % 3000, 'y')).ok());
    const MemoryUsage usage = log->memory_usage();
    ASSERT_LE(usage.payload_storage_bytes, 2 * kLimit) << "after write " << i;
    ASSERT_LE(usage.payload_bytes, usage.payload_storage_bytes);
  }
}

TEST(LogRetentionTest, AReusedSegmentStaysWithinTheLimitWhenItsChunksDoNotFit) {
  constexpr int64_t kLimit = 4897;
  std::unique_ptr<Log> log =
      Log::Create({.segment_size = 100, .max_segment_bytes = kLimit}).value();
  // The first segment gets chunks of 4096 and 801 bytes: exactly the limit.
  ASSERT_TRUE(log->Write(std::string(4096, 'a')).ok());
  ASSERT_TRUE(log->Write(std::string(801, 'b')).ok());
  // Records of 4098 bytes, within the limit but larger than either chunk,
  // each take a segment of their own; the first segment, purged, is reused.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(log->Write(std::string(4098, 'c')).ok());
    const MemoryUsage usage = log->memory_usage();
    EXPECT_LE(usage.payload_storage_bytes, 2 * kLimit) << "after write " << i;
  }
}

TEST(LogRetentionTest, ARecordLargerThanTheLimitIsStoredAloneInItsSegment) {
  std::unique_ptr<Log> log =
      Log::Create({.segment_size = 100, .max_segment_bytes = 4096}).value();
  ASSERT_TRUE(log->Write("small").ok());                   // 0
  ASSERT_TRUE(log->Write(std::string(10000, 'L')).ok());   // 1, alone
  ASSERT_TRUE(log->Write("after").ok());                   // 2
  EXPECT_EQ(log->Range(), (OffsetRange{1, 2}));
  EXPECT_EQ(log->Read(1)->data.size(), 10000u);
  // Once purged, the big record's storage is not kept for reuse.
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(log->Write("filler").ok());
  EXPECT_LE(log->memory_usage().payload_storage_bytes, 2 * 4096);
}

// --- By age ---

std::unique_ptr<Log> AgedLog(FakeClock& clock, absl::Duration max_age) {
  return Log::Create({.segment_size = 100,
                      .clock = clock.AsFunction(),
                      .max_age = max_age})
      .value();
}

TEST(LogRetentionTest, AgeLimitPurgesWholeSegmentsOnTheNextWrite) {
  FakeClock clock(kT0);
  std::unique_ptr<Log> log = AgedLog(clock, absl::Minutes(10));
  ASSERT_TRUE(log->Write("old 0").ok());
  ASSERT_TRUE(log->Write("old 1").ok());
  clock.Advance(absl::Minutes(11));
  // The active segment's first record is over age: it is sealed and becomes
  // the history, whose records are all over age: purged.
  ASSERT_TRUE(log->Write("new").ok());
  EXPECT_EQ(log->Range(), (OffsetRange{2, 2}));
  EXPECT_TRUE(IsPurgedOffset(log->Read(0).status()));
  EXPECT_EQ(log->stats().records_purged_by_age, 2);
}

TEST(LogRetentionTest, AgeNeverPurgesARecordYoungerThanTheLimit) {
  FakeClock clock(kT0);
  std::unique_ptr<Log> log = AgedLog(clock, absl::Minutes(10));
  ASSERT_TRUE(log->Write("at 0").ok());
  clock.Advance(absl::Minutes(8));
  ASSERT_TRUE(log->Write("at 8").ok());
  clock.Advance(absl::Minutes(4));  // now 12: "at 0" is over age
  ASSERT_TRUE(log->Write("at 12").ok());
  // The segment holding "at 0" also holds "at 8", younger than the limit:
  // it is sealed but kept until its last record ages out.
  EXPECT_EQ(log->Range(), (OffsetRange{0, 2}));
  clock.Advance(absl::Minutes(7));  // now 19: "at 8" is over age
  ASSERT_TRUE(log->Trim().ok());
  EXPECT_EQ(log->Range(), (OffsetRange{2, 2}));
}

TEST(LogRetentionTest, NoRecordOlderThanTwiceTheLimitSurvivesAWriteOrTrim) {
  FakeClock clock(kT0);
  const absl::Duration kMaxAge = absl::Seconds(10);
  std::unique_ptr<Log> log = AgedLog(clock, kMaxAge);
  for (int i = 0; i < 500; ++i) {
    clock.Advance(absl::Milliseconds(130 + (i * 37) % 300));
    if (i % 3 == 0) {
      ASSERT_TRUE(log->Trim().ok());
    } else {
      ASSERT_TRUE(log->Write("tick").ok());
    }
    const OffsetRange range = log->Range();
    if (range.earliest == kInvalidOffset) continue;
    const absl::Time oldest = log->Read(range.earliest)->metadata.created;
    ASSERT_GE(oldest, clock.Now() - 2 * kMaxAge) << "step " << i;
  }
}

TEST(LogRetentionTest, TrimPurgesAQuietLogWithoutAnyThreadOfItsOwn) {
  FakeClock clock(kT0);
  std::unique_ptr<Log> log = AgedLog(clock, absl::Minutes(1));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->Write("r").ok());
  clock.Advance(absl::Minutes(2));
  EXPECT_EQ(log->Range(), (OffsetRange{0, 2}));  // nothing ran in between
  ASSERT_TRUE(log->Trim().ok());
  // Every record is gone: the range is empty, and writing goes on at 3.
  EXPECT_EQ(log->Range(), OffsetRange{});
  EXPECT_EQ(log->NextOffset(), 3);
  EXPECT_TRUE(IsPurgedOffset(log->Read(2).status()));
  EXPECT_TRUE(IsFutureOffset(log->Read(3).status()));
  EXPECT_EQ(log->Write("later").value(), 3);
  EXPECT_EQ(log->Range(), (OffsetRange{3, 3}));
}

TEST(LogRetentionTest, AStreamBehindAnAgePurgeReportsTheLagAndGoesOn) {
  FakeClock clock(kT0);
  std::unique_ptr<Log> log = AgedLog(clock, absl::Minutes(1));
  absl::StatusOr<Stream> stream = log->StreamFrom(0);
  ASSERT_TRUE(stream.ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->Write("r").ok());
  clock.Advance(absl::Minutes(2));
  ASSERT_TRUE(log->Trim().ok());  // all three purged, nothing retained
  absl::StatusOr<RecordView> lagged = stream->NextFor(absl::Seconds(5));
  ASSERT_TRUE(IsLagged(lagged.status())) << lagged.status();
  EXPECT_EQ(LaggedCount(lagged.status()), 3);
  EXPECT_EQ(stream->position(), 3);
  ASSERT_TRUE(log->Write("fresh").ok());
  EXPECT_EQ(stream->NextFor(absl::Seconds(5))->data(), "fresh");
  EXPECT_EQ(log->stats().lag_events, 1);
  EXPECT_EQ(log->stats().records_missed, 3);
}

TEST(LogRetentionTest, TrimIsANoOpWithoutMaxAgeAndWorksOnEmptyAndClosedLogs) {
  FakeClock clock(kT0);
  std::unique_ptr<Log> plain =
      Log::Create({.clock = clock.AsFunction()}).value();
  EXPECT_TRUE(plain->Trim().ok());
  std::unique_ptr<Log> aged = AgedLog(clock, absl::Minutes(1));
  EXPECT_TRUE(aged->Trim().ok());  // empty
  ASSERT_TRUE(aged->Write("r").ok());
  aged->Close();
  clock.Advance(absl::Minutes(5));
  EXPECT_TRUE(aged->Trim().ok());  // closed: reads go on, so purges do
  EXPECT_EQ(aged->Range(), OffsetRange{});
  EXPECT_TRUE(aged->Trim().ok());  // purged out
  EXPECT_TRUE(IsClosed(aged->Write("r").status()));
}

}  // namespace
}  // namespace memlog
