// Copyright memlog authors.
//
// What a sharded log costs in memory (sharded/log.h, "Memory"): counted by
// replacing the global allocation functions in this test binary, so every
// heap allocation made through operator new (the library's and the standard
// containers') is measured: bytes asked for, and bytes live (by
// malloc_usable_size, so frees are counted too).

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <new>
#include <string>

#include "gtest/gtest.h"
#include "sharded/log.h"

namespace {

std::atomic<int64_t> g_allocated_bytes{0};
std::atomic<int64_t> g_live_bytes{0};

void* CountedAlloc(std::size_t size, std::size_t alignment) {
  g_allocated_bytes.fetch_add(static_cast<int64_t>(size),
                              std::memory_order_relaxed);
  if (size == 0) size = 1;
  void* p =
      alignment <= alignof(std::max_align_t)
          ? std::malloc(size)
          // aligned_alloc wants a size that is a multiple of the alignment.
          : std::aligned_alloc(alignment,
                               (size + alignment - 1) / alignment * alignment);
  if (p != nullptr) {
    g_live_bytes.fetch_add(static_cast<int64_t>(malloc_usable_size(p)),
                           std::memory_order_relaxed);
  }
  return p;
}

void CountedFree(void* p) {
  if (p == nullptr) return;
  g_live_bytes.fetch_sub(static_cast<int64_t>(malloc_usable_size(p)),
                         std::memory_order_relaxed);
  std::free(p);
}

void* CountedAllocOrThrow(std::size_t size, std::size_t alignment) {
  void* p = CountedAlloc(size, alignment);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t size) {
  return CountedAllocOrThrow(size, alignof(std::max_align_t));
}
void* operator new[](std::size_t size) {
  return CountedAllocOrThrow(size, alignof(std::max_align_t));
}
void* operator new(std::size_t size, std::align_val_t alignment) {
  return CountedAllocOrThrow(size, static_cast<std::size_t>(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return CountedAllocOrThrow(size, static_cast<std::size_t>(alignment));
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return CountedAlloc(size, alignof(std::max_align_t));
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return CountedAlloc(size, alignof(std::max_align_t));
}
void* operator new(std::size_t size, std::align_val_t alignment,
                   const std::nothrow_t&) noexcept {
  return CountedAlloc(size, static_cast<std::size_t>(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment,
                     const std::nothrow_t&) noexcept {
  return CountedAlloc(size, static_cast<std::size_t>(alignment));
}
void operator delete(void* p) noexcept { CountedFree(p); }
void operator delete[](void* p) noexcept { CountedFree(p); }
void operator delete(void* p, std::size_t) noexcept { CountedFree(p); }
void operator delete[](void* p, std::size_t) noexcept { CountedFree(p); }
void operator delete(void* p, std::align_val_t) noexcept { CountedFree(p); }
void operator delete[](void* p, std::align_val_t) noexcept { CountedFree(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  CountedFree(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  CountedFree(p);
}

namespace memlog::sharded {
namespace {

// Heap bytes allocated while `f` runs (on this thread; the tests start no
// others).
template <typename F>
int64_t AllocatedBy(F&& f) {
  const int64_t before = g_allocated_bytes.load();
  f();
  return g_allocated_bytes.load() - before;
}

TEST(ShardedMemoryTest, TheCountingAllocatorSeesAllocations) {
  const int64_t bytes = AllocatedBy([] {
    auto block = std::make_unique<char[]>(10'000);
    block[0] = 1;
  });
  EXPECT_GE(bytes, 10'000);
}

TEST(ShardedMemoryTest, ADefaultLogTakesWellUnderOneMegabyte) {
  std::unique_ptr<Log> log;
  const auto start = std::chrono::steady_clock::now();
  const int64_t bytes = AllocatedBy([&] { log = Log::Create().value(); });
  const auto took = std::chrono::steady_clock::now() - start;
  // For information only; a unit test asserts no timing.
  std::cout
      << "default sharded log (1000 shards): " << bytes
      << " bytes allocated by Create(), in "
      << std::chrono::duration_cast<std::chrono::microseconds>(took).count()
      << " us\n";
  ::testing::Test::RecordProperty("default_log_bytes", std::to_string(bytes));
  EXPECT_LT(bytes, 64 << 10);
  EXPECT_EQ(log->num_shards(), 1000u);
}

TEST(ShardedMemoryTest, AShardCostsMemoryOnlyOnceUsed) {
  std::unique_ptr<Log> log = Log::Create().value();
  // The first write makes one shard (its struct and its memlog::Log) and
  // that shard's first segment; nothing for the other 999.
  const int64_t first =
      AllocatedBy([&] { ASSERT_TRUE(log->Write("users", "tom").ok()); });
  std::cout << "first write (one shard made): " << first << " bytes\n";
  EXPECT_LT(first, 64 << 10);
  // Later writes to the same key allocate only as storage fills.
  const int64_t next =
      AllocatedBy([&] { ASSERT_TRUE(log->Write("users", "sarah").ok()); });
  EXPECT_LT(next, 1024);
  EXPECT_EQ(log->memory_usage().records, 2);
}

TEST(ShardedMemoryTest, MemoryStaysBoundedUnderManyPurges) {
  // Invariant: once the shards are full, writing on (here 100 times their
  // retention) does not grow the heap: records, segments and the key index
  // are purged together. The live heap after each round stays within a small
  // band (vector capacities vary a little from segment to segment), where a
  // leak of even a few bytes per record would climb by about 100 KB.
  constexpr int64_t kSegment = 64;
  constexpr int kShards = 2;
  constexpr int kRoundRecords = kShards * 2 * kSegment;  // one retention
  std::unique_ptr<Log> log =
      Log::Create({.num_shards = kShards, .shard = {.segment_size = kSegment}})
          .value();
  const std::string data(100, 'x');
  int64_t low = INT64_MAX;
  int64_t high = 0;
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < kRoundRecords; ++i) {
      ASSERT_TRUE(log->Write("key" + std::to_string(i % 50), data).ok());
    }
    if (round < 10) continue;  // filling up
    const int64_t live = g_live_bytes.load();
    low = std::min(low, live);
    high = std::max(high, live);
  }
  std::cout << "live heap over rounds 10..99: " << low << " to " << high
            << " bytes\n";
  EXPECT_LT(high - low, 16 << 10);
  const MemoryUsage usage = log->memory_usage();
  EXPECT_LE(usage.records, kShards * 2 * kSegment);
  // Each shard keeps at most its two segments and a spare.
  EXPECT_LE(usage.segments, kShards * 3);
}

}  // namespace
}  // namespace memlog::sharded
