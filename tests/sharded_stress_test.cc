// Copyright memlog authors.
//
// A model-checked stress test of memlog::sharded::Log: writer threads that
// write many keys (several keys per shard, forced by a custom sharder, and
// several writers per key), per-key Read, ReadBatch and ReadBatchView
// threads, per-key streams, a whole-shard stream, a view holder and a laggard,
// all at once, with tiny segments so that every shard purges thousands of
// times.
//
// Every record's payload carries its writer id, its key id, its sequence
// number among that writer's records of that key, and a checksum (see
// EncodeRecord), so a reader can tell on its own that the bytes are intact
// and whose they are. Writers publish each acknowledged (shard, offset) ->
// record in a table, which the checks below consult as it fills and, in
// full, after the writers are done.
//
// Invariants checked:
//
// 1. Acknowledged offsets are unique and dense per shard: the offsets of all
//    successful writes to a shard are exactly [start, start + writes).
//    A writer's offsets for one key increase with its sequence numbers.
// 2. Every read returns intact bytes of exactly the key and offset asked:
//    the record's key is the key asked for, its offset the one asked, its
//    checksum holds and it is the record acknowledged there. A read of an
//    offset holding another key's record fails with IsKeyNotFound, never
//    with that record. Future-offset and purged-offset failures happen only
//    as the shard's Range() before and after the read allow, and
//    impossible-offset failures only before the start offset.
// 3. A batch read by key returns only that key's records, in increasing
//    offsets from its start, skipping none of the key's records in between.
// 4. A key's stream sees that key's records only, at strictly increasing
//    offsets, skipping none of them, except where it was told it lagged: an
//    exact lag count equals the key's records in the skipped offsets, and a
//    lower bound (!IsLaggedCountExact) does not exceed it. It ends with
//    IsClosed after the key's last record. A shard's stream sees every offset
//    of its shard in order, gap-free except for lag reports of exactly the gap.
// 5. Range() never moves backwards: per shard, and per key while the key has
//    a retained record.
// 6. Per key, order equals write order: every reader sees each writer's
//    records of a key in that writer's order.
// 7. Zero-copy views taken before a purge stay intact after it.
//
// Bounded in iterations and, as a safety net for slow sanitizer builds, in
// time; it asserts that enough purges happened to mean something.

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
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
#include "sharded/log.h"
#include "tests/violations.h"
#include "tests/log_test_support.h"

namespace memlog::sharded {
namespace {

using ::memlog::test::Fnv1a;
using ::memlog::test::Get;
using ::memlog::test::Put;

constexpr Offset kStart = 100;
constexpr int64_t kSegment = 8;
constexpr size_t kShards = 3;
constexpr int kKeys = 12;  // 4 keys per shard
constexpr int kWriters = 4;
constexpr int64_t kWritesPerWriter = 25000;
constexpr absl::Duration kWriteBudget = absl::Seconds(40);

std::string KeyName(int key) { return absl::StrCat("key-", key); }

// Key i goes to shard i % kShards: four keys share each shard.
class ModuloSharder final : public Sharder {
 public:
  absl::StatusOr<size_t> ShardFor(std::string_view key,
                                  size_t num_shards) const override {
    int id = 0;
    for (char c : key.substr(4)) id = id * 10 + (c - '0');
    return static_cast<size_t>(id) % num_shards;
  }
};
size_t ShardOfKey(int key) { return static_cast<size_t>(key) % kShards; }

// --- The self-checking record format. ---
//
// [writer u32][key u32][sequence u64][body_size u32][body][checksum u64]

constexpr size_t kHeaderBytes = 4 + 4 + 8 + 4;

struct RecordId {
  uint32_t writer;
  uint32_t key;
  uint64_t sequence;

