// Copyright memlog authors.
//
// The specification of the sharders (sharded/sharder.h): the hash sharder's
// range, stability and evenness, its unbiased reduction, the key sharder's
// table and validation, and how a sharded log treats a sharder that
// misbehaves.

#include "sharded/sharder.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "memlog/status.h"
#include "sharded/log.h"
#include "xxhash.h"
#include "tests/log_test_support.h"

namespace memlog {

// Test output: "{earliest, latest}" instead of bytes.
void PrintTo(const OffsetRange& range, std::ostream* os) {
  *os << "{" << range.earliest << ", " << range.latest << "}";
}

namespace sharded {
namespace {

using ::testing::HasSubstr;

using ::memlog::test::Message;

// A fixed, reproducible set of distinct keys, shaped like real ones.
std::vector<std::string> GeneratedKeys(int count) {
  std::vector<std::string> keys;
  keys.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) keys.push_back("user-" + std::to_string(i));
  return keys;
}

// Pearson's chi-square statistic of `counts` against a uniform spread.
double ChiSquare(const std::vector<int>& counts, int total) {
  const double expected = static_cast<double>(total) / counts.size();
  double chi_square = 0;
  for (const int count : counts) {
    chi_square += (count - expected) * (count - expected) / expected;
  }
  return chi_square;
}

// --- HashSharder -----------------------------------------------------------

TEST(HashSharderTest, ReturnsAShardInRangeForEveryShardCount) {
  const HashSharder sharder;
  for (const size_t num_shards :
       {size_t{2}, size_t{3}, size_t{7}, size_t{1000}, size_t{1} << 20}) {
    for (const std::string& key : GeneratedKeys(1000)) {
      absl::StatusOr<size_t> shard = sharder.ShardFor(key, num_shards);
      ASSERT_TRUE(shard.ok()) << shard.status();
      ASSERT_LT(*shard, num_shards) << "key " << key;
    }
  }
}

TEST(HashSharderTest, MapsAKeyToTheSameShardEveryTime) {
  const HashSharder sharder;
  const HashSharder another;
  for (const std::string& key : GeneratedKeys(100)) {
    EXPECT_EQ(sharder.ShardFor(key, 1000).value(),
              another.ShardFor(key, 1000).value());
  }
}

// The mapping is part of the contract (shards are stable across processes),
// so a changed hash or reduction must show up here.
TEST(HashSharderTest, MapsKeysAsXxh3MultiplyShiftDoes) {
  const HashSharder sharder;
  for (const std::string& key : GeneratedKeys(100)) {
    const uint64_t hash = XXH3_64bits(key.data(), key.size());
    // 1000 is far from dividing 2^64, but a rejection needs the low half of
    // hash * 1000 below 2^64 mod 1000 = 616, which none of these keys hits.
    const auto expected = static_cast<size_t>(
        (static_cast<unsigned __int128>(hash) * 1000) >> 64);
    EXPECT_EQ(sharder.ShardFor(key, 1000).value(), expected) << key;
  }
}

TEST(HashSharderTest, SpreadsManyKeysEvenlyOverTheShards) {
  // 200,000 keys over 1000 shards: 200 expected per shard. The chi-square
  // statistic of a uniform spread has mean 999 and standard deviation
  // sqrt(2 * 999) = 44.7; allow six deviations. A modulo of a weak hash, or
  // a reduction that favours low shards, lands far above.
  constexpr int kKeys = 200'000;
  constexpr size_t kShards = 1000;
  const HashSharder sharder;
  std::vector<int> counts(kShards);
  for (const std::string& key : GeneratedKeys(kKeys)) {
    ++counts[sharder.ShardFor(key, kShards).value()];
  }
  const double degrees = kShards - 1;
  EXPECT_LT(ChiSquare(counts, kKeys), degrees + 6 * std::sqrt(2 * degrees));
  // No shard is left empty or gets several times its share.
  for (size_t shard = 0; shard < kShards; ++shard) {
    EXPECT_GT(counts[shard], 100) << "shard " << shard;
    EXPECT_LT(counts[shard], 300) << "shard " << shard;
  }
}

TEST(HashSharderTest, SpreadsKeysEvenlyOverAFewShards) {
  // Small, non-power-of-two counts are where a biased reduction shows most.
  constexpr int kKeys = 30'000;
  const HashSharder sharder;
  for (const size_t shards : {size_t{2}, size_t{3}, size_t{7}}) {
    std::vector<int> counts(shards);
    for (const std::string& key : GeneratedKeys(kKeys)) {
      ++counts[sharder.ShardFor(key, shards).value()];
    }
    const double degrees = static_cast<double>(shards - 1);
    EXPECT_LT(ChiSquare(counts, kKeys), degrees + 6 * std::sqrt(2 * degrees))
        << shards << " shards";
  }
}

TEST(HashSharderReduceTest, UsesTheTopBitsForAPowerOfTwo) {
  // 2^64 mod 2^k is 0: nothing is ever rejected, and the shard is the top k
  // bits of the hash.
  for (const uint64_t hash : {uint64_t{0}, uint64_t{1}, uint64_t{0xdeadbeef},
                              std::numeric_limits<uint64_t>::max()}) {
    EXPECT_EQ(HashSharder::Reduce(hash, "key", 1024), hash >> 54);
    EXPECT_EQ(HashSharder::Reduce(hash, "key", 2), hash >> 63);
  }
}

TEST(HashSharderReduceTest, MapsTheLargestHashToTheLastShard) {
  for (const size_t shards : {size_t{3}, size_t{1000}, size_t{1} << 20}) {
    EXPECT_EQ(HashSharder::Reduce(std::numeric_limits<uint64_t>::max(), "key",
                                  shards),
              shards - 1);
  }
}

TEST(HashSharderReduceTest, RehashesAHashInTheBiasedWindow) {
  // For 3 shards, 2^64 mod 3 = 1: the hash 0 (low half 0 < 1) is the one
  // value each window has too many, so it is rejected and the key is
  // re-hashed with seed 1.
  constexpr std::string_view kKey = "rejected";
  const uint64_t rehash = XXH3_64bits_withSeed(kKey.data(), kKey.size(), 1);
  const auto expected =
      static_cast<size_t>((static_cast<unsigned __int128>(rehash) * 3) >> 64);
  EXPECT_EQ(HashSharder::Reduce(0, kKey, 3), expected);
  // The hash 1 (low half 3 >= 1) is accepted as it is: shard 0.
  EXPECT_EQ(HashSharder::Reduce(1, kKey, 3), 0u);
}

// --- KeySharder ------------------------------------------------------------

TEST(KeySharderTest, FromKeysPutsEachKeyInItsOwnShardInOrder) {
  std::shared_ptr<const KeySharder> sharder =
      KeySharder::FromKeys({"galaxies", "planets", "stars"}).value();
  EXPECT_EQ(sharder->size(), 3u);
  EXPECT_EQ(sharder->ShardFor("galaxies", 3).value(), 0u);
  EXPECT_EQ(sharder->ShardFor("planets", 3).value(), 1u);
  EXPECT_EQ(sharder->ShardFor("stars", 3).value(), 2u);
}

TEST(KeySharderTest, FromTableUsesTheGivenShards) {
  std::shared_ptr<const KeySharder> sharder =
      KeySharder::FromTable({{"a", 7}, {"b", 2}}).value();
  EXPECT_EQ(sharder->ShardFor("a", 8).value(), 7u);
  EXPECT_EQ(sharder->ShardFor("b", 8).value(), 2u);
}

TEST(KeySharderTest, RefusesAnUnknownKeyWithKeyNotFound) {
  std::shared_ptr<const KeySharder> sharder =
      KeySharder::FromKeys({"galaxies", "planets"}).value();
  absl::StatusOr<size_t> shard = sharder->ShardFor("comets", 2);
  EXPECT_TRUE(IsKeyNotFound(shard.status())) << shard.status();
  EXPECT_EQ(shard.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(shard.status()), HasSubstr("\"comets\""));
}

TEST(KeySharderTest, RejectsAKeyListedTwice) {
  absl::StatusOr<std::shared_ptr<const KeySharder>> sharder =
      KeySharder::FromKeys({"a", "b", "a"});
  EXPECT_TRUE(IsInvalidOptions(sharder.status())) << sharder.status();
  EXPECT_THAT(Message(sharder.status()), HasSubstr("\"a\" is listed twice"));
}

TEST(KeySharderTest, RejectsAnEmptyKey) {
  EXPECT_TRUE(IsInvalidKey(KeySharder::FromKeys({"a", ""}).status()));
  EXPECT_TRUE(IsInvalidKey(KeySharder::FromTable({{"", 0}}).status()));
}

TEST(KeySharderTest, RejectsAnEmptyTable) {
  EXPECT_TRUE(IsInvalidOptions(KeySharder::FromKeys({}).status()));
  EXPECT_TRUE(IsInvalidOptions(KeySharder::FromTable({}).status()));
}

TEST(KeySharderTest, RejectsTwoKeysOnOneShard) {
  absl::StatusOr<std::shared_ptr<const KeySharder>> sharder =
      KeySharder::FromTable({{"a", 1}, {"b", 1}});
  EXPECT_TRUE(IsInvalidOptions(sharder.status())) << sharder.status();
  EXPECT_THAT(Message(sharder.status()),
              HasSubstr("keys \"a\" and \"b\" both map to shard 1"));
}

TEST(KeySharderTest, LogCreationRejectsMoreKeysThanShards) {
  absl::StatusOr<std::unique_ptr<Log>> log =
      Log::Create({.num_shards = 2,
                   .shard = {},
                   .sharder = KeySharder::FromKeys({"a", "b", "c"}).value()});
  EXPECT_TRUE(IsInvalidOptions(log.status())) << log.status();
  EXPECT_THAT(Message(log.status()),
              HasSubstr("Options::num_shards is 2 but the KeySharder has 3 "
                        "keys"));
}

TEST(KeySharderTest, LogCreationRejectsAShardBeyondTheCount) {
  absl::StatusOr<std::unique_ptr<Log>> log =
      Log::Create({.num_shards = 4,
                   .shard = {},
                   .sharder = KeySharder::FromTable({{"a", 4}}).value()});
  EXPECT_TRUE(IsInvalidOptions(log.status())) << log.status();
  EXPECT_THAT(Message(log.status()), HasSubstr("shard 4"));
  EXPECT_THAT(Message(log.status()), HasSubstr("shards are 0..3"));
}

TEST(KeySharderTest, LogWithAKeySharderRefusesUnknownKeysOnEveryCall) {
  std::unique_ptr<Log> log =
      Log::Create({.num_shards = 2,
                   .shard = {},
                   .sharder = KeySharder::FromKeys({"a", "b"}).value()})
          .value();
  EXPECT_TRUE(IsKeyNotFound(log->Write("c", "data").status()));
  EXPECT_TRUE(IsKeyNotFound(log->Read("c", 0).status()));
  std::vector<Record> batch(1);
  EXPECT_TRUE(
      IsKeyNotFound(log->ReadBatch("c", 0, absl::MakeSpan(batch)).status));
  EXPECT_TRUE(IsKeyNotFound(log->Range("c").status()));
  EXPECT_TRUE(IsKeyNotFound(log->StreamFrom("c", 0).status()));
  EXPECT_TRUE(IsKeyNotFound(log->ShardFor("c").status()));
  // Known keys are unaffected.
  EXPECT_EQ(log->Write("b", "data").value(), 0);
  EXPECT_EQ(log->ShardFor("b").value(), 1u);
}

// --- Misbehaving sharders --------------------------------------------------

// Returns a fixed answer for every key.
class FixedSharder final : public Sharder {
 public:
  explicit FixedSharder(absl::StatusOr<size_t> answer)
      : answer_(std::move(answer)) {}
  absl::StatusOr<size_t> ShardFor(std::string_view, size_t) const override {
    return answer_;
  }

