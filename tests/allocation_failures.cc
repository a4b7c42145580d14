// Copyright memlog authors.

#include "tests/allocation_failures.h"

#include <cstdlib>
#include <limits>
#include <new>

namespace memlog_testing {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

// Thread-local: other threads (a test's stream readers, the runtime's own)
// are neither counted nor failed.
thread_local bool active = false;
thread_local int64_t attempted = 0;
thread_local int64_t failed_count = 0;
thread_local int64_t fail_at = kNever;
thread_local bool fail_persistently = false;

// Returns whether this allocation is to fail.
bool ShouldFail() {
  if (!active) return false;
  const int64_t n = attempted++;
  if (n == fail_at || (fail_persistently && n > fail_at)) {
    ++failed_count;
    return true;
  }
  return false;
}

void* Allocate(size_t size) {
  if (ShouldFail()) return nullptr;
  return std::malloc(size == 0 ? 1 : size);
}

void* AllocateAligned(size_t size, std::align_val_t alignment) {
  if (ShouldFail()) return nullptr;
  const auto align = static_cast<size_t>(alignment);
  // aligned_alloc wants a size that is a multiple of the alignment.
  return std::aligned_alloc(align, (size + align - 1) / align * align);
}

void Restart(int64_t at, bool persistent) {
  attempted = 0;
  failed_count = 0;
  fail_at = at;
  fail_persistently = persistent;
}

}  // namespace

AllocationFailures::AllocationFailures() { Restart(kNever, false); }

AllocationFailures::~AllocationFailures() { Restart(kNever, false); }

AllocationFailures::Counting::Counting() : was_counting_(active) {
  active = true;
}

AllocationFailures::Counting::~Counting() { active = was_counting_; }

void AllocationFailures::FailAt(int64_t n, bool persistent) {
  Restart(n, persistent);
}

void AllocationFailures::Disarm() { Restart(kNever, false); }

int64_t AllocationFailures::count() const { return attempted; }

int64_t AllocationFailures::failed() const { return failed_count; }

}  // namespace memlog_testing

void* operator new(size_t size) {
  void* p = memlog_testing::Allocate(size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t size) {
  void* p = memlog_testing::Allocate(size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  return memlog_testing::Allocate(size);
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  return memlog_testing::Allocate(size);
}
void* operator new(size_t size, std::align_val_t alignment) {
  void* p = memlog_testing::AllocateAligned(size, alignment);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t size, std::align_val_t alignment) {
  void* p = memlog_testing::AllocateAligned(size, alignment);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new(size_t size, std::align_val_t alignment,
                   const std::nothrow_t&) noexcept {
  return memlog_testing::AllocateAligned(size, alignment);
}
void* operator new[](size_t size, std::align_val_t alignment,
                     const std::nothrow_t&) noexcept {
  return memlog_testing::AllocateAligned(size, alignment);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, size_t, std::align_val_t) noexcept {
  std::free(p);
}
