// Copyright memlog authors.
//
// Helpers shared by the sharded::Log tests: a sharder that forces keys to
// collide, and a log built with it.

#ifndef MEMLOG_TESTS_SHARDED_TEST_SUPPORT_H_
#define MEMLOG_TESTS_SHARDED_TEST_SUPPORT_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "sharded/log.h"

namespace memlog::sharded::test {

// Routes keys by an explicit table, several keys per shard allowed: the way to
// force keys to collide. Unknown keys go to shard 0.
class TableSharder final : public Sharder {
 public:
  explicit TableSharder(absl::flat_hash_map<std::string, size_t> table)
      : table_(std::move(table)) {}
  absl::StatusOr<size_t> ShardFor(std::string_view key, size_t) const override {
    const auto it = table_.find(std::string(key));
    return it == table_.end() ? 0 : it->second;
  }

 private:
  const absl::flat_hash_map<std::string, size_t> table_;
};

// A log of 2 shards where "a" and "b" share shard 0 and "c" has shard 1.
inline std::unique_ptr<Log> SharedShardLog(Options options = {}) {
  options.num_shards = 2;
  options.sharder = std::make_shared<TableSharder>(
      absl::flat_hash_map<std::string, size_t>{{"a", 0}, {"b", 0}, {"c", 1}});
  return Log::Create(std::move(options)).value();
}

// Writes `data` under `key` and returns the offset (failing the test on an
// error).
inline Offset MustWrite(Log& log, std::string_view key, std::string_view data) {
  absl::StatusOr<Offset> offset = log.Write(key, data);
  EXPECT_TRUE(offset.ok()) << offset.status();
  return offset.value_or(kInvalidOffset);
}

}  // namespace memlog::sharded::test

#endif  // MEMLOG_TESTS_SHARDED_TEST_SUPPORT_H_
