// Copyright memlog authors.
//
// memlog::Log used by many writers and readers at once.
//
// The invariant under test. Writers append concurrently; every Write that
// succeeds acknowledges an offset. Then:
//  1. The acknowledged offsets are unique and dense: together they are exactly
//     [start_offset, start_offset + writes), and each writer's own offsets
//     increase in the order it wrote.
//  2. Once Write has returned offset N, a read of N from any thread finds the
//     record that was written there, byte for byte, until it is purged; a
//     read that fails finds it purged (earliest has moved past N), never
//     "not written yet".
//  3. No reader ever sees a partly written record: every payload a reader
//     gets is self-consistent (it encodes its writer and sequence number and
//     the bytes derived from them), and it is the payload whose write was
//     acknowledged with that offset.
//  4. Range() never moves backwards, always starts on a segment boundary and
//     never spans more than two segments.
//  5. A stream delivers offsets in order without gaps, except where it reports
//     lagging, and the records it delivers plus those it reports missed are
//     exactly all records, each once.
//  6. Views stay intact after their records are purged and after the log is
//     gone.
//
// Readers pace themselves with Log::WaitFor instead of spinning, and the test
// ends by closing the log, which releases every waiting reader. The work is
// bounded (a few thousand writes) so that the test stays fast under TSan.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <latch>
#include <memory>
#include <mutex>
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

namespace memlog {
namespace {

constexpr int kWriters = 4;
constexpr int kRecordsPerWriter = 500;
constexpr int64_t kTotal = int64_t{kWriters} * kRecordsPerWriter;
constexpr Offset kStart = 1000;

// Identifies a write: which writer, its sequence number.
uint64_t KeyOf(int writer, int seq) {
  return (static_cast<uint64_t>(writer) << 32) | static_cast<uint32_t>(seq);
}

// A self-describing payload: "w<writer> s<seq> " and then filler bytes that
// depend on both, of a length that varies from record to record.
std::string Encode(int writer, int seq) {
  std::string data =
      "w" + std::to_string(writer) + " s" + std::to_string(seq) + " ";
  const int filler = (writer * 31 + seq * 7) % 97 + 1;
  for (int i = 0; i < filler; ++i) {
    data.push_back(static_cast<char>('a' + (writer + seq + i) % 26));
  }
  return data;
}

// Returns the key a payload encodes if it is complete and consistent.
bool Decode(std::string_view data, uint64_t* key) {
  int writer = -1;
  int seq = -1;
  const std::string text(data.substr(0, 32));
  if (std::sscanf(text.c_str(), "w%d s%d ", &writer, &seq) != 2) return false;
  if (writer < 0 || writer >= kWriters || seq < 0) return false;
  if (data != Encode(writer, seq)) return false;
  *key = KeyOf(writer, seq);
  return true;
}

// What a reader saw at an offset.
struct Observation {
  Offset offset;
  uint64_t key;
};

// Collects failures from any thread, for the main thread to report.
class Errors {
 public:
  void Add(std::string error) {
    std::lock_guard<std::mutex> lock(mu_);
    if (errors_.size() < 20) errors_.push_back(std::move(error));
  }
  std::vector<std::string> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(errors_);
  }

