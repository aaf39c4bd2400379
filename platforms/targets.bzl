"""The targets the project builds for, each written once: its platform's constraint values, what its
Clang/LLD 19 toolchain needs beyond its flavour, and how //tools:cross_test.bzl runs a test built
for it.

  TARGETS                  name -> the target; the name is the platform's (//platforms:<name>), the
                           toolchain's flavour (//platforms:clang_toolchain_config.bzl), and the
                           prefix of its toolchain's targets (<name>_clang, <name>_clang_toolchain)
  platform_and_toolchain   the macro //platforms:BUILD.bazel calls once per target

WORKSPACE registers every toolchain of //platforms at once: no two targets share their constraint
values (platform_and_toolchain checks it), so exactly one toolchain matches each platform and the
order they are registered in does not matter.
"""

load(":clang_toolchain_config.bzl", "clang_toolchain")
load(":host_tools.bzl", "linux_sysroot", "tool_path")

def _hex_byte(value):
    digits = "0123456789abcdef"
    return digits[value // 16] + digits[value % 16]

# The ELF identity of a binary built for a target, as tools/elf_target.sh takes it: EI_CLASS,
# EI_DATA, and e_machine's two bytes in the file's byte order.
def _elf(bits, big_endian, machine):
    low, high = _hex_byte(machine % 256), _hex_byte(machine // 256)
    return struct(
        ei_class = "01" if bits == 32 else "02",
        ei_data = "02" if big_endian else "01",
        machine = high + low if big_endian else low + high,
    )

# The command line that runs a Linux binary of another CPU: qemu-user (the pinned tool qemu) finds
# the target's dynamic loader and libc under -L, in the pinned sysroot of that name.
def _qemu_user(qemu, sysroot):
    return [tool_path(qemu), "-L", linux_sysroot(sysroot)]

def _cross_test(suffix, elf, emulator, semihosting = False):
    """What //tools:cross_test.bzl needs to run a test built for a target.

    Args:
      suffix: the target's name in cross_test (its key of CROSS_TARGETS, the suffix of each test's
        name: multiboot2_test_i386).
      elf: its binaries' ELF identity, from _elf (e_machine from the ELF specification's EM_*).
      emulator: the command line that runs its binary (_qemu_user's for a Linux CPU); empty: the
        host CPU runs it.
      semihosting: True for a board: the binary is booted as its firmware (see cross_test.bzl's
        _board_runner) instead of run as a program.
    """
    return struct(suffix = suffix, elf = elf, emulator = emulator, semihosting = semihosting)

def _target(constraint_values, linker_script = None, cross_test = None):
    """One target.

    Args:
      constraint_values: its platform's constraint values, which its toolchain builds for.
      linker_script: a label of the script every link of its toolchain uses, if any.
      cross_test: from _cross_test, if the libraries' unit tests run on it through cross_test.
    """
    return struct(
        constraint_values = constraint_values,
        linker_script = linker_script,
        cross_test = cross_test,
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
        cross_test = _cross_test(
            suffix = "i386",
            elf = _elf(32, False, 3),  # EM_386
            emulator = [],
        ),
    ),
    "aarch64_linux": _target(
        constraint_values = [
            "@platforms//cpu:aarch64",
            "@platforms//os:linux",
        ],
        cross_test = _cross_test(
            suffix = "aarch64",
            elf = _elf(64, False, 183),  # EM_AARCH64
            emulator = _qemu_user("QEMU_AARCH64", "AARCH64"),
        ),
    ),
    "armhf_linux": _target(
        constraint_values = [
            # ARMv7-A with hardware floating point (Debian's armhf).
            "@platforms//cpu:armv7",
            "@platforms//os:linux",
        ],
        cross_test = _cross_test(
            suffix = "armhf",
            elf = _elf(32, False, 40),  # EM_ARM
            emulator = _qemu_user("QEMU_ARM", "ARMHF"),
        ),
    ),
    "riscv64_linux": _target(
        constraint_values = [
            "@platforms//cpu:riscv64",
            "@platforms//os:linux",
        ],
        cross_test = _cross_test(
            suffix = "riscv64",
            elf = _elf(64, False, 243),  # EM_RISCV
            emulator = _qemu_user("QEMU_RISCV64", "RISCV64"),
        ),
    ),
    # Big-endian: proves the libraries read their little-endian data explicitly.
    "s390x_linux": _target(
        constraint_values = [
            # 64-bit IBM Z.
            "@platforms//cpu:s390x",
            "@platforms//os:linux",
        ],
        cross_test = _cross_test(
            suffix = "s390x",
            elf = _elf(64, True, 22),  # EM_S390
            emulator = _qemu_user("QEMU_S390X", "S390X"),
        ),
    ),

    # Bare-metal Cortex-M4 (Armv7E-M, hard float): the libraries' unit tests, through the same
    # transition, run on QEMU's mps2-an386 board. The test is the board's whole firmware.
    "cortex_m4": _target(
        constraint_values = [
            # @platforms (Bazel 4.2.3's copy) has no Armv7E-M value: the generic "arm" CPU with
            # no operating system names it, and nothing else here uses that pair.
            "@platforms//cpu:arm",
            "@platforms//os:none",
        ],
        # The board's memory map.
        linker_script = "mps2_an386.ld",
        cross_test = _cross_test(
            suffix = "cortex_m4",
            elf = _elf(32, False, 40),  # EM_ARM
            # The board's UART and QEMU's monitor are switched off, so only the test's own output
            # reaches the test log.
            emulator = [
                tool_path("QEMU_SYSTEM_ARM"),
                "-machine",
                "mps2-an386",
                "-nographic",
                "-monitor",
                "none",
                "-serial",
                "none",
            ],
            semihosting = True,
        ),
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
            fail("platforms %s and %s have the same constraint values %s: both their toolchains " %
                 (name, other, target.constraint_values) +
                 "would match either platform, and the first registered would build for both")
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
