// Copyright memlog authors.
//
// Model-based fuzzing of memlog::sharded::Log: the input is decoded into a
// program of operations (create with random options and sharder, write,
// read, batch read, per-key range, shard introspection, per-key and per-shard
// stream steps, close, recreate) that runs against the library and against a
// reference made of one LogModel per shard (tests/fuzz/log_model.h) plus the
// key of every record. Any difference aborts.
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
//             log_fuzzer.cc, clock byte, sharder byte
//   then, until the input ends, one opcode byte (mod kOpCount) per operation
//   followed by that operation's argument bytes.

#include <algorithm>
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

class ShardedModel {
 public:
  ShardedModel(const sharded::Options& options, SharderKind sharder,
               bool fake_clock)
      : options_(options),
        sharder_(sharder),
        clock_(fake_clock ? std::make_shared<SteppingClock>() : nullptr) {}

  static Expected Validate(const sharded::Options& o, SharderKind sharder) {
    if (o.num_shards < sharded::kMinNumShards ||
        o.num_shards > sharded::kMaxNumShards) {
      return {ErrorKind::kInvalidOptions};
    }
    if (LogModel::Validate(o.shard).has_value()) {
      return {ErrorKind::kInvalidOptions};
    }
    // The key table names shards 0..2.
    if (sharder == SharderKind::kKeyTable && o.num_shards < 3) {
      return {ErrorKind::kInvalidOptions};
    }
    return {};
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
      // Sizes were checked by the sharded log before the shard sees them.
      const Options shard_options = {
          .start_offset = options_.shard.start_offset,
          .segment_size = options_.shard.segment_size,
          .max_record_bytes = kMaxRecordBytesLimit};
      it = shards_.emplace(shard, LogModel(shard_options, clock_, nullptr))
               .first;
      if (closed_) it->second.Close();
    }
    return it->second;
  }

  Outcome<Offset> Write(const std::string& key, const std::string& data,
                        Expected* expected) {
    *expected = {};
    if (key.empty() || key.size() > kMaxKeyBytes) {
      *expected = {ErrorKind::kInvalidKey};
      return {};
    }
    if (data.empty()) {
      *expected = {ErrorKind::kEmptyRecord};
      return {};
    }
    if (static_cast<int64_t>(data.size()) > options_.shard.max_record_bytes) {
      *expected = {ErrorKind::kRecordTooLarge};
      return {};
    }
    const Route route = RouteKey(key);
    if (!route.expected.ok()) {
      *expected = route.expected;
      return {};
    }
    if (closed_) {
      *expected = {ErrorKind::kClosed};
      return {};
    }
    Outcome<Offset> written = Shard(route.shard).Write(data, key);
    *expected = {written.error};
    if (!written.error.has_value()) {
      written_keys_[route.shard].push_back({written.value, key});
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

  void Close() {
    closed_ = true;
    for (auto& [shard, model] : shards_) model.Close();
  }

  const sharded::Options& options() const { return options_; }

 private:
  const sharded::Options& options_;
  const SharderKind sharder_;
  // The model's prediction of the stepping clock, which all shards read.
  const std::shared_ptr<SteppingClock> clock_;
  bool closed_ = false;
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
    const bool fake_clock = in_.Below(4) != 0;
    if (fake_clock) {
      options_.shard.clock = FakeClock(std::make_shared<SteppingClock>());
    }
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
    absl::StatusOr<std::unique_ptr<sharded::Log>> log =
        sharded::Log::Create(options_);
    Check(log.status(), ShardedModel::Validate(options_, sharder), "Create",
          static_cast<int64_t>(options_.num_shards));
    if (!log.ok()) return;
    log_ = *std::move(log);
    MEMLOG_FUZZ_CHECK(log_->num_shards() == options_.num_shards,
                      "num_shards %zu", log_->num_shards());
    model_.emplace(options_, sharder, fake_clock);
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
        const std::string data =
            MakeData(PickDataSize(in_, options_.shard.max_record_bytes),
                     serial_++, in_.Byte());
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
        MEMLOG_FUZZ_CHECK(usage.records == model.retained_records(),
                          "memory_usage: %lld records, model %lld",
                          static_cast<long long>(usage.records),
                          static_cast<long long>(model.retained_records()));
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
      default:
        break;
    }
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
};

}  // namespace
}  // namespace memlog::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  memlog::fuzz::FuzzInput in(data, size);
  memlog::fuzz::Harness harness(in);
  harness.Run();
  return 0;
}
