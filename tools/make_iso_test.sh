#!/bin/bash
# Tests that tools/make_iso.sh takes nothing of the build machine into the ISO: the same kernel
# and command line give the same bytes whatever the local time zone and language (mformat and
# mcopy write the EFI partition's FAT dates in local time), and no GRUB translation, font or theme
# the machine has installed is copied in.
#
#   make_iso_test.sh SHELL_TEST_LIB.sh MAKE_ISO.sh TOOL_PATHS.sh HOST_TOOLS.bzl
set -euo pipefail

# shellcheck source=tools/shell_test_lib.sh
source "$1"
make_iso=$2
export TOOL_PATHS_DEFINITION=$4
# shellcheck source=tools/tool_paths.sh
source "$3"
require_tools GRUB_MKRESCUE XORRISO MFORMAT MCOPY
export GRUB_MKRESCUE XORRISO MFORMAT MCOPY

dir=$TEST_TMPDIR
printf 'not a kernel: the ISO is only compared, never booted\n' >"$dir/kernel.elf"

# One ISO a machine: a zone far east of UTC, one far west (POSIX zones: no tzdata needed), UTC.
sums=()
for machine in "TZ=JST-9 LANG=C.UTF-8" "TZ=PST8 LC_ALL=C.UTF-8" "TZ=UTC0"; do
  iso="$dir/${machine%% *}.iso"
  if ! env $machine "$make_iso" "$iso" "$dir/kernel.elf" "stress" >"$dir/log" 2>&1; then
    fail "make_iso.sh with $machine failed:"
    sed 's/^/    /' "$dir/log"
    continue
  fi
  sums+=("$(sha256sum "$iso" | cut -d' ' -f1) ($machine)")
done
if [ "${#sums[@]}" -eq 3 ] && [ "${sums[0]%% *}" = "${sums[1]%% *}" ] &&
  [ "${sums[0]%% *}" = "${sums[2]%% *}" ]; then
  echo "ok   same ISO in three time zones: ${sums[0]%% *}"
else
  fail "the ISO depends on the machine's time zone or language: ${sums[*]}"
fi

# The files of the ISO that would come from the machine's GRUB translations, fonts and themes.
extras=$("$XORRISO" -indev "$dir/TZ=UTC0.iso" -find / -type f 2>/dev/null |
  grep -E "/boot/grub/(locale|fonts|themes)/" || true)
if [ -z "$extras" ]; then
  echo "ok   no GRUB translation, font or theme copied in"
else
  fail "files the machine's GRUB packages put in: $(tr '\n' ' ' <<<"$extras")"
fi
exit_with_summary
