#!/bin/bash
# Tests tools/elf_target.sh, the check a cross_test runs before its binary, on ELF headers written
# here: each target's own identity passes, and the host's x86_64 binary, a 64-bit binary for a
# 32-bit target, the wrong byte order and a file that is not an ELF each fail, naming what they
# are.
#   elf_target_test.sh ELF_TARGET.sh
set -euo pipefail

checker=$1
failures=0

# plant FILE CLASS DATA MACHINE_BYTE_18 MACHINE_BYTE_19: the first 64 bytes of an ELF header
# (magic, identity, e_type, e_machine), the rest zero.
plant() {
  local file=$1
  printf '\177ELF\x'"$2"'\x'"$3"'\001' >"$file"
  head -c 9 /dev/zero >>"$file"
  printf '\002\000\x'"$4"'\x'"$5" >>"$file"
  head -c 44 /dev/zero >>"$file"
}

# expect NAME STATUS TEXT FILE CLASS DATA MACHINE
expect() {
  local name=$1 want=$2 text=$3 status=0 output
  shift 3
  output=$("$checker" "$@" 2>&1) || status=$?
  if [ "$status" -ne "$want" ] || ! grep -qF -- "$text" <<<"$output"; then
    echo "FAIL: $name: expected exit $want and \"$text\"; got exit $status: $output"
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}

dir=$TEST_TMPDIR
plant "$dir/i386" 01 01 03 00
plant "$dir/x86_64" 02 01 3e 00
plant "$dir/aarch64" 02 01 b7 00
plant "$dir/s390x" 02 02 00 16
plant "$dir/s390x_as_little" 02 01 16 00
printf '#!/bin/sh\nexit 0\n' >"$dir/script"

expect "an i386 binary passes on i386" 0 "" "$dir/i386" 01 01 0300
expect "an aarch64 binary passes on aarch64" 0 "" "$dir/aarch64" 02 01 b700
expect "a big-endian s390x binary passes on s390x" 0 "" "$dir/s390x" 02 02 0016
expect "the host's x86_64 binary fails on i386" 1 \
  "built for the wrong target: class and byte order 0201, e_machine 3e00; this test's target has 0101, 0300" \
  "$dir/x86_64" 01 01 0300
expect "the host's x86_64 binary fails on aarch64" 1 "e_machine 3e00" "$dir/x86_64" 02 01 b700
expect "a little-endian binary fails on s390x" 1 "class and byte order 0201" \
  "$dir/s390x_as_little" 02 02 0016
expect "a file that is not an ELF fails" 1 "is not an ELF file" "$dir/script" 01 01 0300
expect "a missing binary fails" 1 "no such file" "$dir/absent" 01 01 0300
expect "a wrong number of arguments is a usage error" 2 "usage:" "$dir/i386" 01 01

if [ "$failures" -gt 0 ]; then
  echo "elf_target_test: $failures failed"
  exit 1
fi
echo "elf_target_test: all passed"
