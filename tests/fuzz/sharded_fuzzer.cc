// Copyright memlog authors.
//
// Model-based fuzzing of memlog::sharded::Log: the input is decoded into a
// program of operations (create with random options, retention limits,
// clock and sharder; write; batch writes of one key and of many keys; read,
// batch read, per-key range and seek by time; shard introspection, reads
// and seeks; per-key and per-shard stream steps; trims and clock steps;
// the counters of the log and of a shard; memory usage; close; recreate)
// that runs against the library and against a reference, and any
// difference aborts.
//
// The reference is one LogModel per shard (tests/fuzz/log_model.h), whose
// records carry their keys; everything a key sees is derived from its
// shard's model alone: its records are those of the key among the shard's
// retained ones. That is the per-key contract of sharded/log.h: each shard
// purges on its own, exactly like a memlog::Log (by count, by bytes, by
// age), with the records of every key in the purged segment, and a read by
// key returns only that key's records, in order. So the model checks what
// each key retains after every purge through Read, ReadBatch, Range,
// OffsetAt and the key's streams.
//
// Retention: the shards' byte limit is Options::max_total_bytes / (2 *
// num_shards), or Options::shard.max_segment_bytes. The model predicts a
// 4 KiB limit exactly and limits no input reaches; with any other it allows
// a seal wherever the documented rule does, demands one where the rule
// does, and is told after each write what the shard did (ShardRange() and
// ShardStats(), LogModel::Observe()). A shard stores [varint key
// length][key][data] and counts those bytes against the limit and in its
// counters (sharded/log.h); so does the model. max_age works with the
// driven clock.
//
// Clocks (the clock byte mod 4): 0 the real one (no time is checked); 1 a
// stepping one (1 us per reading, one clock for all shards), held still
// during a multi-key batch, whose order of writes across shards is not
// documented; 2 and 3 a driven one, moved by kAdvanceClock and kSetClock.
// max_age forces the driven clock: Trim() reads the clock once per shard
// the library has made, which the model does not track.
//
// The sharders: the default HashSharder (the model asks a separate
// HashSharder where a key goes), a KeySharder of {"a", "b", "c"}, and
// CollidingSharder, which puts all keys of the same length parity into one
// shard (so that keys share shards and offsets) and misbehaves on purpose for
// keys starting with '!' (an index past the last shard), '?' (a kNotFound
// error) and '#' (an error memlog does not know).
//
// Input encoding (see FuzzInput: past the end, every byte reads as 0):
//   options:  num_shards mode, start/segment/limit fields as in
//             log_fuzzer.cc, clock byte, sharder byte, byte-limit mode,
//             [bytes], age mode, [age byte]
//   then, until the input ends, one opcode byte (mod kOpCount) per operation
//   followed by that operation's argument bytes.
//
// Single-threaded on purpose, as log_fuzzer.cc.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "memlog/log.h"
#include "sharded/log.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/log_model.h"

namespace memlog::fuzz {
namespace {

using sharded::kMaxKeyBytes;

// Shards keys by the parity of their length, so that many keys collide; keys
// starting with '!', '?' or '#' make it misbehave.
class CollidingSharder final : public sharded::Sharder {
 public:
  absl::StatusOr<size_t> ShardFor(std::string_view key,
                                  size_t num_shards) const override {
    switch (key[0]) {
      case '!':
        return num_shards + key.size();  // out of range: a bug
      case '?':
        return MakeError(ErrorKind::kKeyNotFound, "no such key");
      case '#':
        return absl::InternalError("the sharder's own failure");
      default:
        return key.size() % 2;
    }
  }
};

// What a call is expected to return: OK, a memlog kind, or (for the
// sharder's own failure) an error memlog does not know.
struct Expected {
  std::optional<ErrorKind> kind;
  bool foreign = false;

  bool ok() const { return !kind.has_value() && !foreign; }
};

void Check(const absl::Status& status, const Expected& expected,
           const char* operation, int64_t argument) {
  if (expected.foreign) {
    MEMLOG_FUZZ_CHECK(!status.ok() && !GetErrorKind(status).has_value() &&
                          status.code() == absl::StatusCode::kInternal,
                      "%s(%lld): expected the sharder's error, got %s",
                      operation, static_cast<long long>(argument),
                      status.ToString().c_str());
    return;
  }
  CheckStatus(status, expected.kind, operation, argument);
}

enum class SharderKind { kHash, kColliding, kKeyTable };

// The bytes a shard stores for a record (sharded/log.h, memory_usage()): the
// key's length as a LEB128 varint (1 to 3 bytes), the key, the data. The
// byte limit and the byte counters count these.
int64_t StoredSize(std::string_view key, std::string_view data) {
  int64_t prefix = 1;
  for (size_t n = key.size(); n >= 0x80; n >>= 7) ++prefix;
  return prefix + static_cast<int64_t>(key.size() + data.size());
}

// How many shares Options::max_total_bytes is divided into: one per segment
// of each shard. For a shard count that Create() refuses, that of the
// nearest valid one (Create() checks the count first).
int64_t Shares(size_t num_shards) {
  return 2 * static_cast<int64_t>(std::clamp(
                 num_shards, sharded::kMinNumShards, sharded::kMaxNumShards));
}

// Decodes the byte and age limits: mostly off; else a 4 KiB limit (per
// shard, or as the share of max_total_bytes, whatever the rest of the
// division), which the model predicts; a share the model observes; one no
// input reaches; or one that Create() must refuse.
void DecodeShardedRetention(FuzzInput& in, sharded::Options& options) {
  const int64_t shares = Shares(options.num_shards);
  switch (in.Below(8)) {
    case 3:
      options.max_total_bytes = shares * kMinSegmentBytes + in.Byte() % shares;
      break;
    case 4:
      options.shard.max_segment_bytes = kMinSegmentBytes;
      break;
    case 5:
      // ByteRule::kObserved, as log_fuzzer.cc's limits from 4 KiB + 1.
      options.max_total_bytes =
          shares * (kMinSegmentBytes + 1 + (int64_t{in.Byte()} << in.Below(9)));
      break;
    case 6:
      switch (in.Below(6)) {
        case 0:
          options.max_total_bytes = shares * kMinSegmentBytes - 1;
          break;
        case 1:
          options.max_total_bytes = 0;
          break;
        case 2:
          options.max_total_bytes = kInt64Min;
          break;
        case 3:
          options.max_total_bytes = shares * (kMaxSegmentBytes + 1);
          break;
        case 4:
          options.max_total_bytes = kInt64Max;
          break;
        default:  // both limits: Create() wants one of them
          options.max_total_bytes = shares * kMinSegmentBytes;
          options.shard.max_segment_bytes = kMinSegmentBytes;
          break;
      }
      break;
    case 7:
      // The largest limit, per shard or as the share: no shard written
      // 4096 times with 64 KiB keys comes near (LogModel::ByteSeal()).
      if (in.Below(2) == 0) {
        options.max_total_bytes = shares * kMaxSegmentBytes;
      } else {
        options.shard.max_segment_bytes = kMaxSegmentBytes;
      }
      break;
    default:
      break;
  }
  DecodeMaxAge(in, options.shard);
}

// What the counters of a shard, or their sum over the shards, must say.
struct Counters {
  int64_t records_written = 0;
  int64_t bytes_written = 0;
  int64_t segments_rotated = 0;
  std::array<int64_t, 3> purged = {0, 0, 0};  // by ModelPurge
  int64_t failures_overflow = 0;
  int64_t lag_events = 0;
  int64_t records_missed = 0;
  int64_t retained = 0;
};

// The lag reports that a shard's streams returned, which its counters count.
struct Lags {
  int64_t events = 0;
  int64_t missed = 0;
};

// The checks of a multi-key WriteBatch() before it writes anything.
struct BatchCheck {
  Expected expected;
  int64_t bad_index = -1;  // the record that failed them
  std::vector<size_t> shard_of;
};

class ShardedModel {
 public:
  ShardedModel(const sharded::Options& options, SharderKind sharder,
               std::shared_ptr<SteppingClock> stepping,
               std::shared_ptr<const absl::Time> driven)
      : options_(options),
        sharder_(sharder),
        shard_options_(ShardOptions(options)),
        stepping_(std::move(stepping)),
        driven_(std::move(driven)) {}

