// Copyright memlog authors.
//
// internal::HugePageArena, the storage of a sharded log's shards: blocks are
// aligned, disjoint and whole, come back for reuse once freed, and the arena
// takes memory in regions that start small and grow to huge pages.

#include "memlog/internal/huge_page_arena.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include "allocation_failures.h"
#include "gtest/gtest.h"

namespace {

using ::memlog::internal::HugePageArena;

struct Block {
  char* bytes;
  size_t size;
};

// Fills each block with its own byte, then checks that every block still
// holds it: blocks that overlapped would have overwritten each other.
void ExpectDisjoint(const std::vector<Block>& blocks) {
  for (size_t i = 0; i < blocks.size(); ++i) {
    std::memset(blocks[i].bytes, static_cast<int>(i % 251), blocks[i].size);
  }
  for (size_t i = 0; i < blocks.size(); ++i) {
    const char expected = static_cast<char>(i % 251);
    ASSERT_TRUE(std::all_of(blocks[i].bytes, blocks[i].bytes + blocks[i].size,
                            [&](char c) { return c == expected; }))
        << "block " << i << " of " << blocks[i].size
        << " bytes was overwritten";
  }
}

TEST(HugePageArenaTest, BlocksAreAlignedDisjointAndWhole) {
  HugePageArena arena;
  std::vector<Block> blocks;
  for (const size_t size :
       {size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{100},
        size_t{4095}, size_t{4096}, size_t{4097}, size_t{116'000},
        HugePageArena::kMaxBlockBytes, HugePageArena::kMaxBlockBytes + 1,
        size_t{3} << 20}) {
    for (int copy = 0; copy < 3; ++copy) {
      auto* bytes = static_cast<char*>(arena.Allocate(size));
      ASSERT_NE(bytes, nullptr) << size;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(bytes) %
                    HugePageArena::kBlockAlignment,
                0u)
          << size;
      blocks.push_back({bytes, size});
    }
  }
  ExpectDisjoint(blocks);
  for (const Block& block : blocks) arena.Free(block.bytes, block.size);
}

TEST(HugePageArenaTest, AFreedBlockIsReusedForTheNextOfItsSize) {
  HugePageArena arena;
  void* first = arena.Allocate(200);
  arena.Free(first, 200);
  // 200 and 250 bytes round to the same 256-byte class.
  void* again = arena.Allocate(250);
  EXPECT_EQ(again, first);
  void* other = arena.Allocate(250);
  EXPECT_NE(other, first);
  arena.Free(again, 250);
  arena.Free(other, 250);
}

TEST(HugePageArenaTest, ReuseTakesNoNewRegion) {
  HugePageArena arena;
  std::vector<Block> blocks;
  for (int i = 0; i < 1000; ++i) {
    blocks.push_back({static_cast<char*>(arena.Allocate(1000)), 1000});
  }
  const int64_t regions = arena.region_bytes();
  for (int round = 0; round < 10; ++round) {
    for (Block& block : blocks) {
      arena.Free(block.bytes, block.size);
      block.bytes = static_cast<char*>(arena.Allocate(block.size));
      ASSERT_NE(block.bytes, nullptr);
    }
  }
  EXPECT_EQ(arena.region_bytes(), regions);
  ExpectDisjoint(blocks);
  for (const Block& block : blocks) arena.Free(block.bytes, block.size);
}

TEST(HugePageArenaTest, RegionsStartSmallAndGrowToHugePages) {
  HugePageArena arena;
  EXPECT_EQ(arena.region_bytes(), 0);
  std::vector<Block> blocks;
  blocks.push_back({static_cast<char*>(arena.Allocate(100)), 100});
  EXPECT_EQ(arena.region_bytes(),
            static_cast<int64_t>(HugePageArena::kFirstRegionBytes));
  // 64 MiB in blocks of 64 KiB: the regions grow to kMaxRegionBytes, and
  // the tails they leave are handed out rather than lost.
  constexpr size_t kBlock = size_t{64} << 10;
  constexpr int kBlocks = 1024;
  for (int i = 0; i < kBlocks; ++i) {
    blocks.push_back({static_cast<char*>(arena.Allocate(kBlock)), kBlock});
    ASSERT_NE(blocks.back().bytes, nullptr);
  }
  const int64_t held = int64_t{kBlocks} * int64_t{kBlock};
  EXPECT_GE(arena.region_bytes(), held);
  EXPECT_LE(arena.region_bytes(),
            held + static_cast<int64_t>(HugePageArena::kMaxRegionBytes));
  ExpectDisjoint(blocks);
  for (const Block& block : blocks) arena.Free(block.bytes, block.size);
}

TEST(HugePageArenaTest, ThreadsAllocateAndFreeConcurrently) {
  HugePageArena arena;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&arena, t] {
      std::vector<Block> blocks;
      for (int i = 0; i < 2000; ++i) {
        const size_t size = 64 + static_cast<size_t>((i * 37 + t) % 5000);
        blocks.push_back({static_cast<char*>(arena.Allocate(size)), size});
        if (i % 3 == 0) {
          arena.Free(blocks.front().bytes, blocks.front().size);
          blocks.erase(blocks.begin());
        }
      }
      ExpectDisjoint(blocks);
      for (const Block& block : blocks) arena.Free(block.bytes, block.size);
    });
  }
  for (std::thread& thread : threads) thread.join();
}

TEST(HugePageArenaTest, ARegionThatCannotBeAllocatedReturnsNull) {
  HugePageArena arena;
  memlog_testing::AllocationFailures failures;
  failures.FailAt(0, /*persistent=*/true);
  EXPECT_EQ(failures.Run([&] { return arena.Allocate(100); }), nullptr);
  EXPECT_EQ(failures.Run([&] {
              return arena.Allocate(HugePageArena::kMaxBlockBytes + 1);
            }),
            nullptr);
  failures.Disarm();
  void* block = arena.Allocate(100);
  EXPECT_NE(block, nullptr);
  arena.Free(block, 100);
}

}  // namespace
