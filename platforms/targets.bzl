"""The targets the project builds for, each written once: its platform's constraint values and what
its Clang/LLD 19 toolchain needs beyond its flavour.

  TARGETS                  name -> the target; the name is the platform's (//platforms:<name>), the
                           toolchain's flavour (//platforms:clang_toolchain_config.bzl), and the
                           prefix of its toolchain's targets (<name>_clang, <name>_clang_toolchain)
  platform_and_toolchain   the macro //platforms:BUILD.bazel calls once per target

WORKSPACE registers every toolchain of //platforms at once: no two targets share their constraint
values (platform_and_toolchain checks it), so exactly one toolchain matches each platform and the
order they are registered in does not matter.
"""

load(":clang_toolchain_config.bzl", "clang_toolchain")

def _target(constraint_values, linker_script = None):
    """One target.

    Args:
      constraint_values: its platform's constraint values, which its toolchain builds for.
      linker_script: a label of the script every link of its toolchain uses, if any.
    """
    return struct(
        constraint_values = constraint_values,
        linker_script = linker_script,
    )

TARGETS = {
    # Linux on x86_64: libraries, host tests, tools, benchmarks; and where every build runs (the
    # execution platform of every toolchain).
    "host": _target(
        constraint_values = [
            "@platforms//cpu:x86_64",
            "@platforms//os:linux",
        ],
    ),
    # Bare x86_64 with no operating system: the kernel, reached through a transition
    # (//tools:kernel.bzl).
    "freestanding": _target(
        constraint_values = [
            # Long mode x86_64; the boot code switches the CPU into it before any C runs.
            "@platforms//cpu:x86_64",
            # No operating system underneath: no libc, no system calls.
            "@platforms//os:none",
        ],
    ),

    # Linux user space on other CPUs: the libraries' unit tests, reached through the transition of
    # //tools:cross_test.bzl and run natively (i386) or under qemu-user.
    "i386_linux": _target(
        constraint_values = [
            "@platforms//cpu:i386",
            "@platforms//os:linux",
        ],
    ),
    "aarch64_linux": _target(
        constraint_values = [
            "@platforms//cpu:aarch64",
            "@platforms//os:linux",
        ],
    ),
    "armhf_linux": _target(
        constraint_values = [
            # ARMv7-A with hardware floating point (Debian's armhf).
            "@platforms//cpu:armv7",
            "@platforms//os:linux",
        ],
    ),
    "riscv64_linux": _target(
        constraint_values = [
            "@platforms//cpu:riscv64",
            "@platforms//os:linux",
        ],
    ),
    # Big-endian: proves the libraries read their little-endian data explicitly.
    "s390x_linux": _target(
        constraint_values = [
            # 64-bit IBM Z.
            "@platforms//cpu:s390x",
            "@platforms//os:linux",
        ],
    ),

    # Bare-metal Cortex-M4 (Armv7E-M, hard float): the libraries' unit tests, through the same
    # transition, run on QEMU's mps2-an386 board.
    "cortex_m4": _target(
        constraint_values = [
            # @platforms (Bazel 4.2.3's copy) has no Armv7E-M value: the generic "arm" CPU with
            # no operating system names it, and nothing else here uses that pair.
            "@platforms//cpu:arm",
            "@platforms//os:none",
        ],
        # The board's memory map.
        linker_script = "mps2_an386.ld",
    ),
}

def platform_and_toolchain(name):
    """Declares the platform `name` of TARGETS and the Clang toolchain that builds for it.

    Args:
      name: a key of TARGETS.
    """
    target = TARGETS[name]
    for other, entry in TARGETS.items():
        if other != name and sorted(entry.constraint_values) == sorted(target.constraint_values):
            fail("platforms %s and %s have the same constraint values %s: toolchain resolution " %
                 (name, other, target.constraint_values) +
                 "could not tell them apart")
    native.platform(
        name = name,
        constraint_values = target.constraint_values,
    )
    clang_toolchain(
        name = name + "_clang",
        flavour = name,
        exec_compatible_with = TARGETS["host"].constraint_values,
        target_compatible_with = target.constraint_values,
        linker_script = target.linker_script,
    )
