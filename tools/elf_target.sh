#!/bin/sh
# Checks that a test binary was built for the target a cross_test (tools/cross_test.bzl) runs it
# on, before it runs: a binary built for the host by mistake (a transition that does not reach
# its platform, say) would run natively on i386's "emulator", and could pass there unnoticed.
# Reads the ELF identity (magic, class, byte order) and e_machine, as the file stores them.
#   elf_target.sh BINARY CLASS DATA MACHINE
# CLASS and DATA are EI_CLASS and EI_DATA as two hex digits (01 01: 32-bit little-endian);
# MACHINE is e_machine's two bytes in file order, in hex (0300: EM_386 little-endian).
# Exits 0 when they match, 1 naming what the binary is instead, 2 on a usage error.
set -eu

if [ $# -ne 4 ]; then
  echo "usage: $0 BINARY CLASS DATA MACHINE" >&2
  exit 2
fi
binary=$1 class=$2 data=$3 machine=$4

# The bytes at OFFSET, COUNT of them, as lower-case hex without blanks.
hex_at() {
  od -An -v -tx1 -j "$1" -N "$2" "$binary" | tr -d ' \n'
}

if [ ! -f "$binary" ]; then
  echo "elf_target: $binary: no such file" >&2
  exit 1
fi
found_magic=$(hex_at 0 4)
found_ident=$(hex_at 4 2)
found_machine=$(hex_at 18 2)
if [ "$found_magic" != 7f454c46 ]; then
  echo "elf_target: $binary is not an ELF file (it starts with ${found_magic:-nothing})" >&2
  exit 1
fi
if [ "$found_ident" != "$class$data" ] || [ "$found_machine" != "$machine" ]; then
  echo "elf_target: $binary is built for the wrong target: class and byte order $found_ident," \
    "e_machine $found_machine; this test's target has $class$data, $machine" >&2
  exit 1
fi
