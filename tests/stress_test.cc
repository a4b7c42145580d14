// Copyright memlog authors.
//
// A model-checked stress test of memlog::Log: writer threads, Read, ReadBatch
// and ReadView threads, and streams, all on one log with tiny segments so
// that purges happen thousands of times while everything else runs.
//
// Every record's payload carries its writer id, its sequence number within
// that writer and a checksum of the rest (see EncodeRecord), so any reader can
// tell on its own that the bytes it got are intact and whose they are.
//
// Invariants checked:
//
// 1. Acknowledged offsets are unique and dense: the offsets returned by all
//    successful writes, together, are exactly [start, start + writes).
//    A writer's own offsets increase with its sequence numbers.
// 2. Every read returns intact bytes for exactly the offset asked: the
//    record's offset is the one requested, its checksum holds, and its
//    (writer, sequence) is the one the writer was acknowledged for at that
//    offset. A read fails only as the log's state allows: future-offset only
//    for an offset above the latest seen by a Range() taken before the read,
//    impossible-offset only for an offset below the start offset, and
//    purged-offset only for one below the earliest seen by a Range() taken
//    after it. A writer reading back the
//    offset it was just given never gets future-offset (visibility).
// 3. A batch read fills consecutive offsets from its start; it is short only
//    with a future-offset, purged-offset or impossible-offset status, under
//    the same conditions.
// 4. A stream sees strictly increasing, gap-free offsets, except where it was
//    told it lagged, and then it skips exactly the reported count. It ends
//    with IsClosed only after returning every record written before Close().
//    A stream deliberately left behind does get lag reports.
// 5. Range() never moves backwards, as seen by any one thread, and
//    earliest <= latest.
// 6. Per writer (the memlog equivalent of a key), order equals write order: a
//    stream sees each writer's sequence numbers increase, by exactly one
//    while it has not lagged.
// 7. Zero-copy views taken before a purge stay intact after it: a view held
//    while its record is purged (checked: reading the offset then reports
//    purged-offset) still holds the same bytes.
//
// The test is bounded in iterations and, as a safety net for slow sanitizer
// builds, in time; it asserts that enough purges happened to mean something.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "memlog/log.h"
#include "tests/violations.h"
#include "tests/log_test_support.h"

namespace memlog {
namespace {

using test::Fnv1a;
using test::Get;
using test::Put;

// --- The self-checking record format. ---
//
// [writer u32][sequence u64][body_size u32][body][checksum u64], where the
// body is derived from (writer, sequence) and the checksum is FNV-1a over
// everything before it.

constexpr size_t kHeaderBytes = 4 + 8 + 4;
constexpr size_t kChecksumBytes = 8;

std::string EncodeRecord(uint32_t writer, uint64_t sequence) {
  // Sizes vary so that records straddle the segments' payload chunks.
  const uint32_t body_size =
      static_cast<uint32_t>((sequence * 7 + writer) % 49);
  std::string out;
  out.reserve(kHeaderBytes + body_size + kChecksumBytes);
  Put(out, writer);
  Put(out, sequence);
  Put(out, body_size);
  for (uint32_t i = 0; i < body_size; ++i) {
    out.push_back(static_cast<char>('a' + (writer * 31 + sequence + i) % 26));
  }
  Put(out, Fnv1a(out));
  return out;
}

struct RecordId {
  uint32_t writer;
  uint64_t sequence;
};

// Returns the id in an intact record, or nullopt if the bytes are damaged.
std::optional<RecordId> DecodeRecord(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes + kChecksumBytes) return std::nullopt;
  const size_t body_size = Get<uint32_t>(bytes, 12);
  if (bytes.size() != kHeaderBytes + body_size + kChecksumBytes) {
    return std::nullopt;
  }
  const std::string_view covered = bytes.substr(0, bytes.size() - 8);
  if (Get<uint64_t>(bytes, covered.size()) != Fnv1a(covered)) {
    return std::nullopt;
  }
  RecordId id{Get<uint32_t>(bytes, 0), Get<uint64_t>(bytes, 4)};
  // The checksum could be recomputed over wrong bytes only by a bug that
  // writes whole records; compare with the canonical encoding as well.
  if (bytes != EncodeRecord(id.writer, id.sequence)) return std::nullopt;
  return id;
}

// --- Shared bookkeeping. ---

using ::memlog::test::Violations;

struct StressConfig {
  Offset start_offset = 1000;
  int64_t segment_size = 8;
  int writers = 4;
  int64_t records_per_writer = 40000;
  // A safety net for slow (sanitizer) builds: writers stop at this deadline
  // even if they have not written all their records.
  absl::Duration write_budget = absl::Seconds(40);
};

// Everything the threads share. `owner` maps offset - start to the
// acknowledged (writer, sequence) packed as writer << 40 | sequence + 1,
// 0 while not acknowledged yet.
class StressState {
 public:
  explicit StressState(const StressConfig& stress_config)
      : config(stress_config),
        owner(static_cast<size_t>(stress_config.writers *
                                  stress_config.records_per_writer)) {}

