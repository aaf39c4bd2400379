"""A Clang/LLD 19 C toolchain configuration, for the host, the freestanding kernel, a Linux
target whose tests run natively (i386) or under qemu-user, or a bare-metal Cortex-M4 whose tests
run on an emulated board (see //tools:cross_test.bzl).

Every tool is named by an absolute, version-pinned path (checked by //platforms:host_tools.bzl),
so the build never depends on what PATH holds. The flavours differ only in flags:
  host           Linux user space on x86_64, glibc headers, linked as a PIE.
  freestanding   no libc, no red zone, no SIMD state: code that runs in the kernel.
  i386_linux     32-bit x86 Linux user space: Debian's multilib libc (libc6-dev-i386).
  aarch64_linux  64-bit Arm Linux user space: Debian's cross libc (libc6-dev-arm64-cross).
  armhf_linux    32-bit Arm (hard float) Linux user space: libc6-dev-armhf-cross.
  riscv64_linux  64-bit RISC-V Linux user space: libc6-dev-riscv64-cross.
  s390x_linux    64-bit big-endian IBM Z Linux user space: libc6-dev-s390x-cross.
  cortex_m4      bare-metal Armv7E-M (Cortex-M4 with its single-precision FPU, hard-float ABI),
                 picolibc (picolibc-arm-none-eabi) over semihosting, laid out for QEMU's
                 mps2-an386 board by //platforms:mps2_an386.ld.
"""

load("@bazel_tools//tools/build_defs/cc:action_names.bzl", "ACTION_NAMES")
load(
    "@bazel_tools//tools/cpp:cc_toolchain_config_lib.bzl",
    "feature",
    "flag_group",
    "flag_set",
    "tool_path",
    "with_feature_set",
)
load("//platforms:host_tools.bzl", "linux_sysroot", "tool_dir", pinned_tool = "tool_path")

CLANG_BUILTIN_INCLUDE = pinned_tool("CLANG_BUILTIN_INCLUDE")
HOST_INCLUDES = [pinned_tool("HOST_ARCH_INCLUDE"), pinned_tool("HOST_INCLUDE")]
_HOST_LIB_DIRS = [tool_dir("HOST_CRTBEGIN"), tool_dir("HOST_CRT1")]

_COMPILE_ACTIONS = [
    ACTION_NAMES.assemble,
    ACTION_NAMES.preprocess_assemble,
    ACTION_NAMES.c_compile,
    ACTION_NAMES.cpp_compile,
    ACTION_NAMES.cpp_header_parsing,
    ACTION_NAMES.cpp_module_compile,
]

_LINK_ACTIONS = [
    ACTION_NAMES.cpp_link_executable,
    ACTION_NAMES.cpp_link_dynamic_library,
    ACTION_NAMES.cpp_link_nodeps_dynamic_library,
]

# Flags that make outputs independent of where the checkout and the output base live, and of
# the date: the same sources give a bit-identical object, wherever they are built.
_REPRODUCIBLE_COMPILE_FLAGS = [
    "-no-canonical-prefixes",
    "-fdebug-compilation-dir=.",
    "-ffile-prefix-map=/proc/self/cwd=.",
    "-Wno-builtin-macro-redefined",
    "-D__DATE__=\"redacted\"",
    "-D__TIMESTAMP__=\"redacted\"",
    "-D__TIME__=\"redacted\"",
]

_WARNING_FLAGS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-unused-parameter",
]

_HOST_COMPILE_FLAGS = [
    "--target=x86_64-linux-gnu",
    "-nostdinc",
    "-isystem",
    CLANG_BUILTIN_INCLUDE,
    "-isystem",
    HOST_INCLUDES[0],
    "-isystem",
    HOST_INCLUDES[1],
    "-fPIC",
    "-fno-omit-frame-pointer",
    "-std=gnu11",
]

_HOST_LINK_FLAGS = [
    "--target=x86_64-linux-gnu",
    "-fuse-ld=lld",
    "--ld-path=" + pinned_tool("LLD"),
    "--sysroot=/",
] + ["-B" + d for d in _HOST_LIB_DIRS] + ["-L" + d for d in _HOST_LIB_DIRS] + [
    "-Wl,--build-id=none",
    "-lpthread",
    "-lm",
]

