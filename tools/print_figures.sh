#!/bin/bash
# Prints the figures the README's "Measured figures" table is made of, from the logs of the last
# `bazel test //...` in this checkout: QEMU start to kernel exit for the BIOS boot, the heap checks
# and the UEFI boot (the runner's PASS lines), and the in-kernel allocator comparison. CI runs it
# after the test step, so every CI log carries the current figures; the reproducible hashes are
# printed by tools/check_reproducible.sh. Run from anywhere inside the checkout.
set -euo pipefail
source "$(dirname "$0")/tool_paths.sh" # from platforms/host_tools.bzl
require_tools BAZEL
root=$(cd "$(dirname "$0")/.." && pwd)
testlogs=$(cd "$root" && "$BAZEL" info bazel-testlogs 2>/dev/null)
status=0
for test in boot_test heap_test heap_test_uefi; do
  log=$testlogs/tests/$test/test.log
  if line=$(grep -h "^qemu_test: PASS" "$log" 2>/dev/null); then
    echo "figures: //tests:$test: ${line#qemu_test: }"
  else
    echo "figures: //tests:$test: no PASS line in $log (run bazel test //... first)" >&2
    status=1
  fi
done
if line=$(grep -ho "check bench: .*" "$testlogs/tests/heap_test/test.log" 2>/dev/null); then
  echo "figures: in-kernel $line"
else
  echo "figures: no in-kernel bench line in //tests:heap_test's log" >&2
  status=1
fi
exit $status
