// Copyright memlog authors.

#include "bench/heap_counter.h"

#include <malloc.h>

#include <cstdlib>
#include <new>

namespace memlog_bench {
namespace {

// Thread-local, so that counting costs the other benchmarks' allocations one
// predictable branch and no shared cache line.
thread_local bool counting = false;
thread_local int64_t live = 0;

void* Allocate(size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p != nullptr && counting) {
    live += static_cast<int64_t>(malloc_usable_size(p));
  }
  return p;
}

void* AllocateAligned(size_t size, std::align_val_t alignment) {
  const auto align = static_cast<size_t>(alignment);
  // aligned_alloc wants a size that is a multiple of the alignment.
  void* p = std::aligned_alloc(align, (size + align - 1) / align * align);
  if (p != nullptr && counting) {
    live += static_cast<int64_t>(malloc_usable_size(p));
  }
  return p;
}

void Free(void* p) {
  if (p == nullptr) return;
  if (counting) live -= static_cast<int64_t>(malloc_usable_size(p));
  std::free(p);
}

}  // namespace

HeapCounter::HeapCounter() {
  live = 0;
  counting = true;
}

HeapCounter::~HeapCounter() { counting = false; }

int64_t HeapCounter::live_bytes() const { return live; }

}  // namespace memlog_bench

void* operator new(size_t size) {
  void* p = memlog_bench::Allocate(size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t size) {
  void* p = memlog_bench::Allocate(size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  return memlog_bench::Allocate(size);
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  return memlog_bench::Allocate(size);
}
void operator delete(void* p) noexcept { memlog_bench::Free(p); }
void operator delete[](void* p) noexcept { memlog_bench::Free(p); }
void operator delete(void* p, size_t) noexcept { memlog_bench::Free(p); }
void operator delete[](void* p, size_t) noexcept { memlog_bench::Free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept {
  memlog_bench::Free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  memlog_bench::Free(p);
}
// Over-aligned types (memlog's segments keep hot fields on their own cache
// lines) come through these.
void* operator new(size_t size, std::align_val_t alignment) {
  void* p = memlog_bench::AllocateAligned(size, alignment);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new(size_t size, std::align_val_t alignment,
                   const std::nothrow_t&) noexcept {
  return memlog_bench::AllocateAligned(size, alignment);
}
void operator delete(void* p, std::align_val_t) noexcept {
  memlog_bench::Free(p);
}
void operator delete(void* p, size_t, std::align_val_t) noexcept {
  memlog_bench::Free(p);
}
