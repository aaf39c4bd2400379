#!/bin/bash
# Boots one qemu_test's kernel again and again and reports how many runs passed, for flakiness:
#
#   bazel run //tests:stress_smp4_boot_loop            100 boots of the -smp 4 stress kernel
#   bazel run //tests:stress_smp4_boot_loop -- 20      20 boots
#
# Arguments (the first two given by the BUILD rule): the test's launcher (a path in the runfiles),
# the default count, then optionally the count. Prints one line per failed boot with the runner's
# verdict and the kernel's warning, error and stress lines, then "boot loop: P of N passed" and, for
# a stress kernel, the heap lock figures of every boot's stress line summed (one boot's few
# acquisitions say little on their own); exits 0 only if all passed.
set -euo pipefail

launcher=$1
count=${3:-$2}
if ! [[ "$count" =~ ^[1-9][0-9]*$ ]]; then
  echo "boot loop: the count must be a positive integer, not '$count'" >&2
  exit 2
fi

passed=0
stress_lines=0
acquires=0
contended=0
for ((run = 1; run <= count; run++)); do
  if output=$("$launcher" 2>&1); then
    passed=$((passed + 1))
  else
    echo "boot $run: $(grep -m1 '^qemu_test: FAIL' <<<"$output" || echo 'failed without a verdict')"
    grep -E '(WARN |ERROR|PANIC) |stress: ' <<<"$output" | sed 's/^/  /' || true
  fi
  if [[ "$output" =~ stress:\ cpus=[0-9]+\ [^$'\n']*acquires=([0-9]+)\ contended=([0-9]+) ]]; then
    stress_lines=$((stress_lines + 1))
    acquires=$((acquires + BASH_REMATCH[1]))
    contended=$((contended + BASH_REMATCH[2]))
  fi
done
echo "boot loop: $passed of $count passed"
if [ "$stress_lines" -gt 0 ]; then
  # The share in hundredths of a per cent, rounded: bash has no fractions.
  hundredths=0
  if [ "$acquires" -gt 0 ]; then
    hundredths=$(((20000 * contended / acquires + 1) / 2))
  fi
  printf 'boot loop: heap lock over the %d stress lines: %d contended of %d acquisitions (%d.%02d %%)\n' \
    "$stress_lines" "$contended" "$acquires" $((hundredths / 100)) $((hundredths % 100))
fi
[ "$passed" -eq "$count" ]
