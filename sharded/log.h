// Copyright memlog authors.
//
// memlog::sharded::Log: a log partitioned by key. Each record is written under
// a key; a sharder routes the key to one of N shards, each a memlog::Log, so a
// key's records keep their order and writes of keys on different shards run
// in parallel. A read by key only ever returns that key's records, even when
// several keys share a shard.
//
//   auto log = memlog::sharded::Log::Create();  // 1000 shards, hash sharder
//   if (!log.ok()) return log.status();
//   (*log)->Write("users", "tom");
//   (*log)->Write("groups", "friends");
//   std::vector<memlog::sharded::Record> users(10);
//   memlog::ReadResult read =
//       (*log)->ReadBatch("users", 0, absl::MakeSpan(users));
//   // read.count == 1, users[0].data == "tom"
//
// Offsets (the per-key offset contract): a record's offset is its offset in
// its shard's memlog::Log. Shards number their records independently, each
// from `Options::start_offset`, densely; the keys of a shard share its
// offsets. So one key's records have strictly increasing offsets, in write
// order, but not consecutive ones: where another key of the same shard wrote
// in between there is a gap, as in a Kafka partition shared by several keys.
// Two records of different shards may have the same offset; an offset means
// something only together with the key (or the shard). To walk a key's
// records use ReadBatch(), Range() or a Stream rather than offset + 1.
// Read(key, offset) of an offset that holds another key's record fails with
// kNotFound (`memlog::IsKeyNotFound`) and says nothing about that record.
//
// Retention: each shard purges on its own, exactly like a memlog::Log with
// the same `segment_size` (see memlog/log.h): the write that finds a shard's
// active segment full starts a new one and purges that shard's history, with
// the records of every key in it. Other shards are not affected.
//
// Memory: an unused shard costs one pointer; a shard is made on its first
// write (or stream), and its memlog::Log allocates record storage only as
// records arrive. A default log of 1000 shards takes about 9 KB before any
// write. Each shard keeps an index of its keys' offsets (8 bytes per record,
// up to 16 while a key's list has room to grow, plus about 100 bytes and the
// key per key) that is purged with the records.
//
// Thread-safety: a Log has internal synchronization and every method may be
// called concurrently from any number of threads. Writes to one shard are
// serialized by that shard's lock (one lock per write: the shard's log and
// key index share it); writes to different shards do not contend, and
// nothing global is locked per call. Reads by offset take no lock; reads by
// key (ReadBatch, Range, streams) take the key's shard lock briefly, a
// per-key stream once per 16 records when it reads them one at a time.
//
// Memory ordering: once Write(key, data) returns offset N, every read of
// (key, N) from any thread sees the complete record, and every per-key read
// (ReadBatch, Range, streams) started afterwards includes it.
//
// Errors: every failure is a status value; the predicates in memlog/status.h
// tell the kinds apart.

#ifndef MEMLOG_SHARDED_LOG_H_
#define MEMLOG_SHARDED_LOG_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "memlog/log.h"
#include "sharded/record.h"
#include "sharded/sharder.h"
#include "sharded/stream.h"

namespace memlog::sharded {

inline constexpr size_t kDefaultNumShards = 1000;
inline constexpr size_t kMinNumShards = 2;
// Shards cost a little memory each even when idle; this bound keeps an
// accidental huge count from allocating gigabytes.
inline constexpr size_t kMaxNumShards = size_t{1} << 20;

// How a sharded log is sized. An aggregate, meant for designated initialisers:
//
//   auto log = memlog::sharded::Log::Create(
//       {.num_shards = 16, .shard = {.segment_size = 100}});
//
// `Log::Create` validates every field and rejects a bad one with
// kInvalidArgument (`memlog::IsInvalidOptions`) and a message that names the
// field and its valid range.
struct Options {
  // The number of shards. Valid: [kMinNumShards, kMaxNumShards] (2 to
  // 1048576); a single shard would be a plain memlog::Log.
  size_t num_shards = kDefaultNumShards;

  // The options of every shard, each a memlog::Log, with the meaning and
  // valid ranges of memlog/options.h: each shard's first offset, records per
  // segment, largest record and clock. `shard.max_record_bytes` counts the
  // record's data only, not its key (which may add up to kMaxKeyBytes).
  memlog::Options shard = {};

  // A bound on the payload storage of all shards together; off (nullopt) by
  // default. Each shard gets an equal share: its `max_segment_bytes` is
  // max_total_bytes / (2 * num_shards), so that however the keys spread
  // (one key taking 90% of the writes, say), the log's payload storage
  // (memory_usage().payload_storage_bytes, keys included) stays at most
  // max_total_bytes, plus a segment's lone record larger than its share.
  // The price of the guarantee under skew: a busy shard retains only its
  // share, so a hot key keeps less history than a cold one. Valid: at
  // least 2 * num_shards * kMinSegmentBytes, and only without
  // `shard.max_segment_bytes`.
  std::optional<int64_t> max_total_bytes = std::nullopt;

