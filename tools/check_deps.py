#!/usr/bin/env python3
"""Checks that both Bazel modes declare every repository our BUILD files use.

memlog builds in two Bazel modes from one set of BUILD files: Bzlmod, where
MODULE.bazel declares the dependencies, and WORKSPACE mode (Bazel 4.2.3 here),
where memlog_dependencies() in bazel/repositories.bzl declares them. No Bazel
that reads MODULE.bazel runs on this machine, so this script is what keeps the
two in step. It fails when

- a BUILD or .bzl file names a repository (`@name//...`, `@name`) that
  MODULE.bazel (a bazel_dep's name or repo_name) or the WORKSPACE side
  (memlog_dependencies(), or the WORKSPACE file itself) does not declare;
- a bazel_dep of MODULE.bazel and the version table in the docstring of
  bazel/repositories.bzl disagree (module, version, dev_dependency), or a
  repository of the table is declared on one side only;
- a version in the comment just above a bazel_dep is not one of that row's
  versions (the registry's or Debian's);
- an installed Debian package's version is not the table's (checked when
  dpkg-query is there and the package is installed);
- MODULE.bazel's module version is not CMakeLists.txt's project VERSION;
- tests/consumer (a separate workspace that is also a module) uses a
  repository its MODULE.bazel does not declare, or asks for other versions
  than memlog's.

Usage: tools/check_deps.py [repository root]. Prints what it checked and
exits 1 on the first kind of problem it finds, after listing every instance.
"""

import ast
import pathlib
import re
import shutil
import subprocess
import sys

# Repositories that every Bazel provides.
BUILTIN_REPOSITORIES = {"bazel_tools", "platforms", "local_config_cc"}

# Debian libraries of the optional components (//http, //jetstream), declared
# by memlog_dependencies() for this repository's own WORKSPACE build only:
# Bzlmod users depend on //memlog and //sharded, which need none of them, and
# the Bazel Central Registry has no module under these labels.
WORKSPACE_ONLY_REPOSITORIES = {"boost", "nats_c"}

LABEL_RE = re.compile(r'"@([A-Za-z0-9_.\-]+)(?://[^"]*)?"')
VERSION_RE = re.compile(r"\b\d+(?:\.\d+)+\b")
TABLE_ROW_RE = re.compile(
    r"^    (?P<repo>[a-z_]+)\s+(?P<module>[a-z_\-]+) (?P<version>[0-9.]+)"
    r"(?P<dev> \(dev\))?\s+"
    r"(?:(?P<deb_package>[a-z0-9+.\-]+) (?P<deb_version>[0-9.]+)"
    r"|- \(offline stand-in\))\s*$")

problems = []


def problem(message):
    problems.append(message)


def starlark_files(root, skip_roots=()):
    """BUILD and .bzl files under root, without those of nested workspaces."""
    names = ("BUILD", "BUILD.bazel")
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith("bazel-") or part in (".git", "node_modules")
               for part in relative.parts):
            continue
        if any(path.is_relative_to(skip) for skip in skip_roots):
            continue
        if path.is_file() and (path.name in names or
                               path.suffix in (".bzl", ".BUILD")):
            yield path


def used_repositories(files, root):
    """{repository name: [file:line, ...]} of every label in files."""
    used = {}
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.lstrip().startswith("#"):
                continue
            for match in LABEL_RE.finditer(line):
                used.setdefault(match.group(1), []).append(
                    f"{path.relative_to(root)}:{number}")
    return used


