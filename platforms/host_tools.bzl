"""The pinned tools: their one list, and the check at load time that each is installed.

The toolchains and rules call tools by absolute, version-pinned paths. A missing one would
otherwise surface as an obscure "No such file or directory" from deep inside an action; this
repository rule fails first, naming the tool and the command that installs it.
"""

# Every tool a build or test action runs, by name: its absolute, version-pinned path and the
# Debian package that provides it. This is the one list: rules take paths from it with
# tool_path("NAME"); scripts source the tool_paths.sh that the host_tools repository writes from it
# (NAME=path lines: in a Bazel action or test as @host_tools//:tool_paths.sh, outside Bazel through
# tools/tool_paths.sh). To pin another tool, add a line here and its package to tools/setup.sh.
PINNED_TOOLS = {
    # The C toolchains (platforms/clang_toolchain_config.bzl).
    "CLANG": ("/usr/bin/clang-19", "clang-19"),
    "CLANG_CPP": ("/usr/bin/clang-cpp-19", "clang-19"),
    "LLD": ("/usr/bin/ld.lld-19", "lld-19"),
    "LLVM_AR": ("/usr/bin/llvm-ar-19", "llvm-19"),
    "LLVM_NM": ("/usr/bin/llvm-nm-19", "llvm-19"),
    "LLVM_OBJCOPY": ("/usr/bin/llvm-objcopy-19", "llvm-19"),
    "LLVM_OBJDUMP": ("/usr/bin/llvm-objdump-19", "llvm-19"),
    "LLVM_STRIP": ("/usr/bin/llvm-strip-19", "llvm-19"),
    "LLVM_SIZE": ("/usr/bin/llvm-size-19", "llvm-19"),
    # The kernel image (tools/nasm.bzl, tools/make_iso.sh).
    "NASM": ("/usr/bin/nasm", "nasm"),
    "GRUB_MKRESCUE": ("/usr/bin/grub-mkrescue", "grub-common"),
    "XORRISO": ("/usr/bin/xorriso", "xorriso"),
    "MFORMAT": ("/usr/bin/mformat", "mtools"),
    "GRUB_BIOS_BOOT_IMG": ("/usr/lib/grub/i386-pc/boot.img", "grub-pc-bin"),
    "GRUB_EFI_KERNEL_IMG": ("/usr/lib/grub/x86_64-efi/kernel.img", "grub-efi-amd64-bin"),
    # Boot tests (tools/qemu.bzl, tools/qemu_runner.py, tests/gdb_attach_test.sh).
    "QEMU": ("/usr/bin/qemu-system-x86_64", "qemu-system-x86"),
    "OVMF_CODE": ("/usr/share/OVMF/OVMF_CODE_4M.fd", "ovmf"),
    "OVMF_VARS": ("/usr/share/OVMF/OVMF_VARS_4M.fd", "ovmf"),
    "PYTHON": ("/usr/bin/python3", "python3"),
    "GDB": ("/usr/bin/gdb", "gdb"),
    "TIMEOUT": ("/usr/bin/timeout", "coreutils"),
    # The allocator benchmark (//alloc/bench): callgrind counts instructions, gnuplot draws.
    "VALGRIND": ("/usr/bin/valgrind", "valgrind"),
    "GNUPLOT": ("/usr/bin/gnuplot", "gnuplot-nox"),
    # ... zlib for reading traces, and the allocators it compares.
    "ZLIB_H": ("/usr/include/zlib.h", "zlib1g-dev"),
    "LIBJEMALLOC": ("/usr/lib/x86_64-linux-gnu/libjemalloc.so", "libjemalloc-dev"),
    "LIBMIMALLOC": ("/usr/lib/x86_64-linux-gnu/libmimalloc.so", "libmimalloc-dev"),
    "LIBTCMALLOC_MINIMAL": ("/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so", "libgoogle-perftools-dev"),
    # Bare-metal Cortex-M4: picolibc, libgcc, and the board emulator that runs its tests.
    "PICOLIBC_CRT0_SEMIHOST": ("/usr/lib/picolibc/arm-none-eabi/lib/thumb/v7e-m+fp/hard/crt0-semihost.o", "picolibc-arm-none-eabi"),
    "ARM_NONE_EABI_LIBGCC": ("/usr/lib/gcc/arm-none-eabi/12.2.1/thumb/v7e-m+fp/hard/libgcc.a", "gcc-arm-none-eabi"),
    "QEMU_SYSTEM_ARM": ("/usr/bin/qemu-system-arm", "qemu-system-arm"),
    # Linux targets of //tools:cross_test.bzl: each one's libc, gcc start files and libgcc, and
    # the emulator that runs its tests (i386 runs natively).
    "I386_CRT1": ("/usr/lib32/crt1.o", "libc6-dev-i386"),
    "I386_CRTBEGIN": ("/usr/lib/gcc/x86_64-linux-gnu/12/32/crtbeginS.o", "lib32gcc-12-dev"),
    "I386_LOADER": ("/lib/ld-linux.so.2", "libc6-i386"),
    "AARCH64_CRT1": ("/usr/aarch64-linux-gnu/lib/crt1.o", "libc6-dev-arm64-cross"),
    "AARCH64_CRTBEGIN": ("/usr/lib/gcc-cross/aarch64-linux-gnu/12/crtbeginS.o", "libgcc-12-dev-arm64-cross"),
    "QEMU_AARCH64": ("/usr/bin/qemu-aarch64-static", "qemu-user-static"),
    "ARMHF_CRT1": ("/usr/arm-linux-gnueabihf/lib/crt1.o", "libc6-dev-armhf-cross"),
    "ARMHF_CRTBEGIN": ("/usr/lib/gcc-cross/arm-linux-gnueabihf/12/crtbeginS.o", "libgcc-12-dev-armhf-cross"),
    "QEMU_ARM": ("/usr/bin/qemu-arm-static", "qemu-user-static"),
    "RISCV64_CRT1": ("/usr/riscv64-linux-gnu/lib/crt1.o", "libc6-dev-riscv64-cross"),
    "RISCV64_CRTBEGIN": ("/usr/lib/gcc-cross/riscv64-linux-gnu/12/crtbeginS.o", "libgcc-12-dev-riscv64-cross"),
    "QEMU_RISCV64": ("/usr/bin/qemu-riscv64-static", "qemu-user-static"),
    "S390X_CRT1": ("/usr/s390x-linux-gnu/lib/crt1.o", "libc6-dev-s390x-cross"),
    "S390X_CRTBEGIN": ("/usr/lib/gcc-cross/s390x-linux-gnu/12/crtbeginS.o", "libgcc-12-dev-s390x-cross"),
    "QEMU_S390X": ("/usr/bin/qemu-s390x-static", "qemu-user-static"),
}

