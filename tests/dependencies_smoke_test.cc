// Proves that every system dependency is found, links and works.

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "xxhash.h"

namespace {

absl::StatusOr<int> ParsePositive(int value) {
  if (value <= 0) return absl::InvalidArgumentError("must be positive");
  return value;
}

TEST(DependenciesTest, FlatHashMapStoresAndFinds) {
  absl::flat_hash_map<std::string, int> map = {{"a", 1}, {"b", 2}};
  map["c"] = 3;
  EXPECT_EQ(map.size(), 3u);
  EXPECT_EQ(map.at("b"), 2);
  EXPECT_FALSE(map.contains("d"));
}

TEST(DependenciesTest, StatusOrCarriesValueOrError) {
  EXPECT_THAT(ParsePositive(7).value(), testing::Eq(7));
  EXPECT_TRUE(absl::IsInvalidArgument(ParsePositive(0).status()));
}

TEST(DependenciesTest, Xxh3MatchesKnownValue) {
  // Reference value of XXH3_64bits on empty input (xxHash's own test vector).
  EXPECT_EQ(XXH3_64bits("", 0), 0x2D06800538D394C2ULL);
}

TEST(DependenciesTest, AbslTimeFormatsUtc) {
  absl::Time t = absl::FromUnixSeconds(0) + absl::Hours(25);
  EXPECT_EQ(absl::FormatTime("%Y-%m-%d %H:%M", t, absl::UTCTimeZone()),
            "1970-01-02 01:00");
}

}  // namespace
