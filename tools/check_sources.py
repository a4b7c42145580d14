#!/usr/bin/env python3
"""Checks that the CMake build lists what the Bazel build lists.

Bazel's BUILD files are the reference; each folder that has both a BUILD and
a CMakeLists.txt must agree on:

- the files: every .cc, .h and .sh file a BUILD rule names in srcs or hdrs
  is named in the CMakeLists.txt, and the other way round;
- the targets: every cc_test and cc_binary (but those tagged "manual", such
  as the libFuzzer binaries, which only Bazel builds) has a CMake target or
  test of the same name;
- the installed headers (FILE_SET HEADERS of memlog/ and sharded/): exactly
  the public headers of the folder's public library and the headers of the
  folder that they include, directly or not;
- the warning flags: bazel/copts.bzl and cmake/MemlogCopts.cmake set the
  same MEMLOG_COPTS and MEMLOG_TEST_COPTS.

BUILD files are read by running them as Python with stand-ins for the rules
(Starlark BUILD files are a subset of Python). Usage:
tools/check_sources.py [repository root]. Exits 1 after listing every
difference.
"""

import ast
import pathlib
import re
import sys

FOLDERS = [
    "memlog",
    "sharded",
    "examples",
    "tests",
    "tests/fuzz",
    "bench",
    "bench/baseline",
]
# Folders whose public headers CMake installs.
INSTALLED = ["memlog", "sharded"]
FILE_RE = re.compile(r"^[\w./-]+\.(?:cc|h|sh)$")
INCLUDE_RE = re.compile(r'^#include "([^"]+)"', re.M)

problems = []


def read_build(path):
    """Runs a BUILD file; returns its rules as dicts (with "kind")."""
    rules = []

    def rule(kind):
        def record(**kwargs):
            kwargs["kind"] = kind
            rules.append(kwargs)
        return record

    def load(_label, *symbols, **aliases):
        for symbol in symbols:
            scope.setdefault(symbol, rule(symbol) if "_" in symbol and
                             symbol.islower() else [])
        for alias in aliases:
            scope.setdefault(alias, [])

    scope = {
        "load": load,
        "package": lambda **kwargs: None,
        "exports_files": lambda *args, **kwargs: None,
        "config_setting": rule("config_setting"),
        "alias": rule("alias"),
        "glob": lambda *args, **kwargs: [],
        "select": lambda branches, **kwargs: next(iter(branches.values())),
    }
    exec(compile(path.read_text(), str(path), "exec"), scope)  # pylint: disable=exec-used
    return rules


def cmake_tokens(path):
    """The words of a CMakeLists.txt, without its comments."""
    text = re.sub(r"#[^\n]*", "", path.read_text())
    text = text.replace("${CMAKE_CURRENT_SOURCE_DIR}/", "")
    return re.findall(r"[^\s()\"]+", text)


def installed_headers(path):
    """Files after FILE_SET HEADERS ... FILES in a CMakeLists.txt."""
    text = re.sub(r"#[^\n]*", "", path.read_text())
    headers = set()
    for block in re.finditer(r"FILE_SET\s+HEADERS(.*?)\)", text, re.S):
        words = block.group(1).split()
        if "FILES" in words:
            for word in words[words.index("FILES") + 1:]:
                if word in ("PRIVATE", "PUBLIC", "INTERFACE", "FILE_SET"):
                    break
                headers.add(word)
    return headers


def include_closure(root, folder, headers):
    """headers (relative to folder) and the headers of folder they include."""
    seen = set()
    pending = [f"{folder}/{header}" for header in headers]
    while pending:
        header = pending.pop()
        if header in seen:
            continue
        seen.add(header)
        for included in INCLUDE_RE.findall((root / header).read_text()):
            if included.startswith(folder + "/"):
                pending.append(included)
    return {header[len(folder) + 1:] for header in seen}