  uint64_t Pack() const {
    return (uint64_t{writer} << 56) | (uint64_t{key} << 48) | (sequence + 1);
  }
};

std::string EncodeRecord(RecordId id) {
  const uint32_t body_size =
      static_cast<uint32_t>((id.sequence * 5 + id.key * 3 + id.writer) % 41);
  std::string out;
  Put(out, id.writer);
  Put(out, id.key);
  Put(out, id.sequence);
  Put(out, body_size);
  for (uint32_t i = 0; i < body_size; ++i) {
    out.push_back(static_cast<char>('a' + (id.key * 7 + id.sequence + i) % 26));
  }
  Put(out, Fnv1a(out));
  return out;
}

std::optional<RecordId> DecodeRecord(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes + 8) return std::nullopt;
  const RecordId id{Get<uint32_t>(bytes, 0), Get<uint32_t>(bytes, 4),
                    Get<uint64_t>(bytes, 8)};
  if (bytes != EncodeRecord(id)) return std::nullopt;  // includes checksum
  return id;
}

// --- Shared bookkeeping. ---

using ::memlog::test::Violations;

class StressState {
 public:
  static constexpr Offset kWritersDone = std::numeric_limits<Offset>::max();

  StressState() {
    for (auto& table : owner) {
      table = std::vector<std::atomic<uint64_t>>(
          static_cast<size_t>(kWriters * kWritesPerWriter));
    }
  }

  // The acknowledged record at (shard, offset): 0 while unknown.
  uint64_t OwnerOf(size_t shard, Offset offset) const {
    const int64_t index = offset - kStart;
    if (index < 0 || index >= static_cast<int64_t>(owner[shard].size())) {
      return 0;
    }
    return owner[shard][static_cast<size_t>(index)].load(
        std::memory_order_acquire);
  }

  // Called by a writer once Write() returned `offset`; wakes waiters on the
  // shard's progress.
  void Acknowledge(size_t shard, Offset offset, RecordId id) {
    const int64_t index = offset - kStart;
    if (index >= 0 && index < static_cast<int64_t>(owner[shard].size())) {
      owner[shard][static_cast<size_t>(index)].store(id.Pack(),
                                                     std::memory_order_release);
    }
    Offset seen = acknowledged_up_to[shard].load(std::memory_order_relaxed);
    while (seen < offset && !acknowledged_up_to[shard].compare_exchange_weak(
                                seen, offset, std::memory_order_release)) {
    }
    acknowledged_up_to[shard].notify_all();
  }

  // Blocks until an offset >= `offset` of `shard` was acknowledged. Returns
  // false instead once the writers are done.
  bool WaitForShard(size_t shard, Offset offset) {
    for (;;) {
      const Offset seen =
          acknowledged_up_to[shard].load(std::memory_order_acquire);
      if (seen == kWritersDone) return false;
      if (seen >= offset) return true;
      acknowledged_up_to[shard].wait(seen, std::memory_order_acquire);
    }
  }

  void FinishWriting() {
    writers_done.store(true, std::memory_order_release);
    for (auto& up_to : acknowledged_up_to) {
      up_to.store(kWritersDone, std::memory_order_release);
      up_to.notify_all();
    }
  }

  // Checks a record read for `key` at `offset`; returns its id when intact.
  std::optional<RecordId> CheckRecord(const std::string& who, int key,
                                      Offset offset, const RecordView& view) {
    if (view.offset() != offset) {
      violations.Add(absl::StrCat(who, ": asked for offset ", offset, ", got ",
                                  view.offset()));
    }
    if (view.key() != KeyName(key)) {
      violations.Add(absl::StrCat(
          who, ": read for key ", key, " returned a record of key '",
          std::string(view.key()), "' at offset ", offset));
    }
    std::optional<RecordId> id = DecodeRecord(view.data());
    if (!id.has_value()) {
      violations.Add(absl::StrCat(who, ": damaged bytes at offset ", offset));
      return std::nullopt;
    }
    if (id->key != static_cast<uint32_t>(key)) {
      violations.Add(
          absl::StrCat(who, ": payload of key ", id->key, " under key ", key));
    }
    const size_t shard = ShardOfKey(key);
    const uint64_t acknowledged = OwnerOf(shard, offset);
    if (acknowledged != 0 && acknowledged != id->Pack()) {
      violations.Add(absl::StrCat(who, ": shard ", shard, " offset ", offset,
                                  " holds another record than acknowledged"));
    }
    return id;
  }