  // Routes keys to shards; null means a HashSharder. Must be thread-safe (see
  // sharded/sharder.h); Create() calls its Validate() with `num_shards`.
  std::shared_ptr<const Sharder> sharder = nullptr;
};

class Log {
 public:
  // Creates an empty sharded log. Shards allocate their storage on first
  // use. Fails with kInvalidArgument (IsInvalidOptions) naming the bad field
  // and its valid range, or with the status of `options.sharder->Validate()`
  // (for a KeySharder: more keys than shards, or a shard out of range).
  static absl::StatusOr<std::unique_ptr<Log>> Create(Options options = {});

  // REQUIRES: no call on this log is in progress and no Stream or
  // ShardStream of it is used afterwards. RecordViews outlive the log safely.
  ~Log();

  // Not copyable or movable: streams refer to its shards by address.
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Appends `data` as a new record of `key` to the key's shard and returns
  // its offset there, which is larger than that of every earlier record of
  // the key. Wakes the streams of the shard. Fails, writing nothing, with:
  // - kInvalidArgument (IsInvalidKey) if `key` is empty or longer than
  //   kMaxKeyBytes;
  // - kInvalidArgument (IsEmptyRecord) if `data` is empty;
  // - kInvalidArgument (IsRecordTooLarge) if `data` is larger than
  //   `Options::max_record_bytes`;
  // - the sharder's error if it cannot route `key` (a KeySharder: kNotFound,
  //   IsKeyNotFound), or kInternal (IsBadSharder) if it returned a shard
  //   index >= num_shards();
  // - kInternal (IsCallbackFailed) if the sharder or the clock threw;
  // - kFailedPrecondition (IsClosed) after Close();
  // - kResourceExhausted (IsOffsetOverflow) once the shard wrote kMaxOffset;
  // - kResourceExhausted (IsOutOfMemory) if memory for the record, its shard
  //   or its index entry cannot be allocated. Nothing is written; as for
  //   memlog::Log::Write(), the shard may still have purged its history, and
  //   the key index follows it.
  absl::StatusOr<Offset> Write(std::string_view key, std::string_view data);

  // Appends `records` as records of `key`, in order, under one hold of the
  // key's shard lock, so that they get consecutive offsets of the shard.
  // Validates every record first, writing none and naming the first bad
  // index if any is invalid (as Write() would refuse it); otherwise fails as
  // Write() does, with the count written so far (records stored before a
  // failure stay written). An empty batch writes nothing. Each record is a
  // write of the shard's memlog::Log (its own clock reading).
  WriteBatchResult WriteBatch(std::string_view key,
                              absl::Span<const std::string_view> records);

  // Appends records of any keys: groups them by shard, writes each shard's
  // share under one hold of its lock, and keeps the order of each key's
  // records (and of all records of a shard). Stores each record's offset in
  // `offsets[i]` (kInvalidOffset for a record not written). Validates and
  // routes every record first, writing none if any fails (the status names
  // its index); fails with IsInvalidOptions if `offsets` has not one entry
  // per record. A failure while writing (IsClosed, IsOutOfMemory, ...)
  // returns its status with the records written so far in `offsets`.
  absl::Status WriteBatch(absl::Span<const KeyedRecord> records,
                          absl::Span<Offset> offsets);

  // Returns a copy of the record of `key` at `offset`. Fails with:
  // - IsInvalidKey, or the sharder's errors, as for Write();
  // - kOutOfRange (IsFutureOffset) if the key's shard has not written
  //   `offset` yet;
  // - kNotFound (IsPurgedOffset) if the shard purged `offset`;
  // - kInvalidArgument (IsImpossibleOffset) if it lies before the start offset
  //   or past kMaxOffset;
  // - kNotFound (IsKeyNotFound) if `offset` holds a record of another key;
  // - kResourceExhausted (IsOutOfMemory) if the copy cannot be allocated.
  absl::StatusOr<Record> Read(std::string_view key, Offset offset) const;

  // As Read(), without copying the key or the payload: the view points into
  // the shard's storage and stays valid while held (see RecordView).
  absl::StatusOr<RecordView> ReadView(std::string_view key,
                                      Offset offset) const;

