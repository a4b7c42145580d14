// Copyright memlog authors.
//
// memlog::Reader: reads what Log::Read() reads, without shared counters.

#include "memlog/reader.h"

#include <atomic>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "memlog/log.h"
#include "tests/log_test_support.h"

namespace memlog {
namespace {

using test::MakeLog;
using test::Payload;
using test::WriteRecords;

TEST(ReaderTest, ReadsWhatLogReadReturnsForEveryRetainedOffset) {
  absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  auto log = MakeLog({.start_offset = 5,
                      .segment_size = 4,
                      .clock = [&now] { return now += absl::Seconds(1); }});
  Reader reader(*log);
  for (int round = 0; round < 20; ++round) {
    WriteRecords(*log, 3);
    const OffsetRange range = log->Range();
    for (Offset offset = range.earliest; offset <= range.latest; ++offset) {
      absl::StatusOr<BorrowedRecord> borrowed = reader.Read(offset);
      absl::StatusOr<Record> copied = log->Read(offset);
      ASSERT_TRUE(borrowed.ok()) << borrowed.status();
      ASSERT_TRUE(copied.ok()) << copied.status();
      EXPECT_EQ(borrowed->offset(), offset);
      EXPECT_EQ(borrowed->data(), copied->data);
      EXPECT_EQ(borrowed->created(), copied->metadata.created);
    }
  }
}

TEST(ReaderTest, FailsLikeLogReadOutsideTheRetainedRange) {
  auto log = MakeLog({.start_offset = 10, .segment_size = 2});
  Reader reader(*log);
  EXPECT_TRUE(memlog::IsFutureOffset(reader.Read(10).status()));
  WriteRecords(*log, 5);  // 10..14 written; 10, 11 purged
  EXPECT_EQ(log->Range(), (OffsetRange{12, 14}));
  EXPECT_TRUE(memlog::IsImpossibleOffset(reader.Read(9).status()));
  EXPECT_TRUE(memlog::IsImpossibleOffset(reader.Read(-1).status()));
  EXPECT_TRUE(memlog::IsPurgedOffset(reader.Read(10).status()));
  EXPECT_TRUE(memlog::IsPurgedOffset(reader.Read(11).status()));
  EXPECT_TRUE(memlog::IsFutureOffset(reader.Read(15).status()));
  EXPECT_TRUE(reader.Read(12).ok());
  // The same with segments pinned, which a read first compares against.
  ASSERT_TRUE(reader.Read(14).ok());
  for (Offset offset : {std::numeric_limits<Offset>::min(), Offset{-1},
                        Offset{9}, std::numeric_limits<Offset>::max()}) {
    SCOPED_TRACE(offset);
    absl::StatusOr<BorrowedRecord> borrowed = reader.Read(offset);
    EXPECT_TRUE(memlog::IsImpossibleOffset(borrowed.status()))
        << borrowed.status();
    EXPECT_EQ(GetErrorKind(borrowed.status()),
              GetErrorKind(log->Read(offset).status()));
  }
  EXPECT_TRUE(memlog::IsPurgedOffset(reader.Read(11).status()));
  EXPECT_TRUE(memlog::IsFutureOffset(reader.Read(kMaxOffset).status()));
  EXPECT_EQ(reader.Read(13).value().data(), Payload(13));
}

TEST(ReaderTest, APinnedSegmentDoesNotMakeAPurgedOffsetReadable) {
  auto log = MakeLog({.segment_size = 2});
  Reader reader(*log);
  WriteRecords(*log, 2);
  ASSERT_TRUE(reader.Read(0).ok());  // pins the segment of 0 and 1
  WriteRecords(*log, 3);             // 0 and 1 purged
  ASSERT_EQ(log->Range().earliest, 2);
  EXPECT_TRUE(memlog::IsPurgedOffset(reader.Read(0).status()));
  EXPECT_TRUE(memlog::IsPurgedOffset(reader.Read(1).status()));
  absl::StatusOr<BorrowedRecord> latest = reader.Read(4);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->data(), Payload(4));
}

TEST(ReaderTest, ReleaseLetsGoOfAPurgedSegment) {
  auto log = MakeLog({.segment_size = 2});
  Reader reader(*log);
  WriteRecords(*log, 1);
  ASSERT_TRUE(reader.Read(0).ok());  // pins the segment of 0 and 1
  WriteRecords(*log, 5);             // purged, but held by the reader
  const int64_t held_bytes = log->memory_usage().allocated_bytes;
  reader.Release();
  // The next rotations find two free segments; the log keeps one spare's
  // storage and frees the other's. Without Release() only one would be free.
  WriteRecords(*log, 4);
  EXPECT_LT(log->memory_usage().allocated_bytes, held_bytes);
  EXPECT_TRUE(reader.Read(log->Range().latest).ok());
}

// Invariant: while a writer appends and purges, every read a Reader makes
// either returns the bytes written at exactly that offset, or fails with
// IsPurgedOffset for an offset below the log's earliest (as seen after the
// read), or IsFutureOffset for one above its latest. Under TSan this also
// checks that plain reads of pinned segments are ordered after the writes.
TEST(ReaderTest, ConcurrentReadersSeeExactRecordsOrClearErrors) {
  auto log = MakeLog({.segment_size = 8});
  constexpr int kWrites = 4000;
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  std::atomic<int> failures{0};
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      Reader reader(*log);
      Offset offset = r;
      while (!done.load(std::memory_order_acquire)) {
        const OffsetRange range = log->Range();
        if (range.latest < 0) continue;
        offset = range.earliest + (offset + 7) % (range.latest -
                                                  range.earliest + 2);
        absl::StatusOr<BorrowedRecord> record = reader.Read(offset);
        if (record.ok()) {
          if (record->data() != Payload(offset)) failures.fetch_add(1);
        } else if (memlog::IsPurgedOffset(record.status())) {
          if (offset >= log->Range().earliest) failures.fetch_add(1);
        } else if (!memlog::IsFutureOffset(record.status())) {
          failures.fetch_add(1);
        }
      }
    });
  }
  for (Offset offset = 0; offset < kWrites; ++offset) {
    ASSERT_TRUE(log->Write(Payload(offset)).ok());
  }
  done.store(true, std::memory_order_release);
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace memlog
