// Copyright memlog authors.
//
// MEMLOG_DCHECK: debug assertions for the REQUIRES: clauses of memlog's
// internal APIs (segment states, reference counts, index order). Not part of
// the public API.
//
//   MEMLOG_DCHECK(!full(), "Append() on a full segment");
//
// Active unless NDEBUG is defined: in Bazel's default (fastbuild) builds, so
// in the tests, the sanitizer configs and the fuzzers; compiled out of
// optimised builds (-c opt), where they cost nothing. A failed check prints
// the condition, the message and where it failed, then aborts: it marks a bug
// in memlog itself, which no status could report.

#ifndef MEMLOG_INTERNAL_ASSERT_H_
#define MEMLOG_INTERNAL_ASSERT_H_

#include <cstdio>
#include <cstdlib>

namespace memlog::internal {

[[noreturn, gnu::cold, gnu::noinline]] inline void AssertionFailed(
    const char* condition, const char* message, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: memlog internal check failed: %s (%s)\n", file,
               line, message, condition);
  std::abort();
}

}  // namespace memlog::internal

#ifdef NDEBUG
#define MEMLOG_DCHECK(condition, message) \
  do {                                    \
  } while (false && (condition))
#else
#define MEMLOG_DCHECK(condition, message)                              \
  do {                                                                 \
    if (!(condition)) {                                                \
      ::memlog::internal::AssertionFailed(#condition, message, __FILE__, \
                                          __LINE__);                   \
    }                                                                  \
  } while (false)
#endif

#endif  // MEMLOG_INTERNAL_ASSERT_H_
