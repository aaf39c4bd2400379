"""Runs a cc_test built for another target: natively (i386), under Debian's qemu-user (the other
Linux targets) or on an emulated board (the bare-metal Cortex-M4, QEMU's mps2-an386).

  cross_test   one test target: `test` built for one target of CROSS_TARGETS, then run
  cross_tests  a macro: one cross_test per target, named <test>_<suffix> (multiboot2_test_i386)

The targets, each one's emulator and its binaries' ELF identity are written in
//platforms:targets.bzl; the emulators and cross libcs are pinned in //platforms:host_tools.bzl,
so a missing one stops the build with the Debian package to install. Before a test runs, tools/elf_target.sh checks that
its binary is an ELF for the target (class, byte order, machine): one built for the host by
mistake would otherwise run natively where the emulator is the host CPU (i386), and pass.
"""

load("//platforms:targets.bzl", "TARGETS")
load(":platform_transition.bzl", "PLATFORM_TRANSITION_OUTPUTS", "to_platform", "with_transition_allowlist")

# Per target of //platforms:targets.bzl that has a cross_test entry, by its suffix there: the
# platform the test is built for, its binaries' ELF identity, the command line that runs its binary
# (empty: the host CPU runs it) and whether it boots it on a board instead (see _board_runner).
CROSS_TARGETS = {
    target.cross_test.suffix: struct(
        platform = "//platforms:" + name,
        elf = target.cross_test.elf,
        emulator = target.cross_test.emulator,
        semihosting = target.cross_test.semihosting,
    )
    for name, target in TARGETS.items()
    if target.cross_test
}

# The targets with an operating system underneath (threads, files, environment): a test that needs
# one runs on these, and not on a bare-metal board.
LINUX_TARGETS = [name for name, target in CROSS_TARGETS.items() if not target.semihosting]

def _cross_transition_impl(
        settings,  # @unused
        attr):
    return to_platform(CROSS_TARGETS[attr.target].platform)

_cross_transition = transition(
    implementation = _cross_transition_impl,
    inputs = [],
    outputs = PLATFORM_TRANSITION_OUTPUTS,
)

def _shell_quote(word):
    return "'" + word.replace("'", "'\\''") + "'"

# The body of a board test's runner. The test reaches the host by semihosting: QEMU prints what it
# writes on its stderr and exits with the status it passes to exit(). Its arguments travel as
# semihosting arg= values (with none, QEMU would hand it the firmware's file name instead, so an
# empty one is passed); picolibc's start file splits them at spaces into argv[1...], and QEMU's
# option parser splits at commas, so arguments holding either are refused.
def _board_runner(command, binary):
    return [
        "config=enable=on,target=native",
        "[ $# -gt 0 ] || config=\"$config,arg=\"",
        "for arg; do",
        "  case $arg in",
        "    *[,\\ ]*) echo \"$0: a board test argument holds a comma or a space: '$arg'\" >&2; exit 2 ;;",
        "  esac",
        "  config=\"$config,arg=$arg\"",
        "done",
        "exec " + " ".join([_shell_quote(word) for word in command]) +
        ' -semihosting-config "$config" -kernel ' + _shell_quote(binary),
    ]

def _cross_test_impl(ctx):
    test = ctx.attr.test[0]
    binary = test[DefaultInfo].files_to_run.executable
    if binary == None:
        fail("cross_test: %s is not an executable test" % test.label)
    runner = ctx.actions.declare_file(ctx.label.name + ".sh")
    target = CROSS_TARGETS[ctx.attr.target]
    check = "%s %s %s %s %s || exit 1" % (
        _shell_quote("./" + ctx.file._elf_target.short_path),
        _shell_quote("./" + binary.short_path),
        target.elf.ei_class,
        target.elf.ei_data,
        target.elf.machine,
    )
    if target.semihosting:
        body = _board_runner(target.emulator, "./" + binary.short_path)
    else:
        command = target.emulator + ["./" + binary.short_path]
        body = ["exec " + " ".join([_shell_quote(word) for word in command]) + ' "$@"']
    ctx.actions.write(
        output = runner,
        is_executable = True,
        content = "\n".join([
            "#!/bin/sh",
            "# Runs %s built for %s." % (test.label, target.platform),
            check,
        ] + body + [""]),
    )
    runfiles = ctx.runfiles(files = [binary, ctx.file._elf_target] + ctx.files._pinned_tools)
    runfiles = runfiles.merge(test[DefaultInfo].default_runfiles)
    return [DefaultInfo(executable = runner, runfiles = runfiles)]

cross_test = rule(
    implementation = _cross_test_impl,
    test = True,
    attrs = with_transition_allowlist({
        "test": attr.label(mandatory = True, executable = True, cfg = _cross_transition),
        "target": attr.string(mandatory = True, values = CROSS_TARGETS.keys()),
        "_elf_target": attr.label(default = Label("//tools:elf_target.sh"), allow_single_file = True),
        # The pinned tools' package versions: a new emulator or cross libc runs the test again.
        "_pinned_tools": attr.label(default = Label("//platforms:toolchain_files")),
    }),
    doc = "Builds `test` for CROSS_TARGETS[target].platform and runs it under its emulator.",
)

def cross_tests(test, targets = CROSS_TARGETS.keys(), args = None, args_on = {}, **kwargs):
    """Declares <test>_<target> for each target: `test` built for it and run under its emulator.

    Args:
      test: the name of a cc_test in this package.
      targets: keys of CROSS_TARGETS; all of them unless a test cannot run on some.
      args: the test's arguments on every target, unless args_on names the target.
      args_on: per target, arguments that replace `args` (fewer operations on a slow board).
      **kwargs: common test attributes (size, tags, ...) for every cross_test. Each is also
        tagged `cross`: a sanitizer run leaves them out (--test_tag_filters=-cross), as the
        transition drops its flags and they would only run again unchanged.
    """
    tags = kwargs.pop("tags", []) + ["cross"]
    for target in targets:
        cross_test(
            name = "%s_%s" % (test, target),
            test = ":" + test,
            target = target,
            args = args_on.get(target, args),
            tags = tags,
            **kwargs
        )
