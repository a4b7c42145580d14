// Copyright memlog authors.
//
// The specification of memlog::LogStats (memlog/stats.h): each counter
// counts exactly its events, read without the writer lock.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "memlog/log.h"
#include "memlog/stats.h"

namespace memlog {
namespace {

TEST(StatsTest, ANewLogCountsNothing) {
  std::unique_ptr<Log> log = Log::Create({.start_offset = 7}).value();
  const LogStats stats = log->stats();
  EXPECT_EQ(stats.records_written, 0);
  EXPECT_EQ(stats.bytes_written, 0);
  EXPECT_EQ(stats.segments_rotated, 0);
  EXPECT_EQ(stats.streams_waiting, 0);
}

TEST(StatsTest, WritesRotationsAndPurgesAreCounted) {
  std::unique_ptr<Log> log = Log::Create({.segment_size = 2}).value();
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(log->Write("abc").ok());
  const LogStats stats = log->stats();
  EXPECT_EQ(stats.records_written, 7);
  EXPECT_EQ(stats.bytes_written, 21);
  // Segments [0,1] [2,3] [4,5] [6]: three sealed, two purged by count.
  EXPECT_EQ(stats.segments_rotated, 3);
  EXPECT_EQ(stats.records_purged_by_count, 4);
  EXPECT_EQ(stats.records_purged_by_bytes, 0);
  EXPECT_EQ(stats.records_purged_by_age, 0);
}

TEST(StatsTest, FailedWritesAreCountedByKind) {
  std::unique_ptr<Log> log =
      Log::Create({.start_offset = kMaxOffset, .max_record_bytes = 2}).value();
  EXPECT_FALSE(log->Write("").ok());
  EXPECT_FALSE(log->Write("toolong").ok());
  ASSERT_TRUE(log->Write("ok").ok());  // kMaxOffset
  EXPECT_FALSE(log->Write("no").ok());  // overflow
  log->Close();
  EXPECT_FALSE(log->Write("no").ok());
  const std::vector<std::string_view> batch = {"a", ""};
  EXPECT_FALSE(log->WriteBatch(batch).ok());
  const LogStats stats = log->stats();
  EXPECT_EQ(stats.write_failures_invalid, 3);
  EXPECT_EQ(stats.write_failures_overflow, 1);
  EXPECT_EQ(stats.write_failures_closed, 1);
  EXPECT_EQ(stats.records_written, 1);
}

TEST(StatsTest, ShardTotalsAddUp) {
  LogStats a;
  a.records_written = 2;
  a.lag_events = 1;
  LogStats b;
  b.records_written = 3;
  b.streams_waiting = 4;
  a += b;
  EXPECT_EQ(a.records_written, 5);
  EXPECT_EQ(a.lag_events, 1);
  EXPECT_EQ(a.streams_waiting, 4);
}

}  // namespace
}  // namespace memlog