# Kernel code: no libc headers or libraries, no red zone (interrupts would clobber it), no SSE or
# x87 state (the kernel never saves it), no stack protector or PIC machinery to set up.
_FREESTANDING_COMPILE_FLAGS = [
    "--target=x86_64-unknown-none-elf",
    "-ffreestanding",
    "-nostdinc",
    "-isystem",
    CLANG_BUILTIN_INCLUDE,
    "-fno-stack-protector",
    "-fno-pic",
    "-fno-pie",
    "-mno-red-zone",
    "-mno-mmx",
    "-mno-sse",
    "-mno-sse2",
    "-mno-avx",
    "-mno-80387",
    "-mcmodel=small",  # linked at 1 MiB, identity-mapped: all symbols below 2 GiB
    "-fno-omit-frame-pointer",
    "-fno-asynchronous-unwind-tables",
    "-std=gnu11",
]

# Linking goes through clang with a Linux target; a -none-elf target would hand linking to gcc.
_FREESTANDING_LINK_FLAGS = [
    "--target=x86_64-linux-gnu",
    "-fuse-ld=lld",
    "--ld-path=" + pinned_tool("LLD"),
    "-nostdlib",
    "-static",
    "-Wl,--build-id=none",
    "-Wl,-z,max-page-size=4096",
    "-Wl,--no-dynamic-linker",
]

# Compile and link flags of a Linux user-space target other than the host. Clang finds the C
# runtime start files and libgcc through -B, libraries through -L; nothing comes from a default
# search path, so what the build links is what these lines name.
def _cross_linux(triple, include_dirs, lib_dirs):
    includes = []
    for directory in include_dirs:
        includes += ["-isystem", directory]
    return struct(
        compile = [
            "--target=" + triple,
            "-nostdinc",
            "-isystem",
            CLANG_BUILTIN_INCLUDE,
        ] + includes + [
            "-fPIC",
            "-fno-omit-frame-pointer",
            "-std=gnu11",
        ],
        link = [
            "--target=" + triple,
            "-fuse-ld=lld",
            "--ld-path=" + pinned_tool("LLD"),
            "--sysroot=/",
        ] + ["-B" + d for d in lib_dirs] + ["-L" + d for d in lib_dirs] + [
            "-Wl,--build-id=none",
            "-lpthread",
            "-lm",
        ],
        includes = [CLANG_BUILTIN_INCLUDE] + include_dirs,
        triple = triple,
        libc = "glibc",
    )

# A Linux target whose libc lives in a sysroot of its own: its headers in include/, its libc (beside
# crt1.o) in lib/, gcc's start files and libgcc beside crtbeginS.o. `target` is the prefix of its
# entries in //platforms:host_tools.bzl.
def _cross_linux_from_sysroot(triple, target):
    return _cross_linux(
        triple,
        [linux_sysroot(target) + "/include"],
        [tool_dir(target + "_CRTBEGIN"), tool_dir(target + "_CRT1")],
    )

# Cortex-M4F: the FPU (fpv4-sp-d16) is on, and floating-point arguments travel in its registers
# (hard float), as on most Cortex-M4 parts; picolibc's start file turns the FPU on before main.
_CORTEX_M4_ARCH_FLAGS = [
    "--target=thumbv7em-none-eabihf",
    "-mcpu=cortex-m4",
    "-mfpu=fpv4-sp-d16",
    "-mfloat-abi=hard",
]

PICOLIBC_INCLUDE = pinned_tool("PICOLIBC_INCLUDE")
PICOLIBC_CRT0 = pinned_tool("PICOLIBC_CRT0_SEMIHOST")
PICOLIBC_LIB = tool_dir("PICOLIBC_CRT0_SEMIHOST")
ARM_NONE_EABI_LIBGCC = pinned_tool("ARM_NONE_EABI_LIBGCC")