  static Expected Validate(const sharded::Options& o, SharderKind sharder) {
    if (o.num_shards < sharded::kMinNumShards ||
        o.num_shards > sharded::kMaxNumShards) {
      return {ErrorKind::kInvalidOptions};
    }
    if (LogModel::Validate(o.shard).has_value()) {
      return {ErrorKind::kInvalidOptions};
    }
    if (o.max_total_bytes.has_value()) {
      // Only one of the byte limits, and a share of at least
      // kMinSegmentBytes and at most kMaxSegmentBytes.
      const int64_t shares = Shares(o.num_shards);
      if (o.shard.max_segment_bytes.has_value() ||
          *o.max_total_bytes < shares * kMinSegmentBytes ||
          *o.max_total_bytes / shares > kMaxSegmentBytes) {
        return {ErrorKind::kInvalidOptions};
      }
    }
    // The key table names shards 0..2.
    if (sharder == SharderKind::kKeyTable && o.num_shards < 3) {
      return {ErrorKind::kInvalidOptions};
    }
    return {};
  }

  // Each shard's memlog::Log as the model sees it: with the share of
  // max_total_bytes as its byte limit (sharded/log.h), and without a record
  // limit of its own, since the sharded log checks records before a shard
  // sees them.
  static Options ShardOptions(const sharded::Options& o) {
    Options shard = o.shard;
    shard.clock = nullptr;  // the model predicts the clock
    shard.max_record_bytes = kMaxRecordBytesLimit;
    if (o.max_total_bytes.has_value()) {
      shard.max_segment_bytes = *o.max_total_bytes / Shares(o.num_shards);
    }
    return shard;
  }

  struct Route {
    Expected expected;
    size_t shard = 0;
  };

  Route RouteKey(std::string_view key) const {
    if (key.empty() || key.size() > kMaxKeyBytes) {
      return {{ErrorKind::kInvalidKey}};
    }
    switch (sharder_) {
      case SharderKind::kHash: {
        absl::StatusOr<size_t> shard =
            sharded::HashSharder().ShardFor(key, options_.num_shards);
        MEMLOG_FUZZ_CHECK(shard.ok(), "HashSharder failed: %s",
                          shard.status().ToString().c_str());
        return {{}, *shard};
      }
      case SharderKind::kKeyTable:
        if (key == "a") return {{}, 0};
        if (key == "b") return {{}, 1};
        if (key == "c") return {{}, 2};
        return {{ErrorKind::kKeyNotFound}};
      case SharderKind::kColliding:
        if (key[0] == '!') return {{ErrorKind::kBadSharder}};
        if (key[0] == '?') return {{ErrorKind::kKeyNotFound}};
        if (key[0] == '#') return {{std::nullopt, true}};
        return {{}, key.size() % 2};
    }
    return {};
  }

  // The shard's model (an unused shard is an empty log).
  LogModel& Shard(size_t shard) {
    auto it = shards_.find(shard);
    if (it == shards_.end()) {
      it = shards_.emplace(shard, LogModel(shard_options_, stepping_, driven_))
               .first;
      if (closed_) it->second.Close();
    }
    return it->second;
  }
  const std::map<size_t, LogModel>& shards() const { return shards_; }

  // What Write() refuses before routing, in its order: the key, then the
  // data (whose limit counts the data alone, sharded/log.h).
  std::optional<ErrorKind> CheckRecord(std::string_view key,
                                       std::string_view data) const {
    if (key.empty() || key.size() > kMaxKeyBytes) return ErrorKind::kInvalidKey;
    if (data.empty()) return ErrorKind::kEmptyRecord;
    if (static_cast<int64_t>(data.size()) > options_.shard.max_record_bytes) {
      return ErrorKind::kRecordTooLarge;
    }
    return std::nullopt;
  }

  Outcome<Offset> Write(const std::string& key, const std::string& data,
                        Expected* expected) {
    *expected = {};
    if (std::optional<ErrorKind> bad = CheckRecord(key, data)) {
      ++refused_invalid_;
      *expected = {bad};
      return {};
    }
    const Route route = RouteKey(key);
    if (!route.expected.ok()) {
      ++refused_invalid_;
      *expected = route.expected;
      return {};
    }
    if (closed_) {
      ++refused_closed_;
      *expected = {ErrorKind::kClosed};
      return {};
    }
    Outcome<Offset> written = WriteToShard(route.shard, key, data);
    *expected = {written.error};
    return written;
  }

  // WriteBatch(key, records): validated whole first (naming the first bad
  // record), routed, then each record a write of the shard, in order, at
  // consecutive offsets, up to the first that fails. Sets `*shard` to the
  // key's shard once the batch reaches it.
  ModelBatch WriteBatch(const std::string& key,
                        const std::vector<std::string>& records,
                        Expected* expected, std::optional<size_t>* shard) {
    ModelBatch out;
    *expected = {};
    for (size_t i = 0; i < records.size(); ++i) {
      if (std::optional<ErrorKind> bad = CheckRecord(key, records[i])) {
        ++refused_invalid_;
        *expected = {bad};
        out.bad_index = static_cast<int64_t>(i);
        return out;
      }
    }
    if (records.empty()) return out;  // "An empty batch writes nothing."
    const Route route = RouteKey(key);
    if (!route.expected.ok()) {
      ++refused_invalid_;
      *expected = route.expected;
      return out;
    }
    if (closed_) {
      ++refused_closed_;
      *expected = {ErrorKind::kClosed};
      return out;
    }
    *shard = route.shard;
    for (const std::string& data : records) {
      Outcome<Offset> written = WriteToShard(route.shard, key, data);
      if (written.error.has_value()) {
        *expected = {written.error};
        break;
      }
      if (out.count == 0) out.first = written.value;
      ++out.count;
    }
    return out;
  }

  // WriteBatch(records, offsets) before it writes: one offset per record,
  // then every record validated and routed, naming the first that fails,
  // then the log open. What it then writes, the harness checks shard by
  // shard (Harness::WriteBatchKeyed()).
  BatchCheck CheckBatch(
      const std::vector<std::pair<std::string, std::string>>& records,
      size_t offsets) {
    BatchCheck out;
    if (offsets != records.size()) {
      ++refused_invalid_;
      out.expected = {ErrorKind::kInvalidOptions};
      return out;
    }
    for (size_t i = 0; i < records.size(); ++i) {
      const auto& [key, data] = records[i];
      out.bad_index = static_cast<int64_t>(i);
      if (std::optional<ErrorKind> bad = CheckRecord(key, data)) {
        ++refused_invalid_;
        out.expected = {bad};
        return out;
      }
      const Route route = RouteKey(key);
      if (!route.expected.ok()) {
        ++refused_invalid_;
        out.expected = route.expected;
        return out;
      }
      out.shard_of.push_back(route.shard);
    }
    out.bad_index = -1;
    if (closed_) {
      ++refused_closed_;
      out.expected = {ErrorKind::kClosed};
    }
    return out;
  }

  // One record of `key` written to its shard (routed and validated).
  Outcome<Offset> WriteToShard(size_t shard, const std::string& key,
                               const std::string& data) {
    Outcome<Offset> written =
        Shard(shard).Write(data, key, StoredSize(key, data));
    if (!written.error.has_value()) {
      written_keys_[shard].push_back({written.value, key});
    }
    return written;
  }

  // The key's retained records of `shard` at offsets >= `from`, in order.
  std::vector<const ModelRecord*> KeyRecords(size_t shard, std::string_view key,
                                             Offset from) {
    std::vector<const ModelRecord*> records;
    Shard(shard).ForEachRetained([&](const ModelRecord& record) {
      if (record.key == key && record.offset >= from) {
        records.push_back(&record);
      }
    });
    return records;
  }

