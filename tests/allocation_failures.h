// Copyright memlog authors.
//
// Makes chosen heap allocations of the calling thread fail, for tests of what
// a library does when memory runs out (the way SQLite's malloc tests do):
// linking this library (alwayslink) replaces the global operator new and
// delete, which then count the allocations made inside Run() and fail those
// that a test has armed. The test's own allocations, outside Run(), are
// neither counted nor failed.
//
//   memlog_testing::AllocationFailures failures;
//   RunScenario(failures);  // calls the library as failures.Run([&] {...})
//   const int64_t points = failures.count();      // injection points
//   for (int64_t n = 0; n < points; ++n) {
//     failures.FailAt(n);                          // the n-th fails, once
//     RunScenario(failures);  // must return statuses, never throw or crash
//     failures.Disarm();
//   }
//
// A failing `new` throws std::bad_alloc; a failing nothrow `new` returns
// nullptr, exactly as when malloc fails.
//
// Thread-safety: counts and fails only the thread that made it; one per
// thread at a time. Other threads' allocations are never failed.

#ifndef MEMLOG_TESTS_ALLOCATION_FAILURES_H_
#define MEMLOG_TESTS_ALLOCATION_FAILURES_H_

#include <cstdint>

namespace memlog_testing {

class AllocationFailures {
 public:
  // Fails nothing until FailAt().
  AllocationFailures();
  ~AllocationFailures();
  AllocationFailures(const AllocationFailures&) = delete;
  AllocationFailures& operator=(const AllocationFailures&) = delete;

  // Calls `call()` with this thread's allocations counted (and failed as
  // armed), and returns what it returns.
  template <typename Call>
  decltype(auto) Run(Call&& call) {
    const Counting counting;
    return call();
  }

  // Restarts the count and fails the allocation numbered `n` (0 is the next
  // one), and every later one too if `persistent`.
  void FailAt(int64_t n, bool persistent = false);

  // Restarts the count and fails nothing more.
  void Disarm();

  // Allocations attempted since construction, FailAt() or Disarm().
  int64_t count() const;
  // Allocations failed since then.
  int64_t failed() const;

 private:
  // Counts this thread's allocations while it exists; nests.
  class Counting {
   public:
    Counting();
    ~Counting();
    Counting(const Counting&) = delete;
    Counting& operator=(const Counting&) = delete;

   private:
    bool was_counting_;
  };
};

}  // namespace memlog_testing

#endif  // MEMLOG_TESTS_ALLOCATION_FAILURES_H_