_CORTEX_M4 = struct(
    # Section per function and per object, so the link drops what a program does not use (the
    # board's memory is small, and the size report measures what remains). errno is a picolibc
    # thread-local: local-exec, the one TLS model a static program without a loader has.
    compile = _CORTEX_M4_ARCH_FLAGS + [
        "-nostdinc",
        "-isystem",
        CLANG_BUILTIN_INCLUDE,
        "-isystem",
        PICOLIBC_INCLUDE,
        "-ffunction-sections",
        "-fdata-sections",
        "-ftls-model=local-exec",
        "-std=gnu11",
    ],
    # The linker script (-T) is added by _impl from the toolchain's linker_script attribute.
    link = _CORTEX_M4_ARCH_FLAGS + [
        "-fuse-ld=lld",
        "--ld-path=" + pinned_tool("LLD"),
        "-nostdlib",
        "-static",
        "-Wl,--gc-sections",
        "-Wl,--build-id=none",
        # Start file: copies .data, zeroes .bss, turns the FPU on, reads the semihosting command
        # line into argv, calls main and exits with its status through semihosting.
        PICOLIBC_CRT0,
        "-L" + PICOLIBC_LIB,
        "-Wl,--start-group",
        "-lc",
        "-lsemihost",
        ARM_NONE_EABI_LIBGCC,
        "-Wl,--end-group",
    ],
    includes = [CLANG_BUILTIN_INCLUDE, PICOLIBC_INCLUDE],
    triple = "thumbv7em-none-eabihf",
    libc = "picolibc",
)

# Per flavour: flags, the include directories Bazel may see, the triple and the libc.
_FLAVOURS = {
    "host": struct(
        compile = _HOST_COMPILE_FLAGS,
        link = _HOST_LINK_FLAGS,
        includes = [CLANG_BUILTIN_INCLUDE] + HOST_INCLUDES,
        triple = "x86_64-linux-gnu",
        libc = "glibc",
    ),
    "freestanding": struct(
        compile = _FREESTANDING_COMPILE_FLAGS,
        link = _FREESTANDING_LINK_FLAGS,
        includes = [CLANG_BUILTIN_INCLUDE],
        triple = "x86_64-unknown-none-elf",
        libc = "none",
    ),
    # Debian's multilib: the host's headers (they select the 32-bit variants by __i386__), the
    # 32-bit libc and gcc's 32-bit start files and libgcc.
    "i386_linux": _cross_linux(
        "i386-linux-gnu",
        HOST_INCLUDES,
        [tool_dir("I386_CRTBEGIN"), tool_dir("I386_CRT1")],
    ),
    # Debian's cross libcs, each in its sysroot, and gcc's cross start files and libgcc.
    "aarch64_linux": _cross_linux_from_sysroot("aarch64-linux-gnu", "AARCH64"),
    "armhf_linux": _cross_linux_from_sysroot("arm-linux-gnueabihf", "ARMHF"),
    "riscv64_linux": _cross_linux_from_sysroot("riscv64-linux-gnu", "RISCV64"),
    "s390x_linux": _cross_linux_from_sysroot("s390x-linux-gnu", "S390X"),
    "cortex_m4": _CORTEX_M4,
}