  // OffsetAt(key, t): the key's first retained record created at or after
  // `t`, with may_have_missed when that is the key's earliest retained
  // record and its shard has purged records (sharded/log.h).
  // REQUIRES: the clock is a fake one.
  Outcome<OffsetAtTime> KeyOffsetAt(size_t shard, std::string_view key,
                                    absl::Time t) {
    const int64_t target = absl::ToUnixNanos(t);
    const LogModel& m = Shard(shard);
    const std::vector<const ModelRecord*> records =
        KeyRecords(shard, key, kInt64Min);
    for (size_t i = 0; i < records.size(); ++i) {
      if (*records[i]->created_nanos < target) continue;
      return {std::nullopt,
              OffsetAtTime{records[i]->offset,
                           i == 0 && m.earliest() > m.start()}};
    }
    return {ErrorKind::kFutureOffset};
  }

  // How many records of `key` were ever written to `shard` at offsets in
  // [from, to).
  int64_t KeyRecordsWritten(size_t shard, std::string_view key, Offset from,
                            Offset to) const {
    int64_t n = 0;
    auto it = written_keys_.find(shard);
    if (it == written_keys_.end()) return 0;
    for (const auto& [offset, k] : it->second) {
      if (k == key && offset >= from && offset < to) ++n;
    }
    return n;
  }

  int64_t retained_records() const {
    int64_t n = 0;
    for (const auto& [shard, model] : shards_) n += model.retained_records();
    return n;
  }
  int64_t retained_bytes() const {
    int64_t n = 0;
    for (const auto& [shard, model] : shards_) n += model.retained_bytes();
    return n;
  }
  int64_t largest_record() const {
    int64_t n = 0;
    for (const auto& [shard, model] : shards_) {
      n = std::max(n, model.largest_record());
    }
    return n;
  }

  // Writes refused before any shard saw them: bad input (routing failures
  // included), or a closed log.
  int64_t refused_invalid() const { return refused_invalid_; }
  int64_t refused_closed() const { return refused_closed_; }

  void Close() {
    closed_ = true;
    for (auto& [shard, model] : shards_) model.Close();
  }

  const sharded::Options& options() const { return options_; }
  const Options& shard_options() const { return shard_options_; }

 private:
  const sharded::Options& options_;
  const SharderKind sharder_;
  const Options shard_options_;
  const std::shared_ptr<SteppingClock> stepping_;
  const std::shared_ptr<const absl::Time> driven_;
  bool closed_ = false;
  int64_t refused_invalid_ = 0;
  int64_t refused_closed_ = 0;
  std::map<size_t, LogModel> shards_;
  std::map<size_t, std::vector<std::pair<Offset, std::string>>> written_keys_;
};

void CheckKeyedRecord(const sharded::RecordView& view,
                      const ModelRecord& expected, const char* operation) {
  CheckRecord(view.offset(), view.data(), view.created(), expected, operation);
  MEMLOG_FUZZ_CHECK(view.key() == expected.key,
                    "%s(%lld): key of %zu bytes, model's has %zu", operation,
                    static_cast<long long>(view.offset()), view.key().size(),
                    expected.key.size());
}

struct KeyStream {
  std::stop_source stop;
  sharded::Stream stream;
  size_t shard;
  std::string key;
  Offset position;
  bool cancelled = false;
};

struct ShardStreamUnderTest {
  std::stop_source stop;
  sharded::ShardStream stream;
  size_t shard;
  Offset position;
  bool cancelled = false;
};

struct HeldView {
  sharded::RecordView view;
  ModelRecord record;
};

// Holds stepping clocks still while in scope (either may be null).
class HoldClocks {
 public:
  HoldClocks(SteppingClock* a, SteppingClock* b) : a_(a), b_(b) {
    Set(true);
  }
  ~HoldClocks() { Set(false); }
  HoldClocks(const HoldClocks&) = delete;
  HoldClocks& operator=(const HoldClocks&) = delete;

 private:
  void Set(bool held) {
    for (SteppingClock* clock : {a_, b_}) {
      if (clock != nullptr) clock->held = held;
    }
  }
  SteppingClock* a_;
  SteppingClock* b_;
};

enum Op : uint8_t {
  kWrite,
  kWrite2,
  kWrite3,
  kRead,
  kReadView,
  kReadBatch,
  kReadBatchView,
  kRange,
  kShardFor,
  kShardRange,
  kReadShard,
  kOpenStream,
  kStreamStep,
  kOpenShardStream,
  kShardStreamStep,
  kCancel,
  kMemoryUsage,
  kDropView,
  kClose,
  kRecreate,
  // Added with retention and time; appended so that the opcodes above keep
  // their numbers.
  kWriteBatch,
  kWriteBatchKeyed,
  kOffsetAt,
  kShardOffsetAt,
  kTrim,
  kAdvanceClock,
  kSetClock,
  kStats,
  kShardStats,
  kOpCount
};

class Harness {
 public:
  explicit Harness(FuzzInput& in) : in_(in) {}

  void Run() {
    Create();
    for (int steps = 0; steps < 4096 && !in_.empty(); ++steps) Step();
    CheckHeldViews();
    Destroy();
    CheckHeldViews();  // views outlive the log
  }

 private:
  void Destroy() {
    key_streams_.clear();
    shard_streams_.clear();
    log_.reset();
    model_.reset();
  }

  void Create() {
    Destroy();
    static constexpr size_t kShardCounts[] = {
        0,
        1,
        2,
        3,
        4,
        7,
        sharded::kMaxNumShards,
        sharded::kMaxNumShards + 1,
        std::numeric_limits<size_t>::max()};
    options_ = sharded::Options();
    // Mostly small counts. The largest valid count costs 8 MB per log and a
    // loop over a million shards per Close() and memory_usage(), so it is
    // picked only with a second byte's say-so (bad_input_test covers it).
    const uint32_t pick = in_.Below(16);
    options_.num_shards = kShardCounts[pick < 9 ? pick : 2 + pick % 4];
    if (options_.num_shards == sharded::kMaxNumShards && in_.Byte() != 0xff) {
      options_.num_shards = 5;
    }
    DecodeLogFields(in_, options_.shard);
    uint32_t clock = in_.Below(4);
    SharderKind sharder = SharderKind::kColliding;
    switch (in_.Below(4)) {
      case 0:
        sharder = SharderKind::kHash;
        break;
      case 1: {
        sharder = SharderKind::kKeyTable;
        absl::StatusOr<std::shared_ptr<const sharded::KeySharder>> table =
            sharded::KeySharder::FromKeys({"a", "b", "c"});
        MEMLOG_FUZZ_CHECK(table.ok(), "KeySharder: %s",
                          table.status().ToString().c_str());
        options_.sharder = *std::move(table);
        break;
      }
      default:
        options_.sharder = std::make_shared<CollidingSharder>();
        break;
    }
    DecodeShardedRetention(in_, options_);
    if (options_.shard.max_age.has_value() && clock < 2) clock = 2;
    now_ = std::make_shared<absl::Time>(absl::FromUnixNanos(kClockStartNanos));
    library_clock_ = nullptr;
    model_clock_ = nullptr;
    if (clock == 1) {
      library_clock_ = std::make_shared<SteppingClock>();
      model_clock_ = std::make_shared<SteppingClock>();
      options_.shard.clock = FakeClock(library_clock_);
    } else if (clock >= 2) {
      options_.shard.clock = [now = now_] { return *now; };
    }
    lags_.clear();
    absl::StatusOr<std::unique_ptr<sharded::Log>> log =
        sharded::Log::Create(options_);
    Check(log.status(), ShardedModel::Validate(options_, sharder), "Create",
          static_cast<int64_t>(options_.num_shards));
    if (!log.ok()) return;
    log_ = *std::move(log);
    MEMLOG_FUZZ_CHECK(log_->num_shards() == options_.num_shards,
                      "num_shards %zu", log_->num_shards());
    model_.emplace(options_, sharder, model_clock_,
                   clock >= 2 ? now_ : nullptr);
  }

  std::string PickKey() {
    static const char* const kKeys[] = {
        "a", "b", "c", "ab", "abc", "xyz", "", "!bad", "?missing", "#error"};
    const uint32_t pick = in_.Below(12);
    if (pick < std::size(kKeys)) return kKeys[pick];
    return std::string(pick == 10 ? kMaxKeyBytes : kMaxKeyBytes + 1, 'k');
  }