def calls(tree, function):
    """Every call of the named function in a parsed Starlark file."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and
                node.func.id == function):
            yield node


def keywords(call):
    return {
        keyword.arg: ast.literal_eval(keyword.value)
        for keyword in call.keywords
        if isinstance(keyword.value, ast.Constant)
    }


def comment_above(lines, lineno):
    """The comment lines directly above 1-based line `lineno`."""
    comment = []
    index = lineno - 2
    while index >= 0 and lines[index].lstrip().startswith("#"):
        comment.insert(0, lines[index])
        index -= 1
    return "\n".join(comment)


def parse_module(path):
    """(module keywords, {repo: bazel_dep keywords + comment})."""
    text = path.read_text()
    lines = text.splitlines()
    tree = ast.parse(text, str(path))
    module = next(iter(calls(tree, "module")), None)
    module_keywords = keywords(module) if module else {}
    deps = {}
    for call in calls(tree, "bazel_dep"):
        dep = keywords(call)
        dep["comment"] = comment_above(lines, call.lineno)
        deps[dep.get("repo_name", dep["name"])] = dep
    return module_keywords, deps


def parse_repositories_bzl(path):
    """({repositories memlog_dependencies() declares}, {repo: table row})."""
    text = path.read_text()
    tree = ast.parse(text, str(path))
    declared = set()
    for function in ast.walk(tree):
        if (isinstance(function, ast.FunctionDef) and
                function.name == "memlog_dependencies"):
            for call in calls(function, "_maybe"):
                declared.add(ast.literal_eval(call.args[1]))
    table = {}
    docstring = ast.get_docstring(tree, clean=False) or ""
    for line in docstring.splitlines():
        match = TABLE_ROW_RE.match(line)
        if match:
            table[match.group("repo")] = match.groupdict()
    return declared, table


def parse_workspace(path):
    """(repositories the WORKSPACE declares, calls memlog_dependencies())."""
    tree = ast.parse(path.read_text(), str(path))
    declared = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = keywords(node).get("name")
            if isinstance(name, str):
                declared.add(name)
    uses_macro = any(True for _ in calls(tree, "memlog_dependencies"))
    return declared, uses_macro


def check_labels(title, used, module_names, workspace_names):
    for repo, places in sorted(used.items()):
        if repo in BUILTIN_REPOSITORIES:
            continue
        for side, names in (("MODULE.bazel", module_names),
                            ("the WORKSPACE side", workspace_names)):
            if side == "MODULE.bazel" and repo in WORKSPACE_ONLY_REPOSITORIES:
                continue
            if repo not in names:
                problem(f"{title}: @{repo} (used at {places[0]}"
                        f"{' and more' if len(places) > 1 else ''}) is not "
                        f"declared by {side}")


def debian_version(package):
    if not shutil.which("dpkg-query"):
        return None
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", package],
        capture_output=True, text=True, check=False)
    status, _, version = result.stdout.partition(" ")
    return version if result.returncode == 0 and status == "installed" else None


def check_table(module_deps, table, macro_declared):
    for repo, dep in sorted(module_deps.items()):
        row = table.get(repo)
        if row is None:
            problem(f"MODULE.bazel: bazel_dep {dep['name']} (repo @{repo}) has "
                    "no row in the table of bazel/repositories.bzl")
            continue
        if (row["module"], row["version"]) != (dep["name"], dep["version"]):
            problem(f"@{repo}: MODULE.bazel says {dep['name']} "
                    f"{dep['version']}, bazel/repositories.bzl says "
                    f"{row['module']} {row['version']}")
        if bool(row["dev"]) != bool(dep.get("dev_dependency", False)):
            problem(f"@{repo}: dev_dependency differs between MODULE.bazel "
                    "and the table of bazel/repositories.bzl")
        allowed = {row["version"], row["deb_version"]}
        for version in VERSION_RE.findall(dep["comment"]):
            if version not in allowed:
                problem(f"MODULE.bazel: the comment above bazel_dep "
                        f"{dep['name']} mentions {version}, which is neither "
                        f"its version nor Debian's ({', '.join(sorted(v for v in allowed if v))})")
    for repo in sorted(table):
        if repo not in module_deps:
            problem(f"bazel/repositories.bzl: table row @{repo} has no "
                    "bazel_dep in MODULE.bazel")
        if repo not in macro_declared:
            problem(f"bazel/repositories.bzl: table row @{repo} is not "
                    "declared by memlog_dependencies()")
    for repo, row in sorted(table.items()):
        if not row["deb_package"]:
            continue
        installed = debian_version(row["deb_package"])
        if installed is None:
            print(f"  (skipped: {row['deb_package']} is not installed)")
        elif row["deb_version"] not in installed:
            problem(f"bazel/repositories.bzl: @{repo} says "
                    f"{row['deb_package']} {row['deb_version']}, Debian has "
                    f"{installed} installed")


def cmake_version(root):
    path = root / "CMakeLists.txt"
    if not path.exists():
        return None
    text = re.sub(r"#[^\n]*", "", path.read_text())
    match = re.search(r"project\(\s*memlog\b[^)]*\bVERSION\s+([0-9.]+)", text)
    return match.group(1) if match else None


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    consumer = root / "tests" / "consumer"

    module, module_deps = parse_module(root / "MODULE.bazel")
    macro_declared, table = parse_repositories_bzl(
        root / "bazel" / "repositories.bzl")
    workspace_declared, _ = parse_workspace(root / "WORKSPACE")

    # memlog itself.
    files = list(starlark_files(root, skip_roots=[consumer]))
    used = used_repositories(files, root)
    check_labels("memlog", used, set(module_deps) | {module.get("name")},
                 macro_declared | workspace_declared)
    check_table(module_deps, table, macro_declared)
    version = cmake_version(root)
    if version != module.get("version"):
        problem(f"MODULE.bazel says version {module.get('version')}, "
                f"CMakeLists.txt's project(memlog VERSION ...) says {version}")
    print(f"memlog: {len(files)} Starlark files use "
          f"{', '.join('@' + r for r in sorted(used))}; "
          f"{len(module_deps)} bazel_deps, {len(table)} table rows")

    # The consumer workspace: its own MODULE.bazel and WORKSPACE.
    c_module, c_deps = parse_module(consumer / "MODULE.bazel")
    c_declared, c_uses_macro = parse_workspace(consumer / "WORKSPACE")
    if c_uses_macro:
        c_declared |= macro_declared
    c_files = list(starlark_files(consumer))
    c_used = used_repositories(c_files, root)
    check_labels("tests/consumer", c_used,
                 set(c_deps) | {c_module.get("name")}, c_declared)
    for repo, dep in sorted(c_deps.items()):
        if dep["name"] == module.get("name"):
            expected = module.get("version")
        elif repo in module_deps and module_deps[repo]["name"] == dep["name"]:
            expected = module_deps[repo]["version"]
        else:
            continue
        if dep["version"] != expected:
            problem(f"tests/consumer/MODULE.bazel: {dep['name']} "
                    f"{dep['version']}, memlog's is {expected}")
    print(f"tests/consumer: {len(c_files)} Starlark files use "
          f"{', '.join('@' + r for r in sorted(c_used))}")

    for message in problems:
        print(f"check_deps: {message}", file=sys.stderr)
    if problems:
        return 1
    print("check_deps: both Bazel modes declare every repository in use; "
          "versions agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
