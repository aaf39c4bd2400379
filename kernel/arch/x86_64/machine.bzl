"""The numbers that boot.asm, the C kernel, the linker script, the QEMU runner and the boot tests
must agree on.

This list is their one definition. //kernel:machine_constants writes it out as a C header
(kernel/arch/x86_64/machine.h), a NASM include (machine.inc) and linker-script symbols
(machine.ld); tools/qemu.bzl hands the debug-exit port and codes to tools/qemu_runner.py, and
tests/BUILD.bazel builds its expected lines from it (machine_constant, log_pointer). Values are
hexadecimal literals, or decimal where they count things; the files get every value in
hexadecimal, written the same way in all three languages. Change one here and every copy follows,
or the build stops at the check that ties it (multiboot2.h, linker.ld, boot.asm).
"""

# (name, value, what it is). Names are the same in C, NASM and the linker script.
_CONSTANTS = [
    # Boot address space, built by boot.asm (see the diagram there).
    ("IDENTITY_MAP_END", "0x2000000", "[0, 32 MiB) is identity-mapped for the kernel image, its stacks and boot tables"),
    ("IDENTITY_SMALL_PAGES_END", "0x200000", "[0, 2 MiB) of it in 4 KiB pages (one page table), so single pages there can be unmapped or protected (the kernel's code and read-only data lie there)"),
    ("PHYS_MAP_BASE", "0xffff800000000000", "all physical memory below PHYS_MAP_SIZE is mapped at [PHYS_MAP_BASE, +PHYS_MAP_SIZE)"),
    ("PHYS_MAP_SIZE", "0x200000000", "8 GiB"),
    ("PAGE_SIZE", "0x1000", "4 KiB, the page the boot tables, the linker script and the kernel's mappings use"),
    # Devices of the QEMU machine.
    ("COM1_PORT", "0x3f8", "I/O base of the first 16550 UART, the serial console"),
    ("QEMU_DEBUG_EXIT_PORT", "0xf4", "I/O base of QEMU's isa-debug-exit device; QEMU exits with (value << 1) | 1"),
    ("QEMU_DEBUG_EXIT_SUCCESS", "0x10", "the kernel's success verdict (QEMU exit status 33)"),
    ("QEMU_DEBUG_EXIT_FAILURE", "0x11", "the kernel's failure verdict (QEMU exit status 35)"),
    # Multiboot2 (the specification's values; multiboot2.h is tied to them by _Static_assert).
    ("BOOT_MULTIBOOT2_HEADER_MAGIC", "0xe85250d6", "first word of the kernel's multiboot2 header"),
    ("BOOT_MULTIBOOT2_LOADER_MAGIC", "0x36d76289", "EAX at entry when a multiboot2 loader started the kernel"),
    # GDT: selectors and the flat 64-bit descriptors used by boot.asm and interrupts.c.
    ("GDT_KERNEL_CODE_SELECTOR", "0x08", "GDT entry 1"),
    ("GDT_KERNEL_DATA_SELECTOR", "0x10", "GDT entry 2"),
    ("GDT_TSS_SELECTOR", "0x18", "GDT entries 3 and 4: each CPU's 16-byte TSS descriptor (interrupts.c), loaded by LTR"),
    ("GDT_KERNEL_CODE_DESCRIPTOR", "0x0020980000000000", "bits 43 code, 44 non-system, 47 present, 53 64-bit"),
    ("GDT_KERNEL_DATA_DESCRIPTOR", "0x0000920000000000", "bits 41 writable, 44 non-system, 47 present"),
    # Model-specific registers written by boot.asm, the trampoline (smp.asm) and the C kernel.
    ("CPU_MSR_EFER", "0xc0000080", "extended features: long mode (LME) and no-execute (NXE)"),
    ("CPU_MSR_GS_BASE", "0xc0000101", "GS base: each CPU's per-CPU block (kernel/cpu_local.h)"),
    # SMP: the per-CPU arrays' size, which a boot test exceeds by one CPU.
    ("TRAMPOLINE_PHYS", "0x8000", "where smp.c copies the start-up trampoline (smp.asm): page-aligned, below 1 MiB, its start-up IPI vector 0x08"),
    ("CPU_MAX", "0x10", "CPUs the kernel runs on at most; the MADT may list more, which are reported and left halted"),
    # The trampoline's fault report (smp.asm writes it, smp.c reads it): the code a CPU faulted in
    # before long mode, also the value of the test switch that makes it fault there. The values are
    # the code's width, so a memory dump reads them too.
    ("TRAMPOLINE_FAULT_16BIT", "0x10", "the trampoline's fault report and test switch: its 16-bit (real-mode) code"),
    ("TRAMPOLINE_FAULT_32BIT", "0x20", "the trampoline's fault report and test switch: its 32-bit (protected-mode) code"),
    ("TRAMPOLINE_FAULT_64BIT", "0x40", "the trampoline's test switch: its 64-bit code, at the first instruction the kernel's IDT covers (reported by the kernel's handler, not the trampoline)"),
    # The kernel heap's range when the command line does not move it (heap_start=, heap_pages=):
    # the boot tests' addresses in and just past the heap follow from it.
    ("HEAP_DEFAULT_START", "0x8000000", "where the heap starts by default: the classic hobby-kernel tutorial's heap, above the identity map"),
    ("HEAP_DEFAULT_PAGES", "1000", "the heap's pages by default"),
    # The page the TLB shootdown tests map, read and unmap (kernel/stress.c): their reports name it.
    # kernel/arch/x86_64/layout.h lists it with the kernel's other windows and keeps them apart.
    ("TLB_TEST_VIRT", "0xffffc00080000000", "the page of the tlb_test= checks, in the upper half where nothing else maps"),
]

