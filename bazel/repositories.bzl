"""memlog's external dependencies, for this workspace and for its consumers.

Call `memlog_dependencies()` from a WORKSPACE after declaring the memlog
repository. Every dependency comes from Debian's packages (installed by
`./bazelw`), so nothing is downloaded. A repository that the calling workspace
has already declared is left alone: a consumer who builds Abseil, GoogleTest,
Google Benchmark or xxHash from source keeps their own.

Versions. The libraries are whatever Debian bookworm ships; `./bazelw` names
the packages and installs them, and the CMake build finds the same ones. For
Bzlmod builds, MODULE.bazel takes each dependency from the Bazel Central
Registry instead. One row per repository this macro declares for memlog's
BUILD files, with where else its version appears (tools/check_deps.py fails
when MODULE.bazel's bazel_dep lines or the installed Debian packages disagree
with this table):

    repository                   MODULE.bazel bazel_dep         Debian package
    com_google_absl              abseil-cpp 20220623.1          libabsl-dev 20220623.1
    xxhash                       xxhash 0.8.2                   libxxhash-dev 0.8.1
    com_google_googletest        googletest 1.12.1 (dev)        libgtest-dev 1.12.1
    com_github_google_benchmark  google_benchmark 1.8.2 (dev)   libbenchmark-dev 1.7.1
    rules_cc                     rules_cc 0.2.4                 - (offline stand-in)
    rules_shell                  rules_shell 0.4.1              - (offline stand-in)

`boost` (Debian's libboost1.81-dev 1.81, Boost.Asio and Boost.Beast) for
//http and `nats_c` (Debian's libnats-dev 3.4.1, nats.c) for //jetstream
are declared for this WORKSPACE build only: Bzlmod users depend on //memlog
and //sharded, which need neither.

`rules_java` and `remote_coverage_tools` are stand-ins for what Bazel 4.2.3's
own tools ask for; our BUILD files do not use them, and Bzlmod builds do not
need them.
"""

load(
    "//bazel:offline_rules.bzl",
    "offline_remote_coverage_tools",
    "offline_rules_cc",
    "offline_rules_java",
    "offline_rules_shell",
)
load("//bazel:system_library.bzl", "system_library")

_ABSL_PACKAGES = [
    "base",
    "container",
    "debugging",
    "functional",
    "hash",
    "memory",
    "numeric",
    "status",
    "strings",
    "synchronization",
    "time",
    "types",
]

def _maybe(repo_rule, name, **kwargs):
    if not native.existing_rule(name):
        repo_rule(name = name, **kwargs)

def memlog_dependencies():
    """Declares every repository memlog needs that is not declared yet."""
    _maybe(offline_rules_cc, "rules_cc")
    _maybe(offline_rules_shell, "rules_shell")
    _maybe(offline_rules_java, "rules_java")
    _maybe(offline_remote_coverage_tools, "remote_coverage_tools")

    _maybe(
        system_library,
        "com_google_absl",
        build_files = {
            Label("//bazel/third_party/absl:%s.BUILD" % package): "absl/" + package
            for package in _ABSL_PACKAGES
        },
    )
    _maybe(
        system_library,
        "com_google_googletest",
        build_files = {Label("//bazel/third_party:googletest.BUILD"): ""},
    )
    _maybe(
        system_library,
        "com_github_google_benchmark",
        build_files = {Label("//bazel/third_party:benchmark.BUILD"): ""},
    )
    _maybe(
        system_library,
        "xxhash",
        build_files = {Label("//bazel/third_party:xxhash.BUILD"): ""},
    )
    _maybe(
        system_library,
        "boost",
        build_files = {Label("//bazel/third_party:boost.BUILD"): ""},
    )
    _maybe(
        system_library,
        "nats_c",
        build_files = {Label("//bazel/third_party:nats.BUILD"): ""},
    )