  static uint64_t Pack(RecordId id) {
    return (uint64_t{id.writer} << 40) | (id.sequence + 1);
  }

  // Checks that `bytes`, read at `offset`, are intact and are the record the
  // writer was acknowledged for there. Returns the id when intact.
  std::optional<RecordId> CheckRecord(const char* who, Offset offset,
                                      Offset reported_offset,
                                      std::string_view bytes) {
    if (reported_offset != offset) {
      violations.Add(absl::StrCat(who, ": asked for offset ", offset,
                                  ", got a record for offset ",
                                  reported_offset));
    }
    std::optional<RecordId> id = DecodeRecord(bytes);
    if (!id.has_value()) {
      violations.Add(absl::StrCat(who, ": damaged bytes at offset ", offset));
      return std::nullopt;
    }
    const int64_t index = offset - config.start_offset;
    if (index < 0 || index >= static_cast<int64_t>(owner.size())) {
      violations.Add(
          absl::StrCat(who, ": record at impossible offset ", offset));
      return id;
    }
    const uint64_t acknowledged =
        owner[static_cast<size_t>(index)].load(std::memory_order_acquire);
    if (acknowledged != 0 && acknowledged != Pack(*id)) {
      violations.Add(absl::StrCat(who, ": offset ", offset, " holds writer ",
                                  id->writer, " seq ", id->sequence,
                                  " but was acknowledged for another"));
    } else if (acknowledged == 0) {
      std::lock_guard<std::mutex> lock(deferred_mu);
      deferred.push_back({offset, *id});
    }
    return id;
  }

  // Checks a read that failed with `status` for `offset`, given the ranges
  // seen just before and just after it.
  void CheckReadFailure(const char* who, Offset offset,
                        const absl::Status& status, OffsetRange before,
                        OffsetRange after) {
    if (memlog::IsFutureOffset(status)) {
      if (offset <= before.latest) {
        violations.Add(absl::StrCat(who, ": offset ", offset,
                                    " reported future although latest was ",
                                    before.latest, ": ", status.ToString()));
      }
    } else if (memlog::IsImpossibleOffset(status)) {
      if (offset >= config.start_offset && offset <= kMaxOffset) {
        violations.Add(absl::StrCat(who, ": offset ", offset,
                                    " reported impossible although the start "
                                    "offset is ",
                                    config.start_offset, ": ",
                                    status.ToString()));
      }
    } else if (memlog::IsPurgedOffset(status)) {
      if (offset < config.start_offset || offset >= after.earliest) {
        violations.Add(absl::StrCat(who, ": offset ", offset,
                                    " reported purged although earliest "
                                    "was ",
                                    after.earliest, ": ", status.ToString()));
      }
    } else {
      violations.Add(absl::StrCat(who, ": unexpected status for offset ",
                                  offset, ": ", status.ToString()));
    }
  }

  void CheckMonotonic(const char* who, OffsetRange& last, OffsetRange now) {
    if (now.earliest < last.earliest || now.latest < last.latest) {
      violations.Add(absl::StrCat(who, ": Range() moved backwards from {",
                                  last.earliest, ", ", last.latest, "} to {",
                                  now.earliest, ", ", now.latest, "}"));
    }
    if (now.earliest > now.latest) {
      violations.Add(absl::StrCat(who, ": Range() {", now.earliest, ", ",
                                  now.latest, "} has earliest > latest"));
    }
    last = now;
  }

  const StressConfig config;
  std::vector<std::atomic<uint64_t>> owner;
  std::atomic<bool> writers_done{false};
  Violations violations;