def _hex_digits(value, width):
    """value in lower-case hexadecimal, at least width digits (Bazel 4's Starlark has no %x)."""
    if value < 0 or value >= 1 << 64:
        fail("%d is not a 64-bit address or count" % value)
    digits = ""
    for _ in range(16):
        if not value and len(digits) >= width:
            break
        digits = "0123456789abcdef"[value % 16] + digits
        value //= 16
    return digits

def _value(text):
    return int(text, 16) if text.startswith("0x") else int(text)

# The list as //kernel:machine_constants takes it: decimal values written in hexadecimal.
MACHINE_CONSTANTS = [
    (name, value if value.startswith("0x") else "0x" + _hex_digits(int(value), 1), doc)
    for name, value, doc in _CONSTANTS
]

def machine_constant(name):
    """The value of one constant, for rules such as qemu_test.

    Args:
      name: a name in MACHINE_CONSTANTS.

    Returns:
      its value as an int; fails for an unknown name.
    """
    for entry in _CONSTANTS:
        if entry[0] == name:
            return _value(entry[1])
    fail("no machine constant named " + name)

def log_pointer(value):
    """A number as the kernel's log prints an address (format.c's %p), for expected lines.

    Args:
      value: an int below 2^64.

    Returns:
      "0x" and 16 lower-case hexadecimal digits.
    """
    return "0x" + _hex_digits(value, 16)

def machine_constant_as_pointer(name):
    """One constant as the kernel's log prints an address, for expected lines.

    Args:
      name: a name in MACHINE_CONSTANTS.

    Returns:
      log_pointer of its value.
    """
    return log_pointer(machine_constant(name))

def log_pointer_pattern(start, end):
    """A pattern of any address in [start, end) as the kernel's log prints it.

    The pattern is the digits the range's first and last addresses share, then as many of any digit
    as they do not: it may match addresses past the range, never one of its own missed.

    Args:
      start: the range's first address.
      end: the first address past it, above start.

    Returns:
      a regular expression such as "0x0000000000001[0-9a-f]{3}" for [0x1000, 0x1800).
    """
    if end <= start:
        fail("empty range [%d, %d)" % (start, end))
    first = log_pointer(start)
    last = log_pointer(end - 1)
    shared = 0
    for i in range(len(first)):
        if first[i] != last[i]:
            break
        shared = i + 1
    if shared == len(first):
        return first
    return "%s[0-9a-f]{%d}" % (first[:shared], len(first) - shared)

def qemu_exit_status(name):
    """QEMU's exit status when the kernel writes a constant to isa-debug-exit.

    Args:
      name: QEMU_DEBUG_EXIT_SUCCESS or QEMU_DEBUG_EXIT_FAILURE.

    Returns:
      (value << 1) | 1, the status QEMU exits with.
    """
    return (machine_constant(name) << 1) | 1
