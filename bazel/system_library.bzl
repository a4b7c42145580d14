"""A repository whose BUILD files are ours and whose libraries are the system's.

Debian installs headers under /usr/include (which the compiler searches by
default) and shared or static libraries under /usr/lib. A repository made by
this rule holds nothing but our BUILD files, placed at the packages the upstream
project uses, so that our targets name e.g. `@com_google_absl//absl/status`
exactly as they would with the upstream sources. `new_local_repository` cannot
do this for Abseil, whose labels live in many packages, so one small rule serves
every system library alike.
"""

def _system_library_impl(repository_ctx):
    repository_ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % repository_ctx.name)
    for build_file, package in repository_ctx.attr.build_files.items():
        target = package + "/BUILD" if package else "BUILD"
        repository_ctx.symlink(build_file, target)

system_library = repository_rule(
    implementation = _system_library_impl,
    attrs = {
        "build_files": attr.label_keyed_string_dict(
            allow_files = True,
            doc = "BUILD file -> package it becomes ('' for the root).",
        ),
    },
    local = True,
)
