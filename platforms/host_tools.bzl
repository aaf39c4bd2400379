"""The pinned tools: their one list, and the check at load time that each is installed.

The toolchains, rules and scripts call tools by absolute, version-pinned paths. A missing one would
otherwise surface as an obscure "No such file or directory" from deep inside an action; this
repository rule fails first, naming the tool and the command that installs it.

Bazel 4.2.3 cannot watch a file outside the workspace, so the rule (local = True) runs when a
Bazel server first needs the repository: a tool removed while that server runs shows up as the
obscure error from the action that runs it, until `bazel shutdown` (tools/check_missing_tool.sh
checks a fresh output base).
"""

# Every absolute path the project uses, by name: the path and the Debian package that provides it.
# This is the one place such a path is written (tools/check_tool_paths.sh fails on a copy
# anywhere else); everything else takes it from here:
#   - rules and toolchains: tool_path(NAME), tool_dir(NAME) and linux_sysroot(TARGET);
#   - scripts in a Bazel action or test: @host_tools//:tool_paths.sh (NAME=path lines);
#   - scripts outside Bazel (tools/*.sh, .ci/run): tools/tool_paths.sh, which reads this file and
#     checks with require_tools NAME... that what the script runs is installed;
#   - tools/setup.sh installs the package of every entry whose path is missing.
# Keep one entry a line, `"NAME": ("path", "package"),`: tools/tool_paths.sh reads them so, and
# //tools:tool_paths_test checks that it reads what Bazel reads. A version that several entries
# name is written once, in VERSIONS; an entry writes it as {NAME}, which both readers replace.
#
# VERSIONS: the LLVM and GCC releases whose paths and packages the entries name (one a line,
# `"NAME": "version",`). Moving to another release is a change of one line here.
VERSIONS = {
    "LLVM": "19",
    "GCC": "12",
}