  std::array<std::vector<std::atomic<uint64_t>>, kShards> owner;
  std::array<std::atomic<Offset>, kShards> acknowledged_up_to{
      {kInvalidOffset, kInvalidOffset, kInvalidOffset}};
  std::atomic<bool> writers_done{false};
  Violations violations;
};

// Per writer and key: the last sequence number seen, and whether records may
// have been skipped since (at the start, and after a lag). Where none may
// have been skipped, the next must follow at once (invariant 6).
class WriterOrder {
 public:
  // Returns false if `id` breaks its writer's order for its key.
  bool See(RecordId id) {
    Entry& entry = entries_[{id.writer, id.key}];
    const bool ok =
        !entry.seen || (entry.gaps_allowed ? id.sequence > entry.last
                                           : id.sequence == entry.last + 1);
    entry = {true, false, id.sequence};
    return ok;
  }
  void AllowGaps() {
    for (auto& [writer_key, entry] : entries_) entry.gaps_allowed = true;
  }

 private:
  struct Entry {
    bool seen = false;
    bool gaps_allowed = false;
    uint64_t last = 0;
  };
  std::map<std::pair<uint32_t, uint32_t>, Entry> entries_;
};

// --- The threads. ---

struct WriterResult {
  // Per shard, the acknowledged offsets.
  std::array<std::vector<Offset>, kShards> offsets;
};

void RunWriter(Log& log, StressState& state, uint32_t writer,
               absl::Time deadline, WriterResult& result) {
  std::mt19937 rng(writer + 77);
  std::vector<uint64_t> next_sequence(kKeys, 0);
  std::vector<Offset> last_offset(kKeys, kInvalidOffset);
  for (int64_t i = 0; i < kWritesPerWriter; ++i) {
    if (i % 256 == 0 && absl::Now() > deadline) break;
    const int key = static_cast<int>(rng() % kKeys);
    const RecordId id{writer, static_cast<uint32_t>(key),
                      next_sequence[static_cast<size_t>(key)]++};
    absl::StatusOr<Offset> offset = log.Write(KeyName(key), EncodeRecord(id));
    if (!offset.ok()) {
      state.violations.Add(
          absl::StrCat("writer ", writer, ": ", offset.status().ToString()));
      return;
    }
    if (*offset <= last_offset[static_cast<size_t>(key)]) {
      state.violations.Add(absl::StrCat("writer ", writer, ": key ", key,
                                        " got offset ", *offset, " after ",
                                        last_offset[static_cast<size_t>(key)]));
    }
    last_offset[static_cast<size_t>(key)] = *offset;
    const size_t shard = ShardOfKey(key);
    result.offsets[shard].push_back(*offset);
    state.Acknowledge(shard, *offset, id);
    // Visibility: the record just acknowledged reads back (or is purged).
    absl::StatusOr<RecordView> back = log.ReadView(KeyName(key), *offset);
    if (back.ok()) {
      state.CheckRecord("writer read-back", key, *offset, *back);
    } else if (!memlog::IsPurgedOffset(back.status())) {
      state.violations.Add(
          absl::StrCat("writer read-back: ", back.status().ToString()));
    }
  }
}

// Per-thread monotonicity of shard and key ranges (invariant 5).
class RangeWatch {
 public:
  void Check(StressState& state, const std::string& who, const Log& log,
             int key) {
    const size_t shard = ShardOfKey(key);
    const OffsetRange shard_range = log.ShardRange(shard).value();
    Compare(state, who + " shard range", shard_ranges_[shard], shard_range);
    absl::StatusOr<OffsetRange> key_range = log.Range(KeyName(key));
    if (!key_range.ok()) {
      state.violations.Add(who + ": Range(key) " +
                           key_range.status().ToString());
      return;
    }
    // A key with no retained record has an empty range; otherwise it moves
    // only forward.
    if (key_range->latest != kInvalidOffset) {
      Compare(state, who + " key range", key_ranges_[key], *key_range);
    }
  }

