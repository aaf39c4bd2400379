"""Rules that turn the kernel's cc_binary into a bootable image.

  freestanding_binary  builds a cc_binary for //platforms:freestanding, whatever --platforms says
  grub_iso             wraps a kernel ELF in a GRUB 2 ISO (BIOS and UEFI) that boots it at once
"""

load("//platforms:host_tools.bzl", "tool_path")
load(":platform_transition.bzl", "PLATFORM_TRANSITION_OUTPUTS", "to_platform", "with_transition_allowlist")

# The tools make_iso.sh runs, handed to it in its environment.
_MAKE_ISO_TOOLS = ["GRUB_MKRESCUE", "XORRISO", "MFORMAT", "MCOPY"]

def _freestanding_transition_impl(
        settings,  # @unused
        attr):  # @unused
    settings = to_platform("//platforms:freestanding")

    # Debug information stays in the ELF at every compilation mode, for gdb.
    settings["//command_line_option:strip"] = "never"
    return settings

freestanding_transition = transition(
    implementation = _freestanding_transition_impl,
    inputs = [],
    outputs = PLATFORM_TRANSITION_OUTPUTS + ["//command_line_option:strip"],
)

def _freestanding_binary_impl(ctx):
    binary = ctx.attr.binary[0][DefaultInfo].files.to_list()
    if len(binary) != 1:
        fail("freestanding_binary: %s must produce exactly one file" % ctx.attr.binary[0].label)
    output = ctx.actions.declare_file(ctx.label.name + ".elf")
    ctx.actions.run_shell(
        inputs = binary,
        outputs = [output],
        command = 'cp "$1" "$2"',
        arguments = [binary[0].path, output.path],
        mnemonic = "CopyKernel",
    )
    return [DefaultInfo(files = depset([output]), runfiles = ctx.runfiles(files = [output]))]

freestanding_binary = rule(
    implementation = _freestanding_binary_impl,
    attrs = with_transition_allowlist({
        "binary": attr.label(mandatory = True, cfg = freestanding_transition),
    }),
    doc = "Builds `binary` for //platforms:freestanding and names the result <name>.elf.",
)

def _grub_iso_impl(ctx):
    output = ctx.actions.declare_file(ctx.label.name + ".iso")
    ctx.actions.run(
        executable = ctx.executable._make_iso,
        inputs = [ctx.file.kernel] + ctx.files._pinned_tools,
        outputs = [output],
        arguments = [output.path, ctx.file.kernel.path, ctx.attr.cmdline] +
                    (["\n".join(ctx.attr.grub_commands)] if ctx.attr.grub_commands else []),
        env = {name: tool_path(name) for name in _MAKE_ISO_TOOLS},
        mnemonic = "GrubIso",
        progress_message = "Making GRUB image %s" % output.short_path,
    )
    return [DefaultInfo(files = depset([output]), runfiles = ctx.runfiles(files = [output]))]

grub_iso = rule(
    implementation = _grub_iso_impl,
    attrs = {
        "kernel": attr.label(allow_single_file = True, mandatory = True),
        "cmdline": attr.string(doc = "Kernel command line, passed by GRUB in the boot information. " +
                                     "It is written into grub.cfg as it is, so GRUB's script " +
                                     "syntax applies: $, ;, # and quotes act as GRUB makes them " +
                                     "(newline_cmdline_test quotes a newline that way)."),
        "grub_commands": attr.string_list(
            doc = "GRUB commands run before the kernel is loaded (for tests: `cutmem` to take a " +
                  "range out of the memory map GRUB passes on).",
        ),
        "_make_iso": attr.label(
            default = "//tools:make_iso",
            executable = True,
            cfg = "exec",
        ),
        # The pinned tools' package versions (//platforms:host_tools.bzl): a new version of one is a
        # new input, so the action runs again rather than coming from a cache.
        "_pinned_tools": attr.label(default = Label("//platforms:toolchain_files")),
    },
    doc = "A GRUB 2 ISO (BIOS and UEFI) whose menu boots `kernel` via multiboot2 at once.",
)
