"""debug_build: the files of other targets, rebuilt with -c dbg whatever the command line says.

    debug_build(name = "kernel_dbg", srcs = ["//kernel:kernel"])

gives the kernel ELF with full DWARF (-g -O0, not stripped) even in a fastbuild `bazel test`, so
a test can read variables by name in gdb. The kernel rules still apply their own transition to
the freestanding platform underneath.
"""

load(":platform_transition.bzl", "with_transition_allowlist")

def _debug_transition_impl(
        settings,  # @unused: the transition sets one value, whatever the current ones are
        attr):  # @unused
    return {"//command_line_option:compilation_mode": "dbg"}

_debug_transition = transition(
    implementation = _debug_transition_impl,
    inputs = [],
    outputs = ["//command_line_option:compilation_mode"],
)

def _debug_build_impl(ctx):
    files = depset(transitive = [src[DefaultInfo].files for src in ctx.attr.srcs])
    runfiles = ctx.runfiles(transitive_files = files)
    for src in ctx.attr.srcs:
        runfiles = runfiles.merge(src[DefaultInfo].default_runfiles)
    return [DefaultInfo(files = files, runfiles = runfiles)]

debug_build = rule(
    implementation = _debug_build_impl,
    attrs = with_transition_allowlist({
        "srcs": attr.label_list(mandatory = True, cfg = _debug_transition),
    }),
    doc = "Forwards the files of `srcs`, built with --compilation_mode=dbg.",
)