  // An offset of interest in the shard of `key` (or shard 0).
  Offset PickOffsetFor(size_t shard) {
    return PickOffset(in_, model_->Shard(shard));
  }

  size_t ShardOf(const std::string& key) {
    const ShardedModel::Route route = model_->RouteKey(key);
    return route.expected.ok() ? route.shard : 0;
  }

  void Step() {
    const uint8_t op = in_.Below(kOpCount);
    if (trace_) std::fprintf(stderr, "op %d\n", op);
    if (op == kRecreate || !log_) {
      Create();
      return;
    }
    sharded::Log& log = *log_;
    ShardedModel& model = *model_;
    switch (op) {
      case kWrite:
      case kWrite2:
      case kWrite3: {
        const std::string key = PickKey();
        // The size first, then the salt: two reads in one call's arguments
        // would come in an order that differs between compilers.
        const int64_t size = PickDataSize(in_, options_.shard.max_record_bytes);
        const std::string data = MakeData(size, serial_++, in_.Byte());
        absl::StatusOr<Offset> offset = log.Write(key, data);
        if (trace_) {
          std::fprintf(stderr, "  write key '%.8s' (%zu bytes): %s\n",
                       key.c_str(), key.size(),
                       offset.ok() ? std::to_string(*offset).c_str()
                                   : offset.status().ToString().c_str());
        }
        Expected expected;
        Outcome<Offset> written = model.Write(key, data, &expected);
        Check(offset.status(), expected, "Write",
              static_cast<int64_t>(data.size()));
        ObserveSeals(key, "Write");
        if (offset.ok()) {
          MEMLOG_FUZZ_CHECK(*offset == written.value,
                            "Write: offset %lld, model %lld",
                            static_cast<long long>(*offset),
                            static_cast<long long>(written.value));
        }
        break;
      }
      case kRead:
      case kReadView: {
        const std::string key = PickKey();
        const Offset offset = PickOffsetFor(ShardOf(key));
        absl::StatusOr<sharded::RecordView> view;
        if (op == kRead) {
          absl::StatusOr<sharded::Record> record = log.Read(key, offset);
          if (record.ok()) {
            MEMLOG_FUZZ_CHECK(record->key == key, "Read: another key");
          }
          view = log.ReadView(key, offset);  // the same answer, as a view
          MEMLOG_FUZZ_CHECK(record.status() == view.status(),
                            "Read and ReadView disagree: %s vs %s",
                            record.status().ToString().c_str(),
                            view.status().ToString().c_str());
        } else {
          view = log.ReadView(key, offset);
        }
        const ShardedModel::Route route = model.RouteKey(key);
        if (trace_) {
          std::fprintf(stderr,
                       "  read key '%.8s' (%zu bytes) at %lld: shard %zu\n",
                       key.c_str(), key.size(), static_cast<long long>(offset),
                       route.shard);
        }
        Expected expected = route.expected;
        const ModelRecord* record = nullptr;
        if (expected.ok()) {
          Outcome<const ModelRecord*> read =
              model.Shard(route.shard).Read(offset);
          expected.kind = read.error;
          if (!read.error.has_value()) {
            record = read.value;
            if (record->key != key) expected.kind = ErrorKind::kKeyNotFound;
          }
        }
        Check(view.status(), expected, "Read", offset);
        if (view.ok()) {
          CheckKeyedRecord(*view, *record, "Read");
          Hold(*view, *record);
        }
        break;
      }
      case kReadBatch:
      case kReadBatchView: {
        const std::string key = PickKey();
        const size_t shard = ShardOf(key);
        const Offset start = PickOffsetFor(shard);
        const size_t size = in_.Below(8);
        // Views are filled with a held view first, if there is one:
        // ReadBatchView() must empty the entries past its count.
        std::vector<sharded::RecordView> views(
            size, held_.empty() ? sharded::RecordView() : held_.back().view);
        std::vector<sharded::Record> records(size);
        ReadResult result;
        if (op == kReadBatch) {
          result = log.ReadBatch(key, start, absl::MakeSpan(records));
        } else {
          result = log.ReadBatchView(key, start, absl::MakeSpan(views));
        }
        // The model's batch.
        const ShardedModel::Route route = model.RouteKey(key);
        Expected expected = route.expected;
        std::vector<const ModelRecord*> want;
        if (expected.ok() && size > 0) {
          LogModel& m = model.Shard(route.shard);
          if (m.Impossible(start)) {
            expected.kind = ErrorKind::kImpossibleOffset;
          } else if (!m.empty() && start < m.earliest()) {
            expected.kind = ErrorKind::kPurgedOffset;
          } else {
            want = model.KeyRecords(route.shard, key, start);
            if (want.size() < size) {
              // The key's records ran out; past a record at kMaxOffset no
              // record can come.
              expected.kind = !want.empty() && want.back()->offset == kMaxOffset
                                  ? ErrorKind::kImpossibleOffset
                                  : ErrorKind::kFutureOffset;
            } else {
              want.resize(size);
            }
          }
        }
        Check(result.status, expected, "ReadBatch", start);
        MEMLOG_FUZZ_CHECK(result.count == static_cast<int64_t>(want.size()),
                          "ReadBatch(%lld, %zu): count %lld, model %zu",
                          static_cast<long long>(start), size,
                          static_cast<long long>(result.count), want.size());
        if (op == kReadBatchView) {
          for (size_t i = want.size(); i < size; ++i) {
            MEMLOG_FUZZ_CHECK(views[i].offset() == kInvalidOffset &&
                                  views[i].key().empty() &&
                                  views[i].data().empty(),
                              "ReadBatchView left entry %zu past its count %zu",
                              i, want.size());
          }
        } else {
          for (size_t i = want.size(); i < size; ++i) {
            MEMLOG_FUZZ_CHECK(
                records[i].metadata.offset == kInvalidOffset &&
                    records[i].key.empty() && records[i].data.empty(),
                "ReadBatch wrote entry %zu past its count %zu", i, want.size());
          }
        }
        for (size_t i = 0; i < static_cast<size_t>(result.count); ++i) {
          if (op == kReadBatch) {
            MEMLOG_FUZZ_CHECK(records[i].key == want[i]->key &&
                                  records[i].data == want[i]->data &&
                                  records[i].metadata.offset == want[i]->offset,
                              "ReadBatch: entry %zu differs", i);
          } else {
            CheckKeyedRecord(views[i], *want[i], "ReadBatchView");
          }
        }
        if (op == kReadBatchView && result.count > 0) Hold(views[0], *want[0]);
        break;
      }
      case kRange: {
        const std::string key = PickKey();
        absl::StatusOr<OffsetRange> range = log.Range(key);
        const ShardedModel::Route route = model.RouteKey(key);
        Check(range.status(), route.expected, "Range", 0);
        if (range.ok()) {
          std::vector<const ModelRecord*> records =
              model.KeyRecords(route.shard, key, kInt64Min);
          const OffsetRange want = records.empty()
                                       ? OffsetRange{}
                                       : OffsetRange{records.front()->offset,
                                                     records.back()->offset};
          MEMLOG_FUZZ_CHECK(*range == want,
                            "Range(key): {%lld, %lld}, model {%lld, %lld}",
                            static_cast<long long>(range->earliest),
                            static_cast<long long>(range->latest),
                            static_cast<long long>(want.earliest),
                            static_cast<long long>(want.latest));
        }
        break;
      }
      case kShardFor: {
        const std::string key = PickKey();
        absl::StatusOr<size_t> shard = log.ShardFor(key);
        const ShardedModel::Route route = model.RouteKey(key);
        Check(shard.status(), route.expected, "ShardFor", 0);
        if (shard.ok()) {
          MEMLOG_FUZZ_CHECK(*shard == route.shard, "ShardFor: %zu, model %zu",
                            *shard, route.shard);
        }
        break;
      }
      case kShardRange: {
        const size_t shard = PickShard();
        const absl::StatusOr<OffsetRange> range = log.ShardRange(shard);
        if (shard >= options_.num_shards) {
          Check(range.status(), {ErrorKind::kInvalidShard}, "ShardRange",
                static_cast<int64_t>(shard));
          break;
        }
        Check(range.status(), {}, "ShardRange", static_cast<int64_t>(shard));
        if (!range.ok()) break;
        const OffsetRange want = model.Shard(shard).Range();
        MEMLOG_FUZZ_CHECK(*range == want,
                          "ShardRange(%zu): {%lld, %lld}, model {%lld, %lld}",
                          shard, static_cast<long long>(range->earliest),
                          static_cast<long long>(range->latest),
                          static_cast<long long>(want.earliest),
                          static_cast<long long>(want.latest));
        break;
      }
      case kReadShard: {
        const size_t shard = PickShard();
        const bool exists = shard < options_.num_shards;
        const Offset offset = PickOffsetFor(exists ? shard : 0);
        absl::StatusOr<sharded::RecordView> view = log.ReadShard(shard, offset);
        if (!exists) {
          Check(view.status(), {ErrorKind::kInvalidShard}, "ReadShard", offset);
          break;
        }
        Outcome<const ModelRecord*> read = model.Shard(shard).Read(offset);
        Check(view.status(), {read.error}, "ReadShard", offset);
        if (view.ok()) CheckKeyedRecord(*view, *read.value, "ReadShard");
        break;
      }
      case kOpenStream: {
        const std::string key = PickKey();
        const size_t shard = ShardOf(key);
        const Offset start = PickOffsetFor(shard);
        std::stop_source stop;
        absl::StatusOr<sharded::Stream> stream =
            log.StreamFrom(key, start, stop.get_token());
        // The key is routed first; then a start no record can have is
        // refused at once.
        Expected expected = model.RouteKey(key).expected;
        if (expected.ok() && model.Shard(shard).Impossible(start)) {
          expected = {ErrorKind::kImpossibleOffset};
        }
        Check(stream.status(), expected, "StreamFrom", start);
        if (!stream.ok()) break;
        if (key_streams_.size() >= 4) key_streams_.pop_front();
        key_streams_.push_back(
            {std::move(stop), *std::move(stream), shard, key, start});
        break;
      }
      case kStreamStep: {
        if (key_streams_.empty()) break;
        KeyStream& s =
            key_streams_[in_.Below(static_cast<uint32_t>(key_streams_.size()))];
        StepKeyStream(s, in_.Below(5));
        break;
      }
      case kOpenShardStream: {
        const size_t shard = PickShard();
        const bool exists = shard < options_.num_shards;
        const Offset start = PickOffsetFor(exists ? shard : 0);
        std::stop_source stop;
        absl::StatusOr<sharded::ShardStream> stream =
            log.ShardStreamFrom(shard, start, stop.get_token());
        Expected expected;
        if (!exists) {
          expected = {ErrorKind::kInvalidShard};
        } else if (model.Shard(shard).Impossible(start)) {
          expected = {ErrorKind::kImpossibleOffset};
        }
        Check(stream.status(), expected, "ShardStreamFrom", start);
        if (!stream.ok()) break;
        if (shard_streams_.size() >= 3) shard_streams_.pop_front();
        shard_streams_.push_back(
            {std::move(stop), *std::move(stream), shard, start});
        break;
      }
      case kShardStreamStep: {
        if (shard_streams_.empty()) break;
        ShardStreamUnderTest& s = shard_streams_[in_.Below(
            static_cast<uint32_t>(shard_streams_.size()))];
        StepShardStream(s, in_.Below(4));
        break;
      }
      case kCancel: {
        const uint32_t pick = in_.Byte();
        if (!key_streams_.empty() && pick % 2 == 0) {
          KeyStream& s = key_streams_[pick / 2 % key_streams_.size()];
          s.stop.request_stop();
          s.cancelled = true;
        } else if (!shard_streams_.empty()) {
          ShardStreamUnderTest& s =
              shard_streams_[pick / 2 % shard_streams_.size()];
          s.stop.request_stop();
          s.cancelled = true;
        }
        break;
      }
      case kMemoryUsage: {
        const MemoryUsage usage = log.memory_usage();
        MEMLOG_FUZZ_CHECK(usage.records == model.retained_records() &&
                              usage.payload_bytes == model.retained_bytes(),
                          "memory_usage: %lld records of %lld bytes, model "
                          "%lld of %lld",
                          static_cast<long long>(usage.records),
                          static_cast<long long>(usage.payload_bytes),
                          static_cast<long long>(model.retained_records()),
                          static_cast<long long>(model.retained_bytes()));
        // Each shard's segments hold at most its limit (for max_total_bytes,
        // its share), which is how the total stays within max_total_bytes.
        CheckStorageBound(usage, model.shard_options().max_segment_bytes,
                          model.largest_record(), "memory_usage");
        break;
      }
      case kDropView:
        CheckHeldViews();
        if (!held_.empty()) held_.pop_front();
        break;
      case kClose:
        log.Close();
        model.Close();
        MEMLOG_FUZZ_CHECK(log.closed(), "closed() after Close()");
        break;
      case kWriteBatch:
        WriteBatch();
        break;
      case kWriteBatchKeyed:
        WriteBatchKeyed();
        break;
      case kOffsetAt:
        OffsetAt();
        break;
      case kShardOffsetAt:
        ShardOffsetAt();
        break;
      case kTrim: {
        Check(log.Trim(), {}, "Trim", 0);
        // Every shard applies max_age, as memlog::Log::Trim(); the unused
        // ones (empty in the model) have nothing to purge.
        std::vector<size_t> used;
        for (auto& [shard, m] : model.shards()) used.push_back(shard);
        for (const size_t shard : used) {
          model.Shard(shard).Trim();
          ObserveShard(shard, "Trim");
        }
        break;
      }
      case kAdvanceClock:
        AdvanceClock(in_, *now_);
        break;
      case kSetClock:
        SetClock(in_, *now_);
        break;
      case kStats: {
        Counters total;
        for (const auto& [shard, m] : model.shards()) AddCounters(shard, total);
        CheckCounters(log.stats(), total, "stats()");
        break;
      }
      case kShardStats: {
        const size_t shard = PickShard();
        const absl::StatusOr<LogStats> stats = log.ShardStats(shard);
        if (shard >= options_.num_shards) {
          Check(stats.status(), {ErrorKind::kInvalidShard}, "ShardStats",
                static_cast<int64_t>(shard));
          break;
        }
        Check(stats.status(), {}, "ShardStats", static_cast<int64_t>(shard));
        Counters counters;
        AddCounters(shard, counters);
        CheckCounters(*stats, counters, "ShardStats()");
        break;
      }
      default:
        break;
    }
  }

