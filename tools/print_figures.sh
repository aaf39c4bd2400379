#!/bin/bash
# Prints the figures the README's "Measured figures" table is made of, from the logs of the last
# `bazel test //...` in this checkout (one without --runs_per_test: see last_log): QEMU start to
# kernel exit for the BIOS boot, the heap checks and the UEFI boot (the runner's PASS lines), and
# the in-kernel allocator comparison. CI runs it after the test step, so every CI log carries the
# current figures; the reproducible hashes are printed by tools/check_reproducible.sh. Run from
# anywhere inside the checkout.
set -euo pipefail
source "$(dirname "$0")/tool_paths.sh" # from platforms/host_tools.bzl
require_tools BAZEL
root=$(cd "$(dirname "$0")/.." && pwd)
testlogs=$(cd "$root" && "$BAZEL" info bazel-testlogs 2>/dev/null)

# Prints the path of the log of the last run of //tests:$1. A run with --runs_per_test=N writes
# run_K_of_N/test.log and leaves test.log as an older run left it: fails, saying so, when a
# run_*_of_* log is newer, rather than print that older run's figures as the last ones.
last_log() {
  local dir=$testlogs/tests/$1 run
  for run in "$dir"/run_*_of_*/test.log; do
    if [ -e "$run" ] && [ "$run" -nt "$dir/test.log" ]; then
      echo "figures: //tests:$1: the last run was a --runs_per_test run: $run is newer than" \
        "$dir/test.log; run bazel test --nocache_test_results //tests:$1 (without" \
        "--runs_per_test: a cached result leaves test.log as it is) first" >&2
      return 1
    fi
  done
  printf '%s\n' "$dir/test.log"
}

status=0
heap_log="" # heap_test's log, once last_log has accepted it: the in-kernel bench line is there
for test in boot_test heap_test heap_test_uefi; do
  if ! log=$(last_log "$test"); then
    status=1
    continue
  fi
  [ "$test" != heap_test ] || heap_log=$log
  if line=$(grep -h "^qemu_test: PASS" "$log" 2>/dev/null); then
    echo "figures: //tests:$test: ${line#qemu_test: }"
  else
    echo "figures: //tests:$test: no PASS line in $log (run bazel test //... first)" >&2
    status=1
  fi
done
if [ -n "$heap_log" ]; then
  if line=$(grep -ho "check bench: .*" "$heap_log" 2>/dev/null); then
    echo "figures: in-kernel $line"
  else
    echo "figures: no in-kernel bench line in $heap_log" >&2
    status=1
  fi
fi
exit $status
