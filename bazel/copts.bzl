"""Compiler flags for memlog's own targets (not for the system libraries).

The language standard is set for the whole build in .bazelrc; these are the
warnings we hold our code to. Third-party headers come from /usr/include, which
the compiler treats as system headers, so their warnings do not reach us.

-Werror is not here but in .bazelrc: it holds in this workspace, where we
choose the compiler, and not in a consumer's build, where a newer compiler's
new warning must not break them.
"""

MEMLOG_COPTS = [
    "-Wall",
    "-Wextra",
    "-Wpedantic",
    "-Wshadow",
    "-Wnon-virtual-dtor",
    "-Woverloaded-virtual",
    "-Wimplicit-fallthrough",
    "-Wcast-qual",
]

# Tests and benchmarks use macros (TEST, BENCHMARK) that trip a few pedantic
# checks; everything else still applies.
MEMLOG_TEST_COPTS = MEMLOG_COPTS + [
    "-Wno-pedantic",
]

# For code that includes Boost.Asio, under TSan. GCC warns that TSan does not
# model std::atomic_thread_fence, which Asio uses in its "fenced blocks"
# (redundant with the scheduler's own locking: disabled here) and in the
# reference counts of its internal objects (the warning is silenced; the
# //http tests run clean under TSan).
ASIO_COPTS = select({
    "//bazel:tsan": [
        "-DBOOST_ASIO_DISABLE_FENCED_BLOCK",
        "-Wno-tsan",
    ],
    "//conditions:default": [],
})