def tool_path(name):
    """The absolute path of a pinned tool.

    Args:
      name: a key of PINNED_TOOLS, such as "NASM".

    Returns:
      its path; fails for a name that is not pinned.
    """
    if name not in PINNED_TOOLS:
        fail("no pinned tool named %s: add it to PINNED_TOOLS in //platforms:host_tools.bzl" % name)
    return PINNED_TOOLS[name][0]

def _host_tools_impl(repository_ctx):
    missing = []
    for path, package in PINNED_TOOLS.values():
        if not repository_ctx.path(path).exists:
            missing.append("  %s (Debian package %s)" % (path, package))
    if missing:
        fail("\n".join([
            "pinned build tools are missing:",
        ] + missing + [
            "run tools/setup.sh (as root) to install them.",
        ]))
    repository_ctx.file("tool_paths.sh", "\n".join([
        "# Generated by //platforms:host_tools.bzl from PINNED_TOOLS: every path was found.",
    ] + ["%s=%s" % (name, entry[0]) for name, entry in sorted(PINNED_TOOLS.items())] + [""]))
    repository_ctx.file("BUILD.bazel", "\n".join([
        "# Generated by //platforms:host_tools.bzl: every pinned tool was found.",
        "package(default_visibility = [\"//visibility:public\"])",
        "",
        "filegroup(name = \"checked\")",
        "",
        "# NAME=path for every pinned tool, for scripts to source.",
        "exports_files([\"tool_paths.sh\"])",
        "",
    ]))

host_tools = repository_rule(
    implementation = _host_tools_impl,
    local = True,
)
