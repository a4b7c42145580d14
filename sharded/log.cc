// Copyright memlog authors.

#include "sharded/log.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "memlog/internal/errors.h"
#include "memlog/internal/shard_writes.h"
#include "memlog/replica.h"
#include "memlog/status.h"
#include "sharded/internal/codec.h"
#include "sharded/internal/shard.h"
#include "sharded/replica.h"
#include "xxhash.h"

namespace memlog::sharded {
namespace {

using ::memlog::internal::CallbackFailedError;
using ::memlog::internal::OutOfMemoryError;
using internal::QuoteKey;
using internal::RecordAccess;
using internal::Shard;
using ::memlog::internal::ShardWrites;

// Record batches are located in chunks of this many offsets, each under one
// short hold of the shard's lock, with the records read outside it.
constexpr size_t kChunk = 64;

absl::Status CheckKey(std::string_view key) {
  if (key.empty()) {
    return MakeError(ErrorKind::kInvalidKey,
                     "key is empty; a key has at least 1 byte");
  }
  if (key.size() > kMaxKeyBytes) {
    return MakeError(ErrorKind::kInvalidKey,
                     absl::StrCat("key of ", key.size(),
                                  " bytes is longer than kMaxKeyBytes (",
                                  kMaxKeyBytes, ")"));
  }
  return absl::OkStatus();
}

// The status of a batch whose record `index` failed with `status`, saying
// so. Keeps the status's kind, or its code for a sharder's own error.
absl::Status FailedInBatch(const absl::Status& status, size_t index) {
  std::string message =
      absl::StrCat("record ", index, " of the batch: ", status.message(),
                   "; no record of the batch was written");
  if (const std::optional<ErrorKind> kind = GetErrorKind(status)) {
    return MakeError(*kind, message);
  }
  return absl::Status(status.code(), message);
}

absl::Status NoSuchShard(size_t shard, size_t num_shards) {
  return MakeError(
      ErrorKind::kInvalidShard,
      absl::StrCat("shard ", shard, " does not exist; shards are 0..",
                   num_shards - 1));
}

// Where a replica write lands (sharded/replica.h).
struct ReplicaAt {
  size_t shard;
  Offset offset;
  absl::Time created;
};

// Writes one record of `key` (filed in the key index under `hash`) to
// `shard`'s log and key index. Sets `*wake` if the log's streams must be
// woken once the lock is released.
absl::StatusOr<Offset> WriteToShard(Shard& shard, std::string_view key,
                                    uint64_t hash, std::string_view data,
                                    const ReplicaAt* replica, bool* wake)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu) {
  // The key and the data are copied once, straight into the segment.
  const internal::KeyPrefix prefix = internal::EncodeKeyPrefix(key.size());
  const memlog::internal::RecordPieces stored =
      internal::StoredPieces(prefix, key, data);
  // The index's and the segment's lines load together, not one after the
  // other.
  shard.index.PrefetchEntry(hash);
  ShardWrites::PrefetchNextRecord(shard.log, stored.size());
  internal::KeyIndex::Entry* entry;
  try {
    entry = shard.index.Reserve(key, hash);
  } catch (const std::bad_alloc&) {
    return OutOfMemoryError("the key index entry of a record");
  }
  memlog::Log& log = shard.log;
  memlog::internal::ReplicaPosition position;
  if (replica != nullptr) {
    position = ShardWrites::Position(replica->offset, replica->created);
  }
  bool woken = false;
  absl::StatusOr<Offset> offset;
  try {
    offset = ShardWrites::AppendLocked(
        log, stored, replica != nullptr ? &position : nullptr, &woken);
  } catch (const std::bad_alloc&) {
    // Only a failure's status throws: nothing was appended.
    shard.index.CancelReserve(entry);
    shard.index.FollowPurge(ShardWrites::EarliestRetained(log));
    throw;
  }
  *wake |= woken;
  if (offset.ok()) {
    shard.index.Add(entry, *offset);
  } else {
    shard.index.CancelReserve(entry);
  }
  // A write purges by count, bytes or age, and may purge even when it fails
  // (a rotation that then ran out of memory): the index follows the log.
  shard.index.FollowPurge(ShardWrites::EarliestRetained(log));
  return offset;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Log>> Log::Create(Options options) try {
  if (options.num_shards < kMinNumShards ||
      options.num_shards > kMaxNumShards) {
    return MakeError(ErrorKind::kInvalidOptions,
                     absl::StrCat("Options::num_shards is ", options.num_shards,
                                  "; valid range is [", kMinNumShards, ", ",
                                  kMaxNumShards, "]"));
  }
  if (absl::Status status = ValidateOptions(options.shard); !status.ok()) {
    return status;
  }
  memlog::Options shard_options = options.shard;
  if (options.max_total_bytes.has_value()) {
    const int64_t shares = 2 * static_cast<int64_t>(options.num_shards);
    const int64_t least = shares * kMinSegmentBytes;
    if (options.shard.max_segment_bytes.has_value()) {
      return MakeError(ErrorKind::kInvalidOptions,
                       "Options::max_total_bytes and "
                       "Options::shard.max_segment_bytes are both set; set "
                       "one of them");
    }
    if (*options.max_total_bytes < least ||
        *options.max_total_bytes / shares > kMaxSegmentBytes) {
      return MakeError(
          ErrorKind::kInvalidOptions,
          absl::StrCat("Options::max_total_bytes is ",
                       *options.max_total_bytes, "; valid range for ",
                       options.num_shards, " shards is [", least, ", ",
                       kMaxSegmentBytes * shares, "]"));
    }
    shard_options.max_segment_bytes = *options.max_total_bytes / shares;
  }
  // A shard stores the key with the payload; make room for the longest key,
  // within what a memlog::Log accepts (Write() checks the rare rest).
  shard_options.max_record_bytes = std::min<int64_t>(
      kMaxRecordBytesLimit, options.shard.max_record_bytes +
                                int64_t{kMaxKeyBytes} +
                                int64_t{internal::kMaxLengthPrefixBytes});
  if (options.sharder == nullptr) {
    options.sharder = std::make_shared<HashSharder>();
  }
  absl::Status valid;
  try {
    valid = options.sharder->Validate(options.num_shards);
  } catch (const std::bad_alloc&) {
    throw;
  } catch (...) {
    return CallbackFailedError("Sharder::Validate");
  }
  if (!valid.ok()) return valid;
  absl::StatusOr<std::unique_ptr<memlog::Log>> empty =
      memlog::Log::Create(shard_options);
  if (!empty.ok()) return empty.status();
  return std::unique_ptr<Log>(
      new Log(std::move(options), std::move(shard_options), *std::move(empty)));
} catch (const std::bad_alloc&) {
  return OutOfMemoryError("a sharded log");
}

Log::Log(Options options, memlog::Options shard_options,
         std::unique_ptr<const memlog::Log> empty_shard)
    : options_(std::move(options)),
      num_shards_(options_.num_shards),
      hash_sharder_(dynamic_cast<const HashSharder*>(options_.sharder.get()) !=
                    nullptr),
      shard_options_(std::move(shard_options)),
      empty_shard_(std::move(empty_shard)),
      arena_(std::make_shared<memlog::internal::HugePageArena>()),
      shards_(new std::atomic<Shard*>[num_shards_]()) {}

Log::~Log() {
  for (size_t i = 0; i < num_shards_; ++i) {
    Shard::Destroy(shards_[i].load(std::memory_order_relaxed), *arena_);
  }
}

absl::StatusOr<size_t> Log::Route(std::string_view key) const {
  if (absl::Status status = CheckKey(key); !status.ok()) return status;
  if (hash_sharder_) {
    return HashSharder::Reduce(XXH3_64bits(key.data(), key.size()), key,
                               num_shards_);
  }
  absl::StatusOr<size_t> shard;
  try {
    shard = options_.sharder->ShardFor(key, num_shards_);
  } catch (const std::bad_alloc&) {
    throw;  // the caller's OutOfMemoryError()
  } catch (...) {
    return CallbackFailedError("Sharder::ShardFor");
  }
  if (!shard.ok()) return shard.status();
  if (*shard >= num_shards_) {
    return MakeError(
        ErrorKind::kBadSharder,
        absl::StrCat("the sharder returned shard ", *shard, " for key ",
                     QuoteKey(key), "; shards are 0..", num_shards_ - 1));
  }
  return shard;
}

absl::StatusOr<Log::Routed> Log::RouteForWrite(std::string_view key) const {
  if (hash_sharder_) {
    // One hash picks the shard and files the key in its index.
    const uint64_t hash = XXH3_64bits(key.data(), key.size());
    return Routed{HashSharder::Reduce(hash, key, num_shards_), hash};
  }
  absl::StatusOr<size_t> shard = Route(key);
  if (!shard.ok()) return shard.status();
  return Routed{*shard, internal::KeyIndex::Hash(key)};
}

Shard* Log::ShardIfMade(size_t shard) const {
  return shards_[shard].load(std::memory_order_acquire);
}

Shard* Log::GetOrMakeShard(size_t shard) const {
  Shard* made = shards_[shard].load(std::memory_order_acquire);
  if (made != nullptr) return made;
  // Create() validated the options (it made empty_shard_ with them).
  Shard* const fresh = Shard::Make(shard_options_, arena_);
  if (fresh == nullptr) return nullptr;
  if (!shards_[shard].compare_exchange_strong(made, fresh,
                                              std::memory_order_seq_cst,
                                              std::memory_order_acquire)) {
    Shard::Destroy(fresh, *arena_);
  } else {
    made = fresh;
    // Close() stores closed_ before it scans the shards, and this loads it
    // after installing the shard (both sequentially consistent): either the
    // scan finds this shard or this sees the flag, so no shard stays open
    // after Close().
    if (closed_.load(std::memory_order_seq_cst)) made->log.Close();
  }
  return made;
}

const memlog::Log& Log::LogOrEmpty(size_t shard) const {
  const Shard* made = ShardIfMade(shard);
  return made != nullptr ? made->log : *empty_shard_;
}

absl::Status Log::CheckRecord(std::string_view key,
                              std::string_view data) const {
  if (absl::Status status = CheckKey(key); !status.ok()) return status;
  if (absl::Status status =
          ValidateRecordData(data, options_.shard.max_record_bytes);
      !status.ok()) {
    return status;
  }
  if (static_cast<int64_t>(internal::EncodedSize(key, data)) >
      shard_options_.max_record_bytes) {
    return MakeError(
        ErrorKind::kRecordTooLarge,
        absl::StrCat("record of ", data.size(), " bytes with a key of ",
                     key.size(), " bytes is stored in ",
                     internal::EncodedSize(key, data),
                     " bytes, more than a shard holds per record (",
                     shard_options_.max_record_bytes, ")"));
  }
  return absl::OkStatus();
}

inline absl::Status Log::CheckRecordFast(std::string_view key,
                                         std::string_view data) const {
  // The common case without building a status; CheckRecord() says what is
  // wrong otherwise.
  if (!key.empty() && key.size() <= kMaxKeyBytes && !data.empty() &&
      static_cast<int64_t>(data.size()) <= options_.shard.max_record_bytes &&
      static_cast<int64_t>(data.size() + key.size() +
                           internal::kMaxLengthPrefixBytes) <=
          shard_options_.max_record_bytes) {
    return absl::OkStatus();
  }
  return CheckRecord(key, data);
}

template <typename Written>
absl::Status Log::WriteRun(Shard& shard, std::string_view key, uint64_t hash,
                           absl::Span<const std::string_view> data,
                           Written written) {
  absl::Status failed;
  bool wake = false;
  // On 1000 shards these lines are cold: their misses overlap the lock's.
  ShardWrites::PrefetchBeforeLock(shard.log);
  __builtin_prefetch(&shard.index);
  {
    memlog::internal::MutexLock lock(&shard.mu);
    // Under the lock nothing else writes the shard: the run's offsets are
    // consecutive.
    for (const std::string_view record : data) {
      absl::StatusOr<Offset> offset =
          WriteToShard(shard, key, hash, record, nullptr, &wake);
      if (!offset.ok()) {
        failed = offset.status();
        break;
      }
      written(*offset);
    }
  }
  // Once the lock is released: streams sleep on the log's futex word, and
  // NotifyWhenWritten() handlers run no user code under a writer's lock.
  if (wake) ShardWrites::Wake(shard.log);
  ShardWrites::Notify(shard.log);
  return failed;
}

absl::StatusOr<Offset> Log::Write(std::string_view key,
                                  std::string_view data) try {
  if (absl::Status status = CheckRecordFast(key, data); !status.ok()) {
    return status;
  }
  absl::StatusOr<Routed> routed = RouteForWrite(key);
  if (!routed.ok()) return routed.status();
  if (closed()) {
    return MakeError(ErrorKind::kClosed, "log is closed; writes are refused");
  }
  Shard* shard = GetOrMakeShard(routed->shard);
  if (shard == nullptr) return OutOfMemoryError("a new shard");
  Offset offset = kInvalidOffset;
  absl::Status failed =
      WriteRun(*shard, key, routed->hash, absl::MakeConstSpan(&data, 1),
               [&offset](Offset written) { offset = written; });
  if (!failed.ok()) return failed;
  return offset;
} catch (const std::bad_alloc&) {
  return OutOfMemoryError("a record of a sharded log");
}

absl::StatusOr<Offset> Log::Append(std::string_view key, std::string_view data,
                                   const ReplicaPosition* replica) try {
  if (absl::Status status = CheckRecord(key, data); !status.ok()) {
    return status;
  }
  absl::StatusOr<Routed> routed = RouteForWrite(key);
  if (!routed.ok()) return routed.status();
  if (replica->shard != routed->shard) {
    return memlog::internal::ReplicaRefusedError(absl::StrCat(
        "replica write of key ", QuoteKey(key), " to shard ", replica->shard,
        " refused: the key belongs to shard ", routed->shard));
  }
  if (closed()) {
    return MakeError(ErrorKind::kClosed, "log is closed; writes are refused");
  }
  Shard* shard = GetOrMakeShard(routed->shard);
  if (shard == nullptr) return OutOfMemoryError("a new shard");
  const ReplicaAt at{replica->shard, replica->offset, replica->created};
  absl::StatusOr<Offset> offset;
  bool wake = false;
  {
    memlog::internal::MutexLock lock(&shard->mu);
    offset = WriteToShard(*shard, key, routed->hash, data, &at, &wake);
  }
  if (wake) ShardWrites::Wake(shard->log);
  if (offset.ok()) ShardWrites::Notify(shard->log);
  return offset;
} catch (const std::bad_alloc&) {
  return OutOfMemoryError("a record of a sharded log");
}

WriteBatchResult Log::WriteBatch(
    std::string_view key, absl::Span<const std::string_view> records) try {
  WriteBatchResult result;
  for (size_t i = 0; i < records.size(); ++i) {
    if (absl::Status status = CheckRecordFast(key, records[i]); !status.ok()) {
      result.status = FailedInBatch(status, i);
      return result;
    }
  }
  if (records.empty()) return result;
  absl::StatusOr<Routed> routed = RouteForWrite(key);
  if (!routed.ok()) {
    result.status = routed.status();
    return result;
  }
  if (closed()) {
    result.status =
        MakeError(ErrorKind::kClosed, "log is closed; writes are refused");
    return result;
  }
  Shard* shard = GetOrMakeShard(routed->shard);
  if (shard == nullptr) {
    result.status = OutOfMemoryError("a new shard");
    return result;
  }
  result.status =
      WriteRun(*shard, key, routed->hash, records, [&result](Offset offset) {
        if (result.count == 0) result.first = offset;
        ++result.count;
      });
  return result;
} catch (const std::bad_alloc&) {
  WriteBatchResult failed;
  failed.status = OutOfMemoryError("a batch write");
  return failed;
}

absl::Status Log::WriteBatch(absl::Span<const KeyedRecord> records,
                             absl::Span<Offset> offsets) try {
  if (offsets.size() != records.size()) {
    return MakeError(ErrorKind::kInvalidOptions,
                     absl::StrCat("WriteBatch got ", records.size(),
                                  " records but room for ", offsets.size(),
                                  " offsets; give one offset per record"));
  }
  for (Offset& offset : offsets) offset = kInvalidOffset;
  std::vector<Routed> routes(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    if (absl::Status status =
            CheckRecordFast(records[i].key, records[i].data);
        !status.ok()) {
      return FailedInBatch(status, i);
    }
    absl::StatusOr<Routed> routed = RouteForWrite(records[i].key);
    if (!routed.ok()) return FailedInBatch(routed.status(), i);
    routes[i] = *routed;
  }
  if (closed()) {
    return MakeError(ErrorKind::kClosed, "log is closed; writes are refused");
  }
  // Shard by shard, in order of first appearance, each under one hold of its
  // lock; a key's records all go to its shard, so their order is kept.
  std::vector<bool> done(records.size(), false);
  for (size_t first = 0; first < records.size(); ++first) {
    if (done[first]) continue;
    const size_t index = routes[first].shard;
    Shard* shard = GetOrMakeShard(index);
    if (shard == nullptr) return OutOfMemoryError("a new shard");
    absl::Status failed;
    bool wake = false;
    {
      memlog::internal::MutexLock lock(&shard->mu);
      for (size_t i = first; i < records.size(); ++i) {
        if (done[i] || routes[i].shard != index) continue;
        done[i] = true;
        absl::StatusOr<Offset> offset =
            WriteToShard(*shard, records[i].key, routes[i].hash,
                         records[i].data, nullptr, &wake);
        if (!offset.ok()) {
          failed = offset.status();
          break;
        }
        offsets[i] = *offset;
      }
    }
    if (wake) ShardWrites::Wake(shard->log);
    ShardWrites::Notify(shard->log);
    if (!failed.ok()) return failed;
  }
  return absl::OkStatus();
} catch (const std::bad_alloc&) {
  return OutOfMemoryError("a batch write");
}

absl::StatusOr<RecordView> Log::ReadKeyView(std::string_view key,
                                            Offset offset) const {
  absl::StatusOr<size_t> index = Route(key);
  if (!index.ok()) return index.status();
  absl::StatusOr<memlog::RecordView> stored =
      LogOrEmpty(*index).ReadView(offset);
  if (!stored.ok()) return stored.status();
  absl::StatusOr<RecordView> view = RecordAccess::Decode(*std::move(stored));
  if (!view.ok()) return view.status();
  if (view->key() != key) {
    return MakeError(ErrorKind::kKeyNotFound,
                     absl::StrCat("offset ", offset, " of shard ", *index,
                                  " holds no record of key ", QuoteKey(key)));
  }
  return view;
}

absl::StatusOr<RecordView> Log::ReadView(std::string_view key,
                                         Offset offset) const try {
  return ReadKeyView(key, offset);
} catch (const std::bad_alloc&) {
  return OutOfMemoryError("the read's status");
}

absl::StatusOr<Record> Log::Read(std::string_view key, Offset offset) const try {
  absl::StatusOr<RecordView> view = ReadKeyView(key, offset);
  if (!view.ok()) return view.status();
  return view->ToRecord();
} catch (const std::bad_alloc&) {
  return OutOfMemoryError("a copy of a record");
}

template <typename Entry, typename MakeEntry>
ReadResult Log::ReadBatchInto(std::string_view key, Offset start,
                              absl::Span<Entry> batch,
                              MakeEntry make_entry) const {
  ReadResult result;
  try {
    ReadBatchOfKey(key, start, batch, make_entry, result);
  } catch (const std::bad_alloc&) {
    result.status = OutOfMemoryError("a batch read");
  }
  return result;
}

template <typename Entry, typename MakeEntry>
void Log::ReadBatchOfKey(std::string_view key, Offset start,
                         absl::Span<Entry> batch, MakeEntry make_entry,
                         ReadResult& result) const {
  absl::StatusOr<size_t> index = Route(key);
  if (!index.ok()) {
    result.status = index.status();
    return;
  }
  const Shard* shard = ShardIfMade(*index);
  if (batch.empty()) return;
  if (shard == nullptr) {
    // An unused shard holds nothing: its empty stand-in says whether
    // `start` could ever hold a record.
    result.status = empty_shard_->ReadView(start).status();
    if (IsFutureOffset(result.status)) {
      result.status = MakeError(
          ErrorKind::kFutureOffset,
          absl::StrCat("key ", QuoteKey(key), " has no record at offset ",
                       start, " or after yet; the key has no retained record"));
    }
    return;
  }
  const memlog::Log& log = shard->log;
  Offset cursor = start;
  Offset offsets[kChunk];
  const auto size = static_cast<int64_t>(batch.size());
  while (result.count < size) {
    size_t found = 0;
    std::string missing;
    {
      memlog::internal::MutexLock lock(&shard->mu);
      // Under the lock the shard's range is stable (only writes and trims,
      // which hold it, purge) and the index covers exactly its retained
      // records; with none retained, every written offset is purged.
      if (cursor < options_.shard.start_offset || cursor > kMaxOffset ||
          cursor < ShardWrites::EarliestRetained(log)) {
        // The key's records at offsets from `cursor` may be gone; the log's
        // own status says which offsets are left.
        result.status = log.ReadView(cursor).status();
        return;
      }
      const size_t wanted =
          std::min(kChunk, static_cast<size_t>(size - result.count));
      found =
          shard->index.Collect(key, cursor, absl::MakeSpan(offsets, wanted));
      if (found == 0) {
        const Offset latest = shard->index.Range(key).latest;
        missing = latest == kInvalidOffset
                      ? std::string("; the key has no retained record")
                      : absl::StrCat("; the key's latest record is at offset ",
                                     latest);
      }
    }
    if (found == 0) {
      result.status = MakeError(
          ErrorKind::kFutureOffset,
          absl::StrCat("key ", QuoteKey(key), " has no record at offset ",
                       cursor, " or after yet", missing));
      return;
    }
    for (size_t i = 0; i < found; ++i) {
      absl::StatusOr<memlog::RecordView> stored = log.ReadView(offsets[i]);
      if (!stored.ok()) {  // purged since the lookup
        result.status = stored.status();
        return;
      }
      absl::StatusOr<RecordView> view =
          RecordAccess::Decode(*std::move(stored));
      if (!view.ok()) {
        result.status = view.status();
        return;
      }
      // A copy that throws leaves the entry as it was and the count short.
      batch[static_cast<size_t>(result.count)] = make_entry(*std::move(view));
      ++result.count;
    }
    cursor = offsets[found - 1] + 1;
  }
}

ReadResult Log::ReadBatch(std::string_view key, Offset start,
                          absl::Span<Record> batch) const {
  return ReadBatchInto(key, start, batch,
                       [](RecordView view) { return view.ToRecord(); });
}

ReadResult Log::ReadBatchView(std::string_view key, Offset start,
                              absl::Span<RecordView> batch) const {
  ReadResult result =
      ReadBatchInto(key, start, batch, [](RecordView view) { return view; });
  // Views left from an earlier read of a reused batch would keep their
  // segments (and memory) alive for no reader.
  for (size_t i = static_cast<size_t>(result.count); i < batch.size(); ++i) {
    batch[i] = RecordView();
  }
  return result;
}

absl::StatusOr<OffsetRange> Log::Range(std::string_view key) const try {
  absl::StatusOr<size_t> index = Route(key);
  if (!index.ok()) return index.status();
  const Shard* shard = ShardIfMade(*index);
  if (shard == nullptr) return OffsetRange{};
  memlog::internal::MutexLock lock(&shard->mu);
  return shard->index.Range(key);
} catch (const std::bad_alloc&) {
  return OutOfMemoryError("the range's status");
}

absl::StatusOr<Stream> Log::StreamFrom(std::string_view key, Offset start,
                                       std::stop_token stop) const try {
  absl::StatusOr<size_t> index = Route(key);
  if (!index.ok()) return index.status();
  if (start < options_.shard.start_offset || start > kMaxOffset) {
    return empty_shard_->StreamFrom(start).status();
  }
  Shard* shard = GetOrMakeShard(*index);
  if (shard == nullptr) return OutOfMemoryError("a new shard");
  return Stream(shard, &shard->log, std::string(key), start,
                std::move(stop));
} catch (const std::bad_alloc&) {
  return OutOfMemoryError("a stream");
}

absl::StatusOr<size_t> Log::ShardFor(std::string_view key) const try {
  return Route(key);
} catch (const std::bad_alloc&) {
  return OutOfMemoryError("the routing's status");
}

absl::StatusOr<OffsetRange> Log::ShardRange(size_t shard) const try {
  if (shard >= num_shards_) return NoSuchShard(shard, num_shards_);
  return LogOrEmpty(shard).Range();
} catch (const std::bad_alloc&) {
  return OutOfMemoryError("the range's status");
}

absl::StatusOr<RecordView> Log::ReadShard(size_t shard,
                                          Offset offset) const try {
  if (shard >= num_shards_) return NoSuchShard(shard, num_shards_);
  absl::StatusOr<memlog::RecordView> stored =
      LogOrEmpty(shard).ReadView(offset);
  if (!stored.ok()) return stored.status();
  return RecordAccess::Decode(*std::move(stored));
} catch (const std::bad_alloc&) {
  return OutOfMemoryError("the read's status");
}

absl::StatusOr<ShardStream> Log::ShardStreamFrom(size_t shard, Offset start,
                                                 std::stop_token stop) const
    try {
  if (shard >= num_shards_) return NoSuchShard(shard, num_shards_);
  if (start < options_.shard.start_offset || start > kMaxOffset) {
    return empty_shard_->StreamFrom(start).status();
  }
  Shard* made = GetOrMakeShard(shard);
  if (made == nullptr) return OutOfMemoryError("a new shard");
  absl::StatusOr<memlog::Stream> stream =
      made->log.StreamFrom(start, std::move(stop));
  if (!stream.ok()) return stream.status();
  return ShardStream(*std::move(stream), shard);
} catch (const std::bad_alloc&) {
  return OutOfMemoryError("a stream");
}

void Log::Close() {
  closed_.store(true, std::memory_order_seq_cst);
  for (size_t i = 0; i < num_shards_; ++i) {
    if (Shard* shard = shards_[i].load(std::memory_order_seq_cst)) {
      shard->log.Close();
    }
  }
}

MemoryUsage Log::memory_usage() const {
  MemoryUsage total;
  for (size_t i = 0; i < num_shards_; ++i) {
    const Shard* shard = ShardIfMade(i);
    if (shard == nullptr) continue;
    const MemoryUsage usage = shard->log.memory_usage();
    total.records += usage.records;
    total.payload_bytes += usage.payload_bytes;
    total.allocated_bytes += usage.allocated_bytes;
    total.payload_storage_bytes += usage.payload_storage_bytes;
    total.segments += usage.segments;
  }
  return total;
}

absl::StatusOr<OffsetAtTime> Log::OffsetAt(std::string_view key,
                                           absl::Time t) const try {
  absl::StatusOr<size_t> index = Route(key);
  if (!index.ok()) return index.status();
  const int64_t target = absl::ToUnixNanos(t);
  const Shard* shard = ShardIfMade(*index);
  if (shard != nullptr) {
    // The key's retained offsets, located under the lock; their records'
    // times read outside it (a record purged meanwhile counts as older).
    std::vector<Offset> offsets;
    Offset shard_earliest;
    {
      memlog::internal::MutexLock lock(&shard->mu);
      shard_earliest = ShardWrites::EarliestRetained(shard->log);
      const OffsetRange range = shard->index.Range(key);
      if (range.earliest != kInvalidOffset) {
        Offset buffer[kChunk];
        Offset from = range.earliest;
        for (;;) {
          const size_t found =
              shard->index.Collect(key, from, absl::MakeSpan(buffer, kChunk));
          offsets.insert(offsets.end(), buffer, buffer + found);
          if (found < kChunk) break;
          from = buffer[found - 1] + 1;
        }
      }
    }
    size_t low = 0;
    size_t high = offsets.size();
    while (low < high) {
      const size_t mid = low + (high - low) / 2;
      absl::StatusOr<memlog::RecordView> record =
          shard->log.ReadView(offsets[mid]);
      if (!record.ok() || absl::ToUnixNanos(record->created()) < target) {
        low = mid + 1;
      } else {
        high = mid;
      }
    }
    if (low < offsets.size()) {
      const bool purged_any = shard_earliest > options_.shard.start_offset;
      return OffsetAtTime{offsets[low], purged_any && low == 0};
    }
  }
  return MakeError(
      ErrorKind::kFutureOffset,
      absl::StrCat("no retained record of key ", QuoteKey(key),
                   " was created at or after ", absl::FormatTime(t),
                   "; the shard's records written from now on start at "
                   "offset ",
                   LogOrEmpty(*index).NextOffset()));
} catch (const std::bad_alloc&) {
  return OutOfMemoryError("the seek's offsets");
}

absl::StatusOr<OffsetAtTime> Log::ShardOffsetAt(size_t shard,
                                                absl::Time t) const try {
  if (shard >= num_shards_) return NoSuchShard(shard, num_shards_);
  return LogOrEmpty(shard).OffsetAt(t);
} catch (const std::bad_alloc&) {
  return OutOfMemoryError("the seek's status");
}

absl::Status Log::Trim() try {
  absl::Status first_failure;
  for (size_t i = 0; i < num_shards_; ++i) {
    Shard* shard = ShardIfMade(i);
    if (shard == nullptr) continue;
    memlog::internal::MutexLock lock(&shard->mu);
    absl::Status trimmed = ShardWrites::TrimLocked(shard->log);
    shard->index.FollowPurge(ShardWrites::EarliestRetained(shard->log));
    if (!trimmed.ok() && first_failure.ok()) first_failure = trimmed;
  }
  return first_failure;
} catch (const std::bad_alloc&) {
  return OutOfMemoryError("the trim's status");
}

LogStats Log::stats() const {
  LogStats total;
  for (size_t i = 0; i < num_shards_; ++i) {
    if (const Shard* shard = ShardIfMade(i)) total += shard->log.stats();
  }
  return total;
}

absl::StatusOr<LogStats> Log::ShardStats(size_t shard) const try {
  if (shard >= num_shards_) return NoSuchShard(shard, num_shards_);
  const Shard* made = ShardIfMade(shard);
  return made != nullptr ? made->log.stats() : LogStats{};
} catch (const std::bad_alloc&) {
  return OutOfMemoryError("the stats' status");
}

absl::StatusOr<Offset> ShardReplicaWriter::Append(
    Log& log, size_t shard, std::string_view key, Offset offset,
    absl::Time created, std::string_view data) {
  if (shard >= log.num_shards()) return NoSuchShard(shard, log.num_shards());
  const Log::ReplicaPosition position{shard, offset, created};
  return log.Append(key, data, &position);
}

}  // namespace memlog::sharded