  // Reads the records of `key` at offsets >= `start`, in order, into
  // `batch[0..]`, up to `batch.size()` of them, and returns how many it read
  // with:
  // - OK if the batch was filled (also when its last entry is the key's
  //   latest record, or when `batch` is empty);
  // - IsFutureOffset if the key's records ran out first: the count says how
  //   many were read, 0 when the key has no record at or after `start` yet;
  // - IsPurgedOffset with count 0 if the shard purged `start`: records of
  //   the key may have been lost, and Range(key).earliest is where the key's
  //   retained records begin (and, in the rare case that a concurrent purge
  //   overtakes the batch, with the count read so far);
  // - IsImpossibleOffset with count 0 if `start` lies before the start offset
  //   or past kMaxOffset, and with the count read if the key's records
  //   reached kMaxOffset, after which no record can ever follow;
  // - IsInvalidKey or the sharder's errors, with count 0, as for Write();
  // - IsOutOfMemory with the count read so far (ReadBatch only: copies).
  // Entries at `count` and beyond are left as they were by ReadBatch(), and
  // emptied by ReadBatchView().
  // Finding the records costs a lookup in the shard's key index, never a scan
  // over other keys' records.
  ReadResult ReadBatch(std::string_view key, Offset start,
                       absl::Span<Record> batch) const;

  // As ReadBatch(), filling views instead of copies.
  ReadResult ReadBatchView(std::string_view key, Offset start,
                           absl::Span<RecordView> batch) const;

  // Returns the offsets of the key's earliest and latest retained records,
  // or {kInvalidOffset, kInvalidOffset} if it has none. Fails with
  // IsInvalidKey or the sharder's errors, as Write() does.
  //
  // NOTE: once every record of a key is purged its range is empty, and the
  // log keeps nothing of the key. A consumer that remembers the last offset
  // it read resumes with ReadBatch() or StreamFrom() at that offset + 1:
  // they report the purge (IsPurgedOffset, or a lag), and the key's next
  // record, if any is written, has a larger offset.
  absl::StatusOr<OffsetRange> Range(std::string_view key) const;

  // Returns a stream of the records of `key` at offsets >= `start` (which may
  // be purged, or not written yet). Its blocking calls end with kCancelled
  // (IsWaitCancelled) once `stop` is triggered. Fails with IsInvalidKey or
  // the sharder's errors, as Write() does, with IsImpossibleOffset if `start`
  // lies before the start offset or past kMaxOffset, and with IsOutOfMemory
  // if the key's shard cannot be made.
  // REQUIRES: this log outlives the stream.
  absl::StatusOr<Stream> StreamFrom(std::string_view key, Offset start,
                                    std::stop_token stop = {}) const;

  // --- Whole shards, for consumers that want every key. ---

  size_t num_shards() const { return num_shards_; }

  // Returns the shard that holds `key`'s records. Fails with IsInvalidKey or
  // the sharder's errors, as Write() does.
  absl::StatusOr<size_t> ShardFor(std::string_view key) const;

  // Returns the earliest and latest offsets of shard `shard` (records of any
  // key), as memlog::Log::Range() does; {kInvalidOffset, kInvalidOffset} for
  // an unused shard. Fails with kInvalidArgument (IsInvalidShard) if
  // `shard` >= num_shards().
  absl::StatusOr<OffsetRange> ShardRange(size_t shard) const;

  // Returns the record at `offset` of shard `shard`, whatever its key. Fails
  // as memlog::Log::ReadView() does, and with kInvalidArgument
  // (IsInvalidShard) if `shard` >= num_shards().
  absl::StatusOr<RecordView> ReadShard(size_t shard, Offset offset) const;

  // Returns a stream of every record of shard `shard` from `start` on (see
  // ShardStream). Fails with kInvalidArgument (IsInvalidShard) if
  // `shard` >= num_shards(), as memlog::Log::StreamFrom() does for a bad
  // `start`, and with IsOutOfMemory if the shard cannot be made.
  // REQUIRES: this log outlives the stream.
  absl::StatusOr<ShardStream> ShardStreamFrom(size_t shard, Offset start,
                                              std::stop_token stop = {}) const;

  // Closes every shard: later writes fail with IsClosed, and waiting streams
  // return the records written before, then IsClosed. Reads keep working.
  // Idempotent.
  void Close();
  bool closed() const { return closed_.load(std::memory_order_acquire); }

  // The options the log was created with; `sharder` is never null (a
  // HashSharder if none was given).
  const Options& options() const { return options_; }

  // Reports the records and memory of all shards together: each shard's
  // memlog::Log::memory_usage(), summed. `payload_bytes` counts records as
  // stored, with their keys (1 to 3 bytes of length, the key, the data). The
  // key indexes are not included. Takes each used shard's writer lock in
  // turn.
  MemoryUsage memory_usage() const;
  // The payload_storage_bytes of memory_usage() count keys with the data.

  // --- Time, retention and counters (see memlog/log.h for each). ---