def _impl(ctx):
    flavour = _FLAVOURS[ctx.attr.flavour]
    freestanding = ctx.attr.flavour in ("freestanding", "cortex_m4")
    compile_flags = flavour.compile
    link_flags = flavour.link
    if ctx.file.linker_script:
        link_flags = link_flags + ["-T", ctx.file.linker_script.path]
    builtin_includes = flavour.includes

    tool_paths = [
        tool_path(name = "gcc", path = pinned_tool("CLANG")),
        tool_path(name = "ld", path = pinned_tool("LLD")),
        tool_path(name = "ar", path = pinned_tool("LLVM_AR")),
        tool_path(name = "cpp", path = pinned_tool("CLANG_CPP")),
        tool_path(name = "nm", path = pinned_tool("LLVM_NM")),
        tool_path(name = "objcopy", path = pinned_tool("LLVM_OBJCOPY")),
        tool_path(name = "objdump", path = pinned_tool("LLVM_OBJDUMP")),
        tool_path(name = "strip", path = pinned_tool("LLVM_STRIP")),
        tool_path(name = "gcov", path = pinned_tool("FALSE")),
        tool_path(name = "dwp", path = pinned_tool("FALSE")),
    ]

    features = [
        feature(name = "supports_pic", enabled = not freestanding),
        feature(name = "supports_start_end_lib", enabled = False),
        feature(name = "dbg"),
        feature(name = "opt"),
        feature(name = "fastbuild"),
        feature(
            name = "default_compile_flags",
            enabled = True,
            flag_sets = [
                flag_set(
                    actions = _COMPILE_ACTIONS,
                    flag_groups = [flag_group(
                        flags = compile_flags + _REPRODUCIBLE_COMPILE_FLAGS + _WARNING_FLAGS,
                    )],
                ),
                flag_set(
                    actions = _COMPILE_ACTIONS,
                    flag_groups = [flag_group(flags = ["-g", "-O0"])],
                    with_features = [with_feature_set(features = ["dbg"])],
                ),
                flag_set(
                    actions = _COMPILE_ACTIONS,
                    flag_groups = [flag_group(flags = ["-g1", "-O1"])],
                    with_features = [with_feature_set(features = ["fastbuild"])],
                ),
                flag_set(
                    actions = _COMPILE_ACTIONS,
                    flag_groups = [flag_group(flags = ["-O2", "-DNDEBUG"])],
                    with_features = [with_feature_set(features = ["opt"])],
                ),
            ],
        ),
        feature(
            name = "default_link_flags",
            enabled = True,
            flag_sets = [flag_set(
                actions = _LINK_ACTIONS,
                flag_groups = [flag_group(flags = link_flags)],
            )],
        ),
    ]

    return cc_common.create_cc_toolchain_config_info(
        ctx = ctx,
        features = features,
        cxx_builtin_include_directories = builtin_includes,
        toolchain_identifier = "clang19-" + ctx.attr.flavour,
        host_system_name = "x86_64-linux-gnu",
        target_system_name = flavour.triple,
        target_cpu = "k8" if ctx.attr.flavour in ("host", "freestanding") else ctx.attr.flavour,
        target_libc = flavour.libc,
        compiler = "clang",
        abi_version = flavour.libc,
        abi_libc_version = flavour.libc,
        tool_paths = tool_paths,
    )

clang_toolchain_config = rule(
    implementation = _impl,
    attrs = {
        "flavour": attr.string(mandatory = True, values = _FLAVOURS.keys()),
        # Passed to the linker as -T; the cc_toolchain's linker files must include it.
        "linker_script": attr.label(allow_single_file = True),
    },
    provides = [CcToolchainConfigInfo],
)

def clang_toolchain(name, flavour, exec_compatible_with, target_compatible_with, linker_script = None):
    """Declares one Clang/LLD 19 toolchain for the platforms matching target_compatible_with.

    That is its configuration, the cc_toolchain, and the toolchain() that resolution picks.

    Args:
      name: the cc_toolchain's name; the configuration is name + "_config", the toolchain()
        (what WORKSPACE registers) name + "_toolchain".
      flavour: a key of _FLAVOURS (see the top of this file), the name of a target in
        //platforms:targets.bzl.
      exec_compatible_with: the constraints of the platforms this toolchain runs on.
      target_compatible_with: the constraints of the platforms this toolchain builds for.
      linker_script: a label of the script every link of this toolchain uses, if any.
    """
    clang_toolchain_config(
        name = name + "_config",
        flavour = flavour,
        linker_script = linker_script,
    )

    files = ":toolchain_files"
    if linker_script:
        files = ":" + name + "_files"
        native.filegroup(
            name = name + "_files",
            srcs = [":toolchain_files", linker_script],
        )
    native.cc_toolchain(
        name = name,
        all_files = files,
        ar_files = files,
        as_files = files,
        compiler_files = files,
        dwp_files = files,
        linker_files = files,
        objcopy_files = files,
        strip_files = files,
        supports_param_files = True,
        toolchain_config = ":" + name + "_config",
    )
    native.toolchain(
        name = name + "_toolchain",
        exec_compatible_with = exec_compatible_with,
        target_compatible_with = target_compatible_with,
        toolchain = ":" + name,
        toolchain_type = "@bazel_tools//tools/cpp:toolchain_type",
    )