# Rules of the optional components that only the Bazel (WORKSPACE) build has:
# the HTTP server (Boost) and the JetStream bridge (nats.c), and the programs
# and tests that use them.
BAZEL_ONLY_DEPS = ("//http", "//jetstream", "@boost", "@nats_c")


def bazel_only(rule):
    return any(dep.startswith(BAZEL_ONLY_DEPS) for dep in rule.get("deps", []))


def check_folder(root, folder):
    rules = [rule for rule in read_build(root / folder / "BUILD")
             if not bazel_only(rule)]
    cmake = root / folder / "CMakeLists.txt"
    if not cmake.exists():
        problems.append(f"{folder}: BUILD has no CMakeLists.txt beside it")
        return
    tokens = cmake_tokens(cmake)
    bazel_files = {
        source
        for rule in rules
        for source in rule.get("srcs", []) + rule.get("hdrs", [])
        if FILE_RE.match(source)
    }
    cmake_files = {token for token in tokens if FILE_RE.match(token)}
    for missing in sorted(bazel_files - cmake_files):
        problems.append(f"{folder}: {missing} is in BUILD, not in CMakeLists.txt")
    for extra in sorted(cmake_files - bazel_files):
        problems.append(f"{folder}: {extra} is in CMakeLists.txt, not in BUILD")

    names = set()
    for rule in rules:
        if rule["kind"] not in ("cc_test", "cc_binary"):
            continue
        if "manual" in rule.get("tags", []):
            continue
        names.add(rule["name"])
        if rule["name"] not in tokens:
            problems.append(f"{folder}: {rule['kind']} {rule['name']} has no "
                            "CMake target of that name")

    if folder in INSTALLED:
        public = [
            header
            for rule in rules
            if "//visibility:public" in rule.get("visibility", [])
            for header in rule.get("hdrs", [])
        ]
        expected = include_closure(root, folder, public)
        actual = installed_headers(cmake)
        for missing in sorted(expected - actual):
            problems.append(f"{folder}: {missing} is a public header or "
                            "included by one, but CMake does not install it")
        for extra in sorted(actual - expected):
            problems.append(f"{folder}: CMake installs {extra}, which no "
                            "public header includes")
    print(f"{folder}: {len(bazel_files)} files, {len(names)} tests and "
          "programs in both builds")


def bazel_copts(root):
    tree = ast.parse((root / "bazel" / "copts.bzl").read_text())
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            name = node.targets[0].id
            value = node.value
            if isinstance(value, ast.BinOp):  # MEMLOG_COPTS + [...]
                values[name] = values[value.left.id] + ast.literal_eval(
                    value.right)
            elif isinstance(value, ast.Call):
                # select() of a configuration (ASIO_COPTS, for //http, which
                # the CMake build does not have): nothing to compare.
                continue
            else:
                values[name] = ast.literal_eval(value)
    return values


def cmake_copts(root):
    text = re.sub(r"#[^\n]*", "",
                  (root / "cmake" / "MemlogCopts.cmake").read_text())
    values = {}
    for match in re.finditer(r"set\((MEMLOG_\w*COPTS)\s+([^)]*)\)", text):
        flags = []
        for word in match.group(2).split():
            reference = re.fullmatch(r"\$\{(\w+)\}", word)
            flags += values[reference.group(1)] if reference else [word]
        values[match.group(1)] = flags
    return values


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    for folder in FOLDERS:
        check_folder(root, folder)
    bazel, cmake = bazel_copts(root), cmake_copts(root)
    for name in sorted(set(bazel) | set(cmake)):
        if bazel.get(name) != cmake.get(name):
            problems.append(f"{name}: bazel/copts.bzl has {bazel.get(name)}, "
                            f"cmake/MemlogCopts.cmake has {cmake.get(name)}")
    for message in problems:
        print(f"check_sources: {message}", file=sys.stderr)
    if problems:
        return 1
    print("check_sources: the Bazel and CMake builds list the same files, "
          "tests, installed headers and flags")
    return 0


if __name__ == "__main__":
    sys.exit(main())