#
# PINNED_TOOLS: what a build or test runs or reads (a test of a check script may also run
# SCRIPT_TOOLS); the host_tools repository checks them all before anything builds.
PINNED_TOOLS = {
    # The C toolchains (platforms/clang_toolchain_config.bzl): compiler, headers, binutils.
    "CLANG": ("/usr/bin/clang-{LLVM}", "clang-{LLVM}"),
    "CLANG_BUILTIN_INCLUDE": ("/usr/lib/llvm-{LLVM}/lib/clang/{LLVM}/include", "libclang-common-{LLVM}-dev"),
    "HOST_INCLUDE": ("/usr/include", "libc6-dev"),
    "HOST_ARCH_INCLUDE": ("/usr/include/x86_64-linux-gnu", "libc6-dev"),
    # The host's start files and libraries, named so that the link of a host program does not
    # depend on which gcc installation clang would find (a newer libgcc-dev would win otherwise).
    "HOST_CRT1": ("/usr/lib/x86_64-linux-gnu/crt1.o", "libc6-dev"),
    "HOST_CRTBEGIN": ("/usr/lib/gcc/x86_64-linux-gnu/{GCC}/crtbeginS.o", "libgcc-{GCC}-dev"),
    "CLANG_CPP": ("/usr/bin/clang-cpp-{LLVM}", "clang-{LLVM}"),
    "LLD": ("/usr/bin/ld.lld-{LLVM}", "lld-{LLVM}"),
    "LLVM_AR": ("/usr/bin/llvm-ar-{LLVM}", "llvm-{LLVM}"),
    "LLVM_NM": ("/usr/bin/llvm-nm-{LLVM}", "llvm-{LLVM}"),
    "LLVM_OBJCOPY": ("/usr/bin/llvm-objcopy-{LLVM}", "llvm-{LLVM}"),
    "LLVM_OBJDUMP": ("/usr/bin/llvm-objdump-{LLVM}", "llvm-{LLVM}"),
    "LLVM_STRIP": ("/usr/bin/llvm-strip-{LLVM}", "llvm-{LLVM}"),
    "LLVM_SIZE": ("/usr/bin/llvm-size-{LLVM}", "llvm-{LLVM}"),
    # What the toolchain names for the tools it has no use for (gcov, dwp).
    "FALSE": ("/bin/false", "coreutils"),
    # The size report (//tools:size_report.bzl): the action that joins its tables, and the script
    # it writes for `bazel run` to print it.
    "CAT": ("/bin/cat", "coreutils"),
    # The kernel image (tools/nasm.bzl, tools/make_iso.sh).
    "NASM": ("/usr/bin/nasm", "nasm"),
    "GRUB_MKRESCUE": ("/usr/bin/grub-mkrescue", "grub-common"),
    "XORRISO": ("/usr/bin/xorriso", "xorriso"),
    "MFORMAT": ("/usr/bin/mformat", "mtools"),
    "MCOPY": ("/usr/bin/mcopy", "mtools"),
    "GRUB_BIOS_BOOT_IMG": ("/usr/lib/grub/i386-pc/boot.img", "grub-pc-bin"),
    "GRUB_EFI_KERNEL_IMG": ("/usr/lib/grub/x86_64-efi/kernel.img", "grub-efi-amd64-bin"),
    # Boot tests (tools/qemu.bzl, tools/qemu_runner.py, tests/gdb_attach_test.sh).
    "QEMU": ("/usr/bin/qemu-system-x86_64", "qemu-system-x86"),
    "OVMF_CODE": ("/usr/share/OVMF/OVMF_CODE_4M.fd", "ovmf"),
    "OVMF_VARS": ("/usr/share/OVMF/OVMF_VARS_4M.fd", "ovmf"),
    # The BIOS QEMU boots the BIOS tests with (its default, found by QEMU itself): listed so that
    # its package's version is an input of every boot test, as the other firmware's is.
    "SEABIOS": ("/usr/share/seabios/bios-256k.bin", "seabios"),
    "PYTHON": ("/usr/bin/python3", "python3"),
    # The versions of the pinned tools' packages, which the actions that use them take as an input.
    "DPKG_QUERY": ("/usr/bin/dpkg-query", "dpkg"),
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
    # ThreadSanitizer tests run without address randomisation (.bazelrc, //tools:without_aslr).
    "SETARCH": ("/usr/bin/setarch", "util-linux"),
    # Bare-metal Cortex-M4: picolibc, libgcc, and the board emulator that runs its tests.
    "PICOLIBC_INCLUDE": ("/usr/lib/picolibc/arm-none-eabi/include", "picolibc-arm-none-eabi"),
    "PICOLIBC_CRT0_SEMIHOST": ("/usr/lib/picolibc/arm-none-eabi/lib/thumb/v7e-m+fp/hard/crt0-semihost.o", "picolibc-arm-none-eabi"),
    "ARM_NONE_EABI_LIBGCC": ("/usr/lib/gcc/arm-none-eabi/12.2.1/thumb/v7e-m+fp/hard/libgcc.a", "gcc-arm-none-eabi"),
    "QEMU_SYSTEM_ARM": ("/usr/bin/qemu-system-arm", "qemu-system-arm"),
    # Linux targets of //tools:cross_test.bzl: each one's libc (its crt1.o, whose directory is the
    # libc's and whose grandparent is the target's sysroot: see linux_sysroot), gcc's start files
    # and libgcc (beside crtbeginS.o), and the emulator that runs its tests (i386 runs natively).
    "I386_CRT1": ("/usr/lib32/crt1.o", "libc6-dev-i386"),
    "I386_CRTBEGIN": ("/usr/lib/gcc/x86_64-linux-gnu/{GCC}/32/crtbeginS.o", "lib32gcc-{GCC}-dev"),
    "I386_LOADER": ("/lib/ld-linux.so.2", "libc6-i386"),
    "AARCH64_CRT1": ("/usr/aarch64-linux-gnu/lib/crt1.o", "libc6-dev-arm64-cross"),
    "AARCH64_CRTBEGIN": ("/usr/lib/gcc-cross/aarch64-linux-gnu/{GCC}/crtbeginS.o", "libgcc-{GCC}-dev-arm64-cross"),
    "QEMU_AARCH64": ("/usr/bin/qemu-aarch64-static", "qemu-user-static"),
    "ARMHF_CRT1": ("/usr/arm-linux-gnueabihf/lib/crt1.o", "libc6-dev-armhf-cross"),
    "ARMHF_CRTBEGIN": ("/usr/lib/gcc-cross/arm-linux-gnueabihf/{GCC}/crtbeginS.o", "libgcc-{GCC}-dev-armhf-cross"),
    "QEMU_ARM": ("/usr/bin/qemu-arm-static", "qemu-user-static"),
    "RISCV64_CRT1": ("/usr/riscv64-linux-gnu/lib/crt1.o", "libc6-dev-riscv64-cross"),
    "RISCV64_CRTBEGIN": ("/usr/lib/gcc-cross/riscv64-linux-gnu/{GCC}/crtbeginS.o", "libgcc-{GCC}-dev-riscv64-cross"),
    "QEMU_RISCV64": ("/usr/bin/qemu-riscv64-static", "qemu-user-static"),
    "S390X_CRT1": ("/usr/s390x-linux-gnu/lib/crt1.o", "libc6-dev-s390x-cross"),
    "S390X_CRTBEGIN": ("/usr/lib/gcc-cross/s390x-linux-gnu/{GCC}/crtbeginS.o", "libgcc-{GCC}-dev-s390x-cross"),
    "QEMU_S390X": ("/usr/bin/qemu-s390x-static", "qemu-user-static"),
}