  // With a byte limit the model cannot predict, tells the shard's model
  // what the shard did (see LogModel::Observe()): its range and counters.
  void ObserveShard(size_t shard, const char* operation) {
    LogModel& m = model_->Shard(shard);
    if (!m.observes_byte_seals()) return;
    const absl::StatusOr<OffsetRange> range = log_->ShardRange(shard);
    const absl::StatusOr<LogStats> stats = log_->ShardStats(shard);
    MEMLOG_FUZZ_CHECK(range.ok() && stats.ok(), "shard %zu: %s, %s", shard,
                      range.status().ToString().c_str(),
                      stats.status().ToString().c_str());
    // A shard that retains nothing continues at its next offset.
    m.Observe(range->earliest != kInvalidOffset ? range->earliest : m.next(),
              *stats, operation);
    if (trace_) {
      std::fprintf(stderr, "  %s: shard %zu, %zu possible segmentations\n",
                   operation, shard, m.possible_states());
    }
  }

  void ObserveSeals(const std::string& key, const char* operation) {
    const ShardedModel::Route route = model_->RouteKey(key);
    if (route.expected.ok()) ObserveShard(route.shard, operation);
  }

  // A key for a batch: as PickKey(), but a batch has at most one of the
  // 64 KiB keys, which would otherwise fill memory quickly.
  std::string PickBatchKey(bool* long_key_taken) {
    std::string key = PickKey();
    if (key.size() > 64) {
      if (*long_key_taken) return "a";
      *long_key_taken = true;
    }
    return key;
  }