 private:
  std::mutex mu_;
  std::vector<std::string> errors_;
};

// Checks a record read at `offset` and remembers what it held.
void CheckRecord(Offset offset, const RecordView& view, Errors& errors,
                 std::vector<Observation>& seen) {
  uint64_t key = 0;
  if (view.offset() != offset) {
    errors.Add("read of " + std::to_string(offset) + " returned offset " +
               std::to_string(view.offset()));
  } else if (!Decode(view.data(), &key)) {
    errors.Add("torn or corrupt record at " + std::to_string(offset) + ": " +
               std::string(view.data()));
  } else {
    seen.push_back({offset, key});
  }
}

// Checks that a failed read of a written offset failed because it was purged.
void CheckPurged(const Log& log, Offset offset, const absl::Status& status,
                 Errors& errors) {
  if (!memlog::IsPurgedOffset(status)) {
    errors.Add("read of written offset " + std::to_string(offset) +
               " failed with " + status.ToString());
    return;
  }
  // Earliest never moves backwards, so it must be past `offset` now.
  const Offset earliest = log.Range().earliest;
  if (earliest <= offset) {
    errors.Add("offset " + std::to_string(offset) + " reported purged (" +
               status.ToString() + ") but Range() afterwards has earliest " +
               std::to_string(earliest));
  }
}

class LogConcurrencyTest : public testing::TestWithParam<int64_t> {
 protected:
  int64_t segment_size() const { return GetParam(); }
};

TEST_P(LogConcurrencyTest, ConcurrentWritersAndReadersKeepTheInvariant) {
  std::unique_ptr<Log> log =
      Log::Create({.start_offset = kStart, .segment_size = segment_size()})
          .value();
  Errors errors;
  std::latch go(1);

  // 1, 2: writers acknowledge offsets and read their own writes back.
  std::vector<std::vector<Offset>> acked(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      go.wait();
      for (int seq = 0; seq < kRecordsPerWriter; ++seq) {
        const std::string data = Encode(w, seq);
        absl::StatusOr<Offset> offset = log->Write(data);
        if (!offset.ok()) {
          errors.Add("write failed: " + offset.status().ToString());
          return;
        }
        acked[w].push_back(*offset);
        if (log->Range().latest < *offset) {
          errors.Add("Range() misses acknowledged offset " +
                     std::to_string(*offset));
        }
        absl::StatusOr<Record> record = log->Read(*offset);
        if (record.ok()) {
          if (record->data != data || record->metadata.offset != *offset) {
            errors.Add("own write at " + std::to_string(*offset) +
                       " reads back as " + record->data);
          }
        } else {
          CheckPurged(*log, *offset, record.status(), errors);
        }
      }
    });
  }

  // 2, 3, 4, 6: point readers pick offsets inside Range() and keep a few
  // views for the end.
  constexpr int kPointReaders = 2;
  std::vector<std::vector<Observation>> point_seen(kPointReaders);
  std::vector<std::vector<RecordView>> kept_views(kPointReaders);
  std::vector<std::thread> readers;
  for (int r = 0; r < kPointReaders; ++r) {
    readers.emplace_back([&, r] {
      go.wait();
      uint64_t random = 0x9E3779B97F4A7C15ull * (r + 1);
      OffsetRange last{kInvalidOffset, kInvalidOffset};
      for (;;) {
        const OffsetRange range = log->Range();
        if (range.earliest < last.earliest || range.latest < last.latest) {
          errors.Add("Range() moved backwards");
        }
        last = range;
        if (range.latest != kInvalidOffset) {
          if ((range.earliest - kStart) % segment_size() != 0 ||
              range.latest - range.earliest + 1 > 2 * segment_size() ||
              range.latest < range.earliest) {
            errors.Add("bad Range() {" + std::to_string(range.earliest) + ", " +
                       std::to_string(range.latest) + "}");
          }
          for (int i = 0; i < 4; ++i) {
            random = random * 6364136223846793005ull + 1442695040888963407ull;
            const Offset offset =
                range.earliest +
                static_cast<Offset>((random >> 33) %
                                    (range.latest - range.earliest + 1));
            absl::StatusOr<RecordView> view = log->ReadView(offset);
            if (view.ok()) {
              CheckRecord(offset, *view, errors, point_seen[r]);
              if (kept_views[r].size() < 64 && (random >> 20) % 16 == 0) {
                kept_views[r].push_back(*view);
              }
            } else {
              CheckPurged(*log, offset, view.status(), errors);
            }
          }
        }
        const Offset next =
            range.latest == kInvalidOffset ? kStart : range.latest + 1;
        if (!log->WaitFor(next).ok()) return;  // closed: the writers are done
      }
    });
  }

  // 2, 3: a batch reader reads from the earliest record on.
  std::vector<Observation> batch_seen;
  readers.emplace_back([&] {
    go.wait();
    std::vector<RecordView> batch(10);
    for (;;) {
      const OffsetRange range = log->Range();
      if (range.latest != kInvalidOffset) {
        ReadResult result =
            log->ReadBatchView(range.earliest, absl::MakeSpan(batch));
        for (int64_t i = 0; i < result.count; ++i) {
          CheckRecord(range.earliest + i, batch[static_cast<size_t>(i)], errors,
                      batch_seen);
        }
        if (!result.ok() && !IsFutureOffset(result.status) &&
            !memlog::IsPurgedOffset(result.status)) {
          errors.Add("batch read failed: " + result.status.ToString());
        }
      }
      const Offset next =
          range.latest == kInvalidOffset ? kStart : range.latest + 1;
      if (!log->WaitFor(next).ok()) return;
    }
  });

  // 5: streams, one record at a time and in batches.
  struct StreamTally {
    std::vector<Observation> seen;
    int64_t missed = 0;
    absl::Status ending;
  };
  StreamTally single;
  StreamTally batched;
  auto follow = [&](StreamTally& tally, size_t batch_size) {
    Stream stream = log->StreamFrom(kStart).value();
    go.wait();
    std::vector<RecordView> batch(batch_size);
    Offset expected = kStart;
    for (;;) {
      ReadResult result = stream.NextBatch(absl::MakeSpan(batch));
      if (IsLagged(result.status)) {
        tally.missed += LaggedCount(result.status);
        expected += LaggedCount(result.status);
        if (stream.position() != expected) {
          errors.Add("stream lagged to " + std::to_string(stream.position()) +
                     ", expected " + std::to_string(expected));
          expected = stream.position();
        }
        continue;
      }
      if (!result.ok()) {
        tally.ending = result.status;
        return;
      }
      for (int64_t i = 0; i < result.count; ++i) {
        CheckRecord(expected, batch[static_cast<size_t>(i)], errors,
                    tally.seen);
        ++expected;
      }
    }
  };
  readers.emplace_back([&] { follow(single, 1); });
  readers.emplace_back([&] { follow(batched, 7); });

  go.count_down();
  for (std::thread& writer : writers) writer.join();

  // 1: unique, dense, and in order per writer.
  std::vector<uint64_t> key_at(kTotal, ~uint64_t{0});
  for (int w = 0; w < kWriters; ++w) {
    ASSERT_EQ(acked[w].size(), static_cast<size_t>(kRecordsPerWriter));
    EXPECT_TRUE(std::is_sorted(acked[w].begin(), acked[w].end()));
    for (int seq = 0; seq < kRecordsPerWriter; ++seq) {
      const Offset offset = acked[w][seq];
      ASSERT_GE(offset, kStart);
      ASSERT_LT(offset, kStart + kTotal);
      ASSERT_EQ(key_at[offset - kStart], ~uint64_t{0})
          << "offset " << offset << " acknowledged twice";
      key_at[offset - kStart] = KeyOf(w, seq);
    }
  }
  // kTotal distinct offsets in a range of kTotal: dense.

  // 2: the retained records are readable and are the acknowledged ones.
  const OffsetRange range = log->Range();
  EXPECT_EQ(range.latest, kStart + kTotal - 1);
  EXPECT_EQ(
      range.earliest,
      kStart + segment_size() *
                   std::max<int64_t>(0, (kTotal - 1) / segment_size() - 1));
  for (Offset offset = range.earliest; offset <= range.latest; ++offset) {
    absl::StatusOr<Record> record = log->Read(offset);
    ASSERT_TRUE(record.ok()) << offset << ": " << record.status();
    uint64_t key = 0;
    ASSERT_TRUE(Decode(record->data, &key)) << offset;
    ASSERT_EQ(key, key_at[offset - kStart]) << offset;
  }

  log->Close();
  for (std::thread& reader : readers) reader.join();
  for (const std::string& error : errors.Take()) ADD_FAILURE() << error;

  // 3: every record a reader saw is the one acknowledged at its offset.
  auto check_seen = [&](const std::vector<Observation>& seen, const char* who) {
    for (const Observation& o : seen) {
      ASSERT_EQ(o.key, key_at[o.offset - kStart])
          << who << " saw another record at offset " << o.offset;
    }
  };
  for (const auto& seen : point_seen) check_seen(seen, "point reader");
  check_seen(batch_seen, "batch reader");

  // 5: each stream accounted for every record exactly once.
  for (const StreamTally* tally : {&single, &batched}) {
    check_seen(tally->seen, "stream");
    EXPECT_TRUE(IsClosed(tally->ending)) << tally->ending;
    EXPECT_EQ(static_cast<int64_t>(tally->seen.size()) + tally->missed, kTotal);
    ASSERT_FALSE(tally->seen.empty());
    EXPECT_EQ(tally->seen.back().offset, kStart + kTotal - 1);
  }

  // 6: views kept by the readers outlive the log.
  log.reset();
  for (const auto& views : kept_views) {
    for (const RecordView& view : views) {
      uint64_t key = 0;
      ASSERT_TRUE(Decode(view.data(), &key)) << view.offset();
      EXPECT_EQ(key, key_at[view.offset() - kStart]) << view.offset();
    }
  }
}

