// Copyright memlog authors.
//
// FuzzInput: reads a fuzzer's bytes as a stream of small choices. Past the
// end it yields zeros, so every input decodes to some valid program of
// operations and the fuzzers never reject an input.
//
// A tiny stand-in for LLVM's FuzzedDataProvider that also builds with gcc,
// where the seed corpus is replayed as an ordinary test.

#ifndef MEMLOG_TESTS_FUZZ_FUZZ_INPUT_H_
#define MEMLOG_TESTS_FUZZ_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace memlog::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool empty() const { return position_ >= size_; }

  uint8_t Byte() { return empty() ? 0 : data_[position_++]; }

  // A value in [0, n). REQUIRES: n > 0.
  uint32_t Below(uint32_t n) { return Byte() % n; }

  uint64_t Uint64() {
    uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value = (value << 8) | Byte();
    return value;
  }
  int64_t Int64() { return static_cast<int64_t>(Uint64()); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t position_ = 0;
};

// a + b, clamped to the int64_t range instead of overflowing.
inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<int64_t>::max()
                 : std::numeric_limits<int64_t>::min();
  }
  return sum;
}

}  // namespace memlog::fuzz

// Reports a difference between the library and the model and aborts, which
// libFuzzer (and the corpus replay test) records as a crash.
#define MEMLOG_FUZZ_CHECK(condition, ...)                                     \
  do {                                                                        \
    if (!(condition)) {                                                       \
      std::fprintf(stderr, "%s:%d: check failed: %s\n  ", __FILE__, __LINE__, \
                   #condition);                                               \
      std::fprintf(stderr, __VA_ARGS__);                                      \
      std::fprintf(stderr, "\n");                                             \
      std::abort();                                                           \
    }                                                                         \
  } while (0)

#endif  // MEMLOG_TESTS_FUZZ_FUZZ_INPUT_H_
