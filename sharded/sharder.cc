// Copyright memlog authors.

#include "sharded/sharder.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "memlog/status.h"
#include "sharded/internal/codec.h"

#define XXH_INLINE_ALL
#include "xxhash.h"

namespace memlog::sharded {
namespace {

__extension__ using Uint128 = unsigned __int128;

}  // namespace

absl::Status Sharder::Validate(size_t /*num_shards*/) const {
  return absl::OkStatus();
}

// Lemire's multiply-shift reduction with rejection ("Fast Random Integer
// Generation in an Interval", 2019). The product hash * n, a 128-bit number,
// has its high half in [0, n); each result j is the high half for the hashes
// whose low half lands in one window of 2^64 values. Those windows hold either
// floor(2^64 / n) or one more hash, which is the (tiny) bias of the plain
// multiply-shift. Rejecting the hashes whose low half is below 2^64 mod n
// removes exactly the surplus from each window, so every result keeps exactly
// floor(2^64 / n) hashes: with a uniform hash, every shard is equally likely.
// A rejected key is re-hashed with the next seed: deterministic, and for
// XXH3 as good as a fresh uniform draw. Rejection needs low < n, which happens
// with probability n / 2^64 (below 2^-44 for any allowed shard count), so the
// common path costs one hash and one multiply, and no division.
size_t HashSharder::Reduce(uint64_t hash, std::string_view key,
                           size_t num_shards) {
  const uint64_t n = num_shards;
  Uint128 product = static_cast<Uint128>(hash) * n;
  uint64_t low = static_cast<uint64_t>(product);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    for (uint64_t seed = 1; low < threshold; ++seed) {
      product = static_cast<Uint128>(
                    XXH3_64bits_withSeed(key.data(), key.size(), seed)) *
                n;
      low = static_cast<uint64_t>(product);
    }
  }
  return static_cast<size_t>(product >> 64);
}

absl::StatusOr<size_t> HashSharder::ShardFor(std::string_view key,
                                             size_t num_shards) const {
  return Reduce(XXH3_64bits(key.data(), key.size()), key, num_shards);
}

absl::StatusOr<std::shared_ptr<const KeySharder>> KeySharder::FromKeys(
    const std::vector<std::string>& keys) {
  absl::flat_hash_map<std::string, size_t> table;
  table.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!table.emplace(keys[i], i).second) {
      return MakeError(
          ErrorKind::kInvalidOptions,
          absl::StrCat("KeySharder: key ", internal::QuoteKey(keys[i]),
                       " is listed twice (at ", table[keys[i]], " and ", i,
                       "); each key gets a shard of its own"));
    }
  }
  return FromTable(std::move(table));
}

absl::StatusOr<std::shared_ptr<const KeySharder>> KeySharder::FromTable(
    absl::flat_hash_map<std::string, size_t> table) {
  if (table.empty()) {
    return MakeError(ErrorKind::kInvalidOptions,
                     "KeySharder: the key table is empty; it needs at least "
                     "one key");
  }
  absl::flat_hash_map<size_t, const std::string*> owner;
  owner.reserve(table.size());
  size_t max_shard = 0;
  for (const auto& [key, shard] : table) {
    if (key.empty()) {
      return MakeError(ErrorKind::kInvalidKey,
                       "KeySharder: a key is empty; keys have at least 1 byte");
    }
    if (auto [it, inserted] = owner.emplace(shard, &key); !inserted) {
      // Name the two keys in a stable order, whatever the map's order.
      const std::string& a = std::min(key, *it->second);
      const std::string& b = std::max(key, *it->second);
      return MakeError(
          ErrorKind::kInvalidOptions,
          absl::StrCat("KeySharder: keys ", internal::QuoteKey(a), " and ",
                       internal::QuoteKey(b), " both map to shard ", shard,
                       "; each key needs a shard of its own"));
    }
    max_shard = std::max(max_shard, shard);
  }
  return std::shared_ptr<const KeySharder>(
      new KeySharder(std::move(table), max_shard));
}

absl::StatusOr<size_t> KeySharder::ShardFor(std::string_view key,
                                            size_t /*num_shards*/) const {
  const auto it = table_.find(absl::string_view(key.data(), key.size()));
  if (it == table_.end()) {
    return MakeError(ErrorKind::kKeyNotFound,
                     absl::StrCat("key ", internal::QuoteKey(key),
                                  " is not in the KeySharder's table of ",
                                  table_.size(), " keys"));
  }
  return it->second;
}

absl::Status KeySharder::Validate(size_t num_shards) const {
  if (table_.size() > num_shards) {
    return MakeError(
        ErrorKind::kInvalidOptions,
        absl::StrCat("Options::num_shards is ", num_shards,
                     " but the KeySharder has ", table_.size(),
                     " keys; it needs a shard per key (num_shards >= ",
                     table_.size(), ")"));
  }
  if (max_shard_ >= num_shards) {
    return MakeError(
        ErrorKind::kInvalidOptions,
        absl::StrCat("the KeySharder maps a key to shard ", max_shard_,
                     " but Options::num_shards is ", num_shards,
                     "; shards are 0..", num_shards - 1));
  }
  return absl::OkStatus();
}

}  // namespace memlog::sharded
