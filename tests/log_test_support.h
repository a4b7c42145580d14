// Copyright memlog authors.
//
// Helpers shared by the tests: the payload each offset gets, a log made or
// the test fails, writes of numbered records, a status's message for
// matchers, and the pieces of the stress tests' self-checking record format.
//
//   std::unique_ptr<memlog::Log> log = test::MakeLog({.segment_size = 4});
//   test::WriteRecords(*log, 10);
//   EXPECT_EQ(log->Read(9)->data, test::Payload(9));

#ifndef MEMLOG_TESTS_LOG_TEST_SUPPORT_H_
#define MEMLOG_TESTS_LOG_TEST_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "memlog/log.h"

namespace memlog::test {

// The payload written at `offset`. Lengths vary with the offset so that a
// record read from the wrong slot or with the wrong length shows.
inline std::string Payload(Offset offset) {
  return "record " + std::to_string(offset) + " " +
         std::string(static_cast<size_t>(offset % 7), 'x');
}

// Creates a log with `options`; value() fails the test with the status if
// creation fails.
inline std::unique_ptr<Log> MakeLog(Options options = {}) {
  return Log::Create(std::move(options)).value();
}

// Writes `count` records with Payload(offset) to a log that no other thread
// writes, and checks the offsets they get.
inline void WriteRecords(Log& log, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const Offset expected = log.NextOffset();
    absl::StatusOr<Offset> offset = log.Write(Payload(expected));
    ASSERT_TRUE(offset.ok()) << offset.status();
    ASSERT_EQ(*offset, expected);
  }
}

// The message of `status`, for matchers such as HasSubstr.
inline std::string Message(const absl::Status& status) {
  return std::string(status.message());
}

// --- The stress tests' self-checking records: fixed-size fields copied in
// and out of the bytes, and an FNV-1a checksum over them.

inline uint64_t Fnv1a(std::string_view bytes) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

// Appends the bytes of `value`.
template <typename T>
void Put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

// Reads a T from the bytes at `at`. REQUIRES: at + sizeof(T) <= in.size().
template <typename T>
T Get(std::string_view in, size_t at) {
  T value;
  std::memcpy(&value, in.data() + at, sizeof(T));
  return value;
}

}  // namespace memlog::test

#endif  // MEMLOG_TESTS_LOG_TEST_SUPPORT_H_
