"""nasm_object: assembles one NASM source into an ELF64 object for a cc_binary's srcs.

No debug information: NASM 2.16 writes the absolute path of the source's directory into its DWARF
and has no option to remap it, which would make the kernel differ from checkout to checkout.
"""

NASM = "/usr/bin/nasm"

def _nasm_object_impl(ctx):
    output = ctx.actions.declare_file(ctx.label.name + ".o")
    ctx.actions.run_shell(
        inputs = [ctx.file.src] + ctx.files.includes,
        outputs = [output],
        command = """
if [ ! -x {nasm} ]; then
  echo "nasm_object: {nasm} not found: run tools/setup.sh" >&2
  exit 1
fi
exec {nasm} -f elf64 -Werror -o "$1" "$2"
""".format(nasm = NASM),
        arguments = [output.path, ctx.file.src.path],
        mnemonic = "Nasm",
        progress_message = "Assembling %s" % ctx.file.src.short_path,
    )
    return [DefaultInfo(files = depset([output]))]

nasm_object = rule(
    implementation = _nasm_object_impl,
    attrs = {
        "src": attr.label(allow_single_file = [".asm"], mandatory = True),
        "includes": attr.label_list(allow_files = [".inc", ".asm"]),
    },
    doc = "Assembles src with " + NASM + " (-f elf64) into <name>.o.",
)
