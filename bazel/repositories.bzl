"""memlog's external dependencies, for this workspace and for its consumers.

Call `memlog_dependencies()` from a WORKSPACE after declaring the memlog
repository. Every dependency comes from Debian's packages (installed by
`./bazelw`), so nothing is downloaded. A repository that the calling workspace
has already declared is left alone: a consumer who builds Abseil, GoogleTest,
Google Benchmark or xxHash from source keeps their own.

Versions: the libraries are whatever Debian bookworm ships (Abseil 20220623,
GoogleTest 1.12.1, Google Benchmark 1.7.1, xxHash 0.8.1, nats.c 3.4.1);
`./bazelw` names the packages.
"""

load(
    "//bazel:offline_rules.bzl",
    "offline_remote_coverage_tools",
    "offline_rules_cc",
    "offline_rules_java",
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
        "nats_c",
        build_files = {Label("//bazel/third_party:nats.BUILD"): ""},
    )
