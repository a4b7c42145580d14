// Proves that a workspace outside the repository can compile, link and run
// against memlog's public targets: each suite uses one public library for real.
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "memlog/log.h"
#include "memlog/status.h"
#include "sharded/log.h"

namespace {

TEST(MemlogFromAnotherWorkspace, ReadsBackWhatItWrote) {
  absl::StatusOr<std::unique_ptr<memlog::Log>> log = memlog::Log::Create();
  ASSERT_TRUE(log.ok()) << log.status();

  absl::StatusOr<memlog::Offset> first = (*log)->Write("first");
  absl::StatusOr<memlog::Offset> second = (*log)->Write("second");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, *first + 1);

  absl::StatusOr<memlog::Record> record = (*log)->Read(*second);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->data, "second");
  EXPECT_EQ(record->metadata.offset, *second);
}

TEST(MemlogFromAnotherWorkspace, ReportsErrorsThroughPublicPredicates) {
  absl::StatusOr<std::unique_ptr<memlog::Log>> log = memlog::Log::Create();
  ASSERT_TRUE(log.ok()) << log.status();

  EXPECT_TRUE(memlog::IsEmptyRecord((*log)->Write("").status()));
  EXPECT_TRUE(memlog::IsFutureOffset((*log)->Read(0).status()));
}

TEST(ShardedLogFromAnotherWorkspace, ReadsBackEachKeysRecordsInOrder) {
  absl::StatusOr<std::unique_ptr<memlog::sharded::Log>> log =
      memlog::sharded::Log::Create();
  ASSERT_TRUE(log.ok()) << log.status();

  ASSERT_TRUE((*log)->Write("users", "tom").ok());
  ASSERT_TRUE((*log)->Write("groups", "friends").ok());
  ASSERT_TRUE((*log)->Write("users", "sarah").ok());

  std::vector<memlog::sharded::Record> users(3);
  memlog::ReadResult read =
      (*log)->ReadBatch("users", 0, absl::MakeSpan(users));
  EXPECT_TRUE(memlog::IsFutureOffset(read.status)) << read.status;
  ASSERT_EQ(read.count, 2);
  EXPECT_EQ(users[0].key, "users");
  EXPECT_EQ(users[0].data, "tom");
  EXPECT_EQ(users[1].key, "users");
  EXPECT_EQ(users[1].data, "sarah");
}

}  // namespace
