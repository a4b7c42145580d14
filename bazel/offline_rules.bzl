"""Offline stand-ins for the rule repositories Bazel 4.2.3 asks for.

Bazel's own tools (`@bazel_tools`) load `@rules_cc`, `@rules_java` and
`@remote_coverage_tools`, which it would normally download, and our BUILD
files load their rules from `@rules_cc` and `@rules_shell`, as newer Bazels
require (Bazel 9 has no native C++ or shell rules). This build must work
without a network, so each is replaced by a tiny repository that forwards to
the rules built into Bazel 4.2.3, under the load paths of the real ones.

The repositories are written by a repository rule rather than checked in and
referenced with a relative `local_repository` path, because such a path would
resolve against a consumer's workspace root when memlog is used as an
external repository. Under Bzlmod none of this is used: MODULE.bazel takes
the real rules_cc and rules_shell from the registry.
"""

_RULES_CC_DEFS = '''\
"""Forwards @rules_cc to the C++ rules built into Bazel."""

cc_binary = native.cc_binary
cc_import = native.cc_import
cc_library = native.cc_library
cc_proto_library = native.cc_proto_library
cc_shared_library = getattr(native, "cc_shared_library", None)
cc_test = native.cc_test
cc_toolchain = native.cc_toolchain
cc_toolchain_suite = native.cc_toolchain_suite
fdo_prefetch_hints = native.fdo_prefetch_hints
fdo_profile = native.fdo_profile
objc_import = native.objc_import
objc_library = native.objc_library
'''

_RULES_CC_BUILD = '''\
package(default_visibility = ["//visibility:public"])

alias(
    name = "toolchain_type",
    actual = "@bazel_tools//tools/cpp:toolchain_type",
)
'''

# One file per rule, as in rules_shell itself (`shell/sh_test.bzl`, ...).
_RULES_SHELL_RULE = '''\
"""Forwards @rules_shell//shell:{rule}.bzl to the rule built into Bazel."""

{rule} = native.{rule}
'''

_RULES_SHELL_RULES = ["sh_binary", "sh_library", "sh_test"]

_RULES_JAVA_DEFS = '''\
"""Forwards @rules_java to the Java rules built into Bazel."""

java_binary = native.java_binary
java_import = native.java_import
java_library = native.java_library
java_lite_proto_library = native.java_lite_proto_library
java_plugin = native.java_plugin
java_proto_library = native.java_proto_library
java_runtime = native.java_runtime
java_test = native.java_test
java_toolchain = native.java_toolchain
'''

# Coverage is not collected offline; these stand in for the downloaded tools
# that every test rule names as implicit dependencies.
_COVERAGE_BUILD = '''\
package(default_visibility = ["//visibility:public"])

filegroup(name = "coverage_report_generator")

filegroup(name = "lcov_merger")
'''

def _files_repository_impl(repository_ctx):
    for path, content in repository_ctx.attr.files.items():
        repository_ctx.file(path, content, executable = False)

files_repository = repository_rule(
    implementation = _files_repository_impl,
    attrs = {"files": attr.string_dict(doc = "path -> content")},
    doc = "A repository made of the given files; needs no path and no network.",
)

def offline_rules_cc(name):
    files_repository(
        name = name,
        files = {
            "WORKSPACE": 'workspace(name = "%s")\n' % name,
            "BUILD": "",
            "cc/BUILD": _RULES_CC_BUILD,
            "cc/defs.bzl": _RULES_CC_DEFS,
        },
    )

def offline_rules_shell(name):
    files = {
        "WORKSPACE": 'workspace(name = "%s")\n' % name,
        "BUILD": "",
        "shell/BUILD": "",
    }
    for rule in _RULES_SHELL_RULES:
        files["shell/%s.bzl" % rule] = _RULES_SHELL_RULE.format(rule = rule)
    files_repository(name = name, files = files)

def offline_rules_java(name):
    files_repository(
        name = name,
        files = {
            "WORKSPACE": 'workspace(name = "%s")\n' % name,
            "BUILD": "",
            "java/BUILD": "",
            "java/defs.bzl": _RULES_JAVA_DEFS,
        },
    )

def offline_remote_coverage_tools(name):
    files_repository(
        name = name,
        files = {
            "WORKSPACE": 'workspace(name = "%s")\n' % name,
            "BUILD": _COVERAGE_BUILD,
        },
    )
