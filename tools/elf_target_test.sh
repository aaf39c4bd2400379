#!/bin/bash
# Tests tools/elf_target.sh, the check a cross_test runs before its binary, on ELF headers written
# here: each target's own identity passes, and the host's x86_64 binary, a 64-bit binary for a
# 32-bit target, the wrong byte order and a file that is not an ELF each fail, naming what they
# are.
#   elf_target_test.sh SHELL_TEST_LIB.sh ELF_TARGET.sh
set -euo pipefail

# shellcheck source=tools/shell_test_lib.sh
source "$1"
checker=$2

# plant FILE CLASS DATA MACHINE_BYTE_18 MACHINE_BYTE_19: the first 64 bytes of an ELF header
# (magic, identity, e_type, e_machine), the rest zero.
plant() {
  local file=$1
  printf '\177ELF\x'"$2"'\x'"$3"'\001' >"$file"
  head -c 9 /dev/zero >>"$file"
  printf '\002\000\x'"$4"'\x'"$5" >>"$file"
  head -c 44 /dev/zero >>"$file"
}

dir=$TEST_TMPDIR
# Each case: the checker, given a file and a target's class, byte order and machine, exits with a
# status and says a text.
plant "$dir/i386" 01 01 03 00
plant "$dir/x86_64" 02 01 3e 00
plant "$dir/aarch64" 02 01 b7 00
plant "$dir/s390x" 02 02 00 16
plant "$dir/s390x_as_little" 02 01 16 00
printf '#!/bin/sh\nexit 0\n' >"$dir/script"

expect_output "an i386 binary passes on i386" 0 "" "$checker" "$dir/i386" 01 01 0300
expect_output "an aarch64 binary passes on aarch64" 0 "" "$checker" "$dir/aarch64" 02 01 b700
expect_output "a big-endian s390x binary passes on s390x" 0 "" "$checker" "$dir/s390x" 02 02 0016
expect_output "the host's x86_64 binary fails on i386" 1 \
  "built for the wrong target: class and byte order 0201, e_machine 3e00; this test's target has 0101, 0300" \
  "$checker" "$dir/x86_64" 01 01 0300
expect_output "the host's x86_64 binary fails on aarch64" 1 "e_machine 3e00" \
  "$checker" "$dir/x86_64" 02 01 b700
expect_output "a little-endian binary fails on s390x" 1 "class and byte order 0201" \
  "$checker" "$dir/s390x_as_little" 02 02 0016
expect_output "a file that is not an ELF fails" 1 "is not an ELF file" \
  "$checker" "$dir/script" 01 01 0300
expect_output "a missing binary fails" 1 "no such file" "$checker" "$dir/absent" 01 01 0300
expect_output "a wrong number of arguments is a usage error" 2 "usage:" "$checker" "$dir/i386" 01 01

exit_with_summary
