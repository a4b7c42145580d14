// Copyright memlog authors.
//
// internal::HugePageArena: memory for the storage of a sharded log's shards,
// carved out of regions that the kernel may back with 2 MiB pages. Not part
// of the public API.
//
// Why: a write to one of 1000 shards touches its shard, its segment's slot
// block and payload chunk, and its key's index entry and offset list, each a
// few lines in a 4 KiB page of its own; the shards' pages together are far
// more than the TLB holds, so nearly every line costs a page walk too (a
// nested one in a virtual machine). Out of 2 MiB regions marked
// MADV_HUGEPAGE, a few hundred TLB entries cover every shard.
//
// Design: regions come from the global operator new, so that the process's
// allocator (and anything hooked into it) sees them. They grow geometrically
// from kFirstRegionBytes to kMaxRegionBytes, so that a log holding little
// takes little; regions of at least kMinHugeRegionBytes are marked
// MADV_HUGEPAGE, and the kernel backs the 2 MiB-aligned frames that lie
// wholly inside one with huge pages (7 of 8 in a 16 MiB region; asking
// operator new for 2 MiB alignment instead would cost a 2 MiB gap per
// region). Blocks are carved from the newest region by bumping a pointer; a
// freed block goes to the free list of its size class (64-byte steps below
// 4 KiB, 4 KiB steps up to kMaxBlockBytes) and is handed out again for the
// next block of that class. Larger blocks go to operator new
// directly. Regions are returned when the arena is destroyed, which happens
// when its last holder lets go: the sharded log, and every segment (a view
// may keep one after the log is gone).
//
// Cost: nothing per record. Storage is taken when a shard's segments or key
// index grow, and given back when they shrink or go; a shard in its steady
// state reuses its storage without calling here.
//
// Thread-safety: thread-safe (one mutex).

#ifndef MEMLOG_INTERNAL_HUGE_PAGE_ARENA_H_
#define MEMLOG_INTERNAL_HUGE_PAGE_ARENA_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "memlog/internal/mutex.h"

namespace memlog::internal {

class HugePageArena {
 public:
  // Blocks are aligned to this.
  static constexpr size_t kBlockAlignment = 64;
  static constexpr size_t kMaxBlockBytes = size_t{256} << 10;
  static constexpr size_t kFirstRegionBytes = size_t{32} << 10;
  static constexpr size_t kMaxRegionBytes = size_t{16} << 20;
  static constexpr size_t kMinHugeRegionBytes = size_t{4} << 20;

  HugePageArena() = default;
  // Returns the regions. REQUIRES: every block was freed.
  ~HugePageArena();
  HugePageArena(const HugePageArena&) = delete;
  HugePageArena& operator=(const HugePageArena&) = delete;

  // Returns `bytes` of memory aligned to kBlockAlignment, or nullptr if
  // memory ran out. REQUIRES: bytes > 0.
  void* Allocate(size_t bytes) noexcept;
  // Gives back a block that Allocate(bytes) returned, with the same `bytes`.
  void Free(void* block, size_t bytes) noexcept;

  // Bytes of regions taken from operator new.
  int64_t region_bytes() const;

 private:
  // A free block holds the link to the next one of its class.
  struct FreeBlock {
    FreeBlock* next;
  };
  static constexpr size_t kSmallStep = 64;
  static constexpr size_t kLargeStep = size_t{4} << 10;
  static constexpr size_t kSmallClasses = kLargeStep / kSmallStep;
  static constexpr size_t kClasses =
      kSmallClasses + kMaxBlockBytes / kLargeStep;

  // The size class of a block of `bytes` (at most kMaxBlockBytes), and the
  // bytes a block of class `size_class` has.
  static size_t ClassOf(size_t bytes);
  static size_t ClassBytes(size_t size_class);

  // Makes a new region with room for `bytes` the one blocks are carved
  // from; the rest of the old one goes to the free lists. False if memory
  // ran out.
  bool AddRegion(size_t bytes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Puts [begin, begin + bytes) on the free lists, in blocks of their
  // classes. REQUIRES: both multiples of kSmallStep.
  void FreeRange(char* begin, size_t bytes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Push(void* block, size_t size_class) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable Mutex mu_;
  struct Region {
    void* memory;
    size_t bytes;
  };
  std::vector<Region> regions_ ABSL_GUARDED_BY(mu_);
  char* next_ ABSL_GUARDED_BY(mu_) = nullptr;
  char* end_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::array<FreeBlock*, kClasses> free_ ABSL_GUARDED_BY(mu_){};
};

}  // namespace memlog::internal

#endif  // MEMLOG_INTERNAL_HUGE_PAGE_ARENA_H_