# SCRIPT_TOOLS: what the check scripts, CI and developers run, and the tests of those scripts
# (some in `bazel test //...`). They are not checked when Bazel loads: each script, and each such
# test, checks the ones it runs (require_tools), and tools/setup.sh installs them. A package of
# the form npm:NAME@VERSION is installed from npm under the part of the path before
# /node_modules/.
SCRIPT_TOOLS = {
    "BAZEL": ("/usr/bin/bazel", "bazel-bootstrap"),
    "GIT": ("/usr/bin/git", "git"),
    # Formatting and static analysis (tools/check_format.sh, tools/check_tidy.sh), and the
    # language server for editors (over tools/compile_commands.sh's compile_commands.json).
    "CLANG_FORMAT": ("/usr/bin/clang-format-{LLVM}", "clang-format-{LLVM}"),
    "CLANG_TIDY": ("/usr/bin/clang-tidy-{LLVM}", "clang-tidy-{LLVM}"),
    "CLANGD": ("/usr/bin/clangd-{LLVM}", "clangd-{LLVM}"),
    "BUILDIFIER": ("/opt/buildifier/node_modules/@bazel/buildifier/buildifier-linux_amd64", "npm:@bazel/buildifier@8.2.1"),
    # buildifier's installer, and the certificates its downloads are checked against.
    "NPM": ("/usr/bin/npm", "npm"),
    "CA_CERTIFICATES": ("/etc/ssl/certs/ca-certificates.crt", "ca-certificates"),
    # Sanitizer and libFuzzer runtimes (--config=asan, ubsan, tsan, fuzz).
    "CLANG_RT_ASAN": ("/usr/lib/llvm-{LLVM}/lib/clang/{LLVM}/lib/linux/libclang_rt.asan-x86_64.a", "libclang-rt-{LLVM}-dev"),
    # The HTTP remote cache of tools/check_remote_cache.sh (WebDAV PUT).
    "NGINX": ("/usr/sbin/nginx", "nginx-light"),
}

def _with_versions(table):
    """A table with every {NAME} of VERSIONS in its paths and packages replaced by the version.

    Args:
      table: PINNED_TOOLS or SCRIPT_TOOLS, as written.

    Returns:
      the table as the tools are installed; fails on a {NAME} that VERSIONS does not have.
    """
    expanded = {}
    for name, entry in table.items():
        fields = []
        for field in entry:
            for version, value in VERSIONS.items():
                field = field.replace("{%s}" % version, value)
            if "{" in field or "}" in field:
                fail("//platforms:host_tools.bzl: %s names a version VERSIONS does not have: %s" % (name, field))
            fields.append(field)
        expanded[name] = tuple(fields)
    return expanded

# The tables as the tools are installed, which everything below reads.
_PINNED = _with_versions(PINNED_TOOLS)
_SCRIPT = _with_versions(SCRIPT_TOOLS)

def tool_path(name):
    """The absolute path of a pinned tool.

    Args:
      name: a key of PINNED_TOOLS, such as "NASM".

    Returns:
      its path; fails for a name that is not pinned.
    """
    if name not in _PINNED:
        fail("no pinned tool named %s: add it to PINNED_TOOLS in //platforms:host_tools.bzl" % name)
    return _PINNED[name][0]

def tool_dir(name, levels = 1):
    """A directory above a pinned file.

    Args:
      name: a key of PINNED_TOOLS.
      levels: how many directories up: 1 is the file's own directory.

    Returns:
      the directory's absolute path.
    """
    path = tool_path(name)
    for _ in range(levels):
        path = path.rpartition("/")[0]
    return path

def linux_sysroot(target):
    """The sysroot of a Linux cross target: where its libc's lib/ and include/ are.

    Args:
      target: the prefix of the target's entries, such as "AARCH64".

    Returns:
      the directory two above its crt1.o.
    """
    return tool_dir(target + "_CRT1", levels = 2)

# The Bazel this project is written for (WORKSPACE mode, the stand-ins in third_party/): Debian's
# bazel-bootstrap, the BAZEL entry below.
BAZEL_VERSION = "4.2.3"

