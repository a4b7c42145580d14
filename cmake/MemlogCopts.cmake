# Compiler flags for memlog's own targets: the CMake side of bazel/copts.bzl,
# with the same lists (tools/check_sources.py fails when they differ).
#
# They are PRIVATE to each of our targets, so they never reach a project that
# uses memlog. -Werror, like .bazelrc's, holds only where we choose the
# compiler: by default when memlog is the top-level project, never when it is
# added with add_subdirectory (set MEMLOG_WERROR to choose).

set(MEMLOG_COPTS
  -Wall
  -Wextra
  -Wpedantic
  -Wshadow
  -Wnon-virtual-dtor
  -Woverloaded-virtual
  -Wimplicit-fallthrough
  -Wcast-qual
)

# Tests and benchmarks use macros (TEST, BENCHMARK) that trip a few pedantic
# checks; everything else still applies.
set(MEMLOG_TEST_COPTS
  ${MEMLOG_COPTS}
  -Wno-pedantic
)

option(MEMLOG_WERROR "Treat warnings as errors in memlog's own targets"
  ${PROJECT_IS_TOP_LEVEL})

# memlog_copts(<target> [TEST])
#
# Gives <target> our warnings (the test set with TEST) and C++20 without
# compiler extensions, as the Bazel build compiles (-std=c++20).
function(memlog_copts target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "TEST" "" "")
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    if(arg_TEST)
      target_compile_options(${target} PRIVATE ${MEMLOG_TEST_COPTS})
    else()
      target_compile_options(${target} PRIVATE ${MEMLOG_COPTS})
    endif()
    if(MEMLOG_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
  target_compile_features(${target} PRIVATE cxx_std_20)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
endfunction()
