"""nasm_object: assembles one NASM source into an ELF64 object for a cc_binary's srcs.

Debug information (DWARF line tables, so gdb steps through the boot code) only with -c dbg:
NASM 2.16 writes the absolute path of the source's directory into its DWARF and has no option to
remap it (it resolves the sandbox's symlink to the source tree), so a kernel with it differs from
checkout to checkout.
The default and opt builds, which tools/check_reproducible.sh compares, carry none.
"""

load("//platforms:host_tools.bzl", "tool_path")

NASM = tool_path("NASM")

def _nasm_object_impl(ctx):
    output = ctx.actions.declare_file(ctx.label.name + ".o")
    debug = ["-g", "-F", "dwarf"] if ctx.var["COMPILATION_MODE"] == "dbg" else []
    include_dirs = {f.dirname + "/": None for f in ctx.files.includes}
    search = []
    for directory in include_dirs:
        search += ["-I", directory]
    ctx.actions.run_shell(
        inputs = [ctx.file.src] + ctx.files.includes + ctx.files._pinned_tools,
        outputs = [output],
        # //platforms:host_tools.bzl has checked that NASM is installed.
        command = 'exec {nasm} -f elf64 -Werror "$@"'.format(nasm = NASM),
        arguments = debug + search + ["-o", output.path, ctx.file.src.path],
        mnemonic = "Nasm",
        progress_message = "Assembling %s" % ctx.file.src.short_path,
    )
    return [DefaultInfo(files = depset([output]))]

nasm_object = rule(
    implementation = _nasm_object_impl,
    attrs = {
        "src": attr.label(allow_single_file = [".asm"], mandatory = True),
        "includes": attr.label_list(
            allow_files = [".inc", ".asm"],
            doc = "Files src %includes by base name; their directories go on the search path.",
        ),
        # The pinned tools' package versions (//platforms:host_tools.bzl): a new version of one is a
        # new input, so the action runs again rather than coming from a cache.
        "_pinned_tools": attr.label(default = Label("//platforms:toolchain_files")),
    },
    doc = "Assembles src with " + NASM + " (-f elf64) into <name>.o.",
)