def _bazel_version(repository_ctx):
    """The running Bazel's version.

    Its own stamp, or, where it has none (Debian's bazel-bootstrap says "no_version"), that of the
    Debian package that installs SCRIPT_TOOLS' BAZEL.

    Args:
      repository_ctx: the repository rule's context.

    Returns:
      the version, such as "4.2.3", or what the package manager said.
    """
    if native.bazel_version:
        return native.bazel_version
    query = repository_ctx.execute([
        _PINNED["DPKG_QUERY"][0],
        "--show",
        "--showformat",
        "${Version}",
        _SCRIPT["BAZEL"][1],
    ])
    if query.return_code != 0:
        return "unknown (%s)" % query.stderr.strip()

    # The upstream version: no epoch ("1:"), nothing from the first +, - or ~ on ("+ds-9").
    upstream = query.stdout.strip().split(":")[-1]
    for separator in ("+", "-", "~"):
        upstream = upstream.split(separator)[0]
    return upstream

def _host_tools_impl(repository_ctx):
    version = _bazel_version(repository_ctx)
    if version != BAZEL_VERSION:
        fail("this project is built with Bazel %s (Debian bookworm's %s, at %s), not %s: install that package" % (
            BAZEL_VERSION,
            _SCRIPT["BAZEL"][1],
            _SCRIPT["BAZEL"][0],
            version,
        ))

    # Each name and each path once: two entries for one path would be two facts to keep in step.
    seen = {}
    for table in (_PINNED, _SCRIPT):
        for name, entry in table.items():
            for key in (name, entry[0]):
                if key in seen:
                    fail("//platforms:host_tools.bzl: %s is listed twice (%s and %s)" % (key, seen[key], name))
                seen[key] = name
    missing = []
    for path, package in _PINNED.values():
        if not repository_ctx.path(path).exists:
            missing.append("  %s (Debian package %s)" % (path, package))
    if missing:
        fail("\n".join([
            "pinned build tools are missing:",
        ] + missing + [
            "run tools/setup.sh (as root) to install them.",
        ]))

    # The installed version of every pinned tool's package: an input of every action that runs or
    # reads one (the toolchains' files, nasm_object, grub_iso), so that an upgrade of a package
    # (a clang or GRUB point release) changes their keys, in the local and the remote cache,
    # although the tools live outside the workspace, where Bazel does not look.
    packages = sorted({entry[1]: None for entry in _PINNED.values()}.keys())
    query = repository_ctx.execute(
        [_PINNED["DPKG_QUERY"][0], "--show", "--showformat", "${Package} ${Version}\\n"] + packages,
    )
    if query.return_code != 0:
        fail("//platforms:host_tools.bzl: %s could not tell the versions of %s:\n%s" % (
            _PINNED["DPKG_QUERY"][0],
            " ".join(packages),
            query.stderr,
        ))
    repository_ctx.file("package_versions.txt", query.stdout)

    every = dict(_PINNED.items() + _SCRIPT.items())

    # With the packages' versions in it as comments: every test and action that sources it runs
    # pinned tools, and runs again (its result not taken from a cache) when one is upgraded.
    header = [
        "# Generated by //platforms:host_tools.bzl from PINNED_TOOLS (every path was found) and",
        "# SCRIPT_TOOLS (not checked). The versions of the pinned tools' packages:",
    ]
    versions = ["#   " + line for line in query.stdout.splitlines()]
    paths = ["%s=%s" % (name, entry[0]) for name, entry in sorted(every.items())]
    repository_ctx.file("tool_paths.sh", "\n".join(header + versions + paths + [""]))

    # NAME, path and package of every entry, as tools/tool_paths.sh lists them: for
    # //tools:tool_paths_test, which compares the two.
    repository_ctx.file("tools.tsv", "".join([
        "%s\t%s\t%s\n" % (name, entry[0], entry[1])
        for name, entry in sorted(every.items())
    ]))
    repository_ctx.file("BUILD.bazel", "\n".join([
        "# Generated by //platforms:host_tools.bzl: every pinned tool was found.",
        "package(default_visibility = [\"//visibility:public\"])",
        "",
        "# Depended on by the toolchains and the rules that run pinned tools, so that nothing builds",
        "# before the check above has run, and every such action changes with the packages' versions.",
        "filegroup(",
        "    name = \"checked\",",
        "    srcs = [\"package_versions.txt\"],",
        ")",
        "",
        "# NAME=path for every pinned tool, for scripts to source; every entry as a table.",
        "exports_files([",
        "    \"package_versions.txt\",",
        "    \"tool_paths.sh\",",
        "    \"tools.tsv\",",
        "])",
        "",
    ]))

host_tools = repository_rule(
    implementation = _host_tools_impl,
    local = True,
)
