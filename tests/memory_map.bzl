"""The memory map's total the kernel must report, derived from QEMU's memory size."""

def seabios_available_kib(memory):
    """The KiB SeaBIOS's memory map of QEMU's q35 machine calls available.

    They are the 639 KiB below the VGA hole, [1 MiB, low memory's end - 132 KiB) (the 132 KiB at
    its top hold the firmware's tables), and the rest above 4 GiB. q35 keeps RAM below 4 GiB under
    2816 MiB (0xb0000000, where its PCI hole starts) and, past that, puts 2 GiB of it below 4 GiB
    and the rest above.

    Args:
      memory: QEMU's -m value, a number and M or G ("64M", "4G").

    Returns:
      The total the kernel must report from the entries it lists, in KiB.
    """
    units = {"G": 1024, "M": 1}
    mib = int(memory[:-1]) * units[memory[-1]]
    low = mib if mib < 2816 else 2048
    return 639 + (low * 1024 - 1024 - 132) + (mib - low) * 1024

def _total_line(kib):
    """The memory map's last line, as kernel/main.c prints it, with `kib` KiB available.

    Args:
      kib: the total.

    Returns:
      The line's regular expression.
    """
    return r"memory map: \d+ entries, %d KiB available$" % kib

def memory_map_total(memory):
    """The memory map's last line, with the total for QEMU's -m `memory`.

    Args:
      memory: QEMU's -m value.

    Returns:
      The line's regular expression.
    """
    return _total_line(seabios_available_kib(memory))

# The KiB OVMF's memory map of q35 calls available once GRUB has handed it over, by QEMU's -m.
# No formula gives it: the firmware keeps memory of its own at run time. Measured with OVMF
# 2022.11-6+deb12u2 and grub-efi-amd64-bin 2.06-13+deb12u2 (`bazel test //tests:heap_test_uefi`,
# three runs alike); both packages' versions are inputs of the test, which an upgrade of either
# runs again, to name the new total if it moved.
OVMF_AVAILABLE_KIB = {
    "256M": 255544,
}

def ovmf_memory_map_total(memory):
    """The memory map's last line under OVMF, for QEMU's -m `memory`.

    Args:
      memory: QEMU's -m value, a key of OVMF_AVAILABLE_KIB.

    Returns:
      The line's regular expression; fails for a memory size not measured.
    """
    if memory not in OVMF_AVAILABLE_KIB:
        fail("no OVMF memory map total measured for -m %s: add it to OVMF_AVAILABLE_KIB" % memory)
    return _total_line(OVMF_AVAILABLE_KIB[memory])