  std::string PickBatchData() {
    const int64_t size =
        PickBatchRecordSize(in_, options_.shard.max_record_bytes);
    return MakeData(size, serial_++, in_.Byte());
  }

  // WriteBatch(key, records), whose outcome the model predicts whole.
  void WriteBatch() {
    ShardedModel& model = *model_;
    bool long_key = false;
    const std::string key = PickBatchKey(&long_key);
    const size_t n = in_.Below(long_key ? 3 : 9);
    std::vector<std::string> records;
    for (size_t i = 0; i < n; ++i) records.push_back(PickBatchData());
    const std::vector<std::string_view> views(records.begin(), records.end());
    const WriteBatchResult result = log_->WriteBatch(key, views);
    Expected expected;
    std::optional<size_t> shard;
    const ModelBatch want = model.WriteBatch(key, records, &expected, &shard);
    if (trace_) {
      std::fprintf(stderr, "  batch of %zu, key '%.8s': %lld from %lld, %s\n",
                   n, key.c_str(), static_cast<long long>(result.count),
                   static_cast<long long>(result.first),
                   result.status.ToString().c_str());
    }
    Check(result.status, expected, "WriteBatch(key)", static_cast<int64_t>(n));
    MEMLOG_FUZZ_CHECK(
        result.first == want.first && result.count == want.count,
        "WriteBatch(key) of %zu: first %lld count %lld, model %lld %lld", n,
        static_cast<long long>(result.first),
        static_cast<long long>(result.count),
        static_cast<long long>(want.first), static_cast<long long>(want.count));
    if (want.bad_index >= 0) CheckNamesRecord(result.status, want.bad_index);
    if (shard.has_value()) ObserveShard(*shard, "WriteBatch(key)");
  }

  // WriteBatch(records, offsets). Its documentation fixes what each shard
  // writes (its share of the batch, in order, at consecutive offsets, up to
  // the first write that fails), but neither the order in which the shards
  // are written nor whether the batch goes on after a shard failed. So the
  // model predicts each share, and accepts of each either all that fits or,
  // once the batch failed, nothing; then follows what was written.
  void WriteBatchKeyed() {
    ShardedModel& model = *model_;
    const size_t n = in_.Below(9);
    std::vector<std::pair<std::string, std::string>> records;
    bool long_key = false;
    for (size_t i = 0; i < n; ++i) {
      std::string key = PickBatchKey(&long_key);
      records.emplace_back(std::move(key), PickBatchData());
    }
    size_t offset_count = n;
    if (in_.Below(8) == 0) offset_count = n == 0 || in_.Below(2) ? n + 1 : n - 1;
    std::vector<sharded::KeyedRecord> keyed;
    for (const auto& [key, data] : records) keyed.push_back({key, data});
    // A value no offset has: the library must overwrite every entry.
    constexpr Offset kUnset = -7;
    std::vector<Offset> offsets(offset_count, kUnset);
    // The stepping clock holds still for the batch (the library's call and
    // the model's writes), so that records' times do not depend on the
    // order in which the shards are written.
    const HoldClocks hold(library_clock_.get(), model_clock_.get());
    const absl::Status status = log_->WriteBatch(keyed, absl::MakeSpan(offsets));
    if (trace_) {
      std::fprintf(stderr, "  keyed batch of %zu (%zu offsets): %s\n", n,
                   offset_count, status.ToString().c_str());
    }

    BatchCheck checked = model.CheckBatch(records, offset_count);
    if (!checked.expected.ok()) {
      if (records.empty() && checked.expected.kind == ErrorKind::kClosed &&
          status.ok()) {
        // An empty batch on a closed log: refused or a no-op, both fit the
        // documentation.
        return;
      }
      Check(status, checked.expected, "WriteBatch(records)",
            static_cast<int64_t>(n));
      if (checked.expected.kind == ErrorKind::kInvalidOptions) return;
      for (size_t i = 0; i < offsets.size(); ++i) {
        MEMLOG_FUZZ_CHECK(offsets[i] == kInvalidOffset,
                          "WriteBatch(records) refused, yet offsets[%zu] is "
                          "%lld", i, static_cast<long long>(offsets[i]));
      }
      if (checked.bad_index >= 0) CheckNamesRecord(status, checked.bad_index);
      return;
    }

    // Each shard's share, in input order.
    std::map<size_t, std::vector<size_t>> shares;
    for (size_t i = 0; i < n; ++i) shares[checked.shard_of[i]].push_back(i);
    int64_t failed_shards = 0;
    bool cut_short = false;
    for (const auto& [shard, share] : shares) {
      LogModel& m = model.Shard(shard);
      const auto size = static_cast<int64_t>(share.size());
      // How much of the share fits below kMaxOffset: a write past it is the
      // only one that fails here.
      const int64_t fits =
          m.next() > kMaxOffset ? 0 : std::min(size, kMaxOffset - m.next() + 1);
      int64_t written = 0;
      while (written < size &&
             offsets[share[static_cast<size_t>(written)]] != kInvalidOffset) {
        ++written;
      }
      for (int64_t j = written; j < size; ++j) {
        MEMLOG_FUZZ_CHECK(
            offsets[share[static_cast<size_t>(j)]] == kInvalidOffset,
            "WriteBatch(records): record %zu of shard %zu has offset %lld "
            "after one not written", share[static_cast<size_t>(j)], shard,
            static_cast<long long>(offsets[share[static_cast<size_t>(j)]]));
      }
      MEMLOG_FUZZ_CHECK(written == fits || written == 0,
                        "WriteBatch(records): shard %zu wrote %lld of its "
                        "%lld records, of which %lld fit",
                        shard, static_cast<long long>(written),
                        static_cast<long long>(size),
                        static_cast<long long>(fits));
      for (int64_t j = 0; j < written; ++j) {
        const size_t i = share[static_cast<size_t>(j)];
        const Outcome<Offset> w =
            model.WriteToShard(shard, records[i].first, records[i].second);
        MEMLOG_FUZZ_CHECK(!w.error.has_value() && w.value == offsets[i],
                          "WriteBatch(records): record %zu at %lld, model "
                          "%lld", i, static_cast<long long>(offsets[i]),
                          static_cast<long long>(w.value));
      }
      if (written < size) cut_short = true;
      if (fits < size && (written > 0 || fits == 0)) {
        // The share ran out of offsets. Did the shard try its next record
        // (the failure its counters count)? Surely if it wrote the rest; if
        // nothing fitted, only its counter tells.
        bool tried = written > 0;
        if (!tried) {
          const absl::StatusOr<LogStats> stats = log_->ShardStats(shard);
          tried = stats.ok() &&
                  stats->write_failures_overflow > m.stats().failures_overflow;
        }
        if (tried) {
          const size_t i = share[static_cast<size_t>(written)];
          const Outcome<Offset> w =
              model.WriteToShard(shard, records[i].first, records[i].second);
          MEMLOG_FUZZ_CHECK(w.error == ErrorKind::kOffsetOverflow,
                            "model: shard %zu did not overflow", shard);
          ++failed_shards;
        }
      }
      ObserveShard(shard, "WriteBatch(records)");
    }
    if (status.ok()) {
      MEMLOG_FUZZ_CHECK(!cut_short, "WriteBatch(records) is OK, but a share "
                        "was not written whole");
    } else {
      // Writes here fail only past kMaxOffset, and one that failed is what
      // the batch returns.
      Check(status, {ErrorKind::kOffsetOverflow}, "WriteBatch(records)",
            static_cast<int64_t>(n));
      MEMLOG_FUZZ_CHECK(failed_shards > 0,
                        "WriteBatch(records) failed, yet no shard did");
    }
  }

  // Checks that a refused batch's status names the record that failed.
  static void CheckNamesRecord(const absl::Status& status, int64_t index) {
    const std::string named =
        "record " + std::to_string(index) + " of the batch";
    MEMLOG_FUZZ_CHECK(status.message().find(named) != std::string_view::npos,
                      "batch: \"%s\" does not name %s",
                      std::string(status.message()).c_str(), named.c_str());
  }

