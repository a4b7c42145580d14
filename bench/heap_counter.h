// Copyright memlog authors.
//
// Counts the heap bytes the calling thread allocates and frees while counting
// is on, by replacing the global operator new and delete (heap_counter.cc;
// link it with alwayslink). Bytes are malloc's usable sizes, so allocator
// rounding counts as memory held. Used to measure memlog and the baseline the
// same way.
//
//   memlog_bench::HeapCounter counter;   // counts this thread from now on
//   ... build a log ...
//   int64_t held = counter.live_bytes();
//
// NOTE: blocks allocated before counting started and freed while it runs
// subtract from the count; build what the measurement needs first.
//
// Thread-safety: counts only the thread that created it; one per thread.

#ifndef MEMLOG_BENCH_HEAP_COUNTER_H_
#define MEMLOG_BENCH_HEAP_COUNTER_H_

#include <cstdint>

namespace memlog_bench {

class HeapCounter {
 public:
  HeapCounter();
  ~HeapCounter();
  HeapCounter(const HeapCounter&) = delete;
  HeapCounter& operator=(const HeapCounter&) = delete;

  // Bytes allocated minus bytes freed by this thread since construction.
  int64_t live_bytes() const;
};

}  // namespace memlog_bench

#endif  // MEMLOG_BENCH_HEAP_COUNTER_H_