 private:
  static void Compare(StressState& state, const std::string& who,
                      OffsetRange& last, OffsetRange now) {
    if (now.earliest < last.earliest || now.latest < last.latest ||
        now.earliest > now.latest) {
      state.violations.Add(absl::StrCat(who, ": {", last.earliest, ", ",
                                        last.latest, "} then {", now.earliest,
                                        ", ", now.latest, "}"));
    }
    last = now;
  }

  std::map<size_t, OffsetRange> shard_ranges_;
  std::map<int, OffsetRange> key_ranges_;
};

enum class ReaderKind { kRead, kReadBatch, kReadBatchView };

int64_t RunReader(const Log& log, StressState& state, ReaderKind kind,
                  uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::string who = kind == ReaderKind::kRead        ? "Read"
                          : kind == ReaderKind::kReadBatch ? "ReadBatch"
                                                           : "ReadBatchView";
  RangeWatch ranges;
  std::deque<std::pair<int, RecordView>> held;
  int64_t verified = 0;
  bool final_pass = false;
  // A reader starved of CPU while the writers ran keeps reading the quiescent
  // log until it has verified something (random picks hit retained records
  // often; the bound only guards against a broken log).
  int64_t final_reads = 0;
  while (true) {
    if (state.writers_done.load(std::memory_order_acquire)) {
      if (final_pass && (verified > 0 || ++final_reads > 100'000)) break;
      final_pass = true;
    }
    const int key = static_cast<int>(rng() % kKeys);
    const size_t shard = ShardOfKey(key);
    ranges.Check(state, who, log, key);
    const OffsetRange before = log.ShardRange(shard).value();
    const Offset low = before.earliest < 0 ? kStart : before.earliest;
    const Offset high = before.latest < 0 ? kStart : before.latest;
    const Offset offset = std::uniform_int_distribution<Offset>(
        low - kSegment, high + kSegment)(rng);
    if (kind == ReaderKind::kRead) {
      absl::StatusOr<RecordView> view = log.ReadView(KeyName(key), offset);
      if (rng() % 2 == 0) {
        // The copying read must agree with the view.
        absl::StatusOr<Record> copy = log.Read(KeyName(key), offset);
        if (copy.ok() && view.ok() &&
            (copy->data != view->data() || copy->key != view->key())) {
          state.violations.Add(absl::StrCat(who,
                                            ": Read and ReadView differ "
                                            "at ",
                                            offset));
        }
      }
      const OffsetRange after = log.ShardRange(shard).value();
      if (view.ok()) {
        ++verified;
        state.CheckRecord(who, key, offset, *view);
        held.emplace_back(key, *std::move(view));
      } else if (memlog::IsKeyNotFound(view.status())) {
        // Another key's record: checked once the owner is known.
        const uint64_t owner = state.OwnerOf(shard, offset);
        if (owner != 0 &&
            ((owner >> 48) & 0xff) == static_cast<uint64_t>(key)) {
          state.violations.Add(
              absl::StrCat(who, ": key ", key, " at offset ", offset,
                           " reported as another key's record"));
        }
      } else if (memlog::IsFutureOffset(view.status())) {
        if (offset <= before.latest) {
          state.violations.Add(absl::StrCat(who, ": offset ", offset,
                                            " future although latest was ",
                                            before.latest));
        }
      } else if (memlog::IsImpossibleOffset(view.status())) {
        if (offset >= kStart) {
          state.violations.Add(absl::StrCat(
              who, ": offset ", offset, " impossible although the start is ",
              kStart, ": ", view.status().ToString()));
        }
      } else if (memlog::IsPurgedOffset(view.status())) {
        if (offset < kStart || offset >= after.earliest) {
          state.violations.Add(absl::StrCat(
              who, ": offset ", offset, " purged although earliest was ",
              after.earliest, ": ", view.status().ToString()));
        }
      } else {
        state.violations.Add(who + ": " + view.status().ToString());
      }
    } else {
      const size_t size = 1 + rng() % 12;
      std::vector<Record> records(size);
      std::vector<RecordView> views(size);
      ReadResult result;
      if (kind == ReaderKind::kReadBatch) {
        result = log.ReadBatch(KeyName(key), offset, absl::MakeSpan(records));
        for (size_t i = 0; i < static_cast<size_t>(result.count); ++i) {
          // Check the copy through the same code path as views: re-encode.
          if (records[i].key != KeyName(key) ||
              !DecodeRecord(records[i].data).has_value()) {
            state.violations.Add(absl::StrCat(who, ": bad record at offset ",
                                              records[i].metadata.offset));
          }
          views[i] = RecordView();
        }
      } else {
        result = log.ReadBatchView(KeyName(key), offset, absl::MakeSpan(views));
      }
      const OffsetRange after = log.ShardRange(shard).value();
      Offset previous = offset - 1;
      WriterOrder order;  // per batch: batches start anywhere
      for (size_t i = 0; i < static_cast<size_t>(result.count); ++i) {
        const Offset got = kind == ReaderKind::kReadBatch
                               ? records[i].metadata.offset
                               : views[i].offset();
        if (got <= previous) {
          state.violations.Add(
              absl::StrCat(who, ": offset ", got, " after ", previous));
        }
        // None of the key's records lies between two returned ones, nor
        // between the start and the first.
        for (Offset o = previous + 1; o < got; ++o) {
          const uint64_t owner = state.OwnerOf(shard, o);
          if (owner != 0 &&
              ((owner >> 48) & 0xff) == static_cast<uint64_t>(key)) {
            state.violations.Add(absl::StrCat(who, ": skipped key ", key,
                                              "'s record at offset ", o));
          }
        }
        previous = got;
        if (kind == ReaderKind::kReadBatchView) {
          std::optional<RecordId> id =
              state.CheckRecord(who, key, got, views[i]);
          if (id.has_value() && !order.See(*id)) {
            state.violations.Add(who + ": writer order broken");
          }
        } else if (std::optional<RecordId> id = DecodeRecord(records[i].data)) {
          const uint64_t owner = state.OwnerOf(shard, got);
          if (owner != 0 && owner != id->Pack()) {
            state.violations.Add(
                absl::StrCat(who, ": offset ", got, " is another record"));
          }
        }
        ++verified;
      }
      if (kind == ReaderKind::kReadBatchView && result.count > 0) {
        held.emplace_back(key, views[0]);
      }
      if (result.ok() != (result.count == static_cast<int64_t>(size))) {
        state.violations.Add(absl::StrCat(who, ": ", result.count, " of ", size,
                                          " with ", result.status.ToString()));
      }
      if (!result.ok() && !memlog::IsFutureOffset(result.status) &&
          !memlog::IsPurgedOffset(result.status) &&
          !memlog::IsImpossibleOffset(result.status)) {
        state.violations.Add(who + ": " + result.status.ToString());
      }
      if (memlog::IsImpossibleOffset(result.status) &&
          (result.count != 0 || offset >= kStart)) {
        state.violations.Add(absl::StrCat(who, ": start ", offset,
                                          " impossible although the start "
                                          "is ",
                                          kStart));
      }
      if (memlog::IsPurgedOffset(result.status) && result.count == 0 &&
          (offset < kStart || offset >= after.earliest)) {
        state.violations.Add(absl::StrCat(who, ": start ", offset,
                                          " purged although earliest "
                                          "was ",
                                          after.earliest));
      }
    }
    while (held.size() > 64 || (final_pass && !held.empty())) {
      state.CheckRecord("held view", held.front().first,
                        held.front().second.offset(), held.front().second);
      held.pop_front();
    }
  }
  return verified;
}

// What a key's stream saw, verified against the full owner table after the
// writers are done (invariant 4).
struct StreamEvent {
  bool lag;
  Offset offset;  // a record's offset; for a lag, the position before it
  Offset to;      // for a lag, the position after it
  int64_t count;  // for a lag, the reported count
  bool exact;     // for a lag, whether the count is exact
};

struct KeyStreamResult {
  std::vector<StreamEvent> events;
  int64_t records = 0;
  int64_t lags = 0;
  Offset end_position = kInvalidOffset;
};

// Follows `key` from `start`. A laggard waits after every record until its
// shard is 3 segments further, so that it is overtaken by purges.
KeyStreamResult RunKeyStream(const Log& log, StressState& state, int key,
                             Offset start, size_t batch, bool laggard) {
  KeyStreamResult result;
  const std::string who = absl::StrCat("stream of key ", key, " batch ", batch,
                                       laggard ? " (laggard)" : "");
  absl::StatusOr<Stream> stream = log.StreamFrom(KeyName(key), start);
  if (!stream.ok()) {
    state.violations.Add(who + ": " + stream.status().ToString());
    return result;
  }
  WriterOrder order;
  std::vector<RecordView> views(batch);
  Offset previous = kInvalidOffset;
  for (;;) {
    const Offset position = stream->position();
    ReadResult got;
    if (batch == 1) {
      absl::StatusOr<RecordView> view = stream->Next();
      if (view.ok()) {
        views[0] = *std::move(view);
        got.count = 1;
      } else {
        got.status = view.status();
      }
    } else {
      got = stream->NextBatch(absl::MakeSpan(views));
    }
    if (memlog::IsLagged(got.status)) {
      const bool exact = memlog::IsLaggedCountExact(got.status);
      result.events.push_back(
          {true, position, stream->position(), LaggedCount(got.status), exact});
      ++result.lags;
      order.AllowGaps();
      continue;
    }
    if (!got.ok()) {
      if (!memlog::IsClosed(got.status)) {
        state.violations.Add(who + ": " + got.status.ToString());
      }
      break;
    }
    for (size_t i = 0; i < static_cast<size_t>(got.count); ++i) {
      const Offset offset = views[i].offset();
      if (offset <= previous || offset < start) {
        state.violations.Add(
            absl::StrCat(who, ": offset ", offset, " after ", previous));
      }
      previous = offset;
      std::optional<RecordId> id =
          state.CheckRecord(who, key, offset, views[i]);
      if (id.has_value() && !order.See(*id)) {
        state.violations.Add(absl::StrCat(who, ": writer ", id->writer, " seq ",
                                          id->sequence, " out of order"));
      }
      result.events.push_back({false, offset, 0, 0, false});
      ++result.records;
    }
    if (laggard) {
      (void)state.WaitForShard(ShardOfKey(key), previous + 3 * kSegment);
    }
  }
  result.end_position = stream->position();
  return result;
}

// Checks a key stream's events against the complete owner table.
void VerifyKeyStream(const StressState& state, int key, Offset start,
                     const KeyStreamResult& result, Offset shard_end,
                     Violations& violations) {
  const size_t shard = ShardOfKey(key);
  auto key_records_in = [&](Offset from, Offset to) {
    int64_t n = 0;
    for (Offset o = std::max(from, kStart); o < to; ++o) {
      if (((state.OwnerOf(shard, o) >> 48) & 0xff) ==
          static_cast<uint64_t>(key)) {
        ++n;
      }
    }
    return n;
  };
  const std::string who = absl::StrCat("stream of key ", key);
  Offset cursor = start;
  for (const StreamEvent& e : result.events) {
    if (e.lag) {
      const int64_t missed = key_records_in(e.offset, e.to);
      if (e.count > missed || (e.exact && e.count != missed)) {
        violations.Add(absl::StrCat(
            who, ": lag of ", e.count, e.exact ? "" : " (at least)", " over [",
            e.offset, ", ", e.to, ") which held ", missed, " of its records"));
      }
      if (key_records_in(cursor, e.offset) != 0) {
        violations.Add(absl::StrCat(who, ": skipped records in [", cursor, ", ",
                                    e.offset, ") before a lag"));
      }
      cursor = e.to;
    } else {
      if (key_records_in(cursor, e.offset) != 0) {
        violations.Add(absl::StrCat(who, ": skipped records in [", cursor, ", ",
                                    e.offset, ")"));
      }
      cursor = e.offset + 1;
    }
  }
  if (key_records_in(cursor, shard_end) != 0) {
    violations.Add(absl::StrCat(who, ": ended at ", cursor,
                                " before the key's last record"));
  }
}

struct ShardStreamResult {
  int64_t records = 0;
  Offset end_position = kInvalidOffset;
};

ShardStreamResult RunShardStream(const Log& log, StressState& state,
                                 size_t shard) {
  ShardStreamResult result;
  absl::StatusOr<ShardStream> stream = log.ShardStreamFrom(shard, kStart);
  if (!stream.ok()) {
    state.violations.Add("shard stream: " + stream.status().ToString());
    return result;
  }
  Offset expected = kStart;
  std::vector<RecordView> views(4);
  for (;;) {
    ReadResult got = stream->NextBatch(absl::MakeSpan(views));
    if (memlog::IsLagged(got.status)) {
      expected += LaggedCount(got.status);
      if (stream->position() != expected) {
        state.violations.Add(absl::StrCat("shard stream: position ",
                                          stream->position(),
                                          " after lag, not ", expected));
      }
      continue;
    }
    if (!got.ok()) {
      if (!memlog::IsClosed(got.status)) {
        state.violations.Add("shard stream: " + got.status.ToString());
      }
      break;
    }
    for (size_t i = 0; i < static_cast<size_t>(got.count); ++i) {
      if (views[i].offset() != expected) {
        state.violations.Add(absl::StrCat("shard stream: offset ",
                                          views[i].offset(), ", expected ",
                                          expected));
      }
      std::optional<RecordId> id = DecodeRecord(views[i].data());
      if (!id.has_value() ||
          views[i].key() != KeyName(static_cast<int>(id->key)) ||
          ShardOfKey(static_cast<int>(id->key)) != shard) {
        state.violations.Add(
            absl::StrCat("shard stream: bad record at ", views[i].offset()));
      } else {
        state.CheckRecord("shard stream", static_cast<int>(id->key),
                          views[i].offset(), views[i]);
      }
      expected = views[i].offset() + 1;
      ++result.records;
    }
  }
  result.end_position = expected;
  return result;
}

// Holds views of a key's latest record until the shard purged it.
int64_t RunViewHolder(const Log& log, StressState& state, int key) {
  const size_t shard = ShardOfKey(key);
  int64_t checked = 0;
  while (!state.writers_done.load(std::memory_order_acquire)) {
    absl::StatusOr<OffsetRange> range = log.Range(KeyName(key));
    if (!range.ok() || range->latest == kInvalidOffset) {
      if (!state.WaitForShard(shard, kStart + kSegment)) break;
      continue;
    }
    absl::StatusOr<RecordView> view = log.ReadView(KeyName(key), range->latest);
    if (!view.ok()) continue;  // purged in between
    state.CheckRecord("view holder", key, range->latest, *view);
    if (!state.WaitForShard(shard, view->offset() + 3 * kSegment)) break;
    absl::StatusOr<RecordView> gone =
        log.ReadView(KeyName(key), view->offset());
    if (!memlog::IsPurgedOffset(gone.status())) {
      state.violations.Add(
          absl::StrCat("view holder: offset ", view->offset(),
                       " should be purged: ", gone.status().ToString()));
    }
    state.CheckRecord("view after purge", key, view->offset(), *view);
    ++checked;
  }
  return checked;
}

TEST(ShardedLogStressTest,
     ConcurrentWritersReadersAndStreamsKeepEveryInvariant) {
  Options options;
  options.num_shards = kShards;
  options.shard.start_offset = kStart;
  options.shard.segment_size = kSegment;
  options.sharder = std::make_shared<ModuloSharder>();
  absl::StatusOr<std::unique_ptr<Log>> created = Log::Create(options);
  ASSERT_TRUE(created.ok()) << created.status();
  Log& log = **created;
  StressState state;

  struct KeyStreamPlan {
    int key;
    size_t batch;
    bool laggard;
  };
  const KeyStreamPlan plans[] = {
      {0, 1, false}, {1, 4, false}, {4, 1, false}, {5, 3, false}, {3, 1, true}};
  std::vector<KeyStreamResult> key_streams(std::size(plans));
  std::vector<ShardStreamResult> shard_streams(kShards);
  const ReaderKind kinds[] = {ReaderKind::kRead, ReaderKind::kReadBatch,
                              ReaderKind::kReadBatchView};
  std::vector<int64_t> verified(std::size(kinds));
  int64_t views_checked = 0;

  std::vector<std::thread> threads;
  for (size_t i = 0; i < std::size(plans); ++i) {
    threads.emplace_back([&, i] {
      key_streams[i] = RunKeyStream(log, state, plans[i].key, kStart,
                                    plans[i].batch, plans[i].laggard);
    });
  }
  threads.emplace_back(
      [&] { shard_streams[0] = RunShardStream(log, state, 0); });
  for (size_t i = 0; i < std::size(kinds); ++i) {
    threads.emplace_back(
        [&, i] { verified[i] = RunReader(log, state, kinds[i], 99 + i); });
  }
  threads.emplace_back([&] { views_checked = RunViewHolder(log, state, 2); });

  const absl::Time deadline = absl::Now() + kWriteBudget;
  std::vector<WriterResult> writer_results(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      RunWriter(log, state, static_cast<uint32_t>(w), deadline,
                writer_results[static_cast<size_t>(w)]);
    });
  }
  for (std::thread& t : writers) t.join();
  state.FinishWriting();
  log.Close();
  for (std::thread& t : threads) t.join();

  // Invariant 1, per shard.
  int64_t purges = 0;
  std::array<Offset, kShards> shard_end{};
  for (size_t shard = 0; shard < kShards; ++shard) {
    std::vector<Offset> all;
    for (const WriterResult& r : writer_results) {
      all.insert(all.end(), r.offsets[shard].begin(), r.offsets[shard].end());
    }
    std::sort(all.begin(), all.end());
    const int64_t n = static_cast<int64_t>(all.size());
    for (int64_t i = 0; i < n; ++i) {
      if (all[static_cast<size_t>(i)] != kStart + i) {
        ADD_FAILURE() << "shard " << shard << ": acknowledged offsets are not "
                      << "dense at " << i;
        break;
      }
    }
    shard_end[shard] = kStart + n;
    purges += n / kSegment - 1;
    EXPECT_EQ(log.ShardRange(shard).value().latest, kStart + n - 1);
  }
  EXPECT_GE(purges, 3000);

  for (size_t i = 0; i < std::size(plans); ++i) {
    SCOPED_TRACE(absl::StrCat("key stream ", i));
    const int key = plans[i].key;
    VerifyKeyStream(state, key, kStart, key_streams[i],
                    shard_end[ShardOfKey(key)], state.violations);
    EXPECT_GT(key_streams[i].records, 0);
  }
  EXPECT_GT(key_streams[4].lags, 0) << "the laggard never lagged";
  EXPECT_EQ(shard_streams[0].end_position, shard_end[0]);
  for (size_t i = 0; i < std::size(kinds); ++i) {
    EXPECT_GT(verified[i], 0) << "reader " << i;
  }
  EXPECT_GT(views_checked, 0);
  EXPECT_EQ(state.violations.count(), 0) << state.violations.Summary();
}

}  // namespace
}  // namespace memlog::sharded