 private:
  const absl::StatusOr<size_t> answer_;
};

std::unique_ptr<Log> LogWithSharder(absl::StatusOr<size_t> answer) {
  return Log::Create({.num_shards = 4,
                      .shard = {},
                      .sharder = std::make_shared<FixedSharder>(answer)})
      .value();
}

TEST(MisbehavingSharderTest, AnIndexOutOfRangeIsABadSharderError) {
  for (const size_t index :
       {size_t{4}, size_t{1000}, std::numeric_limits<size_t>::max()}) {
    std::unique_ptr<Log> log = LogWithSharder(index);
    absl::StatusOr<Offset> offset = log->Write("key", "data");
    EXPECT_TRUE(IsBadSharder(offset.status())) << offset.status();
    EXPECT_EQ(offset.status().code(), absl::StatusCode::kInternal);
    EXPECT_THAT(Message(offset.status()),
                HasSubstr("returned shard " + std::to_string(index)));
    EXPECT_THAT(Message(offset.status()), HasSubstr("shards are 0..3"));
    EXPECT_TRUE(IsBadSharder(log->Read("key", 0).status()));
    EXPECT_TRUE(IsBadSharder(log->ReadView("key", 0).status()));
    std::vector<Record> batch(2);
    EXPECT_TRUE(
        IsBadSharder(log->ReadBatch("key", 0, absl::MakeSpan(batch)).status));
    EXPECT_TRUE(IsBadSharder(log->Range("key").status()));
    EXPECT_TRUE(IsBadSharder(log->StreamFrom("key", 0).status()));
    EXPECT_TRUE(IsBadSharder(log->ShardFor("key").status()));
    // Nothing was written anywhere.
    for (size_t shard = 0; shard < log->num_shards(); ++shard) {
      EXPECT_EQ(log->ShardRange(shard).value(), OffsetRange{});
    }
  }
}

TEST(MisbehavingSharderTest, ASharderThatThrowsIsACallbackFailure) {
  class ThrowingSharder final : public Sharder {
   public:
    absl::StatusOr<size_t> ShardFor(std::string_view, size_t) const override {
      throw std::runtime_error("sharder exploded");
    }
  };
  std::unique_ptr<Log> log =
      Log::Create({.num_shards = 4,
                   .shard = {},
                   .sharder = std::make_shared<ThrowingSharder>()})
          .value();
  absl::StatusOr<Offset> offset = log->Write("key", "data");
  EXPECT_TRUE(IsCallbackFailed(offset.status())) << offset.status();
  EXPECT_EQ(offset.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(Message(offset.status()), HasSubstr("sharder exploded"));
  EXPECT_TRUE(IsCallbackFailed(log->Read("key", 0).status()));
  EXPECT_TRUE(IsCallbackFailed(log->Range("key").status()));
  EXPECT_TRUE(IsCallbackFailed(log->StreamFrom("key", 0).status()));
  EXPECT_TRUE(IsCallbackFailed(log->ShardFor("key").status()));
  // Nothing was written anywhere.
  for (size_t shard = 0; shard < log->num_shards(); ++shard) {
    EXPECT_EQ(log->ShardRange(shard).value(), OffsetRange{});
  }
}

TEST(MisbehavingSharderTest, ItsOwnErrorIsPassedThroughUnchanged) {
  const absl::Status error = absl::UnavailableError("routing table reloading");
  std::unique_ptr<Log> log = LogWithSharder(error);
  EXPECT_EQ(log->Write("key", "data").status(), error);
  EXPECT_EQ(log->Read("key", 0).status(), error);
  EXPECT_EQ(log->Range("key").status(), error);
  EXPECT_EQ(log->ShardFor("key").status(), error);
}

TEST(MisbehavingSharderTest, KeyValidationComesBeforeTheSharder) {
  // The sharder never sees an empty key: the log refuses it first.
  std::unique_ptr<Log> log = LogWithSharder(size_t{99});
  EXPECT_TRUE(IsInvalidKey(log->Write("", "data").status()));
  EXPECT_TRUE(IsInvalidKey(log->ShardFor("").status()));
}

TEST(MisbehavingSharderTest, AValidatorErrorFailsCreation) {
  class PickySharder final : public Sharder {
   public:
    absl::StatusOr<size_t> ShardFor(std::string_view, size_t) const override {
      return 0;
    }
    absl::Status Validate(size_t num_shards) const override {
      if (num_shards % 2 == 0) return absl::OkStatus();
      return absl::InvalidArgumentError("needs an even shard count");
    }
  };
  auto sharder = std::make_shared<PickySharder>();
  EXPECT_EQ(
      Log::Create({.num_shards = 3, .shard = {}, .sharder = sharder}).status(),
      absl::InvalidArgumentError("needs an even shard count"));
  EXPECT_TRUE(
      Log::Create({.num_shards = 4, .shard = {}, .sharder = sharder}).ok());
}

TEST(MisbehavingSharderTest, ANullSharderMeansTheHashSharder) {
  std::unique_ptr<Log> log =
      Log::Create({.num_shards = 16, .shard = {}, .sharder = nullptr}).value();
  const HashSharder hash;
  for (const std::string& key : GeneratedKeys(50)) {
    EXPECT_EQ(log->ShardFor(key).value(), hash.ShardFor(key, 16).value());
  }
  // And a default log routes the same way.
  std::unique_ptr<Log> default_log = Log::Create().value();
  EXPECT_EQ(default_log->ShardFor("users").value(),
            hash.ShardFor("users", kDefaultNumShards).value());
}

}  // namespace
}  // namespace sharded
}  // namespace memlog
