// Copyright memlog authors.
//
// test::FakeClock: a clock for Options::clock that only moves when told to,
// so that tests of timestamps and age limits never sleep.
//
//   test::FakeClock clock(absl::FromUnixSeconds(1'700'000'000));
//   auto log = memlog::Log::Create({.clock = clock.AsFunction()});
//   clock.Advance(absl::Minutes(5));
//
// Thread-safety: Now(), Advance() and Set() may be called from any thread.
// Lifetime: the clock must outlive the logs that use AsFunction().

#ifndef MEMLOG_TESTS_FAKE_CLOCK_H_
#define MEMLOG_TESTS_FAKE_CLOCK_H_

#include <atomic>
#include <cstdint>
#include <functional>

#include "absl/time/time.h"

namespace memlog::test {

class FakeClock {
 public:
  explicit FakeClock(absl::Time now) : nanos_(absl::ToUnixNanos(now)) {}

  absl::Time Now() {
    calls_.fetch_add(1, std::memory_order_relaxed);
    return absl::FromUnixNanos(nanos_.load(std::memory_order_relaxed));
  }
  void Advance(absl::Duration by) {
    nanos_.fetch_add(absl::ToInt64Nanoseconds(by), std::memory_order_relaxed);
  }
  // Moves the clock to `now`, also backwards (as NTP may step a real one).
  void Set(absl::Time now) {
    nanos_.store(absl::ToUnixNanos(now), std::memory_order_relaxed);
  }
  int calls() const { return calls_.load(std::memory_order_relaxed); }

  std::function<absl::Time()> AsFunction() {
    return [this] { return Now(); };
  }

 private:
  std::atomic<int64_t> nanos_;
  std::atomic<int> calls_{0};
};

}  // namespace memlog::test

#endif  // MEMLOG_TESTS_FAKE_CLOCK_H_