  // A time to seek: the extremes, near a record of `shard` (the ties and
  // the neighbours of a search), near the driven clock's now, or any.
  absl::Time PickTime(size_t shard) {
    const int64_t delta = static_cast<int64_t>(in_.Below(3)) - 1;
    switch (in_.Below(6)) {
      case 0:
        return absl::InfinitePast();
      case 1:
        return absl::InfiniteFuture();
      case 2:
      case 3: {
        LogModel& m = model_->Shard(shard);
        const Outcome<const ModelRecord*> record = m.Read(PickOffset(in_, m));
        const absl::Time t =
            record.error.has_value() || !record.value->created_nanos
                ? *now_
                : absl::FromUnixNanos(*record.value->created_nanos);
        return t + absl::Nanoseconds(delta);
      }
      case 4:
        return *now_ + absl::Nanoseconds(delta);
      default:
        return absl::FromUnixNanos(in_.Int64());
    }
  }

  // Checks that a failed seek says where the records to come start.
  static void CheckSeekMessage(const absl::Status& status, Offset next) {
    const std::string named = "start at offset " + std::to_string(next);
    MEMLOG_FUZZ_CHECK(status.message().find(named) != std::string_view::npos,
                      "OffsetAt: \"%s\" does not name %s",
                      std::string(status.message()).c_str(), named.c_str());
  }

  void OffsetAt() {
    ShardedModel& model = *model_;
    const std::string key = PickKey();
    const size_t shard = ShardOf(key);
    const absl::Time t = PickTime(shard);
    const absl::StatusOr<OffsetAtTime> at = log_->OffsetAt(key, t);
    const ShardedModel::Route route = model.RouteKey(key);
    if (!route.expected.ok()) {
      Check(at.status(), route.expected, "OffsetAt(key)", 0);
      return;
    }
    LogModel& m = model.Shard(shard);
    if (!m.times_known()) {
      // The real clock: only that the answer is one of the key's records.
      if (at.ok()) {
        MEMLOG_FUZZ_CHECK(log_->Read(key, at->offset).ok(),
                          "OffsetAt(key): %lld is no record of the key",
                          static_cast<long long>(at->offset));
      } else {
        Check(at.status(), {ErrorKind::kFutureOffset}, "OffsetAt(key)", 0);
      }
      return;
    }
    const Outcome<OffsetAtTime> want = model.KeyOffsetAt(shard, key, t);
    CheckSeek(at, want, m, "OffsetAt(key)", t);
  }

  void ShardOffsetAt() {
    const size_t shard = PickShard();
    const bool exists = shard < options_.num_shards;
    const absl::Time t = PickTime(exists ? shard : 0);
    const absl::StatusOr<OffsetAtTime> at = log_->ShardOffsetAt(shard, t);
    if (!exists) {
      Check(at.status(), {ErrorKind::kInvalidShard}, "ShardOffsetAt",
            static_cast<int64_t>(shard));
      return;
    }
    const LogModel& m = model_->Shard(shard);
    if (!m.times_known()) {
      if (at.ok()) {
        MEMLOG_FUZZ_CHECK(log_->ReadShard(shard, at->offset).ok(),
                          "ShardOffsetAt: %lld is no record",
                          static_cast<long long>(at->offset));
      } else {
        Check(at.status(), {ErrorKind::kFutureOffset}, "ShardOffsetAt", 0);
      }
      return;
    }
    CheckSeek(at, m.OffsetAt(t), m, "ShardOffsetAt", t);
  }

  static void CheckSeek(const absl::StatusOr<OffsetAtTime>& at,
                        const Outcome<OffsetAtTime>& want, const LogModel& m,
                        const char* operation, absl::Time t) {
    Check(at.status(), {want.error}, operation, absl::ToUnixNanos(t));
    if (at.ok()) {
      MEMLOG_FUZZ_CHECK(
          at->offset == want.value.offset &&
              at->may_have_missed == want.value.may_have_missed,
          "%s(%lld): %lld (may_have_missed %d), model %lld (%d)", operation,
          static_cast<long long>(absl::ToUnixNanos(t)),
          static_cast<long long>(at->offset), at->may_have_missed,
          static_cast<long long>(want.value.offset),
          want.value.may_have_missed);
    } else if (want.error == ErrorKind::kFutureOffset) {
      CheckSeekMessage(at.status(), m.next());
    }
  }

  // Adds what shard `shard`'s counters must say to `counters`.
  void AddCounters(size_t shard, Counters& counters) {
    const LogModel& m = model_->Shard(shard);
    const ModelStats stats = m.stats();
    counters.records_written += m.next() - m.start();
    counters.bytes_written += stats.bytes_written;
    counters.segments_rotated += stats.segments_rotated;
    for (size_t i = 0; i < stats.purged.size(); ++i) {
      counters.purged[i] += stats.purged[i];
    }
    counters.failures_overflow += stats.failures_overflow;
    counters.retained += m.retained_records();
    const auto lags = lags_.find(shard);
    if (lags != lags_.end()) {
      counters.lag_events += lags->second.events;
      counters.records_missed += lags->second.missed;
    }
  }

  void CheckCounters(const LogStats& got, const Counters& want,
                     const char* what) const {
    const auto check = [what](int64_t actual, int64_t expected,
                              const char* name) {
      MEMLOG_FUZZ_CHECK(actual == expected, "%s.%s is %lld, model %lld", what,
                        name, static_cast<long long>(actual),
                        static_cast<long long>(expected));
    };
    check(got.records_written, want.records_written, "records_written");
    check(got.bytes_written, want.bytes_written, "bytes_written");
    check(got.segments_rotated, want.segments_rotated, "segments_rotated");
    check(got.records_purged_by_count, want.purged[0],
          "records_purged_by_count");
    check(got.records_purged_by_bytes, want.purged[1],
          "records_purged_by_bytes");
    check(got.records_purged_by_age, want.purged[2], "records_purged_by_age");
    check(got.write_failures_overflow, want.failures_overflow,
          "write_failures_overflow");
    check(got.write_failures_out_of_memory, 0, "write_failures_out_of_memory");
    check(got.write_failures_callback, 0, "write_failures_callback");
    check(got.streams_waiting, 0, "streams_waiting");
    check(got.lag_events, want.lag_events, "lag_events");
    check(got.records_missed, want.records_missed, "records_missed");
    // The stats are the sum of the shards' (memlog/stats.h), and the
    // sharded log refuses bad input and writes after Close() before any
    // shard sees them; whether it should count those refusals is not
    // documented, so anything from none to all of them is accepted.
    MEMLOG_FUZZ_CHECK(
        got.write_failures_invalid >= 0 &&
            got.write_failures_invalid <= model_->refused_invalid() &&
            got.write_failures_closed >= 0 &&
            got.write_failures_closed <= model_->refused_closed(),
        "%s: %lld invalid and %lld closed write failures, of %lld and %lld",
        what, static_cast<long long>(got.write_failures_invalid),
        static_cast<long long>(got.write_failures_closed),
        static_cast<long long>(model_->refused_invalid()),
        static_cast<long long>(model_->refused_closed()));
    // Every record written is retained or purged, by exactly one reason.
    check(want.purged[0] + want.purged[1] + want.purged[2] + want.retained,
          want.records_written, "records purged + retained");
  }

  size_t PickShard() {
    switch (in_.Below(4)) {
      case 0:
        return options_.num_shards;
      case 1:
        return std::numeric_limits<size_t>::max();
      default:
        return in_.Byte() % std::max<size_t>(options_.num_shards, 1);
    }
  }

