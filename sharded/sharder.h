// Copyright memlog authors.
//
// memlog::sharded::Sharder: decides which shard of a sharded log holds a key's
// records, and the two built-in strategies.
//
// - HashSharder (the default): spreads keys evenly over the shards by their
//   XXH3-64 hash. Different keys may share a shard; a sharded log keeps them
//   apart anyway (see sharded/log.h).
// - KeySharder: an explicit table that gives every listed key a shard of its
//   own, for strict separation; unknown keys are refused.
// - Your own: derive from Sharder.
//
//   auto sharder =
//       memlog::sharded::KeySharder::FromKeys({"galaxies", "planets"});
//   if (!sharder.ok()) return sharder.status();
//   auto log = memlog::sharded::Log::Create(
//       {.num_shards = 2, .sharder = *std::move(sharder)});
//
// Thread-safety: a sharder is shared by every thread that uses its log and is
// called concurrently, so ShardFor() and Validate() must be safe to call from
// many threads at once. The built-in sharders are immutable and take no lock.

#ifndef MEMLOG_SHARDED_SHARDER_H_
#define MEMLOG_SHARDED_SHARDER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace memlog::sharded {

// Maps keys to shard indices. Implementations must be deterministic (a key
// maps to the same shard for the life of a log) and thread-safe.
class Sharder {
 public:
  virtual ~Sharder() = default;

  // Returns the index, in [0, num_shards), of the shard for `key`, or an
  // error that the log hands back to its caller unchanged (e.g. kNotFound,
  // `memlog::IsKeyNotFound`, made with `memlog::MakeError`).
  //
  // An index >= num_shards is a sharder bug: the log rejects it with
  // kInternal (`memlog::IsBadSharder`) and never uses it.
  // REQUIRES: !key.empty() and num_shards >= 2 (the log guarantees both).
  virtual absl::StatusOr<size_t> ShardFor(std::string_view key,
                                          size_t num_shards) const = 0;

  // Checks, when a log is created, that this sharder can serve a log of
  // `num_shards` shards. A non-OK status fails `Log::Create` with it.
  // The default accepts any count.
  virtual absl::Status Validate(size_t num_shards) const;
};

// The default sharder: hashes the key with XXH3-64 and maps the hash onto the
// shards without modulo bias, so a uniform hash spreads keys uniformly.
//
// Stateless and lock-free. The mapping is stable: the same key and shard count
// give the same shard in every process and on every platform, for a given
// xxHash version (XXH3's output is frozen since xxHash 0.8.0).
class HashSharder final : public Sharder {
 public:
  absl::StatusOr<size_t> ShardFor(std::string_view key,
                                  size_t num_shards) const override;

  // Returns the shard for a key whose XXH3-64 hash is `hash`, re-hashing
  // `key` only in the rare case the reduction needs a fresh draw (see
  // sharder.cc). Exposed for tests.
  static size_t Reduce(uint64_t hash, std::string_view key, size_t num_shards);
};

// An explicit key -> shard table: every listed key gets a shard of its own,
// so no two keys ever share one. Keys that are not in the table are refused
// with kNotFound (`memlog::IsKeyNotFound`).
//
// A log using a KeySharder must have at least as many shards as the table has
// keys, and every shard in the table must exist: `Log::Create` checks both
// (through Validate()) and fails with kInvalidArgument
// (`memlog::IsInvalidOptions`), so a misfit is found at creation, not on
// first use.
class KeySharder final : public Sharder {
 public:
  // Makes a sharder that puts `keys[i]` in shard i, like the Go package's
  // `NewKeySharder`. Fails with kInvalidArgument: IsInvalidKey for an empty
  // key, IsInvalidOptions for a key listed twice or for no keys at all.
  static absl::StatusOr<std::shared_ptr<const KeySharder>> FromKeys(
      const std::vector<std::string>& keys);

  // Makes a sharder from an explicit table. Fails with kInvalidArgument:
  // IsInvalidKey for an empty key, IsInvalidOptions for two keys on one shard
  // (that would not be strict separation) or for an empty table.
  static absl::StatusOr<std::shared_ptr<const KeySharder>> FromTable(
      absl::flat_hash_map<std::string, size_t> table);

  // Returns the key's shard from the table, or kNotFound
  // (`memlog::IsKeyNotFound`) for a key that is not in it.
  absl::StatusOr<size_t> ShardFor(std::string_view key,
                                  size_t num_shards) const override;

  // Fails with IsInvalidOptions if the table has more keys than `num_shards`
  // or names a shard >= `num_shards`.
  absl::Status Validate(size_t num_shards) const override;

  size_t size() const { return table_.size(); }

 private:
  explicit KeySharder(absl::flat_hash_map<std::string, size_t> table,
                      size_t max_shard)
      : table_(std::move(table)), max_shard_(max_shard) {}

  const absl::flat_hash_map<std::string, size_t> table_;
  const size_t max_shard_;  // the largest shard index in table_
};

}  // namespace memlog::sharded

#endif  // MEMLOG_SHARDED_SHARDER_H_
