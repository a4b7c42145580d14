// Copyright memlog authors.

#include "memlog/internal/huge_page_arena.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <new>

#include "memlog/internal/assert.h"

// GCC says it builds with ASan one way, clang the other.
#if defined(__SANITIZE_ADDRESS__)
#define MEMLOG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEMLOG_ASAN 1
#endif
#endif

#if defined(MEMLOG_ASAN)
#include <sanitizer/asan_interface.h>
#define MEMLOG_POISON(begin, size) ASAN_POISON_MEMORY_REGION(begin, size)
#define MEMLOG_UNPOISON(begin, size) ASAN_UNPOISON_MEMORY_REGION(begin, size)
#else
#define MEMLOG_POISON(begin, size) ((void)(begin), (void)(size))
#define MEMLOG_UNPOISON(begin, size) ((void)(begin), (void)(size))
#endif

namespace memlog::internal {

HugePageArena::~HugePageArena() {
  for (const Region& region : regions_) {
    MEMLOG_UNPOISON(region.memory, region.bytes);
    ::operator delete(region.memory, std::align_val_t{kBlockAlignment});
  }
}

size_t HugePageArena::ClassOf(size_t bytes) {
  if (bytes <= kLargeStep) return (bytes + kSmallStep - 1) / kSmallStep - 1;
  return kSmallClasses + (bytes + kLargeStep - 1) / kLargeStep - 2;
}

size_t HugePageArena::ClassBytes(size_t size_class) {
  if (size_class < kSmallClasses) return (size_class + 1) * kSmallStep;
  return (size_class - kSmallClasses + 2) * kLargeStep;
}

void* HugePageArena::Allocate(size_t bytes) noexcept {
  MEMLOG_DCHECK(bytes > 0, "Allocate() of no bytes");
  if (bytes > kMaxBlockBytes) {
    return ::operator new(bytes, std::align_val_t{kBlockAlignment},
                          std::nothrow);
  }
  const size_t size_class = ClassOf(bytes);
  const size_t block_bytes = ClassBytes(size_class);
  MutexLock lock(&mu_);
  void* block;
  if (FreeBlock* free = free_[size_class]; free != nullptr) {
    free_[size_class] = free->next;
    block = free;
  } else {
    if (static_cast<size_t>(end_ - next_) < block_bytes &&
        !AddRegion(block_bytes)) {
      return nullptr;
    }
    block = next_;
    next_ += block_bytes;
  }
  MEMLOG_UNPOISON(block, bytes);
  return block;
}

void HugePageArena::Free(void* block, size_t bytes) noexcept {
  if (block == nullptr) return;
  if (bytes > kMaxBlockBytes) {
    ::operator delete(block, std::align_val_t{kBlockAlignment});
    return;
  }
  MutexLock lock(&mu_);
  Push(block, ClassOf(bytes));
}

int64_t HugePageArena::region_bytes() const {
  MutexLock lock(&mu_);
  int64_t bytes = 0;
  for (const Region& region : regions_) {
    bytes += static_cast<int64_t>(region.bytes);
  }
  return bytes;
}

void HugePageArena::Push(void* block, size_t size_class) {
  // Only the link stays addressable while the block is free.
  MEMLOG_POISON(block, ClassBytes(size_class));
  MEMLOG_UNPOISON(block, sizeof(FreeBlock));
  free_[size_class] = new (block) FreeBlock{free_[size_class]};
}

void HugePageArena::FreeRange(char* begin, size_t bytes) {
  while (bytes >= kSmallStep) {
    // The largest block that the range holds.
    const size_t take =
        bytes <= kLargeStep
            ? bytes
            : std::min(bytes / kLargeStep * kLargeStep, kMaxBlockBytes);
    Push(begin, ClassOf(take));
    begin += take;
    bytes -= take;
  }
}

bool HugePageArena::AddRegion(size_t bytes) {
  const size_t grown =
      regions_.size() >= 16
          ? kMaxRegionBytes
          : std::min(kFirstRegionBytes << regions_.size(), kMaxRegionBytes);
  const size_t region_bytes = std::max(grown, bytes);
  try {
    regions_.reserve(regions_.size() + 1);
  } catch (const std::bad_alloc&) {
    return false;
  }
  void* const memory = ::operator new(
      region_bytes, std::align_val_t{kBlockAlignment}, std::nothrow);
  if (memory == nullptr) return false;
  if (region_bytes >= kMinHugeRegionBytes) {
    // A hint, for the region's whole pages: without transparent huge pages
    // the region works the same, in small pages.
    const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const auto begin = reinterpret_cast<uintptr_t>(memory);
    const uintptr_t first = (begin + page - 1) & ~(page - 1);
    const uintptr_t last = (begin + region_bytes) & ~(page - 1);
    madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
  }
  regions_.push_back(Region{memory, region_bytes});
  MEMLOG_POISON(memory, region_bytes);
  FreeRange(next_, static_cast<size_t>(end_ - next_));
  next_ = static_cast<char*>(memory);
  end_ = next_ + region_bytes;
  return true;
}

}  // namespace memlog::internal