  // One step of a key's stream, with a deadline in the past so that it never
  // blocks. `size` 0 means Next(), else NextBatch() of `size` - 1 entries.
  void StepKeyStream(KeyStream& s, size_t size) {
    const bool single = size == 0;
    const size_t wanted = single ? 1 : size - 1;
    std::vector<sharded::RecordView> got;
    absl::Status status;
    const Offset before = s.position;
    if (single) {
      absl::StatusOr<sharded::RecordView> view =
          s.stream.NextUntil(absl::InfinitePast());
      status = view.status();
      if (view.ok()) got.push_back(*std::move(view));
    } else {
      std::vector<sharded::RecordView> batch(wanted);
      ReadResult result =
          s.stream.NextBatch(absl::MakeSpan(batch), absl::InfinitePast());
      MEMLOG_FUZZ_CHECK(result.ok() || result.count == 0,
                        "NextBatch: %lld records with %s",
                        static_cast<long long>(result.count),
                        result.status.ToString().c_str());
      MEMLOG_FUZZ_CHECK(
          result.count >= 0 && result.count <= static_cast<int64_t>(wanted),
          "NextBatch of %zu: count %lld", wanted,
          static_cast<long long>(result.count));
      status = result.status;
      batch.resize(static_cast<size_t>(result.count));
      got = std::move(batch);
    }

    // The model's step. (StreamFrom() refuses a start before the start
    // offset, so the position never lies there.)
    LogModel& m = model_->Shard(s.shard);
    Expected expected;
    std::vector<const ModelRecord*> want;
    if (wanted == 0) {
      // An empty batch returns at once with nothing.
    } else if (s.cancelled) {
      expected = {ErrorKind::kWaitCancelled};
    } else {
      bool lag_reported = false;
      if (!m.empty() && s.position < m.earliest()) {
        const int64_t missed =
            model_->KeyRecordsWritten(s.shard, s.key, s.position, m.earliest());
        if (memlog::IsLagged(status)) {
          // Exact unless IsLaggedCountExact() says it is a lower bound;
          // never more than missed.
          const int64_t reported = LaggedCount(status);
          const bool lower_bound = !IsLaggedCountExact(status);
          MEMLOG_FUZZ_CHECK(reported >= 0 && reported <= missed &&
                                (lower_bound || reported == missed),
                            "key stream lagged by %lld (%s), model missed %lld",
                            static_cast<long long>(reported),
                            lower_bound ? "lower bound" : "exact",
                            static_cast<long long>(missed));
          expected = {ErrorKind::kLagged};
          lag_reported = true;
          lags_[s.shard].events += 1;
          lags_[s.shard].missed += reported;
        } else {
          // Silence is allowed only when nothing of the key was lost.
          MEMLOG_FUZZ_CHECK(
              missed == 0, "key stream missed %lld records unreported (%s)",
              static_cast<long long>(missed), status.ToString().c_str());
        }
        s.position = m.earliest();
      }
      if (!lag_reported) {
        want = model_->KeyRecords(s.shard, s.key, s.position);
        if (want.size() > wanted) want.resize(wanted);
        if (!want.empty()) {
          s.position = want.back()->offset + 1;
        } else {
          s.position = std::max(s.position, m.next());
          // Past kMaxOffset (the shard wrote its last offset) no record can
          // come, closed or not.
          expected = {m.Impossible(s.position) ? ErrorKind::kImpossibleOffset
                      : m.closed()             ? ErrorKind::kClosed
                                               : ErrorKind::kWaitTimedOut};
        }
      }
    }
    Check(status, expected, single ? "key Next" : "key NextBatch", before);
    MEMLOG_FUZZ_CHECK(got.size() == want.size(),
                      "key stream at %lld: %zu records, model %zu",
                      static_cast<long long>(before), got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CheckKeyedRecord(got[i], *want[i], "key stream");
    }
    MEMLOG_FUZZ_CHECK(s.stream.position() == s.position,
                      "key stream position %lld, model %lld",
                      static_cast<long long>(s.stream.position()),
                      static_cast<long long>(s.position));
    if (!got.empty()) Hold(got.back(), *want.back());
  }

  // One step of a shard's stream: memlog::Stream semantics on the shard.
  void StepShardStream(ShardStreamUnderTest& s, size_t size) {
    const bool single = size == 0;
    const size_t wanted = single ? 1 : size - 1;
    LogModel& m = model_->Shard(s.shard);
    Expected expected;
    int64_t expected_lag = 0;
    std::vector<const ModelRecord*> want;
    Offset position = s.position;
    if (wanted == 0) {
    } else if (s.cancelled) {
      expected = {ErrorKind::kWaitCancelled};
    } else if (m.Impossible(s.position)) {
      // Past the record at kMaxOffset (StreamFrom() refuses a start before
      // the start offset).
      expected = {ErrorKind::kImpossibleOffset};
    } else if (s.position >= m.next()) {
      expected = {m.closed() ? ErrorKind::kClosed : ErrorKind::kWaitTimedOut};
    } else if (s.position < m.earliest()) {
      expected = {ErrorKind::kLagged};
      expected_lag = m.earliest() - s.position;
      position = m.earliest();
    } else {
      want = m.ReadBatch(s.position, wanted).value;
      position = s.position + static_cast<Offset>(want.size());
    }

    std::vector<sharded::RecordView> got;
    absl::Status status;
    if (single) {
      absl::StatusOr<sharded::RecordView> view =
          s.stream.NextUntil(absl::InfinitePast());
      status = view.status();
      if (view.ok()) got.push_back(*std::move(view));
    } else {
      std::vector<sharded::RecordView> batch(wanted);
      ReadResult result =
          s.stream.NextBatch(absl::MakeSpan(batch), absl::InfinitePast());
      MEMLOG_FUZZ_CHECK(
          result.count >= 0 && result.count <= static_cast<int64_t>(wanted),
          "shard NextBatch of %zu: count %lld", wanted,
          static_cast<long long>(result.count));
      status = result.status;
      batch.resize(static_cast<size_t>(result.count));
      got = std::move(batch);
    }
    Check(status, expected, "shard stream", s.position);
    if (expected.kind == ErrorKind::kLagged) {
      MEMLOG_FUZZ_CHECK(LaggedCount(status) == expected_lag,
                        "shard stream lagged by %lld, model %lld",
                        static_cast<long long>(LaggedCount(status)),
                        static_cast<long long>(expected_lag));
      MEMLOG_FUZZ_CHECK(IsLaggedCountExact(status),
                        "shard stream lag count not exact: %s",
                        status.ToString().c_str());
      lags_[s.shard].events += 1;
      lags_[s.shard].missed += expected_lag;
    }
    MEMLOG_FUZZ_CHECK(got.size() == want.size(),
                      "shard stream: %zu records, model %zu", got.size(),
                      want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CheckKeyedRecord(got[i], *want[i], "shard stream");
    }
    s.position = position;
    MEMLOG_FUZZ_CHECK(s.stream.position() == s.position,
                      "shard stream position %lld, model %lld",
                      static_cast<long long>(s.stream.position()),
                      static_cast<long long>(s.position));
  }

  void Hold(const sharded::RecordView& view, const ModelRecord& record) {
    if (held_.size() >= 16) held_.pop_front();
    held_.push_back({view, record});
  }

  void CheckHeldViews() const {
    for (const HeldView& h : held_) {
      CheckKeyedRecord(h.view, h.record, "held view");
    }
  }

  FuzzInput& in_;
  const bool trace_ = std::getenv("MEMLOG_FUZZ_TRACE") != nullptr;
  sharded::Options options_;
  std::unique_ptr<sharded::Log> log_;
  std::optional<ShardedModel> model_;
  std::deque<KeyStream> key_streams_;
  std::deque<ShardStreamUnderTest> shard_streams_;
  std::deque<HeldView> held_;
  int64_t serial_ = 0;
  // The driven clock's time, and the stepping clocks of the library and of
  // the model (null unless the log uses one).
  std::shared_ptr<absl::Time> now_ =
      std::make_shared<absl::Time>(absl::FromUnixNanos(kClockStartNanos));
  std::shared_ptr<SteppingClock> library_clock_;
  std::shared_ptr<SteppingClock> model_clock_;
  // The lag reports of each shard's streams (its counters count them).
  std::map<size_t, Lags> lags_;
};

}  // namespace
}  // namespace memlog::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  memlog::fuzz::FuzzInput in(data, size);
  memlog::fuzz::Harness harness(in);
  harness.Run();
  return 0;
}