  std::mutex deferred_mu;
  struct Deferred {
    Offset offset;
    RecordId id;
  };
  std::vector<Deferred> deferred;
};

// --- The threads. ---

struct WriterResult {
  std::vector<Offset> offsets;
};

void RunWriter(Log& log, StressState& state, uint32_t writer,
               absl::Time deadline, WriterResult& result) {
  Offset previous = kInvalidOffset;
  for (uint64_t sequence = 0;
       sequence < static_cast<uint64_t>(state.config.records_per_writer);
       ++sequence) {
    if (sequence % 256 == 0 && absl::Now() > deadline) break;
    const std::string payload = EncodeRecord(writer, sequence);
    absl::StatusOr<Offset> offset = log.Write(payload);
    if (!offset.ok()) {
      state.violations.Add(absl::StrCat(
          "writer ", writer, ": write failed: ", offset.status().ToString()));
      return;
    }
    if (*offset <= previous) {
      state.violations.Add(absl::StrCat("writer ", writer, ": offset ", *offset,
                                        " after ", previous));
    }
    previous = *offset;
    result.offsets.push_back(*offset);
    const int64_t index = *offset - state.config.start_offset;
    if (index >= 0 && index < static_cast<int64_t>(state.owner.size())) {
      state.owner[static_cast<size_t>(index)].store(
          StressState::Pack({writer, sequence}), std::memory_order_release);
    }
    // Visibility: the acknowledged record is readable at once (or already
    // purged by the other writers), never "not written yet".
    absl::StatusOr<Record> back = log.Read(*offset);
    if (back.ok()) {
      state.CheckRecord("writer read-back", *offset, back->metadata.offset,
                        back->data);
    } else if (!memlog::IsPurgedOffset(back.status())) {
      state.violations.Add(absl::StrCat("writer ", writer, ": read-back of ",
                                        *offset, ": ",
                                        back.status().ToString()));
    }
  }
}

// Picks an offset around the retained window: purged, retained or future.
Offset PickOffset(std::mt19937_64& rng, OffsetRange range, Offset start,
                  int64_t segment_size) {
  const Offset low = range.earliest < 0 ? start : range.earliest;
  const Offset high = range.latest < 0 ? start : range.latest;
  std::uniform_int_distribution<Offset> pick(low - segment_size,
                                             high + segment_size);
  return pick(rng);
}

enum class ReaderKind { kRead, kReadView, kReadBatch, kReadBatchView };

// Reads until the writers are done, then once more over the final log.
// Returns how many records it verified.
int64_t RunReader(const Log& log, StressState& state, ReaderKind kind,
                  uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int64_t seg = state.config.segment_size;
  OffsetRange last_range;
  int64_t verified = 0;
  std::vector<Record> records(static_cast<size_t>(3 * seg));
  std::vector<RecordView> views(static_cast<size_t>(3 * seg));
  // Views kept across later purges and verified again before being dropped.
  std::deque<RecordView> held;
  const char* const who = kind == ReaderKind::kRead        ? "Read"
                          : kind == ReaderKind::kReadView  ? "ReadView"
                          : kind == ReaderKind::kReadBatch ? "ReadBatch"
                                                           : "ReadBatchView";
  bool final_pass = false;
  while (true) {
    if (state.writers_done.load(std::memory_order_acquire)) {
      if (final_pass) break;
      final_pass = true;
    }
    const OffsetRange before = log.Range();
    state.CheckMonotonic(who, last_range, before);
    // The final pass reads the latest record, which a quiescent log is sure
    // to hold, so that a reader starved of CPU while the writers ran still
    // verifies something.
    const Offset offset =
        final_pass ? before.latest
                   : PickOffset(rng, before, state.config.start_offset, seg);
    if (kind == ReaderKind::kRead || kind == ReaderKind::kReadView) {
      absl::Status status;
      if (kind == ReaderKind::kRead) {
        absl::StatusOr<Record> record = log.Read(offset);
        status = record.status();
        if (record.ok()) {
          state.CheckRecord(who, offset, record->metadata.offset, record->data);
        }
      } else {
        absl::StatusOr<RecordView> view = log.ReadView(offset);
        status = view.status();
        if (view.ok()) {
          state.CheckRecord(who, offset, view->offset(), view->data());
          held.push_back(*std::move(view));
        }
      }
      const OffsetRange after = log.Range();
      state.CheckMonotonic(who, last_range, after);
      if (status.ok()) {
        ++verified;
        if (offset < before.earliest || offset > after.latest) {
          state.violations.Add(
              absl::StrCat(who, ": offset ", offset, " was readable outside [",
                           before.earliest, ", ", after.latest, "]"));
        }
      } else {
        state.CheckReadFailure(who, offset, status, before, after);
      }
    } else {
      std::uniform_int_distribution<size_t> size_pick(1, records.size());
      const size_t size = size_pick(rng);
      ReadResult result;
      if (kind == ReaderKind::kReadBatch) {
        result = log.ReadBatch(offset, absl::MakeSpan(records.data(), size));
        for (size_t i = 0; i < static_cast<size_t>(result.count); ++i) {
          state.CheckRecord(who, offset + static_cast<Offset>(i),
                            records[i].metadata.offset, records[i].data);
        }
      } else {
        result = log.ReadBatchView(offset, absl::MakeSpan(views.data(), size));
        for (size_t i = 0; i < static_cast<size_t>(result.count); ++i) {
          state.CheckRecord(who, offset + static_cast<Offset>(i),
                            views[i].offset(), views[i].data());
        }
        if (result.count > 0) held.push_back(views[0]);
        for (RecordView& view : views) view = RecordView();
      }
      verified += static_cast<int64_t>(result.count);
      const OffsetRange after = log.Range();
      state.CheckMonotonic(who, last_range, after);
      if (result.ok()) {
        if (result.count != static_cast<int64_t>(size)) {
          state.violations.Add(absl::StrCat(who, ": OK with ", result.count,
                                            " of ", size, " records"));
        }
      } else {
        if (result.count >= static_cast<int64_t>(size)) {
          state.violations.Add(absl::StrCat(who, ": full batch with status ",
                                            result.status.ToString()));
        }
        state.CheckReadFailure(who, offset + static_cast<Offset>(result.count),
                               result.status, before, after);
      }
    }
    // Re-verify views after they have (most likely) been purged.
    while (held.size() > 64 || (final_pass && !held.empty())) {
      const RecordView& view = held.front();
      state.CheckRecord("held view", view.offset(), view.offset(), view.data());
      held.pop_front();
    }
  }
  return verified;
}

struct StreamResult {
  Offset end_position = kInvalidOffset;
  int64_t records = 0;
  int64_t lag_reports = 0;
  int64_t lagged_records = 0;
};

// Follows the log from `start` until it is closed and fully read, checking
// invariants 4 and 6. With `batch` > 1 it uses NextBatch(). A `laggard`
// stream waits after every record until the log is 3 segments ahead of it,
// so it is overtaken by purges every time.
StreamResult RunStream(const Log& log, StressState& state, Offset start,
                       size_t batch, bool laggard) {
  const int64_t seg = state.config.segment_size;
  StreamResult result;
  Stream stream = log.StreamFrom(start).value();
  Offset expected = start;
  // Per writer: the last sequence seen, and whether the stream lagged since.
  std::vector<std::optional<uint64_t>> last_sequence(
      static_cast<size_t>(state.config.writers));
  std::vector<RecordView> views(batch);
  const std::string who = absl::StrCat("stream from ", start, " batch ", batch,
                                       laggard ? " (laggard)" : "");
  for (;;) {
    ReadResult got;
    if (batch == 1) {
      absl::StatusOr<RecordView> view = stream.Next();
      if (view.ok()) {
        views[0] = *std::move(view);
        got.count = 1;
      } else {
        got.status = view.status();
      }
    } else {
      got = stream.NextBatch(absl::MakeSpan(views));
      if (got.ok() && got.count == 0) {
        state.violations.Add(who + ": NextBatch returned OK with 0 records");
        break;
      }
    }
    if (!got.ok()) {
      if (memlog::IsLagged(got.status)) {
        const int64_t missed = LaggedCount(got.status);
        if (missed <= 0) {
          state.violations.Add(absl::StrCat(who, ": lag of ", missed));
        }
        ++result.lag_reports;
        result.lagged_records += missed;
        expected += missed;
        if (stream.position() != expected) {
          state.violations.Add(
              absl::StrCat(who, ": lagged by ", missed, " but position is ",
                           stream.position(), ", not ", expected));
        }
        // Gaps are allowed now: only increase is required.
        for (auto& seq : last_sequence) {
          if (seq.has_value()) seq = *seq | (uint64_t{1} << 63);
        }
        continue;
      }
      if (!memlog::IsClosed(got.status)) {
        state.violations.Add(
            absl::StrCat(who, ": unexpected status ", got.status.ToString()));
      }
      break;
    }
    for (size_t i = 0; i < static_cast<size_t>(got.count); ++i) {
      const RecordView& view = views[i];
      if (view.offset() != expected) {
        state.violations.Add(absl::StrCat(who, ": expected offset ", expected,
                                          ", got ", view.offset()));
        expected = view.offset();
      }
      std::optional<RecordId> id =
          state.CheckRecord(who.c_str(), expected, view.offset(), view.data());
      ++expected;
      ++result.records;
      if (!id.has_value() || id->writer >= last_sequence.size()) continue;
      std::optional<uint64_t>& last = last_sequence[id->writer];
      if (last.has_value()) {
        const bool gaps_allowed = (*last >> 63) != 0;
        const uint64_t previous = *last & ~(uint64_t{1} << 63);
        const bool in_order = gaps_allowed ? id->sequence > previous
                                           : id->sequence == previous + 1;
        if (!in_order) {
          state.violations.Add(absl::StrCat(
              who, ": writer ", id->writer, " seq ", id->sequence, " after ",
              previous, gaps_allowed ? " (after a lag)" : ""));
        }
      }
      last = id->sequence;
    }
    if (stream.position() != expected) {
      state.violations.Add(absl::StrCat(who, ": position ", stream.position(),
                                        " after reading up to ", expected - 1));
    }
    if (laggard) {
      // Blocks (woken by writes) until the record just read and everything
      // after it up to 3 segments on is written, so this position is purged.
      // Ends early, with IsClosed, when the writers are done.
      (void)log.WaitFor(expected + 3 * seg);
    }
  }
  result.end_position = expected;
  return result;
}

// Takes views of the latest record and holds each until its segment has
// certainly been purged, then checks it is still intact and that the log
// itself no longer has the record. Returns how many purged views it checked.
int64_t RunViewHolder(const Log& log, StressState& state) {
  const int64_t seg = state.config.segment_size;
  int64_t checked = 0;
  while (!state.writers_done.load(std::memory_order_acquire)) {
    const OffsetRange range = log.Range();
    if (range.latest < 0) {
      if (!log.WaitFor(state.config.start_offset).ok()) break;
      continue;
    }
    absl::StatusOr<RecordView> view = log.ReadView(range.latest);
    if (!view.ok()) {
      if (!memlog::IsPurgedOffset(view.status())) {
        state.violations.Add(
            absl::StrCat("view holder: ", view.status().ToString()));
      }
      continue;
    }
    state.CheckRecord("view holder", range.latest, view->offset(),
                      view->data());
    // Retention is at most 2 segments: once 3 more are written, this record
    // was purged.
    if (!log.WaitFor(view->offset() + 3 * seg).ok()) break;
    absl::StatusOr<Record> gone = log.Read(view->offset());
    if (!memlog::IsPurgedOffset(gone.status())) {
      state.violations.Add(absl::StrCat("view holder: offset ", view->offset(),
                                        " should be purged, got ",
                                        gone.status().ToString()));
    }
    state.CheckRecord("view after purge", view->offset(), view->offset(),
                      view->data());
    ++checked;
  }
  return checked;
}

// --- The test. ---

void RunStress(const StressConfig& config) {
  Options options;
  options.start_offset = config.start_offset;
  options.segment_size = config.segment_size;
  absl::StatusOr<std::unique_ptr<Log>> created = Log::Create(options);
  ASSERT_TRUE(created.ok()) << created.status();
  Log& log = **created;
  StressState state(config);
  const int64_t seg = config.segment_size;
  const Offset start = config.start_offset;
  const int64_t planned = config.writers * config.records_per_writer;

  std::vector<std::thread> threads;
  std::vector<WriterResult> writer_results(static_cast<size_t>(config.writers));
  const ReaderKind kinds[] = {ReaderKind::kRead, ReaderKind::kReadView,
                              ReaderKind::kReadBatch,
                              ReaderKind::kReadBatchView};
  std::vector<int64_t> reader_verified(std::size(kinds));
  // Streams: from the start (one record at a time and in batches), from the
  // middle of the planned run (waiting for offsets not written yet), and a
  // laggard.
  struct StreamPlan {
    Offset start;
    size_t batch;
    bool laggard;
  };
  const StreamPlan plans[] = {{start, 1, false},
                              {start, 5, false},
                              {start + planned / 2, 1, false},
                              {start, 1, true}};
  std::vector<StreamResult> stream_results(std::size(plans));
  int64_t views_checked = 0;

  for (size_t i = 0; i < std::size(plans); ++i) {
    threads.emplace_back([&, i] {
      stream_results[i] = RunStream(log, state, plans[i].start, plans[i].batch,
                                    plans[i].laggard);
    });
  }
  for (size_t i = 0; i < std::size(kinds); ++i) {
    threads.emplace_back([&, i] {
      reader_verified[i] = RunReader(log, state, kinds[i], 1234 + i);
    });
  }
  threads.emplace_back([&] { views_checked = RunViewHolder(log, state); });

  const absl::Time deadline = absl::Now() + config.write_budget;
  std::vector<std::thread> writers;
  for (int w = 0; w < config.writers; ++w) {
    writers.emplace_back([&, w] {
      RunWriter(log, state, static_cast<uint32_t>(w), deadline,
                writer_results[static_cast<size_t>(w)]);
    });
  }
  for (std::thread& t : writers) t.join();
  state.writers_done.store(true, std::memory_order_release);
  const OffsetRange final_range = log.Range();
  log.Close();
  for (std::thread& t : threads) t.join();

  // Invariant 1: acknowledged offsets are unique and dense.
  std::vector<Offset> all;
  for (const WriterResult& r : writer_results) {
    all.insert(all.end(), r.offsets.begin(), r.offsets.end());
  }
  std::sort(all.begin(), all.end());
  const int64_t written = static_cast<int64_t>(all.size());
  for (int64_t i = 0; i < written; ++i) {
    if (all[static_cast<size_t>(i)] != start + i) {
      ADD_FAILURE() << "acknowledged offsets are not [" << start << ", "
                    << start + written << "): position " << i << " holds "
                    << all[static_cast<size_t>(i)];
      break;
    }
  }
  // Reads that beat the writer's bookkeeping are checked now.
  for (const StressState::Deferred& d : state.deferred) {
    const uint64_t acknowledged =
        state.owner[static_cast<size_t>(d.offset - start)].load();
    EXPECT_EQ(acknowledged, StressState::Pack(d.id))
        << "offset " << d.offset << " was read as writer " << d.id.writer
        << " seq " << d.id.sequence;
  }

  // The run meant something: thousands of purges, lag, purged views.
  const int64_t purges = written / seg - 1;
  EXPECT_GE(purges, 1000) << "only " << written << " records written";
  ASSERT_EQ(final_range.latest, start + written - 1);
  EXPECT_GE(final_range.latest - final_range.earliest + 1, seg + 1);
  EXPECT_LE(final_range.latest - final_range.earliest + 1, 2 * seg);

  for (size_t i = 0; i < std::size(plans); ++i) {
    SCOPED_TRACE(absl::StrCat("stream ", i));
    EXPECT_EQ(stream_results[i].end_position, start + written);
    EXPECT_GT(stream_results[i].records, 0);
  }
  EXPECT_GT(stream_results[3].lag_reports, 0) << "the laggard never lagged";
  for (size_t i = 0; i < std::size(kinds); ++i) {
    EXPECT_GT(reader_verified[i], 0) << "reader " << i << " verified nothing";
  }
  EXPECT_GT(views_checked, 0) << "no view was held across a purge";

  EXPECT_EQ(state.violations.count(), 0) << state.violations.Summary();
  ::testing::Test::RecordProperty("records_written", static_cast<int>(written));
  ::testing::Test::RecordProperty("purges", static_cast<int>(purges));
  ::testing::Test::RecordProperty(
      "laggard_lag_reports", static_cast<int>(stream_results[3].lag_reports));
}

TEST(LogStressTest, ConcurrentWritersReadersAndStreamsKeepEveryInvariant) {
  RunStress(StressConfig{});
}

TEST(LogStressTest, SegmentSizeOneKeepsEveryInvariant) {
  // Every write purges: the most rotations per record.
  RunStress(StressConfig{.start_offset = 0,
                         .segment_size = 1,
                         .writers = 3,
                         .records_per_writer = 5000});
}

// Invariants 2 and 5 at their sharpest: with segment size 1 every write
// purges, and one reader checks that a purge is seen the same way by Range()
// and by reads: an offset below an earliest already reported never reads
// back, and an offset reported purged lies below the earliest reported after.
TEST(LogStressTest, ReadsAndRangeAgreeOnWhatIsPurged) {
  Options options;
  options.segment_size = 1;
  auto log = Log::Create(options).value();
  constexpr int64_t kChecks = 100000;
  constexpr int64_t kMaxWrites = 20'000'000;
  std::atomic<bool> done{false};
  // The writer runs for as long as the reader checks (bounded, in case the
  // reader is starved).
  std::thread writer([&] {
    for (int64_t i = 0; i < kMaxWrites && !done.load(); ++i) {
      ASSERT_TRUE(log->Write("x").ok());
    }
  });
  int64_t checks = 0;
  int64_t read_below_earliest = 0;
  int64_t purged_but_listed = 0;
  // From offset 2 on, the earliest is at least 1.
  ASSERT_TRUE(log->WaitFor(2).ok());
  for (int64_t i = 0; i < kChecks; ++i) {
    const OffsetRange before = log->Range();
    if (log->Read(before.earliest - 1).ok()) ++read_below_earliest;
    absl::StatusOr<RecordView> view = log->ReadView(before.earliest);
    if (memlog::IsPurgedOffset(view.status()) &&
        log->Range().earliest <= before.earliest) {
      ++purged_but_listed;
    }
    ++checks;
  }
  done.store(true);
  writer.join();
  EXPECT_GT(checks, 0);
  EXPECT_EQ(read_below_earliest, 0)
      << "reads succeeded for offsets below an earliest Range() had reported";
  EXPECT_EQ(purged_but_listed, 0)
      << "reads reported offsets purged that Range() still listed after";
}

// Invariant 7 at the end of a log's life: views held by other threads stay
// intact while the log is destroyed, and are released on those threads.
TEST(LogStressTest, ViewsOutliveTheLogAndAreReleasedOnOtherThreads) {
  constexpr int kRounds = 200;
  constexpr int kHolders = 3;
  for (int round = 0; round < kRounds; ++round) {
    Options options;
    options.segment_size = 4;
    absl::StatusOr<std::unique_ptr<Log>> log = Log::Create(options);
    ASSERT_TRUE(log.ok()) << log.status();
    for (uint64_t i = 0; i < 12; ++i) {
      ASSERT_TRUE((*log)->Write(EncodeRecord(0, i)).ok());
    }
    // Each holder takes views of the retained records, then waits for the
    // log to be gone before checking and dropping them, racing each other
    // (and the destructor) to release the last reference of each segment.
    std::vector<std::vector<RecordView>> views(kHolders);
    for (int h = 0; h < kHolders; ++h) {
      for (Offset o = 4; o < 12; ++o) {
        absl::StatusOr<RecordView> view = (*log)->ReadView(o);
        ASSERT_TRUE(view.ok()) << view.status();
        views[static_cast<size_t>(h)].push_back(*std::move(view));
      }
    }
    std::latch start(kHolders + 1);
    std::atomic<int> damaged{0};
    std::vector<std::thread> holders;
    for (int h = 0; h < kHolders; ++h) {
      holders.emplace_back([&, h] {
        std::vector<RecordView> mine = std::move(views[static_cast<size_t>(h)]);
        start.arrive_and_wait();
        for (const RecordView& view : mine) {
          std::optional<RecordId> id = DecodeRecord(view.data());
          if (!id.has_value() ||
              id->sequence != static_cast<uint64_t>(view.offset())) {
            damaged.fetch_add(1);
          }
        }
        mine.clear();  // releases the segments, racing the destructor
      });
    }
    start.arrive_and_wait();
    log->reset();
    for (std::thread& t : holders) t.join();
    EXPECT_EQ(damaged.load(), 0) << "round " << round;
  }
}

}  // namespace
}  // namespace memlog
