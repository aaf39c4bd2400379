#!/bin/bash
# Tests what tools/check_reproducible.sh decides (tools/check_reproducible_lib.sh), on copies of an
# output written here rather than built twice by Bazel, which would take minutes: identical copies
# pass, printing their sha256; copies that differ fail, as do copies holding a path of the builds
# or today's date as a compiler (clang's __DATE__) or a script (Python's isoformat) writes it, in
# UTC or in the local time zone of a machine far east or far west of UTC; an unreadable copy fails.
#
#   check_reproducible_test.sh SHELL_TEST_LIB.sh CHECK_REPRODUCIBLE_LIB.sh TOOL_PATHS.sh
#     HOST_TOOLS.bzl
set -euo pipefail

# shellcheck source=tools/shell_test_lib.sh
source "$1"
# shellcheck source=tools/check_reproducible_lib.sh
source "$2"
export TOOL_PATHS_DEFINITION=$4
# shellcheck source=tools/tool_paths.sh
source "$3"
require_tools CLANG PYTHON

dir=$TEST_TMPDIR
where=("$dir/a/heapkernel" "$dir/bb/other/place/kernel-src")
printf 'ELF\0same bytes\0' >"$dir/same_0"
printf 'ELF\0same bytes\0' >"$dir/same_1"
printf 'ELF\0other bytes\0' >"$dir/other"
sum=$(sha256sum "$dir/same_0" | cut -d' ' -f1)

# Each case: check_copies on two copies, with the builds' places and the texts it looks for, as the
# script passes them, exits with a status and prints a line.
check() {
  local first=$1 second=$2
  shift 2
  check_copies "kernel.elf (default)" "$first" "$second" "${where[@]}" "$@"
}
expect_output "identical copies without dates or paths pass" 0 \
  "reproducible: kernel.elf (default) $sum (identical)" check "$dir/same_0" "$dir/same_1" "$dir"
expect_output "copies that differ fail" 1 "reproducible: DIFFERS: kernel.elf (default) $sum vs" \
  check "$dir/same_0" "$dir/other" "$dir"
printf 'ELF\0%s/src/main.c\0' "${where[1]}" >"$dir/with_path_0"
cp "$dir/with_path_0" "$dir/with_path_1"
expect_output "identical copies holding the path of a build fail" 1 \
  "reproducible: kernel.elf (default) built in ${where[1]} holds \"$dir\"" \
  check "$dir/with_path_0" "$dir/with_path_1" "$dir"
expect_output "a copy that cannot be read fails" 1 \
  "reproducible: kernel.elf (default): cannot read $dir/same_0 or $dir/absent" \
  check "$dir/same_0" "$dir/absent" "$dir"

# Today's date, written by clang (__DATE__ in an object file) and by Python, in each time zone, and
# looked for with the texts of dates as the script gathers them: before and after, in case
# midnight passes in between. Kiritimati (UTC+14) and Pago Pago (UTC-11) are 25 hours apart, so
# at any hour the local date differs from UTC's in at least one of them.
for zone in UTC Pacific/Kiritimati Pacific/Pago_Pago; do
  export TZ=$zone
  before=$(dates)
  printf 'const char built[] = __DATE__;\n' | "$CLANG" -x c -c -o "$dir/date_0" -
  cp "$dir/date_0" "$dir/date_1"
  compiler_date=$("$CLANG" -E -P -x c - <<<'__DATE__')
  printf '%s' "$("$PYTHON" -c 'import datetime; print(datetime.date.today().isoformat())')" \
    >"$dir/iso_0"
  cp "$dir/iso_0" "$dir/iso_1"
  iso_date=$(cat "$dir/iso_0")
  mapfile -t texts < <({ printf '%s\n' "$before"; dates; } | sort -u)
  expect_output "an object file holding __DATE__ in $zone fails" 1 \
    "reproducible: kernel.elf (default) built in ${where[0]} holds ${compiler_date}" \
    check "$dir/date_0" "$dir/date_1" "${texts[@]}"
  expect_output "a file holding the ISO date in $zone fails" 1 \
    "reproducible: kernel.elf (default) built in ${where[0]} holds \"$iso_date\"" \
    check "$dir/iso_0" "$dir/iso_1" "${texts[@]}"
done
unset TZ

exit_with_summary