// Segment size 1 purges on every write; 16 purges often; 4096 never purges
// in this test, so there every acknowledged record stays readable.
INSTANTIATE_TEST_SUITE_P(SegmentSizes, LogConcurrencyTest,
                         testing::Values(1, 16, 4096),
                         [](const testing::TestParamInfo<int64_t>& test) {
                           return "Segment" + std::to_string(test.param);
                         });

// Closing while writers write: every write either is acknowledged or fails
// with IsClosed, no writer succeeds after it saw the log closed, and the
// acknowledged offsets are still dense from the start.
TEST(LogConcurrencyTest, CloseDuringWritesKeepsAcknowledgedOffsetsDense) {
  std::unique_ptr<Log> log = Log::Create({.segment_size = 64}).value();
  Errors errors;
  std::latch some_written(kWriters);
  std::vector<std::vector<Offset>> acked(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      bool closed = false;
      for (int seq = 0; seq < kRecordsPerWriter; ++seq) {
        absl::StatusOr<Offset> offset = log->Write(Encode(w, seq));
        if (offset.ok()) {
          if (closed) errors.Add("write succeeded after the log was closed");
          acked[w].push_back(*offset);
        } else if (IsClosed(offset.status())) {
          closed = true;
        } else {
          errors.Add("write failed: " + offset.status().ToString());
        }
        if (seq == 10) some_written.count_down();
      }
    });
  }
  some_written.wait();
  log->Close();
  for (std::thread& writer : writers) writer.join();
  for (const std::string& error : errors.Take()) ADD_FAILURE() << error;

  std::vector<Offset> all;
  for (const auto& offsets : acked) {
    all.insert(all.end(), offsets.begin(), offsets.end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_GE(all.size(), static_cast<size_t>(kWriters * 11));
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(all[i], static_cast<Offset>(i)) << "gap or duplicate";
  }
  EXPECT_EQ(log->Range().latest, static_cast<Offset>(all.size()) - 1);
  EXPECT_TRUE(IsClosed(log->Write("late").status()));
}

}  // namespace
}  // namespace memlog