  // Returns the first retained offset of `key` whose record was created at
  // or after `t`, found by binary search over the key's index (O(log n)
  // reads of the shard), with `may_have_missed` set when `t` lies at or
  // before the key's earliest retained record and its shard has purged
  // records. Fails as memlog::Log::OffsetAt() does when no record of the
  // key is that recent (IsFutureOffset), and with IsInvalidKey or the
  // sharder's errors as Write() does.
  absl::StatusOr<OffsetAtTime> OffsetAt(std::string_view key,
                                        absl::Time t) const;

  // As memlog::Log::OffsetAt() on shard `shard` (records of any key); fails
  // with IsInvalidShard if `shard` >= num_shards().
  absl::StatusOr<OffsetAtTime> ShardOffsetAt(size_t shard,
                                             absl::Time t) const;

  // Applies `shard.max_age` to every used shard, as memlog::Log::Trim()
  // does; the key indexes follow. Takes each used shard's lock in turn.
  // Returns the first failure (IsCallbackFailed, IsOutOfMemory) after
  // trying every shard.
  absl::Status Trim();

  // Returns the counters of all shards together (memlog/stats.h), without
  // taking any lock.
  LogStats stats() const;

  // Returns shard `shard`'s counters (all zero for an unused shard); fails
  // with IsInvalidShard if `shard` >= num_shards().
  absl::StatusOr<LogStats> ShardStats(size_t shard) const;

 private:
  friend class ShardReplicaWriter;
  // Where a replica write (sharded/replica.h) lands.
  struct ReplicaPosition {
    size_t shard;
    Offset offset;
    absl::Time created;
  };

  Log(Options options, memlog::Options shard_options,
      std::unique_ptr<const memlog::Log> empty_shard);

  // The replica write of sharded/replica.h: Write() at a given offset.
  absl::StatusOr<Offset> Append(std::string_view key, std::string_view data,
                                const ReplicaPosition* replica);
  // Validates `key` and returns its shard.
  absl::StatusOr<size_t> Route(std::string_view key) const;
  // A key's shard and its hash in the shard's key index.
  struct Routed {
    size_t shard;
    uint64_t hash;
  };
  // Route() for a write, which also files the key in the shard's index.
  absl::StatusOr<Routed> RouteForWrite(std::string_view key) const;
  // Returns the status Write(key, data) fails with for bad input, or OK.
  absl::Status CheckRecord(std::string_view key, std::string_view data) const;
  // CheckRecord() with the valid case inline, as a write's first step.
  absl::Status CheckRecordFast(std::string_view key,
                               std::string_view data) const;
  // Writes records of one key to one shard, under one hold of its lock,
  // then wakes its streams; `written` receives each offset in turn.
  // Returns the first failure.
  template <typename Written>
  absl::Status WriteRun(internal::Shard& shard, std::string_view key,
                        uint64_t hash, absl::Span<const std::string_view> data,
                        Written written);

  // Returns shard `shard`, or nullptr if it was never used. Lock-free.
  internal::Shard* ShardIfMade(size_t shard) const;
  // Returns shard `shard`, making it if needed; nullptr if out of memory.
  internal::Shard* GetOrMakeShard(size_t shard) const;
  // Returns the log of shard `shard`, or an empty stand-in if it is unused.
  const memlog::Log& LogOrEmpty(size_t shard) const;
  absl::StatusOr<RecordView> ReadKeyView(std::string_view key,
                                         Offset offset) const;
  template <typename Entry, typename MakeEntry>
  ReadResult ReadBatchInto(std::string_view key, Offset start,
                           absl::Span<Entry> batch, MakeEntry make_entry) const;
  template <typename Entry, typename MakeEntry>
  void ReadBatchOfKey(std::string_view key, Offset start,
                      absl::Span<Entry> batch, MakeEntry make_entry,
                      ReadResult& result) const;

  const Options options_;
  const size_t num_shards_;
  // Whether options_.sharder is a HashSharder, whose hash the key index
  // reuses (and whose call Route() makes without a virtual call).
  const bool hash_sharder_;
  // What every shard's memlog::Log is created with.
  const memlog::Options shard_options_;
  // Never written: reads of an unused shard go to it, so that they fail
  // exactly as reads of an empty memlog::Log do.
  const std::unique_ptr<const memlog::Log> empty_shard_;
  // Where the shards and their storage come from.
  const std::shared_ptr<memlog::internal::HugePageArena> arena_;
  // The shards, owned, each made on first use: a compare-and-swap installs
  // it (from nullptr, once, with release) and readers load it with acquire.
  // A stale nullptr only makes a reader treat the shard as still empty.
  const std::unique_ptr<std::atomic<internal::Shard*>[]> shards_;
  // Set once by Close(), before it closes the shards. Writes check it, and
  // the code that makes a shard closes the new shard's log if it is set (see
  // GetOrMakeShard()).
  std::atomic<bool> closed_{false};
};

}  // namespace memlog::sharded

#endif  // MEMLOG_SHARDED_LOG_H_
