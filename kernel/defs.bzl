"""kernel_variant: the kernel built from the same sources with another heap range.

    kernel_variant(name = "kernel_high_heap", heap_start = "0x40000000", heap_pages = 2048)

gives :kernel_high_heap (the ELF, built for the freestanding platform) and :kernel_high_heap_iso.
The range is validated at compile time by kernel/heap_config.h.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary")
load("//tools:kernel.bzl", "freestanding_binary", "grub_iso")

def kernel_elf(name, srcs, local_defines = [], **kwargs):
    """The kernel's cc_binary: boot and exception stubs, C sources, the linker script.

    Args:
      name: the cc_binary's name.
      srcs: the kernel's C sources and headers (KERNEL_SRCS in kernel/BUILD.bazel).
      local_defines: preprocessor definitions for these sources only (the heap range).
      **kwargs: passed to cc_binary.
    """
    cc_binary(
        name = name,
        srcs = srcs + [
            "//kernel:boot",
            "//kernel:interrupt_stubs",
        ],
        additional_linker_inputs = [
            "//kernel:arch/x86_64/linker.ld",
            "//kernel:arch/x86_64/machine.ld",
        ],
        # machine.ld, an input script, defines the shared constants linker.ld checks against.
        linkopts = [
            "-Wl,-T,$(location //kernel:arch/x86_64/linker.ld)",
            "-Wl,$(location //kernel:arch/x86_64/machine.ld)",
        ],
        local_defines = local_defines,
        target_compatible_with = ["@platforms//os:none"],
        deps = [
            "//alloc",
            "//kernel:format",
            "//kernel:heap_api",
            "//kernel:machine_h",
            "//kernel:vec",
            "//multiboot2",
            "//paging",
        ],
        **kwargs
    )

def kernel_variant(name, srcs, heap_start = None, heap_pages = None, cmdline = ""):
    """A kernel ELF (:name) and its ISO (:name_iso) with a different heap range.

    Args:
      name: the ELF's target name; the ISO is name + "_iso".
      srcs: the kernel's C sources and headers (KERNEL_SRCS in kernel/BUILD.bazel).
      heap_start: virtual start of the heap, a C integer literal such as "0x80000000".
      heap_pages: number of 4 KiB heap pages.
      cmdline: kernel command line baked into the ISO's GRUB menu.
    """
    defines = []
    if heap_start != None:
        defines.append("KERNEL_HEAP_START=%sull" % heap_start)
    if heap_pages != None:
        defines.append("KERNEL_HEAP_PAGES=%dull" % heap_pages)
    kernel_elf(name = name + "_elf", srcs = srcs, local_defines = defines)
    freestanding_binary(name = name, binary = ":" + name + "_elf")
    grub_iso(name = name + "_iso", kernel = ":" + name, cmdline = cmdline)
